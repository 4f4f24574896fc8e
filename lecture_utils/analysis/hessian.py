"""Critical points, exact Hessians and why saddles dominate in high dimensions (notebook 06).

Slides "Definitions" (learning stops at a critical point, g = 0; all Hessian eigenvalues
positive: local minimum; all negative: local maximum; both signs: saddle) and "Theory: Local
minima not an issue" (Dauphin et al., 2014; Choromanska et al., 2015).

- :func:`find_critical_point`: Newton's method on the equation ∇C(θ) = 0, which converges
  to minima, maxima and saddles alike; :func:`critical_points` runs it from many starts.
- :class:`NetworkCost`: the loss of a small torch network as a function of ONE flat float64
  parameter vector θ, with its exact Hessian from ``torch.autograd.functional.hessian`` (the
  one part that needs torch: the rest is numpy, and the module imports without torch).
- :func:`inertia` (how many eigenvalues are negative, zero, positive) decides the kind;
  :func:`index`: the fraction of negative Hessian eigenvalues (Dauphin et al., 2014, fig. 1).
- :func:`sample_goe` and :func:`prob_all_positive`: for a random symmetric matrix the
  probability that all n eigenvalues are positive falls like exp(−(ln 3 / 4) n²).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np

from lecture_utils._checks import finite_vector, integer, positive

if TYPE_CHECKING:  # torch is imported by NetworkCost and prob_all_positive only
    import torch
    from torch import nn

__all__ = [
    "GOE_RATE",
    "CriticalPoint",
    "GradientAndHessian",
    "NetworkCost",
    "classify_critical_point",
    "critical_points",
    "find_critical_point",
    "index",
    "inertia",
    "prob_all_positive",
    "sample_goe",
]

#: Large-n rate of P(all n GOE eigenvalues > 0) ≈ exp(−GOE_RATE · n²) (Dean & Majumdar, 2006).
GOE_RATE = math.log(3.0) / 4.0

Kind = Literal["minimum", "maximum", "saddle", "degenerate"]


class GradientAndHessian(Protocol):
    """A cost with ``grad(w)``, shape (n,), and ``hessian(w)``, shape (n, n), at w of shape (n,)."""

    def grad(self, w: np.ndarray) -> np.ndarray: ...

    def hessian(self, w: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class CriticalPoint:
    """Where Newton's method on ∇C = 0 stopped, with the Hessian's eigenvalues (ascending)."""

    point: np.ndarray
    grad_norm: float
    eigenvalues: np.ndarray
    kind: Kind
    iterations: int
    converged: bool

    @property
    def index(self) -> float:
        """Fraction of negative Hessian eigenvalues (0 at a minimum, 1 at a maximum)."""
        return index(self.eigenvalues)


def inertia(hessian: np.ndarray, tol: float = 1e-10) -> np.ndarray:
    """(n₋, n₀, n₊): how many eigenvalues λ of the symmetric ``hessian`` are < −tol, within
    ±tol, > tol (Sylvester's inertia; slide "Definitions" decides the kind from it).
    """
    hessian = np.asarray(hessian, dtype=float)
    if hessian.ndim != 2 or hessian.shape[0] != hessian.shape[1]:
        raise ValueError(f"hessian must be a square matrix, got shape {hessian.shape}")
    tol = positive("tol", tol, allow_zero=True)
    lam = np.linalg.eigvalsh(hessian)
    return np.array([np.sum(lam < -tol), np.sum(np.abs(lam) <= tol), np.sum(lam > tol)])


def classify_critical_point(hessian: np.ndarray, tol: float = 1e-10) -> Kind:
    """Name a critical point from the eigenvalues of its Hessian (slide "Definitions").

    All eigenvalues > tol: minimum; all < -tol: maximum; both signs: saddle; else degenerate
    (an eigenvalue within ±tol and no eigenvalue of the opposite sign).
    """
    n_neg, n_zero, n_pos = inertia(hessian, tol)
    if n_neg == n_zero == 0:
        return "minimum"
    if n_pos == n_zero == 0:
        return "maximum"
    if n_neg > 0 and n_pos > 0:
        return "saddle"
    return "degenerate"


def index(eigenvalues: np.ndarray | Sequence[float], tol: float = 0.0) -> float:
    """The index #{λ_i < −tol} / n, the fraction of negative eigenvalues (Dauphin et al., 2014)."""
    lam = np.asarray(eigenvalues, dtype=float)
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"eigenvalues must be a non-empty 1-D array, got shape {lam.shape}")
    tol = positive("tol", tol, allow_zero=True)
    return float(np.mean(lam < -tol))


