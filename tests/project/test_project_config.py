"""The descriptions of the environment agree: pyproject.toml's ranges, the two locks
(requirements/student.txt, requirements/dev.txt), environment.yml (the conda route) and
binder/environment.yml (Binder). A package present in one and missing in another, or pinned
at another version, fails here."""

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
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
STUDENT_LOCK = ROOT / "requirements" / "student.txt"
DEV_LOCK = ROOT / "requirements" / "dev.txt"
CONDA_FILES = ("environment.yml", "binder/environment.yml")
#: conda-forge names of PyPI distributions where they differ.
CONDA_TO_PIP = {"pytorch": "torch"}
#: Packages only a conda environment file lists (the interpreter and the installer).
CONDA_ONLY = {"python", "pip"}
#: The developer tools a student never installs.
DEV_ONLY = {"pytest", "nbval", "playwright", "jupyter-repo2docker", "docker", "ruff"}


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def declared(*extras: str, build: bool = False) -> dict[str, Requirement]:
    """pyproject.toml's requirements: dependencies, the extras, and the build backend."""
    data = pyproject()
    specs = list(data["project"]["dependencies"])
    for extra in extras:
        specs += data["project"]["optional-dependencies"][extra]
    if build:
        specs += data["build-system"]["requires"]
    return {canonicalize_name(Requirement(s).name): Requirement(s) for s in specs}


def lock_pins(path: Path) -> dict[str, Version]:
    """``name -> version`` of the ``name==version`` lines of a lock."""
    pins = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith(("#", "-")):
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", f"{path.name}: {line} is not a pin"
            pins[canonicalize_name(req.name)] = Version(spec.version)
    return pins


def conda_spec(dep: str) -> tuple[str, SpecifierSet, str | None]:
    """A conda MatchSpec ``name=1.2``, ``name>=1,<=2=build*`` as (PyPI name, versions, build)."""
    name, rest = re.fullmatch(r"([A-Za-z0-9_.-]+)(.*)", dep.strip()).groups()
    build = re.search(r"(?<![<>=!])=([A-Za-z_*][^=]*)$", rest)
    rest = rest[:build.start()] if build else rest
    versions = SpecifierSet(f"=={rest[1:]}" if re.match(r"=[^=]", rest) else rest)
    return canonicalize_name(CONDA_TO_PIP.get(name, name)), versions, build and build.group(1)


def conda_file(path: str) -> tuple[dict[str, tuple[SpecifierSet, str | None]], list[str], str]:
    """The conda packages of an environment file (name -> versions, build), its pip lines and
    its Python version."""
    conda, pip, python = {}, [], ""
    for dep in yaml.safe_load((ROOT / path).read_text())["dependencies"]:
        if isinstance(dep, dict):
            pip += dep["pip"]
            continue
        name, versions, build = conda_spec(dep)
        if name == "python":
            python = str(versions)
        if name not in CONDA_ONLY:
            conda[name] = (versions, build)
    return conda, pip, python


def test_student_lock_pins_pyproject_and_no_developer_tool() -> None:
    pins = lock_pins(STUDENT_LOCK)
    wanted = declared("lab", build=True)
    for name, req in wanted.items():
        assert name in pins, f"requirements/student.txt does not pin {name} (pyproject: {req})"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"requirements/student.txt pins {name}=={pins[name]}, outside pyproject's {req}")
    assert not DEV_ONLY & set(pins), f"students would install {sorted(DEV_ONLY & set(pins))}"


def test_dev_lock_adds_the_dev_extra_to_the_student_lock() -> None:
    assert "-r student.txt" in DEV_LOCK.read_text().splitlines()
    student, dev = lock_pins(STUDENT_LOCK), lock_pins(DEV_LOCK)
    assert not set(student) & set(dev), f"pinned twice: {sorted(set(student) & set(dev))}"
    everything = {**student, **dev}
    for name, req in declared("lab", "dev").items():
        assert name in everything, f"the locks do not pin {name} (pyproject: {req})"
        assert req.specifier.contains(everything[name], prereleases=True), (
            f"the locks pin {name}=={everything[name]}, outside pyproject's {req}")
    assert DEV_ONLY <= set(dev)


