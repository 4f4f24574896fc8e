"""The exercise check: run a student's function on inputs of its own making, print one verdict.

An :class:`Exercise` bundles the reference implementation (from ``lecture_utils``), a
generator of test inputs, an optional torch oracle, tolerances and the mutants its tests must
reject. :func:`check` prints exactly one verdict line, ``<name>: correct``,
``<name>: not attempted yet`` or ``<name>: not yet: <hint>``, and returns the function the
cells below should use; :func:`reveal` is the only call that shows an expected value, and
:func:`hint` gives the exercise's graded help one step at a time.

What every check tests, whatever the exercise: the student's function is called on copies of
the check's inputs, and the copies are compared bit for bit afterwards (a function never changes
its arguments); the returned value must have the reference's type (an array where an array is
asked, numbers where numbers are; torch tensors are converted, a Python float stands for a
numpy scalar; a correct function that returns tensors where the reference returns arrays is
handed back returning arrays, so the cells below get what they would get from the reference);
float32 work is accepted within float32 rounding; no tolerance is below a few
ulps; an exception is reported with its own message. Without torch (the browser edition) the
torch oracles are simply absent: every answer is still compared with the numpy reference. Run
under nbgrader (``nbgrader
autograde``/``validate`` set ``NBGRADER_EXECUTION``), a check that does not say "correct"
raises, so the check cell is nbgrader's autograded test.
"""

from __future__ import annotations

import copy
import functools
import inspect
import os
import re
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from lecture_utils._checks import torch_available

