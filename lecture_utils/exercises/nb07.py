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
from collections.abc import Callable, Sequence

import numpy as np

from lecture_utils.analysis import propagation
from lecture_utils.exercises.core import Case, Exercise, Mutant, register
from lecture_utils.network import functions as fn
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
def forward_std(weights: Sequence[np.ndarray], x: np.ndarray) -> np.ndarray:
    """std(h_l) over the batch and the units, l = 1..L: h_l = relu(h_{l−1} W_lᵀ), h_0 = x
    (slide "Exponential growth/decay forward"); ``weights = [W_1, ..., W_L, W_out]``, W_out
    not used; ``np.std`` over all n·width values (ddof = 0)."""
    h, stds = x, []
    for W in weights[:-1]:
        h = np.maximum(h @ W.T, 0)
        stds.append(np.std(h))
    return np.array(stds)


def _forward_std_ddof1(weights: Sequence[np.ndarray], x: np.ndarray) -> np.ndarray:
    """The same with the sample standard deviation (ddof = 1, torch's ``Tensor.std``)."""
    h, stds = x, []
    for W in weights[:-1]:
        h = np.maximum(h @ W.T, 0)
        stds.append(np.std(h, ddof=1))
    return np.array(stds)


def backward_rms(weights: Sequence[np.ndarray], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """rms of δ_l = ∂C/∂z_l, l = 1..L, for the mean cross-entropy C of labels ``y`` (slide
    "Exponential growth/decay backward"): from δ_out = (softmax − one-hot)/n down,
    ∂C/∂h_L = δ_out W_out, δ_l = ∂C/∂h_l ⊙ 1(z_l > 0), ∂C/∂h_{l−1} = δ_l W_l."""
    h, pre = x, []
    for W in weights[:-1]:                       # forward, keeping z_l
        pre.append(h @ W.T)
        h = np.maximum(pre[-1], 0)
    p = fn.softmax(h @ weights[-1].T)
    g = (p - fn.one_hot(y, p.shape[1], dtype=p.dtype)) / len(y) @ weights[-1]
    rms = []
    for W, z in zip(weights[-2::-1], pre[::-1], strict=True):
        delta = g * (z > 0)
        rms.append(np.sqrt(np.mean(delta**2)))
        g = delta @ W
    return np.array(rms[::-1])


def _signals(weights: Sequence[np.ndarray], x: np.ndarray,
             y: np.ndarray | None = None) -> propagation.Signals:
    """``propagation.propagate`` on the torch twin of ``weights`` (float64, zero biases)."""
    sizes = [weights[0].shape[1], *(W.shape[0] for W in weights)]
    params = [a for W in weights for a in (W, np.zeros(len(W)))]
    model = MLP(sizes, dtype=np.float64).load_state(params).to_torch()
    labels = np.zeros(len(x), dtype=np.int64) if y is None else y
    return propagation.propagate(model, x, labels)


def _torch_forward_std(weights: Sequence[np.ndarray], x: np.ndarray) -> np.ndarray:
    """std(h_l) from torch's forward pass (``propagation.propagate``), ddof = 0."""
    return np.array([np.std(h.numpy()) for h in _signals(weights, x).post])


def _torch_backward_rms(weights: Sequence[np.ndarray], x: np.ndarray,
                        y: np.ndarray) -> np.ndarray:
    """rms of ∂C/∂z_l from torch autograd (``propagation.propagate``)."""
    return _signals(weights, x, y).backward_rms


def relu_jacobian(W1: np.ndarray, W2: np.ndarray, W3: np.ndarray, x: np.ndarray) -> np.ndarray:
    """∂y_i/∂x_l = Σ_jk 1(h2_j > 0) 1(h1_k > 0) W3_ij W2_jk W1_kl of y = W3 relu(W2 relu(W1 x)),
    shape (n_out, n_in): the slide's sum, "linear given the indicators" (slide "... backward")."""
    h1 = np.maximum(W1 @ x, 0)
    h2 = np.maximum(W2 @ h1, 0)
    return np.einsum("j,k,ij,jk,kl->il", h2 > 0, h1 > 0, W3, W2, W1)


def _torch_jacobian(W1: np.ndarray, W2: np.ndarray, W3: np.ndarray,
                    x: np.ndarray) -> np.ndarray:
    import torch

    W = [torch.from_numpy(w) for w in (W1, W2, W3)]
    return torch.autograd.functional.jacobian(
        lambda v: W[2] @ torch.relu(W[1] @ torch.relu(W[0] @ v)), torch.from_numpy(x)).numpy()


def init_stds(fan_in: int, fan_out: int) -> tuple[float, float]:
    """(He normal std √(2/fan_in), Glorot normal std √(2/(fan_in + fan_out))) of one layer
    (slide "Scale of initialization important"; He et al. 2015, Glorot & Bengio 2010)."""
    return float(np.sqrt(2 / fan_in)), float(np.sqrt(2 / (fan_in + fan_out)))


def _torch_init_stds(fan_in: int, fan_out: int) -> tuple[float, float]:
    """The same from torch's conventions: kaiming_normal_ std = gain/√fan_in, gain('relu') = √2;
    xavier_normal_ std = gain·√(2/(fan_in + fan_out)), gain('linear') = 1."""
    from torch.nn import init

    return (init.calculate_gain("relu") / np.sqrt(fan_in),
            init.calculate_gain("linear") * np.sqrt(2.0 / (fan_in + fan_out)))


def std_factor(sigma_w: float, fan_in: int, n_layers: int) -> float:
    """Factor of std(h) over ``n_layers`` ReLU layers: (σ_w²·fan_in/2)^(n_layers/2), the mean
    square's factor σ_w²·fan_in/2 per layer (slide "Exponential growth/decay forward")."""
    return (sigma_w**2 * fan_in / 2) ** (n_layers / 2)


def depth_profile(init: Callable[[int, int], float], widths: Sequence[int], x: np.ndarray,
                  seed: int) -> np.ndarray:
    """Signal sizes through a linear network, forwards and backwards, for an initialisation.

    ``rng = np.random.default_rng(seed)``; layer l (widths[l−1] -> widths[l]) draws
    W_l ~ N(0, init(fan_in, fan_out)²) of shape (fan_out, fan_in), in order. Forward z_0 = x,
    z_l = z_{l−1} W_lᵀ, row 0: std(z_l), l = 1..L. Backward from g_L = 1 (C = the sum of the
    outputs), g_{l−1} = g_l W_l, row 1: rms(g_{l−1}), l = 1..L (input side first). Glorot &
    Bengio's two conditions, fan_in·σ² = 1 forwards and fan_out·σ² = 1 backwards.
    """
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0.0, init(fan_in, fan_out), size=(fan_out, fan_in))
               for fan_in, fan_out in itertools.pairwise(widths)]
    z, forward = x, []
    for W in weights:
        z = z @ W.T
        forward.append(np.std(z))
    g, backward = np.ones_like(z), []
    for W in weights[::-1]:
        g = g @ W
        backward.append(np.sqrt(np.mean(g**2)))
    return np.array([forward, backward[::-1]])


