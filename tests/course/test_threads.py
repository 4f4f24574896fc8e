"""lecture_utils.course.threads: the CPUs a process may use, and the threads setup() sets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from threadpoolctl import threadpool_info

from lecture_utils.course import threads
from lecture_utils.course.notebook import setup


def cgroup_tree(tmp_path: Path, membership: str, files: dict[str, str]) -> tuple[Path, Path]:
    """A fake ``/sys/fs/cgroup`` (``files``: relative path -> text) and ``/proc/self/cgroup``."""
    root = tmp_path / "cgroup"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (tmp_path / "membership").write_text(membership)
    return root, tmp_path / "membership"


def blas_threads() -> set[int]:
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


@pytest.fixture
def restore_threads() -> Iterator[None]:
    """Put numpy's BLAS and torch back to the threads they had before the test."""
    blas, torch_threads = max(blas_threads()), torch.get_num_threads()
    yield
    threads.use(blas)
    torch.set_num_threads(torch_threads)


def test_cgroup_v2_quota_is_read_and_the_smallest_on_the_path_binds(tmp_path: Path) -> None:
    root, membership = cgroup_tree(tmp_path, "0::/user.slice/jupyter\n", {
        "user.slice/jupyter/cpu.max": "150000 100000\n", "cpu.max": "max 100000\n"})
    assert threads.cgroup_cpu_quota(root, membership) == 1.5
    (root / "user.slice" / "cpu.max").write_text("50000 100000\n")  # the parent's is smaller
    assert threads.cgroup_cpu_quota(root, membership) == 0.5
    assert threads.available_cpus(root, membership) == 1


def test_cgroup_v2_without_a_quota_leaves_the_affinity(tmp_path: Path) -> None:
    root, membership = cgroup_tree(tmp_path, "0::/\n", {"cpu.max": "max 100000\n"})
    assert threads.cgroup_cpu_quota(root, membership) is None
    assert threads.available_cpus(root, membership) == len(os.sched_getaffinity(0))


def test_cgroup_v1_quota_over_period(tmp_path: Path) -> None:
    root, membership = cgroup_tree(tmp_path, "4:memory:/x\n3:cpu,cpuacct:/kubepods/pod1\n", {
        "cpu,cpuacct/kubepods/pod1/cpu.cfs_quota_us": "250000\n",
        "cpu,cpuacct/kubepods/pod1/cpu.cfs_period_us": "100000\n",
        "cpu,cpuacct/cpu.cfs_quota_us": "-1\n", "cpu,cpuacct/cpu.cfs_period_us": "100000\n"})
    assert threads.cgroup_cpu_quota(root, membership) == 2.5
    assert threads.available_cpus(root, membership) == min(3, len(os.sched_getaffinity(0)))


def test_cgroup_v1_unlimited_and_missing_files_mean_no_quota(tmp_path: Path) -> None:
    root, membership = cgroup_tree(tmp_path, "1:cpu:/\n", {
        "cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"})
    assert threads.cgroup_cpu_quota(root, membership) is None
    assert threads.cgroup_cpu_quota(root, tmp_path / "absent") is None
    assert threads.cgroup_cpu_quota(tmp_path / "nothing", membership) is None


def test_a_container_sees_its_own_quota_at_the_top(tmp_path: Path) -> None:
    """Without a cgroup namespace the listed path is the host's; the container's folder is
    mounted as the top of the hierarchy."""
    root, membership = cgroup_tree(tmp_path, "0::/system.slice/docker-abc.scope\n",
                                   {"cpu.max": "100000 100000\n"})
    assert threads.cgroup_cpu_quota(root, membership) == 1.0


def test_affinity_limits_the_cpus() -> None:
    """A process pinned to one CPU (``taskset -c 0``) may use one."""
    code = ("import os; from lecture_utils.course import threads\n"
            "os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})\n"
            "print(threads.available_cpus())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "1"


def test_default_is_the_lecture_setting_unless_the_environment_pins_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert threads.default_threads() == (min(threads.LECTURE_THREADS, threads.available_cpus()),
                                         "the lecture's setting")
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert threads.default_threads() == (3, "OMP_NUM_THREADS")


@pytest.mark.usefixtures("restore_threads")
def test_use_sets_numpy_blas_and_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    assert threads.use(2) == 2
    assert blas_threads() == {2} and torch.get_num_threads() == 2
    assert "2 for numpy's BLAS and torch (your choice" in threads.describe()
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    setup(seed=0)
    assert blas_threads() == {threads.LECTURE_THREADS} == {torch.get_num_threads()}
    setup(seed=0, threads=2)
    assert blas_threads() == {2} and torch.get_num_threads() == 2


@pytest.mark.parametrize("bad", [0, -1, 1.5, "4", True])
def test_use_rejects_what_is_not_a_thread_count(bad: object) -> None:
    with pytest.raises(ValueError, match="threads must be a whole number"):
        threads.use(bad)  # type: ignore[arg-type]


def test_a_fresh_notebook_kernel_gets_the_lecture_setting() -> None:
    """What a student gets: no thread variables in the environment, then setup()."""
    code = ("import json, torch; from threadpoolctl import threadpool_info\n"
            "from lecture_utils.course.notebook import setup\n"
            "setup(seed=0)\n"
            "print(json.dumps([torch.get_num_threads(),"
            " [p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas']]))")
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env).stdout
    torch_threads, blas = json.loads(out)
    assert torch_threads == threads.LECTURE_THREADS and set(blas) == {threads.LECTURE_THREADS}
