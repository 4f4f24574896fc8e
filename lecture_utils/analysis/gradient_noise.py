"""How noisy is a mini-batch gradient? (slide "Mini-batch training", notebook 05).

With per-example gradients g_i of the cross-entropy, the full-batch gradient is
g = (1/N) Σ_i g_i and a mini-batch of B examples drawn without replacement gives
g_B = (1/B) Σ_{i∈batch} g_i. Its mean squared distance from g is

    E ||g_B − g||² = (σ² / B) · (N − B) / (N − 1),   σ² = (1/N) Σ_i ||g_i − g||²,

the 1/B law of a sample mean times the finite-population correction (N − B)/(N − 1), which
makes the noise vanish at B = N. This module measures the left side by drawing batches and
computes σ² exactly from per-example gradient norms (Goodfellow, 2015), on the torch twin of
the network; the prediction and :class:`GradientNoise` are numpy (the module imports without
torch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch is imported by the functions that measure a torch network
    import torch
    from torch import nn


@dataclass(frozen=True)
class GradientNoise:
    """Measured E||g_B − g||² for each batch size, with the exact σ² and ||g||²."""

    batch_sizes: np.ndarray
    variance: np.ndarray  #: mean of ||g_B − g||² over the draws, per batch size
    stderr: np.ndarray  #: its standard error over the draws
    sigma2: float  #: σ² = (1/N) Σ ||g_i − g||², per-example gradient variance
    full_grad_norm2: float  #: ||g||², squared norm of the full-batch gradient
    n: int  #: population size N

    def predicted(self, batch_size: int | np.ndarray | None = None) -> np.ndarray:
        """σ²/B · (N − B)/(N − 1) at ``batch_size`` (default: the measured batch sizes)."""
        sizes = self.batch_sizes if batch_size is None else batch_size
        return predicted_variance(self.sigma2, sizes, self.n)

    @property
    def noise_scale(self) -> float:
        """B_noise = σ²/‖g‖²: the batch size at which σ²/B equals the signal ‖g‖²."""
        return self.sigma2 / self.full_grad_norm2

    @property
    def noise_to_signal(self) -> np.ndarray:
        """E||g_B − g||² / ||g||²: below 1, a mini-batch gradient points roughly the right way."""
        return self.variance / self.full_grad_norm2


def predicted_variance(sigma2: float, batch_size: int | np.ndarray, n: int) -> np.ndarray:
    """E||g_B − g||² = σ²/B · (N − B)/(N − 1) for batches drawn without replacement."""
    b = np.asarray(batch_size, dtype=float)
    if np.any(b < 1) or np.any(b > n):
        raise ValueError(f"batch_size must be in [1, n={n}], got {batch_size}")
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    return sigma2 / b * (n - b) / (n - 1)


def full_gradient(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                  chunk: int = 10_000) -> torch.Tensor:
    """g = ∇_θ (1/N) Σ_i CE(f(x_i), y_i), flattened over all parameters (float64)."""
    import torch
    from torch import nn

    total = None
    for start in range(0, len(x), chunk):
        loss = nn.functional.cross_entropy(model(x[start:start + chunk]), y[start:start + chunk],
                                           reduction="sum")
        g = _flat(torch.autograd.grad(loss, list(model.parameters())))
        total = g if total is None else total + g
    return total / len(x)


def per_example_sq_norms(model: nn.Sequential, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """||g_i||² for every example in one backward pass (float64).

    For a linear layer h = W a + b the per-example gradient is δ_i [a_iᵀ, 1] with
    δ_i = ∂C_i/∂h_i, so ||g_i||² = Σ_layers ||δ_i||² (||a_i||² + 1). Works for an
    ``nn.Sequential`` whose only parameterised layers are ``nn.Linear`` (the MLP's twin).
    """
    import torch
    from torch import nn

    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be an nn.Sequential, got {type(model).__name__}")
    inputs, outputs, biases = [], [], []
    h = x
    for layer in model:
        if isinstance(layer, nn.Linear):
            inputs.append(h.detach())
            biases.append(0.0 if layer.bias is None else 1.0)
            h = layer(h)
            outputs.append(h)
        elif any(True for _ in layer.parameters()):
            raise TypeError(f"model may hold parameters only in nn.Linear layers, "
                            f"got {type(layer).__name__}")
        else:
            h = layer(h)
    loss = nn.functional.cross_entropy(h, y, reduction="sum")
    deltas = torch.autograd.grad(loss, outputs)
    sq = torch.zeros(len(x), dtype=torch.float64)
    for a, delta, bias in zip(inputs, deltas, biases, strict=True):
        sq += delta.double().square().sum(1) * (a.double().square().sum(1) + bias)
    return sq


def gradient_variance(model: nn.Sequential, x: torch.Tensor, y: torch.Tensor,
                      chunk: int = 10_000) -> tuple[float, torch.Tensor]:
    """Exact σ² = (1/N) Σ ||g_i||² − ||g||² over the whole data set (x, y), and g itself."""
    g = full_gradient(model, x, y, chunk)
    sq_mean = sum(per_example_sq_norms(model, x[s:s + chunk], y[s:s + chunk]).sum().item()
                  for s in range(0, len(x), chunk)) / len(x)
    return sq_mean - g.square().sum().item(), g


def minibatch_gradient_noise(model: nn.Sequential, x: np.ndarray, y: np.ndarray,
                             batch_sizes: Sequence[int], *, n_draws: int = 10,
                             rng: np.random.Generator) -> GradientNoise:
    """Measure E||g_B − g||² at the current weights by drawing ``n_draws`` batches per size.

    Each batch is B distinct examples (``rng.choice`` without replacement), as one batch of a
    shuffled epoch is. Also returns the exact σ² and ||g||² to compare with
    :func:`predicted_variance`.
    """
    import torch

    n = len(x)
    sizes = np.asarray(batch_sizes, dtype=int)
    if sizes.ndim != 1 or len(sizes) == 0 or np.any(sizes < 1) or np.any(sizes > n):
        raise ValueError(f"batch_sizes must be a non-empty list of ints in [1, {n}], "
                         f"got {batch_sizes}")
    if n_draws < 2:
        raise ValueError(f"n_draws must be >= 2 (for a standard error), got {n_draws}")
    dtype = next(model.parameters()).dtype
    xt = torch.as_tensor(x).to(dtype).reshape(n, -1)
    yt = torch.as_tensor(y).long()
    sigma2, g = gradient_variance(model, xt, yt)
    variance, stderr = [], []
    for b in sizes:
        d2 = []
        for _ in range(n_draws):
            index = torch.from_numpy(rng.choice(n, size=int(b), replace=False))
            d2.append((full_gradient(model, xt[index], yt[index]) - g).square().sum().item())
        variance.append(np.mean(d2))
        stderr.append(np.std(d2, ddof=1) / np.sqrt(n_draws))
    return GradientNoise(sizes, np.array(variance), np.array(stderr), sigma2,
                         g.square().sum().item(), n)


def _flat(grads: Sequence[torch.Tensor]) -> torch.Tensor:
    import torch

    return torch.cat([g.reshape(-1).double() for g in grads])
