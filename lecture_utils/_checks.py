"""Argument checks shared by the ``lecture_utils`` modules (private; not part of the API).

Each helper returns the checked value in a plain form (``int``, ``float`` or a float64 array),
so a caller writes ``steps = integer("steps", steps, minimum=0)``, and raises an error that
names the parameter and the expected form: ``"eta must be finite and > 0, got -1"``.

An argument of the wrong type raises :class:`ArgumentTypeError`, an out-of-range one a
``ValueError``. :func:`torch_available` says whether torch is there (not in the browser edition).
"""

from __future__ import annotations

import functools
import numbers

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["ArgumentTypeError", "finite_vector", "integer", "positive", "real",
           "torch_available", "unit_interval"]


@functools.cache
def torch_available() -> bool:
    """Whether torch can be imported here (not in the browser edition: no torch for WebAssembly)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


class ArgumentTypeError(TypeError):
    """An argument of the wrong type, e.g. ``2.5`` or ``True`` where an integer is expected."""


def integer(name: str, value: object, *, minimum: int, maximum: int | None = None) -> int:
    """``value`` as an ``int``: a Python or numpy integer (not a bool) in [minimum, maximum].

    >>> integer("steps", 3, minimum=0)
    3
    """
    form = "an integer " + (f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ArgumentTypeError(f"{name} must be {form}, got {value!r} ({type(value).__name__})")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {form}, got {value}")
    return int(value)


def _number(name: str, value: object) -> float:
    """``value`` as a float if it is a real number (Python or numpy, not a bool)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"{name} must be a real number, got {value!r}")
    return float(value)


def real(name: str, value: object) -> float:
    """``value`` as a float: a finite real number (Python or numpy scalar, not a bool)."""
    x = _number(name, value)
    if not np.isfinite(x):
        raise ValueError(f"{name} must be a finite number, got {value}")
    return x


def positive(name: str, value: object, *, allow_zero: bool = False) -> float:
    """``value`` as a float: a finite real number > 0 (>= 0 with ``allow_zero``)."""
    x = _number(name, value)
    if not (np.isfinite(x) and (x >= 0 if allow_zero else x > 0)):
        raise ValueError(f"{name} must be finite and {'>=' if allow_zero else '>'} 0, "
                         f"got {value}")
    return x


def finite_vector(name: str, value: ArrayLike) -> np.ndarray:
    """``value`` as a new float64 array: a non-empty flat vector (1-D) of finite numbers."""
    w = np.array(value, dtype=np.float64)
    if w.ndim != 1 or w.size == 0:
        raise ValueError(f"{name} must be a flat vector of parameters (1-D, non-empty), "
                         f"got shape {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError(f"{name} must be finite, got {w.tolist()}")
    return w


def unit_interval(name: str, value: object) -> float:
    """``value`` as a float if 0 ≤ value < 1 (a decay or momentum factor)."""
    x = real(name, value)
    if not 0.0 <= x < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    return x
