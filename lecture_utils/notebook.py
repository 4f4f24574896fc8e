"""What the first cell of every notebook calls: seeds, plot style, check cells."""

from __future__ import annotations

import random

import numpy as np


def setup(seed: int = 0) -> np.random.Generator:
    """Seed every generator and apply the shared plot style.

    Returns the notebook's one ``numpy.random.Generator``. Threads are left to the machine
    (a student gets all cores); where stored outputs are made and compared (``make outputs``,
    ``make test``) the environment sets ``OMP_NUM_THREADS=1``, which torch and OpenBLAS obey.
    """
    import torch

    from lecture_utils import plots

    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - for third-party code that still uses the legacy global
    torch.manual_seed(seed)
    np.set_printoptions(precision=4, suppress=True)
    plots.use_style()
    return np.random.default_rng(seed)


def check(name: str, expected: float | np.ndarray, value: object, rtol: float = 1e-6,
          atol: float = 1e-12) -> bool:
    """Print ``name: expected ... / your value ...`` and whether they agree (numerical checks).

    ``value`` may still be an exercise's ``...`` placeholder: then it says "not filled in yet"
    without the expected value, and returns False. Coding exercises use
    :func:`lecture_utils.exercises.check`, which never shows the expected value.
    """
    if value is Ellipsis or value is None:
        print(f"{name}: not filled in yet (replace the ... in the exercise cell)")
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


def show(fig: object, alt: str) -> None:
    """Display a matplotlib figure as a PNG with its text description, then close it.

    ``alt`` is stored in the output's metadata (``{"image/png": {"alt": alt}}``), where
    JupyterLab, screen readers and the static site read it. Use it instead of ``plt.show()``.
    """
    import matplotlib.pyplot as plt
    from IPython.core.pylabtools import print_figure
    from IPython.display import Image, display

    if not isinstance(alt, str) or not alt.strip():
        raise ValueError(f"alt must be a non-empty description of the figure, got {alt!r}")
    display(Image(data=print_figure(fig, "png"), alt=alt.strip()))
    plt.close(fig)
