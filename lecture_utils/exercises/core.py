"""The exercise check: run a student's function on inputs of its own making, print one verdict.

An :class:`Exercise` bundles the reference implementation (from ``lecture_utils``), a
generator of test inputs, an optional torch oracle, tolerances and the mutants its tests must
reject. :func:`check` prints exactly one verdict line, ``<name>: correct``,
``<name>: not attempted yet`` or ``<name>: not yet: <hint>``, and returns the function the
cells below should use; :func:`reveal` is the only call that shows an expected value.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "CHECK_CALL",
    "VERDICT_RE",
    "Case",
    "Exercise",
    "Mutant",
    "check",
    "diagnose",
    "register",
    "reveal",
]

NAME_RE = re.compile(r"[a-z][a-z0-9_]*")
#: One verdict line as :func:`check` prints it; tests and the browser test parse outputs with it.
VERDICT_RE = re.compile(r"^(?P<name>[a-z][a-z0-9_]*): "
                        r"(?P<verdict>correct|not attempted yet|not yet)(?:: (?P<hint>.*))?$",
                        re.MULTILINE)
#: A check cell's call, ``softmax = check("softmax", softmax)``: a name and a function name
#: (the old numerical ``check(name, expected, value)`` of ``lecture_utils.course.notebook``
#: differs).
CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([a-z][a-z0-9_]*)["']\s*,\s*[A-Za-z_][\w.]*\s*\)""")
FALLBACK_TEXT = "the cells below use the reference implementation"
NOT_ATTEMPTED = "not attempted yet"
SEED = 20240214  # the check's own inputs are the same on every run and every machine


class Case(NamedTuple):
    """One input of a check: a short label for hints ("huge logits") and the arguments."""

    label: str
    args: tuple[Any, ...]


class Mutant(NamedTuple):
    """A plausible slip: replace ``old`` by ``new`` in the notebook's solution region.

    The check must answer "not yet", with ``hint`` (if given) in its hint.
    """

    old: str
    new: str
    hint: str = ""


@dataclass(frozen=True)
class Exercise:
    """What a check needs to know about one exercise (see the package docstring).

    ``reference(*args)`` is the correct answer, ``cases(rng)`` the inputs the check makes
    (the first one is the example :func:`reveal` shows), ``oracle(*args)`` an independent
    torch computation (or None), ``mutants`` the slips (:class:`Mutant`) the check must
    reject, ``hints`` extra advice per
    diagnosis (keys ``"overflow"``, ``"sign"``, ``"factor"``, ``"shift"``, ``"shape"``).
    """

    name: str
    reference: Callable[..., Any]
    cases: Callable[[np.random.Generator], Sequence[Case]] = lambda rng: [Case("value", ())]
    oracle: Callable[..., Any] | None = None
    rtol: float = 1e-6
    atol: float = 1e-9
    check_dtype: bool = False
    mutants: tuple[Mutant, ...] = ()
    hints: dict[str, str] = field(default_factory=dict)
    slide: str = ""
    #: For an answer that is not one value (a random sampler): ``verify(student, case)``
    #: returns None or a hint, instead of comparing with the reference's value.
    verify: Callable[[Callable[..., Any], Case], str | None] | None = None

    def __post_init__(self) -> None:
        if not NAME_RE.fullmatch(self.name):
            raise ValueError(f"exercise name must match {NAME_RE.pattern}, got {self.name!r}")

    def inputs(self) -> list[Case]:
        """The check's own inputs, the same on every call (seeded)."""
        return list(self.cases(np.random.default_rng(SEED)))

    @property
    def reference_name(self) -> str:
        return f"{self.reference.__module__}.{self.reference.__qualname__}"

    def expected(self) -> Any:
        """The reference's value on the example (the first case); what :func:`reveal` shows."""
        return self.reference(*_copied(self.inputs()[0].args))

    def leak_strings(self) -> set[str]:
        """Texts of the example's expected value that no verdict or student output may hold.

        A number at 4 and 6 significant digits (and 4 decimals); an array as numpy prints it
        after ``setup`` and each entry at 6 digits (4 digits of one entry among many printed
        numbers would match by chance). Short round numbers (0, 1, 0.5) are skipped. An
        exercise checked by ``verify`` has no one right answer, so none.
        """
        if self.verify is not None:  # no one right answer (a sampler): nothing to give away
            return set()
        raw = np.asarray(_as_numpy(self.expected()))
        value = raw.astype(float)
        # arrays: also 6 decimals, as reveal prints them (entries below 0.1 differ from .6g)
        formats = ("{:.4g}", "{:.6g}", "{:.4f}") if value.size == 1 else ("{:.6g}", "{:.6f}")
        # one whole-number entry of an array (an index, a count) matches printed numbers by chance
        entries = value.ravel()[:50] if value.size == 1 else [
            x for x in value.ravel()[:50] if not float(x).is_integer()]
        texts = {text for x in entries for f in formats
                 if len((text := f.format(x)).lstrip("-").replace(".", "").lstrip("0")) >= 3}
        if value.ndim:
            with np.printoptions(precision=4, suppress=True):
                texts.add(np.array2string(value))
            if raw.dtype.kind in "biu":  # counts, as reveal's repr prints them: [2, 0, 2]
                texts.add(np.array2string(raw, separator=", "))
        return texts


