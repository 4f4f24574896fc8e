"""The student edition: each complete notebook with its solutions replaced by nbgrader's stubs.

``python -m lecture_utils.course.editions`` (``make student``) writes
``notebooks/student/NN_x.ipynb``
for every ``notebooks/NN_x.ipynb``; ``--check`` only reports stale files (exit status 1).

Solution regions follow nbgrader's ``ClearSolutions`` exactly: a line holding
``BEGIN SOLUTION`` (written ``### BEGIN SOLUTION``) starts a region, a line holding
``END SOLUTION`` ends it, and the region becomes ``# YOUR CODE HERE`` /
``raise NotImplementedError()`` in code cells, ``YOUR ANSWER HERE`` in markdown cells,
indented like the BEGIN line. Beyond nbgrader: ``<details><summary>Solution`` blocks are
removed, and every output is cleared. Outputs are cleared in every cell, not only after the
first exercise: cells after an exercise show the reference's results, which can give an
answer away, and students run the notebook anyway (the site shows the complete edition).
The result is deterministic: the same complete notebook always gives the same bytes.

The complete edition is also nbgrader's source (``nbgrader generate_assignment`` makes our
student edition from it, cell for cell), and the same command writes its cell metadata
(``nbgrader_cells``): a code cell with a solution region is a solution cell; a markdown
answer (a Think! prompt) a manually graded answer worth ``ANSWER_POINTS``; a check cell
(``softmax = check("softmax", softmax)``) the exercise's autograded test, worth the
exercise's ``points`` (under nbgrader a check that does not say "correct" raises). The
student edition keeps that metadata, so a student's filled-in copy can be autograded.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat

__all__ = ["clear_solutions", "complete_text", "main", "nbgrader_cells", "student_notebook",
           "student_text"]

BEGIN, END = "BEGIN SOLUTION", "END SOLUTION"
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"
DETAILS_SOLUTION = re.compile(r"<details>\s*<summary>[^<]*solution.*?</details>[ \t]*\n?",
                              re.IGNORECASE | re.DOTALL)
ANSWER_POINTS = 1  # a Think! answer, graded by hand
NBGRADER_SCHEMA = 3  # the cell metadata schema of nbgrader 0.9
ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
STUDENT = NOTEBOOKS / "student"


def clear_solutions(source: str, cell_type: str) -> tuple[str, bool]:
    """``source`` with each solution region replaced by the stub; and whether there was one.

    Raises ``ValueError`` for a nested BEGIN or a region without END (nbgrader refuses both).
    """
    stub = (CODE_STUB if cell_type == "code" else TEXT_STUB).split("\n")
    lines, inside, replaced = [], False, False
    for number, line in enumerate(source.split("\n"), start=1):
        if BEGIN in line:
            if inside:
                raise ValueError(f"line {number}: nested '### {BEGIN}'")
            inside = replaced = True
            indent = line[:len(line) - len(line.lstrip())]
            lines += [indent + s for s in stub]
        elif END in line:
            inside = False
        elif not inside:
            lines.append(line)
    if inside:
        raise ValueError(f"'### {BEGIN}' without a matching '### {END}'")
    return "\n".join(lines), replaced


def _grading(solution: bool, grade_id: str, points: float | None = None,
             locked: bool = False) -> dict[str, object]:
    """One cell's nbgrader metadata (nbgrader's own keys, schema 3)."""
    meta: dict[str, object] = {"grade": points is not None, "grade_id": grade_id,
                               "locked": locked, "schema_version": NBGRADER_SCHEMA,
                               "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return meta


def nbgrader_cells(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """A copy of ``nb`` with nbgrader's metadata on its solution, answer and check cells.

    A code cell with a solution region is a solution cell named after the exercise its next
    code cell checks; a markdown cell with one a manually graded answer; a check cell an
    autograded test worth the exercise's points. Other cells carry no nbgrader metadata.
    """
    from lecture_utils.exercises import CHECK_CALL, get

    nb = copy.deepcopy(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    checked = {id(cell): CHECK_CALL.findall(following.source)
               for cell, following in itertools.pairwise(code)}
    for index, cell in enumerate(nb.cells, start=1):
        cell.metadata.pop("nbgrader", None)
        region = BEGIN in cell.source
        checks = CHECK_CALL.findall(cell.source) if cell.cell_type == "code" else []
        if region and checks:
            raise ValueError(f"{name}, cell {index}: a solution region in a check cell")
        if checks:
            cell.metadata["nbgrader"] = _grading(False, f"check_{checks[0]}",
                                                 points=get(checks[0]).points, locked=True)
        elif region and cell.cell_type == "code":
            names = checked.get(id(cell))
            grade_id = names[0] if names else f"solution_{cell.get('id', index)}"
            cell.metadata["nbgrader"] = _grading(True, grade_id)
        elif region:
            cell.metadata["nbgrader"] = _grading(True, f"answer_{cell.get('id', index)}",
                                                 points=ANSWER_POINTS)
    ids = [c.metadata.nbgrader["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
    if len(ids) != len(set(ids)):
        twice = sorted({i for i in ids if ids.count(i) > 1})
        raise ValueError(f"{name}: nbgrader's grade ids must be unique, twice: {twice}")
    return nb


def complete_text(path: Path) -> str:
    """The complete notebook at ``path`` with current nbgrader metadata, as the file's text."""
    nb = nbformat.read(path, as_version=4)
    return nbformat.writes(nbgrader_cells(nb, path.name)) + "\n"


