"""Exercises of notebook 03 (gradient descent, momentum and Newton on Tiny Example II).

Slide "Gradient descent": the loop θ_{k+1} = θ_k − η g_k; slide "Momentum method (Polyak,
1964)": m_{k+1} = α m_k − η g_k, θ_{k+1} = θ_k + m_{k+1}; slide "Newton's method, too
complex": the step θ − H⁻¹ g and its saddle-free repair −|H|⁻¹ g (Dauphin et al., 2014); and
momentum's largest stable step size near the minimum, a value read off the Hessian.
Every coding check runs the student's function on random quadratics of its own making and on
Tiny Example II, against torch (``torch.optim.SGD``, ``torch.linalg``); each reference is the
slide's formula written out, which ``reveal`` shows. The last exercise races the three methods
on the surface with the student's own steps.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lecture_utils.analysis.tiny import TINY_II
from lecture_utils.exercises.core import Case, Exercise, Mutant, register
from lecture_utils.optim.trajectories import Quadratic

Grad = Callable[[np.ndarray], np.ndarray]


# --------------------------------------------------------------------------- inputs
def _random_quadratic(rng: np.random.Generator, n: int, lam: tuple[float, float] = (0.1, 5.0),
                      indefinite: bool = False) -> Quadratic:
    """½ (w − c)ᵀ H (w − c) with eigenvalues of H drawn in ``lam`` (one negated if indefinite)."""
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    eig = rng.uniform(*lam, size=n)
    if indefinite:
        eig[0] = -eig[0]
    return Quadratic((Q * eig) @ Q.T, rng.normal(size=n))


def _descent_cases(rng: np.random.Generator) -> list[Case]:
    """(grad, θ0, η, steps): random quadratics (2-D and 5-D), Tiny Example II, zero steps."""
    q2, q5 = _random_quadratic(rng, 2), _random_quadratic(rng, 5)
    return [
        Case("a random 2-D quadratic, η = 0.2, 8 steps", (q2.grad, rng.normal(size=2), 0.2, 8)),
        Case("a random 5-D quadratic, η = 0.3, 20 steps", (q5.grad, rng.normal(size=5), 0.3, 20)),
        Case("Tiny Example II from (0.5, 1.5), η = 0.25, 10 steps",
             (TINY_II.grad, np.array([0.5, 1.5]), 0.25, 10)),
        Case("zero steps", (q2.grad, rng.normal(size=2), 0.2, 0)),
    ]


def _momentum_cases(rng: np.random.Generator) -> list[Case]:
    """(grad, θ0, η, α, steps): quadratics with α = 0.9, 0.5 and 0 (gradient descent)."""
    q2, q4 = _random_quadratic(rng, 2), _random_quadratic(rng, 4)
    return [
        Case("a random 2-D quadratic, η = 0.1, α = 0.9, 10 steps",
             (q2.grad, rng.normal(size=2), 0.1, 0.9, 10)),
        Case("a random 4-D quadratic, η = 0.2, α = 0.5, 15 steps",
             (q4.grad, rng.normal(size=4), 0.2, 0.5, 15)),
        Case("Tiny Example II from (0.5, 1.5), η = 0.05, α = 0.8, 12 steps",
             (TINY_II.grad, np.array([0.5, 1.5]), 0.05, 0.8, 12)),
        Case("α = 0 (gradient descent), 5 steps", (q2.grad, rng.normal(size=2), 0.2, 0.0, 5)),
    ]


def _newton_cases(rng: np.random.Generator) -> list[Case]:
    """(θ, g, H): a point, its gradient and Hessian on random quadratics and Tiny Example II."""
    cases = []
    for label, n, indefinite in (("a random 3-D quadratic (H positive definite)", 3, False),
                                 ("a random 2-D quadratic with a saddle (H indefinite)", 2, True),
                                 ("a random 6-D quadratic", 6, False)):
        q = _random_quadratic(rng, n, indefinite=indefinite)
        theta = rng.normal(size=n)
        cases.append(Case(label, (theta, q.grad(theta), q.hessian(theta))))
    theta = np.array([0.3, -0.4])
    cases.append(Case("Tiny Example II at (0.3, -0.4)",
                      (theta, TINY_II.grad(theta), TINY_II.hessian(theta))))
    return cases


def _saddle_free_cases(rng: np.random.Generator) -> list[Case]:
    """(g, H): Tiny Example II at an indefinite point, random indefinite and definite H."""
    theta = np.array([0.3, -0.4])
    cases = [Case("Tiny Example II at (0.3, -0.4)", (TINY_II.grad(theta), TINY_II.hessian(theta)))]
    for label, n, indefinite in (("a random 3-D saddle (H indefinite)", 3, True),
                                 ("a random 4-D minimum (H positive definite)", 4, False)):
        q = _random_quadratic(rng, n, indefinite=indefinite)
        theta = rng.normal(size=n)
        cases.append(Case(label, (q.grad(theta), q.hessian(theta))))
    return cases


# --------------------------------------------------------------------------- references
def gradient_descent(grad: Grad, theta0: np.ndarray, eta: float, steps: int) -> np.ndarray:
    """θ_0 … θ_steps of θ_{k+1} = θ_k − η g(θ_k) (slide "Gradient descent"), shape (steps+1, n)."""
    theta = np.array(theta0, dtype=float)
    points = [theta]
    for _ in range(steps):
        theta = theta - eta * grad(theta)
        points.append(theta)
    return np.array(points)


def momentum_method(grad: Grad, theta0: np.ndarray, eta: float, alpha: float,
                    steps: int) -> np.ndarray:
    """θ_0 … θ_steps of m_{k+1} = α m_k − η g(θ_k), θ_{k+1} = θ_k + m_{k+1}, m_0 = 0.

    Slide "Momentum method (Polyak, 1964)"; shape (steps+1, n).
    """
    theta = np.array(theta0, dtype=float)
    m = np.zeros_like(theta)
    points = [theta]
    for _ in range(steps):
        m = alpha * m - eta * grad(theta)
        theta = theta + m
        points.append(theta)
    return np.array(points)


def newton_step(theta: np.ndarray, g: np.ndarray, H: np.ndarray) -> np.ndarray:
    """θ − H⁻¹ g (slide "Newton's method, too complex"): solve H d = g, never form H⁻¹."""
    return theta - np.linalg.solve(H, g)


def saddle_free_step(g: np.ndarray, H: np.ndarray) -> np.ndarray:
    """The saddle-free Newton step −|H|⁻¹ g, |H| = V |Λ| Vᵀ (Dauphin et al., 2014)."""
    lam, V = np.linalg.eigh(H)
    return -V @ np.diag(1 / np.abs(lam)) @ V.T @ g


def momentum_stable_eta() -> float:
    """The largest η for which momentum with α = 0.5 converges near θ*: 2(1 + α)/λ_max.

    Along an eigenvector of H(θ*) the roots of z² − (1 + α − ηλ)z + α leave the unit disc
    at z = −1, where 1 + (1 + α − ηλ) + α = 0.
    """
    alpha = 0.5
    lam = np.linalg.eigvalsh(TINY_II.hessian(TINY_II.minima[0]))      # ascending
    return 2 * (1 + alpha) / lam[-1]


def race(gd: Callable[..., np.ndarray], momentum: Callable[..., np.ndarray],
         newton: Callable[..., np.ndarray], theta0: np.ndarray, tol: float,
         max_steps: int) -> np.ndarray:
    """Steps each method needs on Tiny Example II to come within ``tol`` of a minimum.

    ``gd``, ``momentum`` and ``newton`` are the functions of Exercises 1 to 3. Returns
    [gradient descent (η = 0.25), momentum (η = 0.25, α = 0.5), Newton]: for each the first k
    with min over the minima of |θ_k − θ*| < tol, or max_steps + 1 if none of θ_0 …
    θ_max_steps is (Newton caught by the saddle never arrives).
    """
    newton_points = [np.array(theta0, dtype=float)]
    for _ in range(max_steps):
        theta = newton_points[-1]
        newton_points.append(newton(theta, TINY_II.grad(theta), TINY_II.hessian(theta)))
    runs = [gd(TINY_II.grad, theta0, 0.25, max_steps),
            momentum(TINY_II.grad, theta0, 0.25, 0.5, max_steps),
            np.array(newton_points)]
    counts = []
    for points in runs:
        dist = np.linalg.norm(points[:, None, :] - TINY_II.minima[None, :, :], axis=-1)
        arrived = np.min(dist, axis=1) < tol
        counts.append(int(np.argmax(arrived)) if arrived.any() else max_steps + 1)
    return np.array(counts)


# --------------------------------------------------------------------------- slips
def _momentum_old_velocity(grad: Grad, theta0: np.ndarray, eta: float, alpha: float,
                           steps: int) -> np.ndarray:
    """The two lines swapped: θ moves by the old velocity m_k, then m is updated."""
    theta, m, points = np.array(theta0, dtype=float), np.zeros(len(theta0)), []
    points.append(theta)
    for _ in range(steps):
        theta = theta + m
        m = alpha * m - eta * grad(theta)
        points.append(theta)
    return np.array(points)


def _newton_direction(theta: np.ndarray, g: np.ndarray, H: np.ndarray) -> np.ndarray:
    """The step −H⁻¹ g instead of the new point θ − H⁻¹ g."""
    return -np.linalg.solve(H, g)


def _newton_step_for_saddle_free(g: np.ndarray, H: np.ndarray) -> np.ndarray:
    """Newton's step −H⁻¹ g, without the absolute values of the eigenvalues."""
    return -np.linalg.solve(H, g)


