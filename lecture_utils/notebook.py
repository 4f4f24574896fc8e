"""What the first cell of every notebook calls: seeds, threads, plot style, check cells."""

from __future__ import annotations

import random

import numpy as np


def setup(seed: int = 0) -> np.random.Generator:
    """Seed every generator, pin torch to one thread and apply the shared plot style.

    Returns the notebook's one ``numpy.random.Generator``. One thread keeps float
    results identical across machines, so nbval can compare stored outputs.
    """
    import torch

    from lecture_utils import plots

    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - for third-party code that still uses the legacy global
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    np.set_printoptions(precision=4, suppress=True)
    plots.use_style()
    return np.random.default_rng(seed)


def check(name: str, expected: float | np.ndarray, value: object, rtol: float = 1e-6,
          atol: float = 1e-12) -> bool:
    """Print ``name: expected ... / your value ...`` and whether they agree (exercise check cells).

    ``value`` may still be the exercise's ``...`` placeholder: then it says so and returns False.
    """
    if value is Ellipsis or value is None:
        print(f"{name}: expected {_fmt(np.asarray(expected, dtype=float))} / your value: "
              "not filled in yet (replace the ... in the exercise cell)")
        return False
    expected_arr = np.asarray(expected, dtype=float)
    value_arr = np.asarray(value, dtype=float)
    if expected_arr.shape != value_arr.shape:
        print(f"{name}: expected shape {expected_arr.shape} / your shape {value_arr.shape}"
              " -> not yet")
        return False
    ok = bool(np.allclose(value_arr, expected_arr, rtol=rtol, atol=atol))
    print(f"{name}: expected {_fmt(expected_arr)} / your value {_fmt(value_arr)} -> "
          f"{'correct' if ok else 'not yet'}")
    return ok


def _fmt(a: np.ndarray) -> str:
    if a.ndim == 0:
        return f"{float(a):.6g}"
    return np.array2string(a, precision=6, separator=", ")
