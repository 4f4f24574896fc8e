"""The student set resolves for every Python the project names, and not for an older one.

The supported versions are pyproject.toml's ``Programming Language :: Python :: 3.x``
classifiers (the README names the same ones), from ``requires-python`` (3.11.5: a few pins,
soupsieve's among them, need it) on. pip resolves requirements/student.txt for each
with ``--python-version`` (``--dry-run``, wheels only, for this machine's platform), reading
the packages' metadata from PyPI, not the wheels themselves: this test needs PyPI (marked
``registry``), and takes about 25 s per
version; all versions resolve at once.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.registry]

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
SUPPORTED = [c.rsplit(" :: ", 1)[1] for c in PYPROJECT["classifiers"]
             if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
MINIMUM = PYPROJECT["requires-python"].removeprefix(">=")


#: Every version the tests below resolve: the supported ones and two below the minimum.
RESOLVES = [MINIMUM, *SUPPORTED[1:]]
REFUSES = ["3.10", "3.11.4"]


@dataclass
class Resolution:
    returncode: int
    stderr: str
    installed: set[str]


def start_resolving(version: str, folder: Path) -> subprocess.Popen[str]:
    """pip's resolution of the student lock for Python ``version``, started in the background."""
    return subprocess.Popen(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
         "--only-binary=:all:", "--python-version", version, "--target", str(folder / "t"),
         "--report", str(folder / "report.json"), "-r", str(ROOT / "requirements" / "student.txt")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def resolutions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Resolution]:
    """Every version's resolution, all run at once: each mostly waits for PyPI's metadata, so
    together they take about as long as the slowest one alone."""
    folders = {v: tmp_path_factory.mktemp(f"python{v}") for v in RESOLVES + REFUSES}
    running = {v: start_resolving(v, folder) for v, folder in folders.items()}
    results = {}
    for version, process in running.items():
        _, stderr = process.communicate(timeout=600)
        report = folders[version] / "report.json"
        installed = set()
        if process.returncode == 0:
            installed = {i["metadata"]["name"].lower()
                         for i in json.loads(report.read_text())["install"]}
        results[version] = Resolution(process.returncode, stderr, installed)
    return results


def test_supported_versions_start_at_requires_python_and_are_in_the_readme() -> None:
    assert MINIMUM.startswith(SUPPORTED[0] + "."), (SUPPORTED, MINIMUM)
    readme = (ROOT / "README.md").read_text()
    named = f"Python {', '.join(SUPPORTED[:-1])} and {SUPPORTED[-1]}"
    assert named in readme, f"README.md should name the supported versions: {named!r}"


@pytest.mark.parametrize("version", RESOLVES)
def test_student_set_resolves(version: str, resolutions: dict[str, Resolution]) -> None:
    result = resolutions[version]
    assert result.returncode == 0, f"Python {version}:\n{result.stderr[-3000:]}"
    assert {"torch", "numpy", "jupyterlab", "ipywidgets"} <= result.installed


@pytest.mark.parametrize("version", REFUSES)
def test_student_set_does_not_resolve_below_the_minimum(version: str,
                                                        resolutions: dict[str, Resolution]) -> None:
    result = resolutions[version]
    assert result.returncode != 0, f"the lock resolves for Python {version}: lower the minimum?"
