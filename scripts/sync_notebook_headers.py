"""Write each notebook's header: the Colab setup cell first, the launch badges in the title.

    python scripts/sync_notebook_headers.py [--check] [NOTEBOOK ...]

Without arguments: every notebook of both editions (notebooks/*.ipynb, notebooks/student/*.ipynb).
The setup cell (text from :func:`lecture_utils.course.colab.cell_source`, tagged ``colab-setup``)
follows the title cell (the first markdown cell), so it is the first code cell; the title gets,
under its heading, one line of badges opening the student edition of that notebook on Colab
(at ``lecture_utils.course.colab.REF``, the ref the cell installs) and on Binder, then a line on
the cells the browser edition cannot run (they need PyTorch: tagged ``needs-torch``; written by
:func:`lecture_utils.course.browser_edition.header_line`). The repository is
the
``[repository]`` link of README.md. Running it twice changes nothing; ``--check`` changes
nothing and exits 1 when a notebook is not in sync.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

from lecture_utils.course import browser_edition, colab

ROOT = Path(__file__).resolve().parent.parent
BADGE_MARK = "colab-badge.svg"


def repository(readme: Path = ROOT / "README.md") -> str:
    """``owner/name`` of the README's ``[repository]: https://github.com/owner/name`` link."""
    match = re.search(r"^\[repository\]: https://github\.com/([\w.-]+/[\w.-]+)$",
                      readme.read_text(), re.M)
    if not match:
        raise SystemExit(f"{readme.name} has no [repository]: https://github.com/... link")
    return match.group(1)


def badges(repo: str, name: str) -> str:
    """The badge line for notebook file ``name``: its student edition on Colab and Binder."""
    colab_url = (f"https://colab.research.google.com/github/{repo}/blob/{colab.REF}"
                 f"/notebooks/student/{name}")
    binder_url = (f"https://mybinder.org/v2/gh/{repo}/HEAD"
                  f"?urlpath=lab/tree/notebooks/student/{name}")
    return (f"[![Open In Colab](https://colab.research.google.com/assets/{BADGE_MARK})]"
            f"({colab_url}) [![Launch on Binder](https://mybinder.org/badge_logo.svg)]"
            f"({binder_url})")


def with_badges(title: str, line: str) -> str:
    """The title cell's text with ``line`` as the line after its heading (replacing old badges)."""
    lines = [x for x in title.split("\n") if BADGE_MARK not in x]
    heading = next((i for i, x in enumerate(lines) if x.startswith("# ")), -1)
    return "\n".join([*lines[:heading + 1], line, *lines[heading + 1:]])


def with_browser_line(title: str, line: str) -> str:
    """The title cell's text with ``line`` as a paragraph after the badges (replacing the old)."""
    lines = title.split("\n")
    for i in reversed(range(len(lines))):
        if lines[i].startswith(browser_edition.HEADER_START):
            del lines[i - 1 if i > 0 and not lines[i - 1].strip() else i:i + 1]
    badge = next((i for i, x in enumerate(lines) if BADGE_MARK in x), 0)
    return "\n".join([*lines[:badge + 1], "", line, *lines[badge + 1:]])


def sync(nb: nbformat.NotebookNode, repo: str, name: str) -> nbformat.NotebookNode:
    """``nb`` with the badges in its title cell and the setup cell right after it."""
    source = colab.cell_source(f"https://github.com/{repo}")
    old = [c for c in nb.cells if colab.TAG in c.metadata.get("tags", [])]
    cells = [c for c in nb.cells if colab.TAG not in c.metadata.get("tags", [])]
    # An executed setup cell of the same text keeps its execution count (make outputs ran it).
    setup = old[0] if len(old) == 1 and old[0].source == source else nbformat.v4.new_code_cell(
        source, metadata={"tags": [colab.TAG]})
    setup.id = colab.TAG
    title = next((i for i, c in enumerate(cells) if c.cell_type == "markdown"), None)
    if title is not None:
        cells[title].source = with_browser_line(
            with_badges(cells[title].source, badges(repo, name)), browser_edition.header_line(nb))
    cells.insert(0 if title is None else title + 1, setup)
    nb.cells = cells
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted([*ROOT.glob("notebooks/*.ipynb"),
                                      *ROOT.glob("notebooks/student/*.ipynb")])
    repo, stale = repository(), []
    for path in paths:
        before = path.read_text()
        nb = sync(nbformat.reads(before, as_version=4), repo, path.name)
        after = nbformat.writes(nb) + "\n"
        if after != before:
            stale.append(path)
            if not args.check:
                path.write_text(after)
    verb = "not in sync" if args.check else "updated"
    for path in stale:
        shown = path.resolve()
        print(f"{verb}: {shown.relative_to(ROOT) if shown.is_relative_to(ROOT) else path}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
