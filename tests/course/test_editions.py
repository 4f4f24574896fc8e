"""The student edition (``make student``): current, nbgrader's stubs, compiles, leaks nothing."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from project_scripts import script
from student_edition_checks import assert_student_outputs, checked_exercises, output_text

from lecture_utils.course import editions
from lecture_utils.course.editions import (
    STUDENT,
    clear_solutions,
    complete_notebooks,
    student_notebook,
)
from lecture_utils.exercises import verdicts

executor = script("execute_notebooks")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FIXTURE = FIXTURES / "exercise_fixture.ipynb"
COMPLETE = complete_notebooks()
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"


def _student_editions() -> list[tuple[str, nbformat.NotebookNode]]:
    committed = [(p.name, nbformat.read(p, as_version=4))
                 for p in sorted(STUDENT.glob("[0-9][0-9]_*.ipynb"))]
    fixture = nbformat.read(FIXTURE, as_version=4)
    return [*committed, (FIXTURE.name, student_notebook(fixture))]


STUDENT_EDITIONS = _student_editions()
STUDENT_IDS = [name for name, _ in STUDENT_EDITIONS]


# --------------------------------------------------------------------------- current, deterministic
@pytest.mark.parametrize("path", COMPLETE, ids=[p.name for p in COMPLETE])
def test_the_committed_student_edition_is_current(path: Path) -> None:
    target = STUDENT / path.name
    fix = "run `make student` and commit notebooks/student/"
    assert target.exists(), f"{target.name} has no student edition: {fix}"
    assert target.read_text(encoding="utf-8") == editions.student_text(path), (
        f"notebooks/student/{path.name} is stale: {fix}")


def test_no_student_notebook_without_a_complete_one() -> None:
    extra = {p.name for p in STUDENT.glob("*.ipynb")} - {p.name for p in COMPLETE}
    assert not extra, f"{sorted(extra)} have no complete notebook: run `make student`"


def test_generation_is_deterministic_and_leaves_the_source_alone() -> None:
    nb = nbformat.read(FIXTURE, as_version=4)
    before = copy.deepcopy(nb)
    assert nbformat.writes(student_notebook(nb)) == nbformat.writes(student_notebook(nb))
    assert nb == before
    assert editions.student_text(FIXTURE) == editions.student_text(FIXTURE)


def test_check_mode_reports_a_current_edition(capsys: pytest.CaptureFixture[str]) -> None:
    assert editions.main(["--check"]) == 0, capsys.readouterr()


# --------------------------------------------------------------------------- nbgrader's stubs
def test_a_stub_is_indented_like_its_begin_line() -> None:
    source = ("def f(x):\n    \"\"\"Doc.\"\"\"\n    ### BEGIN SOLUTION\n    y = 2 * x\n"
              "    return y\n    ### END SOLUTION\n\nprint(f)")
    stubbed, replaced = clear_solutions(source, "code")
    assert replaced
    assert stubbed == ("def f(x):\n    \"\"\"Doc.\"\"\"\n    # YOUR CODE HERE\n"
                       "    raise NotImplementedError()\n\nprint(f)")
    assert clear_solutions("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", "code") == (STUB, True)
    assert clear_solutions("no region", "code") == ("no region", False)


def test_two_regions_and_a_markdown_answer() -> None:
    region = "### BEGIN SOLUTION\nb = 2\n### END SOLUTION"
    code = f"a = 1\n{region}\n{region}"
    assert clear_solutions(code, "code")[0] == f"a = 1\n{STUB}\n{STUB}"
    text = "**Think!** Why?\n\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION"
    assert clear_solutions(text, "markdown")[0] == "**Think!** Why?\n\nYOUR ANSWER HERE"


@pytest.mark.parametrize(("source", "message"), [
    ("### BEGIN SOLUTION\nx = 1", "without a matching"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "nested"),
])
def test_broken_regions_are_refused(source: str, message: str) -> None:
    nb = new_notebook(cells=[new_markdown_cell("title"), new_code_cell(source)])
    with pytest.raises(ValueError, match=f"x.ipynb, cell 2: .*{message}"):
        student_notebook(nb, "x.ipynb")


def test_the_fixture_gets_exactly_nbgraders_cells() -> None:
    """Stored output of nbgrader 0.9.6's ClearSolutions on the fixture (see its JSON file)."""
    stored = json.loads((FIXTURES / "exercise_fixture.nbgrader.json").read_text())
    ours = student_notebook(nbformat.read(FIXTURE, as_version=4))
    assert [c.source for c in ours.cells] == stored["sources"]


def test_nbgrader_itself_agrees() -> None:
    """nbgrader (a developer dependency) clears the same regions (tests/course/test_nbgrader.py
    runs its whole generate and autograde)."""
    clear = pytest.importorskip("nbgrader.preprocessors").ClearSolutions
    nb = nbformat.read(FIXTURE, as_version=4)
    theirs, _ = clear(enforce_metadata=False).preprocess(copy.deepcopy(nb), {})
    assert [c.source for c in student_notebook(nb).cells] == [c.source for c in theirs.cells]


@pytest.mark.parametrize("path", [*COMPLETE, FIXTURE], ids=[p.name for p in [*COMPLETE, FIXTURE]])
def test_the_complete_edition_carries_current_nbgrader_metadata(path: Path) -> None:
    assert path.read_text(encoding="utf-8") == editions.complete_text(path), (
        f"{path.name}: its nbgrader cell metadata is stale: run `make student` and commit")


