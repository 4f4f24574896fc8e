"""Benchmark: load all four MNIST files from the local folder (target: < 1 s, ≤ ~300 MB).

    LECTURE_MNIST_DIR=../shared/data/mnist .venv/bin/python bench/bench_data.py [FOLDER]

*cold* is the first ``load_mnist`` call in a fresh interpreter (read, gunzip, IDX checks,
SHA-256 of the decompressed bytes, conversion to float32); *warm* is the next call, served from
the in-process cache (conversion only). The OS file cache is warm in both, as on any second
run. Peak memory: ``tracemalloc`` peak during the cold call (the arrays it allocates) and the
process's ``ru_maxrss`` (including the interpreter and numpy, reported separately).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

TARGET_S = 1.0
TARGET_MB = 300.0

CHILD = r"""
import json, resource, sys, time, tracemalloc
from lecture_utils.data import load_mnist
folder, trace, validation = sys.argv[1] or None, sys.argv[2] == "1", int(sys.argv[3])
rss_mb = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
base = rss_mb()
if trace:
    tracemalloc.start()
t0 = time.perf_counter()
load_mnist(folder, validation=validation, download=False)
t1 = time.perf_counter()
peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
tracemalloc.stop()
load_mnist(folder, validation=validation, download=False)
t2 = time.perf_counter()
print(json.dumps({"cold": t1 - t0, "warm": t2 - t1, "base_mb": base, "maxrss_mb": rss_mb(),
                  "traced_mb": peak}))
"""


def run_child(folder: str | None, *, trace: bool, validation: int) -> dict[str, float]:
    """One fresh interpreter: time a cold and a warm ``load_mnist``; memory figures."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-c", CHILD, folder or "", "1" if trace else "0", str(validation)],
        capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        sys.exit(f"benchmark child failed:\n{result.stderr}")
    return json.loads(result.stdout)


def verdict(ok: bool) -> str:
    return "OK" if ok else "OVER TARGET"


def main(argv: list[str] | None = None) -> int:
    """Print cold/warm load times and peak memory against the issue's targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=None,
                        help="MNIST folder (default: $LECTURE_MNIST_DIR, else the cache)")
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes to time")
    parser.add_argument("--validation", type=int, default=0, help="validation split size")
    args = parser.parse_args(argv)

    runs = [run_child(args.folder, trace=False, validation=args.validation)
            for _ in range(args.repeat)]
    traced = run_child(args.folder, trace=True, validation=args.validation)
    cold = sorted(r["cold"] for r in runs)
    warm = sorted(r["warm"] for r in runs)
    rss = max(r["maxrss_mb"] for r in runs)
    base = min(r["base_mb"] for r in runs)
    print(f"load_mnist(validation={args.validation}), {args.repeat} fresh processes, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"  cold: best {cold[0]:.3f} s, median {statistics.median(cold):.3f} s"
          f"   (target < {TARGET_S:.0f} s: {verdict(cold[0] < TARGET_S)})")
    print(f"  warm: best {warm[0]:.3f} s, median {statistics.median(warm):.3f} s")
    print(f"  peak memory: {traced['traced_mb']:.0f} MB allocated by the load (tracemalloc), "
          f"{rss:.0f} MB process maxrss of which {base:.0f} MB interpreter+imports"
          f"   (target <= ~{TARGET_MB:.0f} MB: {verdict(traced['traced_mb'] <= TARGET_MB)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
