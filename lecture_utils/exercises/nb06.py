"""Exercises of notebook 06 (critical points and saddles).

Slide "Definitions": the inertia of a Hessian (how many eigenvalues are negative, zero,
positive), which decides minimum / maximum / saddle / degenerate; the Hessian by centred
differences of the gradient. Slide "Theory: Local minima not an issue": noisy gradient
descent θ ← θ − η (g + σ ε) escaping a saddle. Three value exercises (functions of no
arguments): the Hessian of Tiny Example II at its minimum, how long gradient descent stalls
next to the saddle, and the index of the all-zero initialisation of a 16-12-10 network.
"""

from __future__ import annotations

import numpy as np

from lecture_utils.analysis import hessian
from lecture_utils.analysis.tiny import TINY_II, TinyExampleII
from lecture_utils.exercises.core import Case, Exercise, Mutant, register, torch_available
from lecture_utils.optim.trajectories import Quadratic


# --------------------------------------------------------------------------- inputs
def _rotated(eigenvalues: list[float], rng: np.random.Generator) -> np.ndarray:
    """Q diag(λ) Qᵀ with a random orthogonal Q: a full symmetric matrix with these eigenvalues."""
    q, _ = np.linalg.qr(rng.normal(size=(len(eigenvalues), len(eigenvalues))))
    h = q @ np.diag(eigenvalues) @ q.T
    return 0.5 * (h + h.T)


def _symmetric_cases(rng: np.random.Generator) -> list[Case]:
    """Random symmetric matrices of every kind, and eigenvalues a hair from zero."""
    return [
        Case("a saddle, 4 x 4, eigenvalues -2, -0.5, 1, 3",
             (_rotated([-2.0, -0.5, 1.0, 3.0], rng), 1e-8)),
        Case("a random symmetric 6 x 6", (hessian.sample_goe(6, 1, rng)[0], 1e-8)),
        Case("positive definite 3 x 3", (_rotated([0.1, 1.0, 7.0], rng), 1e-8)),
        Case("negative definite 2 x 2", (_rotated([-4.0, -0.3], rng), 1e-8)),
        Case("eigenvalues -3, -1e-9, 2e-9, 4 with tol 1e-8",
             (_rotated([-3.0, -1e-9, 2e-9, 4.0], rng), 1e-8)),
        Case("eigenvalues 2, 1e-12 (a degenerate minimum?)", (np.diag([2.0, 1e-12]), 1e-10)),
        Case("Tiny Example II's minimum with tol 0.5", (TINY_II.hessian(TINY_II.minima[0]), 0.5)),
        Case("the zero matrix", (np.zeros((3, 3)), 1e-8)),
    ]


_OTHER_TINY = TinyExampleII(x=1.0, y=-1.0, decay=0.1)  # a saddle at 0, minima on w1 = -w2


def _noisy_cases(rng: np.random.Generator) -> list[Case]:
    """Starts on the saddle, on its stable line and elsewhere; with and without noise."""
    return [
        Case("Tiny Example II from (0.37, -0.41), eta 0.1, sigma 0.1, 6 steps, seed 7",
             (TINY_II, np.array([0.37, -0.41]), 0.1, 0.1, 6, 7)),
        Case("the same for 25 steps", (TINY_II, np.array([0.37, -0.41]), 0.1, 0.1, 25, 7)),
        Case("from the saddle (0, 0) without noise", (TINY_II, np.zeros(2), 0.1, 0.0, 30, 0)),
        Case("from the saddle (0, 0) with noise sigma 0.05",
             (TINY_II, np.zeros(2), 0.1, 0.05, 60, 3)),
        Case("on the stable line w1 = -w2 without noise",
             (TINY_II, np.array([0.8, -0.8]), 0.05, 0.0, 40, 1)),
        Case("another cost (y = -1, decay 0.1) from a random start",
             (_OTHER_TINY, rng.uniform(-1, 1, size=2), 0.1, 0.02, 40, 11)),
    ]


def _net_cost(rng: np.random.Generator) -> hessian.NetworkCost:
    """A 3-4-2 tanh network on 6 random points, weight decay 0.01 (26 parameters)."""
    import torch
    from torch import nn

    torch.manual_seed(int(rng.integers(1 << 31)))
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    return hessian.NetworkCost(net, rng.normal(size=(6, 3)), rng.integers(0, 2, 6),
                               weight_decay=0.01)


