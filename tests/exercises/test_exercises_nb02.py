"""Notebook 02's exercises: the check's inputs reach the slides' slips, the references agree.

The shared harness (``test_exercise_checks.py``) runs the notebook's solutions, stubs and
mutants; these tests pin what it cannot see: that the inputs of ``tiny_i_gradient`` separate
the slide's indicator from the correct one, and that the recursion step composes to backprop.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

from lecture_utils.analysis import paths, tiny
from lecture_utils.exercises import check, get, nb02


def test_the_tiny_i_inputs_catch_both_slips_of_the_slide() -> None:
    """Twice the slide's gradient is right for x > 0, wrong on the input with x < 0, w1 < 0."""
    wrong = []
    for case in get("tiny_i_gradient").inputs():
        w1, w2, x, y = case.args
        cost = tiny.TinyExampleI(x=x, y=y)
        want = nb02.tiny_i_gradient(*case.args)
        np.testing.assert_allclose(want, [-2 * (y - w2 * max(w1 * x, 0)) * w2 * (w1 * x > 0) * x,
                                          -2 * (y - w2 * max(w1 * x, 0)) * max(w1 * x, 0)])
        if not np.allclose(2 * cost.slide_grad(np.array([w1, w2])), want):
            wrong.append((x < 0, w1 < 0))
    assert wrong == [(True, True)]


