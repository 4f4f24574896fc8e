"""Benchmark: each student notebook idle, beside a busy program, and with one CPU, side by side.

A student's machine is rarely idle (a second notebook, a browser, another user's kernel on a
shared JupyterHub node). Every ``notebooks/student/NN_*.ipynb`` runs top to bottom (as
bench_notebooks.py runs it, in a child process with the thread variables a student has:
none) under each condition:

- ``idle``: nothing else started by the benchmark;
- ``busy``: beside one CPU-bound process (``python -c "while 1: pass"``);
- ``1 CPU``: pinned to one CPU (its affinity, as ``taskset -c 0``);
- ``quota``: in a cgroup with a quota of one CPU (cpu.max or cpu.cfs_quota_us, as Binder and
  JupyterHub set it), when this machine lets the benchmark make one (root, cgroupfs writable).

Conditions alternate round by round; with ``--repeats N`` the medians are printed, with the
ratio of each to the idle time. Goal: busy and 1 CPU each at most 1.5x idle.

Usage: python bench/bench_busy.py [NAME_PART ...] [--repeats N] [--folder DIR] [--timeout S]
       (NAME_PART selects notebooks, e.g. ``00`` for a quick run; ``--folder`` runs the same
       notebooks from another checkout, whose lecture_utils PYTHONPATH must then name;
       ``--timeout`` stops a run after S seconds and prints ``>S``, a lower bound)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import statistics
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

from bench_notebooks import notebooks, run

GOAL = 1.5
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
CGROUP = Path("/sys/fs/cgroup")


@contextlib.contextmanager
def cpu_quota_cgroup() -> Iterator[Path | str]:
    """A new cgroup allowed one CPU's time (its tasks file), or why none can be made here."""
    v2 = "cpu" in (CGROUP / "cgroup.controllers").read_text().split() if (
        CGROUP / "cgroup.controllers").is_file() else False
    folder = (CGROUP if v2 else CGROUP / "cpu") / f"bench-busy-{uuid.uuid4().hex[:8]}"
    try:
        folder.mkdir()
        if v2:
            (folder / "cpu.max").write_text("100000 100000")
        else:
            (folder / "cpu.cfs_period_us").write_text("100000")
            (folder / "cpu.cfs_quota_us").write_text("100000")
    except OSError as err:
        with contextlib.suppress(OSError):
            folder.rmdir()
        yield f"no cgroup quota ({err.strerror}: {folder.parent})"
        return
    try:
        yield folder / "cgroup.procs"
    finally:
        with contextlib.suppress(OSError):
            folder.rmdir()  # empty once the child has exited


def time_in_child(path: Path, condition: str, quota: Path | str,
                  timeout: float | None = None) -> tuple[float, str]:
    """Seconds to run ``path`` in a child process under ``condition``, and what failed
    (``inf`` when it was stopped after ``timeout`` seconds)."""
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    command = [sys.executable, __file__, "--child", str(path)]
    if condition == "quota":
        # the shell joins the cgroup, then becomes the child: every thread is in it from the start
        command = ["sh", "-c", f'echo $$ > "{quota}" && exec "$@"', "sh", *command]
    pin = (lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})) if (
        condition == "1 CPU") else None
    busy = (subprocess.Popen([sys.executable, "-c", "while 1: pass"])
            if condition == "busy" else None)
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env,
                              preexec_fn=pin, check=False, timeout=timeout)
    except subprocess.TimeoutExpired:
        return math.inf, ""
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()
    if done.returncode != 0:
        return float("nan"), (done.stderr.strip().splitlines() or ["exit"])[-1][:120]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["seconds"], re.sub(r"\x1b\[[0-9;]*m", "", result["problem"])  # no colours


def shown(value: float, timeout: float | None, width: int) -> str:
    """``value`` with one decimal, or ``>timeout`` for a run that was stopped."""
    return f"{value:{width}.1f}" if value != math.inf else f">{timeout:.0f}".rjust(width)


def times_idle(ratio: float, median: dict[str, float], condition: str,
               timeout: float | None) -> str:
    """The ratio to idle as ``1.23x``; ``>4.5x`` (a lower bound) for a stopped run."""
    if median[condition] == math.inf and median["idle"] != math.inf:
        return f">{timeout / median['idle']:.2f}x".rjust(12)
    return "?".rjust(12) if math.isnan(ratio) else f"{ratio:11.2f}x"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="*", help="run only notebooks whose name contains one")
    parser.add_argument("--repeats", type=int, default=1, help="rounds of every condition")
    parser.add_argument("--folder", type=Path, help="the student notebooks of another checkout")
    parser.add_argument("--timeout", type=float, help="stop a run after this many seconds")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        seconds, problem = run(args.child)
        print(json.dumps({"seconds": seconds, "problem": problem}))
        return 0
    if args.repeats < 1:
        parser.error(f"--repeats must be >= 1, got {args.repeats}")

    paths = [path if args.folder is None else args.folder / path.name
             for _, path in notebooks("student", args.parts)]
    if not paths:
        print("no notebooks matched")
        return 1
    with cpu_quota_cgroup() as quota:
        conditions = ["idle", "busy", "1 CPU"] + (["quota"] if isinstance(quota, Path) else [])
        print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; thread "
              f"variables cleared ({', '.join(THREAD_VARIABLES)}); "
              + (f"quota: 1 CPU ({quota.parent})" if isinstance(quota, Path) else quota)
              + f"; median of {args.repeats}; goal: each <= {GOAL}x idle")
        header = "".join(f"{c:>9s}" for c in conditions) + "".join(
            f"{c + '/idle':>12s}" for c in conditions[1:])
        print(f"  {'notebook':42s}{header}")
        over = failed = 0
        for path in paths:
            times: dict[str, list[float]] = {c: [] for c in conditions}
            problems = []
            for _ in range(args.repeats):
                for condition in conditions:
                    seconds, problem = time_in_child(path, condition, quota, args.timeout)
                    times[condition].append(seconds)
                    if problem:
                        problems.append(f"{condition}: {problem}")
            median = {c: statistics.median(t) for c, t in times.items()}
            ratios = {c: median[c] / median["idle"] for c in conditions[1:]}
            late = [c for c, r in ratios.items() if not r <= GOAL]
            over += bool(late)
            failed += bool(problems)
            verdict = ("FAILED " + "; ".join(problems) if problems
                       else f"OVER ({', '.join(late)})" if late else "ok")
            spread = max(max(t) / min(t) for t in times.values())
            print(f"  {path.stem:42s}" + "".join(shown(median[c], args.timeout, 8) + "s"
                                                 for c in conditions)
                  + "".join(times_idle(ratios[c], median, c, args.timeout)
                            for c in conditions[1:])
                  + f"  {verdict}" + (f" (runs differ up to {spread:.2f}x)"
                                      if args.repeats > 1 else ""), flush=True)
    print(f"{len(paths)} notebooks: {len(paths) - over - failed} within {GOAL}x idle, "
          f"{over} over, {failed} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
