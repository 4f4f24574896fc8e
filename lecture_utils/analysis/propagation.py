"""Forward activations and back-propagated gradients, layer by layer, in a deep net (notebook 07).

Slides "Exponential growth/decay forward" and "... backward": given the ReLU indicators the
network is linear, y = Σ 1(h⁽²⁾>0) 1(h⁽¹⁾>0) W⁽³⁾W⁽²⁾W⁽¹⁾x, so signals are multiplied by
roughly the same factor in every layer. Network (``deep_mlp``): z_l = W_l h_{l−1} + b_l,
h_l = φ(z_l) for the hidden layers l = 1..L, logits z_{L+1} = W_{L+1} h_L, cross-entropy C.

Mean-field prediction for ReLU, zero biases, W_l,ij iid with mean 0 and variance σ_l²
(large width; the ReLU pattern treated as independent of the weights above it):

- forward:  E[z_1²] = σ_1²·Σ_j E[x_j²];  E[z_l²] = σ_l²·fan_in_l·E[h_{l−1}²] and
  E[h²] = E[z²]/2 (z symmetric), so E[z_l²] = (σ_l²·fan_in_l / 2)·E[z_{l−1}²];
  std(h_l) = √(E[z_l²]·(1/2 − 1/(2π))) since E[relu(z)] = σ/√(2π) for z ~ N(0, σ²).
- backward: δ_l = ∂C/∂z_l = (W_{l+1}ᵀ δ_{l+1}) ⊙ 1(z_l > 0), so
  E[δ_l²] = (σ_{l+1}²·fan_out_{l+1} / 2)·E[δ_{l+1}²].

Each layer multiplies the MEAN SQUARE by σ²·fan/2 (the std by its square root): flat for
He's σ² = 2/fan_in (square layers), exponential growth or decay otherwise.

The networks are torch's (``deep_mlp``); :class:`HeGainSweep`, :class:`Profile` and the
factors are numpy, and the module imports without torch (the browser edition's slider).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from lecture_utils._checks import integer, positive
from lecture_utils.network.functions import ActivationName, softmax
from lecture_utils.network.functions import activation as lookup

if TYPE_CHECKING:  # torch is imported by the functions that take or build a torch network
    import torch
    from torch import nn

__all__ = [
    "HeGainSweep",
    "Profile",
    "Signals",
    "deep_mlp",
    "fitted_factor",
    "layer_factor",
    "profile",
    "propagate",
    "relu_backward_prediction",
    "relu_forward_prediction",
]

#: Var(relu(z)) / E[z²] for z ~ N(0, σ²): E[relu(z)²] − E[relu(z)]² = σ²/2 − σ²/(2π).
RELU_VAR_FRACTION = 0.5 - 1.0 / (2.0 * math.pi)


def deep_mlp(n_in: int, width: int, depth: int, n_out: int, *,
             activation: ActivationName = "relu",
             dtype: torch.dtype | None = None) -> nn.Sequential:
    """``depth`` hidden layers of ``width`` units: Linear, φ, ..., Linear, φ, Linear (logits).

    Weights keep torch's default initialisation; re-draw them with ``initialisers.initialise``.
    ``dtype``: the parameters' torch dtype, None for float64.
    """
    import torch
    from torch import nn

    sizes = {"n_in": n_in, "width": width, "depth": depth, "n_out": n_out}
    n_in, width, depth, n_out = (integer(name, value, minimum=1) for name, value in sizes.items())
    module = getattr(nn, lookup(activation).torch_module)
    layers: list[nn.Module] = []
    for fan_in in [n_in] + [width] * (depth - 1):
        layers += [nn.Linear(fan_in, width), module()]
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers).to(torch.float64 if dtype is None else dtype)


def _linear_layers(model: nn.Sequential) -> list[nn.Linear]:
    """The Linear layers of a Linear, φ, Linear, φ, ..., Linear stack (checked)."""
    from torch import nn

    if not isinstance(model, nn.Sequential) or len(model) % 2 != 1:
        raise ValueError("model must be an nn.Sequential of Linear, activation, ..., Linear "
                         "(as built by deep_mlp)")
    linears = list(model[::2])
    if not all(isinstance(m, nn.Linear) for m in linears):
        raise ValueError("model must alternate nn.Linear and activation modules, starting and "
                         "ending with nn.Linear")
    return linears


@dataclass(frozen=True)
class Signals:
    """Per-layer tensors of one forward/backward pass (hidden layers l = 1..L).

    ``post[l−1]`` = h_l (after φ), ``pre[l−1]`` = z_l, ``delta[l−1]`` = ∂C/∂z_l, and
    ``weight_grad[l−1]`` = ∂C/∂W_l; the output layer's z_{L+1}, δ_{L+1} are ``logits`` and
    ``delta_out``. C is the mean cross-entropy over the batch.
    """

    pre: list[torch.Tensor]
    post: list[torch.Tensor]
    delta: list[torch.Tensor]
    weight_grad: list[torch.Tensor]
    logits: torch.Tensor
    delta_out: torch.Tensor
    loss: float

    @property
    def forward_std(self) -> np.ndarray:
        """std(h_l) over the batch and the units, l = 1..L."""
        return np.array([float(h.std()) for h in self.post])

    @property
    def backward_rms(self) -> np.ndarray:
        """Root mean square of the back-propagated gradient δ_l = ∂C/∂z_l, l = 1..L."""
        return np.array([float(d.square().mean().sqrt()) for d in self.delta])

    @property
    def weight_grad_norm(self) -> np.ndarray:
        """Frobenius norm ‖∂C/∂W_l‖, l = 1..L."""
        return np.array([float(g.norm()) for g in self.weight_grad])


def propagate(model: nn.Sequential, x: np.ndarray | torch.Tensor,
              y: np.ndarray | torch.Tensor) -> Signals:
    """Run ``model`` on (x, y), back-propagate the mean cross-entropy, keep every layer.

    The parameters' ``.grad`` are overwritten (they hold ∂C/∂θ afterwards).
    """
    import torch
    from torch import nn

    linears = _linear_layers(model)
    param = linears[0].weight
    h = torch.as_tensor(x, dtype=param.dtype)
    target = torch.as_tensor(y, dtype=torch.long)
    if h.ndim != 2 or h.shape[1] != linears[0].in_features:
        raise ValueError(f"x must have shape (batch, {linears[0].in_features}), got "
                         f"{tuple(h.shape)}")
    pre, post = [], []
    for i, module in enumerate(model):
        h = module(h)
        if isinstance(module, nn.Linear) and i < len(model) - 1:
            h.retain_grad()
            pre.append(h)
        elif not isinstance(module, nn.Linear):
            post.append(h)
    h.retain_grad()
    model.zero_grad(set_to_none=True)
    loss = nn.functional.cross_entropy(h, target)
    loss.backward()
    return Signals(pre=[z.detach() for z in pre], post=[a.detach() for a in post],
                   delta=[z.grad for z in pre],
                   weight_grad=[m.weight.grad.detach().clone() for m in linears[:-1]],
                   logits=h.detach(), delta_out=h.grad, loss=float(loss.detach()))


def layer_factor(weight_variance: float, fan: int) -> float:
    """Per-layer factor of the mean square in a ReLU net: σ²·fan/2 (fan_in fwd, fan_out bwd)."""
    variance = positive("weight_variance", weight_variance)
    return variance * integer("fan", fan, minimum=1) / 2.0


def _mean_square(layer: nn.Linear) -> float:
    """σ² estimated by the mean of W_ij² of this layer's weights."""
    return float(layer.weight.detach().double().square().mean())


