"""Shared fixtures. Tests read MNIST from the folder named by ``LECTURE_MNIST_DIR``; no network."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The MNIST folder the loader itself would read (``LECTURE_MNIST_DIR``, else the user
    cache), without network; skipped locally only if the four files are not there."""
    from lecture_utils.data.mnist import mnist_status

    status = mnist_status()
    if not status.ok:
        if os.environ.get("CI"):
            pytest.fail(f"CI must set LECTURE_MNIST_DIR to the folder of the MNIST files: {status}")
        pytest.skip(str(status))
    return status.folder


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless system Chromium, one per test module (skipped without it, failed in CI)."""
    from jupyterlab_driver import chromium_missing_reason, launch_chromium, skip_or_fail_in_ci

    reason = chromium_missing_reason()
    if reason:
        skip_or_fail_in_ci(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


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
