"""The likelihood criterion for a categorical model ``Q(y | θ) = softmax(θ)_y``.

Slides "Training criterion" and "Q matches P, the gradient vanishes at θ*": the cost
``C(θ) = -sum_i log Q(y_i | θ)``, its score ``∂/∂θ log Q(y | θ)``, the expected score under a
true distribution ``P`` (exactly, as a sum over the outcomes, and by Monte Carlo), and the
decomposition ``E_P[-log Q] = H(P) + KL(P || Q)``. A coin (Bernoulli) is the case ``K = 2``
with logits ``(0, θ)``, i.e. ``Q(y = 1 | θ) = sigmoid(θ)``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from lecture_utils._checks import integer
from lecture_utils.network.functions import cross_entropy, log_softmax, one_hot, softmax

__all__ = [
    "coin_logits",
    "counts",
    "entropy",
    "expected_nll",
    "expected_score",
    "kl_divergence",
    "mc_expected_score",
    "nll",
    "score",
]


def _distribution(p: ArrayLike, name: str) -> np.ndarray:
    """``p`` as float64 probabilities of shape ``(..., K)``: entries >= 0, rows summing to 1.

    Rows within 1e-6 of 1 (e.g. a float32 softmax) are renormalised to float64 precision.
    """
    arr = np.asarray(p, dtype=np.float64)
    if arr.ndim == 0:
        raise ValueError(f"{name} must be a probability vector of shape (K,), got a scalar")
    sums = arr.sum(axis=-1, keepdims=True)
    if np.any(arr < 0) or not np.allclose(sums, 1.0, rtol=0, atol=1e-6):
        raise ValueError(f"{name} must have entries >= 0 summing to 1 along the last axis")
    return arr / sums


def coin_logits(theta: ArrayLike) -> np.ndarray:
    """Logits ``(0, θ)`` of a coin with ``Q(y = 1 | θ) = exp(θ) / (1 + exp(θ)) = sigmoid(θ)``.

    ``theta`` of shape ``s`` gives logits of shape ``s + (2,)``.
    """
    t = np.asarray(theta, dtype=np.float64)
    return np.stack([np.zeros_like(t), t], axis=-1)


def counts(samples: ArrayLike, num_classes: int) -> np.ndarray:
    """``n_k``, the number of samples equal to ``k``, for ``k = 0..K-1`` (float64)."""
    return one_hot(np.ravel(samples), num_classes, dtype=np.float64).sum(axis=0)


def nll(theta: ArrayLike, samples: ArrayLike) -> np.ndarray:
    """``C(θ) = -sum_i log Q(y_i | θ) = -sum_k n_k log softmax(θ)_k`` (slide "Training criterion").

    ``theta`` holds logits of shape ``(..., K)`` (a grid of parameters is fine); ``samples`` are
    integer outcomes ``y_i`` in ``0..K-1``. The minimiser is any ``θ*`` with
    ``softmax(θ*) = n_k / n``, the observed frequencies.
    """
    logits = np.asarray(theta, dtype=np.float64)
    return -(log_softmax(logits) @ counts(samples, logits.shape[-1]))


def score(theta: ArrayLike, y: ArrayLike) -> np.ndarray:
    """``∂/∂θ log Q(y | θ) = onehot(y) - softmax(θ)``, one row per outcome in ``y``.

    ``theta``: logits of shape ``(K,)``; ``y``: integer outcomes of shape ``(n,)``; returns
    ``(n, K)``.
    """
    logits = np.asarray(theta, dtype=np.float64)
    if logits.ndim != 1:
        raise ValueError(f"theta must have shape (K,), got shape {logits.shape}")
    return one_hot(y, logits.size, dtype=np.float64) - softmax(logits)


def expected_score(p: ArrayLike, theta: ArrayLike) -> np.ndarray:
    """``E_P[∂/∂θ log Q(y | θ)] = sum_y P(y) ∂/∂θ log Q(y | θ)``, exactly (sum over outcomes).

    Equals ``P - Q``: zero exactly where ``Q(· | θ) = P`` (slide: the gradient vanishes at θ*).
    """
    probs = _distribution(p, "p")
    if probs.ndim != 1:
        raise ValueError(f"p must have shape (K,), got shape {probs.shape}")
    return probs @ score(theta, np.arange(probs.size))


def mc_expected_score(p: ArrayLike, theta: ArrayLike, n: int, rng: np.random.Generator,
                      repeats: int = 1) -> np.ndarray:
    """Monte Carlo estimate ``(1/n) sum_i ∂/∂θ log Q(y_i | θ)`` with ``y_i ~ P``, ``repeats`` times.

    The mean of ``n`` scores ``onehot(y_i) - Q`` is ``n_k / n - Q`` with counts
    ``(n_0, ..., n_{K-1}) ~ Multinomial(n, P)``, so the counts are drawn directly (cheap for
    large ``n``). Returns shape ``(repeats, K)``. At ``Q = P`` each entry has standard
    deviation ``sqrt(P_k (1 - P_k) / n)``: the estimate shrinks like ``1/sqrt(n)``.
    """
    probs = _distribution(p, "p")
    n = integer("n", n, minimum=1)
    repeats = integer("repeats", repeats, minimum=1)
    q = softmax(np.asarray(theta, dtype=np.float64))
    if q.shape != probs.shape:
        raise ValueError(f"theta must have shape {probs.shape} like p, got shape {q.shape}")
    return rng.multinomial(n, probs, size=repeats) / n - q


def entropy(p: ArrayLike) -> np.ndarray:
    """``H(P) = -sum_k P_k log P_k`` in nats, along the last axis (``0 log 0 = 0``)."""
    probs = _distribution(p, "p")
    return expected_nll(probs, probs)


def expected_nll(p: ArrayLike, q: ArrayLike) -> np.ndarray:
    """Cross-entropy ``E_P[-log Q] = -sum_k P_k log Q_k`` along the last axis (the criterion C).

    Uses :func:`lecture_utils.network.functions.cross_entropy` with ``P`` as soft targets; ``p`` and
    ``q`` broadcast against each other.
    """
    probs, model = np.broadcast_arrays(_distribution(p, "p"), _distribution(q, "q"))
    k = probs.shape[-1]
    flat = cross_entropy(model.reshape(-1, k), probs.reshape(-1, k), from_logits=False,
                         reduction="none")
    return flat.reshape(probs.shape[:-1])


def kl_divergence(p: ArrayLike, q: ArrayLike) -> np.ndarray:
    """``KL(P || Q) = sum_k P_k log(P_k / Q_k) >= 0``, zero only if ``Q = P``, along the last axis.

    Computed from its definition (not as a difference), so ``E_P[-log Q] = H(P) + KL(P || Q)``
    is a check, not a tautology.
    """
    probs, model = np.broadcast_arrays(_distribution(p, "p"), _distribution(q, "q"))
    with np.errstate(divide="ignore"):  # Q_k = 0 < P_k gives KL = inf, the right answer
        ratio = np.log(np.where(probs > 0, probs, 1.0)) - np.log(model)
    return np.sum(probs * np.where(probs > 0, ratio, 0.0), axis=-1)
