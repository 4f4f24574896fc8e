"""The static site (``make site``: site/build_site.py), served on 127.0.0.1, read in Chromium.

Every page must load without a console error or a failed request (any request to another host
is refused and counts as one: the site works offline), with no broken internal link or image,
its math typeset by the bundled MathJax (no raw ``$$`` or ``\\frac`` left in the text outside
code), as many figures as its notebook stores, and no violation of WCAG 2.1 A or AA that
axe-core finds (tests/project/axe.py). Pages with a broken image, raw math, a request to a CDN,
or an accessibility fault prove the checker. Screenshots: ``test-artifacts/site/<page>.png``;
the per-page results: ``test-artifacts/site/checks.txt``. Needs Chromium (the ``browser``
fixture of conftest.py).
"""

from __future__ import annotations

import base64
import functools
import http.server
import io
import json
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlsplit

import nbformat
import pytest
from axe import axe_version, axe_violations, describe
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from lecture_utils.course import colab

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "site"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
RAW_MATH = re.compile(r"\$\$|\\frac|\\\(")
SOLUTION = "### BEGIN SOLUTION"

# Collected in the page once MathJax has typeset it.
PAGE_FACTS_JS = """async () => {
  if (window.MathJax && MathJax.startup) { await MathJax.startup.promise; }
  const main = document.querySelector('main') || document.body;
  const copy = main.cloneNode(true);
  copy.querySelectorAll('pre, code, script, style, mjx-container').forEach(e => e.remove());
  return {
    text: copy.textContent,
    formulas: document.querySelectorAll('mjx-container').length,
    images: [...document.images].map(i => ({src: i.currentSrc || i.src, ok: i.complete &&
      i.naturalWidth > 0, alt: i.alt, figure: !!i.closest('.cell_output')})),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
    solutions: [...document.querySelectorAll('details.solution')].map(d => d.open),
    exercises: document.querySelectorAll('.admonition.exercise').length,
    sidebar: document.querySelectorAll('nav.bd-docs-nav a.reference').length,
  };
}"""


def stored_figures(path: Path) -> tuple[list[str], int]:
    """The alt text of each figure stored in the notebook at ``path`` ("" where it has none),
    and its number of solution regions."""
    nb = nbformat.read(path, as_version=4)
    alts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            mimes = [m for m in output.get("data", {}) if m.startswith("image/")]
            if mimes:
                alts.append(output.get("metadata", {}).get(mimes[0], {}).get("alt", ""))
    solutions = sum(line.strip() == SOLUTION for cell in nb.cells
                    for line in cell.source.splitlines())
    return alts, solutions


# --------------------------------------------------------------------------- server, browser
def build_site(out: Path, *args: str) -> Path:
    """``python site/build_site.py --out out ...`` (what ``make site`` runs); the html folder."""
    script = ROOT / "site" / "build_site.py"
    run = subprocess.run([sys.executable, str(script), "--out", str(out), *args],
                         capture_output=True, text=True)
    if run.returncode:
        pytest.fail(f"site/build_site.py failed:\n{run.stdout}\n{run.stderr}")
    warnings = (out / "warnings.txt").read_text().strip()
    assert not warnings, f"the site's build warns:\n{warnings}"
    return out / "html"


@contextmanager
def serving(root: Path, handler_class: type[http.server.SimpleHTTPRequestHandler] | None = None
            ) -> Iterator[str]:
    """``root`` served on a free port of 127.0.0.1 by http.server in a thread (requests handled
    by ``handler_class``, default :class:`QuietHandler`); its base URL."""
    handler = functools.partial(handler_class or QuietHandler, directory=str(root))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/"
        finally:
            server.shutdown()
            thread.join()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class Site:
    url: str    # its base URL, ending in /
    root: Path  # the folder served


