"""Benchmark: how long each notebook takes top to bottom, both editions, against 20 s.

Runs every ``notebooks/NN_*.ipynb`` (complete edition) and, when present,
``notebooks/student/NN_*.ipynb`` (student edition, nothing filled in) with nbclient in a fresh
kernel of this Python, in the notebook's folder, one after the other, and prints each one's
wall-clock seconds (kernel start included) against the target. Nothing is written back.

Threads are what a student gets: each notebook's ``setup()`` chooses them
(``lecture_utils.course.threads``); the environment's thread variables are printed.

Usage: python bench/bench_notebooks.py [NAME_PART ...] [--edition complete|student|both]
       (LECTURE_MNIST_DIR as for the tests; NAME_PART selects notebooks, e.g. ``05``)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from nbclient.exceptions import CellExecutionError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from execute_notebooks import NOTEBOOK_LIMIT_S, ROOT, watchdog
from execute_notebooks import run as run_notebook

TARGET_S = 20.0


def notebooks(edition: str, parts: list[str]) -> list[tuple[str, Path]]:
    """``(edition, path)`` of the notebooks to run, complete edition first."""
    folders = {"complete": ROOT / "notebooks", "student": ROOT / "notebooks" / "student"}
    chosen = list(folders) if edition == "both" else [edition]
    return [(name, path) for name in chosen
            for path in sorted(folders[name].glob("[0-9][0-9]_*.ipynb"))
            if not parts or any(part in path.stem for part in parts)]


def run(path: Path) -> tuple[float, str]:
    """Seconds to execute ``path`` in a new kernel, and ``""`` or what failed."""
    start = time.perf_counter()
    try:
        with watchdog(NOTEBOOK_LIMIT_S):
            run_notebook(path)
        problem = ""
    except CellExecutionError as err:  # CellTimeoutError included: the cell is named
        problem = str(err).strip().splitlines()[-1][:200]
    return time.perf_counter() - start, problem


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="*", help="run only notebooks whose name contains one")
    parser.add_argument("--edition", choices=["complete", "student", "both"], default="both")
    args = parser.parse_args(argv)

    threads = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")
               if k in os.environ}
    print(f"{os.cpu_count()} CPUs, threads: "
          + (", ".join(f"{k}={v}" for k, v in threads.items()) or "the machine's (no pin)")
          + f"; target: each notebook <= {TARGET_S:.0f} s top to bottom")
    todo = notebooks(args.edition, args.parts)
    if not todo:
        print("no notebooks matched")
        return 1
    slow = failed = 0
    for edition, path in todo:
        seconds, problem = run(path)
        verdict = ("FAILED: " + problem if problem
                   else "ok" if seconds <= TARGET_S else f"SLOW (> {TARGET_S:.0f} s)")
        slow += seconds > TARGET_S
        failed += bool(problem)
        print(f"  {edition:8s} {path.stem:45s} {seconds:6.1f} s  {verdict}", flush=True)
    print(f"{len(todo)} notebooks: {len(todo) - slow - failed} within {TARGET_S:.0f} s, "
          f"{slow} slower, {failed} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
