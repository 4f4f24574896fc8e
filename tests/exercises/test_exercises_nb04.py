"""Notebook 04's exercise references: they are the network's backward pass, and torch autograd.

The shared harness (``test_exercise_checks.py``) runs each check on the notebook's solution,
its stub and its mutants; here the references are the functions of ``lecture_utils.network.mlp``
themselves, ``backprop`` of any depth equals autograd, and the notebook's line saying whose
functions train the network names the right ones.
"""

from __future__ import annotations

import numpy as np
import pytest

from lecture_utils.exercises import check, get, nb04
from lecture_utils.network import mlp
from lecture_utils.network.mlp import MLP


def test_each_reference_is_the_networks_own_function() -> None:
    for name in ("output_delta", "weight_grad", "bias_grad", "relu_backward", "backprop"):
        assert get(name).reference is getattr(mlp, name), name
    assert MLP([3, 2]).backward_pass is mlp.backprop


@pytest.mark.parametrize(("sizes", "n"), [*nb04._NETWORKS, *nb04._DEPTHS])
def test_backprop_of_any_depth_is_torch_autograd(sizes: list[int], n: int) -> None:
    rng = np.random.default_rng(4)
    net = MLP(sizes, rng=1, dtype=np.float64)
    for b in net.biases:
        b[:] = rng.normal(scale=0.3, size=b.shape)
    x, y = rng.normal(size=(n, sizes[0])), rng.integers(0, sizes[-1], size=n)
    net.forward(x)
    grads = nb04.backprop(net.weights, net.activations, y)
    _, autograd = net.autograd_loss_and_grads(x, y)
    for name, g, t in zip(net.names, grads, autograd, strict=True):
        np.testing.assert_allclose(g, t, rtol=1e-9, atol=1e-13, err_msg=name)


def test_the_checks_networks_switch_relus_on_and_off() -> None:
    for case in get("relu_backward").inputs():
        h = case.args[2]
        assert 0 < np.mean(h > 0) < 1, case.label
    depths = [len(case.args[0]) for case in get("backprop").inputs()]
    assert sorted(set(depths)) == [1, 2, 3, 4]


def test_linear_schedule_is_the_slides_formula() -> None:
    from lecture_utils.optim.schedules import Linear

    for k, eta0, eta_end, tau in [(0, 0.1, 0.001, 10), (5, 0.1, 0.001, 10), (20, 0.1, 0.001, 10)]:
        s = min(k / tau, 1)
        assert nb04.linear_schedule(k, eta0, eta_end, tau) == pytest.approx(
            (1 - s) * eta0 + s * eta_end, rel=1e-12)
        assert nb04.linear_schedule(k, eta0, eta_end, tau) == pytest.approx(
            Linear(eta0, eta_end, tau=tau)(k), rel=1e-12)


def test_a_list_in_reverse_layer_order_gets_its_own_hint(capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    def backwards(weights, activations, y):
        grads = mlp.backprop(weights, activations, y)
        return [p for i in reversed(range(0, len(grads), 2)) for p in grads[i:i + 2]]

    assert check("backprop", backwards) is mlp.backprop
    assert "last layer first" in capsys.readouterr().out


def test_whose_backward_names_the_functions_that_train() -> None:
    refs = {name: get(name).reference for name in
            ("backprop", "output_delta", "weight_grad", "bias_grad", "relu_backward")}

    def mine(*args):
        return mlp.backprop(*args)

    assert "reference backward pass" in nb04.whose_backward(**refs)
    text = nb04.whose_backward(**(refs | {"backprop": mine, "bias_grad": mine}))
    assert text.startswith("the network trains on your backprop, with your bias_grad")
    assert "the reference output_delta, weight_grad, relu_backward" in text
    everything = nb04.whose_backward(**dict.fromkeys(refs, mine))
    assert everything == ("the network trains on your backprop, with your output_delta, "
                          "weight_grad, bias_grad, relu_backward")
