"""The lecture's small cost functions of two weights (w1, w2), with value, gradient and Hessian.

Every method takes ``w`` whose LAST axis holds ``(w1, w2)`` and is vectorised over the
leading axes, so a whole grid is evaluated without Python loops::

    W = grid((-2, 2), (-2, 2), n=101)       # shape (101, 101, 2)
    C = TINY_II.value(W)                     # shape (101, 101)
    g = TINY_II.grad(W)                      # shape (101, 101, 2)
    H = TINY_II.hessian(W)                   # shape (101, 101, 2, 2)

Slides: "Tiny example I" (:class:`TinyExampleI`), "Tiny Example II" (:class:`TinyExampleII`,
also used by the gradient-descent, Newton, momentum and saddle slides) and "Backpropagation,
tiny example" (:class:`BackpropTinyExample`, the scaling issue).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from lecture_utils._checks import integer, positive, real

if TYPE_CHECKING:
    import torch

__all__ = [
    "BACKPROP_TINY",
    "TINY_I",
    "TINY_II",
    "BackpropTinyExample",
    "LinearChainCost",
    "TinyExampleI",
    "TinyExampleII",
    "grid",
]


def _as_weights(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(w1, w2)`` as float arrays from an array whose last axis has length 2."""
    w = np.asarray(w, dtype=float)
    if w.ndim == 0 or w.shape[-1] != 2:
        raise ValueError(f"w must be an array whose last axis holds (w1, w2), got shape {w.shape}")
    return w[..., 0], w[..., 1]


def _stack_pair(g1: np.ndarray, g2: np.ndarray) -> np.ndarray:
    return np.stack(np.broadcast_arrays(g1, g2), axis=-1)


def _stack_hessian(h11: np.ndarray, h12: np.ndarray, h22: np.ndarray) -> np.ndarray:
    h11, h12, h22 = np.broadcast_arrays(h11, h12, h22)
    return np.stack([np.stack([h11, h12], axis=-1), np.stack([h12, h22], axis=-1)], axis=-2)


def grid(w1_range: tuple[float, float] = (-2.0, 2.0), w2_range: tuple[float, float] = (-2.0, 2.0),
         n: int = 201) -> np.ndarray:
    """Regular grid of weights, shape ``(n, n, 2)``; ``W[i, j] = (w1_j, w2_i)``.

    The layout matches ``np.meshgrid`` (rows follow w2), so ``plt.contour(W[..., 0], W[..., 1],
    cost.value(W))`` draws w1 horizontally and w2 vertically.
    """
    n = integer("n", n, minimum=2)
    w1 = np.linspace(*w1_range, n)
    w2 = np.linspace(*w2_range, n)
    return np.stack(np.meshgrid(w1, w2), axis=-1)


