"""The lecture's optimisers, each step written as its formula (d2l's optimiser chapter style).

Every optimiser has ``step(params, grads, hessian=None) -> new_params``: it takes a list of
parameter arrays θ and their gradients g and returns NEW arrays θ_{k+1} (same shapes and
dtypes); the arrays it is given are never changed. An optimiser remembers its own state
(momentum m, running averages s, v, the step count t) per parameter index, ``reset()`` forgets
it, and its ``lr`` (η_k) may be changed between steps by a schedule.

Slides: "Gradient descent" (θ_{k+1} = θ_k − η_k g_k), "Newton's method, too complex"
(θ_{k+1} = θ_k − H_k⁻¹ g_k), "Momentum method (Polyak, 1964)" (m_{k+1} = α m_k − η_k g_k,
θ_{k+1} = θ_k + m_{k+1}) and "Adaptation of η_k possible (Adam, Adagrad, Adadelta)".
The adaptive methods use torch's defaults and ε placement, so the tests compare each step with
its ``torch.optim`` twin (``to_torch``); :data:`OPTIMIZERS` is the one registry of them all.

Example::

    opt = Momentum(lr=0.1, momentum=0.9)
    for _ in range(100):
        W, b = opt.step([W, b], [dW, db])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import numpy as np

from lecture_utils._checks import positive, unit_interval

if TYPE_CHECKING:
    import torch


__all__ = [
    "OPTIMIZERS",
    "Adadelta",
    "Adagrad",
    "Adam",
    "DampedNewton",
    "GradientDescent",
    "Momentum",
    "Newton",
    "Optimizer",
    "RMSprop",
    "Registered",
    "SaddleFreeNewton",
    "make_optimizer",
]


def _rate(name: str, value: Any, check: Callable[[str, Any], float]) -> float | np.ndarray:
    """A hyperparameter checked by ``check``: a number, or an array of them (one per run of a
    grid of runs taken at once, as ``trajectories.momentum_sweep`` does)."""
    if np.ndim(value) == 0:
        return check(name, value)
    values = np.asarray(value, dtype=np.float64)
    for v in values.ravel():
        check(name, float(v))
    return values


def _short(value: object) -> str:
    """Hyperparameters in reprs: floats to 4 significant digits (0.29, not 0.29000000000000004)."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, tuple):
        return "(" + ", ".join(_short(v) for v in value) + ")"
    return repr(value)


