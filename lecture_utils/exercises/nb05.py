"""Exercises of notebook 05 (mini-batch training, annealing and adaptive step sizes).

Slide "Mini-batch training": the mini-batch sampler of one epoch, the batch size at which
the gradient noise equals the signal, a 1/t schedule; "Adaptation of η_k possible (Adam,
Adagrad, Adadelta)": the Adam and RMSprop updates as step functions on arrays, checked step
by step against ``torch.optim`` (each reference is the formula, which ``reveal`` shows);
slide "Objectives of lecture": the gradient of the MNIST network by autograd, against the
hand-written backward pass.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from lecture_utils.exercises.core import Case, Exercise, Mutant, register
from lecture_utils.network.initialisers import he_normal
from lecture_utils.network.mlp import MLP
from lecture_utils.optim.training import minibatches

SLIDE = "Mini-batch training"


# --------------------------------------------------------------------------- the sampler
def epoch_batches(n: int, batch_size: int, rng: np.random.Generator | int) -> list[np.ndarray]:
    """The index batches of one epoch (slide: 600 updates of 100 examples per epoch).

    A new permutation of ``0, ..., n-1`` drawn from ``rng``, cut into batches of
    ``batch_size``; the last batch holds the remaining ``n % batch_size`` indices. The
    reference is ``lecture_utils.optim.training.minibatches`` on the indices themselves.
    """
    index = np.arange(n)
    return [batch for batch, _ in minibatches(index, index, batch_size, rng=rng)]


def _sampler_cases(rng: np.random.Generator) -> list[Case]:
    """``(n, batch_size, seed)``: a small epoch first (reveal's), then the edge cases."""
    seeds = rng.integers(0, 2**31, size=6)
    return [
        Case("n = 120, batches of 40", (120, 40, int(seeds[0]))),
        Case("n = 10, batches of 3 (a last batch of 1)", (10, 3, int(seeds[1]))),
        Case("n = 5, batch size 8 (one batch of 5)", (5, 8, int(seeds[2]))),
        Case("n = 12, batches of 1", (12, 1, int(seeds[3]))),
        Case("n = 100, one batch of all 100", (100, 100, int(seeds[4]))),
        Case("the slide's epoch: n = 60,000, batches of 100", (60_000, 100, int(seeds[5]))),
    ]


def _indices(batches: Any) -> tuple[list[int], np.ndarray] | str:
    """The batch sizes and the concatenated indices of one epoch, or a hint."""
    try:
        batches = [np.asarray(b) for b in batches]
    except TypeError:
        return "return a list of index arrays, one per batch"
    if any(b.ndim != 1 or not np.issubdtype(b.dtype, np.integer) for b in batches):
        return "each batch must be a 1-d array of integer indices"
    flat = np.concatenate(batches) if batches else np.array([], dtype=int)
    return [len(b) for b in batches], flat


def _verify_sampler(student: Callable[..., Any], case: Case) -> str | None:
    """None if ``student`` samples epochs correctly on ``case``, else a hint (no indices).

    Two epochs from one generator: each holds every index exactly once, in batches of
    ``batch_size`` with the rest in the last; not in file order; in a new order in the second
    epoch; and the same batches again from a new generator with the same seed.
    """
    n, batch_size, seed = case.args
    rng = np.random.default_rng(seed)
    epochs = [_indices(student(n, batch_size, rng)) for _ in range(2)]
    again = _indices(student(n, batch_size, np.random.default_rng(seed)))
    sizes = [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    for result in [*epochs, again]:
        if isinstance(result, str):
            return result
        got_sizes, flat = result
        if np.any((flat < 0) | (flat >= n)):
            return f"an index outside 0, ..., n-1 on the input '{case.label}'"
        counts = np.bincount(flat, minlength=n)
        if np.any(counts > 1):
            return (f"an index appears twice in one epoch on the input '{case.label}' (draw a "
                    "permutation: sampling with replacement repeats examples)")
        if np.any(counts == 0):
            return (f"indices are missing from the epoch on the input '{case.label}': every "
                    "example is used once per epoch (keep the last, smaller batch)")
        if got_sizes != sizes:
            return (f"wrong batch sizes on the input '{case.label}': batches of batch_size, "
                    "the last one holding the rest")
    (_, first), (_, second), (_, repeat) = epochs[0], epochs[1], again
    if n >= 10 and np.array_equal(first, np.arange(n)):
        return "not shuffled: the batches follow the file order (draw a permutation from rng)"
    if n >= 10 and np.array_equal(first, second):
        return "the same order in two epochs: draw a new permutation from rng on every call"
    if not np.array_equal(first, repeat):
        return ("not reproducible: a new generator with the same seed must give the same "
                "batches (draw from rng, not from np.random)")
    return None


# --------------------------------------------------------------------------- Adam, RMSprop
def adam_step(theta: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, t: int,
              eta: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One Adam step (Kingma & Ba, 2015, Algorithm 1) on arrays; returns the new θ, m, v.

    m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − η m̂/(√v̂ + ε) with m̂ = m/(1−β₁ᵗ),
    v̂ = v/(1−β₂ᵗ), t = 1 for the first step (``optimizers.Adam.update`` is the same formula).
    """
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    theta = theta - eta * m_hat / (np.sqrt(v_hat) + eps)
    return theta, m, v


def rmsprop_step(theta: np.ndarray, g: np.ndarray, v: np.ndarray, eta: float,
                 rho: float = 0.99, eps: float = 1e-8) -> tuple[np.ndarray, np.ndarray]:
    """One RMSprop step (Tieleman & Hinton, 2012) on arrays; returns the new θ and v.

    v ← ρv + (1−ρ)g², θ ← θ − η g/(√v + ε) (torch's ``alpha`` is ρ).
    """
    v = rho * v + (1 - rho) * g**2
    theta = theta - eta * g / (np.sqrt(v) + eps)
    return theta, v


def _adam_without_bias_correction(theta: np.ndarray, g: np.ndarray, m: np.ndarray,
                                  v: np.ndarray, t: int, eta: float, beta1: float = 0.9,
                                  beta2: float = 0.999, eps: float = 1e-8
                                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The slip: θ moved by m/(√v + ε), without m̂ and v̂."""
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    return theta - eta * m / (np.sqrt(v) + eps), m, v


def _adam_eps_inside(theta: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, t: int,
                     eta: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The slip: ε inside the square root, √(v̂ + ε)."""
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return theta - eta * m_hat / np.sqrt(v_hat + eps), m, v


def _gradients(rng: np.random.Generator, shape: tuple[int, ...], steps: int) -> list[np.ndarray]:
    """Gradients whose entries differ in size by four decades, as a network's do."""
    scale = 10.0 ** rng.uniform(-3, 1, size=shape)
    return [scale * rng.normal(size=shape) for _ in range(steps)]


def _adam_cases(rng: np.random.Generator) -> list[Case]:
    """Each step of a short run (state from the reference), then the edge cases."""
    theta = rng.normal(size=4)
    m, v = np.zeros(4), np.zeros(4)
    cases = []
    for t, g in enumerate(_gradients(rng, (4,), 4), start=1):
        cases.append(Case(f"step t = {t} of a run", (theta, g, m, v, t, 1e-2)))
        theta, m, v = adam_step(theta, g, m, v, t, 1e-2)
    g = rng.normal(size=(3, 5))
    g[0] = 0.0
    zero = np.zeros((3, 5))
    cases += [
        Case("first step, a row of exactly zero gradients", (rng.normal(size=(3, 5)), g, zero,
                                                              zero, 1, 1e-3)),
        Case("first step, gradients of 1e-9 (ε matters)", (rng.normal(size=3),
                                                           1e-9 * rng.normal(size=3),
                                                           np.zeros(3), np.zeros(3), 1, 1e-3)),
        Case("step t = 7, β₁ = 0.5, β₂ = 0.9, ε = 1e-3",
             (rng.normal(size=6), rng.normal(size=6), 0.1 * rng.normal(size=6),
              0.1 * rng.random(6), 7, 0.05, 0.5, 0.9, 1e-3)),
    ]
    return cases


def _rmsprop_cases(rng: np.random.Generator) -> list[Case]:
    theta, v = rng.normal(size=4), np.zeros(4)
    cases = []
    for t, g in enumerate(_gradients(rng, (4,), 4), start=1):
        cases.append(Case(f"step {t} of a run", (theta, g, v, 1e-2)))
        theta, v = rmsprop_step(theta, g, v, 1e-2)
    g = rng.normal(size=(3, 5))
    g[1] = 0.0
    cases += [
        Case("first step, a row of exactly zero gradients", (rng.normal(size=(3, 5)), g,
                                                              np.zeros((3, 5)), 1e-3)),
        Case("ρ = 0.9 (Tieleman & Hinton), ε = 1e-3",
             (rng.normal(size=6), rng.normal(size=6), 0.1 * rng.random(6), 0.05, 0.9, 1e-3)),
    ]
    return cases


def _torch_step(make: Callable[..., Any], theta: np.ndarray, g: np.ndarray,
                state: dict[str, Any], **hyper: Any) -> tuple[Any, Any]:
    """One ``torch.optim`` step from a given state; the parameter and the optimiser."""
    import torch

    p = torch.tensor(np.array(theta, dtype=float), requires_grad=True)
    optimizer = make([p], **hyper)
    p.grad = torch.tensor(np.array(g, dtype=float))
    optimizer.state[p] = {k: torch.tensor(np.array(s, dtype=float)) for k, s in state.items()}
    optimizer.step()
    return p.detach().numpy(), optimizer.state[p]


def _torch_adam(theta: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, t: int,
                eta: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import torch

    p, state = _torch_step(torch.optim.Adam, theta, g,
                           {"step": t - 1.0, "exp_avg": m, "exp_avg_sq": v},
                           lr=eta, betas=(beta1, beta2), eps=eps)
    return p, state["exp_avg"].numpy(), state["exp_avg_sq"].numpy()


def _torch_rmsprop(theta: np.ndarray, g: np.ndarray, v: np.ndarray, eta: float,
                   rho: float = 0.99, eps: float = 1e-8) -> tuple[np.ndarray, np.ndarray]:
    import torch

    p, state = _torch_step(torch.optim.RMSprop, theta, g, {"step": 0.0, "square_avg": v},
                           lr=eta, alpha=rho, eps=eps)
    return p, state["square_avg"].numpy()


# --------------------------------------------------------------------------- noise, schedule
def noise_equals_signal(sigma2: float, signal: float, n: int) -> float:
    """The batch size B at which σ²/B · (N − B)/(N − 1) equals the signal ‖g‖².

    σ²(N − B) = ‖g‖² B (N − 1) gives B = σ²N / (‖g‖²(N − 1) + σ²).
    """
    return float(sigma2 * n / (signal * (n - 1) + sigma2))


def _noise_cases(rng: np.random.Generator) -> list[Case]:
    return [Case("σ² = 150, ‖g‖² = 1.8, N = 60,000", (150.0, 1.8, 60_000)),
            Case("σ² = 40, ‖g‖² = 0.04, N = 50,000", (40.0, 0.04, 50_000)),
            Case("noise far above the signal, N = 1,000", (500.0, 0.3, 1_000)),
            Case("random", (float(rng.uniform(1, 100)), float(rng.uniform(0.01, 1)), 10_000))]


def inverse_time_tau(k: int, factor: float) -> float:
    """τ of η_k = η₀/(1 + k/τ) such that η_K = η₀/factor: 1 + K/τ = factor, τ = K/(factor − 1)."""
    return k / (factor - 1)


def _tau_cases(rng: np.random.Generator) -> list[Case]:
    return [Case("K = 2,500, down to η₀/10", (2_500, 10.0)),
            Case("K = 600, down to η₀/5", (600, 5.0)),
            Case("K = 1,000, down to η₀/2", (1_000, 2.0)),
            Case("random", (int(rng.integers(100, 10_000)), float(rng.uniform(1.5, 100))))]


# --------------------------------------------------------------------------- autograd
def autograd_dw1(params: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """∂C/∂W(1) of the mean cross-entropy of the ReLU network with ``params``
    ``[W1, b1, W2, b2, W3, b3]`` on ``(x, y)``; the reference is notebook 04's hand-written
    backward pass (``MLP.loss_and_grads``)."""
    sizes = [params[0].shape[1]] + [w.shape[0] for w in params[::2]]
    model = MLP(sizes, rng=0, dtype=np.float64).load_state(params)
    return model.loss_and_grads(x, y)[1][0]


def _network_cases(rng: np.random.Generator) -> list[Case]:
    def case(label: str, sizes: list[int], n: int) -> Case:
        params = []
        for fan_in, fan_out in itertools.pairwise(sizes):
            params += [he_normal(fan_in, fan_out, rng=rng), 0.1 * rng.normal(size=fan_out)]
        return Case(label, (params, rng.normal(size=(n, sizes[0])),
                            rng.integers(0, sizes[-1], size=n)))

    return [case("a 6-5-4-3 network, 8 examples", [6, 5, 4, 3], 8),
            case("a 20-16-12-10 network, 32 examples", [20, 16, 12, 10], 32),
            case("one example", [4, 3, 3, 2], 1)]


ADAM_STEP = Exercise(
    name="adam_step",
    reference=adam_step,
    cases=_adam_cases,
    oracle=_torch_adam,
    rtol=1e-9,
    atol=1e-12,
    mutants=(Mutant("m_hat = m / (1 - beta1**t)", "m_hat = m", "relative error"),
             Mutant("m_hat = m / (1 - beta1**t)\n    v_hat = v / (1 - beta2**t)",
                    "m_hat = m\n    v_hat = v", "bias correction"),
             Mutant("np.sqrt(v_hat) + eps", "v_hat + eps", "relative error"),
             Mutant("np.sqrt(v_hat) + eps", "np.sqrt(v_hat + eps)", "outside the square root"),
             Mutant("(1 - beta2) * g**2", "(1 - beta2) * g", "never negative"),
             Mutant("theta - eta", "theta + eta", "relative error")),
    outputs=("θ", "m", "v"),
    slips=((_adam_without_bias_correction,
            "θ is off: the bias correction is missing, θ moves by m̂/(√v̂ + ε) with "
            "m̂ = m/(1 − β₁ᵗ) and v̂ = v/(1 − β₂ᵗ) (m and v themselves are right)"),
           (_adam_eps_inside,
            "θ is off by a little: ε belongs outside the square root, √v̂ + ε, not √(v̂ + ε) "
            "(m and v are right)")),
    hints={"shape": "return the tuple (theta, m, v), each shaped like theta",
           "overflow": "v is a running average of g², which is never negative"},
    slide=SLIDE,
)

RMSPROP_STEP = Exercise(
    name="rmsprop_step",
    reference=rmsprop_step,
    cases=_rmsprop_cases,
    oracle=_torch_rmsprop,
    rtol=1e-9,
    atol=1e-12,
    mutants=(Mutant("rho * v + (1 - rho) * g**2", "(1 - rho) * v + rho * g**2", ""),
             Mutant("np.sqrt(v) + eps", "v + eps", "relative error"),
             Mutant("theta - eta", "theta + eta", "relative error")),
    outputs=("θ", "v"),
    hints={"shape": "return the tuple (theta, v), each shaped like theta"},
    slide=SLIDE,
)

EPOCH_BATCHES = Exercise(
    name="epoch_batches",
    reference=epoch_batches,
    cases=_sampler_cases,
    verify=_verify_sampler,
    mutants=(Mutant("rng.permutation(n)", "np.arange(n)", "not shuffled"),
             Mutant("rng.permutation(n)", "np.random.permutation(n)", "not reproducible"),
             Mutant("rng.permutation(n)", "rng.integers(0, n, size=n)", "appears twice"),
             Mutant("range(0, n, batch_size)", "range(0, n - batch_size + 1, batch_size)",
                    "missing")),
    slide=SLIDE,
)

NOISE_EQUALS_SIGNAL = Exercise(
    name="noise_equals_signal",
    reference=noise_equals_signal,
    cases=_noise_cases,
    rtol=1e-9,
    mutants=(Mutant("sigma2 * n / (signal * (n - 1) + sigma2)", "sigma2 / signal",
                    "relative error"),),
    slide=SLIDE,
)

INVERSE_TIME_TAU = Exercise(
    name="inverse_time_tau",
    reference=inverse_time_tau,
    cases=_tau_cases,
    rtol=1e-9,
    mutants=(Mutant("k / (factor - 1)", "k / factor", "relative error"),),
    slide=SLIDE,
)

AUTOGRAD_DW1 = Exercise(
    name="autograd_dw1",
    reference=autograd_dw1,
    cases=_network_cases,
    rtol=1e-9,
    atol=1e-12,
    mutants=(Mutant("torch.relu(h1 @ W2.T + b2)", "(h1 @ W2.T + b2)", "relative error"),
             Mutant("F.cross_entropy(z, torch.from_numpy(y))",
                    "F.cross_entropy(z, torch.from_numpy(y), reduction='sum')", "factor")),
    slide="Objectives of lecture",
)

register(ADAM_STEP, RMSPROP_STEP, EPOCH_BATCHES, NOISE_EQUALS_SIGNAL, INVERSE_TIME_TAU,
         AUTOGRAD_DW1)
