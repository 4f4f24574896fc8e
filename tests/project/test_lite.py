"""The browser edition (``make site``: JupyterLite in the site's ``lite/``), run in Chromium.

The site is built once with ``site/build_site.py --lite`` and served on 127.0.0.1; one browser
context (its storage shared, as a student's browser keeps it) refuses every other host. Each
notebook of the browser edition is opened from the file browser's folder in JupyterLab running
in the page, all its cells are run by ``jupyterlab_driver`` (error outputs, tracebacks, widgets
that do not render, sliders that do not change their figure all fail), and its cells run and
shown (needing PyTorch), the time from opening to a ready kernel and to the first cell's
output, and the whole notebook's time (with the load average) are printed;
``LITE_NOTEBOOKS="00 01"`` runs only those. Notebook 01's softmax exercise is then answered
wrong and right. Also: the notebook pages' "Run in your browser" button, MNIST fetched from
the site once (the second notebook reads the browser's copy), the bytes a browser downloads
for the first notebook, matplotlib's font list (one its matplotlib accepts), and axe-core on
the start page (``lite/index.html``, ours) and on JupyterLab's page (its one upstream
violation allowed, :data:`UPSTREAM`). Screenshots and times: ``test-artifacts/lite/``.
"""

from __future__ import annotations

import json
import os
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import axe
import jupyterlab_driver as driver
import nbformat
import pytest
from test_browser_exercise import _JS_OUTPUT, _JS_SOURCE, RIGHT, WRONG
from test_site import QuietHandler, build_site, serving

from lecture_utils.course.browser_edition import needs_torch

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = driver.ROOT / "test-artifacts" / "lite"
SCREENSHOTS = ["00_start_here", "03_gd_momentum_newton"]
KERNEL = "python"   # the Pyodide kernel's name
EXERCISE_NOTEBOOK = "01_likelihood_criterion.ipynb"


@dataclass
class Lite:
    """The served site, its browser context and what the context saw."""

    url: str                 # the lite/ folder's URL
    html: Path               # the built site
    context: Any
    sent: dict[str, int]     # bytes the server sent, per path
    refused: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)   # one per notebook run: counts and times
    sliders: int = 0                                  # sliders moved, their figure followed

    def notebooks(self) -> list[str]:
        return sorted(p.name for p in (self.html / "lite" / "files").glob("[0-9][0-9]_*.ipynb"))


class CountingHandler(QuietHandler):
    """Serves the site and adds up what it sends, per path: the web worker's requests (Pyodide,
    its packages, MNIST) too, which the browser context does not report."""

    sent: dict[str, int]

    def copyfile(self, source: Any, outputfile: Any) -> None:
        data = source.read()
        outputfile.write(data)
        path = self.path.split("?")[0]
        self.sent[path] = self.sent.get(path, 0) + len(data)


@pytest.fixture(scope="module")
def lite(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lite]:
    html = build_site(tmp_path_factory.mktemp("site"), "--lite")
    sent: dict[str, int] = {}
    with serving(html, type("Handler", (CountingHandler,), {"sent": sent})) as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        site = Lite(url + "lite/", html, context, sent)
        origin = urlsplit(url).netloc

        def route(request_route: Any) -> None:
            request = request_route.request
            if urlsplit(request.url).netloc != origin:
                site.refused.append(request.url)
                request_route.abort()
            elif request.url.split("?")[0].endswith("/jupyter-lite.json"):
                # The driver reaches the app through window.jupyterapp and reads every cell,
                # so no windowing (as in test_browser); the site keeps JupyterLab's windowing.
                response = request_route.fetch()
                config = response.json()
                data = config["jupyter-config-data"]
                data["exposeAppInBrowser"] = True
                data.setdefault("settingsOverrides", {})[
                    "@jupyterlab/notebook-extension:tracker"] = {"windowingMode": "none"}
                request_route.fulfill(response=response, body=json.dumps(config))
            else:
                request_route.continue_()

        context.route("**/*", route)
        yield site
        context.close()