# ---------------------------------------------------------------------------------------------
# the interface
# ---------------------------------------------------------------------------------------------
class Optimizer:
    """Base class: ``step(params, grads)`` returns θ_{k+1} for each array θ_k in ``params``.

    A subclass writes its update rule in ``update(i, theta, g)`` for one parameter array
    (index ``i``), reading and saving its state in ``self.state[i]``; ``self.t`` counts the
    steps since construction or ``reset()``. ``torch_name`` names its ``torch.optim`` twin,
    whose keyword arguments are the hyperparameters (``hyper()``), named as torch names them.
    """

    needs_hessian: ClassVar[bool] = False
    torch_name: ClassVar[str | None] = None

    def __init__(self, lr: float) -> None:
        self.lr = _rate("lr", lr, positive)
        self.state: dict[int, dict[str, np.ndarray]] = {}
        self.t = 0

    @property
    def lr(self) -> float:
        """Step size η_k; a schedule may set it between steps (finite, ≥ 0; 0 freezes θ)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _rate("lr", value, partial(positive, allow_zero=True))

    def reset(self) -> None:
        """Forget all state (momentum, running averages, step count)."""
        self.state.clear()
        self.t = 0

    def step(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray],
             hessian: np.ndarray | None = None) -> list[np.ndarray]:
        """One step: the new arrays θ_{k+1}, one per array of ``params`` (which stay as they are).

        ``hessian`` is ignored by the first-order methods (every optimiser has the same
        signature; the Newton family needs it).
        """
        pairs = self._check(params, grads)
        self.t += 1
        return [self.update(i, theta, g) for i, (theta, g) in enumerate(pairs)]

    def update(self, i: int, theta: np.ndarray, g: np.ndarray) -> np.ndarray:
        """θ_{k+1} of parameter array ``i`` from θ_k and g_k: the update rule."""
        raise NotImplementedError

    def saved(self, i: int, theta: np.ndarray, *names: str) -> list[np.ndarray]:
        """The state arrays ``names`` of parameter ``i``: zeros like θ before its first step."""
        state = self.state.get(i, {})
        return [state.get(name, np.zeros_like(theta)) for name in names]

    def hyper(self) -> dict[str, Any]:
        """The hyperparameters, named as the constructor (and ``torch.optim``) names them."""
        return {"lr": self.lr}

    def torch_twin(self) -> partial[torch.optim.Optimizer]:
        """Its ``torch.optim`` twin, waiting for the parameters: class ``torch_name``, keyword
        arguments ``hyper()`` (``factory.keywords`` shows them). Same steps for a constant η."""
        import torch

        if self.torch_name is None:
            raise TypeError(f"optimizer must have a torch.optim twin (gradient descent, "
                            f"momentum, Adagrad, RMSprop, Adadelta, Adam); "
                            f"got {type(self).__name__}")
        return partial(getattr(torch.optim, self.torch_name), **self.hyper())

    def to_torch(self, params: Any) -> torch.optim.Optimizer:
        """The ``torch.optim`` optimiser that takes the same steps on ``params`` (tensors)."""
        return self.torch_twin()(params)

    def _check(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray]
               ) -> list[tuple[np.ndarray, np.ndarray]]:
        """(θ, g) pairs, g as an array of θ's dtype; a clear error for anything else."""
        if isinstance(params, np.ndarray) or isinstance(grads, np.ndarray):
            raise TypeError("params and grads must be lists of arrays, e.g. step([w], [g]), "
                            "not bare arrays")
        if len(params) != len(grads):
            raise ValueError(f"params and grads must have the same length, "
                             f"got {len(params)} params and {len(grads)} grads")
        pairs = []
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
                raise TypeError(f"params[{i}] must be a float numpy array, "
                                f"got {type(p).__name__} of dtype {getattr(p, 'dtype', None)}")
            g = np.asarray(g, dtype=p.dtype)
            if g.shape != p.shape:
                raise ValueError(f"grads[{i}] must have the shape of params[{i}] {p.shape}, "
                                 f"got {g.shape}")
            old = next(iter(self.state.get(i, {}).values()), None)
            if old is not None and np.shape(old) != p.shape:
                raise ValueError(f"params[{i}] changed shape from {np.shape(old)} to {p.shape}; "
                                 "call reset() before optimising new parameters")
            pairs.append((p, g))
        return pairs

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={_short(v)}" for k, v in self.hyper().items())
        return f"{type(self).__name__}({args})"


# ---------------------------------------------------------------------------------------------
# first-order methods
# ---------------------------------------------------------------------------------------------
class GradientDescent(Optimizer):
    """Slide "Gradient descent": θ_{k+1} = θ_k − η_k g_k (``torch.optim.SGD``)."""

    torch_name = "SGD"

    def update(self, i: int, theta: np.ndarray, g: np.ndarray) -> np.ndarray:
        return theta - self.lr * g


