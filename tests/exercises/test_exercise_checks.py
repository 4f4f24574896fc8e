"""Every coding exercise's check: the notebook's solution passes, the stub and mutants do not.

Exercise cells are found in the complete notebooks (and in the small fixture notebook, which
stands for notebook 01 until its exercises exist) by the convention of
``lecture_utils.exercises``: a code cell holding ``### BEGIN SOLUTION``, followed by a code
cell calling ``check("<name>", ...)``. Each cell is exec'd with the notebook's own import
statements, so a solution may use np, torch, lecture_utils and its arguments, nothing else.
"""

from __future__ import annotations

import ast
import contextlib
import io
import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np
import pytest

from lecture_utils import exercises
from lecture_utils.course.editions import clear_solutions, complete_notebooks
from lecture_utils.exercises import (
    CHECK_CALL,
    VERDICT_RE,
    Case,
    Exercise,
    Mutant,
    check,
    diagnose,
    get,
    reveal,
    verdicts,
)
from lecture_utils.exercises.core import SEED

TESTS = Path(__file__).resolve().parents[1]
FIXTURE = TESTS / "fixtures" / "exercise_fixture.ipynb"


@dataclass(frozen=True)
class ExerciseCell:
    """One exercise as a notebook holds it: its solution cell and its check cell."""

    notebook: str
    name: str
    imports: str
    solution: str
    check: str

    def run(self, solution: str | None = None) -> str:
        """Exec the imports, ``solution`` (default: the notebook's) and the check cell; stdout."""
        namespace: dict[str, object] = {}
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(self.imports, f"{self.notebook}:imports", "exec"), namespace)
            exec(compile(solution or self.solution, f"{self.notebook}:{self.name}", "exec"),
                 namespace)
            exec(compile(self.check, f"{self.notebook}:check {self.name}", "exec"), namespace)
        return out.getvalue()


def _imports(nb: nbformat.NotebookNode) -> str:
    """The notebook's top-level import statements, in order (magics skipped)."""
    lines = []
    for cell in nb.cells:
        if cell.cell_type != "code" or re.match(r"\s*[%!]", cell.source):
            continue
        with contextlib.suppress(SyntaxError):
            tree = ast.parse(cell.source)
            lines += [ast.unparse(node) for node in tree.body
                      if isinstance(node, ast.Import | ast.ImportFrom)]
    return "\n".join(lines)


def exercise_cells(path: Path) -> list[ExerciseCell]:
    """Every exercise of the notebook at ``path``: a solution cell, then its check cell."""
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    imports = _imports(nb)
    found = []
    for cell, following in itertools.pairwise(code):
        names = CHECK_CALL.findall(following.source)
        if "### BEGIN SOLUTION" in cell.source and names:
            found.append(ExerciseCell(path.name, names[0], imports, cell.source,
                                      following.source))
    return found


CELLS = [c for path in [*complete_notebooks(), FIXTURE] for c in exercise_cells(path)]
IDS = [f"{c.notebook}:{c.name}" for c in CELLS]
REGISTRY = exercises.registry()
MUTANTS = [(c, m) for c in CELLS for m in get(c.name).mutants]


def test_old_numerical_checks_are_not_exercise_checks() -> None:
    assert CHECK_CALL.findall('softmax = check("softmax", softmax)') == ["softmax"]
    assert not CHECK_CALL.findall('check("c", 2.0, c_ex3)\ncheck("depth", min(L), depth_ex4)')


def test_the_harness_finds_the_fixture_exercises() -> None:
    assert {c.name for c in CELLS if c.notebook == FIXTURE.name} == {
        "softmax", "cross_entropy", "coin_minimiser"}


def test_every_registered_exercise_has_a_cell_and_a_mutant() -> None:
    unused = sorted(set(REGISTRY) - {c.name for c in CELLS})
    assert not unused, f"registered exercises no notebook checks: {unused}"
    no_mutant = sorted(name for name, ex in REGISTRY.items() if not ex.mutants)
    assert not no_mutant, f"exercises without a mutant their check must reject: {no_mutant}"


@pytest.mark.parametrize("cell", CELLS, ids=IDS)
def test_the_solution_is_correct(cell: ExerciseCell) -> None:
    out = cell.run()
    assert verdicts(out) == {cell.name: "correct"}, out


@pytest.mark.parametrize("cell", CELLS, ids=IDS)
def test_the_stub_is_not_attempted_and_falls_back(cell: ExerciseCell) -> None:
    stub, replaced = clear_solutions(cell.solution, "code")
    assert replaced
    out = cell.run(stub)
    assert verdicts(out) == {cell.name: "not attempted yet"}, out
    assert f"{cell.name}: {exercises.FALLBACK_TEXT} {get(cell.name).reference_name}" in out


@pytest.mark.parametrize(("cell", "mutant"), MUTANTS,
                         ids=[f"{c.notebook}:{c.name}:{m.old}->{m.new}" for c, m in MUTANTS])