@pytest.fixture(scope="module")
def site(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The site of the notebooks, built afresh and served."""
    html = build_site(tmp_path_factory.mktemp("site"))
    with serving(html) as url:
        yield Site(url, html)


# --------------------------------------------------------------------------- the checker
@dataclass
class PageCheck:
    """What one page showed, and every problem found on it."""

    name: str
    problems: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    axe: str = ""   # the version of axe-core that checked the page

    @property
    def figures(self) -> list[dict[str, Any]]:
        return [image for image in self.facts["images"] if image["figure"]]

    def line(self) -> str:
        alts = sum(bool(image["alt"]) for image in self.figures)
        return (f"{self.name}: {'ok' if not self.problems else 'FAILED'}; "
                f"{len(self.figures)} figures ({alts} with alt text), "
                f"{len(self.facts['links'])} links, {len(self.facts['solutions'])} folded "
                f"solutions, {self.facts['formulas']} formulas typeset, checked by axe-core "
                f"{self.axe}"
                + "".join(f"\n    {problem}" for problem in self.problems))


def target_exists(url: str, cache: dict[str, str | None]) -> bool:
    """Whether the internal ``url`` is served (and names an existing ``id=`` if it has a
    fragment)."""
    page, fragment = urldefrag(url)
    if page not in cache:
        try:
            with urllib.request.urlopen(page, timeout=10) as response:
                cache[page] = response.read().decode("utf-8", "replace")
        except (urllib.error.URLError, OSError):
            cache[page] = None
    text = cache[page]
    return text is not None and (not fragment or f'id="{fragment}"' in text)


def check_page(browser: Any, base: str, path: str, name: str) -> PageCheck:
    """Open ``base + path`` in a fresh page: console, requests, links, images, math, and
    axe-core's WCAG 2.1 A/AA rules in the theme's light and dark modes."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    check, cache = PageCheck(name), {}
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    origin = urlsplit(base).netloc
    axe_at_work = False  # axe fetches the style sheets again (an @import at the wrong URL)

    def problem(text: str) -> None:
        if not axe_at_work:   # the page's own requests and errors, not axe's
            check.problems.append(text)

    def route(request_route: Any) -> None:
        if urlsplit(request_route.request.url).netloc == origin:
            request_route.continue_()
        else:
            problem(f"request to another host: {request_route.request.url}")
            request_route.abort()

    page.route("**/*", route)
    page.on("console", lambda m: m.type == "error" and problem(f"console error: {m.text}"))
    page.on("pageerror", lambda e: problem(f"page error: {e}"))
    page.on("requestfailed", lambda r: urlsplit(r.url).netloc == origin and
            problem(f"failed request: {r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and problem(f"HTTP {r.status}: {r.url}"))
    pending: set[str] = set()  # requests started and neither finished nor failed
    page.on("request", lambda r: pending.add(r.url))
    page.on("requestfinished", lambda r: pending.discard(r.url))
    page.on("requestfailed", lambda r: pending.discard(r.url))
    try:
        page.goto(base + path, wait_until="load")
        check.facts = page.evaluate(PAGE_FACTS_JS)
        try:
            page.wait_for_load_state("networkidle", timeout=90_000)
        except PlaywrightTimeoutError:  # on a loaded machine idle may come late: what is open?
            check.problems.extend(f"request never finished: {url}" for url in sorted(pending))
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
        axe_at_work = True
        violations = describe(axe_violations(page))
        page.emulate_media(color_scheme="dark")   # the theme follows the reader's setting
        page.wait_for_function("document.documentElement.dataset.theme === 'dark' && "
                               "document.getAnimations().every(a => !(a instanceof CSSTransition))")
        violations += [f"dark mode: {line}" for line in describe(axe_violations(page))]
        check.axe = axe_version(page)
    finally:
        page.close()
    check.problems.extend(violations)
    for image in check.facts["images"]:
        if not image["ok"]:
            check.problems.append(f"broken image: {image['src']}")
    for link in sorted(set(check.facts["links"])):
        if urlsplit(link).netloc != origin:
            continue
        if link.startswith(base + path + "#"):  # "#" alone is a button's link: the top
            if urldefrag(link).fragment not in ["", *check.facts["ids"]]:
                check.problems.append(f"broken internal link: {link}")
        elif not target_exists(link, cache):
            check.problems.append(f"broken internal link: {link}")
    raw = sorted(set(RAW_MATH.findall(check.facts["text"])))
    if raw:
        check.problems.append(f"raw math left on the page: {' '.join(raw)}")
    return check


@pytest.fixture(scope="module")
def checks() -> Iterator[list[PageCheck]]:
    """The checked pages, written to test-artifacts/site/checks.txt at the end."""
    done: list[PageCheck] = []
    yield done
    if done:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "checks.txt").write_text("\n".join(c.line() for c in done) + "\n")


# --------------------------------------------------------------------------- the site
def test_start_page(site: Site, browser: Any, checks: list[PageCheck]) -> None:
    check = check_page(browser, site.url, "index.html", "index")
    checks.append(check)
    assert not check.problems, check.line()
    assert check.facts["sidebar"] == len(NOTEBOOKS), "the sidebar lists every notebook"
    for notebook in NOTEBOOKS:   # the map of slides links every notebook's page
        assert site.url + f"{notebook.stem}.html" in check.facts["links"], notebook.stem


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_notebook_page(notebook: Path, site: Site, browser: Any,
                       checks: list[PageCheck]) -> None:
    check = check_page(browser, site.url, f"{notebook.stem}.html", notebook.stem)
    checks.append(check)
    assert not check.problems, check.line()
    alts, solutions = stored_figures(notebook)
    assert len(check.figures) == len(alts), f"{notebook.name} stores {len(alts)} figures"
    assert [image["alt"] for image in check.figures] == alts, "each figure's stored alt text"
    assert check.facts["solutions"] == [False] * solutions, "every solution folded away"
    student = f"notebooks/student/{notebook.name}"
    assert (ROOT / student).exists(), f"the launch buttons open {student}: missing"
    links = check.facts["links"]   # the student edition at the ref the Colab cell installs
    assert any(link.startswith("https://mybinder.org/v2/gh/") and
               link.endswith(f"/{colab.REF}?urlpath=lab/tree/{student}") for link in links)
    assert any(link.startswith("https://colab.research.google.com/github/")
               and link.endswith(f"/blob/{colab.REF}/{student}") for link in links)
    assert site.url + f"_sources/{notebook.name}" in links, "a download link for the notebook"


def test_search_finds_a_page(site: Site, browser: Any) -> None:
    page = browser.new_page()
    try:
        page.goto(site.url + "search.html?q=momentum")
        page.wait_for_selector("#search-results ul.search li", timeout=15_000)
        hits = page.eval_on_selector_all("#search-results ul.search li a", "a => a.length")
    finally:
        page.close()
    assert hits > 0


# --------------------------------------------------------------------------- the checker fails
@pytest.mark.parametrize(("name", "edit", "problem"), [
    pytest.param("broken_image", lambda html: re.sub(r'(<img[^>]*src=")[^"]*',
                                                     r"\1_images/missing.png", html, count=1),
                 "broken image", id="broken-image"),
    pytest.param("raw_math", lambda html: re.sub(r'<script[^>]*src="[^"]*mathjax[^>]*></script>',
                                                 "", html),
                 "raw math left on the page", id="math-not-typeset"),
    pytest.param("cdn_script", lambda html: html.replace(
        "</head>", '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js">'
        "</script></head>", 1), "request to another host", id="cdn-request"),
    pytest.param("search_label", lambda html: html.replace(
        'class="btn search-button-field search-button__button pst-js-only" title="Search"',
        'class="btn search-button-field search-button__button pst-js-only" title="Search" '
        'aria-label="Search"'), "axe label-content-name-mismatch", id="theme-search-button"),
    pytest.param("image_alt", lambda html: re.sub(r'<img alt="[^"]*" (src="_images/)', r"<img \1",
                                                  html, count=1),
                 "axe image-alt", id="figure-without-alt"),
    pytest.param("dark_contrast", lambda html: html.replace(   # light text on it in the dark mode
        "</head>", "<style>.admonition-title { background: #e8f5e9 !important; }</style></head>",
        1), "dark mode: axe color-contrast", id="dark-mode-contrast"),
])
def test_checker_fails_a_bad_page(name: str, edit: Any, problem: str, site: Site,
                                  browser: Any) -> None:
    """A copy of a built page with one fault: the checker must name it."""
    source = next(n for n in NOTEBOOKS if stored_figures(n)[0])  # one with figures
    html = (site.root / f"{source.stem}.html").read_text()
    bad = edit(html)
    assert bad != html
    (site.root / f"bad_{name}.html").write_text(bad)
    check = check_page(browser, site.url, f"bad_{name}.html", f"bad_{name}")
    assert any(p.startswith(problem) for p in check.problems), check.line()


# --------------------------------------------------------------------------- exercises, figures
def png(colour: str) -> str:
    """A small PNG, base64-encoded as a notebook stores it."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


FIXTURE_README = """# A fixture site

One notebook with every kind of cell the site prepares.

## The notebooks and the slides

| notebook | slides of the lecture |
| --- | --- |
| [01_fixture](notebooks/01_fixture.ipynb) | The first slide |

[repository]: https://github.com/example-org/example-repo
"""


def fixture_notebook() -> nbformat.NotebookNode:
    """Math, a markdown and a code exercise, a widget with its static copy (with alt text)."""
    widget = new_output("execute_result", execution_count=3, data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2,
                                                      "version_minor": 0},
        "text/plain": "interactive(children=(FloatSlider(value=0.25),))"})
    static = new_output("display_data", data={"image/png": png("navy"), "text/plain": "<Figure>"},
                        metadata={"image/png": {"alt": "A navy rectangle, the static copy"}})
    plain = new_output("display_data", data={"image/png": png("orange"),
                                             "text/plain": "<Figure>"})
    return new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python",
                                                 "display_name": "Python 3"},
                                  "language_info": {"name": "python"}}, cells=[
        new_markdown_cell("# 01 · A fixture\n\n[![Open in Colab](https://colab.research.google"
                          ".com/assets/colab-badge.svg)](https://colab.research.google.com/github/"
                          "example-org/example-repo/blob/main/notebooks/student/01_fixture.ipynb)"
                          "\n\nInline $\\frac{a}{b}$ and displayed\n\n"
                          "$$\n\\sum_i x_i^2\n$$"),
        new_markdown_cell("Why square?\n### BEGIN SOLUTION\nThe hidden answer is 42.\n"
                          "### END SOLUTION"),
        new_code_cell('def square(x):\n    """x squared."""\n    ### BEGIN SOLUTION\n'
                      "    return x * x\n    ### END SOLUTION\n\n\nprint(square(3))",
                      outputs=[new_output("stream", name="stdout", text="9\n")]),
        new_code_cell("explorer()", outputs=[widget]),
        new_code_cell("static_copy()", outputs=[static]),
        new_code_cell("plot()", outputs=[plain]),
    ])


def test_exercises_folded_and_figures_described(browser: Any,
                                                tmp_path_factory: pytest.TempPathFactory) -> None:
    """A solution is folded away until the reader opens it; alt text and widget note shown."""
    folder = tmp_path_factory.mktemp("fixture")
    (folder / "notebooks").mkdir()
    nbformat.write(fixture_notebook(), folder / "notebooks" / "01_fixture.ipynb")
    (folder / "README.md").write_text(FIXTURE_README)
    out = folder / "site"
    html = build_site(out, "--notebooks", str(folder / "notebooks"),
                      "--readme", str(folder / "README.md"))
    report = json.loads((out / "report.json").read_text())["pages"]
    assert report == [{"notebook": "01_fixture", "figures": 2, "figures_without_alt": 1,
                       "widgets": 1, "widgets_without_static_copy": 0, "exercises": 1,
                       "solutions": 2}]
    with serving(html) as url:
        check = check_page(browser, url, "01_fixture.html", "fixture")
        assert not check.problems, check.line()
        assert [i["alt"] for i in check.figures] == ["A navy rectangle, the static copy", ""]
        assert check.facts["solutions"] == [False, False]
        assert check.facts["exercises"] == 1
        page = browser.new_page()
        try:
            page.goto(url + "01_fixture.html")
            assert page.get_by_text("launch the notebook").is_visible()
            assert page.get_by_text("print(square(3))").is_visible()
            for hidden in ("The hidden answer is 42.", "return x * x"):
                assert not page.get_by_text(hidden).is_visible()
            for summary in page.locator("details.solution > summary").all():
                summary.click()
            for hidden in ("The hidden answer is 42.", "return x * x"):
                assert page.get_by_text(hidden).is_visible()
            assert page.get_by_role("link", name="Open in Colab").is_visible()  # the badge
            launch = page.locator(".dropdown-launch-buttons a", has_text="Colab")
            assert launch.get_attribute("href") == (
                "https://colab.research.google.com/github/example-org/example-repo/blob/"
                f"{colab.REF}/notebooks/student/01_fixture.ipynb")
        finally:
            page.close()
