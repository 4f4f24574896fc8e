"""Notebook 06's exercise references do what the notebook says they do (the shared harness,
tests/exercises/test_exercise_checks.py, runs the checks and mutants themselves)."""

from __future__ import annotations

import numpy as np
import pytest

from lecture_utils.analysis.tiny import TINY_II
from lecture_utils.exercises import nb06


def test_noisy_gradient_descent_stays_at_the_saddle_only_without_noise() -> None:
    still = nb06.noisy_gradient_descent(TINY_II, np.zeros(2), 0.1, 0.0, 100, 0)
    noisy = nb06.noisy_gradient_descent(TINY_II, np.zeros(2), 0.1, 0.05, 100, 0)
    assert still.shape == (101, 2) and np.all(still == 0)
    assert np.min(np.linalg.norm(TINY_II.minima - noisy[-1], axis=1)) < 0.05
    np.testing.assert_array_equal(noisy, nb06.noisy_gradient_descent(TINY_II, np.zeros(2), 0.1,
                                                                      0.05, 100, 0))


@pytest.mark.parametrize("w", [[0.0, 0.0], [0.3, -1.1], [1.2083, 1.2083]])
def test_the_finite_difference_hessian_is_the_exact_one(w: list[float]) -> None:
    np.testing.assert_allclose(nb06.hessian_fd(TINY_II, np.array(w)), TINY_II.hessian(np.array(w)),
                               atol=1e-8)


def test_the_value_answers() -> None:
    np.testing.assert_allclose(nb06.hessian_at_minimum(), TINY_II.hessian(TINY_II.minima[0]))
    assert int(np.ceil(nb06.stall_steps())) == 47
    assert nb06.index_at_zero() == pytest.approx(108 / 334)
