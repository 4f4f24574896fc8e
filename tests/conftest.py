"""Shared fixtures. Tests read MNIST from the folder named by ``LECTURE_MNIST_DIR``; no network."""

from __future__ import annotations

import os
from collections.abc import Callable
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


# Browser test (test_browser.py): run times and slider latencies, printed after the tests
# (in CI logs too). They travel as user properties of the test reports, so they also reach
# the summary when pytest-xdist runs the browser test in a worker process.
SUMMARY_PROPERTY = "browser summary"


@pytest.fixture
def browser_summary(record_property: Callable[[str, object], None]) -> Callable[[str], None]:
    """Call with a line for the terminal summary's "browser test" section."""
    return lambda line: record_property(SUMMARY_PROPERTY, line)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int,
                            config: pytest.Config) -> None:
    lines = [value for reports in terminalreporter.stats.values() for report in reports
             if getattr(report, "when", None) == "call"
             for name, value in getattr(report, "user_properties", ()) if name == SUMMARY_PROPERTY]
    if lines:
        terminalreporter.section("browser test (JupyterLab in headless Chromium)")
        for line in lines:
            terminalreporter.write_line(str(line))
