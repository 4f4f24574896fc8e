"""The warm-up exercises of notebook 00: one gradient-descent step and a derivative by hand."""

import numpy as np
import pytest

from lecture_utils.exercises import check, nb00


def test_the_reference_step_leaves_theta_alone() -> None:
    theta = np.array([1.0, -2.0])
    new = nb00.gd_step(theta, np.array([0.5, 1.0]), 0.1)
    np.testing.assert_allclose(new, [0.95, -2.1], rtol=1e-12)
    np.testing.assert_array_equal(theta, [1.0, -2.0])


def test_a_step_uphill_is_told_its_sign(capsys: pytest.CaptureFixture[str]) -> None:
    """The wrong answer notebook 00 shows: the check names the sign and falls back."""
    assert check("gd_step", lambda theta, grad, eta: theta + eta * grad) is nb00.gd_step
    out = capsys.readouterr().out
    assert "gd_step: not yet: wrong sign" in out
    assert "gd_step: the cells below use the reference implementation" in out


def test_a_step_that_forgets_eta_is_told_the_factor(capsys: pytest.CaptureFixture[str]) -> None:
    check("gd_step", lambda theta, grad, eta: theta - grad)
    assert "gd_step: not yet: off by a whole-number factor" in capsys.readouterr().out


def test_the_derivative_of_the_cube() -> None:
    np.testing.assert_allclose(nb00.cube_derivative(np.array([-1.0, 0.5, 2.0])),
                               [3.0, 0.75, 12.0], rtol=1e-12)
