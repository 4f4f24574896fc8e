"""Exercises of notebook 02 (tiny examples, the chain rule and backpropagation).

Slide "Tiny example I": its two derivatives, corrected (the factor 2, the indicator
1(w1·x > 0)); slide "Tiny Example II": the gradient with weight decay γ; slide
"Backpropagation - dynamic programming": one step of the recursion
∂C/∂h(l)_j = Σ_i ∂C/∂h(l+1)_i ∂h(l+1)_i/∂h(l)_j and the weight gradient
∂C/∂W(l)_ij = ∂C/∂h(l)_i ∂h(l)_i/∂W(l)_ij of a tanh layer; slide "Backpropagation" (how many
paths?): the paths from one pixel to one output of notebook 04's network, a value exercise.
Every gradient is checked against the reference here and against torch autograd.
"""

from __future__ import annotations

import numpy as np

from lecture_utils.analysis import paths, tiny
from lecture_utils.exercises.core import Case, Exercise, Mutant, register


# --------------------------------------------------------------------------- references
def tiny_i_gradient(w1: float, w2: float, x: float, y: float) -> np.ndarray:
    """(∂C/∂w1, ∂C/∂w2) of C = (y − h2)², h2 = w2·h1, h1 = relu(w1·x) (slide "Tiny example I",
    corrected): ∂C/∂w1 = −2(y − h2)·w2·1(w1·x > 0)·x and ∂C/∂w2 = −2(y − h2)·h1."""
    h1 = max(w1 * x, 0.0)
    h2 = w2 * h1
    r = y - h2
    return np.array([-2 * r * w2 * float(w1 * x > 0) * x, -2 * r * h1])


def tiny_ii_gradient(w1: float, w2: float, x: float, y: float, gamma: float) -> np.ndarray:
    """∇C of C = (w1·w2·x − y)² + γ(w1² + w2²) (slide "Tiny Example II"), with the residual
    r = w1·w2·x − y: ∂C/∂w1 = 2r·w2·x + 2γ·w1 and ∂C/∂w2 = 2r·w1·x + 2γ·w2."""
    r = w1 * w2 * x - y
    return np.array([2 * r * w2 * x + 2 * gamma * w1, 2 * r * w1 * x + 2 * gamma * w2])


def backprop_step(dC_dh_next: np.ndarray, W_next: np.ndarray, h: np.ndarray) -> np.ndarray:
    """∂C/∂h(l)_j = Σ_i ∂C/∂h(l+1)_i ∂h(l+1)_i/∂h(l)_j for h(l+1) = tanh(W(l+1) h(l)), with
    the local derivative ∂h(l+1)_i/∂h(l)_j = (1 − h(l+1)_i²)·W(l+1)_ij (slide
    "Backpropagation - dynamic programming")."""
    h_next = np.tanh(W_next @ h)
    local = (1 - h_next**2)[:, None] * W_next
    return dC_dh_next @ local


def weight_gradient(dC_dh: np.ndarray, W: np.ndarray, h_prev: np.ndarray) -> np.ndarray:
    """∂C/∂W(l)_ij = ∂C/∂h(l)_i · (1 − h(l)_i²) · h(l−1)_j for h(l) = tanh(W(l) h(l−1))
    (slide "... dynamic programming", whose W_ii reads W_ij): an outer product."""
    h = np.tanh(W @ h_prev)
    return np.outer(dC_dh * (1 - h**2), h_prev)


def mnist_paths() -> int:
    """Paths from one pixel to one output of the 784-256-256-10 network of notebook 04: one
    choice of unit in each hidden layer, 256·256."""
    return 256 * 256