def _hessian_cases(rng: np.random.Generator) -> list[Case]:
    """Tiny Example II at its critical points and elsewhere; a small network at its start
    (a torch network: not in the browser edition, which has no torch)."""
    cases = [
        Case("Tiny Example II at (1.3137, 0.4291)", (TINY_II, np.array([1.3137, 0.4291]))),
        Case("Tiny Example II at the saddle (0, 0)", (TINY_II, np.zeros(2))),
        Case("Tiny Example II at a minimum", (TINY_II, TINY_II.minima[1].copy())),
    ]
    if torch_available():
        net = _net_cost(rng)
        cases.append(Case("a 3-4-2 tanh network (26 parameters) at its initial weights",
                          (net, net.theta0.copy())))
    return cases


def _saddle_cases(rng: np.random.Generator) -> list[Case]:
    """Saddles of several sizes, with and without noise; eigenvalues apart (no sign ambiguity
    beyond the one |v_jᵀθ| removes)."""
    near = rng.normal(scale=1e-3, size=4)
    return [
        Case("a 4 x 4 saddle, eigenvalues -2, -0.5, 1, 3, near 0, sigma 1e-4, 30 steps "
             "(column j is |v_jᵀ θ_k| for the j-th eigenvector)",
             (_rotated([-2.0, -0.5, 1.0, 3.0], rng), near, 0.1, 1e-4, 30, 5)),
        Case("Tiny Example II's saddle, from (0.5, -0.5) on its stable line, no noise",
             (TINY_II.hessian(np.zeros(2)), np.array([0.5, -0.5]), 0.1, 0.0, 20, 0)),
        Case("a 6 x 6 saddle, eigenvalues -1 to 2.5, sigma 0.01, 40 steps",
             (_rotated([-1.0, -0.3, 0.2, 0.7, 1.5, 2.5], rng), rng.normal(size=6), 0.2, 0.01,
              40, 9)),
        Case("a 3 x 3 minimum (no escape), sigma 0.1",
             (_rotated([0.5, 1.0, 2.0], rng), rng.normal(size=3), 0.1, 0.1, 25, 2)),
    ]


# --------------------------------------------------------------------------- torch oracles
def _torch_inertia(h: np.ndarray, tol: float) -> np.ndarray:
    import torch

    lam = torch.linalg.eigvalsh(torch.from_numpy(np.asarray(h, dtype=np.float64)))
    return np.array([int((lam < -tol).sum()), int((lam.abs() <= tol).sum()),
                     int((lam > tol).sum())])


def _torch_hessian(cost: hessian.NetworkCost | TinyExampleII, theta: np.ndarray) -> np.ndarray:
    import torch

    return torch.autograd.functional.hessian(cost.torch_value, torch.from_numpy(theta)).numpy()


