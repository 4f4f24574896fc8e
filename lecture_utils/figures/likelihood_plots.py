"""Figures of notebook 01 (the likelihood criterion): cross-entropy = entropy + KL, digits.

Pure functions: data in, matplotlib ``Figure`` out (``plots.use_style`` sets the style);
``set_cross_entropy_q`` moves the marks of one decomposition figure, for its slider.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.artist import Artist
from matplotlib.figure import Figure

from lecture_utils.analysis import likelihood
from lecture_utils.figures.plots import WIDTH


def _probability(name: str, value: float) -> float:
    if not 0 < value < 1:
        raise ValueError(f"{name} must be in (0, 1), got {value}")
    return float(value)


def plot_cross_entropy_decomposition(p: float, q: float) -> Figure:
    """The criterion ``E_P[-log Q] = H(P) + KL(P || Q)`` for a coin, against ``Q(y = 1)``.

    Slide "Q matches P": with ``P(y = 1) = p`` fixed, the cross-entropy is the constant ``H(P)``
    plus ``KL(P || Q) >= 0``, so it is minimised exactly at ``q = p``. Left: the two
    distributions; right: the three terms with the current ``q`` marked
    (:func:`set_cross_entropy_q` moves that mark, for the slider).
    """
    p = _probability("p", p)
    coin = np.array([1 - p, p])
    qs = np.linspace(0.005, 0.995, 199)
    grid = np.stack([1 - qs, qs], axis=-1)
    terms = {r"$H(P)$": likelihood.entropy(np.broadcast_to(coin, grid.shape)),
             r"$\mathrm{KL}(P\,\|\,Q)$": likelihood.kl_divergence(coin, grid),
             r"$E_P[-\log Q] = H + \mathrm{KL}$": likelihood.expected_nll(coin, grid)}

    fig, (ax_bar, ax) = plt.subplots(1, 2, figsize=(WIDTH, 3.8), width_ratios=[1, 2.6],
                                     layout="constrained")
    ax_bar.bar(np.arange(2) - 0.2, coin, width=0.4, label="$P$ (true)")
    ax_bar.bar(np.arange(2) + 0.2, [0.0, 0.0], width=0.4, label="$Q$ (model)")
    ax_bar.set(xticks=[0, 1], xticklabels=["$y = 0$", "$y = 1$"], ylim=(0, 1.3),
               yticks=np.linspace(0, 1, 6), ylabel="probability", title="$P$ and $Q$")
    ax_bar.legend(loc="upper center", ncols=2)  # above the bars, whatever Q is
    for label, curve in terms.items():
        (line,) = ax.plot(qs, curve, label=label)
        ax.plot([], [], "o", color=line.get_color())  # the value at q: set_cross_entropy_q
    ax.axvline(p, color="k", ls="--", lw=1, label="$Q = P$ (minimum)")
    ax.set(xlim=(0, 1), ylim=(0, 3.5), xlabel="$Q(y = 1)$", ylabel="nats")  # fits 3.23 at q = 0.99
    ax.legend(loc="upper center", ncols=2, frameon=True)   # over the line Q = P
    set_cross_entropy_q(fig, p, q)
    return fig


def set_cross_entropy_q(fig: Figure, p: float, q: float) -> None:
    """Move a :func:`plot_cross_entropy_decomposition` figure to ``Q(y = 1) = q``: the model's
    bars, the three marked values and the title ``E_P[-log Q] = H(P) + KL(P || Q)``.

    The slider of notebook 01 calls this on one figure instead of drawing a new one.
    """
    p, q = _probability("p", p), _probability("q", q)
    coin, current = np.array([1 - p, p]), np.array([1 - q, q])
    values = [likelihood.entropy(coin), likelihood.kl_divergence(coin, current),
              likelihood.expected_nll(coin, current)]
    bars, dots, title = _cross_entropy_marks(fig)
    for bar, height in zip(bars, current, strict=True):
        bar.set_height(height)
    for dot, value in zip(dots, values, strict=True):
        dot.set_data([q], [value])
    title.set_text(f"{values[2]:.3f} = {values[0]:.3f} + {values[1]:.3f}"
                 r"  ($E_P[-\log Q] = H + \mathrm{KL}$)")


def _cross_entropy_marks(fig: Figure) -> tuple[list[Artist], list[Artist], Artist]:
    """The model's two bars, the three marked values and the title of the right panel."""
    ax_bar, ax = fig.axes[:2]
    return list(ax_bar.containers[1]), ax.lines[1:6:2], ax.title


def cross_entropy_moving(fig: Figure) -> list[Artist]:
    """The artists :func:`set_cross_entropy_q` changes (the slider redraws only these)."""
    bars, dots, title = _cross_entropy_marks(fig)
    return [*bars, *dots, title]


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
    tile = min(1.6, WIDTH / n)    # inches per digit: the row fills at most WIDTH
    fig, axes = plt.subplots(1 + len(probs), n, figsize=(tile * n, 1.2 + 1.6 * len(probs)),
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
            if i == 0:
                ax.set_ylabel(f"{name}\n$h_k$")
            else:
                ax.set_yticklabels([])
    fig.supxlabel("class $k$")
    fig.suptitle("Softmax outputs as class probabilities (orange: the true label)")
    return fig
