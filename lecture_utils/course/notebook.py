"""What every notebook calls: ``setup`` (seeds, threads, plot style) and ``show`` (figures with
alt text)."""

from __future__ import annotations

import random

import numpy as np


def setup(seed: int = 0, threads: int | None = None) -> np.random.Generator:
    """Seed every generator, choose the threads of numpy's BLAS and torch, apply the plot style.

    Returns the notebook's one ``numpy.random.Generator``. ``threads``: None for the lecture's
    setting (one thread, fastest for its small matrices even on a busy machine; see
    :mod:`lecture_utils.course.threads`), or the number you want, e.g. ``setup(seed=0,
    threads=4)``.
    """
    from lecture_utils.course import threads as thread_choice
    from lecture_utils.figures import plots

    thread_choice.use(threads)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - for third-party code that still uses the legacy global
    try:
        import torch
    except ImportError:  # the browser edition: no torch for WebAssembly, nothing to seed
        pass
    else:
        torch.manual_seed(seed)
    np.set_printoptions(precision=4, suppress=True)
    plots.use_style()
    return np.random.default_rng(seed)


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