def relu_forward_prediction(model: nn.Sequential, x: np.ndarray | torch.Tensor) -> np.ndarray:
    """Predicted std(h_l), l = 1..L, from the weights' mean square σ_l² and the input x.

    E[z_1²] = σ_1²·mean_n ‖x_n‖²; E[z_l²] = layer_factor(σ_l², fan_in_l)·E[z_{l−1}²];
    std(h_l) = √(E[z_l²]·(1/2 − 1/(2π))). Zero biases assumed.
    """
    import torch

    linears = _linear_layers(model)[:-1]
    x = torch.as_tensor(x, dtype=torch.float64)
    ms = _mean_square(linears[0]) * float(x.square().sum(1).mean())
    out = [ms]
    for layer in linears[1:]:
        ms *= layer_factor(_mean_square(layer), layer.in_features)
        out.append(ms)
    return np.sqrt(np.array(out) * RELU_VAR_FRACTION)


def relu_backward_prediction(model: nn.Sequential, delta_out_rms: float) -> np.ndarray:
    """Predicted rms(δ_l), l = 1..L, from rms(δ_{L+1}) at the logits, going down.

    E[δ_l²] = layer_factor(σ_{l+1}², fan_out_{l+1})·E[δ_{l+1}²]. Zero biases assumed.
    """
    linears = _linear_layers(model)
    ms = float(delta_out_rms) ** 2
    out = []
    for layer in reversed(linears[1:]):
        ms *= layer_factor(_mean_square(layer), layer.out_features)
        out.append(ms)
    return np.sqrt(np.array(out[::-1]))