class LitePages:
    """What ``NotebookDriver`` needs of a JupyterLab server and a browser, for JupyterLite:
    pages of the one shared context (closed after each notebook), nothing to log or stop."""

    def __init__(self, lite: Lite) -> None:
        self.lite, self.pages = lite, []

    def new_context(self, **_: Any) -> LitePages:
        return self

    def new_page(self) -> Any:
        self.pages.append(self.lite.context.new_page())
        return self.pages[-1]

    def close(self) -> None:
        for page in self.pages:
            page.close()
        self.pages.clear()

    def log_size(self) -> int:
        return 0

    def log(self, start: int = 0) -> str:
        return ""

    def shutdown_kernels(self) -> None:   # a kernel lives in its page
        pass


# From a ready kernel on: the page's clock (ms) when the first output of a cell reaches it.
_JS_WATCH_FIRST_OUTPUT = """() => {
  window.__firstOutput = null;
  const outputs = ['stream', 'display_data', 'execute_result', 'error'];
  window.__nb.sessionContext.iopubMessage.connect((_, msg) => {
    if (window.__firstOutput === null && outputs.includes(msg.header.msg_type)
        && msg.parent_header?.msg_type === 'execute_request') {
      window.__firstOutput = performance.now();
    }
  });
  return performance.now();
}"""


class LiteDriver(driver.NotebookDriver):
    """``NotebookDriver`` opening the notebook in JupyterLite; times, from the opening of the
    page, the kernel ready and the first output of a cell (all cells run at once when the
    kernel is ready), and the whole notebook from the ready kernel."""

    kernel_ready_s = first_output_s = run_all_s = float("nan")

    def _open(self, page: Any) -> None:
        start = time.monotonic()
        page.goto(f"{self.lab.lite.url}lab/index.html", wait_until="domcontentloaded")
        page.wait_for_function("() => window.jupyterapp !== undefined", timeout=120_000)
        self.panel = page.evaluate(driver._JS_OPEN.replace("name: 'python3'", f"name: '{KERNEL}'"),
                                   self.path)
        page.wait_for_function(driver._JS_KERNEL_READY, timeout=300_000)
        self.ready_at, self.ready_ms = time.monotonic(), page.evaluate(_JS_WATCH_FIRST_OUTPUT)
        self.kernel_ready_s = self.ready_at - start

    def _settle(self, page: Any) -> None:
        super()._settle(page)
        if self.run_all_s != self.run_all_s:   # the first settle: after running all cells
            self.run_all_s = time.monotonic() - self.ready_at
            first_ms = page.evaluate("() => window.__firstOutput")
            if first_ms is not None:
                self.first_output_s = self.kernel_ready_s + (first_ms - self.ready_ms) / 1000


def run_notebook(lite: Lite, name: str) -> tuple[driver.NotebookCheck, LiteDriver]:
    pages = LitePages(lite)
    run = LiteDriver(pages, pages, name, ARTIFACTS / Path(name).stem, run_timeout_s=900,
                     slider_timeout_s=60)
    return run.run(), run


# --------------------------------------------------------------------------- the notebooks
def cell_counts(path: Path) -> tuple[int, int]:
    """The browser edition's code cells (each one runs) and its cells shown instead of run
    because they need PyTorch (markdown cells tagged ``needs-torch``)."""
    nb = nbformat.read(path, as_version=4)
    return (sum(c.cell_type == "code" for c in nb.cells),
            sum(c.cell_type == "markdown" and needs_torch(c) for c in nb.cells))


