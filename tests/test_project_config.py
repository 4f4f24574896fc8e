"""The three descriptions of the environment agree: pyproject.toml, environment.yml, binder/."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
#: conda-forge names of PyPI distributions where they differ.
CONDA_TO_PIP = {"pytorch-cpu": "torch"}
#: Packages only a conda environment file lists (the interpreter and the installers).
CONDA_ONLY = {"python", "pip", "setuptools"}


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def pip_requirements(*extras: str) -> dict[str, Requirement]:
    project = pyproject()["project"]
    specs = list(project["dependencies"])
    for extra in extras:
        specs += project["optional-dependencies"][extra]
    return {Requirement(s).name.lower(): Requirement(s) for s in specs}


def conda_requirements(path: Path) -> tuple[dict[str, Requirement], list[str]]:
    deps = yaml.safe_load(path.read_text())["dependencies"]
    conda, pip = {}, []
    for dep in deps:
        if isinstance(dep, dict):
            pip += dep["pip"]
            continue
        name = re.split(r"[<>=!~ ]", dep, maxsplit=1)[0]
        if name in CONDA_ONLY:
            continue
        spec = dep[len(name):].strip()
        req = Requirement(CONDA_TO_PIP.get(name, name) + spec)
        conda[req.name.lower()] = req
    return conda, pip


def lower_bound(req: Requirement) -> Version | None:
    bounds = [Version(s.version) for s in req.specifier if s.operator in (">=", "==")]
    return max(bounds) if bounds else None


@pytest.mark.parametrize(("env_file", "extras"), [
    ("environment.yml", ("lab", "test")),
    ("binder/environment.yml", ("lab",)),
])
def test_conda_environment_matches_pyproject(env_file: str, extras: tuple[str, ...]) -> None:
    conda, pip = conda_requirements(ROOT / env_file)
    pip_named = {Requirement(p).name.lower(): Requirement(p) for p in pip if not p.startswith("-")}
    listed = {**conda, **pip_named}
    wanted = pip_requirements(*extras)
    assert sorted(listed) == sorted(wanted), f"{env_file} and pyproject.toml list other packages"
    for name, req in wanted.items():
        assert lower_bound(listed[name]) == lower_bound(req), (
            f"{env_file}: {listed[name]} has another minimum than pyproject's {req}")


def test_pinned_requirements_satisfy_pyproject() -> None:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            req = Requirement(line)
            pins[req.name.lower()] = Version(next(iter(req.specifier)).version)
    for name, req in pip_requirements("lab", "test").items():
        assert name in pins, f"requirements.txt does not pin {name}"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"requirements.txt pins {name}=={pins[name]}, outside pyproject's {req}")
    assert str(pins["torch"]) == "2.13.0", "CI must install the CPU build of torch 2.13.0"


def test_binder_post_build_installs_package_and_fetches_data() -> None:
    post_build = (ROOT / "binder" / "postBuild").read_text()
    assert "pip install" in post_build and "-e ." in post_build
    assert "python -m lecture_utils fetch-data" in post_build
    assert (ROOT / "binder" / "postBuild").stat().st_mode & 0o111, "postBuild must be executable"


def test_readme_badge_points_at_the_start_notebook() -> None:
    readme = (ROOT / "README.md").read_text()
    repo = re.search(r"^\[repository\]: https://github\.com/([\w.-]+/[\w.-]+)$", readme, re.M)
    assert repo, "README.md defines the repository URL once, as the [repository] link"
    binder = re.search(r"^\[binder\]: (\S+)$", readme, re.M)
    assert binder, "README.md defines the Binder launch URL once, as the [binder] link"
    assert binder.group(1).startswith(f"https://mybinder.org/v2/gh/{repo.group(1)}/")
    assert "urlpath=lab/tree/notebooks/00_start_here.ipynb" in binder.group(1)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("jupyter-repo2docker", path=str(Path(sys.executable).parent))
                    is None, reason="jupyter-repo2docker is not installed")
def test_repo2docker_detects_binder_environment_and_post_build(tmp_path: Path) -> None:
    """``jupyter-repo2docker --no-build --debug`` prints the Dockerfile Binder would build."""
    exe = Path(sys.executable).parent / "jupyter-repo2docker"
    result = subprocess.run([str(exe), "--no-build", "--debug", "--no-run", str(ROOT)],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert "binder/environment.yml" in out, out[-3000:]
    assert "binder/postBuild" in out, out[-3000:]
