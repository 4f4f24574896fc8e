"""Exercises of notebook 04 (MNIST with backpropagation written by hand): the backward pass.

Slide "Backpropagation - dynamic programming", one line of the recursion per exercise, in the
batch layout of ``lecture_utils.network.mlp`` (one example per row, ``W(l)`` of shape
``(n_l, n_{l-1})``)::

    delta(L) = (softmax(z) - Y) / N                         output_delta(z, y)
    dC/dW(l) = delta(l).T @ h(l-1)                          weight_grad(delta, h_prev)
    dC/db(l) = sum over the batch of delta(l)               bias_grad(delta)
    delta(l) = (delta(l+1) @ W(l+1)) * 1(h(l) > 0)          relu_backward(delta_next, W_next, h)

and slide "Mini-batch training" (anneal η_k): the linear schedule ``linear_schedule``.
The check's inputs are the activations of small random float64 networks of
:class:`lecture_utils.network.mlp.MLP` (random nonzero biases, some ReLUs off); each line is also
computed by torch autograd (``torch.nn.functional``), the oracle.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lecture_utils.exercises.core import Case, Exercise, Mutant, register
from lecture_utils.exercises.nb01 import _torch_cross_entropy_grad
from lecture_utils.network.functions import one_hot, softmax
from lecture_utils.network.mlp import MLP
from lecture_utils.optim import schedules

#: (layer sizes, batch size N) of the check's networks: the first has a square W(3) (so a
#: transposed W(l+1) gives wrong numbers, not an error), the last a single example.
_NETWORKS = (([6, 5, 4, 4], 7), ([8, 6, 3, 4], 3), ([5, 4, 6, 3], 1))


# --------------------------------------------------------------------------- references
def output_delta(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``delta(L) = dC/dz = (softmax(z) - Y) / N`` for logits ``z`` (N, K) and labels ``y`` (N,).

    The fused softmax-cross-entropy gradient of the mean cost ``C = (1/N) sum_n C_n``.
    """
    return (softmax(z) - one_hot(y, z.shape[1], dtype=z.dtype)) / len(z)


def weight_grad(delta: np.ndarray, h_prev: np.ndarray) -> np.ndarray:
    """``dC/dW(l)_ij = sum_n delta(l)_ni h(l-1)_nj``, i.e. ``delta.T @ h_prev`` (n_l, n_{l-1})."""
    return delta.T @ h_prev


def bias_grad(delta: np.ndarray) -> np.ndarray:
    """``dC/db(l)_i = sum_n delta(l)_ni``: the batch's deltas summed, shape (n_l,)."""
    return delta.sum(axis=0)


def relu_backward(delta_next: np.ndarray, w_next: np.ndarray, h: np.ndarray) -> np.ndarray:
    """``delta(l) = (delta(l+1) @ W(l+1)) * 1(h(l) > 0)``, with ``1(a > 0) = 1(relu(a) > 0)``."""
    return (delta_next @ w_next) * (h > 0)


def linear_schedule(k: int, eta0: float, eta_end: float, tau: int) -> float:
    """``η_k = (1 − s) η_0 + s η_τ``, ``s = min(k/τ, 1)``:
    ``lecture_utils.optim.schedules.Linear``."""
    return schedules.Linear(eta0, eta_end, tau=tau)(k)


# --------------------------------------------------------------------------- inputs
def _networks(rng: np.random.Generator) -> list[dict]:
    """Forward and backward quantities of small random networks (``MLP``, float64).

    Each entry: ``label``, labels ``y``, activations ``h = [x, h(1), h(2), z]``, weights
    ``W = [W(1), W(2), W(3)]`` and deltas ``delta = {3: delta(3), 2: delta(2)}``.
    """
    nets = []
    for sizes, n in _NETWORKS:
        net = MLP(sizes, rng=int(rng.integers(2**31)), dtype=np.float64)
        for b in net.params[1::2]:
            b[:] = rng.normal(scale=0.3, size=b.shape)     # nonzero biases, ReLUs on and off
        x = rng.normal(size=(n, sizes[0]))
        y = rng.integers(0, sizes[-1], size=n)
        net.forward(x)
        h = [a.copy() for a in net.activations]
        w = [p.copy() for p in net.params[0::2]]
        d3 = output_delta(h[3], y)
        nets.append({"label": f"{'-'.join(map(str, sizes))} network, batch of {n}", "y": y,
                     "h": h, "W": w, "delta": {3: d3, 2: relu_backward(d3, w[2], h[2])}})
    return nets


def _output_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case(f"logits of a {net['label']}", (net["h"][3], net["y"])) for net in _networks(rng)]
    return [*cases, Case("confident logits (±40)", (np.array([[40.0, -40.0, 0.0],
                                                              [0.0, 0.0, 40.0]]),
                                                    np.array([1, 2])))]


def _weight_cases(rng: np.random.Generator) -> list[Case]:
    return [Case(f"layer {layer} of a {net['label']}", (net["delta"][layer], net["h"][layer - 1]))
            for net in _networks(rng) for layer in (2, 3)]      # dW(2) of the first is not square


def _bias_cases(rng: np.random.Generator) -> list[Case]:
    return [Case(f"layer {layer} of a {net['label']}", (net["delta"][layer],))
            for net in _networks(rng) for layer in (3, 2)]


