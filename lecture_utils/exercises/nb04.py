"""Exercises of notebook 04 (MNIST with backpropagation written by hand): the backward pass.

Slide "Backpropagation - dynamic programming", one line of the recursion per exercise, in the
batch layout of ``lecture_utils.network.mlp`` (one example per row, ``W(l)`` of shape
``(n_l, n_{l-1})``): ``output_delta``, ``weight_grad``, ``bias_grad``, ``relu_backward``, then
the whole backward pass of a network of any depth built from them, ``backprop``, which the
notebook's MNIST network then trains with. Each reference IS the library's function
(``lecture_utils.network.mlp``). Slide "Mini-batch training" (anneal η_k): ``linear_schedule``.

The check's inputs are the activations of small random float64 networks of
:class:`~lecture_utils.network.mlp.MLP` (random nonzero biases, some ReLUs off); each line is
also computed by torch autograd (``torch.nn.functional``), the oracle.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np

from lecture_utils.exercises.core import Case, Exercise, Mutant, diagnose, get, register
from lecture_utils.exercises.nb01 import _torch_cross_entropy_grad
from lecture_utils.network.mlp import (
    MLP,
    backprop,
    bias_grad,
    output_delta,
    relu_backward,
    weight_grad,
)

#: (layer sizes, batch size N) of the check's networks: the first has a square W(3) (so a
#: transposed W(l+1) gives wrong numbers, not an error), the last a single example.
_NETWORKS = (([6, 5, 4, 4], 7), ([8, 6, 3, 4], 3), ([5, 4, 6, 3], 1))
#: Networks of other depths for ``backprop``: one layer (no hidden layer), two, four.
_DEPTHS = (([6, 5, 4, 4], 7), ([7, 3], 5), ([5, 6, 4], 4), ([6, 5, 5, 4, 3], 1))
#: The parts of ``backprop``'s answer, [∂C/∂W(1), ∂C/∂b(1), ...], named in its hints.
_GRAD_NAMES = tuple(f"∂C/∂{kind}({layer})" for layer in range(1, 5) for kind in "Wb")


def linear_schedule(k: int, eta0: float, eta_end: float, tau: int) -> float:
    """η_k = (1 − s) η_0 + s η_τ with s = min(k/τ, 1) (slide "Mini-batch training": anneal η_k)."""
    s = min(k / tau, 1)
    return (1 - s) * eta0 + s * eta_end


# --------------------------------------------------------------------------- inputs
def _network(sizes: list[int], n: int, rng: np.random.Generator) -> dict:
    """A small random float64 network after one forward pass: label, labels ``y``,
    activations ``h = [x, h(1), ..., z]``, weights ``W = [W(1), ...]``."""
    net = MLP(sizes, rng=int(rng.integers(2**31)), dtype=np.float64)
    for b in net.biases:
        b[:] = rng.normal(scale=0.3, size=b.shape)     # nonzero biases, ReLUs on and off
    x = rng.normal(size=(n, sizes[0]))
    y = rng.integers(0, sizes[-1], size=n)
    net.forward(x)
    return {"label": f"{'-'.join(map(str, sizes))} network, batch of {n}", "y": y,
            "h": net.activations, "W": net.weights}


def _networks(rng: np.random.Generator) -> list[dict]:
    """The three-layer networks of ``_NETWORKS``, with ``delta = {3: δ(3), 2: δ(2)}``."""
    nets = [_network(sizes, n, rng) for sizes, n in _NETWORKS]
    for net in nets:
        d3 = output_delta(net["h"][3], net["y"])
        net["delta"] = {3: d3, 2: relu_backward(d3, net["W"][2], net["h"][2])}
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


def _backprop_cases(rng: np.random.Generator) -> list[Case]:
    nets = [_network(sizes, n, rng) for sizes, n in _DEPTHS]
    return [Case(f"the {net['label']}", (net["W"], net["h"], net["y"])) for net in nets]


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
     Mutant("dh * (h > 0)", "dh * h", "relative error"),
     Mutant("dh * (h > 0)", "dh * (h >= 0)", "relative error")),
    shape="dC/dh(l)_j = Σ_i δ(l+1)_i W(l+1)_ij: one column per unit of layer l")

REVERSED = ("the gradients come last layer first: return them in the order of the parameters, "
            "[∂C/∂W(1), ∂C/∂b(1), ..., ∂C/∂W(L), ∂C/∂b(L)] (put each layer's pair in front)")


def _verify_backprop(student: Callable[..., list], case: Case) -> str | None:
    """The student's list of gradients against :func:`backprop`'s, part by part, by name; the
    list in the reverse order of the layers gets its own hint."""
    got = student(*copy.deepcopy(case.args))
    want = backprop(*case.args)
    hint = diagnose(got, want, BACKPROP, case.label)
    if hint is None or not isinstance(got, list | tuple) or len(got) != len(want):
        return hint
    by_layer = [p for i in reversed(range(0, len(want), 2)) for p in want[i:i + 2]]
    if len(want) > 2 and diagnose(list(got), by_layer, BACKPROP, case.label) is None:
        return REVERSED
    return hint


BACKPROP = Exercise(
    name="backprop",
    reference=backprop,
    cases=_backprop_cases,
    verify=_verify_backprop,
    rtol=1e-9, atol=1e-12,
    outputs=_GRAD_NAMES,
    mutants=(Mutant("for layer in reversed(range(len(weights))):",
                    "for layer in range(len(weights)):", "raised"),
             Mutant("[weight_grad(delta, h_prev), bias_grad(delta), *grads]",
                    "[*grads, weight_grad(delta, h_prev), bias_grad(delta)]", "last layer first"),
             Mutant("h_prev = activations[layer]", "h_prev = activations[layer + 1]", "raised"),
             Mutant("relu_backward(delta, weights[layer], h_prev)",
                    "relu_backward(delta, weights[layer - 1], h_prev)", "raised"),
             Mutant("delta = output_delta(activations[-1], y)",
                    "delta = output_delta(activations[-2], y)", "")),
    graded_hints=(
        "start from the output layer's error, delta = output_delta(activations[-1], y), then "
        "go through the layers from the last to the first: "
        "for layer in reversed(range(len(weights))). In Python's 0-based lists "
        "weights[layer] is W(layer + 1) and activations[layer] is its input.",
        "in each layer: its two gradients from delta and its input activations[layer] "
        "(weight_grad, bias_grad), put in front of the list of those found so far; then, "
        "unless it is the first layer, the delta of the layer below: "
        "relu_backward(delta, weights[layer], activations[layer]).",
    ),
    slide="Backpropagation - dynamic programming",
)

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

register(OUTPUT_DELTA, WEIGHT_GRAD, BIAS_GRAD, RELU_BACKWARD, BACKPROP, LINEAR_SCHEDULE)


def whose_backward(**functions: Callable[..., object]) -> str:
    """One line saying whose backward pass a network built with ``functions["backprop"]`` trains
    on: the student's functions (those their checks returned) or the references.

    ``functions``: the notebook's ``backprop`` and the four functions it calls, by exercise name.
    """
    yours = [name for name, fn in functions.items() if fn is not get(name).reference]
    if "backprop" not in yours:
        return ("the network trains on the reference backward pass "
                "(lecture_utils.network.mlp.backprop): your backprop's check has not said "
                "correct yet")
    parts = [name for name in yours if name != "backprop"]
    theirs = [name for name in functions if name not in yours]
    text = "the network trains on your backprop"
    if parts:
        text += ", with your " + ", ".join(parts)
    if theirs:
        text += " and the reference " + ", ".join(theirs) + " (their checks said not yet)"
    return text
