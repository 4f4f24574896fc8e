"""The environment check (notebook 00, `python -m lecture_utils check`): audiences and places."""

from __future__ import annotations

import importlib.metadata
import os
import sys
from pathlib import Path

import pytest

from lecture_utils.course import environment


@pytest.fixture
def without(monkeypatch: pytest.MonkeyPatch):
    """Make ``importlib.metadata.version`` report the given distributions as not installed."""
    real = importlib.metadata.version

    def hide(*names: str) -> None:
        def version(name: str) -> str:
            if name in names:
                raise importlib.metadata.PackageNotFoundError(name)
            return real(name)

        monkeypatch.setattr(importlib.metadata, "version", version)

    return hide


def rows_by_name(place: str) -> dict[str, environment.Row]:
    return {r.name: r for r in environment.package_rows(place)}


@pytest.mark.parametrize("place", environment.PLACES)
def test_missing_instructor_tools_are_no_failure_for_students(without, place: str) -> None:
    without(*environment.INSTRUCTOR_PACKAGES)
    rows = rows_by_name(place)
    for name in environment.INSTRUCTOR_PACKAGES:
        assert rows[name].ok and "only instructors' checks" in rows[name].state
    assert all(r.ok for r in rows.values()), rows
    # notebook 00's assertion over the package rows passes in a student environment
    assert not [r.name for r in rows.values() if r.name != "MNIST" and not r.ok]


@pytest.mark.parametrize(("place", "advice"), [
    ("colab", "first cell"),
    ("binder", "launch it again"),
    ("make", "`make lab`"),
    ("pip", "-r requirements/student.txt"),
    ("browser", "Binder or Colab"),
])
def test_missing_student_package_fails_with_advice_for_the_place(without, place: str,
                                                                 advice: str) -> None:
    without("ipywidgets")
    row = rows_by_name(place)["ipywidgets"]
    assert not row.ok and row.state.startswith("missing") and advice in row.state
    report = environment.format_report(environment.package_rows(place))
    assert report.endswith("To fix: ipywidgets.")


def test_the_browser_edition_does_without_torch_jupyterlab_and_pooch(
        without, monkeypatch: pytest.MonkeyPatch) -> None:
    without(*environment.NOT_IN_BROWSER)
    rows = rows_by_name("browser")
    for name in environment.NOT_IN_BROWSER:
        assert rows[name].ok and rows[name].state.startswith("not in the browser edition")
    assert not rows_by_name("make")["torch"].ok   # elsewhere a missing torch is a failure
    monkeypatch.setattr(sys, "platform", "emscripten")
    assert environment.where() == "browser"


def test_instructor_advice_only_where_an_instructor_works(without) -> None:
    without("nbval")
    assert "`make test`" in rows_by_name("make")["note"].state
    assert "requirements/dev.txt" in rows_by_name("pip")["note"].state
    assert "note" not in rows_by_name("colab") and "note" not in rows_by_name("binder")


@pytest.mark.parametrize(("env", "modules", "expected"), [
    ({"COLAB_RELEASE_TAG": "release-colab_20260101"}, (), "colab"),
    ({}, ("google.colab",), "colab"),
    ({"BINDER_LAUNCH_HOST": "https://mybinder.org/"}, (), "binder"),
])
def test_where_recognises_colab_and_binder(monkeypatch: pytest.MonkeyPatch, env: dict,
                                           modules: tuple, expected: str) -> None:
    for name in ("COLAB_RELEASE_TAG", "BINDER_LAUNCH_HOST", "BINDER_REPO_URL"):
        monkeypatch.delenv(name, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for name in modules:
        monkeypatch.setitem(sys.modules, name, object())
    assert environment.where() == expected


def test_where_on_a_laptop_depends_on_make(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("COLAB_RELEASE_TAG", "BINDER_LAUNCH_HOST", "BINDER_REPO_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr(environment.shutil, "which", lambda name: "/usr/bin/make")
    assert environment.where() == "make"
    monkeypatch.setattr(environment.shutil, "which", lambda name: None)
    assert environment.where() == "pip"


def test_paths_are_relative_to_the_project_or_home() -> None:
    home, project = str(Path.home()), str(environment.PROJECT)
    text = f"{project}{os.sep}.venv/bin/python; {project}; {home}{os.sep}.cache/x, {home}"
    assert environment.short_path(text) == ".venv/bin/python; .; ~/.cache/x, ~"


def test_report_prints_no_absolute_machine_path(mnist_dir: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LECTURE_MNIST_DIR", str(mnist_dir))
    text = environment.format_report(environment.report())
    for folder in {str(environment.PROJECT), str(Path.home()), str(mnist_dir)} - {"/"}:
        assert folder not in text, text
