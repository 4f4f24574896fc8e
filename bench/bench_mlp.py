"""Benchmark: one MNIST epoch of the plain numpy MLP beside the same epoch of its torch twin.

784-256-256-10, float32, 600 updates of 100 images (the 60,000 training images), plain
gradient descent, identical initial weights and identical shuffled batches:

- the numpy epoch: the loop body of ``training.train``, ``model.loss_and_grads`` (the backward
  pass of notebook 04's functions) then ``model.params = optimizer.step(model.params, grads)``;
- the torch epoch: the loop body of ``torch_training.train_torch``, ``zero_grad`` / ``backward``
  / ``torch.optim.SGD.step``.

Both times are printed side by side; there is no target to beat (the numpy network is written
to be read, not to be fast). Rounds alternate numpy and torch (the machine may be shared:
alternating keeps them comparable when its load changes) and run in ``--processes`` fresh
processes, one after the other; every process's best of ``--repeats`` rounds is printed, then
the best over all processes.

Usage: python bench/bench_mlp.py [--repeats 5] [--processes 2] [--sizes 784 256 256 10]
       [--lr 0.1] [--blas-as-set]
Thread counts are whatever the environment gives (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS,
torch's default); they are printed with the BLAS kernel in use (threadpoolctl).
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, if the environment sets them, force numpy's OpenBLAS
onto a kernel other than the one it picks for the CPU, and torch's BLAS ignores them: the
benchmark then runs itself again without them and says so; ``--blas-as-set`` measures with them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np
import torch
from threadpoolctl import threadpool_info

from lecture_utils.data.mnist import load_mnist
from lecture_utils.network.mlp import MLP
from lecture_utils.optim.optimizers import GradientDescent
from lecture_utils.optim.training import minibatches

BATCH = 100
KERNEL_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
RESULT = "best times: "


def blas_info() -> str:
    """The BLAS libraries loaded now: API, version, kernel (architecture) and threads."""
    pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    if not pools:
        return "BLAS unknown"
    return "; ".join(f"{p['internal_api']} {p.get('version')} kernel {p.get('architecture')}, "
                     f"{p['num_threads']} threads ({os.path.basename(p['filepath'])})"
                     for p in pools)


def numpy_epoch(model: MLP, opt: GradientDescent, x: np.ndarray, y: np.ndarray,
                seed: int) -> float:
    """One epoch of ``training.train``'s loop body; returns the last batch loss."""
    for xb, yb in minibatches(x, y, BATCH, rng=seed):
        loss, grads = model.loss_and_grads(xb, yb)
        model.params = opt.step(model.params, grads)
    return loss


def torch_epoch(net: torch.nn.Module, opt: torch.optim.Optimizer, x: np.ndarray, y: np.ndarray,
                seed: int) -> float:
    """The same epoch with ``torch_training.train_torch``'s loop body."""
    for xb, yb in minibatches(x, y, BATCH, rng=seed):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(torch.from_numpy(xb)), torch.from_numpy(yb))
        loss.backward()
        opt.step()
    return loss.item()


def measure(args: argparse.Namespace) -> dict[str, float]:
    """The alternating rounds in this process; prints them, returns each run's best time."""
    env = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                      *KERNEL_OVERRIDES) if k in os.environ}
    print(f"numpy {np.__version__}, torch {torch.__version__} ({torch.get_num_threads()} "
          f"threads), {os.cpu_count()} CPUs")
    print(f"BLAS: {blas_info()}")
    print("environment: " + (", ".join(f"{k}={v}" for k, v in env.items()) or "no overrides"))
    data = load_mnist()
    x, y = data.x_train, data.y_train.astype(np.int64)
    model = MLP(args.sizes, rng=0)
    net = model.to_torch()
    numpy_opt, torch_opt = GradientDescent(args.lr), torch.optim.SGD(net.parameters(), lr=args.lr)
    print(f"model {args.sizes} float32, {-(-len(x) // BATCH)} updates of {BATCH}, "
          f"gradient descent lr={args.lr}")
    runs: dict[str, Callable[[int], float]] = {
        "numpy epoch": lambda seed: numpy_epoch(model, numpy_opt, x, y, seed),
        "torch epoch": lambda seed: torch_epoch(net, torch_opt, x, y, seed),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for r in range(args.repeats):
        line = []
        for name, run in runs.items():
            start = time.perf_counter()
            loss = run(r)
            times[name].append(time.perf_counter() - start)
            line.append(f"{name} {times[name][-1]:.3f} s (last loss {loss:.4f})")
        print(f"  round {r + 1}: " + ", ".join(line), flush=True)
    return {name: min(t) for name, t in times.items()}


def summary(best: dict[str, float]) -> str:
    """The numpy and the torch epoch side by side, and their ratio."""
    t_np, t_torch = best["numpy epoch"], best["torch epoch"]
    return (f"numpy epoch {t_np:.3f} s, torch epoch {t_torch:.3f} s "
            f"(numpy / torch = {t_np / t_torch:.2f})")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="alternating rounds per process")
    parser.add_argument("--processes", type=int, default=2, help="fresh processes, one by one")
    parser.add_argument("--sizes", type=int, nargs="+", default=[784, 256, 256, 10])
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--blas-as-set", action="store_true",
                        help=f"keep {' and '.join(KERNEL_OVERRIDES)} if the environment sets them")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(RESULT + json.dumps(measure(args)))
        return 0

    env = dict(os.environ)
    forced = [k for k in KERNEL_OVERRIDES if k in env]
    if forced and not args.blas_as_set:
        print(f"{', '.join(f'{k}={env[k]}' for k in forced)} set here: that forces numpy's "
              "OpenBLAS onto another kernel than the one it picks for this CPU, while torch's "
              "own BLAS ignores it; measuring without (--blas-as-set keeps it)")
        env = {k: v for k, v in env.items() if k not in KERNEL_OVERRIDES}
    results = []
    for p in range(args.processes):
        print(f"process {p + 1} of {args.processes}:", flush=True)
        done = subprocess.run([sys.executable, __file__, "--child", *argv], env=env,
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.exit(f"benchmark process failed:\n{done.stdout}{done.stderr}")
        *lines, last = done.stdout.strip().splitlines()
        print("\n".join(f"  {line}" for line in lines))
        results.append(json.loads(last.removeprefix(RESULT)))
        print(f"  best of {args.repeats}: {summary(results[-1])}", flush=True)
    best = {name: min(r[name] for r in results) for name in results[0]}
    print(f"best over {args.processes} processes: {summary(best)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
