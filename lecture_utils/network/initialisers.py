"""Weight initialisers with the variance each one is built to have (notebook 07).

Slides "Exponential growth/decay forward/backward" end with "⇒ Scale of initialization
important". A layer z = W h with W of shape (fan_out, fan_in) (torch's ``nn.Linear`` layout)
and W_ij independent with mean 0 and variance σ² gives, for independent inputs,

    Var(z_i) = fan_in · σ² · E[h_j²]          (forward)
    Var(∂C/∂h_j) = fan_out · σ² · E[δ_i²]      (backward, δ = ∂C/∂z)

so σ² decides whether signals grow or shrink from layer to layer:

- ``normal``: N(0, std²), Var = std² (a fixed scale, whatever the width);
- ``standard``: U(−1/√fan_in, 1/√fan_in), Var = 1/(3·fan_in) (Glorot & Bengio's eq. 1, and
  torch's default for ``nn.Linear``);
- ``glorot_uniform``: U(−a, a) with a = g·√(6/(fan_in + fan_out)), Var = g²·2/(fan_in + fan_out);
- ``glorot_normal``: N(0, g²·2/(fan_in + fan_out));
- ``he_uniform``: U(−a, a) with a = g·√(3/fan_in), Var = g²/fan_in, g = √2 by default;
- ``he_normal``: N(0, g²/fan_in), g = √2 by default.

Glorot & Bengio (2010) keep a linear (or tanh near 0) network's forward AND backward
variances flat by the compromise σ² = 2/(fan_in + fan_out); He et al. (2015) add the factor 2
that ReLU's halving E[relu(z)²] = Var(z)/2 needs: σ² = 2/fan_in. ``gain`` g follows
``torch.nn.init`` (``calculate_gain``: 1 for linear/tanh-ish, √2 for ReLU).
Every initialiser returns a float64 array of shape (fan_out, fan_in) drawn from ``rng``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from lecture_utils._checks import integer, positive

if TYPE_CHECKING:  # torch is imported by initialise() only: mlp and paths draw without it
    from torch import nn

__all__ = [
    "INITIALISERS",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "initialise",
    "normal",
    "standard",
    "weight_variance",
]


def weight_variance(scheme: str, fan_in: int, fan_out: int, *, gain: float | None = None,
                    std: float | None = None) -> float:
    """Var(W_ij) of initialiser ``scheme`` (a key of :data:`INITIALISERS`); see the module table.

    ``std`` is needed for ``"normal"`` only; ``gain`` (default 1 for Glorot, √2 for He) for the
    Glorot and He schemes only.
    """
    fan_in = integer("fan_in", fan_in, minimum=1)
    fan_out = integer("fan_out", fan_out, minimum=1)
    if scheme not in INITIALISERS:
        raise ValueError(f"scheme must be one of {sorted(INITIALISERS)}, got {scheme!r}")
    if (std is not None) != (scheme == "normal"):
        raise ValueError(f"std must be given for scheme 'normal' and only for it, got "
                         f"scheme={scheme!r}, std={std!r}")
    if gain is not None and not scheme.startswith(("glorot", "he")):
        raise ValueError(f"gain applies to the Glorot and He schemes, not {scheme!r}")
    if scheme == "normal":
        return positive("std", std) ** 2
    if scheme == "standard":
        return 1.0 / (3.0 * fan_in)
    if scheme.startswith("glorot"):
        return positive("gain", 1.0 if gain is None else gain) ** 2 * 2.0 / (fan_in + fan_out)
    return 2.0 / fan_in if gain is None else positive("gain", gain) ** 2 / fan_in


def _uniform(variance: float, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    a = math.sqrt(3.0 * variance)  # Var U(−a, a) = a²/3
    return rng.uniform(-a, a, size=shape)


def normal(fan_in: int, fan_out: int, *, std: float, rng: np.random.Generator) -> np.ndarray:
    """W_ij ~ N(0, std²), a fixed scale whatever the width (per ReLU layer: × std²·fan_in/2)."""
    var = weight_variance("normal", fan_in, fan_out, std=std)
    return rng.normal(0.0, math.sqrt(var), size=(fan_out, fan_in))


def standard(fan_in: int, fan_out: int, *, rng: np.random.Generator) -> np.ndarray:
    """Glorot & Bengio's "standard" W_ij ~ U(−1/√fan_in, 1/√fan_in), Var = 1/(3·fan_in)."""
    return _uniform(weight_variance("standard", fan_in, fan_out), (fan_out, fan_in), rng)


def glorot_uniform(fan_in: int, fan_out: int, *, rng: np.random.Generator,
                   gain: float = 1.0) -> np.ndarray:
    """Glorot/Xavier: W_ij ~ U(−a, a), a = gain·√(6/(fan_in + fan_out)).

    Var(W_ij) = a²/3 = gain²·2/(fan_in + fan_out).
    """
    var = weight_variance("glorot_uniform", fan_in, fan_out, gain=gain)
    return _uniform(var, (fan_out, fan_in), rng)


def glorot_normal(fan_in: int, fan_out: int, *, rng: np.random.Generator,
                  gain: float = 1.0) -> np.ndarray:
    """Glorot/Xavier normal: W_ij ~ N(0, gain²·2/(fan_in + fan_out))."""
    var = weight_variance("glorot_normal", fan_in, fan_out, gain=gain)
    return rng.normal(0.0, math.sqrt(var), size=(fan_out, fan_in))


def he_uniform(fan_in: int, fan_out: int, *, rng: np.random.Generator,
               gain: float | None = None) -> np.ndarray:
    """He/Kaiming uniform: W_ij ~ U(−a, a), a = gain·√(3/fan_in), Var = gain²/fan_in (gain √2)."""
    var = weight_variance("he_uniform", fan_in, fan_out, gain=gain)
    return _uniform(var, (fan_out, fan_in), rng)


def he_normal(fan_in: int, fan_out: int, *, rng: np.random.Generator,
              gain: float | None = None) -> np.ndarray:
    """He/Kaiming normal: W_ij ~ N(0, gain²/fan_in); the default gain √2 (σ² = 2/fan_in exactly)
    keeps a ReLU net's variance flat. The one He draw of the package (``mlp``, ``paths``)."""
    var = weight_variance("he_normal", fan_in, fan_out, gain=gain)
    return rng.normal(0.0, math.sqrt(var), size=(fan_out, fan_in))


#: The initialisers by name; each is called as ``f(fan_in, fan_out, rng=rng, **kwargs)``.
INITIALISERS: dict[str, Callable[..., np.ndarray]] = {
    "normal": normal,
    "standard": standard,
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
}


def initialise(model: nn.Module, scheme: str, *, rng: np.random.Generator,
               **kwargs: float) -> nn.Module:
    """Re-draw every ``nn.Linear`` weight of ``model`` from ``scheme`` and zero the biases.

    ``kwargs`` go to the initialiser (``std=`` for ``"normal"``, ``gain=`` for Glorot/He).
    Layers are drawn in ``model.modules()`` order from ``rng``; returns ``model``.
    """
    import torch
    from torch import nn

    if scheme not in INITIALISERS:
        raise ValueError(f"scheme must be one of {sorted(INITIALISERS)}, got {scheme!r}")
    init = INITIALISERS[scheme]
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not layers:
        raise ValueError("model must contain at least one torch.nn.Linear layer")
    with torch.no_grad():
        for layer in layers:
            w = init(layer.in_features, layer.out_features, rng=rng, **kwargs)
            layer.weight.copy_(torch.from_numpy(w))
            if layer.bias is not None:
                layer.bias.zero_()
    return model