def _gradient_descent_limit() -> float:
    """Gradient descent's limit 2/λ_max: momentum's with α = 0."""
    return 2 / np.linalg.eigvalsh(TINY_II.hessian(TINY_II.minima[0]))[-1]


def _race_one_minimum(gd: Callable[..., np.ndarray], momentum: Callable[..., np.ndarray],
                      newton: Callable[..., np.ndarray], theta0: np.ndarray, tol: float,
                      max_steps: int) -> np.ndarray:
    """Distances measured to the first minimum only (a run may end at the other one)."""
    def to_first(points: np.ndarray) -> int:
        arrived = np.linalg.norm(points - TINY_II.minima[0], axis=1) < tol
        return int(np.argmax(arrived)) if arrived.any() else max_steps + 1

    theta, newton_points = np.array(theta0, dtype=float), [np.array(theta0, dtype=float)]
    for _ in range(max_steps):
        theta = newton(theta, TINY_II.grad(theta), TINY_II.hessian(theta))
        newton_points.append(theta)
    return np.array([to_first(gd(TINY_II.grad, theta0, 0.25, max_steps)),
                     to_first(momentum(TINY_II.grad, theta0, 0.25, 0.5, max_steps)),
                     to_first(np.array(newton_points))])


def _race_cases(rng: np.random.Generator) -> list[Case]:
    """The three reference methods, then (θ0, tol, steps): the slide's start, a start in the
    other basin, one where Newton meets the saddle, and a start at the minimum."""
    methods = (gradient_descent, momentum_method, newton_step)
    return [Case("from (0.5, 1.5), tol = 1e-4, at most 300 steps",
                 (*methods, np.array([0.5, 1.5]), 1e-4, 300)),
            Case("from (−1.2, −0.4) (the other minimum), tol = 1e-4, at most 300 steps",
                 (*methods, np.array([-1.2, -0.4]), 1e-4, 300)),
            Case("from (0.3, −0.4) (Newton meets the saddle), tol = 1e-3, at most 200 steps",
                 (*methods, np.array([0.3, -0.4]), 1e-3, 200)),
            Case("already there: from θ*, tol = 1e-3, at most 5 steps",
                 (*methods, TINY_II.minima[0].copy(), 1e-3, 5))]