def test_the_recursion_step_composes_to_backprop() -> None:
    """Chaining backprop_step from w_out down to x gives paths.backprop_gradient's ∂y/∂x."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=3)
    net = paths.random_net(3, [5, 4, 2], rng)
    h = [x]
    for W in net[:-1]:
        h.append(np.tanh(W @ h[-1]))
    delta = net[-1][0]
    for W, h_below in zip(reversed(net[:-1]), reversed(h[:-1]), strict=True):
        delta = nb02.backprop_step(delta, W, h_below)
    np.testing.assert_allclose(delta, paths.backprop_gradient(net, x, "tanh"), rtol=1e-12)


def test_the_weight_gradient_is_an_outer_product_with_off_diagonal_entries() -> None:
    rng = np.random.default_rng(4)
    W, h_prev, dC_dh = rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=3)
    grad = nb02.weight_gradient(dC_dh, W, h_prev)
    assert np.linalg.matrix_rank(grad) == 1 and np.all(grad[~np.eye(3, dtype=bool)] != 0)


def test_the_path_count_is_the_dynamic_programming_count() -> None:
    assert nb02.mnist_paths() == paths.count_paths_dp([256, 256]) == 256**2


# --------------------------------------------------------------------------- styles and slips
def _backprop_step_float32(dC_dh_next, W_next, h):
    W = W_next.astype(np.float32)
    h_next = np.tanh(W @ h.astype(np.float32))
    return dC_dh_next.astype(np.float32) @ ((1 - h_next**2)[:, None] * W)


def _backprop_step_einsum(dC_dh_next, W_next, h):
    h_next = np.tanh(W_next @ h)
    return np.einsum("i,i,ij->j", dC_dh_next, 1 - h_next**2, W_next)


def _backprop_step_torch(dC_dh_next, W_next, h):
    ht = torch.tensor(h, requires_grad=True)
    torch.tanh(torch.from_numpy(W_next) @ ht).backward(torch.from_numpy(dC_dh_next))
    return ht.grad


def _network_gradient_autograd(net, x):
    weights = [torch.tensor(W, requires_grad=True) for W in net]
    h = torch.from_numpy(x)
    for W in weights[:-1]:
        h = torch.tanh(W @ h)
    (weights[-1] @ h).sum().backward()
    return torch.cat([W.grad.flatten() for W in weights])


def _network_gradient_with_the_steps(net, x):
    """The bigger exercise from the two small ones, the gradients collected in a dict."""
    h = [x]
    for W in net[:-1]:
        h.append(np.tanh(W @ h[-1]))
    grads, dy_dh = {len(net): h[-1][None, :]}, net[-1][0]
    for layer in range(len(net) - 1, 0, -1):
        grads[layer] = nb02.weight_gradient(dy_dh, net[layer - 1], h[layer - 1])
        dy_dh = nb02.backprop_step(dy_dh, net[layer - 1], h[layer - 1])
    return np.concatenate([grads[layer].ravel() for layer in sorted(grads)])


@pytest.mark.parametrize(("name", "student"), [
    ("backprop_step", _backprop_step_float32), ("backprop_step", _backprop_step_einsum),
    ("backprop_step", _backprop_step_torch),
    ("network_gradient", _network_gradient_autograd),
    ("network_gradient", _network_gradient_with_the_steps),
    ("mnist_paths", lambda: 65536.0), ("mnist_paths", lambda: np.int64(2) ** 16),
    ("tiny_i_gradient", lambda w1, w2, x, y: torch.tensor(
        [-2 * (y - w2 * max(w1 * x, 0)) * w2 * (w1 * x > 0) * x,
         -2 * (y - w2 * max(w1 * x, 0)) * max(w1 * x, 0)])),
], ids=["backprop_step-float32", "backprop_step-einsum", "backprop_step-torch",
        "network_gradient-autograd", "network_gradient-steps", "mnist_paths-float",
        "mnist_paths-int64", "tiny_i_gradient-torch"])
def test_correct_styles_are_accepted(name, student, capsys: pytest.CaptureFixture[str]) -> None:
    assert inspect.unwrap(check(name, student)) is student, capsys.readouterr().out


def _network_gradient_not_reversed(net, x):
    h = [x]
    for W in net[:-1]:
        h.append(np.tanh(W @ h[-1]))
    grads, dy_dh = [h[-1][None, :]], net[-1][0]
    for layer in range(len(net) - 1, 0, -1):
        grads.append(nb02.weight_gradient(dy_dh, net[layer - 1], h[layer - 1]))
        dy_dh = nb02.backprop_step(dy_dh, net[layer - 1], h[layer - 1])
    return np.concatenate([g.ravel() for g in grads])


@pytest.mark.parametrize(("name", "student", "hint"), [
    ("mnist_paths", lambda: 256 * 256 * 10, "one output, not all ten"),
    ("mnist_paths", lambda: 784 * 256 * 256, "from one pixel"),
    ("mnist_paths", lambda: 256**3, "two hidden layers"),
    ("network_gradient", _network_gradient_not_reversed, "reverse the list, W(1) first"),
    ("tiny_i_gradient", lambda w1, w2, x, y: np.array(
        [-2 * (y - w2 * max(w1 * x, 0)) * w2 * (w1 * x >= 0) * x,
         -2 * (y - w2 * max(w1 * x, 0)) * max(w1 * x, 0)]), "kink"),
])
def test_slips_get_their_hint(name, student, hint, capsys: pytest.CaptureFixture[str]) -> None:
    check(name, student)
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(f"{name}: not yet: ") and hint in first, first


def test_the_network_gradient_is_the_stored_recursion_and_the_path_sum() -> None:
    """Its W(1) rows are ∂y/∂a(1)_k x_l, and Σ_k ∂y/∂a(1)_k W(1)_kl is the path sum ∂y/∂x."""
    rng = np.random.default_rng(5)
    net, x = paths.random_net(3, [4, 3], rng), rng.normal(size=3)
    grad = nb02.network_gradient(net, x)
    assert grad.size == sum(W.size for W in net)
    dy_da1 = grad[:net[0].size].reshape(net[0].shape)[:, 0] / x[0]
    np.testing.assert_allclose(dy_da1 @ net[0], paths.path_sum_gradient(net, x, "tanh"),
                               rtol=1e-10)


def test_float32_work_is_accepted_where_the_gradient_vanishes(
        capsys: pytest.CaptureFixture[str]) -> None:
    def tiny_ii_float32(w1, w2, x, y, gamma):
        r = np.float32(w1) * np.float32(w2) * np.float32(x) - np.float32(y)
        return np.array([2 * r * w2 * x + 2 * gamma * w1, 2 * r * w1 * x + 2 * gamma * w2],
                        dtype=np.float32)

    assert check("tiny_ii_gradient", tiny_ii_float32) is tiny_ii_float32, capsys.readouterr().out
