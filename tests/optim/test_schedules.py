"""lecture_utils.optim.schedules: the step sizes η_k each schedule gives, and bad arguments."""

from __future__ import annotations

import numpy as np
import pytest

from lecture_utils.optim.schedules import Constant, Exponential, InverseTime, Linear, StepDecay


def test_constant() -> None:
    assert Constant(0.1)(0) == Constant(0.1)(10_000) == 0.1


def test_step_decay_drops_by_factor_every_s_updates() -> None:
    s = StepDecay(0.1, factor=0.5, every=600)
    assert [s(k) for k in (0, 599, 600, 1199, 1200)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])


def test_exponential_is_the_smooth_step_decay() -> None:
    s = Exponential(0.1, factor=0.5, every=600)
    assert s(0) == 0.1
    assert s(600) == pytest.approx(0.05)
    assert s(300) == pytest.approx(0.1 / np.sqrt(2))
    assert Exponential(1.0, 0.9)(2) == pytest.approx(0.81)


def test_inverse_time_halves_after_tau() -> None:
    s = InverseTime(0.2, tau=1000)
    assert [s(0), s(1000), s(3000)] == pytest.approx([0.2, 0.1, 0.05])


def test_linear_decays_then_stays() -> None:
    s = Linear(0.1, 0.001, tau=100)
    assert [s(0), s(50), s(100), s(10**6)] == pytest.approx([0.1, 0.0505, 0.001, 0.001])


def test_values_matches_calls_and_accepts_numpy_ints() -> None:
    s = StepDecay(1.0, 0.1, 3)
    np.testing.assert_allclose(s.values(7), [1, 1, 1, 0.1, 0.1, 0.1, 0.01])
    assert s(np.int64(3)) == pytest.approx(0.1)
    assert s.values(0).shape == (0,)
    assert isinstance(s(1), float)


@pytest.mark.parametrize(("make", "error", "match"), [
    (lambda: Constant(0), ValueError, "lr must be finite and > 0, got 0"),
    (lambda: Constant(float("nan")), ValueError, "lr must be finite"),
    (lambda: Constant("0.1"), TypeError, "lr must be a real number"),
    (lambda: StepDecay(0.1, 1.5, 10), ValueError, r"factor must be in \(0, 1\]"),
    (lambda: StepDecay(0.1, 0.5, 0), ValueError, "every must be an integer >= 1, got 0"),
    (lambda: Exponential(0.1, 0.5, every=-1), ValueError, "every must be finite and > 0"),
    (lambda: InverseTime(0.1, tau=0), ValueError, "tau must be finite and > 0"),
    (lambda: Linear(0.1, 0.0, tau=10), ValueError, "lr_end must be finite and > 0"),
    (lambda: Linear(0.1, 0.01, tau=2.5), TypeError, "tau must be an integer >= 1"),
])
def test_bad_arguments(make, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        make()


def test_bad_step() -> None:
    with pytest.raises(ValueError, match="step must be an integer >= 0, got -1"):
        Constant(0.1)(-1)
    with pytest.raises(TypeError, match="step must be an int"):
        Constant(0.1)(1.5)
    with pytest.raises(ValueError, match="n must be an integer >= 0, got -2"):
        Constant(0.1).values(-2)
