"""The student set resolves for every Python the project names, and not for an older one.

The supported versions are pyproject.toml's ``Programming Language :: Python :: 3.x``
classifiers (the README names the same ones), from ``requires-python`` (3.11.5: a few pins,
soupsieve's among them, need it) on. pip resolves requirements/student.txt for each
with ``--python-version`` (``--dry-run``, wheels only, for this machine's platform), reading
the packages' metadata from PyPI, not the wheels themselves: this test needs PyPI (marked
``registry``), and takes about 25 s per version.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.registry]

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
SUPPORTED = [c.rsplit(" :: ", 1)[1] for c in PYPROJECT["classifiers"]
             if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
MINIMUM = PYPROJECT["requires-python"].removeprefix(">=")


def resolve(version: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    report = tmp_path / "report.json"
    return subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
         "--only-binary=:all:", "--python-version", version, "--target", str(tmp_path / "t"),
         "--report", str(report), "-r", str(ROOT / "requirements" / "student.txt")],
        capture_output=True, text=True, timeout=600)


def test_supported_versions_start_at_requires_python_and_are_in_the_readme() -> None:
    assert MINIMUM.startswith(SUPPORTED[0] + "."), (SUPPORTED, MINIMUM)
    readme = (ROOT / "README.md").read_text()
    named = f"Python {', '.join(SUPPORTED[:-1])} and {SUPPORTED[-1]}"
    assert named in readme, f"README.md should name the supported versions: {named!r}"


@pytest.mark.parametrize("version", [MINIMUM, *SUPPORTED[1:]])
def test_student_set_resolves(version: str, tmp_path: Path) -> None:
    result = resolve(version, tmp_path)
    assert result.returncode == 0, f"Python {version}:\n{result.stderr[-3000:]}"
    names = {i["metadata"]["name"].lower()
             for i in json.loads((tmp_path / "report.json").read_text())["install"]}
    assert {"torch", "numpy", "jupyterlab", "ipywidgets"} <= names


@pytest.mark.parametrize("version", ["3.10", "3.11.4"])
def test_student_set_does_not_resolve_below_the_minimum(version: str, tmp_path: Path) -> None:
    result = resolve(version, tmp_path)
    assert result.returncode != 0, f"the lock resolves for Python {version}: lower the minimum?"