# --------------------------------------------------------------------------- torch oracles
def _torch_sgd(grad: Grad, theta0: np.ndarray, eta: float, steps: int,
               alpha: float = 0.0) -> np.ndarray:
    """The same iterates from ``torch.optim.SGD(lr=η, momentum=α)``, fed the gradient g(θ)."""
    import torch

    theta = torch.tensor(np.array(theta0, dtype=float))
    sgd = torch.optim.SGD([theta], lr=eta, momentum=alpha)
    points = [theta.detach().numpy().copy()]
    for _ in range(steps):
        theta.grad = torch.from_numpy(np.asarray(grad(theta.detach().numpy()), dtype=float))
        sgd.step()
        points.append(theta.detach().numpy().copy())
    return np.array(points)


def _torch_momentum(grad: Grad, theta0: np.ndarray, eta: float, alpha: float,
                    steps: int) -> np.ndarray:
    return _torch_sgd(grad, theta0, eta, steps, alpha)


def _torch_newton(theta: np.ndarray, g: np.ndarray, H: np.ndarray) -> np.ndarray:
    import torch

    return (torch.from_numpy(theta) - torch.linalg.solve(torch.from_numpy(H),
                                                         torch.from_numpy(g))).numpy()


def _torch_saddle_free(g: np.ndarray, H: np.ndarray) -> np.ndarray:
    import torch

    lam, V = torch.linalg.eigh(torch.from_numpy(H))
    return (-(V / lam.abs()) @ V.T @ torch.from_numpy(g)).numpy()


# --------------------------------------------------------------------------- the exercises
SLIDE_GD = "Gradient descent"
SLIDE_MOMENTUM = "Momentum method (Polyak, 1964)"
SLIDE_NEWTON = "Newton's method, too complex"

SHAPE_HINT = "return θ_0, θ_1, …, θ_steps: steps + 1 rows, the start first"

GRADIENT_DESCENT = Exercise(
    name="gradient_descent",
    reference=gradient_descent,
    cases=_descent_cases,
    oracle=_torch_sgd,
    rtol=1e-10,
    atol=1e-12,
    mutants=(Mutant("theta - eta * grad(theta)", "theta + eta * grad(theta)", "relative error"),
             Mutant("theta - eta * grad(theta)", "theta - grad(theta)", "relative error"),
             Mutant("range(steps)", "range(steps - 1)", "wrong shape")),
    hints={"shape": SHAPE_HINT},
    slide=SLIDE_GD,
)

