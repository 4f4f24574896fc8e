"""Shared fixtures. Tests read MNIST from the folder named by ``LECTURE_MNIST_DIR``; no network."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The offline MNIST folder (CI: ``../shared/data/mnist``); skipped locally if unset."""
    folder = os.environ.get("LECTURE_MNIST_DIR")
    if not folder:
        if os.environ.get("CI"):
            pytest.fail("CI must set LECTURE_MNIST_DIR to the folder of the four MNIST files")
        pytest.skip("set LECTURE_MNIST_DIR to a folder holding the four MNIST .gz files")
    return Path(folder)
