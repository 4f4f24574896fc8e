"""The lecture's network in plain numpy: forward pass, backward pass written by hand, torch twin.

The model of slide "Exponential growth/decay forward", for any list of layer sizes, one example
per row of a batch (the layout of ``torch.nn.Linear``, whose ``weight`` is ``W``)::

    h(l) = relu(h(l-1) W(l)ᵀ + b(l)),  h(0) = x,      W(l) of shape (n_l, n_{l-1}),
    z = h(L-1) W(L)ᵀ + b(L),           y = softmax(z).

The backward pass is the recursion of slide "Backpropagation - dynamic programming", one
function per line; notebook 04's exercises ask for exactly these functions::

    δ(L) = (softmax(z) − Y) / N                    output_delta(z, y)
    ∂C/∂W(l) = δ(l)ᵀ h(l-1)                         weight_grad(delta, h_prev)
    ∂C/∂b(l) = Σ_n δ(l)_n                            bias_grad(delta)
    δ(l-1) = (δ(l) W(l)) ⊙ 1(h(l-1) > 0)            relu_backward(delta, W, h_prev)

and :func:`backprop` runs them from the last layer to the first. ``MLP(sizes, backward=...)``
takes any function with the signature of :func:`backprop`, so the network can train on the
student's own backward pass.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from lecture_utils.network.functions import cross_entropy, one_hot, relu, softmax
from lecture_utils.network.initialisers import glorot_uniform, he_normal

if TYPE_CHECKING:
    import torch

__all__ = ["MLP", "backprop", "bias_grad", "output_delta", "relu_backward", "weight_grad"]

Init = Literal["he", "glorot"]
#: A backward pass: ``backward(weights, activations, y) -> [dW1, db1, ..., dWL, dbL]``.
Backward = Callable[[list[np.ndarray], list[np.ndarray], np.ndarray], list[np.ndarray]]
_FORMAT = 1  # version of the .npz layout written by MLP.save


# --------------------------------------------------------------------------- the backward pass
def output_delta(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """δ(L) = ∂C/∂z = (softmax(z) − Y)/N for logits z (N, K), labels y (N,), Y their one-hot rows.

    The fused softmax–cross-entropy gradient of the mean cost C = (1/N) Σ_n C_n
    (slides "Classification" and "Backpropagation - dynamic programming").
    """
    Y = one_hot(y, z.shape[1], dtype=z.dtype)
    return (softmax(z) - Y) / len(z)


def weight_grad(delta: np.ndarray, h_prev: np.ndarray) -> np.ndarray:
    """∂C/∂W(l)_ij = Σ_n δ(l)_ni h(l-1)_nj, i.e. δᵀ h(l-1), shape (n_l, n_{l-1}).

    Slide "Backpropagation - dynamic programming", summed over the batch.
    """
    return delta.T @ h_prev


def bias_grad(delta: np.ndarray) -> np.ndarray:
    """∂C/∂b(l)_i = Σ_n δ(l)_ni: the batch's deltas summed, shape (n_l,).

    Slide "Backpropagation - dynamic programming": ∂a(l)_ni/∂b(l)_i = 1 for every example n.
    """
    return delta.sum(axis=0)


def relu_backward(delta_next: np.ndarray, W_next: np.ndarray, h: np.ndarray) -> np.ndarray:
    """δ(l) = (δ(l+1) W(l+1)) ⊙ 1(h(l) > 0), shape (N, n_l) (slide "Backpropagation - dynamic
    programming": ∂C/∂h(l)_j = Σ_i δ(l+1)_i W(l+1)_ij, then through the ReLU; 1(a > 0) = 1(h > 0)).
    """
    dh = delta_next @ W_next
    return dh * (h > 0)


def backprop(weights: list[np.ndarray], activations: list[np.ndarray], y: np.ndarray
             ) -> list[np.ndarray]:
    """[∂C/∂W(1), ∂C/∂b(1), ..., ∂C/∂W(L), ∂C/∂b(L)] of one batch, by the recursion of slide
    "Backpropagation - dynamic programming", from the output layer down.

    ``weights`` = [W(1), ..., W(L)], ``activations`` = [x, h(1), ..., h(L-1), z] as the forward
    pass stored them, ``y`` the labels. In 0-based Python, ``weights[layer]`` is W(layer + 1)
    and ``activations[layer]`` is its input h(layer).
    """
    delta = output_delta(activations[-1], y)           # δ(L), the output layer's error
    grads: list[np.ndarray] = []
    for layer in reversed(range(len(weights))):         # weights[layer] is W(layer + 1)
        h_prev = activations[layer]                     # its input
        grads = [weight_grad(delta, h_prev), bias_grad(delta), *grads]
        if layer > 0:                                   # δ of the layer below, through its ReLU
            delta = relu_backward(delta, weights[layer], h_prev)
    return grads


# --------------------------------------------------------------------------- the network
def _check_sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    if isinstance(sizes, str | bytes) or not isinstance(sizes, Sequence):
        raise TypeError(f"sizes must be a sequence of ints such as [784, 256, 10], got {sizes!r}")
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least an input and an output size, got {list(sizes)}")
    for i, n in enumerate(sizes):
        if isinstance(n, bool) or not isinstance(n, int | np.integer):
            raise TypeError(f"sizes[{i}] must be an int, got {n!r}")
        if n < 1:
            raise ValueError(f"sizes[{i}] must be >= 1, got {n}")
    return tuple(int(n) for n in sizes)


class MLP:
    """Feed-forward ReLU network with a softmax output; backpropagation written by hand.

    ``sizes`` = [n_0, ..., n_L] (input, hidden layers, classes: [784, 256, 256, 10]); ``rng`` a
    ``numpy.random.Generator`` or seed; ``dtype`` float32 (default) or float64 (gradient checks);
    ``init`` "he" (W_ij ~ N(0, 2/n_{l-1}), He et al. 2015) or "glorot" (Glorot & Bengio 2010),
    biases 0; ``backward`` the backward pass, a function like :func:`backprop` (the default).

    ``weights`` = [W(1), ..., W(L)] and ``biases`` = [b(1), ..., b(L)] are plain arrays;
    ``params`` lists them as [W1, b1, W2, b2, ...]; a training step sets ``params`` to the new
    arrays an optimiser's ``step`` returns.
    """

    def __init__(self, sizes: Sequence[int], *, rng: np.random.Generator | int = 0,
                 dtype: DTypeLike = np.float32, init: Init = "he",
                 backward: Backward = backprop) -> None:
        self.sizes = _check_sizes(sizes)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        draw = {"he": he_normal, "glorot": glorot_uniform}.get(init)
        if draw is None:
            raise ValueError(f"init must be 'he' or 'glorot', got {init!r}")
        if not callable(backward):
            raise TypeError(f"backward must be a function like backprop(weights, activations, y),"
                            f" got {backward!r}")
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        pairs = list(itertools.pairwise(self.sizes))
        self.weights = [draw(n_in, n_out, rng=rng).astype(self.dtype) for n_in, n_out in pairs]
        self.biases = [np.zeros(n_out, dtype=self.dtype) for _, n_out in pairs]
        self.names = [f"{kind}{layer}" for layer in range(1, len(pairs) + 1) for kind in "Wb"]
        self.backward_pass = backward
        self.activations: list[np.ndarray] = []  # [x, h(1), ..., h(L-1), z] of the last forward

    @property
    def params(self) -> list[np.ndarray]:
        """[W1, b1, W2, b2, ...]: the model's own arrays, not copies."""
        return [p for pair in zip(self.weights, self.biases, strict=True) for p in pair]

    @params.setter
    def params(self, new: Sequence[ArrayLike]) -> None:
        """Make the arrays ``new`` ([W1, b1, ...], same shapes) the parameters: θ_{k+1} of an
        optimiser's step."""
        arrays = [np.asarray(p, dtype=self.dtype) for p in self._checked(new)]
        self.weights, self.biases = arrays[0::2], arrays[1::2]

    def _checked(self, params: Sequence[ArrayLike]) -> Sequence[ArrayLike]:
        """``params`` if it holds one array of the right shape per name, else a clear error."""
        if isinstance(params, np.ndarray) or len(params) != len(self.names):
            raise ValueError(f"params must be a list of {len(self.names)} arrays "
                             f"({', '.join(self.names)}), got {len(params)}")
        for name, W, q in zip(self.names, self.params, params, strict=True):
            if np.shape(q) != W.shape:
                raise ValueError(f"{name} must have shape {W.shape}, got {np.shape(q)}")
        return params

    @property
    def n_params(self) -> int:
        """Number of trainable numbers, Σ_l n_l (n_{l-1} + 1)."""
        return sum(p.size for p in self.params)

    def __repr__(self) -> str:
        return f"MLP(sizes={list(self.sizes)}, dtype={self.dtype.name}, n_params={self.n_params})"

    def _as_input(self, x: ArrayLike) -> np.ndarray:
        arr = np.asarray(x)
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"x must be a numeric array, got dtype {arr.dtype}")
        if arr.ndim != 2 or arr.shape[1] != self.sizes[0] or arr.shape[0] == 0:
            hint = " (flatten images with x.reshape(len(x), -1))" if arr.ndim > 2 else ""
            raise ValueError(f"x must have shape (N, {self.sizes[0]}) with N >= 1, "
                             f"got shape {arr.shape}{hint}")
        return arr.astype(self.dtype, copy=False)

    def forward(self, x: ArrayLike) -> np.ndarray:
        """Logits z for a batch x of shape (N, n_0): h(l) = relu(h(l-1) W(l)ᵀ + b(l)), then
        z = h(L-1) W(L)ᵀ + b(L) (slide "Exponential growth/decay forward").

        Keeps [x, h(1), ..., h(L-1), z] in ``activations`` for the backward pass (the "store
        intermediate results" of slide "Backpropagation - dynamic programming"); every forward
        makes new arrays, so a list kept from an earlier call stays as it was.
        """
        h = self._as_input(x)
        activations = [h]
        for W, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
            h = relu(h @ W.T + b)
            activations.append(h)
        z = h @ self.weights[-1].T + self.biases[-1]
        self.activations = [*activations, z]
        return z

    def backward(self, y: ArrayLike) -> list[np.ndarray]:
        """[dC/dW1, dC/db1, ...] of the mean cross-entropy of the last ``forward`` batch with
        labels ``y`` (N,), new arrays: ``self.backward_pass(weights, activations, y)``, the
        recursion of slide "Backpropagation - dynamic programming" (:func:`backprop`)."""
        if not self.activations:
            raise RuntimeError("call forward(x) before backward(y)")
        labels, (n, k) = np.asarray(y), self.activations[-1].shape
        if labels.shape != (n,):
            raise ValueError(f"y must have shape ({n},), one label per row of the last forward "
                             f"batch, got shape {labels.shape}")
        if labels.dtype.kind not in "iu":
            raise TypeError(f"y must hold integer class labels, got dtype {labels.dtype}")
        if labels.min() < 0 or labels.max() >= k:
            raise ValueError(f"y must hold labels in 0..{k - 1}, "
                             f"got {labels.min()}..{labels.max()}")
        return self.backward_pass(self.weights, self.activations, labels)

    def loss(self, x: ArrayLike, y: ArrayLike) -> float:
        """Mean cross-entropy C = −(1/N) Σ_n log softmax(z_n)_{y_n} on a batch (slide
        "Classification")."""
        return float(cross_entropy(self.forward(x), y))

    def loss_and_grads(self, x: ArrayLike, y: ArrayLike) -> tuple[float, list[np.ndarray]]:
        """(C, [dC/dW1, dC/db1, ...]) on the batch (x, y): forward, then backward."""
        loss = self.loss(x, y)
        return loss, self.backward(y)

    def autograd_loss_and_grads(self, x: ArrayLike, y: ArrayLike
                                ) -> tuple[float, list[np.ndarray]]:
        """The oracle of ``loss_and_grads``: the same numbers by torch autograd (``to_torch``
        with ``F.cross_entropy``, in the model's dtype), as numpy arrays in ``params`` order."""
        import torch

        net = self.to_torch()
        loss = torch.nn.functional.cross_entropy(net(torch.from_numpy(self._as_input(x))),
                                                 torch.from_numpy(np.asarray(y)).long())
        loss.backward()
        return loss.item(), [p.grad.numpy() for p in net.parameters()]

    def predict_proba(self, x: ArrayLike) -> np.ndarray:
        """Class probabilities softmax(z) of shape (N, K)."""
        return softmax(self.forward(x))

    def predict(self, x: ArrayLike) -> np.ndarray:
        """The most probable class argmax_k z_k of each row of x."""
        return self.forward(x).argmax(axis=1)

    def accuracy(self, x: ArrayLike, y: ArrayLike) -> float:
        """Fraction of rows of x whose predicted class equals the label y."""
        labels = np.asarray(y)
        if labels.shape != (len(x),):
            raise ValueError(f"y must hold one label per row of x, shape ({len(x)},), "
                             f"got shape {labels.shape}")
        return float(np.mean(self.predict(x) == labels))

    # ------------------------------------------------------------------ state, torch, files
    def load_state(self, params: Sequence[ArrayLike]) -> MLP:
        """Copy ``params`` ([W1, b1, ...], same shapes) into this model's arrays; returns it."""
        for p, q in zip(self.params, self._checked(params), strict=True):
            np.copyto(p, q, casting="same_kind")
        return self

    def copy(self) -> MLP:
        """An independent copy: same sizes, dtype, weights and backward pass."""
        twin = MLP(self.sizes, dtype=self.dtype, backward=self.backward_pass)
        return twin.load_state(self.params)

    def to_torch(self) -> torch.nn.Sequential:
        """The same network in torch, ``Sequential(Linear, ReLU, ..., Linear)`` with copies of the
        weights in the model's dtype (``Linear`` computes x @ weight.T + bias: weight is W)."""
        import torch

        layers: list[torch.nn.Module] = []
        for W, b in zip(self.weights, self.biases, strict=True):
            linear = torch.nn.Linear(W.shape[1], W.shape[0], dtype=getattr(torch, self.dtype.name))
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(W))
                linear.bias.copy_(torch.from_numpy(b))
            layers += [linear, torch.nn.ReLU()]
        return torch.nn.Sequential(*layers[:-1])

    def save(self, path: str | os.PathLike) -> None:
        """Write sizes and weights to the ``.npz`` file ``path`` (plain arrays only, so
        ``np.load(path, allow_pickle=False)`` reads it), under a temporary name first and then
        renamed into place: a reader never sees a half-written file."""
        target = os.fspath(path)
        fd, tmp = tempfile.mkstemp(prefix=".mlp-", suffix=".npz.part",
                                   dir=os.path.dirname(os.path.abspath(target)))
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, format=np.array(_FORMAT), sizes=np.array(self.sizes, dtype=np.int64),
                         **dict(zip(self.names, self.params, strict=True)))
            os.replace(tmp, target)
        except BaseException:
            os.unlink(tmp)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike) -> MLP:
        """Read a model written by ``save``; checks the sizes against every array's shape."""
        where = repr(os.fspath(path))
        with np.load(path, allow_pickle=False) as f:
            missing = {"format", "sizes"} - set(f.files)
            if missing:
                raise ValueError(f"{where} is not an MLP file: missing {sorted(missing)}")
            if int(f["format"]) != _FORMAT:
                raise ValueError(f"{where} has format {int(f['format'])}, "
                                 f"this version reads format {_FORMAT}")
            sizes = [int(n) for n in f["sizes"]]
            model = cls(sizes, dtype=f["W1"].dtype if "W1" in f.files else np.float32)
            absent = [name for name in model.names if name not in f.files]
            if absent:
                raise ValueError(f"{where} lacks {absent} for sizes {sizes}")
            return model.load_state([f[name] for name in model.names])
