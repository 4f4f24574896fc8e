"""Cost surfaces and the trajectories an optimiser takes on them (notebooks 00, 03 and 06).

A cost is anything with ``value``, ``grad`` and ``hessian`` of ``w`` (parameters on the last
axis): the lecture's tiny examples (``lecture_utils.analysis.tiny``), :class:`Quadratic` (the local
model of every cost near a critical point) and ``hessian.NetworkCost``.
:func:`run_trajectory` runs one optimiser of ``lecture_utils.optim.optimizers`` on a cost and stops
cleanly when it blows up; :func:`momentum_sweep` runs heavy-ball momentum for a whole grid of
(α, η) at once.

Slides: "Gradient descent, η = 0.25 / 0.35", "Newton's method, too complex", "Momentum method
(Polyak, 1964)", "Momentum method with noisy gradient", "Definitions" (critical points).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from lecture_utils._checks import finite_vector, integer, positive, unit_interval
from lecture_utils.optim.optimizers import Momentum, Optimizer

__all__ = ["Cost", "Quadratic", "Trajectory", "momentum_sweep", "run_trajectory"]


@runtime_checkable
class Cost(Protocol):
    """A cost surface; arrays have the parameters on their last axis (``w[..., j]``)."""

    def value(self, w: np.ndarray) -> np.ndarray | float: ...

    def grad(self, w: np.ndarray) -> np.ndarray: ...

    def hessian(self, w: np.ndarray) -> np.ndarray: ...


class Quadratic:
    """C(w) = ½ (w − c)ᵀ H (w − c): the second-order model of any cost around a point c.

    Its Hessian is the constant symmetric matrix H, so the eigenvalues of H decide the kind of
    critical point at c (slide "Definitions"; a minimum when H is positive definite) and the
    stable step sizes of gradient descent there (η·λ_max < 2). ``c`` defaults to the origin.
    Vectorised like the other costs: ``w[..., j]`` holds the parameters.
    """

    def __init__(self, H: np.ndarray | Sequence[Sequence[float]],
                 c: np.ndarray | Sequence[float] | None = None) -> None:
        H = np.array(H, dtype=np.float64)
        if H.ndim != 2 or H.shape[0] != H.shape[1] or not np.allclose(H, H.T):
            raise ValueError(f"H must be a symmetric (n, n) matrix, got {H.tolist()}")
        c = np.zeros(len(H)) if c is None else np.array(c, dtype=np.float64)
        if c.shape != (H.shape[0],):
            raise ValueError(f"c must have shape ({H.shape[0]},), got {c.shape}")
        self.H, self.c = H, c

    def __repr__(self) -> str:
        return f"Quadratic(H={self.H.tolist()}, c={self.c.tolist()})"

    @property
    def eigenvalues(self) -> np.ndarray:
        """Eigenvalues of H, ascending."""
        return np.linalg.eigvalsh(self.H)

    def _offset(self, w: np.ndarray) -> np.ndarray:
        w = np.asarray(w, dtype=np.float64)
        if w.ndim == 0 or w.shape[-1] != len(self.H):
            raise ValueError(f"w must have {len(self.H)} parameters on its last axis, "
                             f"got shape {w.shape}")
        return w - self.c

    def value(self, w: np.ndarray) -> np.ndarray:
        """½ (w − c)ᵀ H (w − c) for every w on the leading axes."""
        d = self._offset(w)
        return 0.5 * np.einsum("...i,ij,...j->...", d, self.H, d)

    def grad(self, w: np.ndarray) -> np.ndarray:
        """H (w − c)."""
        return self._offset(w) @ self.H

    def hessian(self, w: np.ndarray) -> np.ndarray:
        """H, broadcast over the leading axes of ``w``."""
        w = self._offset(w)
        return np.broadcast_to(self.H, (*w.shape[:-1], *self.H.shape)).copy()


@dataclass(frozen=True)
class Trajectory:
    """The iterates θ_0..θ_k (``points``, shape (k+1, n)) and C(θ_0)..C(θ_k) (``losses``).

    ``diverged`` is True when the run stopped early; ``reason`` says why ("completed",
    "non-finite gradient", "non-finite parameters", "non-finite loss", "bound exceeded",
    "singular Hessian"). Only finite iterates are stored.
    """

    points: np.ndarray
    losses: np.ndarray
    diverged: bool
    reason: str

    @property
    def steps_taken(self) -> int:
        """Number of completed steps k (``len(points) - 1``)."""
        return len(self.points) - 1


def run_trajectory(cost: Cost, optimizer: Optimizer, start: Sequence[float] | np.ndarray,
                   steps: int, *, noise_sigma: float = 0.0, seed: int = 0,
                   bound: float = 1e6) -> Trajectory:
    """Run ``optimizer`` for ``steps`` steps on ``cost`` from ``start``; stop cleanly on blow-up.

    The optimiser is ``reset()`` first. With ``noise_sigma`` = σ > 0 each gradient is
    g_k + σ ε_k, ε_k ~ N(0, I) from ``numpy.random.default_rng(seed)`` (slide "Momentum method
    with noisy gradient"); the same seed gives the same noise to every method. The run stops,
    with ``diverged=True``, as soon as a gradient, iterate or loss is inf/NaN, an iterate has
    max|θ_j| > ``bound``, or a Newton step meets a singular matrix; no numpy warnings escape.
    """
    w = finite_vector("start", start)
    steps = integer("steps", steps, minimum=0)
    sigma = positive("noise_sigma", noise_sigma, allow_zero=True)
    bound = positive("bound", bound)
    if np.max(np.abs(w)) > bound:
        raise ValueError(f"start must lie within bound={bound}, got {w.tolist()}")
    rng = np.random.default_rng(seed)
    optimizer.reset()
    points = np.empty((steps + 1, w.size))
    losses = np.empty(steps + 1)
    points[0], losses[0] = w, float(cost.value(w))
    k, reason = 0, "completed"
    with np.errstate(all="ignore"):
        while k < steps:
            g = np.array(cost.grad(w), dtype=np.float64)
            if sigma > 0:
                g += sigma * rng.standard_normal(w.size)
            if not np.all(np.isfinite(g)):
                reason = "non-finite gradient"
                break
            hessian = cost.hessian(w) if optimizer.needs_hessian else None
            try:
                [w] = optimizer.step([w], [g], hessian)
            except np.linalg.LinAlgError:
                reason = "singular Hessian"
                break
            if not np.all(np.isfinite(w)):
                reason = "non-finite parameters"
                break
            loss = float(cost.value(w))
            if not math.isfinite(loss):
                reason = "non-finite loss"
                break
            k += 1
            points[k], losses[k] = w, loss
            if np.max(np.abs(w)) > bound:
                reason = "bound exceeded"
                break
    return Trajectory(points=points[: k + 1].copy(), losses=losses[: k + 1].copy(),
                      diverged=reason != "completed", reason=reason)


def momentum_sweep(cost: Cost, start: Sequence[float] | np.ndarray, etas: Sequence[float],
                   alphas: Sequence[float], steps: int, *, bound: float = 1e6) -> np.ndarray:
    """Final iterates θ_steps of heavy-ball momentum for every (α, η) pair at once.

    One ``Momentum`` optimiser whose η and α are arrays steps a whole grid of runs at once
    (slide "Momentum method (Polyak, 1964)"; α = 0 is gradient descent): cell [i, j] equals
    ``run_trajectory(cost, Momentum(etas[j], alphas[i]), start, steps).points[-1]``. Returns
    shape (len(alphas), len(etas), n), NaN where the run left the finite numbers or ``bound``.
    """
    w0 = finite_vector("start", start)
    eta = np.array([positive("etas", e) for e in etas])
    alpha = np.array([unit_interval("alphas", a) for a in alphas])
    steps = integer("steps", steps, minimum=0)
    bound = positive("bound", bound)
    heavy_ball = Momentum(lr=eta[None, :, None], momentum=alpha[:, None, None])
    w = np.broadcast_to(w0, (alpha.size, eta.size, w0.size)).copy()
    with np.errstate(all="ignore"):
        for _ in range(steps):
            [w] = heavy_ball.step([w], [cost.grad(w)])
            w[~np.all(np.isfinite(w) & (np.abs(w) <= bound), axis=-1)] = np.nan
    return w