def test_torch_is_pinned_once_and_read_by_the_makefile() -> None:
    assert lock_pins(STUDENT_LOCK)["torch"] == Version("2.13.0"), (
        "torch 2.13.0 is the version whose CPU build CI installs from local disk")
    assert "torch" not in lock_pins(DEV_LOCK)
    makefile = (ROOT / "Makefile").read_text()
    assert "TORCH_VERSION := $(shell sed -n 's/^torch==//p' $(STUDENT_LOCK))" in makefile
    assert "2.13" not in makefile + (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize("env_file", CONDA_FILES)
def test_conda_file_matches_the_student_lock(env_file: str) -> None:
    conda, _, python = conda_file(env_file)
    pins = lock_pins(STUDENT_LOCK)
    wanted = declared("lab", build=True)
    assert sorted(conda) == sorted(wanted), (
        f"{env_file} lists {sorted(set(conda) - set(wanted))} more and "
        f"{sorted(set(wanted) - set(conda))} fewer packages than the student set")
    for name, (versions, build) in conda.items():
        if name == "torch":
            assert build == "cpu_*", f"{env_file}: PyTorch must be conda-forge's CPU build"
            assert versions.contains(pins[name]), f"{env_file}: {versions} excludes the lock's"
            assert max(Version(s.version) for s in versions) == pins[name], (
                f"{env_file}: pytorch {versions} should reach the lock's {pins[name]}")
        else:
            assert str(versions) == f"=={pins[name]}", (
                f"{env_file}: {name}{versions}, but requirements/student.txt pins {pins[name]}")
    minimum = Version(pyproject()["project"]["requires-python"].removeprefix(">="))
    assert python == f"=={minimum.major}.{minimum.minor}", (
        f"{env_file}: python {python}, pyproject needs {minimum}")


def test_conda_route_installs_the_package_and_binder_leaves_it_to_post_build() -> None:
    _, pip, _ = conda_file("environment.yml")
    assert pip == ["-e ."], pip
    _, pip, _ = conda_file("binder/environment.yml")
    assert pip == [], "binder/postBuild installs lecture_utils"


def test_conda_spec_parsing() -> None:
    assert conda_spec("numpy=2.4.6") == ("numpy", SpecifierSet("==2.4.6"), None)
    assert conda_spec("pytorch>=2.12.1,<=2.13.0=cpu_*") == (
        "torch", SpecifierSet(">=2.12.1,<=2.13.0"), "cpu_*")


def test_binder_post_build_installs_package_and_a_failed_fetch_does_not_fail() -> None:
    post_build = (ROOT / "binder" / "postBuild").read_text()
    assert "pip install" in post_build and "-e ." in post_build
    assert re.search(r"python -m lecture_utils fetch-data \|\|\n\s*echo ", post_build)
    assert (ROOT / "binder" / "postBuild").stat().st_mode & 0o111, "postBuild must be executable"


def test_binder_post_build_survives_a_failed_fetch(tmp_path: Path) -> None:
    """postBuild run with a ``python`` whose fetch-data fails: it prints a line, exits 0."""
    fake = tmp_path / "python"
    fake.write_text('#!/bin/sh\ncase "$*" in *fetch-data*) echo "no network" >&2; exit 1;; esac\n')
    fake.chmod(0o755)
    result = subprocess.run(["bash", str(ROOT / "binder" / "postBuild")], cwd=ROOT,
                            capture_output=True, text=True, timeout=60,
                            env={"PATH": f"{tmp_path}:/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert "download it when first loaded" in result.stdout


def test_readme_badge_points_at_the_start_notebook() -> None:
    readme = (ROOT / "README.md").read_text()
    repo = re.search(r"^\[repository\]: https://github\.com/([\w.-]+/[\w.-]+)$", readme, re.M)
    assert repo, "README.md defines the repository URL once, as the [repository] link"
    binder = re.search(r"^\[binder\]: (\S+)$", readme, re.M)
    assert binder, "README.md defines the Binder launch URL once, as the [binder] link"
    assert binder.group(1).startswith(f"https://mybinder.org/v2/gh/{repo.group(1)}/")
    assert "urlpath=lab/tree/notebooks/" in binder.group(1)
    assert "00_start_here.ipynb" in binder.group(1)


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