class TinyExampleI:
    """Slide "Tiny example I": C = (y − h2)², h2 = w2·h1, h1 = relu(w1·x).

    The derivatives are written with relu'(0) = 0 (torch's convention); C is not
    differentiable in w1 where w1·x = 0.
    """

    def __init__(self, x: float = 1.0, y: float = 1.5) -> None:
        self.x = real("x", x)
        self.y = real("y", y)

    def __repr__(self) -> str:
        return f"TinyExampleI(x={self.x:g}, y={self.y:g})"

    def forward(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Hidden unit and output: h1 = relu(w1·x), h2 = w2·h1."""
        w1, w2 = _as_weights(w)
        h1 = np.maximum(w1 * self.x, 0.0)
        return h1, w2 * h1

    def active(self, w: np.ndarray) -> np.ndarray:
        """The ReLU indicator 1(w1·x > 0) as a float array."""
        w1, _ = _as_weights(w)
        return (w1 * self.x > 0).astype(float)

    def value(self, w: np.ndarray) -> np.ndarray:
        """C = (y − h2)²."""
        _, h2 = self.forward(w)
        return (self.y - h2) ** 2

    def torch_value(self, w: torch.Tensor) -> torch.Tensor:
        """C = (y − w2·relu(w1·x))² with torch operations (last axis: w1, w2), for autograd."""
        import torch

        return (self.y - w[..., 1] * torch.relu(w[..., 0] * self.x)) ** 2

    def grad(self, w: np.ndarray) -> np.ndarray:
        """Corrected derivatives: ∂C/∂w1 = −2(y − h2)·w2·1(w1·x > 0)·x, ∂C/∂w2 = −2(y − h2)·h1."""
        _, w2 = _as_weights(w)
        h1, h2 = self.forward(w)
        r = self.y - h2
        return _stack_pair(-2 * r * w2 * self.active(w) * self.x, -2 * r * h1)

    def slide_grad(self, w: np.ndarray) -> np.ndarray:
        """The derivatives as printed on the slide (two slips, kept for the errata).

        ∂C/∂w1 = −(y − h2)·w2·1(w1·h1 > 0)·x and ∂C/∂w2 = −(y − h2)·h1: the factor 2 is
        missing, and 1(w1·h1 > 0) = 1(w1 > 0)·1(x > 0) differs from 1(w1·x > 0) when x < 0.
        """
        w1, w2 = _as_weights(w)
        h1, h2 = self.forward(w)
        r = self.y - h2
        return _stack_pair(-r * w2 * (w1 * h1 > 0) * self.x, -r * h1)

    def hessian(self, w: np.ndarray) -> np.ndarray:
        """∂²C = [[2w2²x², 2x(2h2 − y)], [·, 2h1²]] where w1·x > 0, and 0 where the ReLU is off."""
        _, w2 = _as_weights(w)
        h1, h2 = self.forward(w)
        a = self.active(w)
        x = self.x
        return _stack_hessian(2 * w2**2 * x**2 * a, 2 * x * (2 * h2 - self.y) * a, 2 * h1**2)


class LinearChainCost:
    """C = (w1·w2·x − y)² + γ(w1² + w2²): a linear two-weight chain with weight decay γ = ``decay``.

    Shared by "Tiny Example II" (x = 1, y = 1.5, decay = 0.04) and "Backpropagation, tiny
    example" (decay = 0).
    """

    def __init__(self, x: float = 1.0, y: float = 1.5, decay: float = 0.0) -> None:
        self.x = real("x", x)
        self.y = real("y", y)
        self.decay = positive("decay", decay, allow_zero=True)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(x={self.x:g}, y={self.y:g}, decay={self.decay:g})"

    def output(self, w: np.ndarray) -> np.ndarray:
        """The network output w2·w1·x (the mean of y ~ N(w2·h, 1), h = w1·x)."""
        w1, w2 = _as_weights(w)
        return w2 * w1 * self.x

    def value(self, w: np.ndarray) -> np.ndarray:
        """C = (w1·w2·x − y)² + decay·(w1² + w2²)."""
        w1, w2 = _as_weights(w)
        return (w1 * w2 * self.x - self.y) ** 2 + self.decay * (w1**2 + w2**2)

    def torch_value(self, w: torch.Tensor) -> torch.Tensor:
        """C = (w1·w2·x − y)² + decay·(w1² + w2²) with torch operations, for autograd checks."""
        w1, w2 = w[..., 0], w[..., 1]
        return (w1 * w2 * self.x - self.y) ** 2 + self.decay * (w1**2 + w2**2)

    def grad(self, w: np.ndarray) -> np.ndarray:
        """∂C/∂w1 = 2(w1w2x − y)·w2x + 2·decay·w1, ∂C/∂w2 = 2(w1w2x − y)·w1x + 2·decay·w2."""
        w1, w2 = _as_weights(w)
        r = w1 * w2 * self.x - self.y
        return _stack_pair(2 * r * w2 * self.x + 2 * self.decay * w1,
                           2 * r * w1 * self.x + 2 * self.decay * w2)

    def hessian(self, w: np.ndarray) -> np.ndarray:
        """[[2w2²x² + 2·decay, 2x(2w1w2x − y)], [·, 2w1²x² + 2·decay]]."""
        w1, w2 = _as_weights(w)
        x, gamma = self.x, self.decay
        return _stack_hessian(2 * w2**2 * x**2 + 2 * gamma, 2 * x * (2 * w1 * w2 * x - self.y),
                              2 * w1**2 * x**2 + 2 * gamma)


class TinyExampleII(LinearChainCost):
    """Slide "Tiny Example II": C = (w1·w2·x − y)² + decay·(w1² + w2²), data {x = 1, y = 1.5}.

    Critical points (decay > 0): ∇C = 0 forces w1² = w2², giving the origin and, when
    |x·y| > decay, two minima w1 = ±w2 = ±√((|x·y| − decay)/x²) (sign + when x·y > 0);
    for the defaults w1 = w2 = ±√1.46, Hessian eigenvalues 5.84 and 0.16.
    The origin, with Hessian eigenvalues 2·decay ± 2|x·y|, is then a saddle.
    """

    def __init__(self, x: float = 1.0, y: float = 1.5, decay: float = 0.04) -> None:
        super().__init__(x, y, decay)
        if self.decay <= 0:
            raise ValueError(f"decay must be > 0 for isolated minima, got {self.decay}")
        if self.x == 0:
            raise ValueError("x must be nonzero, got 0")

    def critical_points(self) -> np.ndarray:
        """All points with ∇C = 0, shape (k, 2): the origin, then the minima if they exist."""
        return np.vstack([np.zeros((1, 2)), self._minima()])

    def _minima(self) -> np.ndarray:
        xy = self.x * self.y
        if abs(xy) <= self.decay:
            return np.zeros((0, 2))
        a = np.sqrt((abs(xy) - self.decay) / self.x**2)
        sign = np.sign(xy)
        return np.array([[a, sign * a], [-a, -sign * a]])

    @property
    def minima(self) -> np.ndarray:
        """The two global minima, shape (2, 2), positive w1 first: ±(√1.46, √1.46) by default."""
        minima = self._minima()
        if len(minima) == 0:
            raise ValueError(f"|x·y| = {abs(self.x * self.y):g} <= decay = {self.decay:g}: "
                             "the origin is the only critical point (a minimum)")
        return minima

    @property
    def saddle(self) -> np.ndarray:
        """The saddle point, the origin (it is a saddle when |x·y| > decay)."""
        if abs(self.x * self.y) <= self.decay:
            raise ValueError(f"|x·y| = {abs(self.x * self.y):g} <= decay = {self.decay:g}: "
                             "the origin is a minimum, not a saddle")
        return np.zeros(2)


class BackpropTinyExample(LinearChainCost):
    """Slide "Backpropagation, tiny example": y = w2·h + noise, h = w1·x, C = (w2·w1·x − 1.5)².

    ∂C/∂w2 = 2(w2w1x − 1.5)·w1x and ∂C/∂w1 = 2(w2w1x − 1.5)·w2x. Scaling issue: (c·w1, w2/c)
    gives the same output, but ∂C/∂w2 is multiplied by c and ∂C/∂w1 divided by c.
    """

    def __init__(self, x: float = 1.0, y: float = 1.5) -> None:
        super().__init__(x, y, decay=0.0)

    def __repr__(self) -> str:
        return f"BackpropTinyExample(x={self.x:g}, y={self.y:g})"

    @staticmethod
    def rescale(w: np.ndarray, c: float | np.ndarray) -> np.ndarray:
        """(w1, w2) -> (c·w1, w2/c): same output w2·w1·x, rescaled gradients."""
        w1, w2 = _as_weights(w)
        c = np.asarray(c, dtype=float)
        if np.any(c == 0):
            raise ValueError("c must be nonzero")
        return _stack_pair(c * w1, w2 / c)


TINY_I = TinyExampleI()
TINY_II = TinyExampleII()
BACKPROP_TINY = BackpropTinyExample()
