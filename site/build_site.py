"""Build the static site of the notebooks (``make site``): Sphinx, myst-nb, sphinx-book-theme.

The complete edition (``notebooks/NN_topic.ipynb``) is rendered with its stored outputs, nothing
is executed. Each notebook is first copied into the Sphinx source folder and prepared for a
page without a kernel:

- an exercise (a code cell holding ``### BEGIN SOLUTION`` / ``### END SOLUTION``) becomes an
  "Exercise" box that shows the code around the solution and folds the solution away in a
  ``<details>`` element; a markdown solution region is folded the same way;
- a widget view (nothing to show without a kernel) becomes a one-line note; the notebook's
  static copy of the figure, stored after it, is what the page shows;
- the Colab setup cell is left out, and the launch badges become text links (the page's own
  buttons open the student edition, at the git ref the Colab cell installs).

The start page holds the README's map of slides to notebooks; the pages follow the notebooks'
numbers. With ``--lite`` (``make site``) the site also holds the browser edition, JupyterLite in
``lite/`` (``site/lite.py``), and each page a "Run in your browser" button that opens the page's
notebook there. ``python site/build_site.py [--out FOLDER] [--notebooks FOLDER] [--readme FILE]
[--lite]``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from lecture_utils.course import colab

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "site"
DEFAULT_OUT = ROOT / "build" / "site"

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = ('<p class="widget-note">An interactive figure: launch the notebook (Binder or '
               "Colab, at the top of the page) to move its sliders.</p>")
SOLUTION_OPEN = '<details class="solution">\n<summary>Solution</summary>'
SOLUTION_CLOSE = "</details>"
MAP_HEADING = "## The notebooks and the slides"


# --------------------------------------------------------------------------- notebooks
def lecture_notebooks(folder: Path) -> list[Path]:
    """The notebooks ``NN_topic.ipynb`` of ``folder``, in the lecture's order."""
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