@dataclass(frozen=True)
class Profile:
    """Measured and predicted per-layer signal sizes of one network (hidden layers l = 1..L).

    ``weight_grad_norm`` is None where it was not computed (:class:`HeGainSweep`).
    """

    forward_std: np.ndarray
    forward_predicted: np.ndarray
    backward_rms: np.ndarray
    backward_predicted: np.ndarray
    weight_grad_norm: np.ndarray | None = None


def profile(model: nn.Sequential, x: np.ndarray | torch.Tensor,
            y: np.ndarray | torch.Tensor) -> Profile:
    """:func:`propagate` the batch and pair the measurements with the ReLU predictions."""
    s = propagate(model, x, y)
    top = float(s.delta_out.square().mean().sqrt())
    return Profile(forward_std=s.forward_std,
                   forward_predicted=relu_forward_prediction(model, x),
                   backward_rms=s.backward_rms,
                   backward_predicted=relu_backward_prediction(model, top),
                   weight_grad_norm=s.weight_grad_norm)


def fitted_factor(values: np.ndarray) -> float:
    """Per-layer factor r of a geometric profile v_l ≈ v_1·r^(l−1): 10^(slope of log10 v_l)."""
    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or v.size < 2 or not np.all(v > 0):
        raise ValueError(f"values must be a 1-D array of >= 2 positive numbers, got {v!r}")
    slope = np.polyfit(np.arange(v.size), np.log10(v), 1)[0]
    return float(10.0**slope)


