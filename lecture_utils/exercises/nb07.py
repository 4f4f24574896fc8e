"""Exercises of notebook 07 (initialisation and signal propagation).

Slides "Exponential growth/decay forward" and "... backward": the loop that carries a batch
up through L ReLU layers recording the spread of the activations, the loop that carries the
gradient back down recording the spread of δ_l = ∂C/∂z_l, and the "linear given the
indicators" Jacobian ∂y_i/∂x_l = Σ_jk 1(h⁽²⁾_j>0) 1(h⁽¹⁾_k>0) W⁽³⁾_ij W⁽²⁾_jk W⁽¹⁾_kl; then
"Scale of initialization important": the per-layer factor σ_w²·fan_in/2 and the He and
Glorot standard deviations. The loops are checked against ``lecture_utils.analysis.propagation``
(torch autograd), the Jacobian against ``lecture_utils.analysis.paths`` and torch autograd.

A network is a list ``weights = [W_1, ..., W_L, W_out]`` of arrays of shape (fan_out, fan_in),
as ``lecture_utils.network.initialisers`` draws them; z_l = h_{l−1} W_lᵀ on a batch (rows =
examples),
h_l = relu(z_l), h_0 = x, zero biases, logits h_L W_outᵀ, C the mean cross-entropy.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from lecture_utils.analysis import paths, propagation
from lecture_utils.exercises.core import Case, Exercise, Mutant, register
from lecture_utils.network import initialisers
from lecture_utils.network.mlp import MLP


# --------------------------------------------------------------------------- inputs
def _net(rng: np.random.Generator, sizes: Sequence[int], std: float | None = None) -> list:
    """Weights of a ReLU net with layer sizes ``sizes`` (input first): He normal, or N(0, std²)."""
    if std is None:
        return [initialisers.he_normal(i, o, rng=rng) for i, o in itertools.pairwise(sizes)]
    return [initialisers.normal(i, o, std=std, rng=rng) for i, o in itertools.pairwise(sizes)]


def _network_cases(rng: np.random.Generator) -> list[Case]:
    """Small ReLU nets with pixel-like or Gaussian inputs and integer labels.

    Non-square first layers (a transposed W fails), square hidden layers (a transposed W
    runs but is wrong), a single hidden layer, and weights that make the signal decay.
    """
    def case(label: str, sizes: Sequence[int], n: int, std: float | None = None,
             pixels: bool = True) -> Case:
        weights = _net(rng, sizes, std)
        x = rng.uniform(0, 1, size=(n, sizes[0])) if pixels else rng.normal(size=(n, sizes[0]))
        return Case(label, (weights, x, rng.integers(0, sizes[-1], size=n)))

    return [
        case("He, 20 -> 16 x 5 -> 3, 40 examples", [20, 16, 16, 16, 16, 16, 3], 40),
        case("He, widths 30 -> 40 -> 25 -> 10, Gaussian inputs", [30, 40, 25, 10], 25,
             pixels=False),
        case("one hidden layer, 12 -> 8 -> 4", [12, 8, 4], 10),
        case("N(0, 0.1²): decaying through 12 layers of width 32", [50] + [32] * 12 + [10], 30,
             std=0.1),
    ]


def _forward_cases(rng: np.random.Generator) -> list[Case]:
    """The networks and inputs of :func:`_network_cases` (the forward pass needs no labels)."""
    return [Case(c.label, c.args[:2]) for c in _network_cases(rng)]


def _jacobian_cases(rng: np.random.Generator) -> list[Case]:
    """Three-layer ReLU nets (different widths, so swapped indicators fail) and one input."""
    out = []
    for label, sizes in (("784 -> 100 -> 50 -> 10, an image-like input", (784, 100, 50, 10)),
                         ("6 -> 5 -> 4 -> 3", (6, 5, 4, 3)),
                         ("8 -> 12 -> 7 -> 2", (8, 12, 7, 2))):
        x = rng.uniform(0, 1, size=sizes[0])
        out.append(Case(label, (*_net(rng, sizes), x)))
    return out


# --------------------------------------------------------------------------- references
def _signals(weights: Sequence[np.ndarray], x: np.ndarray,
             y: np.ndarray | None = None) -> propagation.Signals:
    """``propagation.propagate`` on the torch twin of ``weights`` (float64, zero biases)."""
    sizes = [weights[0].shape[1], *(W.shape[0] for W in weights)]
    params = [a for W in weights for a in (W, np.zeros(len(W)))]
    model = MLP(sizes, dtype=np.float64).load_state(params).to_torch()
    labels = np.zeros(len(x), dtype=np.int64) if y is None else y
    return propagation.propagate(model, x, labels)


def forward_std(weights: Sequence[np.ndarray], x: np.ndarray) -> np.ndarray:
    """std(h_l) over the batch and the units, l = 1..L: h_l = relu(h_{l−1} W_lᵀ), h_0 = x.

    Slide "Exponential growth/decay forward"; ``weights = [W_1, ..., W_L, W_out]`` (W_out is
    not used; the std over all n·width values, ``np.std``). Computed by
    ``propagation.propagate`` (torch).
    """
    return np.array([np.std(h.numpy()) for h in _signals(weights, x).post])


def backward_rms(weights: Sequence[np.ndarray], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """rms of δ_l = ∂C/∂z_l, l = 1..L, for the mean cross-entropy C of labels ``y``.

    Slide "Exponential growth/decay backward": δ_l = (δ_{l+1} W_{l+1}) ⊙ 1(z_l > 0), from the
    logits down. Computed by ``propagation.propagate`` (torch autograd).
    """
    return _signals(weights, x, y).backward_rms


def relu_jacobian(W1: np.ndarray, W2: np.ndarray, W3: np.ndarray, x: np.ndarray) -> np.ndarray:
    """∂y/∂x (shape (n_out, n_in)) of y = W3 relu(W2 relu(W1 x)): the product of the local
    Jacobians diag(1(z_l > 0)) W_l of ``paths.local_jacobians`` (slide "... backward")."""
    J1, J2, out = paths.local_jacobians([W1, W2, W3], x)
    return out @ J2 @ J1


def _torch_jacobian(W1: np.ndarray, W2: np.ndarray, W3: np.ndarray,
                    x: np.ndarray) -> np.ndarray:
    import torch

    W = [torch.from_numpy(w) for w in (W1, W2, W3)]
    return torch.autograd.functional.jacobian(
        lambda v: W[2] @ torch.relu(W[1] @ torch.relu(W[0] @ v)), torch.from_numpy(x)).numpy()


def init_stds(fan_in: int, fan_out: int) -> np.ndarray:
    """(He normal std √(2/fan_in), Glorot normal std √(2/(fan_in + fan_out))) of one layer."""
    return np.sqrt([initialisers.weight_variance("he_normal", fan_in, fan_out),
                    initialisers.weight_variance("glorot_normal", fan_in, fan_out)])


def _torch_init_stds(fan_in: int, fan_out: int) -> np.ndarray:
    """The same from torch's conventions: kaiming_normal_ std = gain/√fan_in, gain('relu') = √2;
    xavier_normal_ std = gain·√(2/(fan_in + fan_out)), gain('linear') = 1."""
    from torch.nn import init

    return np.array([init.calculate_gain("relu") / np.sqrt(fan_in),
                     init.calculate_gain("linear") * np.sqrt(2.0 / (fan_in + fan_out))])


def std_factor(sigma_w: float, fan_in: int, n_layers: int) -> float:
    """Factor of std(h) over ``n_layers`` ReLU layers: (σ_w²·fan_in/2)^(n_layers/2)."""
    return float(propagation.layer_factor(sigma_w**2, fan_in) ** (n_layers / 2))


#: What the two loops share: float64 sums in another order than torch's, tiny decayed signals.
_LOOP = {"rtol": 1e-8, "atol": 1e-15,
         "hints": {"shape": "return one number per hidden layer, layer 1 first"}}

FORWARD_STD = Exercise(
    name="forward_std",
    reference=forward_std,
    cases=_forward_cases,
    mutants=(Mutant("np.maximum(h @ W.T, 0)", "h @ W.T", ""),             # no ReLU
             Mutant("np.std(h)", "np.sqrt(np.mean(h**2))", "relative error"),  # rms, not std
             Mutant("weights[:-1]", "weights", "wrong shape")),            # the logits too
    slide="Exponential growth/decay forward",
    **_LOOP,
)

BACKWARD_RMS = Exercise(
    name="backward_rms",
    reference=backward_rms,
    cases=_network_cases,
    mutants=(Mutant("g * (z > 0)", "g", ""),                               # no ReLU indicator
             Mutant("delta @ W", "delta @ W.T", ""),                       # not transposed back
             Mutant("rms[::-1]", "rms", "relative error")),                # output layer first
    slide="Exponential growth/decay backward",
    **_LOOP,
)

RELU_JACOBIAN = Exercise(
    name="relu_jacobian",
    reference=relu_jacobian,
    cases=_jacobian_cases,
    oracle=_torch_jacobian,
    rtol=1e-10,
    atol=1e-13,
    mutants=(Mutant("kl->il", "kl->li", "transposed"),
             Mutant("h2 > 0, h1 > 0", "np.ones_like(h2), np.ones_like(h1)", ""),  # no indicators
             Mutant("h2 > 0, h1 > 0", "h1 > 0, h2 > 0", "")),              # indicators swapped
    hints={"shape": "∂y_i/∂x_l has one row per output i and one column per input l"},
    slide="Exponential growth/decay backward",
)

INIT_STDS = Exercise(
    name="init_stds",
    reference=init_stds,
    cases=lambda rng: [Case("fan_in 784, fan_out 256", (784, 256)),
                       Case("fan_in 256, fan_out 256", (256, 256)),
                       Case("fan_in 100, fan_out 10", (100, 10)),
                       Case("fan_in 3, fan_out 1000", (3, 1000))],
    oracle=_torch_init_stds,
    rtol=1e-10,
    mutants=(Mutant("np.sqrt(2 / fan_in)", "np.sqrt(1 / fan_in)", ""),   # Glorot's 1 for ReLU
             Mutant("np.sqrt(2 / fan_in)", "2 / fan_in", ""),            # the variance
             Mutant("(fan_in + fan_out)", "fan_out", "")),
    hints={"shape": "return the two numbers (He std, Glorot std)"},
    slide="Exponential growth/decay backward (Scale of initialization important)",
)

STD_FACTOR = Exercise(
    name="std_factor",
    reference=std_factor,
    cases=lambda rng: [Case("σ_w = 0.05, fan_in 512, 30 layers", (0.05, 512, 30)),
                       Case("σ_w = 0.05, fan_in 512, one layer", (0.05, 512, 1)),
                       Case("σ_w = 0.1, fan_in 100, 7 layers", (0.1, 100, 7)),
                       Case("σ_w = 0.12, fan_in 256, 20 layers", (0.12, 256, 20))],
    rtol=1e-10,
    mutants=(Mutant("fan_in / 2", "fan_in", ""),                         # ReLU's half forgotten
             Mutant("** (n_layers / 2)", "** n_layers", "")),            # mean square, not std
    hints={"factor": "per layer the MEAN SQUARE is multiplied by σ_w²·fan_in/2"},
    slide="Exponential growth/decay forward",
)

register(FORWARD_STD, BACKWARD_RMS, RELU_JACOBIAN, INIT_STDS, STD_FACTOR)