def image_outputs(nb: nbformat.NotebookNode) -> Iterator[tuple[dict, str]]:
    """Each stored figure of ``nb`` (an output with an image) with its image MIME type."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            mimes = [m for m in output.get("data", {}) if m.startswith("image/")]
            if mimes:
                yield output, mimes[0]


def alt_text(output: dict, mime: str) -> str:
    """The figure's text description: output metadata ``{mime: {"alt": ...}}``, as
    ``IPython.display.Image(alt=...)`` stores it; "" when it has none."""
    return str(output.get("metadata", {}).get(mime, {}).get("alt", "")).strip()


def solution_count(source: str) -> int:
    """How many solution regions ``source`` holds (a ``### BEGIN SOLUTION`` line each)."""
    return sum(line.strip() == BEGIN for line in source.splitlines())


def solution_parts(source: str) -> list[tuple[bool, str]]:
    """``source`` split into (is_solution, text) parts at the solution delimiters."""
    parts: list[tuple[bool, list[str]]] = [(False, [])]
    for line in source.splitlines():
        marker = line.strip()
        if marker in (BEGIN, END):
            parts.append((marker == BEGIN, []))
        else:
            parts[-1][1].append(line)
    return [(solution, "\n".join(lines).strip("\n")) for solution, lines in parts
            if any(line.strip() for line in lines)]


def fenced(code: str) -> str:
    return f"```python\n{code}\n```"


def exercise_markdown(source: str) -> str:
    """An "Exercise" box: the cell's code, each solution region folded away."""
    blocks = [f"{SOLUTION_OPEN}\n\n{fenced(text)}\n\n{SOLUTION_CLOSE}" if solution
              else fenced(text) for solution, text in solution_parts(source)]
    body = "\n\n".join(blocks)
    return f"````{{admonition}} Exercise\n:class: exercise\n\n{body}\n````"


def fold_markdown_solutions(source: str) -> str:
    """A markdown cell with each solution region folded away."""
    return "\n".join(f"\n{SOLUTION_OPEN}\n" if line.strip() == BEGIN
                     else f"\n{SOLUTION_CLOSE}\n" if line.strip() == END else line
                     for line in source.splitlines())


@dataclass
class PageStats:
    """What a page is built from: counted in the notebook, checked on the page by the test."""

    notebook: str
    figures: int = 0
    figures_without_alt: int = 0
    widgets: int = 0
    widgets_without_static_copy: int = 0
    exercises: int = 0
    solutions: int = 0


def widget_has_static_copy(nb: nbformat.NotebookNode, index: int) -> bool:
    """Whether a figure follows the widget of cell ``index``, in it or in the next code cell."""
    cell = nb.cells[index]
    after = next((c for c in nb.cells[index + 1:] if c.cell_type == "code"), None)
    outputs = [o for o in cell.outputs if WIDGET_VIEW not in o.get("data", {})]
    outputs += after.outputs if after is not None else []
    return any(m.startswith("image/") for o in outputs for m in o.get("data", {}))


def site_notebook(nb: nbformat.NotebookNode, name: str) -> tuple[nbformat.NotebookNode,
                                                                   PageStats]:
    """A copy of ``nb`` prepared for a static page, and what the page must show."""
    stats = PageStats(name)
    for output, mime in image_outputs(nb):
        stats.figures += 1
        stats.figures_without_alt += not alt_text(output, mime)
    cells = []
    for index, cell in enumerate(nb.cells):
        cell = nbformat.from_dict(cell)
        solutions = solution_count(cell.source)
        stats.solutions += solutions
        if colab.TAG in cell.metadata.get("tags", []):
            cell.metadata.tags.append("remove-cell")
        if cell.cell_type == "markdown":
            cell.source = offline_badges(cell.source)
        if cell.cell_type == "markdown" and solutions:
            cell.source = fold_markdown_solutions(cell.source)
        elif cell.cell_type == "code" and solutions:
            stats.exercises += 1
            box = nbformat.v4.new_markdown_cell(exercise_markdown(cell.source))
            box.id = f"{cell.get('id', index)}"[:55] + "-exercise"  # ids: at most 64 characters
            cells.append(box)
            cell.metadata.setdefault("tags", []).append("remove-input")
        if cell.cell_type == "code":
            for output in cell.outputs:
                if WIDGET_VIEW in output.get("data", {}):
                    stats.widgets += 1
                    stats.widgets_without_static_copy += not widget_has_static_copy(nb, index)
                    output.data = {"text/html": WIDGET_NOTE}
        cells.append(cell)
    copy = nbformat.from_dict(nb)
    copy.cells = cells
    copy.metadata.pop("widgets", None)
    return copy, stats


# --------------------------------------------------------------------------- start page
def repository_url(readme: str) -> str:
    """The README's ``[repository]: URL`` link definition."""
    match = re.search(r"^\[repository\]:\s*(\S+)", readme, re.MULTILINE)
    if not match:
        raise ValueError("README.md needs a link definition '[repository]: https://github.com/...'")
    return match.group(1)


def offline_badges(markdown: str) -> str:
    """``markdown`` with each image from another host (a badge) as its text: a site page
    loads nothing from elsewhere. A linked badge stays a link."""
    markdown = re.sub(r"\[!\[([^\]]*)\]\(https?://[^)]*\)\]\(([^)]*)\)", r"[\1](\2)", markdown)
    return re.sub(r"!\[([^\]]*)\]\(https?://[^)]*\)", r"\1", markdown)


def slide_map(readme: str, names: list[str]) -> str:
    """The README's table of notebooks and slides, linked to the pages (badges as text links);
    rows of notebooks not on the site are left out."""
    lines = readme.split(MAP_HEADING, 1)[-1].strip().splitlines() if MAP_HEADING in readme else []
    table = []
    for line in lines:
        if not line.startswith("|"):
            break
        link = re.search(r"\]\((?:notebooks/)?([^)/]+)\.ipynb\)", line)
        if link and link.group(1) not in names:
            continue
        table.append(re.sub(r"\]\((?:notebooks/)?([^)/]+\.ipynb)\)", r"](\1)",
                            offline_badges(line)))
    return "\n".join(table)


def start_page(readme: str, names: list[str]) -> str:
    """``index.md``: the README's title and first paragraph, the slide map, the page order."""
    blocks = readme.split("\n\n")
    title = next(b for b in blocks if b.startswith("# ")).strip()
    intro = next(b for b in blocks if b.strip() and not b.startswith(("#", "[", "!")))
    toctree = "\n".join(["```{toctree}", ":hidden:", ":maxdepth: 1", "", *names, "```"])
    return "\n\n".join([
        title, intro.strip(),
        "Every page is a notebook of the complete edition with its stored figures. The buttons "
        "at the top of a page open the student edition on Binder or Colab, or download the "
        "notebook.",
        "## The notebooks and the slides", slide_map(readme, names), toctree, ""])


# --------------------------------------------------------------------------- build
@dataclass
class Report:
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    pages: list[PageStats] = field(default_factory=list)


def write_sources(notebooks: list[Path], readme: str, src: Path) -> list[PageStats]:
    """The Sphinx source folder: ``index.md`` and the prepared notebooks."""
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    pages = []
    for path in notebooks:
        copy, stats = site_notebook(nbformat.read(path, as_version=4), path.stem)
        nbformat.write(copy, src / path.name)
        pages.append(stats)
    (src / "index.md").write_text(start_page(readme, [p.stem for p in notebooks]))
    return pages


def browser_edition(folder: Path) -> Path:
    """``folder`` filled with the browser edition of the notebooks (made from the student edition
    by ``python -m lecture_utils.course.browser_edition``)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    subprocess.run([sys.executable, "-m", "lecture_utils.course.browser_edition", str(folder)],
                   check=True, stdout=subprocess.DEVNULL)
    if not lecture_notebooks(folder):
        raise FileNotFoundError(f"the browser edition wrote no notebooks NN_topic.ipynb into "
                                f"{folder}")
    for path in lecture_notebooks(folder):   # the badges as links: nothing from another host
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = offline_badges(cell.source)
        nbformat.write(nb, path)
    return folder


def build(out: Path = DEFAULT_OUT, notebooks_dir: Path = ROOT / "notebooks",
          readme_path: Path = ROOT / "README.md", lite: bool = False) -> Report:
    """Build ``out/html`` from the notebooks of ``notebooks_dir``; the report says what it made.

    ``lite``: also the browser edition into ``out/html/lite`` (``site/lite.py``)."""
    start = time.perf_counter()
    notebooks = lecture_notebooks(notebooks_dir)
    if not notebooks:
        raise FileNotFoundError(f"no notebooks NN_topic.ipynb in {notebooks_dir}")
    readme = readme_path.read_text(encoding="utf-8")
    src, html, warnings = out / "src", out / "html", out / "warnings.txt"
    report = Report(pages=write_sources(notebooks, readme, src))
    for stale in (html, out / "doctrees"):   # a clean build: it takes seconds
        shutil.rmtree(stale, ignore_errors=True)
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-c", str(SITE),
               "-d", str(out / "doctrees"), "-w", str(warnings),
               "-D", f"html_theme_options.repository_url={repository_url(readme)}",
               "-D", f"html_theme_options.repository_branch={colab.REF}",
               *(["-D", "browser_edition=1"] if lite else []),
               str(src), str(html)]
    subprocess.run(command, check=True)
    # The download button offers the notebook itself, not the prepared copy.
    for path in notebooks:
        shutil.copy2(path, html / "_sources" / path.name)
    if lite:
        from lite import build_lite  # site/, beside this script

        build_lite(html, browser_edition(out / "browser-edition"), out / "lite-build")
    report.warnings = warnings.read_text().splitlines()
    report.seconds = time.perf_counter() - start
    (out / "report.json").write_text(json.dumps(asdict(report), indent=1))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    parser.add_argument("--lite", action="store_true",
                        help="also build the browser edition (JupyterLite) into lite/")
    args = parser.parse_args(argv)
    report = build(args.out, args.notebooks, args.readme, lite=args.lite)
    for line in report.warnings:
        print(line, file=sys.stderr)
    for page in report.pages:
        print(f"{page.notebook}: {page.figures} figures ({page.figures_without_alt} without "
              f"alt text), {page.widgets} widgets ({page.widgets_without_static_copy} without "
              f"a static copy), {page.exercises} exercises, {page.solutions} solutions folded")
    print(f"site built in {report.seconds:.1f} s: {args.out / 'html'}/index.html "
          f"({len(report.warnings)} warnings)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