def _torch_noisy_gd(cost: TinyExampleII, theta0: np.ndarray, eta: float, sigma: float,
                    steps: int, seed: int) -> np.ndarray:
    """The same iteration with torch.optim.SGD on autograd gradients plus the same ε_k."""
    import torch

    rng = np.random.default_rng(seed)
    theta = torch.tensor(theta0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([theta], lr=eta)
    path = [theta.detach().clone()]
    for _ in range(steps):
        opt.zero_grad()
        cost.torch_value(theta).backward()
        eps = rng.standard_normal(theta.numel())
        if sigma > 0:
            theta.grad += sigma * torch.from_numpy(eps)
        opt.step()
        path.append(theta.detach().clone())
    return torch.stack(path).numpy()


# --------------------------------------------------------------------------- references
def hessian_fd(cost: hessian.GradientAndHessian, theta: np.ndarray, h: float = 1e-5
               ) -> np.ndarray:
    """H_ij ≈ (g_i(θ + h e_j) − g_i(θ − h e_j)) / (2h), symmetrised: centred differences of
    the gradient, one column j per pair of gradient calls."""
    theta = np.asarray(theta, dtype=float)
    steps = np.eye(theta.size) * h
    H = np.column_stack([(cost.grad(theta + e) - cost.grad(theta - e)) / (2 * h) for e in steps])
    return 0.5 * (H + H.T)


def noisy_gradient_descent(cost: hessian.GradientAndHessian, theta0: np.ndarray, eta: float,
                           sigma: float, steps: int, seed: int) -> np.ndarray:
    """θ_{k+1} = θ_k − η (g(θ_k) + σ ε_k), ε_k = ``rng.standard_normal(n)`` with
    ``rng = numpy.random.default_rng(seed)``: the iterates θ_0 … θ_steps, shape (steps + 1, n)
    (slide "Theory: Local minima not an issue": a noisy gradient helps escape saddles)."""
    rng = np.random.default_rng(seed)
    theta = np.array(theta0, dtype=float)
    path = [theta]
    for _ in range(steps):
        theta = theta - eta * (cost.grad(theta) + sigma * rng.standard_normal(theta.size))
        path.append(theta)
    return np.array(path)


def saddle_escape(H: np.ndarray, theta0: np.ndarray, eta: float, sigma: float, steps: int,
                  seed: int) -> np.ndarray:
    """Noisy gradient descent on C = ½ θᵀHθ (gradient Hθ) from ``theta0``, seen along the
    eigenvectors v_j of H: |u_kj| = |v_jᵀ θ_k|, shape (steps + 1, n), columns in the ascending
    order of the eigenvalues (``np.linalg.eigh``). Along v_j gradient descent multiplies u_j by
    1 − ηλ_j per step: λ_j < 0 grows, λ_j > 0 shrinks to the noise (slide "Theory: Local
    minima not an issue")."""
    _, V = np.linalg.eigh(H)
    path = noisy_gradient_descent(Quadratic(H), theta0, eta, sigma, steps, seed)
    return np.abs(path @ V)


def hessian_at_minimum() -> np.ndarray:
    """The Hessian of C = (w1 w2 − 1.5)² + 0.04 (w1² + w2²) at w1 = w2 = a = √1.46, by hand:
    ∂²C/∂w1² = 2 w2² + 0.08, ∂²C/∂w1∂w2 = 2 (2 w1 w2 − 1.5) (slide "Definitions")."""
    a2 = 1.46
    return np.array([[2 * a2 + 0.08, 2 * (2 * a2 - 1.5)], [2 * (2 * a2 - 1.5), 2 * a2 + 0.08]])


def stall_steps() -> float:
    """k* with |u_0| (1 − ηλ)^k* = 0.1 for u_0 = 10⁻⁶/√2, η = 0.1, λ = −2.92: the first step
    with |u_k| > 0.1 is ⌈k*⌉."""
    return float(np.log(0.1 / (1e-6 / np.sqrt(2))) / np.log(1 + 0.1 * 2.92))


def index_at_zero() -> float:
    """The index at θ = 0 of a 16-12-10 tanh network on 10 balanced classes: each of the 12
    hidden units gives 10 − 1 = 9 negative eigenvalues, out of 16·12 + 12 + 12·10 + 10."""
    return 12 * 9 / (16 * 12 + 12 + 12 * 10 + 10)


INERTIA = Exercise(
    name="inertia",
    reference=hessian.inertia,
    cases=_symmetric_cases,
    oracle=_torch_inertia,
    rtol=0.0,
    atol=0.0,
    mutants=(Mutant("lam < -tol", "lam < 0", "relative error"),  # -1e-9 counted as negative
             Mutant("np.abs(lam) <= tol", "lam == 0", "relative error")),  # no tolerance
    hints={"shape": "return the three counts (negative, zero, positive) as one array"},
    slide="Definitions",
)

HESSIAN_FD = Exercise(
    name="hessian_fd",
    reference=hessian_fd,
    cases=_hessian_cases,
    oracle=_torch_hessian,
    rtol=1e-7,  # centred differences are good to ~1e-10 here; a forward one to ~1e-5
    atol=1e-7,
    mutants=(Mutant("/ (2 * h)", "/ h", "factor of 2"),
             # θ moved in place and not put back: the caller's θ changes
             Mutant("H[:, j] = (cost.grad(theta + e) - cost.grad(theta - e)) / (2 * h)",
                    "theta += e\n        g_plus = cost.grad(theta)\n        theta -= 2 * e\n"
                    "        H[:, j] = (g_plus - cost.grad(theta)) / (2 * h)", "changed"),
             Mutant("grad(theta + e) - cost.grad(theta - e)",
                    "grad(theta - e) - cost.grad(theta + e)", "wrong sign"),
             Mutant("(cost.grad(theta + e) - cost.grad(theta - e)) / (2 * h)",
                    "(cost.grad(theta + e) - cost.grad(theta)) / h",  # a forward difference
                    "relative error")),
    hints={"factor": "the centred difference spans 2h",
           "sign": "g(θ + h e_j) comes first"},
    slide="Definitions",
)

NOISY_GRADIENT_DESCENT = Exercise(
    name="noisy_gradient_descent",
    reference=noisy_gradient_descent,
    cases=_noisy_cases,
    oracle=_torch_noisy_gd,
    rtol=1e-7,
    atol=1e-9,
    mutants=(Mutant("theta - eta * (cost.grad(theta) + sigma * eps)",
                    "theta - eta * cost.grad(theta) + sigma * eps",  # noise not scaled by η
                    "relative error"),
             Mutant("theta - eta * (", "theta + eta * (", "relative error")),  # ascent
    hints={"shape": "return every iterate, θ_0 included: shape (steps + 1, n)"},
    slide="Theory: Local minima not an issue",
)

HESSIAN_AT_MINIMUM = Exercise(
    name="hessian_at_minimum",
    reference=hessian_at_minimum,
    oracle=lambda: TINY_II.hessian(TINY_II.minima[0]),
    rtol=1e-9,
    mutants=(Mutant("2 * (2 * a**2 - 1.5)", "2 * (a**2 - 1.5)", "relative error"),),
    slide="Definitions",
)

STALL_STEPS = Exercise(
    name="stall_steps",
    reference=stall_steps,
    rtol=1e-9,  # log(a/b) or log(a) - log(b), log1p: the same k* a few ulps apart
    atol=0.0,
    mutants=(Mutant("np.log(1 + 0.1 * 2.92)", "np.log(1 + 2.92)", "relative error"),),  # no η
    slide="Theory: Local minima not an issue",
)

INDEX_AT_ZERO = Exercise(
    name="index_at_zero",
    reference=index_at_zero,
    rtol=1e-9,
    mutants=(Mutant("12 * 9 /", "12 * 10 /", "relative error"),),  # all 10 classes
    slide="Theory: Local minima not an issue",
)

SADDLE_ESCAPE = Exercise(
    name="saddle_escape",
    reference=saddle_escape,
    cases=_saddle_cases,
    rtol=1e-7,
    atol=1e-12,
    slips=((lambda H, *run: np.abs(noisy_gradient_descent(Quadratic(H), *run)
                                   @ np.linalg.eigh(H)[1].T),
            "the eigenvectors are the COLUMNS of V: the component along v_j is θ · V[:, j], "
            "all at once path @ V (not V.T)"),),
    mutants=(Mutant("np.array(path) @ V", "np.array(path) @ V.T", "COLUMNS"),   # rows of V
             Mutant("theta - eta * (H @ theta + sigma * eps)",
                    "theta - eta * H @ theta + sigma * eps", "relative error"),  # noise without η
             Mutant("theta - eta * (H @ theta", "theta + eta * (H @ theta", ""),  # ascent
             Mutant("np.abs(np.array(path) @ V)", "np.abs(np.array(path))", "")),  # no basis
    hints={"shape": "one row per iterate θ_0 … θ_steps, one column per eigenvector"},
    graded_hints=(
        "Three steps: the eigenvectors (columns of V from np.linalg.eigh(H)); the noisy gradient "
        "descent loop of Exercise 3 with the gradient H @ θ; then the components of every "
        "iterate along every eigenvector.",
        "With the iterates as the rows of an array P of shape (steps + 1, n), the component of "
        "row k along column j of V is (P @ V)[k, j]; return its absolute value. Draw ε with "
        "rng.standard_normal(n) once per step, also when sigma is 0.",
    ),
    slide="Theory: Local minima not an issue",
)

register(INERTIA, HESSIAN_FD, NOISY_GRADIENT_DESCENT, HESSIAN_AT_MINIMUM, STALL_STEPS,
         INDEX_AT_ZERO, SADDLE_ESCAPE)
