"""Notebook 04's exercise references: together they are ``MLP.backward`` and torch autograd.

The shared harness (``test_exercise_checks.py``) runs each check on the notebook's solution,
its stub and its mutants; here the four lines of the recursion are chained into the whole
backward pass and compared with ``lecture_utils.network.mlp`` and autograd on the check's networks.
"""

from __future__ import annotations

import numpy as np
import pytest

from lecture_utils.exercises import get, nb04
from lecture_utils.network.mlp import MLP


@pytest.mark.parametrize(("sizes", "n"), nb04._NETWORKS)
def test_the_four_lines_are_the_backward_pass_of_the_mlp(sizes: list[int], n: int) -> None:
    rng = np.random.default_rng(4)
    net = MLP(sizes, rng=1, dtype=np.float64)
    for b in net.params[1::2]:
        b[:] = rng.normal(scale=0.3, size=b.shape)
    x, y = rng.normal(size=(n, sizes[0])), rng.integers(0, sizes[-1], size=n)
    net.forward(x)
    h = [a.copy() for a in net.activations]
    w = net.params[0::2]
    delta = nb04.output_delta(h[3], y)
    grads: list[np.ndarray] = []
    for layer in (3, 2, 1):
        grads = [nb04.weight_grad(delta, h[layer - 1]), nb04.bias_grad(delta), *grads]
        if layer > 1:
            delta = nb04.relu_backward(delta, w[layer - 1], h[layer - 1])
    library = net.backward(y)
    _, autograd = net.autograd_loss_and_grads(x, y)
    for name, g, lib, t in zip(net.names, grads, library, autograd, strict=True):
        np.testing.assert_allclose(g, lib, rtol=1e-12, atol=1e-15, err_msg=name)
        np.testing.assert_allclose(g, t, rtol=1e-9, atol=1e-13, err_msg=name)


def test_the_checks_networks_switch_relus_on_and_off() -> None:
    for case in get("relu_backward").inputs():
        h = case.args[2]
        assert 0 < np.mean(h > 0) < 1, case.label


def test_linear_schedule_is_the_slides_formula() -> None:
    for k, eta0, eta_end, tau in [(0, 0.1, 0.001, 10), (5, 0.1, 0.001, 10), (20, 0.1, 0.001, 10)]:
        s = min(k / tau, 1)
        assert nb04.linear_schedule(k, eta0, eta_end, tau) == pytest.approx(
            (1 - s) * eta0 + s * eta_end, rel=1e-12)