def test_the_fixtures_nbgrader_cells() -> None:
    cells = editions.nbgrader_cells(nbformat.read(FIXTURE, as_version=4)).cells
    grading = {c.id: c.metadata.nbgrader for c in cells if "nbgrader" in c.metadata}
    common = {"schema_version": 3, "task": False}
    assert grading == {
        **{solution: {"grade": False, "grade_id": name, "locked": False, "solution": True,
                      **common}
           for solution, name in [("cell-03", "softmax"), ("cell-07", "cross_entropy"),
                                  ("cell-10", "coin_minimiser")]},
        **{test: {"grade": True, "grade_id": f"check_{name}", "locked": True, "points": 1,
                  "solution": False, **common}
           for test, name in [("cell-04", "softmax"), ("cell-08", "cross_entropy"),
                              ("cell-11", "coin_minimiser")]},
        "cell-12": {"grade": True, "grade_id": "answer_cell-12", "locked": False, "points": 1,
                    "solution": True, **common},
    }
    assert all(c.metadata.get("nbgrader") == g.metadata.get("nbgrader")
               for c, g in zip(student_notebook(nbformat.read(FIXTURE, as_version=4)).cells,
                               cells, strict=True))


def test_nbgrader_cells_refuse_what_nbgrader_refuses() -> None:
    check_cell = 'softmax = check("softmax", softmax)'
    twice = new_notebook(cells=[new_code_cell(check_cell), new_code_cell(check_cell)])
    with pytest.raises(ValueError, match=r"x.ipynb: .*unique.*check_softmax"):
        editions.nbgrader_cells(twice, "x.ipynb")
    both = new_notebook(cells=[new_code_cell(f"### BEGIN SOLUTION\n{check_cell}\n"
                                             "### END SOLUTION")])
    with pytest.raises(ValueError, match=r"x\.ipynb, cell 1: a solution region in a check cell"):
        editions.nbgrader_cells(both, "x.ipynb")


def test_solution_details_blocks_are_removed() -> None:
    text = ("Exercise.\n\n<details><summary>Solution</summary>\n\n```python\nx = 1\n```\n"
            "</details>\n\n<details><summary>Hint</summary>use np.max</details>")
    nb = student_notebook(new_notebook(cells=[new_markdown_cell(text)]))
    assert nb.cells[0].source == ("Exercise.\n\n<details><summary>Hint</summary>use np.max"
                                  "</details>")


# --------------------------------------------------------------------------- the student edition
@pytest.mark.parametrize(("name", "nb"), STUDENT_EDITIONS, ids=STUDENT_IDS)
def test_every_code_cell_compiles(name: str, nb: nbformat.NotebookNode) -> None:
    transform = TransformerManager().transform_cell  # magics (%, !) as IPython runs them
    for i, cell in enumerate(nb.cells, start=1):
        if cell.cell_type == "code":
            compile(transform(cell.source), f"{name}, cell {i}", "exec")


@pytest.mark.parametrize(("name", "nb"), STUDENT_EDITIONS, ids=STUDENT_IDS)
def test_no_solution_output_or_widget_state_remains(name: str, nb: nbformat.NotebookNode) -> None:
    text = "\n".join(c.source for c in nb.cells)
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    assert not re.search(r"<summary>[^<]*solution", text, re.IGNORECASE)
    assert all(c.outputs == [] and c.execution_count is None
               for c in nb.cells if c.cell_type == "code")
    assert "widgets" not in nb.metadata
    assert all("execution" not in c.metadata for c in nb.cells)


@pytest.mark.parametrize("path", [*COMPLETE, FIXTURE], ids=[p.name for p in [*COMPLETE, FIXTURE]])
def test_no_solution_line_survives_in_its_cell(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    for cell, student in zip(nb.cells, student_notebook(nb).cells, strict=True):
        region = re.findall(r"BEGIN SOLUTION[^\n]*\n(.*?)\n[^\n]*END SOLUTION", cell.source,
                            re.DOTALL)
        lines = {line.strip() for r in region for line in r.splitlines() if line.strip()}
        assert not [line for line in lines if line in student.source]


# --------------------------------------------------------------------------- executed
def _execute(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    with executor.notebook_client(nb, FIXTURES, timeout=120) as client:
        client.execute()
    return nb


@pytest.fixture(scope="module")
def executed_fixture() -> dict[str, nbformat.NotebookNode]:
    complete = nbformat.read(FIXTURE, as_version=4)
    return {"complete": _execute(complete), "student": _execute(student_notebook(complete))}


def test_the_student_fixture_runs_unattempted_and_leaks_nothing(
        executed_fixture: dict[str, nbformat.NotebookNode]) -> None:
    assert_student_outputs(executed_fixture["student"], FIXTURE)


def test_solutions_put_back_make_every_check_correct(
        executed_fixture: dict[str, nbformat.NotebookNode]) -> None:
    nb = executed_fixture["complete"]
    out = "".join(output_text(o) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    names = [name for _, name in checked_exercises(nb)]
    assert verdicts(out) == dict.fromkeys(names, "correct")


def test_assert_student_outputs_fails_when_it_should(
        executed_fixture: dict[str, nbformat.NotebookNode]) -> None:
    with pytest.raises(AssertionError, match="reported 'correct'"):
        assert_student_outputs(executed_fixture["complete"], FIXTURE)
    leaky = copy.deepcopy(executed_fixture["student"])
    leaky.cells[5].outputs.append(nbformat.v4.new_output("stream", text="-0.6190\n"))
    leaky.cells[5].outputs.append(nbformat.v4.new_output(
        "error", ename="ValueError", evalue="boom", traceback=[]))
    with pytest.raises(AssertionError, match=r"(?s)raised ValueError.*'coin_minimiser'"):
        assert_student_outputs(leaky, FIXTURE)
