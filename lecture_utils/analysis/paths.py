"""Paths versus depth: the gradient as a sum over paths, and backprop as dynamic programming.

For a network h^(l) = φ(W^(l) h^(l−1)), h^(0) = x, with scalar output y = w·h^(L),
the chain rule writes ∂y/∂x_m as a sum over every path m → k1 → … → kL → y of the product
of the local derivatives on its edges (slide "Backpropagation", multi-dimensional):

    ∂y/∂x_m = Σ_{k1..kL} w_{kL} J^(L)_{kL,kL−1} ⋯ J^(1)_{k1,m},   J^(l) = diag(φ'(a^(l))) W^(l),

with φ' = 1(a > 0) for ReLU (narrow ReLU nets often switch every path off; tanh never does).

With L hidden layers of width n there are n^L paths per input, so the path sum costs O(n^L).
Backprop stores δ^(l) = ∂y/∂h^(l) and reuses it (slide "Backpropagation - dynamic
programming"): δ^(l−1) = δ^(l) J^(l), which costs O(L n²).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from lecture_utils._checks import integer
from lecture_utils.network.functions import ActivationName
from lecture_utils.network.functions import activation as lookup
from lecture_utils.network.initialisers import he_normal

__all__ = [
    "backprop_gradient",
    "best_time",
    "count_paths",
    "count_paths_dp",
    "local_jacobians",
    "path_sum_gradient",
    "random_net",
]


def _check_widths(widths: Sequence[int]) -> list[int]:
    widths = [int(n) for n in widths]
    if any(n < 1 for n in widths):
        raise ValueError(f"widths must be positive integers, got {widths}")
    return widths


def count_paths(widths: Sequence[int]) -> int:
    """Number of paths from one input to the (scalar) output: Π_l n_l = n^L for equal widths."""
    return math.prod(_check_widths(widths))


def count_paths_dp(widths: Sequence[int]) -> int:
    """The same count by dynamic programming, layer by layer as backprop does.

    paths(unit j of layer l) = Σ_k paths(unit k of layer l−1): one stored number per unit
    instead of one per path (Python integers, exact for any depth).
    """
    paths = [1]  # the input
    for n in _check_widths(widths):
        paths = [sum(paths)] * n
    return sum(paths)


def random_net(n_in: int, widths: Sequence[int], rng: np.random.Generator
                    ) -> list[np.ndarray]:
    """Weights [W^(1), …, W^(L), w_out] with He scaling N(0, 2/fan_in); w_out has shape (1, n_L)."""
    widths = _check_widths([n_in, *widths])
    return [he_normal(n, m, rng=rng) for n, m in itertools.pairwise([*widths, 1])]


def local_jacobians(weights: Sequence[np.ndarray], x: np.ndarray,
                    activation: ActivationName = "relu") -> list[np.ndarray]:
    """Forward pass; returns J^(l) = ∂h^(l)/∂h^(l−1) = diag(φ'(a^(l))) W^(l), then w_out.

    φ'(a) = 1(a > 0) for relu (the slide's indicators) and 1 − tanh²(a) for tanh.
    """
    act = lookup(activation)
    if len(weights) < 2:
        raise ValueError("weights must hold at least one hidden layer and w_out, "
                         f"got {len(weights)} arrays")
    h = np.asarray(x, dtype=float)
    if h.ndim != 1 or h.shape[0] != weights[0].shape[1]:
        raise ValueError(f"x must have shape ({weights[0].shape[1]},), got {h.shape}")
    jacobians = []
    for W in weights[:-1]:
        a = W @ h
        h = act.phi(a)
        jacobians.append(act.derivative(a)[:, None] * W)
    return [*jacobians, np.asarray(weights[-1], dtype=float)]


def path_sum_gradient(weights: Sequence[np.ndarray], x: np.ndarray,
                      activation: ActivationName = "relu") -> np.ndarray:
    """∂y/∂x by enumerating every input-to-output path (naive chain rule, cost n^L per input)."""
    jac = [J.tolist() for J in local_jacobians(weights, x, activation)]
    hidden = [range(len(J)) for J in jac[:-1]]
    grad = []
    for m in range(len(x)):
        total = 0.0
        for path in itertools.product(*hidden):
            product = jac[0][path[0]][m]
            for layer in range(1, len(path)):
                product *= jac[layer][path[layer]][path[layer - 1]]
            total += product * jac[-1][0][path[-1]]
        grad.append(total)
    return np.array(grad)


def backprop_gradient(weights: Sequence[np.ndarray], x: np.ndarray,
                      activation: ActivationName = "relu") -> np.ndarray:
    """∂y/∂x by backprop: δ^(L) = w_out, δ^(l−1) = δ^(l) J^(l) (store, then reuse)."""
    jac = local_jacobians(weights, x, activation)
    delta = jac[-1][0]
    for J in reversed(jac[:-1]):
        delta = delta @ J
    return delta


def best_time(fn: Callable[..., Any], *args: Any, repeat: int = 3) -> float:
    """The fastest of ``repeat`` wall-clock runs of ``fn(*args)``, in seconds."""
    times = []
    for _ in range(integer("repeat", repeat, minimum=1)):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return min(times)