class Momentum(Optimizer):
    """Slide "Momentum method (Polyak, 1964)": m_{k+1} = α m_k − η_k g_k, θ_{k+1} = θ_k + m_{k+1}.

    ``nesterov=True``: the look-ahead form θ_{k+1} = θ_k + α m_{k+1} − η_k g_k (Sutskever et
    al., 2013), with the gradient taken at θ_k.

    The twin ``torch.optim.SGD(lr=η, momentum=α)`` keeps b_{k+1} = α b_k + g_k and steps
    θ − η b_{k+1} (Nesterov: θ − η (g_k + α b_{k+1})): for a constant η the same iteration with
    m = −η b. They differ only when η changes: torch rescales the whole velocity by the new η,
    the slide applies the new η to the new gradient only.
    """

    torch_name = "SGD"

    def __init__(self, lr: float, momentum: float = 0.9, nesterov: bool = False) -> None:
        super().__init__(lr)
        self.momentum = _rate("momentum", momentum, unit_interval)
        self.nesterov = bool(nesterov)

    def update(self, i: int, theta: np.ndarray, g: np.ndarray) -> np.ndarray:
        alpha, eta = self.momentum, self.lr
        [m] = self.saved(i, theta, "m")
        m = alpha * m - eta * g
        self.state[i] = {"m": m}
        if self.nesterov:
            return theta + alpha * m - eta * g
        return theta + m

    def hyper(self) -> dict[str, Any]:
        return {"lr": self.lr, "momentum": self.momentum, "nesterov": self.nesterov}


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011): s ← s + g², θ ← θ − η g / (√s + ε)."""

    torch_name = "Adagrad"

    def __init__(self, lr: float = 0.01, eps: float = 1e-10) -> None:
        super().__init__(lr)
        self.eps = positive("eps", eps)

    def update(self, i: int, theta: np.ndarray, g: np.ndarray) -> np.ndarray:
        [s] = self.saved(i, theta, "s")
        s = s + g**2
        self.state[i] = {"s": s}
        return theta - self.lr * g / (np.sqrt(s) + self.eps)

    def hyper(self) -> dict[str, Any]:
        return {"lr": self.lr, "eps": self.eps}


class RMSprop(Optimizer):
    """RMSprop (Tieleman & Hinton, 2012): v ← αv + (1 − α)g², θ ← θ − η g / (√v + ε)."""

    torch_name = "RMSprop"

    def __init__(self, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.alpha = unit_interval("alpha", alpha)
        self.eps = positive("eps", eps)

    def update(self, i: int, theta: np.ndarray, g: np.ndarray) -> np.ndarray:
        [v] = self.saved(i, theta, "v")
        v = self.alpha * v + (1 - self.alpha) * g**2
        self.state[i] = {"v": v}
        return theta - self.lr * g / (np.sqrt(v) + self.eps)

    def hyper(self) -> dict[str, Any]:
        return {"lr": self.lr, "alpha": self.alpha, "eps": self.eps}


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012): v ← ρv + (1 − ρ)g²;  Δ = √(u + ε) / √(v + ε) · g;
    u ← ρu + (1 − ρ)Δ²;  θ ← θ − η Δ."""

    torch_name = "Adadelta"

    def __init__(self, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6) -> None:
        super().__init__(lr)
        self.rho = unit_interval("rho", rho)
        self.eps = positive("eps", eps)

    def update(self, i: int, theta: np.ndarray, g: np.ndarray) -> np.ndarray:
        rho, eps = self.rho, self.eps
        v, u = self.saved(i, theta, "v", "u")
        v = rho * v + (1 - rho) * g**2
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta**2
        self.state[i] = {"v": v, "u": u}
        return theta - self.lr * delta

    def hyper(self) -> dict[str, Any]:
        return {"lr": self.lr, "rho": self.rho, "eps": self.eps}


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015, Algorithm 1), t = 1 at the first step:

    m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;  m̂ = m / (1 − β₁ᵗ);  v̂ = v / (1 − β₂ᵗ);
    θ ← θ − η m̂ / (√v̂ + ε).
    """

    torch_name = "Adam"

    def __init__(self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        super().__init__(lr)
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (unit_interval("betas[0]", betas[0]), unit_interval("betas[1]", betas[1]))
        self.eps = positive("eps", eps)

    def update(self, i: int, theta: np.ndarray, g: np.ndarray) -> np.ndarray:
        (beta1, beta2), t = self.betas, self.t
        m, v = self.saved(i, theta, "m", "v")
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        self.state[i] = {"m": m, "v": v}
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        return theta - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

    def hyper(self) -> dict[str, Any]:
        return {"lr": self.lr, "betas": self.betas, "eps": self.eps}


# ---------------------------------------------------------------------------------------------
# second-order methods: one flat parameter vector and its Hessian
# ---------------------------------------------------------------------------------------------
class Newton(Optimizer):
    """Slide "Newton's method, too complex": θ_{k+1} = θ_k − η M⁻¹ g_k with M = H_k.

    ``lr`` = η = 1 is the plain Newton step. Needs one flat parameter vector and its n×n
    Hessian: ``step([w], [g], hessian=H)``. The solve costs O(n³) (#params³ on the slide).
    The damped and saddle-free variants only change the matrix M (``curvature``).
    """

    needs_hessian: ClassVar[bool] = True

    def __init__(self, lr: float = 1.0) -> None:
        super().__init__(lr)

    def step(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray],
             hessian: np.ndarray | None = None) -> list[np.ndarray]:
        """``[θ − η M(H)⁻¹ g]`` for ``params == [θ]`` (θ of shape (n,)); θ stays as it is."""
        pairs = self._check(params, grads)
        if len(pairs) != 1 or pairs[0][0].ndim != 1:
            shapes = [p.shape for p, _ in pairs]
            raise ValueError(f"{type(self).__name__} needs params to be one flat vector [w] with "
                             f"w.shape == (n,), got shapes {shapes}")
        [(theta, g)] = pairs
        n = len(theta)
        if hessian is None:
            raise ValueError(f"{type(self).__name__}.step needs hessian= (an ({n}, {n}) array)")
        H = np.asarray(hessian, dtype=np.float64)
        if H.shape != (n, n):
            raise ValueError(f"hessian must have shape ({n}, {n}), got {H.shape}")
        try:
            direction = np.linalg.solve(self.curvature(H), g)     # M⁻¹ g, without forming M⁻¹
        except np.linalg.LinAlgError:
            raise np.linalg.LinAlgError(
                f"{type(self).__name__}: the curvature matrix is singular at this point; "
                "use DampedNewton or SaddleFreeNewton with damping > 0") from None
        self.t += 1
        return [theta - (self.lr * direction).astype(theta.dtype)]

    def curvature(self, H: np.ndarray) -> np.ndarray:
        """The matrix M the gradient is divided by: H for plain Newton."""
        return H


class DampedNewton(Newton):
    """Damped (Levenberg–Marquardt) Newton: θ ← θ − η (H + δI)⁻¹ g with damping δ ≥ 0.

    Large δ turns it into gradient descent with step η/δ; it still heads for a saddle when
    H + δI has negative eigenvalues.
    """

    def __init__(self, damping: float, lr: float = 1.0) -> None:
        super().__init__(lr)
        self.damping = positive("damping", damping, allow_zero=True)

    def curvature(self, H: np.ndarray) -> np.ndarray:
        return H + self.damping * np.eye(len(H))

    def hyper(self) -> dict[str, Any]:
        return {"damping": self.damping, "lr": self.lr}


class SaddleFreeNewton(DampedNewton):
    """Saddle-free Newton (Dauphin et al., 2014): θ ← θ − η (|H| + δI)⁻¹ g (damping δ ≥ 0).

    |H| = V |Λ| Vᵀ flips the sign of negative-curvature directions, so the step always goes
    downhill and is repelled by saddles instead of attracted.
    """

    def curvature(self, H: np.ndarray) -> np.ndarray:
        lam, V = np.linalg.eigh((H + H.T) / 2)     # H = V Λ Vᵀ (symmetric up to rounding)
        return V @ np.diag(np.abs(lam) + self.damping) @ V.T


# ---------------------------------------------------------------------------------------------
# the one registry
# ---------------------------------------------------------------------------------------------
class Registered(NamedTuple):
    """An optimiser of the lecture: the name menus, legends and tables show, and its maker."""

    name: str
    make: Callable[..., Optimizer]


#: key -> (name shown, constructor). The first-order ones have a torch twin (``to_torch``).
OPTIMIZERS: dict[str, Registered] = {
    "gd": Registered("gradient descent", GradientDescent),
    "momentum": Registered("momentum", Momentum),
    "nesterov": Registered("Nesterov momentum", partial(Momentum, nesterov=True)),
    "adagrad": Registered("Adagrad", Adagrad),
    "rmsprop": Registered("RMSprop", RMSprop),
    "adadelta": Registered("Adadelta", Adadelta),
    "adam": Registered("Adam", Adam),
    "newton": Registered("Newton", Newton),
    "damped_newton": Registered("damped Newton", DampedNewton),
    "saddle_free_newton": Registered("saddle-free Newton", SaddleFreeNewton),
}


def make_optimizer(name: str, **kwargs: Any) -> Optimizer:
    """Build an optimiser by key of :data:`OPTIMIZERS`: ``make_optimizer("adam", lr=0.1)``."""
    if name not in OPTIMIZERS:
        raise ValueError(f"name must be one of {sorted(OPTIMIZERS)}, got {name!r}")
    return OPTIMIZERS[name].make(**kwargs)