def find_critical_point(cost: GradientAndHessian, start: np.ndarray | Sequence[float], *,
                        tol: float = 1e-10, max_iter: int = 100, classify_tol: float = 1e-10
                        ) -> CriticalPoint:
    """Solve ∇C(θ) = 0 by Newton's method θ ← θ − H⁻¹g, safeguarded; then classify θ.

    Unlike gradient descent, the Newton step (slide "Newton's method, too complex") is
    attracted to critical points of every kind, saddles and maxima included. Safeguard
    (Levenberg–Marquardt on the residual g, whose Jacobian is H): the step is
    d = −(H² + μI)⁻¹ H g, with μ divided by 10 after a step that lowers ‖g‖ and multiplied
    by 10 until one does; μ → 0 is the plain Newton step, large μ a small gradient step on
    ½‖g‖². Stops when ‖g‖ ≤ ``tol`` (``converged=True``), after ``max_iter`` steps, or when no
    μ lowers ‖g‖ (a local minimum of ‖g‖ that is not a critical point).
    """
    w = finite_vector("start", start)
    max_iter = integer("max_iter", max_iter, minimum=0)
    tol = positive("tol", tol)
    g = np.asarray(cost.grad(w), dtype=np.float64)
    if g.shape != w.shape:
        raise ValueError(f"cost.grad(w) must have the shape of start {w.shape}, got {g.shape}")
    mu, it, norm = 1e-3, 0, float(np.linalg.norm(g))
    while it < max_iter and norm > tol and mu < 1e12:
        lam, V = np.linalg.eigh(_symmetric(cost.hessian(w)))
        gv = V.T @ g
        while mu < 1e12:
            w_new = w - V @ (lam * gv / (lam**2 + mu))
            g_new = np.asarray(cost.grad(w_new), dtype=np.float64)
            if np.linalg.norm(g_new) < norm:
                w, g, norm, mu, it = w_new, g_new, float(np.linalg.norm(g_new)), mu / 10, it + 1
                break
            mu *= 10
    H = _symmetric(cost.hessian(w))
    return CriticalPoint(point=w, grad_norm=norm, eigenvalues=np.linalg.eigvalsh(H),
                         kind=classify_critical_point(H, tol=classify_tol), iterations=it,
                         converged=norm <= tol)


def _symmetric(H: np.ndarray) -> np.ndarray:
    H = np.asarray(H, dtype=np.float64)
    if H.ndim != 2 or H.shape[0] != H.shape[1]:
        raise ValueError(f"cost.hessian(w) must be a square matrix, got shape {H.shape}")
    return 0.5 * (H + H.T)


def critical_points(cost: GradientAndHessian, starts: np.ndarray, *, tol: float = 1e-10,
                    max_iter: int = 100, merge_distance: float = 1e-6) -> list[CriticalPoint]:
    """The distinct converged critical points that Newton's method reaches from ``starts``.

    ``starts`` has shape (k, n); two points closer than ``merge_distance`` count as one.
    The result is sorted by the coordinates of the points.
    """
    starts = np.asarray(starts, dtype=np.float64)
    if starts.ndim != 2:
        raise ValueError(f"starts must have shape (k, n), got {starts.shape}")
    found: list[CriticalPoint] = []
    for start in starts:
        cp = find_critical_point(cost, start, tol=tol, max_iter=max_iter)
        if cp.converged and all(np.linalg.norm(cp.point - f.point) > merge_distance
                                for f in found):
            found.append(cp)
    return sorted(found, key=lambda cp: tuple(cp.point))


