"""One optimiser interface (d2l style) for every method of the lecture.

Every optimiser has ``step(params, grads, hessian=None)``, which updates the numpy arrays in
``params`` IN PLACE (any shape, float32 or float64, dtype preserved; state is kept per parameter
index), ``reset()``, and an ``lr`` attribute that a schedule may change between steps.
``train_step(model, x, y)`` is one step on a mini-batch of an ``MLP``, the loop body of
``training.train``.

Slides: "Gradient descent" (θ_{k+1} = θ_k − η_k g_k), "Newton's method, too complex"
(θ_{k+1} = θ_k − H_k⁻¹ g_k), "Momentum method (Polyak, 1964)" (m_{k+1} = α m_k − η_k g_k,
θ_{k+1} = θ_k + m_{k+1}) and "Adaptation of η_k possible (Adam, Adagrad, Adadelta)".
The adaptive methods follow ``torch.optim`` exactly (same defaults, same ε placement), so the
tests compare them step by step with torch.

Example::

    opt = Momentum(lr=0.1, momentum=0.9)
    for _ in range(100):
        opt.step([W, b], [dW, db])          # W and b change in place
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from lecture_utils._checks import positive, unit_interval

if TYPE_CHECKING:
    from lecture_utils.network.mlp import MLP

__all__ = [
    "OPTIMIZERS",
    "Adadelta",
    "Adagrad",
    "Adam",
    "DampedNewton",
    "GradientDescent",
    "Momentum",
    "Nesterov",
    "Newton",
    "Optimizer",
    "RMSprop",
    "SaddleFreeNewton",
    "make_optimizer",
]


# ---------------------------------------------------------------------------------------------
# validation helpers
# ---------------------------------------------------------------------------------------------
def _short(value: object) -> str:
    """Hyper-parameters in reprs: floats to 4 significant digits (0.29, not 0.29000000000000004)."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, tuple):
        return "(" + ", ".join(_short(v) for v in value) + ")"
    return repr(value)