def _backward_row_not_reversed(*args: object) -> np.ndarray:
    """The slip: the backward row in the order the loop makes it, layer L first."""
    forward, backward = depth_profile(*args)
    return np.array([forward, backward[::-1]])


def _lecun(fan_in: int, fan_out: int) -> float:
    """σ = √(1/fan_in): the forward condition alone."""
    return float(np.sqrt(1 / fan_in))


def _backward_only(fan_in: int, fan_out: int) -> float:
    """σ = √(1/fan_out): the backward condition alone."""
    return float(np.sqrt(1 / fan_out))


def _glorot(fan_in: int, fan_out: int) -> float:
    """σ = √(2/(fan_in + fan_out)): Glorot's compromise."""
    return float(np.sqrt(2 / (fan_in + fan_out)))


def _depth_cases(rng: np.random.Generator) -> list[Case]:
    """A funnel and a widening net, each initialisation; widths differ, so fans matter."""
    funnel, widening = [64, 48, 32, 24, 16], [8, 16, 32, 64]
    return [
        Case("σ = √(1/fan_in), widths 64 -> 48 -> 32 -> 24 -> 16, 20 examples, seed 0 "
             "(row 0 forward std(z_l), row 1 backward rms(g_(l-1)), layer 1 first in both)",
             (_lecun, funnel, rng.normal(size=(20, 64)), 0)),
        Case("σ = √(1/fan_out), widths 8 -> 16 -> 32 -> 64, 30 examples, seed 1",
             (_backward_only, widening, rng.normal(size=(30, 8)), 1)),
        Case("Glorot σ = √(2/(fan_in + fan_out)), the funnel, seed 2",
             (_glorot, funnel, rng.uniform(0, 1, size=(10, 64)), 2)),
        Case("Glorot, one layer 5 -> 3, a single example, seed 3",
             (_glorot, [5, 3], rng.normal(size=(1, 5)), 3)),
    ]


