"""lecture_utils.analysis.paths: path counts, the naive path sum and backprop against torch
autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lecture_utils.analysis.gradcheck import max_relative_error
from lecture_utils.analysis.paths import (
    backprop_gradient,
    best_time,
    count_paths,
    count_paths_dp,
    local_jacobians,
    path_sum_gradient,
    random_net,
)


@pytest.mark.parametrize("widths", [[3], [3, 3, 3], [2, 5, 4], [10] * 6, [7] * 30])
def test_path_counts(widths: list[int]) -> None:
    assert count_paths(widths) == count_paths_dp(widths) == int(np.prod(widths, dtype=object))


def autograd_input_gradient(net: list[np.ndarray], x: np.ndarray, activation: str) -> np.ndarray:
    xt = torch.tensor(x, requires_grad=True)
    h = xt
    for W in net[:-1]:
        a = torch.from_numpy(W) @ h
        h = torch.relu(a) if activation == "relu" else torch.tanh(a)
    (torch.from_numpy(net[-1]) @ h).sum().backward()
    return xt.grad.numpy()


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("widths", [[3], [4, 2], [3, 3, 3, 3], [2, 5, 3]])
def test_path_sum_equals_backprop_equals_autograd(widths: list[int], activation: str) -> None:
    rng = np.random.default_rng(len(widths))
    for _ in range(5):
        net = random_net(3, widths, rng)
        x = rng.normal(size=3)
        by_paths = path_sum_gradient(net, x, activation)
        by_backprop = backprop_gradient(net, x, activation)
        reference = autograd_input_gradient(net, x, activation)
        assert max_relative_error(by_paths, reference, tiny=1e-300) < 1e-10
        assert max_relative_error(by_backprop, reference, tiny=1e-300) < 1e-10


def test_random_net_shapes_and_jacobians() -> None:
    net = random_net(2, [4, 3], np.random.default_rng(0))
    assert [W.shape for W in net] == [(4, 2), (3, 4), (1, 3)]
    jac = local_jacobians(net, np.array([1.0, -1.0]))
    assert [J.shape for J in jac] == [(4, 2), (3, 4), (1, 3)]
    np.testing.assert_array_equal(jac[-1], net[-1])


def test_bad_input_raises() -> None:
    net = random_net(2, [3], np.random.default_rng(0))
    with pytest.raises(ValueError, match="x must have shape"):
        backprop_gradient(net, np.ones(3))
    with pytest.raises(ValueError, match="activation must be one of"):
        backprop_gradient(net, np.ones(2), "sigmoid")
    with pytest.raises(ValueError, match="weights must hold"):
        backprop_gradient(net[:1], np.ones(2))
    with pytest.raises(ValueError, match="widths must be positive"):
        count_paths([3, 0])
    with pytest.raises(ValueError, match="repeat must be"):
        best_time(print, repeat=0)


def test_best_time_is_positive() -> None:
    assert best_time(sum, range(100), repeat=2) > 0