class NetworkCost:
    """C(θ) = loss(model_θ(x), y) + weight_decay·‖θ‖² for one flat float64 parameter vector θ.

    θ concatenates the model's parameters in ``model.named_parameters()`` order (what
    ``torch.nn.utils.parameters_to_vector`` gives). ``hessian(θ)`` is the exact n×n matrix
    ∂²C/∂θ_i∂θ_j from ``torch.autograd.functional.hessian``. The methods take and return numpy
    arrays, so :func:`find_critical_point` and ``trajectories.run_trajectory`` accept a NetworkCost.
    """

    def __init__(self, model: nn.Module, x: np.ndarray | torch.Tensor,
                 y: np.ndarray | torch.Tensor, *,
                 loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
                 weight_decay: float = 0.0) -> None:
        """``loss``: None for the mean cross-entropy (``nn.functional.cross_entropy``)."""
        import torch
        from torch import nn

        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        weight_decay = positive("weight_decay", weight_decay, allow_zero=True)
        self.model = model
        self.x = torch.as_tensor(x, dtype=torch.float64)
        self.y = torch.as_tensor(y)
        if self.x.shape[0] != self.y.shape[0]:
            raise ValueError(f"x and y must have the same number of rows, got {self.x.shape[0]} "
                             f"and {self.y.shape[0]}")
        self.loss = nn.functional.cross_entropy if loss is None else loss
        self.weight_decay = weight_decay
        params = dict(model.named_parameters())
        self.names = list(params)
        self.shapes = [p.shape for p in params.values()]
        self.sizes = [p.numel() for p in params.values()]
        self.theta0 = np.concatenate([p.detach().double().reshape(-1).numpy()
                                      for p in params.values()])

    @property
    def n_params(self) -> int:
        """Number of parameters n = len(θ)."""
        return int(sum(self.sizes))

    def unflatten(self, theta: torch.Tensor) -> dict[str, torch.Tensor]:
        """Split θ into the model's named parameter tensors (views, so autograd flows)."""
        if theta.shape != (self.n_params,):
            raise ValueError(f"theta must have shape ({self.n_params},), got {tuple(theta.shape)}")
        import torch

        chunks = torch.split(theta, self.sizes)
        return {name: c.reshape(shape)
                for name, c, shape in zip(self.names, chunks, self.shapes, strict=True)}

    def torch_value(self, theta: torch.Tensor) -> torch.Tensor:
        """C(θ) as a differentiable torch scalar (the function handed to autograd)."""
        from torch.func import functional_call

        out = functional_call(self.model, self.unflatten(theta), (self.x,))
        return self.loss(out, self.y) + self.weight_decay * theta.square().sum()

    def _theta(self, w: np.ndarray | Sequence[float]) -> torch.Tensor:
        import torch

        return torch.as_tensor(np.asarray(w, dtype=np.float64))

    def value(self, w: np.ndarray | Sequence[float]) -> float:
        """C(θ) as a Python float."""
        import torch

        with torch.no_grad():
            return float(self.torch_value(self._theta(w)))

    def grad(self, w: np.ndarray | Sequence[float]) -> np.ndarray:
        """∇C(θ), shape (n,), by backpropagation."""
        import torch

        theta = self._theta(w).requires_grad_(True)
        (g,) = torch.autograd.grad(self.torch_value(theta), theta)
        return g.numpy()

    def hessian(self, w: np.ndarray | Sequence[float]) -> np.ndarray:
        """The exact Hessian ∂²C/∂θ∂θᵀ, shape (n, n), via ``torch.autograd.functional.hessian``."""
        import torch

        H = torch.autograd.functional.hessian(self.torch_value, self._theta(w), vectorize=True)
        return H.numpy()


def sample_goe(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` GOE matrices, shape (size, n, n): H = (A + Aᵀ)/√(2n) with A_ij ~ N(0, 1).

    Off-diagonal entries have variance 1/n and diagonal ones 2/n, so the eigenvalues fill
    Wigner's semicircle on [−2, 2] for large n.
    """
    n = integer("n", n, minimum=1)
    size = integer("size", size, minimum=1)
    a = rng.standard_normal((size, n, n))
    return (a + np.swapaxes(a, -1, -2)) / np.sqrt(2 * n)


def prob_all_positive(n: int, samples: int, rng: np.random.Generator, *,
                      chunk: int = 100_000) -> tuple[float, float]:
    """Monte Carlo P(all n eigenvalues of a GOE matrix > 0) and its standard error √(p(1−p)/N).

    Exact values for comparison: 1/2 for n = 1, (2 − √2)/4 ≈ 0.146 for n = 2; for large n the
    probability decays like exp(−(ln 3/4)·n²) (Dean & Majumdar, 2006), far faster than the
    2⁻ⁿ one would guess from n independent signs: the eigenvalues repel each other.
    """
    samples = integer("samples", samples, minimum=1)
    hits, done = 0, 0
    while done < samples:
        m = min(chunk, samples - done)
        hits += int(_positive_definite(sample_goe(n, m, rng)).sum())
        done += m
    p = hits / samples
    return p, math.sqrt(p * (1 - p) / samples)


def _positive_definite(H: np.ndarray) -> np.ndarray:
    """Per matrix of the stack ``H`` (shape (m, n, n)): whether all its eigenvalues are > 0.

    Exactly when its Cholesky factor exists (torch's ``cholesky_ex``: info == 0, several times
    faster than the eigenvalues); without torch (the browser edition), Sylvester's criterion:
    every leading principal minor det H[:k, :k] is > 0.
    """
    try:
        import torch
    except ImportError:
        return np.all([np.linalg.det(H[:, :k, :k]) > 0 for k in range(1, H.shape[-1] + 1)],
                      axis=0)
    return torch.linalg.cholesky_ex(torch.from_numpy(H))[1].numpy() == 0
