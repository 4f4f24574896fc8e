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
    core,
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
    """One exercise as a notebook holds it: its solution cell and its check cell, and the
    solution cells of the exercises before it (a later exercise may call the earlier ones'
    functions, as notebook 04's ``backprop`` calls ``output_delta``)."""

    notebook: str
    name: str
    imports: str
    solution: str
    check: str
    earlier: str = ""

    def run(self, solution: str | None = None) -> str:
        """Exec the imports, the earlier solutions, ``solution`` (default: the notebook's) and
        the check cell; stdout."""
        return self.runs(solution)[0]

    def runs(self, solution: str | None = None, times: int = 1) -> list[str]:
        """As :meth:`run`, the check cell run ``times`` times in one namespace: each stdout."""
        namespace: dict[str, object] = {}
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(self.imports, f"{self.notebook}:imports", "exec"), namespace)
            exec(compile(self.earlier, f"{self.notebook}:earlier", "exec"), namespace)
            exec(compile(solution or self.solution, f"{self.notebook}:{self.name}", "exec"),
                 namespace)
        outs = []
        for _ in range(times):
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(self.check, f"{self.notebook}:check {self.name}", "exec"),
                     namespace)
            outs.append(out.getvalue())
        return outs


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
                                      following.source, "\n".join(c.solution for c in found)))
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


@pytest.mark.parametrize("cell", CELLS, ids=IDS)
def test_a_second_run_gives_the_same_verdict(cell: ExerciseCell) -> None:
    """Run again, a check cell repeats its verdict (after "not yet" the name is the reference)."""
    stub = clear_solutions(cell.solution, "code")[0]
    for solution in (cell.solution, stub):
        first, second = cell.runs(solution, times=2)
        assert verdicts(second) == verdicts(first), second


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
    np.testing.assert_allclose(_numbers(value), _numbers(get(name).expected()))
    if get(name).verify is not None:  # a sampler: any correct one gives other batches
        assert get(name).leak_strings() == set()
    else:
        assert any(s in out for s in get(name).leak_strings()), out


def _numbers(value: object) -> np.ndarray:
    """An answer as floats; a list of arrays of several shapes (gradients) as one vector."""
    if isinstance(value, list | tuple) and len({np.shape(v) for v in value}) > 1:
        return np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in value])
    return np.asarray(value, dtype=float)


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



# ------------------------------------------------------------------------- slips every check names
def _random_ex(**kwargs: object) -> Exercise:
    """``double`` on random numbers (not float32 numbers), for the float32 tests."""
    x = np.random.default_rng(1).normal(size=(3, 4))
    return _ex(cases=exercises.cases_of(Case("random numbers", (x,))), **kwargs)


