"""The browser edition: the student edition, with each cell that needs PyTorch shown, not run.

``python -m lecture_utils.course.browser_edition OUT_DIR`` writes ``OUT_DIR/NN_x.ipynb`` for
every complete notebook ``notebooks/NN_x.ipynb``: its student edition
(:func:`lecture_utils.course.editions.student_notebook`) for JupyterLite's Pyodide kernel, which
runs numpy, matplotlib and ipywidgets in the page but has no torch (PyTorch does not exist for
WebAssembly). A code cell tagged ``needs-torch`` becomes a markdown cell: one line saying so,
the cell's code, and what it shows on Binder, Colab or a laptop (the complete edition's stored
output: text, and figures as attachments). Run All passes over it, and no later cell needs what
it computes (``tests/course/test_browser_edition.py`` runs the edition without torch). Every
other cell is the student edition's. The same complete notebook always gives the same bytes,
and a browser-edition notebook passed through again is unchanged.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat

from lecture_utils.course.editions import complete_notebooks, student_notebook

__all__ = ["NOTICE", "TAG", "browser_notebook", "header_line", "main", "needs_torch",
           "shown_instead", "torch_cells_shown"]

#: The cell tag of a code cell that needs torch (``metadata.tags`` of the complete edition).
TAG = "needs-torch"
#: The one line a torch cell shows in the browser edition.
NOTICE = ("**This cell needs PyTorch**, which does not exist for WebAssembly: run it on Binder, "
          "Colab or a laptop. Here is its code, and what it shows there.")
#: How the header line on the torch cells starts (``scripts/sync_notebook_headers.py``).
HEADER_START = "In the browser edition"
WIDGET = "application/vnd.jupyter.widget-view+json"


def needs_torch(cell: nbformat.NotebookNode) -> bool:
    """Whether ``cell`` is tagged ``needs-torch``."""
    return TAG in cell.get("metadata", {}).get("tags", [])


def _fenced(text: str, language: str = "") -> str:
    """``text`` as a fenced block, the fence longer than any run of backticks inside."""
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def shown_instead(cell: nbformat.NotebookNode,
                  outputs: Sequence[nbformat.NotebookNode]) -> nbformat.NotebookNode:
    """The markdown cell that stands for the torch code cell ``cell`` in the browser edition.

    :data:`NOTICE`, the code, then ``outputs`` (the complete edition's): printed text and
    values as text blocks, figures as attachments with their alt text; a widget as a line
    saying so (it needs its kernel). The cell keeps its id and tags.
    """
    parts, attachments, text = [NOTICE, _fenced(cell.source, "python")], {}, []

    def flush() -> None:
        if text:
            parts.append(_fenced("".join(text)))
            text.clear()

    for output in outputs:
        if output.output_type == "stream":
            text.append(output.text)
            continue
        data = output.get("data", {})
        if "image/png" in data:
            flush()
            name = f"figure-{len(attachments) + 1}.png"
            attachments[name] = {"image/png": data["image/png"]}
            alt = output.get("metadata", {}).get("image/png", {}).get("alt", "a figure")
            parts.append(f"![{' '.join(alt.split())}](attachment:{name})")
        elif WIDGET in data:
            flush()
            parts.append("*(an interactive figure: its controls need the cell's kernel)*")
        elif "text/plain" in data:
            text.append(data["text/plain"].rstrip("\n") + "\n")
    flush()
    markdown = nbformat.v4.new_markdown_cell("\n\n".join(parts),
                                             metadata={"tags": list(cell.metadata.tags)})
    markdown.id = cell.id
    if attachments:
        markdown.attachments = attachments
    return markdown


def torch_cells_shown(nb: nbformat.NotebookNode,
                      outputs: dict[str, Sequence[nbformat.NotebookNode]]
                      ) -> nbformat.NotebookNode:
    """``nb`` with each ``needs-torch`` code cell replaced by :func:`shown_instead`, with
    ``outputs[cell id]``; every other cell as it is (so done twice, it changes nothing more)."""
    cells = [shown_instead(c, outputs.get(c.id, [])) if c.cell_type == "code" and needs_torch(c)
             else c for c in nb.cells]
    return nbformat.from_dict({**nb, "cells": cells})


def browser_notebook(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """The browser edition of the complete notebook ``nb`` (``name`` for errors): its student
    edition with the torch cells shown (:func:`torch_cells_shown`) as the complete one has run
    them."""
    outputs = {c.id: c.outputs for c in nb.cells if c.cell_type == "code"}
    browser = torch_cells_shown(student_notebook(nb, name), outputs)
    nbformat.validate(browser)
    return browser


def header_line(nb: nbformat.NotebookNode) -> str:
    """The header's line on what the browser edition cannot run: how many cells, in which
    sections (the ``## `` headings above them, without their ⏱ time)."""
    section, sections, count = "the introduction", [], 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            heading = re.search(r"^## +(.+?)\s*$", cell.source, re.MULTILINE)
            section = re.sub(r"\s*⏱.*", "", heading.group(1)) if heading else section
        if needs_torch(cell):
            count += 1
            if section not in sections:
                sections.append(section)
    if not count:
        return f"{HEADER_START} (in the page, nothing installed) every cell runs."
    where = ", ".join(f"“{s}”" for s in sections)
    cells, its, them = (("1 cell needs", "its", "it") if count == 1
                        else (f"{count} cells need", "their", "them"))
    return (f"{HEADER_START} (in the page, nothing installed) {cells} PyTorch (section"
            f"{'s' if len(sections) > 1 else ''} {where}): it shows {its} code and output; "
            f"run {them} on Binder, Colab or a laptop.")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lecture_utils.course.browser_edition",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="folder to write the notebooks into")
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for path in complete_notebooks():
        nb = browser_notebook(nbformat.read(path, as_version=4), path.name)
        target = args.out_dir / path.name
        target.write_text(nbformat.writes(nb) + "\n", encoding="utf-8", newline="\n")
        torch_cells = sum(needs_torch(c) for c in nb.cells)
        runs = sum(c.cell_type == "code" for c in nb.cells)
        print(f"wrote {target.name}: {runs} code cells run, {torch_cells} shown (need PyTorch)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
