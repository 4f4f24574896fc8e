"""Activation and output functions of the lecture's network, written in numpy.

Slide "Classification - one hot encoding and cross-entropy": one-hot labels ``y``, the
softmax output ``h = softmax(W h_prev + b)`` read as class probabilities, and the
cross-entropy cost ``C = -sum_n sum_k y_nk log h_nk``; slide "Tiny example I": ``relu``.

All functions are vectorised, keep the floating dtype of their input (float32 in, float32
out; integer input is promoted to float64) and are numerically stable: softmax and
cross-entropy go through the log-sum-exp form, so logits of +-1000 give no ``inf`` or ``nan``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from lecture_utils._checks import integer

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "ActivationName",
    "activation",
    "cross_entropy",
    "log_softmax",
    "logsumexp",
    "one_hot",
    "relu",
    "relu_grad",
    "softmax",
    "tanh",
    "tanh_grad",
]

Reduction = Literal["mean", "sum", "none"]


def _float_array(x: ArrayLike, name: str) -> np.ndarray:
    """``x`` as a floating array: float dtypes kept, integers promoted to float64."""
    arr = np.asarray(x)
    if arr.dtype.kind == "f":
        return arr
    if arr.dtype.kind in "iu":
        return arr.astype(np.float64)
    raise TypeError(f"{name} must be a real-valued array, got dtype {arr.dtype}")


def _at_least_1d(x: ArrayLike, name: str) -> np.ndarray:
    arr = _float_array(x, name)
    if arr.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension (the classes), got a scalar")
    return arr


def _integer_labels(labels: ArrayLike, name: str = "labels") -> np.ndarray:
    """``labels`` as an integer array; floats (even 3.0) and booleans are refused."""
    arr = np.asarray(labels)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integer class indices, got dtype {arr.dtype}")
    return arr


def _check_range(labels: np.ndarray, num_classes: int, name: str = "labels") -> None:
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"{name} must lie in 0..{num_classes - 1}, "
                         f"got values in {labels.min()}..{labels.max()}")


def relu(x: ArrayLike) -> np.ndarray:
    """Rectified linear unit ``relu(x) = max(0, x)``, elementwise (slide "Tiny example I")."""
    arr = _float_array(x, "x")
    return np.maximum(arr, arr.dtype.type(0))


def relu_grad(x: ArrayLike) -> np.ndarray:
    """Derivative of relu, ``1(x > 0)``, elementwise; 0 at ``x = 0`` as in torch."""
    arr = _float_array(x, "x")
    return (arr > 0).astype(arr.dtype)


def tanh(x: ArrayLike) -> np.ndarray:
    """Hyperbolic tangent, elementwise (the saturating activation of notebooks 02 and 07)."""
    return np.tanh(_float_array(x, "x"))


def tanh_grad(x: ArrayLike) -> np.ndarray:
    """Derivative of tanh, ``1 − tanh²(x)``, elementwise."""
    return 1.0 - tanh(x) ** 2


ActivationName = Literal["relu", "tanh"]


@dataclass(frozen=True)
class Activation:
    """A hidden-layer activation φ, its derivative φ'(a), and its ``torch.nn`` module's name."""

    phi: Callable[[ArrayLike], np.ndarray]
    derivative: Callable[[ArrayLike], np.ndarray]
    torch_module: str


#: The activations of the lecture's networks by name (``paths`` and ``propagation`` use them).
ACTIVATIONS: dict[str, Activation] = {
    "relu": Activation(relu, relu_grad, "ReLU"),
    "tanh": Activation(tanh, tanh_grad, "Tanh"),
}


def activation(name: str) -> Activation:
    """The entry ``name`` of :data:`ACTIVATIONS`; a clear error for any other name."""
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]


def _shift_by_max(arr: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """``(m, x - m)`` with ``m = max_k x_k`` kept as an axis (0 where the max is not finite)."""
    m = np.max(arr, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0).astype(arr.dtype)  # all -inf (or inf) slices
    return m, arr - m


def logsumexp(x: ArrayLike, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """``log sum_k exp(x_k)`` along ``axis``, computed as ``m + log sum_k exp(x_k - m)``.

    ``m = max_k x_k``, so the largest term is ``exp(0) = 1``: no overflow for large logits and
    no ``log(0)`` for very negative ones. A slice that is all ``-inf`` gives ``-inf``.
    """
    m, shifted = _shift_by_max(_at_least_1d(x, "x"), axis)
    with np.errstate(divide="ignore"):  # an all -inf slice: log(0) = -inf is the answer
        out = m + np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def softmax(x: ArrayLike, axis: int = -1) -> np.ndarray:
    """``softmax(x)_k = exp(x_k) / sum_j exp(x_j)`` along ``axis`` (slide "Classification").

    Computed as ``exp(x_k - m) / sum_j exp(x_j - m)`` with ``m = max_j x_j``: the value is
    unchanged (the factor ``exp(-m)`` cancels) but nothing overflows.
    """
    e = np.exp(_shift_by_max(_at_least_1d(x, "x"), axis)[1])
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x: ArrayLike, axis: int = -1) -> np.ndarray:
    """``log softmax(x)_k = x_k - logsumexp(x)`` along ``axis``.

    Computed as ``(x_k - m) - log sum_j exp(x_j - m)``: finite even where ``softmax``
    underflows to 0 (``log`` of that would be ``-inf``), and no rounding of ``m + ...``.
    """
    shifted = _shift_by_max(_at_least_1d(x, "x"), axis)[1]
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def one_hot(labels: ArrayLike, num_classes: int = 10, dtype: DTypeLike = np.float32) -> np.ndarray:
    """One-hot encoding: label ``c`` becomes the vector ``y`` with ``y_c = 1``, other entries 0.

    Slide "Classification - one hot encoding": ``0 -> (1, 0, ..., 0)``, ``9 -> (0, ..., 0, 1)``
    with ``num_classes = 10`` entries. ``labels`` of shape ``s`` give shape ``s + (num_classes,)``.
    """
    num_classes = integer("num_classes", num_classes, minimum=1)
    idx = _integer_labels(labels)
    _check_range(idx, num_classes)
    return (idx[..., None] == np.arange(num_classes)).astype(dtype)


def _check_distributions(p: np.ndarray, name: str) -> None:
    """Entries in [0, 1] and rows summing to one, to the precision of ``p``'s dtype."""
    tol = float(np.sqrt(np.finfo(p.dtype).eps))
    if np.any(p < 0) or np.any(p > 1 + tol) or np.any(np.isnan(p)):
        raise ValueError(f"{name} must hold probabilities in [0, 1]")
    sums = p.sum(axis=-1)
    if not np.allclose(sums, 1, rtol=0, atol=tol * p.shape[-1]):
        worst = float(sums[np.argmax(np.abs(sums - 1))])
        raise ValueError(f"each row of {name} must sum to 1, found a row summing to {worst:.6g}")


