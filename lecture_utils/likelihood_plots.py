"""Figures of notebook 01 (the likelihood criterion): cross-entropy = entropy + KL, digits.

Pure functions: data in, matplotlib ``Figure`` out (``plots.use_style`` sets the style).
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from lecture_utils import likelihood


def plot_cross_entropy_decomposition(p: float, q: float) -> Figure:
    """The criterion ``E_P[-log Q] = H(P) + KL(P || Q)`` for a coin, against ``Q(y = 1)``.

    Slide "Q matches P": with ``P(y = 1) = p`` fixed, the cross-entropy is the constant ``H(P)``
    plus ``KL(P || Q) >= 0``, so it is minimised exactly at ``q = p``. Left: the two
    distributions; right: the three terms with the current ``q`` marked.
    """
    for name, value in (("p", p), ("q", q)):
        if not 0 < value < 1:
            raise ValueError(f"{name} must be in (0, 1), got {value}")
    coin = np.array([1 - p, p])
    qs = np.linspace(0.005, 0.995, 199)
    grid = np.stack([1 - qs, qs], axis=-1)
    current = np.array([1 - q, q])
    terms = {"H(P)": likelihood.entropy(np.broadcast_to(coin, grid.shape)),
             "KL(P‖Q)": likelihood.kl_divergence(coin, grid),
             "E_P[−log Q] = H + KL": likelihood.expected_nll(coin, grid)}
    values = [likelihood.entropy(coin), likelihood.kl_divergence(coin, current),
              likelihood.expected_nll(coin, current)]

    fig, (ax_bar, ax) = plt.subplots(1, 2, figsize=(10, 3.8), width_ratios=[1, 2.4],
                                     layout="constrained")
    ax_bar.bar(np.arange(2) - 0.2, coin, width=0.4, label="P (true)")
    ax_bar.bar(np.arange(2) + 0.2, current, width=0.4, label="Q (model)")
    ax_bar.set(xticks=[0, 1], xticklabels=["y = 0", "y = 1"], ylim=(0, 1),
               ylabel="probability", title="P and Q")
    ax_bar.legend()
    for (label, curve), value in zip(terms.items(), values, strict=True):
        (line,) = ax.plot(qs, curve, label=label)
        ax.plot(q, value, "o", color=line.get_color())
    ax.axvline(p, color="k", ls="--", lw=1, label="Q = P (minimum)")
    ax.set(xlim=(0, 1), ylim=(0, 2.5), xlabel="Q(y = 1)", ylabel="nats",
           title=f"{values[2]:.3f} = {values[0]:.3f} + {values[1]:.3f}  (E_P[−log Q] = H + KL)")
    ax.legend(loc="upper center")
    return fig


def plot_digit_probabilities(images: np.ndarray, labels: np.ndarray,
                             probs: Mapping[str, np.ndarray]) -> Figure:
    """Digits (top row) and, per model, the softmax output ``h_k = P(y = k | x)`` as bars.

    Slide "Classification": the output is read as class probabilities. ``images``: ``(n, 784)``
    or ``(n, 28, 28)``; ``labels``: ``(n,)``; ``probs``: model name -> ``(n, 10)``. The bar of
    the true label is drawn in a second colour.
    """
    images, labels = np.asarray(images), np.asarray(labels)
    n = len(labels)
    side = round(float(np.sqrt(images[0].size)))
    if images.shape[0] != n or side * side != images[0].size:
        raise ValueError(f"images must have shape ({n}, H*W) or ({n}, H, W) with square H*W, "
                         f"got shape {images.shape}")
    for name, p in probs.items():
        if np.shape(p)[0] != n or np.ndim(p) != 2:
            raise ValueError(f"probs[{name!r}] must have shape ({n}, K), got {np.shape(p)}")
    fig, axes = plt.subplots(1 + len(probs), n, figsize=(1.6 * n, 1.2 + 1.6 * len(probs)),
                             squeeze=False, layout="constrained")
    for i in range(n):
        axes[0, i].imshow(images[i].reshape(side, side), cmap="gray_r")
        axes[0, i].set_title(f"label {labels[i]}")
        axes[0, i].set_axis_off()
        for row, (name, p) in enumerate(probs.items(), start=1):
            k = np.arange(p.shape[1])
            ax = axes[row, i]
            ax.bar(k, p[i], color=np.where(k == labels[i], "C1", "C0"))
            ax.set(ylim=(0, 1), xticks=k[::3])
            ax.tick_params(labelsize=7)
            if i == 0:
                ax.set_ylabel(f"{name}\nh_k")
            else:
                ax.set_yticklabels([])
    fig.supxlabel("class k")
    fig.suptitle("Softmax outputs as class probabilities (orange: the true label)")
    return fig