__all__ = [
    "CHECK_CALL",
    "VERDICT_RE",
    "Case",
    "CheckFailed",
    "Exercise",
    "Mutant",
    "check",
    "diagnose",
    "hint",
    "register",
    "reveal",
    "torch_available",
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
#: The smallest relative tolerance of any check: a few ulps of float64 (never 0).
MIN_RTOL = 4 * float(np.finfo(np.float64).eps)
#: Relative tolerance for work in float32 (about 800 ulps of float32: sums and products of
#: hundreds of terms); an exercise may set its own with ``tolerances={"float32": (rtol, atol)}``.
FLOAT32_RTOL = 1e-4


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
    diagnosis (keys ``"overflow"``, ``"sign"``, ``"factor"``, ``"shift"``, ``"shape"``,
    ``"type"``, ``"changed"``).

    Optional, each with a default that suits most exercises:

    - ``graded_hints``: the graded help, first hint, second hint, ...; :func:`hint` prints the
      next one on each call, then points to :func:`reveal`.
    - ``outputs``: names of the parts of a tuple answer (``("θ", "m", "v")``), so a hint says
      which part is wrong.
    - ``alternatives``: other functions whose values are also right (``np.std(..., ddof=1)``
      where the prompt says only "standard deviation").
    - ``digits``: the prompt asks for a number rounded to this many significant digits; an
      answer within half a unit of the last digit is correct.
    - ``tolerances``: ``{"float32": (rtol, atol)}`` for an answer computed in float32 (default
      ``FLOAT32_RTOL``, atol relative to the answer's size).
    - ``points``: what nbgrader gives for a correct answer (the check cell's points).
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
    graded_hints: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    alternatives: tuple[Callable[..., Any], ...] = ()
    digits: int | None = None
    tolerances: dict[str, tuple[float, float]] = field(default_factory=dict)
    points: int = 1
    #: Slips students really make: ``(slip, hint)``, where ``slip(*args)`` computes the wrong
    #: answer (Newton's step instead of its new point); a value equal to it gets that hint.
    slips: tuple[tuple[Callable[..., Any], str], ...] = ()

    def __post_init__(self) -> None:
        if not NAME_RE.fullmatch(self.name):
            raise ValueError(f"exercise name must match {NAME_RE.pattern}, got {self.name!r}")
        if self.digits is not None and self.digits < 1:
            raise ValueError(f"digits must be a positive number of digits, got {self.digits!r}")
        if self.points < 0:
            raise ValueError(f"points must be >= 0, got {self.points!r}")

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


# --------------------------------------------------------------------------- arguments
def _is_tensor(value: Any) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def _as_numpy(value: Any) -> Any:
    """A torch tensor as a numpy array (bfloat16 by way of float32); anything else unchanged."""
    if _is_tensor(value):
        value = value.detach().cpu()
        return (value.float() if str(value.dtype) == "torch.bfloat16" else value).numpy()
    return value


def _holds_tensor(value: Any) -> bool:
    """Whether ``value`` is (or holds, in a tuple or list) a torch tensor."""
    if isinstance(value, list | tuple):
        return any(_holds_tensor(v) for v in value)
    return _is_tensor(value)


def _tensors_to_numpy(value: Any) -> Any:
    """``value`` with each torch tensor as numpy: an array, or a Python number for a 0-d one."""
    if isinstance(value, list | tuple):
        return type(value)(_tensors_to_numpy(v) for v in value)
    if _is_tensor(value):
        return value.item() if value.ndim == 0 else _as_numpy(value)
    return value


def _returning_arrays(student: Callable[..., Any]) -> Callable[..., Any]:
    """``student``, returning numpy where it returns torch tensors (what the reference returns)."""
    @functools.wraps(student)
    def returning_arrays(*args: Any, **kwargs: Any) -> Any:
        return _tensors_to_numpy(student(*args, **kwargs))
    return returning_arrays


def _copied(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Deep copies of the arguments (arrays, lists of arrays, objects), so a function that
    changes its input harms nothing; an argument that cannot be copied is passed as it is."""
    copies = []
    for arg in args:
        try:
            copies.append(copy.deepcopy(arg))
        except Exception:  # a generator, a lock: nothing to protect
            copies.append(arg)
    return tuple(copies)


def _same(a: Any, b: Any, depth: int = 0) -> bool:
    """Whether ``a`` still holds what its copy ``b`` holds: arrays and tensors bit for bit,
    containers and objects entry by entry. A random generator is used up on purpose."""
    if depth > 20 or isinstance(a, np.random.Generator | np.random.RandomState):
        return True
    if _is_tensor(a) and _is_tensor(b):
        a, b = _as_numpy(a), _as_numpy(b)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return False
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        if a.dtype.hasobject:
            return all(_same(x, y, depth + 1) for x, y in zip(a.ravel(), b.ravel(), strict=True))
        return np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()
    if isinstance(a, list | tuple):
        return (type(a) is type(b) and len(a) == len(b)
                and all(_same(x, y, depth + 1) for x, y in zip(a, b, strict=True)))
    if isinstance(a, dict):
        return (isinstance(b, dict) and a.keys() == b.keys()
                and all(_same(a[k], b[k], depth + 1) for k in a))
    if isinstance(a, types.MethodType):  # surface.gradient: the object it is bound to
        return isinstance(b, types.MethodType) and _same(a.__self__, b.__self__, depth + 1)
    if isinstance(a, types.FunctionType | types.BuiltinFunctionType | types.ModuleType | type):
        return True
    if hasattr(a, "__dict__"):  # an object (a network, a cost surface): its attributes
        return type(a) is type(b) and _same(vars(a), vars(b), depth + 1)
    try:
        return bool(a == b) or (a != a and b != b)  # a NaN stays a NaN
    except Exception:  # no comparison: nothing to say
        return True


def _parameter_names(fn: Callable[..., Any], n: int) -> list[str]:
    """The names of ``fn``'s first ``n`` positional parameters (``argument 3`` where unknown)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    positional = [p.name for p in params
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return [positional[i] if i < len(positional) else f"argument {i + 1}" for i in range(n)]


class _Changed(BaseException):
    """The student's function changed its argument ``name`` (raised by :func:`_watched`).

    A BaseException, so that no ``except Exception`` on the way (the student's, a verify's)
    turns the finding into another hint."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _watched(student: Callable[..., Any]) -> Callable[..., Any]:
    """``student``, comparing its arguments before and after each call (raises _Changed)."""
    def call(*args: Any) -> Any:
        before = _copied(args)
        result = student(*args)
        for name, arg, kept in zip(_parameter_names(student, len(args)), args, before,
                                   strict=True):
            if kept is not arg and not _same(arg, kept):
                raise _Changed(name)
        return result
    return call


def _changed_hint(name: str, label: str, ex: Exercise) -> str:
    fix = ex.hints.get("changed", f"build a new array (`{name} = {name} - ...`, not "
                                  f"`{name} -= ...`) or work on `{name}.copy()`")
    return f"your function changed its argument `{name}` on the input '{label}': {fix}"


# --------------------------------------------------------------------------- diagnosis
def _is_missing(value: Any) -> bool:
    return value is Ellipsis or value is None


def _is_number(value: Any) -> bool:
    if _is_tensor(value) or isinstance(value, np.ndarray):
        return value.ndim == 0
    return isinstance(value, int | float | np.number | np.bool_)


def _kind(value: Any) -> str:
    """What came back, in words: 'a list', 'a generator', 'a numpy array of shape (3,)'."""
    if isinstance(value, np.ndarray):
        return f"a numpy array of shape {value.shape}"
    if _is_tensor(value):
        return f"a torch tensor of shape {tuple(value.shape)}"
    if isinstance(value, types.GeneratorType):
        return "a generator"
    name = type(value).__name__
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"


def _type_hint(got: Any, want: Any, ex: Exercise) -> str | None:
    """None if ``got`` is of the kind the answer asks for (tensors and Python numbers
    accepted), else what came back and what is expected."""
    tip = f" ({ex.hints['type']})" if "type" in ex.hints else ""
    if isinstance(want, tuple | list):
        parts = f" ({', '.join(ex.outputs)})" if ex.outputs else ""
        if not isinstance(got, tuple | list):
            return (f"your function returned {_kind(got)}, expected a tuple of {len(want)} "
                    f"values{parts}{tip}")
        if len(got) != len(want):
            return f"your function returned {len(got)} values, expected {len(want)}{parts}{tip}"
        return None
    if isinstance(want, np.ndarray) and want.ndim > 0:
        if isinstance(got, np.ndarray) or _is_tensor(got):
            return None
        if isinstance(got, types.GeneratorType | Iterator):
            return ("your function returned a generator, expected a numpy array (a generator "
                    f"yields its values once, lazily: build the array with np.array([...])){tip}")
        if isinstance(got, list | tuple):
            return (f"your function returned {_kind(got)}, expected a numpy array "
                    f"(np.array(...) makes one){tip}")
        if _is_number(got):
            return (f"your function returned a number ({type(got).__name__}), expected a numpy "
                    f"array of shape {want.shape}{tip}")
        return f"your function returned {_kind(got)}, expected a numpy array{tip}"
    if _is_number(want):
        if _is_number(got):
            return None
        if isinstance(got, np.ndarray) or _is_tensor(got):
            return (f"your function returned {_kind(got)}, expected a single number "
                    f"(float(...) makes one){tip}")
        return f"your function returned {_kind(got)}, expected a number{tip}"
    return None


def _holds_float32(value: Any) -> bool:
    """Whether an argument is (or holds, in a list) float32 numbers."""
    if isinstance(value, list | tuple):
        return any(_holds_float32(v) for v in value)
    return str(getattr(value, "dtype", "")).endswith(("float32", "float16"))


def _in_float32(got: Any, args: tuple[Any, ...]) -> bool:
    """Whether the answer was worked out in float32: a float32 result (numpy or torch), a
    float32 input, or float64 values that are all float32 numbers (a converted result)."""
    if _holds_float32(got) or _holds_float32(args):
        return True
    g = np.asarray(_as_numpy(got))
    if g.dtype != np.float64:
        return False
    v = g[np.isfinite(g)]
    v = v[v != np.round(v)]  # whole numbers are float32 numbers too: no evidence
    return v.size > 0 and bool(np.all(v.astype(np.float32).astype(np.float64) == v))


def _scale(w: np.ndarray) -> float:
    finite = np.abs(w[np.isfinite(w)])
    return float(finite.max()) if finite.size else 0.0


def _tolerance(ex: Exercise, w: np.ndarray, float32: bool) -> tuple[float, float]:
    """(rtol, atol): the exercise's, never below a few ulps; float32's where it applies."""
    scale = _scale(w)
    rtol, atol = max(ex.rtol, MIN_RTOL), max(ex.atol, MIN_RTOL * scale)
    if float32:
        rtol32, atol32 = ex.tolerances.get("float32", (FLOAT32_RTOL, FLOAT32_RTOL * scale))
        rtol, atol = max(rtol, rtol32), max(atol, atol32)
    return rtol, atol


def _close(got: np.ndarray, want: np.ndarray, rtol: float, atol: float) -> bool:
    return got.shape == want.shape and bool(np.allclose(got, want, rtol=rtol, atol=atol))


def _rounded_as_asked(g: np.ndarray, w: np.ndarray, digits: int) -> bool:
    """Whether ``g`` is ``w`` to ``digits`` significant digits (half a unit of the last)."""
    if g.shape != w.shape or not np.all(np.isfinite(w)):
        return False
    exponent = np.floor(np.log10(np.where(w == 0, 1.0, np.abs(w))))
    unit = 10.0 ** (exponent - digits + 1)
    return bool(np.all(np.abs(g - w) <= 0.5 * unit * (1 + 1e-9)))


def _diagnose(got: Any, want: Any, ex: Exercise, label: str,
              args: tuple[Any, ...] = ()) -> tuple[str | None, str]:
    """(hint, note): the hint is None when ``got`` matches ``want``; the note then says
    where float32 rounding is the only difference."""
    if _is_missing(got):
        return NOT_ATTEMPTED, ""
    wrong_type = _type_hint(got, want, ex)
    if wrong_type:
        return wrong_type, ""
    if isinstance(want, tuple | list):  # several values (θ, m, v): each one, named
        notes = []
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            hint, note = _diagnose(g, w, ex, label, args)
            if hint == NOT_ATTEMPTED:
                return hint, ""
            if hint is not None:
                part = ex.outputs[i] if i < len(ex.outputs) else f"value {i + 1}"
                return f"{part} (returned value {i + 1} of {len(want)}): {hint}", ""
            notes.append(note)
        return None, next((n for n in notes if n), "")
    try:
        g = np.asarray(_as_numpy(got), dtype=float)
    except (TypeError, ValueError):
        return f"your function returned {_kind(got)}, expected numbers", ""
    w = np.asarray(_as_numpy(want), dtype=float)
    tip = ex.hints
    float32 = _in_float32(got, args)
    rtol, atol = _tolerance(ex, w, float32)
    if g.shape != w.shape:
        if g.ndim == 2 and g.T.shape == w.shape and _close(g.T, w, rtol, atol):
            return "transposed: your result is the transpose of the answer", ""
        return (f"wrong shape {g.shape}, expected shape {w.shape}"
                + (f" ({tip['shape']})" if "shape" in tip else "")), ""
    if ex.check_dtype:
        g_dtype, w_dtype = np.asarray(_as_numpy(got)).dtype, np.asarray(_as_numpy(want)).dtype
        if g_dtype != w_dtype:
            return f"dtype {g_dtype}, expected {w_dtype} (keep the input's dtype)", ""
    if not np.all(np.isfinite(g[np.isfinite(w)])):
        return (f"NaN or inf on the input '{label}' where the answer is finite (overflow): "
                + tip.get("overflow", "rewrite it so that no intermediate overflows")), ""
    scale = max(_scale(w), atol)
    err = float(np.max(np.abs(g - w))) if g.size else 0.0
    if _close(g, w, rtol, atol):
        if _close(g, w, *_tolerance(ex, w, False)) or _holds_float32(want):
            return None, ""
        return None, (f"up to float32 rounding (relative error {err / scale:.0e}; in float64 "
                      f"the check asks {max(ex.rtol, MIN_RTOL):.0e})")
    if ex.digits is not None and _rounded_as_asked(g, w, ex.digits):
        return None, ""
    if _close(-g, w, rtol, atol):
        return "wrong sign" + (f" ({tip['sign']})" if "sign" in tip else ""), ""
    big = np.abs(w) > max(atol, 1e-12) * 10
    if big.any():  # a constant factor that explains the error (not rounding: r is not ~1)
        r = float(np.median(g[big] / w[big]))
        if (r != 0 and abs(r - 1) > 10 * rtol
                and np.allclose(g, r * w, rtol=rtol * 10, atol=atol * 10)
                and float(np.max(np.abs(g - r * w))) < 0.1 * err):
            factor = _factor_name(abs(r), scalar=g.size == 1)
            if factor:
                sign = "wrong sign and off " if r < 0 else "off "
                return sign + factor + (f" ({tip['factor']})" if "factor" in tip else ""), ""
    shift = float(np.median(g - w))
    if (w.size > 1 and abs(shift) > 10 * atol
            and np.allclose(g, w + shift, rtol=rtol * 10, atol=atol * 10)
            and float(np.max(np.abs(g - w - shift))) < 0.1 * err):
        return ("off by an additive constant"
                + (f" ({tip['shift']})" if "shift" in tip else "")), ""
    precision = " for float32" if float32 else ""
    return (f"relative error {err / scale:.0e} on the input '{label}' "
            f"(tolerance {rtol:.0e}{precision})"), ""


def diagnose(got: Any, want: Any, ex: Exercise, label: str) -> str | None:
    """None if ``got`` matches ``want``, else a hint that never states ``want``.

    In order: missing, the wrong kind of value (a list or generator for an array, an array
    for a number), wrong shape (or transposed), dtype (if the exercise asks), NaN/inf where
    the answer is finite (overflow), wrong sign, off by a constant factor (named if it is 2,
    1/2 or a whole number), off by an additive constant, else the size of the relative error.
    A float32 answer is held to float32's tolerance, and no tolerance is below a few ulps.
    """
    return _diagnose(got, want, ex, label)[0]


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


# --------------------------------------------------------------------------- check, reveal, hint
class CheckFailed(AssertionError):
    """Raised by :func:`check` under nbgrader when the answer is not correct: the failed test."""


class _Result(NamedTuple):
    verdict: str  # "correct", NOT_ATTEMPTED or "not yet"
    text: str = ""  # the hint after "not yet: ", or a note after "correct: "
    tensors: bool = False  # correct, with torch tensors where the reference returns numpy

    def line(self, name: str) -> str:
        return f"{name}: {self.verdict}" + (f": {self.text}" if self.text else "")


#: The last verdict of each exercise in this kernel: a check cell run again repeats it.
_LAST: dict[str, _Result] = {}
_HINTS_SHOWN: dict[str, int] = {}


def _not_yet(hint: str) -> _Result:
    return _Result(NOT_ATTEMPTED) if hint == NOT_ATTEMPTED else _Result("not yet", hint)


def _raised(err: Exception, label: str) -> str:
    message = " ".join(str(err).split())
    message = message if len(message) <= 200 else message[:197] + "..."
    return (f"your function raised {type(err).__name__}" + (f": {message}" if message else "")
            + f" on the input '{label}'")


def _verdict(ex: Exercise, student: Any) -> _Result:
    """The check's finding: correct (with a note on float32), not attempted, or a hint."""
    if not callable(student):
        if _is_missing(student):
            return _Result(NOT_ATTEMPTED)
        return _Result("not yet", "pass the function itself (its name, without calling it)")
    watched = _watched(student)
    notes, tensors = [], False
    for case in ex.inputs():
        try:
            with np.errstate(all="ignore"):  # the hint names the overflow instead
                if ex.verify is not None:
                    hint = ex.verify(watched, case)
                    if hint is not None:
                        return _not_yet(hint)
                    continue
                got = watched(*_copied(case.args))
        except NotImplementedError:
            return _Result(NOT_ATTEMPTED)
        except _Changed as changed:
            return _Result("not yet", _changed_hint(changed.name, case.label, ex))
        except Exception as err:  # the student's code: any error is a hint, not a crash
            return _Result("not yet", _raised(err, case.label))
        with np.errstate(all="ignore"):
            want = ex.reference(*_copied(case.args))
            hint, note = _diagnose(got, want, ex, case.label, case.args)
            if hint not in (None, NOT_ATTEMPTED) and any(
                    _diagnose(got, alt(*_copied(case.args)), ex, case.label, case.args)[0]
                    is None for alt in ex.alternatives):
                hint = None
            elif hint is None and ex.oracle is not None and torch_available():
                hint = _diagnose(got, ex.oracle(*_copied(case.args)), ex, case.label,
                                 case.args)[0]
            if hint not in (None, NOT_ATTEMPTED):
                hint = next((text for slip, text in ex.slips if _diagnose(
                    got, slip(*_copied(case.args)), ex, case.label, case.args)[0] is None), hint)
        if hint is not None:
            return _not_yet(hint)
        notes.append(note)
        tensors = tensors or (_holds_tensor(got) and not _holds_tensor(want))
    return _Result("correct", next((n for n in notes if n), ""), tensors)


def _graded() -> bool:
    """Whether nbgrader runs this notebook (autograde or validate set NBGRADER_EXECUTION)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def check(exercise: str | Exercise, student: Callable[..., Any] | Any) -> Callable[..., Any]:
    """Check ``student`` against the exercise's reference; print one verdict line.

    Prints ``<name>: correct`` (``correct: up to float32 rounding ...`` where that is the
    only difference), ``<name>: not attempted yet`` (the function raises NotImplementedError
    or returns ``...``/None) or ``<name>: not yet: <hint>``; never the expected value
    (:func:`reveal` shows it). Returns ``student`` when correct (converting the torch tensors
    it returns to numpy where the reference returns numpy), else the reference, after one
    line saying the cells below use the reference.

    Run again on the reference it returned (the caller's name for the exercise still pointing
    at it), the check repeats its last verdict: the cell gives the same answer twice. Under
    nbgrader a verdict other than "correct" raises :class:`CheckFailed` after printing, with
    the caller's name for the function already pointing at the reference, so that later
    exercises are graded on their own.
    """
    ex = get(exercise)
    caller = sys._getframe(1).f_globals  # the notebook's names: `softmax = check(..., softmax)`
    # the cell run again: its name has pointed at the reference since the last verdict
    again = student is ex.reference and caller.get(ex.name) is student and ex.name in _LAST
    result = _LAST[ex.name] if again else _verdict(ex, student)
    _LAST[ex.name] = result
    print(result.line(ex.name))
    if result.verdict == "correct":
        return _returning_arrays(student) if result.tensors else student
    print(f"{ex.name}: {FALLBACK_TEXT} {ex.reference_name}")
    if again:
        print(f"{ex.name}: (the verdict of the last check: `{ex.name}` has been the reference "
              "since; run the cell with your function again, then this one)")
    if _graded():
        if caller.get(ex.name) is student:
            caller[ex.name] = ex.reference
        raise CheckFailed(result.line(ex.name))
    return ex.reference


def hint(exercise: str | Exercise, number: int | None = None) -> None:
    """Print the exercise's next hint: graded help, a first hint, a second, ..., then reveal.

    ``hint("softmax")`` prints hint 1 on the first call, hint 2 on the next, and once all are
    shown points to ``reveal("softmax")``; ``hint("softmax", 2)`` prints hint 2 again.
    """
    ex = get(exercise)
    steps = ex.graded_hints
    if number is None:
        number = _HINTS_SHOWN.get(ex.name, 0) + 1
    elif not 1 <= number <= max(len(steps), 1):
        raise ValueError(f"number must be 1 to {len(steps)} for {ex.name!r}, got {number!r}")
    last = f'reveal("{ex.name}") shows the expected value and the reference\'s code'
    if number > len(steps):
        where = f"; the slide \"{ex.slide}\" has the formula" if ex.slide else ""
        print(f"{ex.name}: no more hints{where}; {last}" if steps
              else f"{ex.name}: no hints for this exercise{where}; {last}")
        return
    _HINTS_SHOWN[ex.name] = max(_HINTS_SHOWN.get(ex.name, 0), number)
    print(f"{ex.name}, hint {number} of {len(steps)}: {steps[number - 1]}")
    if number == len(steps):
        print(f"{ex.name}: still stuck? {last}")


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