def _relu_cases(rng: np.random.Generator) -> list[Case]:
    return [Case(f"delta(2) of a {net['label']}", (net["delta"][3], net["W"][2], net["h"][2]))
            for net in _networks(rng)]


def _schedule_cases(rng: np.random.Generator) -> list[Case]:
    return [Case("k = 1000 of 6000, η from 0.2 to 0.001", (1000, 0.2, 0.001, 6000)),
            Case("k = 5999 of 6000 (the last update)", (5999, 0.1, 0.0001, 6000)),
            Case("k = 0 (the first update)", (0, 0.05, 0.01, 100)),
            Case("k = 130 > τ = 100 (after the decay)", (130, 0.07, 0.01, 100))]


# --------------------------------------------------------------------------- torch oracles
def _torch(*arrays: np.ndarray) -> list:
    import torch

    return [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]


def _linear_vjp(delta: np.ndarray, h_prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(dC/dW, dC/db)`` of ``a = F.linear(h_prev, W, b)`` given ``dC/da = delta``, by autograd."""
    import torch
    import torch.nn.functional as F

    w, b = _torch(np.zeros((delta.shape[1], h_prev.shape[1])), np.zeros(delta.shape[1]))
    a = F.linear(torch.from_numpy(h_prev), w, b)
    a.backward(torch.from_numpy(delta))
    return w.grad.numpy(), b.grad.numpy()


def _torch_weight_grad(delta: np.ndarray, h_prev: np.ndarray) -> np.ndarray:
    return _linear_vjp(delta, h_prev)[0]


def _torch_bias_grad(delta: np.ndarray) -> np.ndarray:
    return _linear_vjp(delta, np.zeros((len(delta), 1)))[1]


def _torch_relu_backward(delta_next: np.ndarray, w_next: np.ndarray, h: np.ndarray) -> np.ndarray:
    """``dC/da(l)`` of ``a(l+1) = F.linear(relu(a(l)), W(l+1))`` given ``delta(l+1)``, by autograd.

    ``h = relu(a)`` stands in for ``a``: ``relu(h) = h`` and torch's ``relu'`` is
    ``1(h > 0) = 1(a > 0)`` (0 at 0).
    """
    import torch
    import torch.nn.functional as F

    (a,) = _torch(h)
    F.linear(torch.relu(a), torch.from_numpy(w_next)).backward(torch.from_numpy(delta_next))
    return a.grad.numpy()


def _line(reference: Callable[..., np.ndarray],
          cases: Callable[[np.random.Generator], list[Case]],
          oracle: Callable[..., np.ndarray], mutants: tuple[Mutant, ...], **hints: str) -> Exercise:
    """The exercise of one line of the recursion: float64 inputs, so tight tolerances."""
    return Exercise(name=reference.__name__, reference=reference, cases=cases, oracle=oracle,
                    rtol=1e-9, atol=1e-12, mutants=mutants, hints=hints,
                    slide="Backpropagation - dynamic programming")


ALREADY_AVERAGED = "the 1/N is already in delta(L) = (softmax(z) − Y)/N"
OUTPUT_DELTA = _line(
    output_delta, _output_cases, _torch_cross_entropy_grad,
    (Mutant("(softmax(z) - Y) / N", "(softmax(z) - Y)", "whole-number factor"),
     Mutant("(softmax(z) - Y) / N", "(Y - softmax(z)) / N", "wrong sign"),
     Mutant("(softmax(z) - Y) / N", "(z - Y) / N", "relative error")),
    factor="C is the mean of the N examples' costs", sign="C = −log h_y falls when h_y grows")
WEIGHT_GRAD = _line(
    weight_grad, _weight_cases, _torch_weight_grad,
    (Mutant("delta.T @ h_prev", "h_prev.T @ delta", "transposed"),
     Mutant("delta.T @ h_prev", "delta.T @ h_prev / len(delta)", "whole-number factor")),
    factor=ALREADY_AVERAGED, shape="row i of dC/dW(l) belongs to unit i of layer l")
BIAS_GRAD = _line(
    bias_grad, _bias_cases, _torch_bias_grad,
    (Mutant("delta.sum(axis=0)", "delta.mean(axis=0)", "whole-number factor"),
     Mutant("delta.sum(axis=0)", "delta.sum(axis=1)", "wrong shape")),
    factor=ALREADY_AVERAGED, shape="one entry per unit: sum over the examples, the rows")
RELU_BACKWARD = _line(
    relu_backward, _relu_cases, _torch_relu_backward,
    (Mutant("delta_next @ W_next", "delta_next @ W_next.T", "relative error"),
     Mutant("dh * (h > 0)", "dh", "relative error"),
     Mutant("dh * (h > 0)", "dh * h", "relative error")),
    shape="dC/dh(l)_j = Σ_i δ(l+1)_i W(l+1)_ij: one column per unit of layer l")

LINEAR_SCHEDULE = Exercise(
    name="linear_schedule",
    reference=linear_schedule,
    cases=_schedule_cases,
    rtol=1e-9, atol=1e-12,
    mutants=(Mutant("min(k / tau, 1)", "k / tau", "relative error"),
             Mutant("(1 - s) * eta0 + s * eta_end", "s * eta0 + (1 - s) * eta_end",
                    "relative error")),
    slide="Mini-batch training",
)

register(OUTPUT_DELTA, WEIGHT_GRAD, BIAS_GRAD, RELU_BACKWARD, LINEAR_SCHEDULE)