# ---------------------------------------------------------------------------------------------
# the interface
# ---------------------------------------------------------------------------------------------
class Optimizer:
    """Base class: ``step(params, grads, hessian=None)`` updates ``params`` in place.

    Subclasses implement ``_update(i, p, g)`` for one parameter array ``p`` (index ``i``) with
    gradient ``g`` already cast to ``p.dtype``; per-parameter state lives in ``self.state[i]``.
    ``self.t`` counts the steps taken since construction or ``reset()``.
    """

    needs_hessian: ClassVar[bool] = False

    def __init__(self, lr: float) -> None:
        self._lr = positive("lr", lr)
        self.state: dict[int, dict[str, np.ndarray]] = {}
        self.t = 0
        # the last (params, grads, pairs) that passed _check with no conversion: a training loop
        # passes the same arrays every step, so they are checked once, not 600 times an epoch
        self._checked: tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...],
                             list[tuple[np.ndarray, np.ndarray]]] | None = None

    @property
    def lr(self) -> float:
        """Step size η_k; a schedule may set it between steps (finite, ≥ 0; 0 freezes θ)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = positive("lr", value, allow_zero=True)

    def reset(self) -> None:
        """Forget all state (momentum buffers, running averages, step count)."""
        self.state.clear()
        self.t = 0

    def step(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray],
             hessian: np.ndarray | None = None) -> None:
        """Take one step: update every array in ``params`` in place from ``grads``.

        ``hessian`` is ignored by the first-order methods (it is there so that every optimiser
        has the same signature; the Newton family needs it).
        """
        pairs = self._pairs(params, grads)
        self.t += 1
        for i, (p, g) in enumerate(pairs):
            self._update(i, p, g)

    def train_step(self, model: MLP, x: np.ndarray, y: np.ndarray) -> float:
        """One step on the mini-batch ``(x, y)`` of ``model``; returns its loss at θ_k.

        ``loss, grads = model.loss_and_grads(x, y)``, then ``step(model.params, grads)``: the
        loop body of ``training.train``. Gradient descent fuses the two (``MLP.sgd_step``).
        """
        loss, grads = model.loss_and_grads(x, y)
        self.step(model.params, grads)
        return loss

    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        raise NotImplementedError

    def _buffer(self, i: int, name: str, p: np.ndarray) -> np.ndarray:
        """The state array ``name`` of parameter ``i`` (zeros like ``p`` on first use)."""
        slot = self.state.setdefault(i, {})
        if name not in slot:
            slot[name] = np.zeros_like(p)
        return slot[name]

    def _pairs(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray]
               ) -> list[tuple[np.ndarray, np.ndarray]]:
        """``_check(params, grads)``, skipped when both lists hold the very arrays (``is``) that
        passed it last time with no conversion (a model's parameters and gradient buffers)."""
        last = self._checked
        if (last is not None and len(params) == len(last[0]) == len(grads)
                and all(map(operator.is_, params, last[0]))
                and all(map(operator.is_, grads, last[1]))):
            return last[2]
        pairs = self._check(params, grads)
        as_given = all(map(operator.is_, (g for _, g in pairs), grads))
        self._checked = (tuple(params), tuple(grads), pairs) if as_given else None
        return pairs

    def _check(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray]
               ) -> list[tuple[np.ndarray, np.ndarray]]:
        if isinstance(params, np.ndarray) or isinstance(grads, np.ndarray):
            raise TypeError("params and grads must be lists of arrays, e.g. step([w], [g]), "
                            "not bare arrays")
        if len(params) != len(grads):
            raise ValueError(f"params and grads must have the same length, "
                             f"got {len(params)} params and {len(grads)} grads")
        pairs = []
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
                raise TypeError(f"params[{i}] must be a float numpy array (updated in place), "
                                f"got {type(p).__name__} of dtype {getattr(p, 'dtype', None)}")
            g = np.asarray(g, dtype=p.dtype)
            if g.shape != p.shape:
                raise ValueError(f"grads[{i}] must have the shape of params[{i}] {p.shape}, "
                                 f"got {g.shape}")
            old = next(iter(self.state.get(i, {}).values()), None)
            if old is not None and old.shape != p.shape:
                raise ValueError(f"params[{i}] changed shape from {old.shape} to {p.shape}; "
                                 "call reset() before optimising new parameters")
            pairs.append((p, g))
        return pairs

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={_short(v)}" for k, v in self._hyper().items())
        return f"{type(self).__name__}({args})"

    def _hyper(self) -> dict[str, object]:
        return {"lr": self.lr}


class GradientDescent(Optimizer):
    """θ_{k+1} = θ_k − η_k g_k (slide "Gradient descent"; ``torch.optim.SGD`` without momentum)."""

    def train_step(self, model: MLP, x: np.ndarray, y: np.ndarray) -> float:
        """The same step fused: ``model.sgd_step`` backpropagates −η δ(L), which gives −η g,
        and adds each product straight into its parameter (no buffer for g, no pass over θ)."""
        self.t += 1
        return model.sgd_step(x, y, self.lr)

    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        p -= self.lr * g


class Momentum(Optimizer):
    """Polyak's heavy ball as on the slide: m_{k+1} = α m_k − η_k g_k, θ_{k+1} = θ_k + m_{k+1}.

    With ``nesterov=True`` the look-ahead form θ_{k+1} = θ_k + α m_{k+1} − η_k g_k (Sutskever et
    al., 2013), with the gradient taken at θ_k.

    Relation to ``torch.optim.SGD(lr=η, momentum=α)`` (dampening 0), which keeps a buffer
    b_{k+1} = α b_k + g_k and steps θ_{k+1} = θ_k − η b_{k+1} (Nesterov: θ − η (g_k + α b_{k+1})):
    for a constant η the two are the same iteration with m = −η b, step for step. They differ
    only when η changes: torch rescales the whole accumulated velocity by the new η, the slide's
    form applies the new η to the new gradient only.
    """

    def __init__(self, lr: float, momentum: float = 0.9, nesterov: bool = False) -> None:
        super().__init__(lr)
        self.momentum = unit_interval("momentum", momentum)
        self.nesterov = bool(nesterov)

    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        m = self._buffer(i, "m", p)
        m *= self.momentum
        m -= self.lr * g
        if self.nesterov:
            p += self.momentum * m - self.lr * g
        else:
            p += m

    def _hyper(self) -> dict[str, object]:
        return {"lr": self.lr, "momentum": self.momentum, "nesterov": self.nesterov}


