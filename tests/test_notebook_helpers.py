"""The first cell of every notebook (``setup``) and the exercise check cells (``check``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lecture_utils.notebook import check, setup


def test_setup_seeds_every_generator_and_pins_one_thread() -> None:
    threads = torch.get_num_threads()
    try:
        first = setup(seed=3).normal(size=3), torch.rand(2)
        second = setup(seed=3).normal(size=3), torch.rand(2)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)
    np.testing.assert_array_equal(first[0], second[0])
    torch.testing.assert_close(first[1], second[1])


def test_check_prints_expected_and_your_value(capsys: pytest.CaptureFixture[str]) -> None:
    assert check("slope", 2.0, 2.0 + 1e-9)
    assert capsys.readouterr().out == "slope: expected 2 / your value 2 -> correct\n"
    assert not check("slope", 2.0, 2.5)
    assert "expected 2 / your value 2.5 -> not yet" in capsys.readouterr().out


def test_check_reports_a_shape_mismatch(capsys: pytest.CaptureFixture[str]) -> None:
    assert not check("one-hot", np.eye(10)[9], np.zeros(11))
    assert "expected shape (10,) / your shape (11,)" in capsys.readouterr().out


def test_check_accepts_an_unfilled_exercise(capsys: pytest.CaptureFixture[str]) -> None:
    assert not check("answer", 1.0, ...)
    assert "not filled in yet" in capsys.readouterr().out
