"""lecture_utils._checks: the shared argument checks, and their use across the modules."""

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lecture_utils._checks import ArgumentTypeError, finite_vector, integer, positive, real
from lecture_utils.analysis import gradcheck, hessian, likelihood, paths, propagation, tiny
from lecture_utils.figures import plots
from lecture_utils.network import functions, initialisers
from lecture_utils.optim import optimizers, schedules, trajectories


def test_argument_type_error_is_a_type_error_only() -> None:
    assert issubclass(ArgumentTypeError, TypeError) and not issubclass(ArgumentTypeError,
                                                                       ValueError)


# --- integer ---------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [3, np.int64(3), np.uint8(3)])
def test_integer_accepts_python_and_numpy_ints(value: object) -> None:
    out = integer("n", value, minimum=0)
    assert out == 3 and type(out) is int


@pytest.mark.parametrize(("value", "shown"), [(2.5, r"2\.5 \(float\)"), (3.0, r"3\.0 \(float\)"),
                                              (True, r"True \(bool\)"), ("3", r"'3' \(str\)"),
                                              (None, r"None \(NoneType\)")])
def test_integer_rejects_other_types(value: object, shown: str) -> None:
    with pytest.raises(ArgumentTypeError, match=f"^n must be an integer >= 1, got {shown}$"):
        integer("n", value, minimum=1)


def test_integer_range_messages() -> None:
    with pytest.raises(ValueError, match=r"^depth must be an integer >= 1, got 0$"):
        integer("depth", 0, minimum=1)
    with pytest.raises(ValueError, match=r"^k must be an integer in \[0, 9\], got 10$"):
        integer("k", 10, minimum=0, maximum=9)
    assert integer("k", 9, minimum=0, maximum=9) == 9


@given(st.integers(-10**6, 10**6), st.integers(-100, 100))
def test_integer_accepts_exactly_the_values_at_or_above_minimum(value: int, minimum: int) -> None:
    if value >= minimum:
        assert integer("n", value, minimum=minimum) == value
    else:
        with pytest.raises(ValueError, match=f"got {value}$"):
            integer("n", value, minimum=minimum)


# --- real numbers ----------------------------------------------------------------------------
@pytest.mark.parametrize("value", [1.5, 2, np.float32(1.5), np.float64(-1.5), np.int32(2)])
def test_real_returns_a_python_float(value: object) -> None:
    out = real("x", value)
    assert out == float(value) and type(out) is float


@pytest.mark.parametrize("value", [True, "1.5", None, np.array(1.5), [1.5]])
def test_real_rejects_non_numbers(value: object) -> None:
    with pytest.raises(ArgumentTypeError, match=r"^x must be a real number, got "):
        real("x", value)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_real_rejects_non_finite(value: float) -> None:
    with pytest.raises(ValueError, match=r"^x must be a finite number, got "):
        real("x", value)


@pytest.mark.parametrize(("value", "allow_zero", "message"), [
    (0.0, False, r"^eta must be finite and > 0, got 0\.0$"),
    (-1, False, "^eta must be finite and > 0, got -1$"),
    (np.inf, False, "^eta must be finite and > 0, got inf$"),
    (np.nan, True, "^eta must be finite and >= 0, got nan$"),
    (-0.5, True, r"^eta must be finite and >= 0, got -0\.5$"),
])
def test_positive_rejects(value: float, allow_zero: bool, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        positive("eta", value, allow_zero=allow_zero)


def test_positive_accepts() -> None:
    assert positive("eta", 0.25) == 0.25
    assert positive("eta", np.float32(2)) == 2.0
    assert positive("decay", 0, allow_zero=True) == 0.0
    with pytest.raises(ArgumentTypeError, match="eta must be a real number, got 'fast'"):
        positive("eta", "fast")


# --- arrays ----------------------------------------------------------------------------------
def test_finite_vector_returns_a_float64_copy() -> None:
    start = np.array([1, 2], dtype=np.int32)
    w = finite_vector("start", start)
    assert w.dtype == np.float64 and w.tolist() == [1.0, 2.0]
    w[0] = 5.0
    assert start[0] == 1
    listed = [0.5, 1.5]
    assert finite_vector("start", listed).tolist() == listed


@pytest.mark.parametrize(("value", "message"), [
    ([[1.0, 2.0]], r"^start must be a flat vector of parameters \(1-D, non-empty\), got shape "
                   r"\(1, 2\)$"),
    ([], r"got shape \(0,\)$"),
    (3.0, r"got shape \(\)$"),
    ([np.nan, 1.0], r"^start must be finite, got \[nan, 1\.0\]$"),
    ([1.0, -np.inf], r"^start must be finite, got \[1\.0, -inf\]$"),
])
def test_finite_vector_rejects(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        finite_vector("start", value)


# --- the modules use the shared checks -------------------------------------------------------
RNG = np.random.default_rng(0)


@pytest.mark.parametrize(("call", "name"), [
    (lambda: functions.one_hot([0], 2.0), "num_classes"),
    (lambda: likelihood.mc_expected_score([0.5, 0.5], [0.0, 0.0], 2.5, RNG), "n"),
    (lambda: gradcheck.numerical_gradient(np.sum, np.ones(2), eps="1e-6"), "eps"),
    (lambda: gradcheck.check_gradients(np.sum, np.ones(2), np.ones(2), max_entries=1.0),
     "max_entries"),
    (lambda: hessian.sample_goe(2.0, 1, RNG), "n"),
    (lambda: hessian.find_critical_point(tiny.TINY_II, [0.5, 0.5], max_iter=True), "max_iter"),
    (lambda: initialisers.weight_variance("standard", 3.0, 3), "fan_in"),
    (lambda: propagation.deep_mlp(3, 4.0, 2, 2), "width"),
    (lambda: propagation.layer_factor(None, 3), "weight_variance"),
    (lambda: optimizers.GradientDescent(None), "lr"),
    (lambda: trajectories.run_trajectory(tiny.TINY_II, optimizers.GradientDescent(0.1),
                                       [0.5, 0.5], 2.5), "steps"),
    (lambda: paths.best_time(print, repeat=1.5), "repeat"),
    (lambda: plots.plot_gradient_step_1d(0.1, steps=2.0), "steps"),
    (lambda: schedules.StepDecay(0.1, 0.5, every=2.0), "every"),
    (lambda: schedules.Constant(0.1)(np.float64(1)), "step"),
    (lambda: tiny.grid(n=11.0), "n"),
    (lambda: tiny.TinyExampleI(x="1"), "x"),
])
def test_modules_report_wrong_types_by_parameter_name(call: Callable[[], object],
                                                      name: str) -> None:
    with pytest.raises(ArgumentTypeError, match=f"^{name} must be "):
        call()