_REGISTRY: dict[str, Exercise] = {}


def register(*exercises: Exercise) -> None:
    """Add exercises to the registry (each notebook's module ``nbNN`` calls this once)."""
    for ex in exercises:
        if ex.name in _REGISTRY and _REGISTRY[ex.name] is not ex:
            raise ValueError(f"two exercises are named {ex.name!r}: names must be unique")
        _REGISTRY[ex.name] = ex


def registry() -> dict[str, Exercise]:
    """Every exercise of every notebook (imports the modules ``exercises/nbNN.py``)."""
    import importlib
    import pkgutil

    from lecture_utils import exercises

    for module in pkgutil.iter_modules(exercises.__path__):
        if re.fullmatch(r"nb\d\d", module.name):
            importlib.import_module(f"lecture_utils.exercises.{module.name}")
    return dict(_REGISTRY)


def get(name: str | Exercise) -> Exercise:
    """The exercise called ``name`` (or ``name`` itself if it is an Exercise)."""
    if isinstance(name, Exercise):
        return name
    exercises = _REGISTRY if name in _REGISTRY else registry()
    if name not in exercises:
        raise KeyError(f"no exercise named {name!r}; known: {', '.join(sorted(exercises))}")
    return exercises[name]


# --------------------------------------------------------------------------- diagnosis
def _as_numpy(value: Any) -> Any:
    if hasattr(value, "detach"):  # a torch tensor
        return value.detach().cpu().numpy()
    return value


