"""What every notebook calls: ``setup`` (seeds, threads, plot style) and ``show`` (alt text)."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lecture_utils.course.notebook import setup

# The Makefile's THREADS variable (``make test`` and ``make outputs`` run under it).
MAKEFILE_THREADS = dict(re.findall(r"(\w+)=(\w+)", re.search(
    r"^THREADS :=(.*)$", (Path(__file__).parents[2] / "Makefile").read_text(), re.M)[1]))


def test_setup_seeds_every_generator() -> None:
    first = setup(seed=3).normal(size=3), torch.rand(2)
    second = setup(seed=3).normal(size=3), torch.rand(2)
    np.testing.assert_array_equal(first[0], second[0])
    torch.testing.assert_close(first[1], second[1])


THREADS_AFTER_SETUP = ("from lecture_utils.course.notebook import setup; import torch; setup(); "
                       "print(torch.get_num_threads())")


def test_setup_chooses_the_threads_and_the_makefile_agrees() -> None:
    """A student's notebook gets the lecture's setting from setup(); the Makefile's THREADS,
    which the unit tests run under, give the same."""
    from lecture_utils.course.threads import LECTURE_THREADS

    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}

    def threads(extra: dict[str, str]) -> int:
        done = subprocess.run([sys.executable, "-c", THREADS_AFTER_SETUP], env=env | extra,
                              capture_output=True, text=True, check=True, timeout=120)
        return int(done.stdout.split()[-1])

    assert threads({}) == LECTURE_THREADS == threads(MAKEFILE_THREADS)


def test_show_stores_the_figure_with_its_alt_text(monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib.pyplot as plt
    from IPython.core.formatters import DisplayFormatter

    from lecture_utils.course import notebook

    shown: list[tuple[dict, dict]] = []
    monkeypatch.setattr("IPython.display.display",
                        lambda obj: shown.append(DisplayFormatter().format(obj)))
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    notebook.show(fig, "a falling line")
    (data, metadata), = shown
    assert base64.b64decode(data["image/png"]).startswith(b"\x89PNG")
    assert metadata["image/png"]["alt"] == "a falling line"
    assert not plt.fignum_exists(fig.number)
    with pytest.raises(ValueError, match="alt"):
        notebook.show(plt.figure(), " ")