def student_notebook(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """A copy of the complete notebook ``nb`` as the student edition (``name`` for errors).

    Its cells carry nbgrader's metadata (written afresh by :func:`nbgrader_cells`).
    """
    nb = nbgrader_cells(nb, name)
    for index, cell in enumerate(nb.cells, start=1):
        try:
            cell.source = clear_solutions(cell.source, cell.cell_type)[0]
        except ValueError as err:
            raise ValueError(f"{name}, cell {index}: {err}") from None
        if cell.cell_type == "markdown":
            source, removed = DETAILS_SOLUTION.subn("", cell.source)
            if removed:
                cell.source = re.sub(r"\n{3,}", "\n\n", source).rstrip("\n")
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("execution", None)
    for key in ("widgets", "celltoolbar"):  # widget state holds values computed by solutions
        nb.metadata.pop(key, None)
    nbformat.validate(nb)
    return nb


def student_text(path: Path) -> str:
    """The student edition of the notebook at ``path``, as the file's text."""
    nb = nbformat.read(path, as_version=4)
    return nbformat.writes(student_notebook(nb, path.name)) + "\n"


def complete_notebooks(folder: Path = NOTEBOOKS) -> list[Path]:
    """The complete edition: ``NN_topic.ipynb`` in ``folder``, in order."""
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lecture_utils.course.editions",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if notebooks/student/ or the complete "
                             "edition's nbgrader metadata is stale")
    args = parser.parse_args(argv)
    sources = complete_notebooks()
    changes = []
    for path in sources:  # the complete edition's nbgrader metadata, then the student edition
        text = complete_text(path)
        if path.read_text(encoding="utf-8") != text:
            changes.append(("nbgrader metadata stale" if args.check else "wrote", path))
            if not args.check:
                path.write_text(text, encoding="utf-8", newline="\n")
        target, text = STUDENT / path.name, student_text(path)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            changes.append(("stale" if args.check else "wrote", target))
            if not args.check:
                target.parent.mkdir(exist_ok=True)
                target.write_text(text, encoding="utf-8", newline="\n")
    orphans = sorted(set(complete_notebooks(STUDENT)) - {STUDENT / p.name for p in sources})
    for orphan in orphans:  # generated files whose complete notebook is gone
        changes.append(("no complete notebook" if args.check else "removed", orphan))
        if not args.check:
            orphan.unlink()
    for what, path in changes:
        print(f"{what}: {path.relative_to(ROOT)}")
    if args.check and changes:
        print("run `make student` to regenerate the student edition", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