def _copied(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Fresh copies of array arguments, so a function that changes its input harms nothing."""
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


def _is_missing(value: Any) -> bool:
    return value is Ellipsis or value is None


def _close(got: np.ndarray, want: np.ndarray, rtol: float, atol: float) -> bool:
    return got.shape == want.shape and bool(np.allclose(got, want, rtol=rtol, atol=atol))


def diagnose(got: Any, want: Any, ex: Exercise, label: str) -> str | None:
    """None if ``got`` matches ``want``, else a hint that never states ``want``.

    In order: missing, not numeric, wrong shape (or transposed), dtype (if the exercise asks),
    NaN/inf where the answer is finite (overflow), wrong sign, off by a constant factor
    (named if it is 2, 1/2 or a whole number), off by an additive constant, else the size of
    the relative error.
    """
    if _is_missing(got):
        return NOT_ATTEMPTED
    try:
        g = np.asarray(_as_numpy(got), dtype=float)
    except (TypeError, ValueError):
        return f"your function returned a {type(got).__name__}, expected numbers"
    w = np.asarray(_as_numpy(want), dtype=float)
    tip = ex.hints
    if g.shape != w.shape:
        if g.ndim == 2 and g.T.shape == w.shape and _close(g.T, w, ex.rtol, ex.atol):
            return "transposed: your result is the transpose of the answer"
        return (f"wrong shape {g.shape}, expected shape {w.shape}"
                + (f" ({tip['shape']})" if "shape" in tip else ""))
    if ex.check_dtype:
        g_dtype, w_dtype = np.asarray(_as_numpy(got)).dtype, np.asarray(_as_numpy(want)).dtype
        if g_dtype != w_dtype:
            return f"dtype {g_dtype}, expected {w_dtype} (keep the input's dtype)"
    if not np.all(np.isfinite(g[np.isfinite(w)])):
        return (f"NaN or inf on the input '{label}' where the answer is finite (overflow): "
                + tip.get("overflow", "rewrite it so that no intermediate overflows"))
    if _close(g, w, ex.rtol, ex.atol):
        return None
    if _close(-g, w, ex.rtol, ex.atol):
        return "wrong sign" + (f" ({tip['sign']})" if "sign" in tip else "")
    big = np.abs(w) > max(ex.atol, 1e-12) * 10
    if big.any():
        r = float(np.median(g[big] / w[big]))
        if r != 0 and np.allclose(g, r * w, rtol=ex.rtol * 10, atol=ex.atol * 10):
            factor = _factor_name(abs(r), scalar=g.size == 1)
            if factor:
                sign = "wrong sign and off " if r < 0 else "off "
                return sign + factor + (f" ({tip['factor']})" if "factor" in tip else "")
    shift = float(np.median(g - w))
    if w.size > 1 and np.allclose(g, w + shift, rtol=ex.rtol * 10, atol=ex.atol * 10):
        return "off by an additive constant" + (f" ({tip['shift']})" if "shift" in tip else "")
    scale = max(float(np.max(np.abs(w))), ex.atol)
    rel = float(np.max(np.abs(g - w))) / scale
    return f"relative error {rel:.0e} on the input '{label}' (tolerance {ex.rtol:.0e})"


def _factor_name(r: float, scalar: bool) -> str | None:
    """"by a factor of 2", "by a whole-number factor", "by a constant factor" or None.

    Any two numbers differ by a constant factor, so for a single number only a factor of
    2 (or 1/2) or a whole number (a sum instead of a mean) is worth naming.
    """
    if abs(r - 2) < 1e-6 or abs(r - 0.5) < 1e-6:
        return "by a factor of 2"
    for x in (r, 1 / r):
        if x > 1.5 and abs(x - round(x)) < 1e-6 * x:
            return "by a whole-number factor"
    return None if scalar else "by a constant factor"


# --------------------------------------------------------------------------- check, reveal
def _verdict(ex: Exercise, student: Any) -> str | None:
    """None when correct; else the diagnosis (NOT_ATTEMPTED or a hint)."""
    if not callable(student):
        if _is_missing(student):
            return NOT_ATTEMPTED
        return "pass the function itself (its name, without calling it)"
    for case in ex.inputs():
        try:
            with np.errstate(all="ignore"):  # the hint names the overflow instead
                if ex.verify is not None:
                    hint = ex.verify(student, case)
                    if hint is not None:
                        return hint
                    continue
                got = student(*_copied(case.args))
        except NotImplementedError:
            return NOT_ATTEMPTED
        except Exception as err:  # the student's code: any error is a hint, not a crash
            return f"your function raised {type(err).__name__} on the input '{case.label}'"
        want = ex.reference(*_copied(case.args))
        hint = diagnose(got, want, ex, case.label)
        if hint is None and ex.oracle is not None:
            hint = diagnose(got, ex.oracle(*_copied(case.args)), ex, case.label)
        if hint is not None:
            return hint
    return None


def check(exercise: str | Exercise, student: Callable[..., Any] | Any) -> Callable[..., Any]:
    """Check ``student`` against the exercise's reference; print one verdict line.

    Prints ``<name>: correct``, ``<name>: not attempted yet`` (the function raises
    NotImplementedError or returns ``...``/None) or ``<name>: not yet: <hint>``; never the
    expected value (:func:`reveal` shows it). Returns ``student`` when correct, else the
    reference, after one line saying the cells below use the reference.
    """
    ex = get(exercise)
    hint = _verdict(ex, student)
    if hint is None:
        print(f"{ex.name}: correct")
        return student
    print(f"{ex.name}: {hint}" if hint == NOT_ATTEMPTED else f"{ex.name}: not yet: {hint}")
    print(f"{ex.name}: {FALLBACK_TEXT} {ex.reference_name}")
    return ex.reference


def reveal(exercise: str | Exercise) -> Any:
    """Show the example input, the expected value and the reference's source; return the value.

    The only place an expected value is printed: call it explicitly when you are stuck.
    """
    ex = get(exercise)
    case = ex.inputs()[0]
    value = ex.expected()
    with np.printoptions(precision=6, suppress=True):
        print(f"{ex.name}: on the example '{case.label}'")
        for i, arg in enumerate(case.args):
            print(f"  argument {i + 1}: {arg!r}")
        # a float also at 6 digits: its repr (0.51369863...) need not hold the rounded text
        shown = f"{value:.6g} ({value!r})" if isinstance(value, float) else repr(value)
        print(f"  expected: {shown}")
    try:
        source = inspect.getsource(ex.reference)
    except (OSError, TypeError):
        source = ""
    print(f"reference {ex.reference_name}" + (f" ({ex.slide})" if ex.slide else "")
          + (":\n" + source if source else ""))
    return value


def verdicts(text: str) -> dict[str, str]:
    """``{name: verdict}`` of every verdict line in ``text`` (outputs of a notebook run)."""
    return {m["name"]: m["verdict"] for m in VERDICT_RE.finditer(text)}


def cases_of(*cases: Case) -> Callable[[np.random.Generator], list[Case]]:
    """``cases`` for fixed inputs that need no random numbers."""
    return lambda rng: list(cases)