def test_a_mutant_is_rejected(cell: ExerciseCell, mutant: Mutant) -> None:
    assert mutant.old in cell.solution, (
        f"mutant {mutant.old!r} -> {mutant.new!r} of {cell.name!r} does not occur in the "
        f"solution in {cell.notebook}: update the registry")
    out = cell.run(cell.solution.replace(mutant.old, mutant.new))
    assert verdicts(out) == {cell.name: "not yet"}, f"the check accepted a mutant:\n{out}"
    hint = next(m["hint"] for m in VERDICT_RE.finditer(out))
    assert mutant.hint in hint, f"expected a hint about {mutant.hint!r}, got {hint!r}"


@pytest.mark.parametrize("name", [n for n, ex in REGISTRY.items() if ex.oracle])
def test_the_reference_agrees_with_the_torch_oracle(name: str) -> None:
    ex = get(name)
    for case in ex.inputs():
        want = np.asarray(ex.reference(*case.args), dtype=float)
        got = np.asarray(ex.oracle(*case.args), dtype=float)
        np.testing.assert_allclose(got, want, rtol=ex.rtol, atol=ex.atol, err_msg=case.label)


@pytest.mark.parametrize("cell", CELLS, ids=IDS)
def test_no_verdict_shows_the_expected_value(cell: ExerciseCell) -> None:
    texts = [cell.run(), cell.run(clear_solutions(cell.solution, "code")[0])]
    texts += [cell.run(cell.solution.replace(m.old, m.new)) for m in get(cell.name).mutants]
    leaks = get(cell.name).leak_strings()
    # only an exercise checked by properties (verify: a sampler) has no value to give away
    assert leaks or get(cell.name).verify is not None, "the leak test needs the value's texts"
    for text in texts:
        assert not [s for s in leaks if s in text], text


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_reveal_shows_the_expected_value(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The positive control of the leak test: the value's texts are what reveal prints."""
    value = reveal(name)
    out = capsys.readouterr().out
    np.testing.assert_allclose(np.asarray(value, dtype=float),
                               np.asarray(get(name).expected(), dtype=float))
    if get(name).verify is not None:  # a sampler: any correct one gives other batches
        assert get(name).leak_strings() == set()
    else:
        assert any(s in out for s in get(name).leak_strings()), out


# --------------------------------------------------------------------------- the check itself
def _ex(**kwargs: object) -> Exercise:
    fields = {"name": "double", "reference": lambda x: 2 * x,
              "cases": exercises.cases_of(Case("a matrix", (np.arange(1.0, 7.0).reshape(2, 3),)))}
    return Exercise(**{**fields, **kwargs})


@pytest.mark.parametrize(("student", "hint"), [
    (lambda x: 2 * x.T, "transposed"),
    (lambda x: -2 * x, "wrong sign"),
    (lambda x: x, "off by a factor of 2"),
    (lambda x: 6 * x, "off by a whole-number factor"),
    (lambda x: 2.7 * x, "off by a constant factor"),
    (lambda x: 2 * x + 1, "off by an additive constant"),
    (lambda x: 2 * x * (1 + 1e-3 * x), "relative error 6e-03"),
    (lambda x: (2 * x)[0], "wrong shape (3,), expected shape (2, 3)"),
    (lambda x: np.exp(1000 * x), "NaN or inf on the input 'a matrix'"),
    (lambda x: "two x", "your function returned a str"),
    (lambda x: 1 / 0, "your function raised ZeroDivisionError"),
])
def test_hints(student: object, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    ex = _ex()
    assert check(ex, student) is ex.reference
    out = capsys.readouterr().out
    assert f"double: not yet: {hint}" in out
    assert "double: the cells below use the reference implementation" in out


def test_a_correct_function_is_returned_and_values_stay_hidden(
        capsys: pytest.CaptureFixture[str]) -> None:
    def mine(x: np.ndarray) -> np.ndarray:
        return x + x

    assert check(_ex(), mine) is mine
    assert capsys.readouterr().out == "double: correct\n"


@pytest.mark.parametrize("student", [..., None, lambda x: ..., lambda x: None])
def test_not_attempted(student: object, capsys: pytest.CaptureFixture[str]) -> None:
    check(_ex(), student)
    assert capsys.readouterr().out.splitlines()[0] == "double: not attempted yet"


def test_a_scalar_factor_is_named_only_when_it_means_something() -> None:
    ex = _ex()
    assert diagnose(3.0, 1.5, ex, "x") == "off by a factor of 2"
    assert diagnose(1.0, 0.7, ex, "x").startswith("relative error")


def test_dtype_is_checked_when_asked() -> None:
    ex = _ex(check_dtype=True)
    x = np.ones(3, dtype=np.float32)
    assert "dtype float64, expected float32" in diagnose(x.astype(float), x, ex, "x")


def test_the_inputs_are_seeded_and_names_checked() -> None:
    ex = get("softmax")
    assert [c.label for c in ex.inputs()] == [c.label for c in ex.inputs()]
    np.testing.assert_array_equal(ex.inputs()[0].args[0],
                                  ex.cases(np.random.default_rng(SEED))[0].args[0])
    with pytest.raises(ValueError, match="exercise name"):
        Exercise("Soft Max", reference=abs)
    with pytest.raises(KeyError, match="no exercise named 'nope'"):
        get("nope")