MOMENTUM_METHOD = Exercise(
    name="momentum_method",
    reference=momentum_method,
    cases=_momentum_cases,
    oracle=_torch_momentum,
    rtol=1e-10,
    atol=1e-12,
    mutants=(Mutant("m = alpha * m - eta * grad(theta)", "m = alpha * m + eta * grad(theta)",
                    "relative error"),
             Mutant("m = alpha * m - eta * grad(theta)", "m = m - eta * grad(theta)",
                    "relative error"),
             Mutant("theta = theta + m", "theta = theta - eta * grad(theta)", "relative error"),
             Mutant("m = alpha * m - eta * grad(theta)", "m = alpha * m - grad(theta)",
                    "relative error"),
             Mutant("m = alpha * m - eta * grad(theta)\n        theta = theta + m",
                    "theta = theta + m\n        m = alpha * m - eta * grad(theta)",
                    "the order of the two lines")),
    hints={"shape": SHAPE_HINT},
    slips=((_momentum_old_velocity,
            "the order of the two lines: first the new velocity m_{k+1} = α m_k − η g(θ_k), "
            "then θ_{k+1} = θ_k + m_{k+1} with that new velocity"),),
    slide=SLIDE_MOMENTUM,
)

NEWTON_STEP = Exercise(
    name="newton_step",
    reference=newton_step,
    cases=_newton_cases,
    oracle=_torch_newton,
    rtol=1e-9,
    atol=1e-12,
    mutants=(Mutant("theta - np.linalg.solve(H, g)", "theta + np.linalg.solve(H, g)",
                    "relative error"),
             Mutant("np.linalg.solve(H, g)", "H @ g", "relative error"),
             Mutant("np.linalg.solve(H, g)", "g / np.diag(H)", "relative error"),
             Mutant("return theta - np.linalg.solve(H, g)", "return -np.linalg.solve(H, g)",
                    "the step")),
    slips=((_newton_direction, "you returned the step −H⁻¹g: return the new point "
                               "θ − H⁻¹g"),),
    slide=SLIDE_NEWTON,
)

SADDLE_FREE_STEP = Exercise(
    name="saddle_free_step",
    reference=saddle_free_step,
    cases=_saddle_free_cases,
    oracle=_torch_saddle_free,
    rtol=1e-9,
    atol=1e-12,
    mutants=(Mutant("np.abs(lam)", "lam", "Newton's step"),
             Mutant("return -", "return ", "wrong sign"),
             Mutant("@ V.T @ g", "@ V @ g", "relative error")),     # a transposed matrix
    hints={"sign": "the step goes downhill: it points against the gradient"},
    slips=((_newton_step_for_saddle_free,
            "that is Newton's step −H⁻¹g, which heads for the saddle: divide by the absolute "
            "values |λ| of the eigenvalues"),),
    slide=SLIDE_NEWTON,
)

MOMENTUM_STABLE_ETA = Exercise(
    name="momentum_stable_eta",
    reference=momentum_stable_eta,
    digits=3,
    mutants=(Mutant("2 * (1 + alpha)", "2", "gradient descent's limit"),
             Mutant("2 * (1 + alpha)", "2 * (1 - alpha)", "factor")),
    slips=((_gradient_descent_limit,
            "that is gradient descent's limit 2/λ_max (α = 0): with momentum, find the η at "
            "which a root z of the recursion reaches the unit circle"),),
    slide=SLIDE_MOMENTUM,
)

RACE = Exercise(
    name="race",
    reference=race,
    cases=_race_cases,
    rtol=0.0,
    atol=0.5,     # step counts: whole numbers
    mutants=(Mutant("np.min(dist, axis=1)", "dist[:, 0]", "nearest"),
             Mutant("int(np.argmax(arrived))", "int(np.argmax(arrived)) + 1", "")),
    slips=((_race_one_minimum, "measure the distance to the nearest minimum: a run may end at "
                               "either of the two, ±(√1.46, √1.46)"),),
    graded_hints=(
        "run each method for max_steps steps with the functions you are given: gd and "
        "momentum return every iterate; for Newton call newton(θ, g, H) in a loop, with "
        "g = TINY_II.grad(θ) and H = TINY_II.hessian(θ) at the current point θ",
        "for the iterates P of shape (k, 2), np.linalg.norm(P[:, None, :] - "
        "TINY_II.minima[None], axis=-1) is the distance of each to each minimum; the first "
        "index where its row minimum is below tol is np.argmax(mask) when mask.any()",
    ),
    slide=SLIDE_MOMENTUM,
)

register(GRADIENT_DESCENT, MOMENTUM_METHOD, NEWTON_STEP, SADDLE_FREE_STEP, MOMENTUM_STABLE_ETA,
         RACE)
