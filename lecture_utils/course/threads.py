"""How many threads numpy's BLAS and torch use: chosen once, by ``setup()``, for every notebook.

The lecture's matrix products are small (a mini-batch of 100 through the 784-256-256-10
network: products of about 20 million flops). Measured on a 2-core machine, a second thread
saves little on them when the machine is idle and costs five- to twenty-fold when another
program keeps a core busy (a second notebook, a browser, another user's kernel on a shared
JupyterHub node): each product then waits for a thread that is not running. So the notebooks
use :data:`LECTURE_THREADS` threads, never more than the CPUs the process may really use
(:func:`available_cpus`: its CPU affinity and a cgroup CPU quota, as Binder and JupyterHub set
it). An explicit ``OMP_NUM_THREADS`` in the environment (an administrator's choice) wins over
that default, and a student's own call wins over both: ``setup(seed=0, threads=4)`` or
``lecture_utils.course.threads.use(4)``.

numpy's BLAS is limited with threadpoolctl, torch with ``torch.set_num_threads``.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

#: Threads for this lecture's sizes when nobody asks for another number (measured: bench/
#: bench_busy.py; one thread is never far from the fastest and never the slow one).
LECTURE_THREADS = 1

#: What :func:`use` last set: ``(threads, why)``; None before the first call.
_chosen: tuple[int, str] | None = None


def cgroup_cpu_quota(root: Path = Path("/sys/fs/cgroup"),
                     membership: Path = Path("/proc/self/cgroup")) -> float | None:
    """CPUs allowed by the cgroup CPU quota of this process (quota / period), or None.

    ``membership`` lists the process's cgroups (``id:controllers:path``); each cgroup folder
    under ``root`` from the process's own up to the hierarchy's top may hold a quota, and the
    smallest binds: cgroup v2 ``cpu.max`` (``"150000 100000"`` or ``"max 100000"``), cgroup v1
    ``cpu/cpu.cfs_quota_us`` (``-1``: none) over ``cpu.cfs_period_us``.
    """
    try:
        lines = membership.read_text().splitlines()
    except OSError:
        return None
    quotas = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            folders, read = [root, root / "unified"], _v2_quota
        elif "cpu" in controllers.split(","):
            folders, read = [root / "cpu", root / controllers], _v1_quota
        else:
            continue
        for top in folders:
            here = top / path.lstrip("/")
            for folder in [here, *here.parents]:
                quota = read(folder)
                if quota is not None:
                    quotas.append(quota)
                if folder == top:
                    break
    return min(quotas, default=None)


def _v2_quota(folder: Path) -> float | None:
    try:
        quota, period = (folder / "cpu.max").read_text().split()
    except (OSError, ValueError):
        return None
    return None if quota == "max" else int(quota) / int(period)


def _v1_quota(folder: Path) -> float | None:
    try:
        quota = int((folder / "cpu.cfs_quota_us").read_text())
        period = int((folder / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return None if quota <= 0 or period <= 0 else quota / period


def available_cpus(root: Path = Path("/sys/fs/cgroup"),
                   membership: Path = Path("/proc/self/cgroup")) -> int:
    """The CPUs this process may really use: the CPUs it may run on (its affinity, else the
    machine's count), capped by its cgroup CPU quota rounded up; at least 1."""
    cpus = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else os.cpu_count() or 1)
    quota = cgroup_cpu_quota(root, membership)
    if quota is not None:
        cpus = min(cpus, math.ceil(quota))
    return max(cpus, 1)


def default_threads() -> tuple[int, str]:
    """The threads a notebook gets when it asks for none, and why: ``OMP_NUM_THREADS`` if the
    environment sets it, else :data:`LECTURE_THREADS` capped by :func:`available_cpus`."""
    pinned = os.environ.get("OMP_NUM_THREADS", "").strip()
    if pinned.isdigit() and int(pinned) > 0:
        return int(pinned), "OMP_NUM_THREADS"
    return min(LECTURE_THREADS, available_cpus()), "the lecture's setting"


def use(threads: int | None = None) -> int:
    """Let numpy's BLAS and torch use ``threads`` threads (None: :func:`default_threads`).

    Returns the number set. Call it again at any time to change it, e.g. ``use(4)`` before
    timing a large product.
    """
    global _chosen
    if threads is None:
        threads, why = default_threads()
    elif isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a whole number >= 1 (or None for the lecture's "
                         f"setting), got {threads!r}")
    else:
        why = "your choice"
    if sys.platform != "emscripten":  # in the browser (Pyodide) numpy runs on one thread
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads, user_api="blas")  # stays in force: no with-block
    try:
        import torch
    except ImportError:  # numpy-only notebooks need no torch
        pass
    else:
        torch.set_num_threads(threads)
    _chosen = (threads, why)
    return threads


def describe() -> str:
    """One line for the environment check: the threads in use, why, and how to change them."""
    threads, why = _chosen if _chosen is not None else default_threads()
    return (f"{threads} for numpy's BLAS and torch ({why}; {available_cpus()} CPUs available); "
            f"setup(seed=0, threads=n) for another number")
