"""Every notebook opened, run and used in a real JupyterLab in headless Chromium.

nbval runs the kernel only; students meet the notebooks in a browser, where widgets either
render and respond or show "Error displaying widget". One JupyterLab (127.0.0.1, random
port and token) serves copies of the notebooks; each is opened in a new page, all its cells
are run, and ``jupyterlab_driver.check_notebook`` reports error outputs, tracebacks and
warnings (also inside widget outputs and callbacks), widgets that do not render, and sliders
that do not change their figure when moved with the keyboard. Screenshots go to
``test-artifacts/browser/<notebook>/``. The self-tests prove the checker fails when it should.

Needs Chromium at /usr/bin/chromium (``scripts/ensure-chromium``): skipped without it,
failed without it when ``CI`` is set.
"""

from __future__ import annotations

import shutil
import statistics
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyterlab_driver import (
    ARTIFACTS,
    ROOT,
    LabServer,
    NotebookCheck,
    check_notebook,
    copy_for_browser,
    running_lab,
)
from nbformat.v4 import new_code_cell, new_notebook

pytestmark = pytest.mark.browser

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
LATENCY_PRESSES = 10  # key presses per slider, for a median per slider
LATENCY_TARGET_MS = 100  # printed against, not asserted (the machine may be loaded)
LATENCY_SANITY_MS = 3000  # asserted: a slider this slow is broken, not slow


@pytest.fixture(scope="module")
def lab(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """JupyterLab serving a copy of notebooks/ (outputs cleared): it autosaves what it opens."""
    root = tmp_path_factory.mktemp("lab-root")
    shutil.copytree(ROOT / "notebooks", root / "notebooks",
                    ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
    for notebook in NOTEBOOKS:
        copy_for_browser(notebook, root / "notebooks" / notebook.name)
    with running_lab(root, tmp_path_factory.mktemp("lab-state")) as server:
        yield server


# ----------------------------------------------------------------------- self-tests
IMPORTS = "import ipywidgets as widgets\nimport matplotlib.pyplot as plt\nimport numpy as np"


def figure_cell(body: str, sliders: str = "a=(0.5, 3.0, 0.1)") -> str:
    """A cell showing ``interact(show, <sliders>)``; ``body`` runs before the plot."""
    return (f"def show(a=1.0, n=3):\n    {body}\n    fig, ax = plt.subplots(figsize=(4, 3))\n"
            "    x = np.linspace(0, 6, 100)\n    ax.plot(x, np.sin(a * x) * n)\n"
            "    ax.set(title='a sine', xlabel='x', ylabel='y')\n    plt.show()\n"
            f"widgets.interact(show, {sliders});")


# name: (cells after the imports, whether the checker must pass it, text that must appear in
# its summary if so, else in its failure message)
SELF_TESTS = {
    "good": ([figure_cell("pass", "a=(0.5, 3.0, 0.1), n=(1, 5)"), "print('done')"], True,
             "1 widget views, 2 sliders, 0 buttons, slider->figure median"),
    "run_button": (["s = widgets.IntSlider(3, 1, 5)\nout = widgets.Output()\n"
                    "b = widgets.Button(description='Run')\n"
                    "def run(_):\n    with out:\n        plt.plot([0, s.value]); plt.show()\n"
                    "b.on_click(run)\nwidgets.VBox([s, b, out])"], True, "0 sliders, 1 buttons"),
    "disabled_slider": ([figure_cell("a = 1.0", "a=widgets.FloatSlider(1.0, min=0.5, max=3.0, "
                                     "disabled=True), n=widgets.fixed(3)")], True,
                        "1 widget views, 0 sliders"),
    "cell_raises": (["x = 1", "1 / 0", "print('never runs')"], False,
                    "cell 3 raised ZeroDivisionError"),
    "warning": (["import warnings\nwarnings.warn('careful', UserWarning)"], False,
                "UserWarning: careful"),
    "callback_raises": ([figure_cell("if a != 1.0:\n        raise ValueError('bad a')")], False,
                        "inside a widget output"),
    "observer_raises": (["s = widgets.IntSlider(3, 0, 10)\nout = widgets.Output()\n"
                         "s.observe(lambda change: 1 / 0, 'value')\n"
                         "with out:\n    plt.plot([0, 1]); plt.show()\nwidgets.VBox([s, out])"],
                        False, "ZeroDivisionError"),
    "dead_slider": ([figure_cell("a = 1.0")], False,
                    "slider 1 'a' (ArrowRight from 1.00, press 1): did not change the figure"),
    "broken_widget": (["from IPython.display import display\n"
                       "display({'application/vnd.jupyter.widget-view+json': {'model_id': "
                       "'0123abcd', 'version_major': 2, 'version_minor': 0}}, raw=True)"],
                      False, "Error displaying widget"),
}


@pytest.mark.parametrize("name", SELF_TESTS)
def test_checker_reports(name: str, lab: LabServer, browser: Any,
                         browser_summary: Callable[[str], None]) -> None:
    """Temporary notebooks: the good ones pass; each broken one fails for its reason."""
    cells, passes, text = SELF_TESTS[name]
    nb = new_notebook(cells=[new_code_cell(IMPORTS), *map(new_code_cell, cells)])
    path = lab.root_dir / "selftest" / f"{name}.ipynb"
    path.parent.mkdir(exist_ok=True)
    nbformat.write(nb, path)
    result = check_notebook(lab, browser, f"selftest/{name}.ipynb", ARTIFACTS / "selftest" / name,
                            slider_timeout_s=30)
    if passes:
        assert result.ok, result.failure_message()
        assert text in result.summary()
        browser_summary(f"self-test {result.summary()}")
    else:
        assert not result.ok, f"the checker missed a broken notebook: {result.summary()}"
        assert text in result.failure_message(), result.failure_message()


# ----------------------------------------------------------------------- the notebooks
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_in_jupyterlab(notebook: Path, lab: LabServer, browser: Any,
                                browser_summary: Callable[[str], None]) -> None:
    """Open, run all, no errors or warnings, widgets render, every slider changes its figure."""
    result = check_notebook(lab, browser, f"notebooks/{notebook.name}", ARTIFACTS / notebook.stem,
                            presses=LATENCY_PRESSES)
    browser_summary(result.summary())
    record_latencies(result, browser_summary)
    assert result.ok, result.failure_message()
    for where, times in result.slider_latencies_ms.items():
        assert statistics.median(times) < LATENCY_SANITY_MS, f"{notebook.name} {where}: {times}"


def record_latencies(result: NotebookCheck, summary: Callable[[str], None]) -> None:
    """Each slider's median key-press-to-figure time against the target, to the summary and
    to ``latency-<notebook>.txt`` beside the screenshots."""
    lines = []
    for line, times in zip(result.slider_lines(), result.slider_latencies_ms.values(),
                           strict=True):
        met = statistics.median(times) <= LATENCY_TARGET_MS
        lines.append(f"{line} (target <= {LATENCY_TARGET_MS} ms: {'met' if met else 'NOT met'})")
    for line in lines:
        summary(line)
    (ARTIFACTS / f"latency-{result.notebook}.txt").write_text("".join(f"{x}\n" for x in lines))
