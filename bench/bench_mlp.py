"""Benchmark: one MNIST epoch of the numpy MLP against its torch twin, side by side.

784-256-256-10, float32, 600 updates of 100 images (the 60,000 training images), plain SGD
(numpy: ``lecture_utils.optimizers.GradientDescent``; torch: ``torch.optim.SGD``), identical
initial weights and identical shuffled batches. Epochs alternate numpy/torch ``--repeats`` times
and the best of each is reported, with the achieved GFLOP/s of the numpy epoch (matrix products
only) against the float32 peak of a large matrix product measured in the same run.

Targets (issue 7): numpy epoch >= 1.3x faster than torch's, and >= 50 % of the GEMM peak.

Usage: python bench/bench_mlp.py [--repeats 3] [--sizes 784 256 256 10] [--lr 0.1]
Thread counts are whatever the environment gives (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS,
torch's default); they are printed, with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE if set.
"""

from __future__ import annotations

import argparse
import ctypes
import itertools
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from lecture_utils.data import load_mnist
from lecture_utils.mlp import MLP
from lecture_utils.optimizers import GradientDescent

BATCH = 100
GEMM_N = 2048
TARGET_RATIO, TARGET_PEAK = 1.3, 0.5


def openblas_info() -> str:
    """Kernel and thread count of the OpenBLAS bundled with numpy (``unknown`` if not found)."""
    libs = sorted((Path(np.__file__).parent.parent / "numpy.libs").glob("libscipy_openblas*.so"))
    try:
        lib = ctypes.CDLL(str(libs[0]))
        lib.scipy_openblas_get_corename64_.restype = ctypes.c_char_p
        return (f"OpenBLAS kernel {lib.scipy_openblas_get_corename64_().decode()}, "
                f"{lib.scipy_openblas_get_num_threads64_()} threads")
    except (IndexError, OSError, AttributeError):
        return "OpenBLAS kernel and threads unknown"


def gemm_peak(repeats: int = 5) -> float:
    """Best float32 GFLOP/s of one ``GEMM_N``-square ``np.matmul`` (2 n^3 flops)."""
    rng = np.random.default_rng(0)
    a, b = (rng.random((GEMM_N, GEMM_N), dtype=np.float32) for _ in range(2))
    out = np.empty_like(a)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(a, b, out=out)
        best = min(best, time.perf_counter() - start)
    return 2 * GEMM_N**3 / best / 1e9


def epoch_flops(sizes: list[int], n_examples: int) -> float:
    """Matrix-product flops of one epoch: forward z = h W^T, backward dW = delta^T h for every
    layer and dh = delta W for all but the first: 2 N (2 sum_l n_l n_{l-1} + sum_{l>1} ...)."""
    products = [a * b for a, b in itertools.pairwise(sizes)]
    return 2.0 * n_examples * (2 * sum(products) + sum(products[1:]))


def numpy_epoch(model: MLP, opt: GradientDescent, x: np.ndarray, y: np.ndarray,
                order: np.ndarray) -> float:
    """One epoch of the project's numpy path; returns the last mini-batch loss."""
    for i in range(0, len(order), BATCH):
        idx = order[i:i + BATCH]
        loss, grads = model.loss_and_grads(x[idx], y[idx])
        opt.step(model.params, grads)
    return loss


def torch_epoch(net: torch.nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor,
                y: torch.Tensor, order: torch.Tensor) -> float:
    """The same epoch in torch: the idiomatic zero_grad / backward / step loop."""
    for i in range(0, len(order), BATCH):
        idx = order[i:i + BATCH]
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(net(x[idx]), y[idx])
        loss.backward()
        opt.step()
        value = loss.item()
    return value


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[784, 256, 256, 10])
    parser.add_argument("--lr", type=float, default=0.1)
    args = parser.parse_args(argv)

    env = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                      "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}
    print(f"numpy {np.__version__} ({openblas_info()}), torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), {os.cpu_count()} CPUs")
    print("environment: " + (", ".join(f"{k}={v}" for k, v in env.items()) or "no overrides"))

    data = load_mnist()
    x, y = data.x_train, data.y_train
    model = MLP(args.sizes, rng=0)
    net = model.to_torch()
    np_opt, torch_opt = GradientDescent(args.lr), torch.optim.SGD(net.parameters(), lr=args.lr)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    rng = np.random.default_rng(0)
    flops = epoch_flops(args.sizes, len(x))
    print(f"model {args.sizes} float32, {len(x) // BATCH} updates of {BATCH}, plain SGD "
          f"lr={args.lr}; {flops / 1e9:.1f} GFLOP of matrix products per epoch")

    np_times, torch_times = [], []
    for r in range(args.repeats):
        order = rng.permutation(len(x))
        start = time.perf_counter()
        np_loss = numpy_epoch(model, np_opt, x, y, order)
        np_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        torch_loss = torch_epoch(net, torch_opt, xt, yt, torch.from_numpy(order))
        torch_times.append(time.perf_counter() - start)
        print(f"  epoch {r + 1}: numpy {np_times[-1]:.3f} s (last loss {np_loss:.4f}), "
              f"torch {torch_times[-1]:.3f} s (last loss {torch_loss:.4f})")

    peak = gemm_peak()
    t_np, t_torch = min(np_times), min(torch_times)
    achieved = flops / t_np / 1e9
    ratio, share = t_torch / t_np, achieved / peak
    print(f"best epoch: numpy {t_np:.3f} s, torch {t_torch:.3f} s -> numpy is {ratio:.2f}x "
          f"faster (target >= {TARGET_RATIO})")
    print(f"numpy achieves {achieved:.1f} GFLOP/s = {100 * share:.0f} % of the float32 peak "
          f"{peak:.1f} GFLOP/s ({GEMM_N}^2 matmul) (target >= {100 * TARGET_PEAK:.0f} %)")
    ok = ratio >= TARGET_RATIO and share >= TARGET_PEAK
    print("targets met" if ok else "targets NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