def _first_line(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().out.splitlines()[0]


def _in_place_double(x: np.ndarray) -> np.ndarray:
    x *= 2
    return x


def _in_place_softmax(z: np.ndarray) -> np.ndarray:
    z -= np.max(z, axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= np.sum(z, axis=-1, keepdims=True)
    return z


def _in_place_step(theta: np.ndarray, grad: np.ndarray, eta: float) -> np.ndarray:
    theta -= eta * grad
    return theta


@pytest.mark.parametrize(("exercise", "student", "name"), [
    (_ex(), _in_place_double, "`x`"),
    ("softmax", _in_place_softmax, "`z`"),
    ("gd_step", _in_place_step, "`theta`"),
])
def test_a_changed_argument_is_named(exercise: object, student: object, name: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    ex = get(exercise)
    assert check(ex, student) is ex.reference
    assert f"{ex.name}: not yet: your function changed its argument {name}" in _first_line(capsys)


def test_a_change_inside_a_list_or_an_object_is_seen() -> None:
    def append(items: list[np.ndarray]) -> np.ndarray:
        items[0][0] = 5.0
        return items[0]

    ex = Exercise("first_item", reference=lambda items: items[0].copy(),
                  cases=exercises.cases_of(Case("a list", ([np.zeros(3)],))))
    assert "changed its argument `items`" in core._verdict(ex, append).text


@pytest.mark.parametrize(("student", "hint"), [
    (lambda x: (2 * x).tolist(), "your function returned a list, expected a numpy array"),
    (lambda x: (2 * row for row in x), "your function returned a generator, expected a numpy "
                                       "array"),
    (lambda x: 2.0, "your function returned a number (float), expected a numpy array of shape "
                    "(2, 3)"),
    (lambda x: {"y": 2 * x}, "your function returned a dict, expected a numpy array"),
])
def test_the_wrong_kind_of_value_is_named(student: object, hint: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    check(_ex(), student)
    assert _first_line(capsys).startswith(f"double: not yet: {hint}")


def _number_ex() -> Exercise:
    return _ex(name="total", reference=lambda x: np.sum(2 * x))


@pytest.mark.parametrize(("student", "verdict"), [
    (lambda x: float(np.sum(2 * x)), "total: correct"),
    (lambda x: int(np.sum(2 * x)), "total: correct"),
    (lambda x: np.array([np.sum(2 * x)]), "total: not yet: your function returned a numpy "
                                          "array of shape (1,), expected a single number"),
    (lambda x: str(np.sum(2 * x)), "total: not yet: your function returned a str, expected "
                                   "a number"),
])
def test_numbers_in_any_style(student: object, verdict: str,
                              capsys: pytest.CaptureFixture[str]) -> None:
    check(_number_ex(), student)
    assert _first_line(capsys).startswith(verdict)


def test_torch_tensors_are_accepted_where_arrays_or_numbers_are_asked(
        capsys: pytest.CaptureFixture[str]) -> None:
    torch = pytest.importorskip("torch")
    check(_ex(), lambda x: 2 * torch.tensor(x, requires_grad=True))
    check(_number_ex(), lambda x: torch.tensor(x).mul(2).sum())
    check("softmax", lambda z: torch.softmax(torch.from_numpy(z), dim=-1))
    out = capsys.readouterr().out.splitlines()
    assert out == ["double: correct", "total: correct", "softmax: correct"]


def _softmax_in_numpy(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_a_correct_function_returning_tensors_is_handed_back_returning_arrays(
        capsys: pytest.CaptureFixture[str]) -> None:
    torch = pytest.importorskip("torch")
    tensors = check("softmax", lambda z: torch.softmax(torch.from_numpy(z), dim=-1))
    total = check(_number_ex(), lambda x: torch.tensor(x).mul(2).sum())
    z = np.array([[1.0, 2.0], [0.0, 0.0]])
    assert type(tensors(z)) is np.ndarray and np.allclose(tensors(z).sum(axis=1), 1)
    assert isinstance(total(np.ones(3)), float)
    assert check("softmax", _softmax_in_numpy) is _softmax_in_numpy  # numpy: the same function
    assert capsys.readouterr().out.count(": correct") == 3


def test_parts_of_a_tuple_are_named(capsys: pytest.CaptureFixture[str]) -> None:
    ex = _ex(name="pair", reference=lambda x: (2 * x, x), outputs=("y", "x"))
    check(ex, lambda x: (2 * x, -x))
    assert _first_line(capsys) == "pair: not yet: x (returned value 2 of 2): wrong sign"
    check(ex, lambda x: 2 * x)
    assert _first_line(capsys) == ("pair: not yet: your function returned a numpy array of "
                                   "shape (2, 3), expected a tuple of 2 values (y, x)")
    check(ex, lambda x: [2 * x, x])
    assert _first_line(capsys) == "pair: correct"


@pytest.mark.parametrize(("exercise", "student", "shown"), [
    (_ex(), lambda x: np.linalg.inv(x),
     "your function raised LinAlgError: Last 2 dimensions of the array must be square on the "
     "input 'a matrix'"),
    ("cross_entropy", lambda z, labels: _raise(RuntimeError("labels must be integers")),
     "your function raised RuntimeError: labels must be integers on the input"),
])
def test_the_exception_shows_its_message(exercise: object, student: object, shown: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    check(exercise, student)
    assert shown in _first_line(capsys)


def _raise(err: Exception) -> None:
    raise err


@pytest.mark.parametrize("student", [
    lambda x: 2 * x.astype(np.float32),  # a float32 result
    lambda x: (2 * x.astype(np.float32)).astype(np.float64),  # float32 numbers in float64
    lambda x: np.float32(2) * np.float32(1 + 2e-7) * x.astype(np.float32),  # and rounded again
])
def test_float32_work_is_correct_with_a_precision_note(
        student: object, capsys: pytest.CaptureFixture[str]) -> None:
    ex = _random_ex(rtol=1e-10, atol=1e-12)
    assert check(ex, student) is student
    assert _first_line(capsys).startswith("double: correct: up to float32 rounding (relative "
                                          "error ")


def test_float32_rounding_is_no_factor_or_constant() -> None:
    """A product of float32 matrices: its rounding is neither a factor nor a shift."""
    a = np.random.default_rng(2).normal(size=(40, 30))
    ex = Exercise("gram", reference=lambda a: a @ a.T, rtol=1e-12, atol=1e-14,
                  cases=exercises.cases_of(Case("a 40 x 30 matrix", (a,))))
    assert diagnose(ex.reference(a.astype(np.float32)), ex.reference(a), ex, "a") is None
    hint = diagnose(ex.reference(a.astype(np.float32)) * 1.001, ex.reference(a), ex, "a")
    assert hint.startswith("off by a constant factor"), hint
    noise = 1e-9 * np.random.default_rng(4).normal(size=(40, 40))
    float64_slip = diagnose(ex.reference(a) * (1 + noise), ex.reference(a), ex, "a")
    assert float64_slip.startswith("relative error "), float64_slip


def test_a_float32_input_gets_float32_tolerance(capsys: pytest.CaptureFixture[str]) -> None:
    x = np.random.default_rng(3).normal(size=5).astype(np.float32)
    ex = _ex(name="cube", reference=lambda x: np.asarray(x, dtype=float) ** 3, rtol=1e-12,
             cases=exercises.cases_of(Case("float32 numbers", (x,))))
    check(ex, lambda x: x**3)
    assert _first_line(capsys).startswith("cube: correct")


def test_no_tolerance_is_zero(capsys: pytest.CaptureFixture[str]) -> None:
    ex = _ex(name="third", reference=lambda: 0.1 + 0.2, rtol=0, atol=0,
             cases=exercises.cases_of(Case("value", ())))
    check(ex, lambda: 0.3)  # one ulp from 0.1 + 0.2
    check(ex, lambda: 0.3 + 1e-12)
    assert capsys.readouterr().out.splitlines()[:2] == [
        "third: correct", "third: not yet: relative error 3e-12 on the input 'value' "
                          "(tolerance 9e-16)"]


def test_a_rounded_prediction_at_the_asked_precision(capsys: pytest.CaptureFixture[str]) -> None:
    ex = _ex(name="eta_max", reference=lambda: 2 / 3, digits=2,
             cases=exercises.cases_of(Case("value", ())))
    for answer in (0.67, 2 / 3, 0.666, 0.7, 0.6):
        check(ex, lambda answer=answer: answer)
    verdict_lines = [line for line in capsys.readouterr().out.splitlines()
                     if "reference implementation" not in line]
    assert [line.split(": ")[1] for line in verdict_lines] == [
        "correct", "correct", "correct", "not yet", "not yet"]


def test_an_alternative_answer_is_right_too(capsys: pytest.CaptureFixture[str]) -> None:
    ex = _random_ex(name="spread", reference=lambda x: np.std(x, axis=0),
                    alternatives=(lambda x: np.std(x, axis=0, ddof=1),))
    check(ex, lambda x: np.std(x, axis=0, ddof=1))
    check(ex, lambda x: np.var(x, axis=0))
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "spread: correct" and out[1].startswith("spread: not yet")


def test_a_second_run_repeats_the_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    ex = _ex()
    namespace = {"check": check, "ex": ex, "double": lambda x: x}
    exec("double = check(ex, double)", namespace)
    first = capsys.readouterr().out
    exec("double = check(ex, double)", namespace)  # the cell run again
    second = capsys.readouterr().out
    assert namespace["double"] is ex.reference
    assert second.startswith(first)
    assert "has been the reference since" in second
    assert check(ex, ex.reference) is ex.reference  # the reference itself, passed elsewhere
    assert capsys.readouterr().out == "double: correct\n"
    namespace["double"] = lambda x: x + x  # a new function is checked afresh
    exec("double = check(ex, double)", namespace)
    assert capsys.readouterr().out == "double: correct\n"


def test_under_nbgrader_a_wrong_answer_fails_its_test(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    ex = _ex()
    namespace = {"check": check, "ex": ex, "double": lambda x: x}
    with pytest.raises(exercises.CheckFailed, match="double: not yet: off by a factor of 2"):
        exec("double = check(ex, double)", namespace)
    assert namespace["double"] is ex.reference  # later cells use the reference
    namespace["double"] = lambda x: 2 * x
    exec("double = check(ex, double)", namespace)
    assert capsys.readouterr().out.endswith("double: correct\n")
    monkeypatch.delenv("NBGRADER_EXECUTION")
    assert check(ex, lambda x: x) is ex.reference  # a student's run never raises


def test_graded_hints_come_one_at_a_time(capsys: pytest.CaptureFixture[str]) -> None:
    ex = _ex(name="hinted", graded_hints=("think of a sum", "x + x"), slide="Doubling")
    for _ in range(3):
        exercises.hint(ex)
    exercises.hint(ex, 1)
    assert capsys.readouterr().out.splitlines() == [
        "hinted, hint 1 of 2: think of a sum",
        "hinted, hint 2 of 2: x + x",
        "hinted: still stuck? reveal(\"hinted\") shows the expected value and the reference's "
        "code",
        "hinted: no more hints; the slide \"Doubling\" has the formula; reveal(\"hinted\") "
        "shows the expected value and the reference's code",
        "hinted, hint 1 of 2: think of a sum",
    ]
    with pytest.raises(ValueError, match="number must be 1 to 2"):
        exercises.hint(ex, 3)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_no_graded_hint_shows_the_expected_value(name: str) -> None:
    leaks = get(name).leak_strings()
    assert not [s for h in get(name).graded_hints for s in leaks if s in h]