class Nesterov(Momentum):
    """``Momentum(lr, momentum, nesterov=True)``: θ_{k+1} = θ_k + α m_{k+1} − η_k g_k."""

    def __init__(self, lr: float, momentum: float = 0.9) -> None:
        super().__init__(lr, momentum, nesterov=True)

    def _hyper(self) -> dict[str, object]:
        return {"lr": self.lr, "momentum": self.momentum}


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011): s ← s + g², θ ← θ − η g / (√s + ε) (as ``torch.optim``)."""

    def __init__(self, lr: float = 0.01, eps: float = 1e-10) -> None:
        super().__init__(lr)
        self.eps = positive("eps", eps)

    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        s = self._buffer(i, "sum", p)
        s += g * g
        p -= self.lr * g / (np.sqrt(s) + self.eps)

    def _hyper(self) -> dict[str, object]:
        return {"lr": self.lr, "eps": self.eps}


class RMSprop(Optimizer):
    """RMSprop (Tieleman & Hinton, 2012): v ← αv + (1−α)g², θ ← θ − η g / (√v + ε)."""

    def __init__(self, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.alpha = unit_interval("alpha", alpha)
        self.eps = positive("eps", eps)

    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        v = self._buffer(i, "square_avg", p)
        v *= self.alpha
        v += (1.0 - self.alpha) * g * g
        p -= self.lr * g / (np.sqrt(v) + self.eps)

    def _hyper(self) -> dict[str, object]:
        return {"lr": self.lr, "alpha": self.alpha, "eps": self.eps}


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012), as ``torch.optim.Adadelta``.

    v ← ρv + (1−ρ)g²;  Δ = √(u + ε) / √(v + ε) · g;  u ← ρu + (1−ρ)Δ²;  θ ← θ − η Δ.
    """

    def __init__(self, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6) -> None:
        super().__init__(lr)
        self.rho = unit_interval("rho", rho)
        self.eps = positive("eps", eps)

    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        v = self._buffer(i, "square_avg", p)
        u = self._buffer(i, "acc_delta", p)
        v *= self.rho
        v += (1.0 - self.rho) * g * g
        delta = np.sqrt(u + self.eps) / np.sqrt(v + self.eps) * g
        u *= self.rho
        u += (1.0 - self.rho) * delta * delta
        p -= self.lr * delta

    def _hyper(self) -> dict[str, object]:
        return {"lr": self.lr, "rho": self.rho, "eps": self.eps}


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), as ``torch.optim.Adam``.

    m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
    θ ← θ − η/(1−β₁ᵗ) · m / (√v / √(1−β₂ᵗ) + ε).
    """

    def __init__(self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        super().__init__(lr)
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (unit_interval("betas[0]", betas[0]), unit_interval("betas[1]", betas[1]))
        self.eps = positive("eps", eps)

    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        b1, b2 = self.betas
        m = self._buffer(i, "exp_avg", p)
        v = self._buffer(i, "exp_avg_sq", p)
        m *= b1
        m += (1.0 - b1) * g
        v *= b2
        v += (1.0 - b2) * g * g
        step_size = self.lr / (1.0 - b1**self.t)
        denom = np.sqrt(v) / math.sqrt(1.0 - b2**self.t) + self.eps
        p -= step_size * m / denom

    def _hyper(self) -> dict[str, object]:
        return {"lr": self.lr, "betas": self.betas, "eps": self.eps}


# ---------------------------------------------------------------------------------------------
# second-order methods: one flat parameter vector plus its Hessian
# ---------------------------------------------------------------------------------------------
class Newton(Optimizer):
    """Newton's method (slide "Newton's method, too complex"): θ_{k+1} = θ_k − η H_k⁻¹ g_k.

    ``lr`` = η = 1 is the plain Newton step. Needs one flat parameter vector and its n×n
    Hessian: ``step([w], [g], hessian=H)``. The solve costs O(n³) (#params³ on the slide).
    """

    needs_hessian: ClassVar[bool] = True

    def __init__(self, lr: float = 1.0) -> None:
        super().__init__(lr)

    def step(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray],
             hessian: np.ndarray | None = None) -> None:
        """One Newton-type step ``w ← w − η M(H)⁻¹ g`` on ``params == [w]`` (w of shape (n,))."""
        pairs = self._check(params, grads)
        if len(pairs) != 1 or pairs[0][0].ndim != 1:
            shapes = [p.shape for p, _ in pairs]
            raise ValueError(f"{type(self).__name__} needs params to be one flat vector [w] with "
                             f"w.shape == (n,), got shapes {shapes}")
        w, g = pairs[0]
        n = w.shape[0]
        if hessian is None:
            raise ValueError(f"{type(self).__name__}.step needs hessian= (an ({n}, {n}) array)")
        H = np.asarray(hessian, dtype=np.float64)
        if H.shape != (n, n):
            raise ValueError(f"hessian must have shape ({n}, {n}), got {H.shape}")
        try:
            direction = np.linalg.solve(self._curvature(H), g.astype(np.float64))
        except np.linalg.LinAlgError:
            raise np.linalg.LinAlgError(
                f"{type(self).__name__}: the curvature matrix is singular at this point; "
                "use DampedNewton or SaddleFreeNewton with damping > 0") from None
        self.t += 1
        w -= (self.lr * direction).astype(w.dtype)

    def _curvature(self, H: np.ndarray) -> np.ndarray:
        """The matrix M(H) the gradient is divided by: H for plain Newton."""
        return H


class DampedNewton(Newton):
    """Damped (Levenberg–Marquardt) Newton: θ ← θ − η (H + δI)⁻¹ g with damping δ ≥ 0.

    Large δ turns it into gradient descent with step η/δ; it still heads for a saddle when
    H + δI has negative eigenvalues.
    """

    def __init__(self, damping: float, lr: float = 1.0) -> None:
        super().__init__(lr)
        self.damping = positive("damping", damping, allow_zero=True)

    def _curvature(self, H: np.ndarray) -> np.ndarray:
        return H + self.damping * np.eye(H.shape[0])

    def _hyper(self) -> dict[str, object]:
        return {"damping": self.damping, "lr": self.lr}


class SaddleFreeNewton(DampedNewton):
    """Saddle-free Newton (Dauphin et al., 2014): θ ← θ − η (|H| + δI)⁻¹ g (damping δ ≥ 0).

    |H| = V |Λ| Vᵀ flips the sign of negative-curvature directions, so the step always goes
    downhill and is repelled by saddles instead of attracted.
    """

    def _curvature(self, H: np.ndarray) -> np.ndarray:
        lam, V = np.linalg.eigh(0.5 * (H + H.T))
        return (V * (np.abs(lam) + self.damping)) @ V.T


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "gd": GradientDescent,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": Adagrad,
    "rmsprop": RMSprop,
    "adadelta": Adadelta,
    "adam": Adam,
    "newton": Newton,
    "damped_newton": DampedNewton,
    "saddle_free_newton": SaddleFreeNewton,
}


def make_optimizer(name: str, **kwargs: object) -> Optimizer:
    """Build an optimiser by name (a key of ``OPTIMIZERS``): ``make_optimizer("adam", lr=0.1)``."""
    try:
        cls = OPTIMIZERS[name]
    except KeyError:
        raise ValueError(f"name must be one of {sorted(OPTIMIZERS)}, got {name!r}") from None
    return cls(**kwargs)
