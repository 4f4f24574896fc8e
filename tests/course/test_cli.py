"""``python -m lecture_utils``: the environment check and the data command, as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lecture_utils import __version__
from lecture_utils.course import environment


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lecture_utils", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


def test_check_lists_packages_and_finds_mnist(mnist_dir: Path) -> None:
    result = run("check", env={"LECTURE_MNIST_DIR": str(mnist_dir)})
    assert result.returncode == 0, result.stdout + result.stderr
    for name in environment.KEY_PACKAGES:
        assert f"ok  {name}" in result.stdout
    assert "4 files verified" in result.stdout
    assert result.stdout.rstrip().endswith("All set.")


def test_check_without_data_says_what_to_do(tmp_path: Path) -> None:
    result = run("check", env={"LECTURE_MNIST_DIR": "", "LECTURE_UTILS_CACHE": str(tmp_path)})
    assert result.returncode == 1
    assert "!!  MNIST" in result.stdout
    assert "python -m lecture_utils fetch-data" in result.stdout
    assert "LECTURE_MNIST_DIR" in result.stdout


def test_fetch_data_status_needs_no_network(mnist_dir: Path) -> None:
    result = run("fetch-data", "--status", env={"LECTURE_MNIST_DIR": str(mnist_dir)})
    assert result.returncode == 0, result.stderr
    assert "4 files" in result.stdout


@pytest.mark.parametrize(("args", "code", "text"), [
    ((), 2, "usage: python -m lecture_utils COMMAND"),
    (("--help",), 0, "fetch-data"),
    (("--version",), 0, f"lecture_utils {__version__}"),
    (("train",), 2, "unknown command 'train'"),
    (("check", "--fast"), 2, "check takes no options"),
])
def test_usage_errors_are_clear(args: tuple[str, ...], code: int, text: str) -> None:
    result = run(*args)
    assert result.returncode == code
    assert text in result.stdout + result.stderr