class HeGainSweep:
    """:func:`profile` of a He-normal ReLU net for any depth ≤ ``max_depth`` and gain g, fast.

    ``sweep.profile(d, g)`` equals ``profile(net, x, y)`` for ``net = deep_mlp(n_in, width, d,
    n_out)`` initialised by ``initialisers.initialise(net, "he_normal",
    rng=numpy.random.default_rng(seed), gain=g)`` (without ``weight_grad_norm``): the draws are one
    stream of standard normals, layer after layer, so W_l = g·U_l for fixed unit draws U_l and
    the output layer of depth d takes the normals right after hidden layer d. ReLU is positively
    homogeneous, h_l = g^l·h_l(g = 1), so the forward pass runs once, here; each call runs only
    the backward pass δ_l = g·(δ_{l+1} U_{l+1}) ⊙ 1(z_l > 0) from the logits g^{d+1}·h_d(1) U_outᵀ.
    The slider of notebook 07 calls it on every move.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, *, width: int, max_depth: int = 50,
                 n_out: int | None = None, seed: int = 0) -> None:
        x = np.asarray(x, dtype=np.float64)
        self.y = np.asarray(y, dtype=np.int64)
        if x.ndim != 2 or self.y.shape != (x.shape[0],):
            raise ValueError(f"x must have shape (n, n_in) and y shape (n,), got {x.shape} and "
                             f"{self.y.shape}")
        self.width = integer("width", width, minimum=1)
        self.max_depth = integer("max_depth", max_depth, minimum=1)
        self.n_out = int(self.y.max()) + 1 if n_out is None else integer("n_out", n_out, minimum=1)
        n_in, w = x.shape[1], self.width
        z = np.random.default_rng(seed).standard_normal(
            n_in * w + (self.max_depth - 1) * w * w + self.n_out * w)
        self._z = z
        self._offsets = [0, n_in * w] + [n_in * w + k * w * w for k in range(1, self.max_depth)]
        self.unit = [z[:n_in * w].reshape(w, n_in) / math.sqrt(n_in)] + [
            z[a:a + w * w].reshape(w, w) / math.sqrt(w) for a in self._offsets[1:-1]]
        h, self.hidden = x, []
        for U in self.unit:                          # h_l(g = 1), l = 1..max_depth
            h = np.maximum(h @ U.T, 0.0)
            self.hidden.append(h)
        self._masks = [(h > 0).astype(np.float64) for h in self.hidden]  # 1(z_l > 0), any g
        self._std = np.array([h.std(ddof=1) for h in self.hidden])  # as torch's .std()
        ms = float(np.mean(self.unit[0] ** 2)) * float(np.mean(np.sum(x**2, axis=1)))
        ms_z = [ms] + [ms := ms * layer_factor(float(np.mean(U**2)), w) for U in self.unit[1:]]
        self._predicted = np.sqrt(np.array(ms_z) * RELU_VAR_FRACTION)

    def output_unit(self, depth: int) -> np.ndarray:
        """U_out of the net of ``depth`` hidden layers: the n_out·width normals after layer d."""
        a = self._offsets[integer("depth", depth, minimum=1, maximum=self.max_depth)]
        return self._z[a:a + self.n_out * self.width].reshape(self.n_out, self.width) / math.sqrt(
            self.width)

    def profile(self, depth: int, gain: float) -> Profile:
        """Measured and predicted profiles (as :func:`profile`) of depth ``depth``, He gain g."""
        d, g = integer("depth", depth, minimum=1, maximum=self.max_depth), positive("gain", gain)
        powers = g ** np.arange(1, d + 1)
        out = self.output_unit(d)
        delta = softmax(g ** (d + 1) * (self.hidden[d - 1] @ out.T))
        delta[np.arange(len(self.y)), self.y] -= 1.0
        delta /= len(self.y)                         # δ_{d+1} = ∂C/∂logits
        ms = float(np.mean(delta**2))
        grad = g * (delta @ out)                     # ∂C/∂h_d
        rms, ms_pred = [], []
        for layer in range(d, 0, -1):                # δ_l = ∂C/∂h_l ⊙ 1(z_l > 0), l = d..1
            delta = grad * self._masks[layer - 1]
            rms.append(math.sqrt(float(np.mean(delta**2))))
            above = out if layer == d else self.unit[layer]
            ms *= layer_factor(g**2 * float(np.mean(above**2)), above.shape[0])
            ms_pred.append(ms)
            if layer > 1:
                grad = g * (delta @ self.unit[layer - 1])
        return Profile(forward_std=self._std[:d] * powers,
                       forward_predicted=self._predicted[:d] * powers,
                       backward_rms=np.array(rms[::-1]),
                       backward_predicted=np.sqrt(np.array(ms_pred[::-1])))