def cross_entropy(logits_or_probs: ArrayLike, labels: ArrayLike, *, from_logits: bool = True,
                  reduction: Reduction = "mean") -> np.ndarray | np.floating:
    """Cross-entropy cost ``C = -sum_n sum_k y_nk log h_nk`` (slide "Classification").

    ``h = softmax(logits)`` if ``from_logits`` (computed as ``log_softmax``, stable for any
    logits), else ``logits_or_probs`` already holds probabilities ``h`` of shape ``(n, K)``.
    ``labels`` are integer classes of shape ``(n,)`` or targets ``y`` of shape ``(n, K)`` (one-hot,
    or any rows of probabilities). For integer labels ``C_n = -log h_{n, label_n}``, the negative
    log-likelihood of the label. ``reduction``: ``"mean"`` over ``n`` (default, like
    ``torch.nn.functional.cross_entropy``), ``"sum"`` (the slide's ``C``) or ``"none"`` (``C_n``).
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    name = "logits" if from_logits else "probs"
    h = _float_array(logits_or_probs, name)
    if h.ndim != 2:
        raise ValueError(f"{name} must have shape (n, K), got shape {h.shape}")
    n, k = h.shape
    if n == 0 or k == 0:
        raise ValueError(f"{name} must hold at least one example and one class, "
                         f"got shape {h.shape}")
    if from_logits:
        log_h = log_softmax(h)
    else:
        _check_distributions(h, "probs")
        with np.errstate(divide="ignore"):  # log(0) = -inf is the right answer
            log_h = np.log(h)

    y = np.asarray(labels)
    if y.shape == (n,):
        idx = _integer_labels(y)
        _check_range(idx, k)
        losses = -log_h[np.arange(n), idx]
    elif y.shape == (n, k):
        target = _float_array(y, "labels").astype(h.dtype)
        _check_distributions(target, "labels")
        # 0 * log 0 = 0: classes with y_nk = 0 contribute nothing even if h_nk = 0
        losses = -np.sum(target * np.where(target > 0, log_h, 0), axis=-1, dtype=h.dtype)
    else:
        raise ValueError(f"labels must have shape ({n},) (class indices) or ({n}, {k}) "
                         f"(one-hot), got shape {y.shape}")

    if reduction == "none":
        return losses
    total = losses.sum(dtype=h.dtype)
    return total if reduction == "sum" else total / h.dtype.type(n)
