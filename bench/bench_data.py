"""Benchmark: load all four MNIST files from the local folder (target: < 1 s, ≤ ~300 MB), and
the same load with a decompression bomb in place of the training images.

    LECTURE_MNIST_DIR=../shared/data/mnist .venv/bin/python bench/bench_data.py [FOLDER]

*cold* is the first ``load_mnist`` call in a fresh interpreter (read, gunzip, IDX checks,
SHA-256 of the decompressed bytes, conversion to float32); *warm* is the next call, served from
the in-process cache (conversion only). The OS file cache is warm in both, as on any second
run. Peak memory: ``tracemalloc`` peak during the cold call (the arrays it allocates) and the
process's ``ru_maxrss`` (including the interpreter and numpy, reported separately).

*bomb*: a 1 MB gzip file of 1 GiB of zeros (:func:`write_gzip_bomb`) as the training images,
the other three files the real ones. The loader must reject it while decompressing, at the
file's size limit, with no more peak memory (``ru_maxrss``) than the normal load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

from lecture_utils.data.mnist import FILES, mnist_status

TARGET_S = 1.0
TARGET_MB = 300.0
BOMB_ZEROS = 1 << 30

CHILD = r"""
import json, resource, sys, time, tracemalloc
from lecture_utils.data.mnist import MnistFileError, load_mnist
folder, trace, validation = sys.argv[1] or None, sys.argv[2] == "1", int(sys.argv[3])
rss_mb = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
base = rss_mb()
if trace:
    tracemalloc.start()
t0 = time.perf_counter()
try:
    load_mnist(folder, validation=validation, download=False)
    error = None
except MnistFileError as err:
    error = str(err)
t1 = time.perf_counter()
peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
tracemalloc.stop()
if error is None:
    load_mnist(folder, validation=validation, download=False)
t2 = time.perf_counter()
print(json.dumps({"cold": t1 - t0, "warm": t2 - t1, "base_mb": base, "maxrss_mb": rss_mb(),
                  "traced_mb": peak, "error": error}))
"""


def write_gzip_bomb(path: Path, zeros: int = BOMB_ZEROS) -> None:
    """A gzip file of ``zeros`` zero bytes, compressed chunk by chunk (about 1 MB for 1 GiB)."""
    deflate, chunk = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS), bytes(1 << 20)
    with path.open("wb") as f:
        for _ in range(zeros // len(chunk)):
            f.write(deflate.compress(chunk))
        f.write(deflate.flush())


def bomb_folder(folder: Path, mnist_dir: Path) -> Path:
    """``folder`` with the real MNIST files linked in, but a bomb as the training images."""
    folder.mkdir(parents=True, exist_ok=True)
    for key, spec in FILES.items():
        if key == "train_images":
            write_gzip_bomb(folder / spec.name)
        else:
            (folder / spec.name).symlink_to(mnist_dir / spec.name)
    return folder


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

    with tempfile.TemporaryDirectory() as tmp:
        folder = bomb_folder(Path(tmp) / "mnist", Path(args.folder or mnist_status().folder))
        size = (folder / FILES["train_images"].name).stat().st_size
        bomb = run_child(str(folder), trace=False, validation=args.validation)
    rejected = bomb["error"] is not None and "rejected while decompressing" in bomb["error"]
    print(f"  bomb ({size / 2**20:.1f} MB gzip of {BOMB_ZEROS / 2**30:.0f} GiB of zeros as the "
          f"training images): {'rejected' if rejected else 'NOT rejected'} after "
          f"{bomb['cold']:.3f} s, process maxrss {bomb['maxrss_mb']:.0f} MB against "
          f"{rss:.0f} MB for the normal load"
          f"   (target: rejected, <= normal: {verdict(rejected and bomb['maxrss_mb'] <= rss)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
