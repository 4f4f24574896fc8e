"""How ``make`` makes .venv: a too old Python is refused in one line before any venv exists,
a venv made by another Python (or broken) is rebuilt with a line saying so, and an installed
venv costs nothing. Run on a copy of the Makefile, pyproject.toml and the locks in a temp
folder; ``PIP="-c pass"`` stands in for the pip steps (their own tests are the student
environment and the locks), so no package is installed.
"""

from __future__ import annotations

import glob
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NO_PIP = ["PIP=-c pass", "SHOW_TORCH=-c pass"]
BASE = Path(getattr(sys, "_base_executable", sys.executable)).resolve()


def pyenv(version: str) -> str | None:
    found = sorted(glob.glob(f"/root/.pyenv/versions/{version}.*/bin/python"))
    return found[-1] if found else None


@pytest.fixture
def project(tmp_path: Path) -> Path:
    if shutil.which("make") is None:
        pytest.skip("GNU make is needed")
    for name in ("Makefile", "pyproject.toml", "requirements"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, tmp_path / name)
    return tmp_path


def make(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=project,
                          capture_output=True, text=True, timeout=300)


def venv_version(project: Path) -> str:
    cfg = (project / ".venv" / "pyvenv.cfg").read_text()
    return next(line.split("=")[1].strip() for line in cfg.splitlines()
                if line.startswith("version"))


def test_too_old_python_stops_in_one_line_before_any_venv(project: Path, tmp_path: Path) -> None:
    old = pyenv("3.10")
    if old is None:  # a stand-in answering make's version question as Python 3.10.13 would
        old = str(tmp_path / "python3.10")
        Path(old).write_text("#!/bin/sh\necho 3.10.13\n")
        Path(old).chmod(0o755)
    result = make(project, "lab", f"PYTHON={old}")
    assert result.returncode != 0
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert "is Python 3.10." in lines[0] and "needs Python 3.11.5 or newer" in lines[0], lines[0]
    assert not (project / ".venv").exists()


def test_missing_python_is_named(project: Path) -> None:
    result = make(project, "lab", "PYTHON=/nonexistent/python3")
    assert result.returncode != 0
    assert "/nonexistent/python3 not found: the project needs Python 3.11.5" in result.stderr


def test_venv_of_another_python_is_rebuilt_and_then_reused(project: Path) -> None:
    other = pyenv("3.12") or pyenv("3.13")
    if other is None:
        pytest.skip("needs a second Python (3.12 or 3.13) to make the foreign venv")
    subprocess.run([other, "-m", "venv", "--without-pip", str(project / ".venv")], check=True)
    foreign = venv_version(project)
    result = make(project, ".venv/.student", f"PYTHON={BASE}", *NO_PIP)
    assert result.returncode == 0, result.stdout + result.stderr
    mine = ".".join(map(str, sys.version_info[:2]))
    assert f".venv was made by Python {foreign.rsplit('.', 1)[0]}, not {mine}: rebuilding it" \
        in result.stdout
    assert venv_version(project).startswith(mine + ".")
    start = time.perf_counter()
    again = make(project, ".venv/.student", f"PYTHON={BASE}", *NO_PIP)
    assert "is up to date" in again.stdout and time.perf_counter() - start < 5, again.stdout


def test_broken_venv_is_rebuilt(project: Path) -> None:
    assert make(project, ".venv/.student", f"PYTHON={BASE}", *NO_PIP).returncode == 0
    (project / ".venv" / "bin" / "python").unlink()
    result = make(project, ".venv/.student", f"PYTHON={BASE}", *NO_PIP)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ".venv was made by Python (broken)" in result.stdout
    assert (project / ".venv" / "bin" / "python").exists()


def test_torch_step_uses_the_cpu_index_on_linux_and_pypi_when_empty(project: Path) -> None:
    on_linux = make(project, "-n", ".venv/.student", f"PYTHON={BASE}").stdout
    torch_line = next(line for line in on_linux.splitlines() if "torch==" in line)
    if sys.platform.startswith("linux"):
        assert "--index-url https://download.pytorch.org/whl/cpu" in torch_line
    assert "--no-deps" in torch_line and "--timeout" in torch_line
    assert torch_line.endswith("torch==2.13.0"), "the version comes from the student lock"
    pypi = make(project, "-n", ".venv/.student", f"PYTHON={BASE}", "TORCH_INDEX=").stdout
    assert "--index-url" not in next(x for x in pypi.splitlines() if "torch==" in x)
