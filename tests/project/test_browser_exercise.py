"""A student does an exercise in JupyterLab: the page shows each verdict of the check.

The student edition of notebook 01 is opened in a real JupyterLab in headless Chromium and run:
the softmax exercise's check says "not attempted yet". Then a wrong
answer (softmax without the max-subtraction) is typed over the stub with the keyboard and
run with Shift+Enter: "not yet" with the overflow hint; then a correct one: "correct".

Like ``test_browser.py`` it uses ``jupyterlab_driver`` (isolated server, system Chromium;
skipped without Chromium, failed without it in CI).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jupyterlab_driver as driver
import nbformat
import pytest
from student_edition_checks import checked_exercises

from lecture_utils.course.editions import STUDENT

pytestmark = pytest.mark.browser

NOTEBOOK = "01_likelihood_criterion.ipynb"


def _cell_indices() -> tuple[int, int]:
    """Indices of the softmax exercise cell and of its check cell (the next one)."""
    nb = nbformat.read(STUDENT / NOTEBOOK, as_version=4)
    check = {name: i for i, name in checked_exercises(nb)}["softmax"]
    assert "def softmax(" in nb.cells[check - 1].source
    return check - 1, check


EXERCISE, CHECK = _cell_indices()
WRONG = "return np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)"
RIGHT = ("return np.exp(z - z.max(axis=-1, keepdims=True)) / "
         "np.exp(z - z.max(axis=-1, keepdims=True)).sum(axis=-1, keepdims=True)")
_JS_SOURCE = "(i) => window.__nb.content.model.cells.get(i).sharedModel.getSource()"
_JS_OUTPUT = """(i) => [...window.__nb.content.node.querySelectorAll('.jp-Cell')][i]
  .querySelector('.jp-Cell-outputArea')?.innerText ?? ''"""


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Notebook 01's student edition open in JupyterLab, all cells run once."""
    reason = driver.chromium_missing_reason()
    if reason:
        driver.skip_or_fail_in_ci(reason)
    from playwright.sync_api import sync_playwright

    root, state = tmp_path_factory.mktemp("lab-root"), tmp_path_factory.mktemp("lab-state")
    driver.copy_for_browser(STUDENT / NOTEBOOK, root / NOTEBOOK)
    with driver.running_lab(root, state) as lab, sync_playwright() as playwright:
        browser = driver.launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(lab.lab_url("lab/workspaces/exercise"), wait_until="domcontentloaded")
        page.wait_for_function("() => window.jupyterapp !== undefined", timeout=120_000)
        page.evaluate(driver._JS_OPEN, NOTEBOOK)
        page.wait_for_function(driver._JS_KERNEL_READY, timeout=120_000)
        assert page.evaluate(driver._JS_RUN_ALL, 120)
        yield page
        browser.close()


def _verdict(page: Any, expected: str) -> str:
    """Wait until the check cell's output on the page shows ``expected``; its text."""
    page.wait_for_function(f"(i) => ({_JS_OUTPUT})(i).includes({expected!r})", arg=CHECK,
                           timeout=60_000)
    return page.evaluate(_JS_OUTPUT, CHECK)


def _answer(page: Any, line: str) -> None:
    """Type ``line`` over the stub's last line (``raise NotImplementedError()``), run both cells."""
    editor = page.locator(".jp-Cell").nth(EXERCISE).locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.press("Shift+Home")  # the line's text, keeping its indentation
    page.keyboard.type(line)
    assert page.evaluate(_JS_SOURCE, EXERCISE).splitlines()[-1] == "    " + line
    page.keyboard.press("Shift+Enter")  # runs the exercise, selects the check cell
    page.keyboard.press("Shift+Enter")  # runs the check


def test_the_page_shows_each_verdict(page: Any) -> None:
    assert "softmax: not attempted yet" in _verdict(page, "softmax: not attempted yet")
    _answer(page, WRONG)
    wrong = _verdict(page, "softmax: not yet:")
    assert "overflow" in wrong and "the cells below use the reference" in wrong
    _answer(page, RIGHT)
    assert _verdict(page, "softmax: correct").strip() == "softmax: correct"