def network_gradient(net: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    """∂y/∂θ of y = w_out·h(L), h(l) = tanh(W(l) h(l−1)), h(0) = x, for θ = (W(1), …, W(L),
    w_out) flattened in that order: backprop as dynamic programming over the whole network
    (slide "Backpropagation - dynamic programming"), the two steps above in a loop.
    """
    h = [x]
    for W in net[:-1]:                       # forward, storing every h(l)
        h.append(np.tanh(W @ h[-1]))
    grads = [h[-1][None, :]]                 # ∂y/∂w_out = h(L), w_out of shape (1, n_L)
    dC_dh = net[-1][0]                       # ∂y/∂h(L) = w_out
    for W, h_below in zip(net[-2::-1], h[-2::-1], strict=True):   # from layer L down to 1
        grads.append(weight_gradient(dC_dh, W, h_below))
        dC_dh = backprop_step(dC_dh, W, h_below)
    return np.concatenate([g.ravel() for g in grads[::-1]])


def _sweep_order(net: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    """The slip of a list never reversed: w_out's gradient first, W(1)'s last."""
    parts = np.split(network_gradient(net, x), np.cumsum([W.size for W in net])[:-1])
    return np.concatenate(parts[::-1])


# --------------------------------------------------------------------------- inputs
def _tiny_i_cases(rng: np.random.Generator) -> list[Case]:
    """The ReLU on with x > 0, then on with x < 0, w1 < 0 (the slide's indicator fails), off."""
    def u() -> float:  # a positive magnitude
        return float(rng.uniform(0.3, 1.8))

    return [
        Case("random weights, x > 0, w1 > 0", (u(), float(rng.normal()), u(), float(rng.normal()))),
        Case("x < 0 and w1 < 0 (the ReLU is on)", (-u(), float(rng.normal()), -u(), 1.5)),
        Case("the slide's data x = 1, y = 1.5", (u(), -u(), 1.0, 1.5)),
        Case("the ReLU off (w1·x < 0)", (-u(), u(), u(), 1.5)),
        Case("w1 = 0, the ReLU's kink: relu'(0) = 0, as torch takes it", (0.0, u(), u(), 1.5)),
    ]


def _tiny_ii_cases(rng: np.random.Generator) -> list[Case]:
    """Random weights with the slide's data and γ, other data and γ, no decay, a minimum."""
    a = float(np.sqrt(1.46))
    return [
        Case("random weights, x = 1, y = 1.5, γ = 0.04",
             (*rng.normal(size=2).tolist(), 1.0, 1.5, 0.04)),
        Case("random weights and data, γ = 0.5",
             (*rng.normal(size=2).tolist(), float(rng.uniform(-2, 2)), float(rng.normal()), 0.5)),
        Case("no weight decay (γ = 0)", (*rng.normal(size=2).tolist(), 1.0, 1.5, 0.0)),
        Case("the minimum w1 = w2 = √1.46", (a, a, 1.0, 1.5, 0.04)),
    ]


def _layer(rng: np.random.Generator, label: str, n_out: int, n_in: int, scale: float = 1.0
           ) -> Case:
    """(upstream gradient of shape (n_out,), W of shape (n_out, n_in), tanh input of (n_in,))."""
    W = rng.normal(scale=scale / np.sqrt(n_in), size=(n_out, n_in))
    return Case(label, (rng.normal(size=n_out), W, np.tanh(rng.normal(size=n_in))))


def _layer_cases(rng: np.random.Generator) -> list[Case]:
    """(∂C/∂h(l+1), W(l+1), h(l)): a square layer first (a sum over the wrong index shows)."""
    return [_layer(rng, "4 units to 4 units (the sum runs over i, the units of layer l+1)", 4, 4),
            _layer(rng, "3 units to 5 units", 5, 3),
            _layer(rng, "5 units to 2 units", 2, 5),
            _layer(rng, "large weights (tanh saturates)", 4, 4, 6.0)]


def _weight_cases(rng: np.random.Generator) -> list[Case]:
    """(∂C/∂h(l), W(l), h(l−1)): a non-square layer first, so a transpose shows."""
    return [_layer(rng, "5 inputs to 3 units", 3, 5), _layer(rng, "4 inputs to 4 units", 4, 4),
            _layer(rng, "1 input to 6 units", 6, 1),
            _layer(rng, "large weights (tanh saturates)", 3, 3, 6.0)]


def _network_cases(rng: np.random.Generator) -> list[Case]:
    """Tanh networks [W(1), …, W(L), w_out] of different widths (so a reversed list shows)."""
    def case(label: str, n_in: int, widths: list[int]) -> Case:
        return Case(label, (paths.random_net(n_in, widths, rng), rng.normal(size=n_in)))

    return [case("x of 3, hidden layers of 4 and 5 (θ lists W(1) first, w_out last)", 3, [4, 5]),
            case("x of 2, one hidden layer of 3", 2, [3]),
            case("x of 4, three hidden layers of 3", 4, [3, 3, 3]),
            case("x of 5, hidden layers of 2, 6, 4, 3", 5, [2, 6, 4, 3])]


# --------------------------------------------------------------------------- torch oracles
def _torch_gradient(cost: tiny.TinyExampleI | tiny.LinearChainCost, w1: float, w2: float
                    ) -> np.ndarray:
    import torch

    w = torch.tensor([w1, w2], dtype=torch.float64, requires_grad=True)
    cost.torch_value(w).backward()
    return w.grad.numpy()


def _torch_tiny_i(w1: float, w2: float, x: float, y: float) -> np.ndarray:
    return _torch_gradient(tiny.TinyExampleI(x=x, y=y), w1, w2)


def _torch_tiny_ii(w1: float, w2: float, x: float, y: float, gamma: float) -> np.ndarray:
    return _torch_gradient(tiny.LinearChainCost(x=x, y=y, decay=gamma), w1, w2)


def _torch_layer(dC_dh_next: np.ndarray, W: np.ndarray, h: np.ndarray, wrt: str) -> np.ndarray:
    """Autograd through h_next = tanh(W h) with upstream gradient ∂C/∂h_next; wrt "h" or "W"."""
    import torch

    Wt = torch.tensor(W, requires_grad=True)
    ht = torch.tensor(h, requires_grad=True)
    torch.tanh(Wt @ ht).backward(torch.tensor(dC_dh_next))
    return (ht if wrt == "h" else Wt).grad.numpy()


def _torch_backprop_step(dC_dh_next: np.ndarray, W_next: np.ndarray, h: np.ndarray
                         ) -> np.ndarray:
    return _torch_layer(dC_dh_next, W_next, h, "h")


def _torch_weight_gradient(dC_dh: np.ndarray, W: np.ndarray, h_prev: np.ndarray) -> np.ndarray:
    return _torch_layer(dC_dh, W, h_prev, "W")


def _torch_network_gradient(net: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    """Autograd of y = w_out·tanh(W(L) ⋯ tanh(W(1) x)) with respect to every weight."""
    import torch

    weights = [torch.tensor(W, requires_grad=True) for W in net]
    h = torch.from_numpy(x)
    for W in weights[:-1]:
        h = torch.tanh(W @ h)
    (weights[-1] @ h).sum().backward()
    return np.concatenate([W.grad.numpy().ravel() for W in weights])


# --------------------------------------------------------------------------- exercises
TINY_I_GRADIENT = Exercise(
    name="tiny_i_gradient",
    reference=tiny_i_gradient,
    cases=_tiny_i_cases,
    oracle=_torch_tiny_i,
    mutants=(Mutant("-2 * r", "-r", "factor of 2"),                # the slide's missing 2
             Mutant("float(w1 * x > 0)", "float(w1 * h1 > 0)",    # the slide's indicator
                    "x < 0 and w1 < 0"),
             Mutant("-2 * r", "2 * r", "wrong sign"),              # r = y − h2, not h2 − y
             Mutant("float(w1 * x > 0)", "float(w1 * x >= 0)", "kink")),  # relu'(0) = 1
    hints={"factor": "differentiate the square: d(r²) = 2r dr",
           "sign": "∂C/∂h2 = −2(y − h2)"},
    graded_hints=("Forward first: h1 = relu(w1·x), h2 = w2·h1; then ∂C/∂h2 = −2(y − h2), and "
                  "multiply by one local derivative per arrow back to each weight.",
                  "The ReLU passes the gradient only where its own input w1·x is positive: "
                  "relu'(a) = 1(a > 0), with a = w1·x."),
    slide="Tiny example I",
)

TINY_II_GRADIENT = Exercise(
    name="tiny_ii_gradient",
    reference=tiny_ii_gradient,
    cases=_tiny_ii_cases,
    oracle=_torch_tiny_ii,
    # at the minimum the answer is 0: float32's rounding of r = w1·w2·x − y (~1e-8) is absolute
    tolerances={"float32": (1e-4, 1e-6)},
    mutants=(Mutant("2 * gamma", "gamma", "relative error"),        # d(γw²)/dw = 2γw
             Mutant("2 * r * w2 * x", "2 * r * w1 * x", "relative error"),  # wrong chain factor
             Mutant("r = w1 * w2 * x - y", "r = y - w1 * w2 * x", "relative error")),
    slide="Tiny Example II",
)

BACKPROP_STEP = Exercise(
    name="backprop_step",
    reference=backprop_step,
    cases=_layer_cases,
    oracle=_torch_backprop_step,
    mutants=(Mutant("dC_dh_next @ local", "local @ dC_dh_next", "units of layer l+1"),  # Σ_j
             Mutant("(1 - h_next**2)[:, None]", "(1 - h_next**2)[None, :]",  # φ' on the wrong index
                    "relative error"),
             Mutant("(1 - h_next**2)[:, None] * W_next", "W_next", "relative error")),  # no φ'
    slide="Backpropagation - dynamic programming",
)

WEIGHT_GRADIENT = Exercise(
    name="weight_gradient",
    reference=weight_gradient,
    cases=_weight_cases,
    oracle=_torch_weight_gradient,
    mutants=(Mutant("np.outer(delta, h_prev)", "np.outer(h_prev, delta)", "transposed"),
             Mutant("dC_dh * (1 - h**2)", "dC_dh", "relative error")),  # no tanh'
    slide="Backpropagation - dynamic programming",
)

MNIST_PATHS = Exercise(
    name="mnist_paths",
    reference=mnist_paths,
    mutants=(Mutant("256 * 256", "256 * 256 * 10", "one output, not all ten"),
             Mutant("256 * 256", "784 * 256 * 256", "from one pixel"),
             Mutant("256 * 256", "256**3", "two hidden layers"),
             Mutant("256 * 256", "256 + 256 * 256 + 256", "relative error")),  # the edges
    slips=((lambda: 256 * 256 * 10, "one output, not all ten"),
           (lambda: 784 * 256 * 256, "from one pixel, not from all 784"),
           (lambda: 256**3, "the network has two hidden layers of 256, not three")),
    hints={"factor": "a path picks one unit in each hidden layer, between one pixel and one "
                     "output"},
    slide="Backpropagation (how many paths)",
)

NETWORK_GRADIENT = Exercise(
    name="network_gradient",
    reference=network_gradient,
    cases=_network_cases,
    oracle=_torch_network_gradient,
    slips=((_sweep_order,
            "your gradients come in the order the backward sweep makes them, w_out first: "
            "reverse the list, W(1) first"),),
    mutants=(Mutant("    grads.reverse()", "    pass", "W(1) first"),     # the backward order
             Mutant("grads = [h[-1][None, :]]", "grads = []", "wrong shape"),  # no ∂y/∂w_out
             Mutant("dy_dh = delta @ net[l - 1]", "dy_dh = dy_dh @ net[l - 1]",  # no tanh' below
                    "relative error"),
             Mutant("delta = dy_dh * (1 - h[l]**2)", "delta = dy_dh", "relative error")),
    hints={"shape": "one entry per weight: W(1), …, W(L) and w_out, each flattened",
           "sign": "y = w_out·h(L): start the recursion from ∂y/∂h(L) = w_out"},
    graded_hints=(
        "Forward first: store h(0) = x, h(1), …, h(L) in a list. Then start at the output with "
        "∂y/∂h(L) = w_out (and ∂y/∂w_out = h(L)) and walk down l = L, …, 1.",
        "At layer l: δ = ∂y/∂h(l) ⊙ (1 − h(l)²); ∂y/∂W(l) = outer(δ, h(l−1)); pass "
        "∂y/∂h(l−1) = δ W(l) down. You collect the gradients from the top: reverse the list, "
        "then np.concatenate([g.ravel() for g in grads]).",
    ),
    slide="Backpropagation - dynamic programming",
)

register(TINY_I_GRADIENT, TINY_II_GRADIENT, BACKPROP_STEP, WEIGHT_GRADIENT, MNIST_PATHS,
         NETWORK_GRADIENT)