def selected_notebooks() -> list[str]:
    """The notebooks (their browser edition has the complete one's names), or those whose
    numbers ``LITE_NOTEBOOKS`` lists ("00 01 02 03": all eight take about 25 minutes on a busy
    two-core machine, notebook 04 the longest)."""
    numbers = os.environ.get("LITE_NOTEBOOKS", "").split()
    names = sorted(p.name for p in (driver.ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    return [n for n in names if not numbers or n[:2] in numbers]


@pytest.mark.parametrize("name", selected_notebooks())
def test_notebook_runs(lite: Lite, name: str, browser_summary: Callable[[str], None]) -> None:
    """All cells of ``name`` run in the browser: no error output, every slider moves its
    figure; prints cells run and shown, the kernel-ready, first-output and whole-notebook
    times."""
    assert name in lite.notebooks(), f"the browser edition lacks {name}: {lite.notebooks()}"
    before, load = sum(lite.sent.values()), os.getloadavg()[0]
    result, run = run_notebook(lite, name)
    runs, shown = cell_counts(lite.html / "lite" / "files" / name)
    lite.sliders += len(result.latencies_ms)
    line = (f"{result.notebook}: {runs} cells run, {shown} need PyTorch (shown); from "
            f"opening: kernel ready {run.kernel_ready_s:.1f} s, first output "
            f"{run.first_output_s:.1f} s; all cells {run.run_all_s:.1f} s (load {load:.1f}); "
            f"{result.summary()}; the browser downloaded "
            f"{(sum(lite.sent.values()) - before) / 1e6:.1f} MB"
            + (" (the first notebook)" if not lite.lines else " more"))
    lite.lines.append(line)
    browser_summary(f"lite {line}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "times.txt").write_text("\n".join(lite.lines) + "\n")
    if result.notebook in SCREENSHOTS:
        (ARTIFACTS / f"{result.notebook}.png").write_bytes(
            (result.artifacts / "after_run_all.png").read_bytes())
    assert result.ok, result.failure_message()


def test_after_the_notebooks(lite: Lite) -> None:
    """No request to another host; a slider moved; MNIST fetched from the site once, by the
    first notebook that loads it (later ones read the copy in the browser's storage)."""
    assert not lite.refused, f"requests to another host: {sorted(set(lite.refused))}"
    if not lite.lines:
        pytest.skip("no notebook ran")
    assert lite.sliders, "no slider was moved (and no figure followed one)"
    fetched = {path: size for path, size in lite.sent.items() if "/mnist/" in path}
    sizes = {path: (lite.html / path.lstrip("/")).stat().st_size for path in fetched}
    assert fetched == sizes, f"MNIST sent more than once: {fetched}, files {sizes}"


def test_matplotlib_font_list_accepted(lite: Lite) -> None:
    """The site's matplotlib wheel holds a font list its matplotlib accepts (its font manager's
    version, every font of its data folder), so no first import reads the fonts again."""
    folder = lite.html / "lite" / "static" / "pyodide"
    lock = json.loads((folder / "pyodide-lock.json").read_text())
    with zipfile.ZipFile(folder / lock["packages"]["matplotlib"]["file_name"]) as wheel:
        fonts = json.loads(wheel.read("matplotlib/fontlist.json"))
        manager = wheel.read("matplotlib/font_manager.py").decode()
        files = {n.split("/mpl-data/", 1)[1] for n in wheel.namelist()
                 if "/mpl-data/fonts/" in n and n.endswith((".ttf", ".otf", ".afm"))}
    assert f"__version__ = {fonts['_version']}\n" in manager
    assert sorted(f["fname"] for f in fonts["ttflist"] + fonts["afmlist"]) == sorted(files)


# --------------------------------------------------------------------------- an exercise
def test_an_exercise_wrong_then_right(lite: Lite) -> None:
    """Notebook 01's softmax exercise in the browser: the check's verdicts."""
    pages = LitePages(lite)
    run = LiteDriver(pages, pages, EXERCISE_NOTEBOOK, ARTIFACTS / "exercise")
    page = pages.new_page()
    page.set_default_timeout(60_000)
    try:
        run._open(page)
        assert page.evaluate(driver._JS_RUN_ALL, 600)
        sources = page.evaluate("() => { const c = window.__nb.content.model.cells; return "
                                "[...Array(c.length).keys()].map(i => c.get(i).sharedModel"
                                ".getSource()); }")
        exercise = next(i for i, s in enumerate(sources) if "def softmax(" in s)
        check = exercise + 1

        def verdict(expected: str) -> str:
            page.wait_for_function(f"(i) => ({_JS_OUTPUT})(i).includes({expected!r})",
                                   arg=check, timeout=120_000)
            return page.evaluate(_JS_OUTPUT, check)

        def answer(line: str) -> None:
            page.locator(".jp-Cell").nth(exercise).locator(".cm-content").click()
            page.keyboard.press("Control+End")
            page.keyboard.press("Shift+Home")
            page.keyboard.type(line)
            assert page.evaluate(_JS_SOURCE, exercise).splitlines()[-1] == "    " + line
            page.keyboard.press("Shift+Enter")
            page.keyboard.press("Shift+Enter")

        assert "softmax: not attempted yet" in verdict("softmax: not attempted yet")
        answer(WRONG)
        assert "overflow" in verdict("softmax: not yet:")
        answer(RIGHT)
        assert verdict("softmax: correct").strip() == "softmax: correct"
    except Exception:
        driver._try_screenshot(page, ARTIFACTS / "exercise.png")
        raise
    finally:
        pages.close()


# --------------------------------------------------------------------------- the site around it
def test_the_pages_open_the_browser_edition(lite: Lite) -> None:
    """Each notebook page's "Run in your browser" link opens that notebook in JupyterLite."""
    site = lite.url.removesuffix("lite/")
    page = lite.context.new_page()
    try:
        for name in lite.notebooks():
            page.goto(site + name.replace(".ipynb", ".html"))
            link = page.locator(".dropdown-launch-buttons a", has_text="Run in your browser")
            href = link.get_attribute("href")
            assert page.evaluate("(h) => new URL(h, location.href).href", href) == (
                f"{lite.url}lab/index.html?path={name}"), href
    finally:
        page.close()


# JupyterLab's own violations, upstream (JupyterLite 0.6.4's JupyterLab 4.4), on its page only;
# the student's start page is ours, lite/index.html, and has none.
UPSTREAM = {
    # The file browser's toolbar: its jp-button elements "Upload Files" and the file filter's
    # toggle carry an ARIA attribute their role does not allow (axe: critical).
    "aria-allowed-attr": "jp-button[",
}


def axe_page(lite: Lite, path: str, ready: str) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations on ``lite/path`` once ``ready`` (JS) holds;
    written to ``test-artifacts/lite/axe-<page>.json``."""
    page = lite.context.new_page()
    try:
        page.goto(f"{lite.url}{path}", wait_until="domcontentloaded")
        page.wait_for_function(ready, timeout=120_000)
        violations = axe.axe_violations(page)
    finally:
        page.close()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = path.split("/")[0].removesuffix(".html") or "index"
    (ARTIFACTS / f"axe-{name}.json").write_text(json.dumps(violations, indent=1))
    return violations


def test_start_page_accessible(lite: Lite) -> None:
    """axe-core on the browser edition's start page (lite/index.html, what the site links to
    besides each notebook's button): no WCAG 2.1 A/AA violation, and a link to each notebook."""
    violations = axe_page(lite, "index.html", "() => document.readyState === 'complete'")
    assert not violations, "\n".join(axe.describe(violations))
    page = lite.context.new_page()
    try:
        page.goto(f"{lite.url}index.html")
        links = page.locator("main li a").evaluate_all("(a) => a.map((x) => x.href)")
    finally:
        page.close()
    assert links == [f"{lite.url}lab/index.html?path={n}" for n in lite.notebooks()], links


def test_jupyterlab_page_accessible_but_upstream(lite: Lite) -> None:
    """axe-core on JupyterLab's page in the browser edition: no violation but :data:`UPSTREAM`,
    each on JupyterLab's own elements only."""
    violations = axe_page(lite, "lab/index.html", "() => window.jupyterapp !== undefined && "
                          "document.querySelector('.jp-DirListing-item') !== null")
    ours = [v for v in violations if v["id"] not in UPSTREAM
            or not all(UPSTREAM[v["id"]] in t for t in v["targets"])]
    assert not ours, "\n".join(axe.describe(ours))
