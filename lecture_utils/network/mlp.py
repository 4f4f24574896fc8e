"""A feed-forward network with backpropagation written by hand in numpy, and its torch twin.

The model of slide "Exponential growth/decay forward", for any list of layer sizes::

    h(1) = relu(W(1) x + b(1)),  ...,  h(L-1) = relu(W(L-1) h(L-2) + b(L-1)),
    y = softmax(W(L) h(L-1) + b(L)),      W(l) of shape (n_l, n_{l-1}).

Batched, one example per row: ``H(l) = relu(H(l-1) @ W(l).T + b(l))``; the same layout as
``torch.nn.Linear`` (``weight`` is ``W``), so weights move between the two without transposes.
The backward pass is the recursion of slide "Backpropagation - dynamic programming"::

    dC/dh(l) = sum_i dC/da_i(l+1) da_i(l+1)/dh(l) = delta(l+1) @ W(l+1),
    delta(l) = dC/da(l) = dC/dh(l) * 1(h(l) > 0)              (through the ReLU),
    dC/dW(l) = delta(l).T @ h(l-1),   dC/db(l) = sum_n delta(l)

started by the fused softmax-cross-entropy gradient ``delta(L) = (softmax(z) - y) / N``.

Speed (``bench/bench_mlp.py``): float32 by default; activations and gradients live in buffers
allocated once per batch size; every product is one BLAS call writing into its buffer
(``np.matmul(..., out=)``), and so are the sums over the batch (``1ᵀ delta``) and over the
classes (``exp(z) 1``).

- ``sgd_step`` fuses a step of gradient descent: backpropagation is linear in ``delta(L)``, so
  started from ``-eta delta(L)`` it yields ``-eta g`` at no extra cost, and each product adds
  its part straight into its parameter, ``W(l) += (-eta delta(l))ᵀ h(l-1)``: one ``gemm`` with
  ``β = 1`` (``blas.add_matmul``). numpy's ``matmul`` only writes a product, so an optimiser
  given ``g`` needs a buffer for ``g`` and passes over θ besides. ``GradientDescent.train_step``,
  the step ``training.train`` takes, calls it.
- The hidden layers' ``W(l)`` are stored column by column (Fortran order), so ``W(l).T`` is
  contiguous and the forward product ``H W(l).T`` is BLAS's fastest case for these shapes.
- The logits and ``delta(L)`` are stored column by column too: the row maximum of the softmax
  then reduces over contiguous columns. The output layer's ``W(L)`` stays row by row, which
  makes its backward product ``delta(L) W(L)`` a plain product of those layouts (the fastest).
- ``max(a, 0)`` takes an array of zeros rather than the scalar 0: numpy's vectorised loop for
  two same-shaped arrays is several times faster than the one for an array and a scalar.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from lecture_utils._checks import positive
from lecture_utils.blas import add_matmul
from lecture_utils.network.functions import cross_entropy, softmax
from lecture_utils.network.initialisers import he_normal

if TYPE_CHECKING:
    import torch

__all__ = ["MLP"]

Init = Literal["he", "glorot"]
_FORMAT = 1  # version of the .npz layout written by MLP.save


def _check_sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    if isinstance(sizes, str | bytes) or not isinstance(sizes, Sequence):
        raise TypeError(f"sizes must be a sequence of ints such as [784, 256, 10], got {sizes!r}")
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least an input and an output size, got {list(sizes)}")
    out = []
    for i, n in enumerate(sizes):
        if isinstance(n, bool) or not isinstance(n, int | np.integer):
            raise TypeError(f"sizes[{i}] must be an int, got {n!r}")
        if n < 1:
            raise ValueError(f"sizes[{i}] must be >= 1, got {n}")
        out.append(int(n))
    return tuple(out)


def _views(flat: np.ndarray, shapes: Sequence[tuple[int, ...]], orders: Sequence[str]
           ) -> list[np.ndarray]:
    """Consecutive views of the vector ``flat`` with these shapes and memory orders ("C", "F")."""
    views, start = [], 0
    for shape, order in zip(shapes, orders, strict=True):
        size = int(np.prod(shape))
        views.append(flat[start:start + size].reshape(shape, order=order))
        start += size
    return views


def _check_dtype(dtype: DTypeLike) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dt}")
    return dt


class MLP:
    """Feed-forward ReLU network with a softmax output; backprop written by hand.

    Parameters
    ----------
    sizes
        Layer widths ``[n_0, n_1, ..., n_L]``: input, hidden layers, classes
        (``[784, 256, 256, 10]``).
    rng
        ``numpy.random.Generator`` or seed for the initial weights.
    dtype
        ``float32`` (fast, default) or ``float64`` (gradient checks).
    init
        ``"he"``: ``W_ij ~ N(0, 2 / n_in)`` (keeps the ReLU signal's scale, He et al. 2015);
        ``"glorot"``: ``W_ij ~ U(-a, a)``, ``a = sqrt(6 / (n_in + n_out))`` (Glorot & Bengio 2010).
        Biases start at 0.

    Attributes
    ----------
    params
        ``[W1, b1, W2, b2, ...]``, ``W(l)`` of shape ``(n_l, n_{l-1})``; optimisers update them
        in place. They are views into ``theta``.
    theta
        Every parameter in one vector θ (the θ of slide "Gradient descent"), in ``params`` order.
    names
        ``["W1", "b1", "W2", "b2", ...]``.
    grads
        Buffers of the same shapes that ``backward`` fills (like torch's ``.grad``): the list
        ``backward`` returns is this one and is overwritten by the next call; copy to keep it.
    """

    def __init__(self, sizes: Sequence[int], *, rng: np.random.Generator | int = 0,
                 dtype: DTypeLike = np.float32, init: Init = "he") -> None:
        self.sizes = _check_sizes(sizes)
        self.dtype = _check_dtype(dtype)
        if init not in ("he", "glorot"):
            raise ValueError(f"init must be 'he' or 'glorot', got {init!r}")
        if not isinstance(rng, np.random.Generator):
            rng = np.random.default_rng(rng)
        shapes = [shape for n_in, n_out in itertools.pairwise(self.sizes)
                  for shape in ((n_out, n_in), (n_out,))]
        orders = ["F", "C"] * (len(self.sizes) - 2) + ["C", "C"]  # see "Speed" above
        self.theta = np.zeros(sum(int(np.prod(shape)) for shape in shapes), dtype=self.dtype)
        self.params: list[np.ndarray] = _views(self.theta, shapes, orders)
        self.grads: list[np.ndarray] = [np.zeros_like(p) for p in self.params]  # same orders
        self.names: list[str] = [f"{kind}{layer}" for layer in range(1, len(self.sizes))
                                 for kind in "Wb"]
        for w in self.weights:
            n_out, n_in = w.shape
            if init == "he":
                w[...] = he_normal(n_in, n_out, rng=rng)
            else:
                a = np.sqrt(6.0 / (n_in + n_out))
                w[...] = rng.uniform(-a, a, size=(n_out, n_in))
        self._acts: list[np.ndarray] = []    # per-batch-size buffers: h(1), ..., h(L-1), z(L)
        self._deltas: list[np.ndarray] = []  # dC/da(l) for the hidden layers
        self._masks: list[np.ndarray] = []   # 1(h(l) > 0) for the hidden layers
        self._zeros: list[np.ndarray] = []   # relu(a) = max(a, 0) against an array of zeros
        self._out = self._row_max = self._row_sum = np.empty((0, 1), dtype=self.dtype)
        self._rows = np.arange(0)  # 0, ..., N - 1
        self._ones_k = np.ones(self.sizes[-1], dtype=self.dtype)  # row sums as one BLAS call
        self._loss = float("nan")  # C of the last backward batch
        self._ones = np.ones(0, dtype=self.dtype)  # sums over the batch as one BLAS call
        self._cache: list[np.ndarray] | None = None  # [x, h(1), ..., h(L-1), z(L)] of last forward

    # ------------------------------------------------------------------ structure
    @property
    def n_layers(self) -> int:
        """Number of weight layers ``L`` (hidden layers + output layer)."""
        return len(self.sizes) - 1

    @property
    def n_params(self) -> int:
        """Total number of trainable numbers, ``sum_l n_l (n_{l-1} + 1)``."""
        return sum(p.size for p in self.params)

    @property
    def weights(self) -> list[np.ndarray]:
        """The weight matrices ``[W1, W2, ...]`` (the arrays of ``params``, not copies)."""
        return self.params[0::2]

    @property
    def activations(self) -> list[np.ndarray]:
        """What the last ``forward`` stored: ``[x, h(1), ..., h(L-1), z(L)]`` (read-only views)."""
        if self._cache is None:
            raise RuntimeError("call forward(x) first: nothing is stored yet")
        views = [a.view() for a in self._cache]
        for v in views:
            v.flags.writeable = False
        return views

    def __repr__(self) -> str:
        return (f"MLP(sizes={list(self.sizes)}, dtype={self.dtype.name}, "
                f"n_params={self.n_params})")

    # ------------------------------------------------------------------ forward / backward
    def _as_input(self, x: ArrayLike) -> np.ndarray:
        """``x`` as a C-contiguous ``(N, n_0)`` array of the model's dtype (no copy if it is)."""
        arr = np.asarray(x)
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"x must be a numeric array, got dtype {arr.dtype}")
        if arr.ndim != 2 or arr.shape[1] != self.sizes[0] or arr.shape[0] == 0:
            hint = " (flatten images with x.reshape(len(x), -1))" if arr.ndim > 2 else ""
            raise ValueError(f"x must have shape (N, {self.sizes[0]}) with N >= 1, "
                             f"got shape {arr.shape}{hint}")
        return np.ascontiguousarray(arr, dtype=self.dtype)

    def _buffers(self, n: int) -> None:
        if self._acts and self._acts[0].shape[0] == n:
            return
        self._acts = [np.empty((n, m), dtype=self.dtype) for m in self.sizes[1:]]
        self._deltas = [np.empty((n, m), dtype=self.dtype) for m in self.sizes[1:-1]]
        self._masks = [np.empty((n, m), dtype=bool) for m in self.sizes[1:-1]]
        self._zeros = [np.zeros((n, m), dtype=self.dtype) for m in self.sizes[1:-1]]
        # the logits and delta(L) column by column: the row maximum reduces over columns
        self._acts[-1] = np.empty((n, self.sizes[-1]), dtype=self.dtype, order="F")
        self._out = np.empty((n, self.sizes[-1]), dtype=self.dtype, order="F")  # delta(L)
        self._row_max = np.empty((n, 1), dtype=self.dtype)
        self._row_sum = np.empty((n, 1), dtype=self.dtype)
        self._rows = np.arange(n)
        self._ones = np.ones(n, dtype=self.dtype)

    def forward(self, x: ArrayLike) -> np.ndarray:
        """Logits ``z(L) = W(L) h(L-1) + b(L)`` for a batch ``x`` of shape ``(N, n_0)``.

        Stores ``[x, h(1), ..., h(L-1), z(L)]`` for ``backward`` (the "store intermediate
        results" of slide "Backpropagation - dynamic programming"). Returns a fresh array.
        """
        return self._forward(x).copy()

    def _forward(self, x: ArrayLike) -> np.ndarray:
        """``forward`` returning the logits' buffer itself (overwritten by the next batch)."""
        h = self._as_input(x)
        self._buffers(h.shape[0])
        cache = [h]
        last = self.n_layers - 1                     # the output layer: no ReLU
        for layer in range(self.n_layers):
            w, b, out = self.params[2 * layer], self.params[2 * layer + 1], self._acts[layer]
            np.matmul(h, w.T, out=out)               # a = W h + b, one row per example
            out += b
            if layer < last:
                np.maximum(out, self._zeros[layer], out=out)  # h = relu(a) = max(a, 0)
            cache.append(out)
            h = out
        self._cache = cache
        return h

    def _targets(self, y: ArrayLike, n: int) -> np.ndarray:
        """Integer labels ``(N,)`` or target rows ``(N, K)``, checked against the last batch."""
        k = self.sizes[-1]
        arr = np.asarray(y)
        if arr.shape == (n,):
            if arr.dtype.kind not in "iu":
                raise TypeError(f"y of shape ({n},) must hold integer class labels, "
                                f"got dtype {arr.dtype}")
            if (arr.dtype.kind == "i" and arr.min() < 0) or arr.max() >= k:
                raise ValueError(f"y must hold labels in 0..{k - 1}, "
                                 f"got values in {arr.min()}..{arr.max()}")
        elif arr.shape == (n, k):
            if arr.dtype.kind != "f":
                raise TypeError(f"y of shape ({n}, {k}) must be one-hot floats, "
                                f"got dtype {arr.dtype}")
        else:
            raise ValueError(f"y must have shape ({n},) (labels) or ({n}, {k}) (one-hot) to match "
                             f"the last forward batch, got shape {arr.shape}")
        return arr

    def backward(self, y: ArrayLike) -> list[np.ndarray]:
        """Gradients of the mean cross-entropy of the last ``forward`` batch, in ``params`` order.

        ``y``: integer labels ``(N,)`` or one-hot rows ``(N, K)``. The recursion of slide
        "Backpropagation - dynamic programming", from the output layer down::

            delta(L) = (softmax(z(L)) - y) / N                  # fused softmax + cross-entropy
            dC/dW(l) = delta(l).T @ h(l-1),   dC/db(l) = sum over the batch of delta(l)
            dC/dh(l-1) = delta(l) @ W(l)                        # sum_i dC/da_i(l) da_i(l)/dh(l-1)
            delta(l-1) = dC/dh(l-1) * 1(h(l-1) > 0)             # through the ReLU

        Returns ``self.grads`` (overwritten by the next call).
        """
        return self._backward(y)[1]

    def _backward(self, y: ArrayLike, scale: float = 1.0, into_params: bool = False
                  ) -> tuple[float, list[np.ndarray]]:
        """``backward``, also returning the loss ``C`` of the batch (from the same softmax).

        ``scale * dC/dθ`` into ``self.grads``, or, with ``into_params``, added into
        ``self.params`` (``blas.add_matmul``): the recursion is linear in ``delta(L)``, so
        scaling ``delta(L)`` scales every gradient. Each ``dC/dh(l-1) = delta(l) W(l)`` is taken
        before ``W(l)`` changes.
        """
        if self._cache is None:
            raise RuntimeError("call forward(x) before backward(y)")
        into, product = (self.params, add_matmul) if into_params else (self.grads, np.matmul)
        cache = self._cache
        n = cache[0].shape[0]
        target = self._targets(y, n)
        delta = self._softmax_delta(cache[-1], target, scale)   # scale delta(L)
        for layer in reversed(range(self.n_layers)):
            h_prev = cache[layer]
            if layer:
                d_prev = self._deltas[layer - 1]
                np.matmul(delta, self.params[2 * layer], out=d_prev)  # dC/dh(l-1)
            product(delta.T, h_prev, into[2 * layer])         # dC/dW(l) = delta(l)ᵀ h(l-1)
            product(self._ones, delta, into[2 * layer + 1])   # dC/db(l) = 1ᵀ delta(l)
            if layer == 0:
                break
            mask = self._masks[layer - 1]
            np.greater(h_prev, 0, out=mask)                   # ReLU'(a) = 1(h > 0)
            np.multiply(d_prev, mask, out=d_prev)
            delta = d_prev
        return self._loss, into

    def _softmax_delta(self, z: np.ndarray, target: np.ndarray, scale: float = 1.0
                       ) -> np.ndarray:
        """``delta(L) = scale (softmax(z) - y) / N`` in its buffer; the batch's ``C`` in ``_loss``.

        Fused and in place (slide "Classification"): with ``m_n = max_k z_nk`` and
        ``s_n = sum_k exp(z_nk - m_n)``, ``log h_nk = z_nk - m_n - log s_n`` and
        ``h_nk = exp(z_nk - m_n) / s_n``, so one ``exp`` gives both
        ``C = -(1/N) sum_nk y_nk log h_nk`` and ``delta(L)``.
        """
        n = len(z)
        delta, m, s = self._out, self._row_max, self._row_sum
        z.max(axis=1, keepdims=True, out=m)
        np.subtract(z, m, out=delta)                  # z - m <= 0: exp cannot overflow
        flat = delta.ravel(order="F")                 # a view: delta is stored column by column
        if target.ndim == 1:                          # labels: y_nk = 1 at k = y_n only
            at = np.multiply(target, n, dtype=np.intp)
            at += self._rows                          # flat positions of the entries (n, y_n)
            picked = float(flat[at].sum())            # sum_nk y_nk (z_nk - m_n)
        else:
            picked = float(np.vdot(target, delta))
        np.exp(delta, out=delta)
        np.matmul(delta, self._ones_k, out=s[:, 0])   # s_n = sum_k exp(z_nk - m_n)
        if target.ndim == 1:                          # sum_n (sum_k y_nk) log s_n
            total = float(np.log(s).sum())
        else:
            total = float(np.vdot(target.sum(axis=1), np.log(s)))
        self._loss = (total - picked) / n
        if scale:
            np.multiply(s, n / scale, out=s)
            np.divide(delta, s, out=delta)            # scale h / N
        else:
            delta.fill(0.0)
        if target.ndim == 1:
            flat[at] -= scale / n                     # scale (h - y) / N
        else:
            delta -= target * (scale / n)
        return delta

    def loss(self, x: ArrayLike, y: ArrayLike) -> float:
        """Mean cross-entropy ``C = -(1/N) sum_n log softmax(z_n)_{y_n}`` on a batch."""
        return float(cross_entropy(self.forward(x), y))

    def loss_and_grads(self, x: ArrayLike, y: ArrayLike) -> tuple[float, list[np.ndarray]]:
        """``(C, [dC/dW1, dC/db1, ...])`` on the batch ``(x, y)``: forward, then backward.

        The gradient list is ``self.grads``, overwritten by the next call (copy to keep it).
        """
        self._forward(x)
        return self._backward(y)

    def sgd_step(self, x: ArrayLike, y: ArrayLike, lr: float) -> float:
        """One step of gradient descent on the batch, θ ← θ − η dC/dθ; returns C at the old θ.

        The same step as ``loss_and_grads`` followed by ``GradientDescent(lr).step(params,
        grads)``, up to rounding, fused: backpropagation started from ``-lr delta(L)`` gives
        ``-lr dC/dθ`` directly, and each product adds its part straight into its parameter,
        ``W(l) += (-lr delta(l))ᵀ h(l-1)`` (``blas.add_matmul``). ``grads`` is left as it was.
        """
        lr = positive("lr", lr, allow_zero=True)
        self._forward(x)
        return self._backward(y, scale=-lr, into_params=True)[0]

    def autograd_loss_and_grads(self, x: ArrayLike, y: ArrayLike
                                ) -> tuple[float, list[np.ndarray]]:
        """The reference for ``loss_and_grads``: the same loss and gradients by torch autograd.

        Runs ``to_torch()`` with ``F.cross_entropy`` (labels) or ``-(y * log_softmax).sum(1)
        .mean()`` (one-hot rows) in the model's dtype; returns numpy arrays in ``params`` order.
        """
        import torch

        xt = torch.from_numpy(self._as_input(x))
        target = torch.from_numpy(self._targets(y, xt.shape[0]))
        net = self.to_torch()
        logits = net(xt)
        if target.ndim == 1:
            loss = torch.nn.functional.cross_entropy(logits, target)
        else:
            log_p = torch.log_softmax(logits, dim=1)
            loss = -(target.to(log_p.dtype) * log_p).sum(dim=1).mean()
        loss.backward()
        return loss.item(), [p.grad.numpy() for p in net.parameters()]

    # ------------------------------------------------------------------ evaluation
    def predict_proba(self, x: ArrayLike, batch_size: int = 10_000) -> np.ndarray:
        """Class probabilities ``softmax(z(L))`` of shape ``(N, K)``, computed in chunks."""
        arr = self._as_input(x)
        return np.concatenate([softmax(self.forward(arr[i:i + batch_size]))
                               for i in range(0, len(arr), batch_size)])

    def predict(self, x: ArrayLike, batch_size: int = 10_000) -> np.ndarray:
        """Most probable class ``argmax_k z_k`` for each row of ``x``."""
        arr = self._as_input(x)
        return np.concatenate([self.forward(arr[i:i + batch_size]).argmax(axis=1)
                               for i in range(0, len(arr), batch_size)])

    def accuracy(self, x: ArrayLike, y: ArrayLike) -> float:
        """Fraction of rows of ``x`` whose predicted class equals the label ``y``."""
        labels = np.asarray(y)
        if labels.shape != (len(x),):
            raise ValueError(f"y must hold one label per row of x, shape ({len(x)},), "
                             f"got shape {labels.shape}")
        return float(np.mean(self.predict(x) == labels))

    # ------------------------------------------------------------------ state, torch, files
    def load_state(self, params: Sequence[ArrayLike]) -> MLP:
        """Copy ``params`` (``[W1, b1, ...]``, same shapes) into this model in place; returns it."""
        if len(params) != len(self.params):
            raise ValueError(f"params must hold {len(self.params)} arrays "
                             f"({', '.join(self.names)}), got {len(params)}")
        new = [np.asarray(p) for p in params]
        for name, p, q in zip(self.names, self.params, new, strict=True):
            if q.shape != p.shape:
                raise ValueError(f"{name} must have shape {p.shape}, got {q.shape}")
        for p, q in zip(self.params, new, strict=True):
            np.copyto(p, q, casting="same_kind")
        return self

    def copy(self) -> MLP:
        """An independent copy (same sizes, dtype and weights)."""
        return MLP(self.sizes, dtype=self.dtype).load_state(self.params)

    def to_torch(self) -> torch.nn.Sequential:
        """The same network in torch: ``Linear, ReLU, ..., Linear`` with copies of the weights.

        ``torch.nn.Linear`` computes ``x @ weight.T + bias``, so ``weight`` is ``W(l)`` as is;
        the dtype is the model's. The softmax lives in the loss (``F.cross_entropy``), as here.
        """
        import torch

        layers: list[torch.nn.Module] = []
        for layer, (n_in, n_out) in enumerate(itertools.pairwise(self.sizes)):
            lin = torch.nn.Linear(n_in, n_out, dtype=getattr(torch, self.dtype.name))
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(self.params[2 * layer]))
                lin.bias.copy_(torch.from_numpy(self.params[2 * layer + 1]))
            layers.append(lin)
            if layer < self.n_layers - 1:
                layers.append(torch.nn.ReLU())
        return torch.nn.Sequential(*layers)

    @classmethod
    def from_torch(cls, net: torch.nn.Module) -> MLP:
        """The numpy model with the weights of ``net`` (``Linear`` layers with ``ReLU`` between)."""
        import torch

        modules = list(net.children()) if isinstance(net, torch.nn.Sequential) else [net]
        linears = [m for m in modules if isinstance(m, torch.nn.Linear)]
        expected = [torch.nn.Linear, torch.nn.ReLU] * (len(linears) - 1) + [torch.nn.Linear]
        if not linears or [type(m) for m in modules] != expected:
            raise ValueError("net must be torch.nn.Sequential(Linear, ReLU, ..., Linear), got "
                             + ", ".join(type(m).__name__ for m in modules))
        if any(m.bias is None for m in linears):
            raise ValueError("every Linear layer of net must have a bias")
        sizes = [linears[0].in_features] + [m.out_features for m in linears]
        for i, (a, b) in enumerate(itertools.pairwise(linears)):
            if a.out_features != b.in_features:
                raise ValueError(f"Linear layers {i} and {i + 1} do not connect: "
                                 f"{a.out_features} outputs into {b.in_features} inputs")
        dtype = str(linears[0].weight.dtype).removeprefix("torch.")
        params = [t.detach().cpu().numpy() for m in linears for t in (m.weight, m.bias)]
        return cls(sizes, dtype=dtype).load_state(params)

    def save(self, path: str | os.PathLike) -> None:
        """Write sizes and weights to the ``.npz`` file ``path`` (exactly that name; plain
        arrays only, so ``np.load(path, allow_pickle=False)`` reads it).

        The file is written beside ``path`` under a temporary name and renamed into place, so
        a reader never sees a half-written model and an interrupted save keeps the old one.
        """
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
        with np.load(path, allow_pickle=False) as f:
            missing = {"format", "sizes"} - set(f.files)
            if missing:
                raise ValueError(f"{os.fspath(path)!r} is not an MLP file: "
                                 f"missing {sorted(missing)}")
            if int(f["format"]) != _FORMAT:
                raise ValueError(f"{os.fspath(path)!r} has format {int(f['format'])}, "
                                 f"this version reads format {_FORMAT}")
            sizes = [int(n) for n in f["sizes"]]
            model = cls(sizes, dtype=f["W1"].dtype if "W1" in f.files else np.float32)
            absent = [name for name in model.names if name not in f.files]
            if absent:
                raise ValueError(f"{os.fspath(path)!r} lacks {absent} for sizes {sizes}")
            return model.load_state([f[name] for name in model.names])
