"""nbgrader itself grades the course: the complete edition is its source, the student edition
its release, and the check cells its autograded tests.

One temporary course directory: ``nbgrader generate_assignment`` on the fixture notebook and
notebook 01 (release = our student edition, cell for cell), then ``nbgrader autograde`` of
three submissions of the fixture: filled in (full marks), untouched (0) and one wrong answer
(that exercise 0, the others full: the check rebinds the name before it fails).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from lecture_utils.course.editions import complete_notebooks, nbgrader_cells, student_notebook

pytest.importorskip("nbgrader")
pytestmark = pytest.mark.slow

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "exercise_fixture.ipynb"
NOTEBOOK_01 = next(p for p in complete_notebooks() if p.name.startswith("01_"))
ASSIGNMENT = "lecture"
GRADING_KEYS = ("grade", "grade_id", "locked", "points", "schema_version", "solution", "task")
#: A realistic slip in the fixture's first exercise: no max-subtraction (overflow).
WRONG = ("e = np.exp(z - m)", "e = np.exp(z)")


def _nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run nbgrader's command line in ``course`` (alembic, which it calls, on the PATH)."""
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           "OMP_NUM_THREADS": "1"}
    result = subprocess.run([str(bin_dir / "nbgrader"), *args, "--force"], cwd=course,
                            capture_output=True, text=True, env=env, timeout=600, check=False)
    assert result.returncode == 0 and "ERROR" not in result.stderr, result.stderr[-4000:]
    return result


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course directory with the assignment generated and three submissions autograded."""
    root = tmp_path_factory.mktemp("course")
    (root / "nbgrader_config.py").write_text("c = get_config()\n"
                                             "c.CourseDirectory.course_id = 'lecture2'\n")
    source = root / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    for path in (FIXTURE, NOTEBOOK_01):
        nbformat.write(nbgrader_cells(_read(path), path.name), source / path.name)
    _nbgrader(root, "generate_assignment", ASSIGNMENT)
    filled = nbgrader_cells(_read(FIXTURE))
    wrong = nbgrader_cells(_read(FIXTURE))
    cell = next(c for c in wrong.cells if WRONG[0] in c.source)
    cell.source = cell.source.replace(*WRONG)
    submissions = {"filled": filled, "empty": student_notebook(_read(FIXTURE)), "wrong": wrong}
    for student, nb in submissions.items():
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / FIXTURE.name)
        # notebook 01 is not submitted: nbgrader records it as missing, graded 0
    _nbgrader(root, "autograde", ASSIGNMENT)
    return root


@pytest.mark.parametrize("path", [FIXTURE, NOTEBOOK_01], ids=lambda p: p.name)
def test_nbgraders_release_is_our_student_edition(course: Path, path: Path) -> None:
    release = _read(course / "release" / ASSIGNMENT / path.name)
    ours = student_notebook(_read(path), path.name)
    assert [c.cell_type for c in release.cells] == [c.cell_type for c in ours.cells]
    for i, (theirs, mine) in enumerate(zip(release.cells, ours.cells, strict=True)):
        assert theirs.source == mine.source, f"{path.name}, cell {i + 1}"
        grading = {k: v for k, v in theirs.metadata.get("nbgrader", {}).items()
                   if k in GRADING_KEYS}
        assert grading == mine.metadata.get("nbgrader", {}), f"{path.name}, cell {i + 1}"


def _scores(course: Path, student: str) -> dict[str, float]:
    """``{grade_id: score}`` of the autograded fixture's grade cells for ``student``."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "lecture2") as gradebook:
        nb = gradebook.find_submission_notebook(FIXTURE.stem, ASSIGNMENT, student)
        return {grade.name: grade.score for grade in nb.grades}


def test_a_filled_in_notebook_gets_full_marks_for_its_code(course: Path) -> None:
    scores = _scores(course, "filled")
    assert {k: v for k, v in scores.items() if k.startswith("check_")} == {
        "check_softmax": 1, "check_cross_entropy": 1, "check_coin_minimiser": 1}
    assert [k for k in scores if k.startswith("answer_")] == ["answer_cell-12"]


def test_an_untouched_notebook_gets_nothing(course: Path) -> None:
    assert set(_scores(course, "empty").values()) == {0}


def test_one_wrong_answer_costs_only_its_points(course: Path) -> None:
    scores = _scores(course, "wrong")
    assert scores["check_softmax"] == 0
    assert scores["check_cross_entropy"] == scores["check_coin_minimiser"] == 1
    graded = _read(course / "autograded" / "wrong" / ASSIGNMENT / FIXTURE.name)
    errors = [o for c in graded.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert [e.ename for e in errors] == ["CheckFailed"], errors
    assert "softmax: not yet: NaN or inf" in errors[0].evalue
