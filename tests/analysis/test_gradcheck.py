"""lecture_utils.analysis.gradcheck: finite differences, relative errors and the comparison
table."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lecture_utils.analysis.gradcheck import (
    GradientCheck,
    check_gradients,
    max_relative_error,
    numerical_gradient,
    relative_error,
)
from lecture_utils.analysis.tiny import TinyExampleI


def test_relative_error_definition() -> None:
    np.testing.assert_allclose(relative_error([1.0, 0.0, -2.0], [1.1, 0.0, 2.0]),
                               [0.1 / 1.1, 0.0, 2.0])
    assert relative_error(1e-13, 0.0) == pytest.approx(0.1)  # the floor `tiny` applies
    assert max_relative_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 2.2)
    assert max_relative_error(np.zeros(0), np.zeros(0)) == 0.0
    with pytest.raises(ValueError, match=r"tiny must be finite and > 0, got 0\.0"):
        relative_error(1.0, 1.0, tiny=0.0)


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, st.integers(1, 5), elements=st.floats(-3, 3)))
def test_numerical_gradient_of_quadratic_and_sine(x: np.ndarray) -> None:
    a = np.arange(1.0, x.size + 1)
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(a * v**2), x), 2 * a * x,
                               atol=1e-6)
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(np.sin(v)), x), np.cos(x),
                               atol=1e-8)


def test_numerical_gradient_keeps_shape_and_input() -> None:
    x = np.arange(6.0).reshape(2, 3)
    g = numerical_gradient(lambda m: np.sum(m @ m.T), x)
    assert g.shape == (2, 3)
    np.testing.assert_allclose(g, 2 * np.ones((2, 2)) @ x, rtol=1e-8)
    np.testing.assert_array_equal(x, np.arange(6.0).reshape(2, 3))
    with pytest.raises(ValueError, match=r"eps must be finite and > 0, got 0\.0"):
        numerical_gradient(np.sum, x, eps=0.0)


def test_numerical_gradient_error_is_second_order() -> None:
    f, x = (lambda v: float(np.exp(v[0]))), np.array([0.3])
    errors = [abs(numerical_gradient(f, x, eps)[0] - np.exp(0.3)) for eps in (1e-2, 1e-3)]
    assert 80 < errors[0] / errors[1] < 120  # O(eps²)


def network_params(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=3)}


X = np.array([0.1, -0.2, 0.3, 0.4])  # small inputs: tanh far from saturation


def net_np(p):
    return np.sum(np.tanh(p["W"] @ X + p["b"]) ** 2)


def net_torch(p):
    return torch.sum(torch.tanh(p["W"] @ torch.from_numpy(X) + p["b"]) ** 2)


def net_grad(p):
    t = np.tanh(p["W"] @ X + p["b"])
    delta = 2 * t * (1 - t**2)
    return {"W": np.outer(delta, X), "b": delta}


def test_check_gradients_dict_of_arrays_passes() -> None:
    p = network_params(np.random.default_rng(0))
    table = check_gradients(net_np, p, net_grad(p), net_torch)
    assert isinstance(table, GradientCheck)
    assert table.reference == "autograd" and table.passed == {"analytic": True, "numeric": True}
    assert [r.name for r in table.rows][:2] == ["W[0, 0]", "W[0, 1]"] and len(table.rows) == 15
    assert not any("✗" in line for line in str(table).splitlines()[:-1])  # last line: legend


def test_dict_gradients_are_matched_by_key() -> None:
    p = network_params(np.random.default_rng(3))
    g = net_grad(p)
    table = check_gradients(net_np, p, {"b": g["b"], "W": g["W"]}, expand=False)
    assert table.passed == {"analytic": True}
    both = check_gradients(net_np, p, {"slide": g, "corrected": g}, expand=False)
    assert both.passed == {"slide": True, "corrected": True}
    with pytest.raises(ValueError, match="keys of params"):
        check_gradients(net_np, p, {"W": g["W"]})


def test_check_gradients_detects_a_wrong_gradient() -> None:
    p = network_params(np.random.default_rng(1))
    wrong = net_grad(p)
    wrong["b"] = wrong["b"] / 2
    table = check_gradients(net_np, p, wrong, expand=False)
    assert table.reference == "finite differences"
    assert [r.name for r in table.rows] == ["W", "b"]
    assert table.rows[0].errors["analytic"] < 1e-7
    assert table.rows[1].errors["analytic"] == pytest.approx(0.5, rel=1e-6)
    assert table.passed == {"analytic": False}
    assert "‖analytic‖" in str(table) and "✗" in str(table)


def test_check_gradients_list_of_arrays_and_sampling() -> None:
    rng = np.random.default_rng(2)
    p = network_params(rng)
    as_list = [p["W"], p["b"]]
    grads = net_grad(p)
    table = check_gradients(lambda q: net_np({"W": q[0], "b": q[1]}), as_list,
                            [grads["W"], grads["b"]],
                            lambda q: net_torch({"W": q[0], "b": q[1]}), names=["W", "b"],
                            max_entries=2, rng=rng)
    assert len(table.rows) == 4 and all(table.passed.values())
    assert {r.name[0] for r in table.rows} == {"W", "b"}


def test_several_candidates_in_one_table() -> None:
    cost = TinyExampleI(x=-1.0, y=1.5)
    w = np.array([-0.8, 1.1])  # ReLU on, w1·h1 < 0
    table = check_gradients(
        cost.value, w, {"slide": cost.slide_grad(w), "corrected": cost.grad(w)},
        lambda v: (cost.y - v[1] * torch.relu(v[0] * cost.x)) ** 2, labels=["w1", "w2"])
    assert table.passed == {"slide": False, "corrected": True, "numeric": True}
    text = str(table)
    assert text.splitlines()[0].split() == ["parameter", "slide", "corrected", "numeric",
                                            "autograd", "err(slide)", "err(corrected)",
                                            "err(numeric)"]
    assert "| w1 |" in table._repr_markdown_()


def test_printed_table_is_rounded() -> None:
    table = check_gradients(lambda v: float(v @ v) / 3, np.array([1.0, 2.0]),
                            np.array([2 / 3, 4 / 3]))
    assert "0.666667" in str(table) and "<1e-09" in str(table)


def test_check_gradients_bad_input() -> None:
    x = np.ones(2)
    with pytest.raises(ValueError, match="analytic must match"):
        check_gradients(np.sum, x, np.ones(3))
    with pytest.raises(ValueError, match="labels must have"):
        check_gradients(np.sum, x, np.ones(2), labels=["a"])
    with pytest.raises(ValueError, match="torch_f must return a scalar"):
        check_gradients(np.sum, x, np.ones(2), torch_f=lambda v: v)
    with pytest.raises(TypeError, match="params must be"):
        check_gradients(np.sum, "x", np.ones(2))
    with pytest.raises(ValueError, match="max_entries"):
        check_gradients(np.sum, x, np.ones(2), max_entries=0)
