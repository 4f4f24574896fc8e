"""bench/: every benchmark runs on a small setting and prints its figures (no timing is asserted:
the figures are the benchmarks' output, read by a person)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_benchmark(name: str, *args: str, mnist_dir: Path | None = None) -> str:
    env = dict(os.environ)
    if mnist_dir is not None:
        env["LECTURE_MNIST_DIR"] = str(mnist_dir)
    done = subprocess.run([sys.executable, str(ROOT / "bench" / f"{name}.py"), *args],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=600,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_mlp_benchmark_prints_numpy_beside_torch_and_the_kernel(mnist_dir: Path) -> None:
    out = run_benchmark("bench_mlp", "--repeats", "1", "--processes", "2", "--sizes", "784",
                        "32", "10", mnist_dir=mnist_dir)
    assert "BLAS: " in out and " kernel " in out
    assert out.count("best of 1: numpy epoch") == 2  # one line per process
    assert "torch epoch" in out and "numpy / torch = " in out
    assert "best over 2 processes: numpy epoch" in out.splitlines()[-1]


def test_mlp_benchmark_measures_without_a_forced_kernel(mnist_dir: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    monkeypatch.delenv("OPENBLAS_L2_SIZE", raising=False)
    out = run_benchmark("bench_mlp", "--repeats", "1", "--processes", "1", "--sizes", "784",
                        "8", "10", mnist_dir=mnist_dir)
    assert "OPENBLAS_CORETYPE=Haswell set here" in out
    assert "OPENBLAS_CORETYPE" not in environment_line(out)
    kept = run_benchmark("bench_mlp", "--repeats", "1", "--processes", "1", "--sizes", "784",
                         "8", "10", "--blas-as-set", mnist_dir=mnist_dir)
    assert "OPENBLAS_CORETYPE=Haswell" in environment_line(kept)


def environment_line(out: str) -> str:
    """The line where bench_mlp prints the thread and kernel variables it ran with."""
    return next(line for line in out.splitlines() if line.lstrip().startswith("environment: "))


def test_data_benchmark(mnist_dir: Path) -> None:
    assert "cold" in run_benchmark("bench_data", str(mnist_dir), "--repeat", "1")


def test_explorer_benchmark() -> None:
    assert "median" in run_benchmark("bench_explorer", "--repeats", "2")


@pytest.mark.slow
def test_notebook_benchmark_times_one_notebook_in_both_editions(mnist_dir: Path) -> None:
    out = run_benchmark("bench_notebooks", "00", "--edition", "both", mnist_dir=mnist_dir)
    assert out.count("00_start_here") >= 2, out
    assert "FAILED" not in out, out


@pytest.mark.slow
def test_busy_benchmark_times_one_notebook_under_every_condition(mnist_dir: Path) -> None:
    out = run_benchmark("bench_busy", "00", mnist_dir=mnist_dir)
    assert "busy/idle" in out and "1 CPU/idle" in out, out
    row = next(line for line in out.splitlines() if "00_start_here" in line)
    assert row.count("x") >= 2 and "FAILED" not in row, out