#: What the two loops share: float64 sums in another order than torch's, tiny decayed signals.
_LOOP = {"rtol": 1e-8, "atol": 1e-15,
         "hints": {"shape": "return one number per hidden layer, layer 1 first"}}

FORWARD_STD = Exercise(
    name="forward_std",
    reference=forward_std,
    cases=_forward_cases,
    oracle=_torch_forward_std,
    alternatives=(_forward_std_ddof1,),  # the prompt says "standard deviation": either is one
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
    oracle=_torch_backward_rms,
    mutants=(Mutant("g * (z > 0)", "g", ""),                               # no ReLU indicator
             Mutant("delta @ W", "delta @ W.T", ""),                       # not transposed back
             Mutant("rms[::-1]", "rms", "reverse")),                       # output layer first
    slips=((lambda *args: backward_rms(*args)[::-1],
            "the loop runs from the output down, layer L first: reverse the list"),),
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
    outputs=("He std", "Glorot std"),
    mutants=(Mutant("np.sqrt(2 / fan_in)", "np.sqrt(1 / fan_in)", ""),   # Glorot's 1 for ReLU
             Mutant("np.sqrt(2 / fan_in)", "2 / fan_in", ""),            # the variance
             Mutant("(fan_in + fan_out)", "fan_out", "")),
    hints={"type": "return the two numbers as a pair: (He std, Glorot std)"},
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

DEPTH_PROFILE = Exercise(
    name="depth_profile",
    reference=depth_profile,
    cases=_depth_cases,
    rtol=1e-9,
    atol=1e-15,
    mutants=(Mutant("size=(fan_out, fan_in)", "size=(fan_in, fan_out)", ""),  # other draws
             Mutant("init(fan_in, fan_out)", "init(fan_out, fan_in)", ""),     # fans swapped
             Mutant("backward[::-1]", "backward", "reverse"),                  # output first
             Mutant("g = g @ W", "g = g @ W.T", "")),                          # W, not Wᵀ, back
    slips=((_backward_row_not_reversed,
            "the backward row comes in the order the loop makes it, layer L first: reverse it"),),
    hints={"shape": "two rows (forward, backward), one column per layer"},
    graded_hints=(
        "Draw all the weights first, layer by layer in order, from one rng = "
        "np.random.default_rng(seed): rng.normal(0, init(fan_in, fan_out), size=(fan_out, "
        "fan_in)). Then a forward loop (z = z @ W.T) and a backward loop from g = np.ones_like(z).",
        "Backwards, g = g @ W carries the gradient one layer down; record rms(g) after each "
        "step, then reverse the list so that layer 1 comes first; return "
        "np.array([forward, backward]).",
    ),
    slide="Exponential growth/decay backward (Scale of initialization important)",
)

register(FORWARD_STD, BACKWARD_RMS, RELU_JACOBIAN, INIT_STDS, STD_FACTOR, DEPTH_PROFILE)
