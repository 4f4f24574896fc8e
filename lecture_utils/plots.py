"""Plotting helpers shared by the notebooks; one style for every figure.

Pure functions: data in, matplotlib ``Figure``/``Axes`` out, so tests can call them.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from lecture_utils import likelihood
from lecture_utils._checks import integer, positive
from lecture_utils.optimizers import Cost
from lecture_utils.tiny import BackpropTinyExample, grid

if TYPE_CHECKING:  # plots does not import torch; propagation does
    from collections.abc import Callable

    from lecture_utils.gradient_noise import GradientNoise
    from lecture_utils.propagation import Profile
    from lecture_utils.torch_training import History

STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 80,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "image.cmap": "viridis",
}


def use_style() -> None:
    """Apply the project's matplotlib style (called by ``lecture_utils.notebook.setup``)."""
    mpl.rcParams.update(STYLE)


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


def plot_gradient_step_1d(eta: float, theta0: float = 1.0, steps: int = 4) -> Figure:
    """Gradient descent θ ← θ − η·2θ on C(θ) = θ² from ``theta0``: the first ``steps`` steps.

    Slide "Gradient descent" in one dimension: each step multiplies θ by (1 − 2η), so it
    converges for 0 < η < 1, lands on the minimum at η = ½ and overshoots for η > ½.
    """
    eta = positive("eta", eta)
    steps = integer("steps", steps, minimum=1)
    thetas = theta0 * (1 - 2 * eta) ** np.arange(steps + 1)
    grid_ = np.linspace(-1.5 * abs(theta0), 1.5 * abs(theta0), 200)
    fig, ax = plt.subplots(figsize=(5.5, 3.4), layout="constrained")
    ax.plot(grid_, grid_**2, label="C(θ) = θ²")
    for a, b in itertools.pairwise(thetas):
        ax.annotate("", xy=(b, b**2), xytext=(a, a**2),
                    arrowprops={"arrowstyle": "->", "color": "C3"})
    ax.plot(thetas, thetas**2, "o", color="C3",
            label=f"{steps} steps, η = {eta:.2f}: θ ×= 1 − 2η = {1 - 2 * eta:+.2f}")
    ax.set(xlabel="θ", ylabel="C(θ)", title="Gradient descent on C(θ) = θ²",
           xlim=(grid_[0], grid_[-1]), ylim=(-0.1 * theta0**2, 2.4 * theta0**2))
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


def plot_cost_contours(cost: Cost, *, w1_range: tuple[float, float] = (-2.5, 2.5),
                       w2_range: tuple[float, float] = (-2.5, 2.5), n: int = 161,
                       levels: int = 18, marks: Mapping[str, np.ndarray] | None = None,
                       ax: mpl.axes.Axes | None = None, title: str | None = None) -> mpl.axes.Axes:
    """Filled contours of a cost C(w1, w2) (``cost.value(W)``, W of shape (n, n, 2)).

    Levels C_min + (C_max − C_min)·geomspace(1e-3, 1) resolve the narrow valley around a
    minimum (slides "Gradient descent, η = 0.25 / 0.35" on Tiny Example II). ``marks`` maps a
    legend label to points of shape (k, 2), e.g. ``{"minima": c.minima, "saddle": [[0, 0]]}``.
    Returns the Axes (a new figure when ``ax`` is None); draw trajectories on it with
    :func:`plot_trajectory`.
    """
    levels = integer("levels", levels, minimum=2)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.2, 4.4), layout="constrained")
    W = grid(w1_range, w2_range, n)
    Z = np.asarray(cost.value(W), dtype=float)
    lo, span = float(Z.min()), float(np.ptp(Z))
    bounds = lo + span * np.concatenate([[0.0], np.geomspace(1e-3, 1.0, int(levels))])
    norm = mpl.colors.BoundaryNorm(bounds, ncolors=256)
    ax.contourf(W[..., 0], W[..., 1], Z, levels=bounds, norm=norm, cmap="Blues_r", alpha=0.9)
    ax.contour(W[..., 0], W[..., 1], Z, levels=bounds[1:], colors="0.35", linewidths=0.4)
    for (label, pts), marker in zip((marks or {}).items(), ("*", "X", "P", "D"), strict=False):
        pts = np.atleast_2d(np.asarray(pts, dtype=float))
        ax.plot(pts[:, 0], pts[:, 1], marker, ls="none", ms=11, color="k", mfc="gold",
                label=label, zorder=4)  # an explicit colour keeps the colour cycle for paths
    ax.set(xlim=w1_range, ylim=w2_range, xlabel="$w_1$", ylabel="$w_2$", aspect="equal",
           title=title if title is not None else "cost contours")
    ax.grid(False)
    return ax


def plot_trajectory(ax: mpl.axes.Axes, points: np.ndarray, *, label: str | None = None,
                    color: str | None = None, markersize: float = 3.0
                    ) -> tuple[mpl.lines.Line2D, mpl.lines.Line2D]:
    """Draw iterates θ_0 … θ_k (``points`` of shape (k+1, 2)) as a path with dots.

    The start θ_0 is a larger hollow circle. Returns ``(path, start)`` so an interactive
    figure can move them with ``set_data`` instead of redrawing the contours.
    """
    points = np.asarray(points, dtype=float)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must have shape (k+1, 2), got {points.shape}")
    (path,) = ax.plot(points[:, 0], points[:, 1], "-o", ms=markersize, lw=1.2, color=color,
                      label=label, zorder=3)
    (start,) = ax.plot(points[:1, 0], points[:1, 1], "o", ms=9, mfc="none", mew=1.8,
                       color=path.get_color(), zorder=3)
    return path, start


def plot_cost_surface(cost: Cost, *, w1_range: tuple[float, float] = (-2.0, 2.0),
                      w2_range: tuple[float, float] = (-2.0, 2.0), n: int = 81,
                      marks: Mapping[str, np.ndarray] | None = None,
                      ax: mpl.axes.Axes | None = None, title: str | None = None) -> mpl.axes.Axes:
    """3-D surface of a cost C(w1, w2) with marked points lifted onto it (slide "Tiny Example II").

    ``marks`` maps a legend label to points of shape (k, 2), as in :func:`plot_cost_contours`.
    Returns the 3-D Axes (a new figure when ``ax`` is None).
    """
    if ax is None:
        fig = plt.figure(figsize=(6.0, 4.8), layout="constrained")
        ax = fig.add_subplot(projection="3d")
    W = grid(w1_range, w2_range, n)
    Z = np.asarray(cost.value(W), dtype=float)
    ax.plot_surface(W[..., 0], W[..., 1], Z, cmap="viridis", alpha=0.75, linewidth=0,
                    rcount=n, ccount=n)
    for (label, pts), (marker, color) in zip((marks or {}).items(),
                                             (("*", "gold"), ("X", "red"), ("P", "white")),
                                             strict=False):
        pts = np.atleast_2d(np.asarray(pts, dtype=float))
        ax.scatter(pts[:, 0], pts[:, 1], np.asarray(cost.value(pts), dtype=float), marker=marker,
                   s=160, c=color, edgecolors="k", depthshade=False, label=label, zorder=5)
    ax.set(xlabel="$w_1$", ylabel="$w_2$", zlabel="C", title=title or "cost surface")
    if marks:
        ax.legend(loc="upper left")
    return ax


def plot_scaling_step(cost: BackpropTinyExample, w: np.ndarray, c: float, eta: float = 0.1,
                      *, c_range: tuple[float, float] = (0.125, 8.0)) -> Figure:
    """The scaling issue of slide "Backpropagation, tiny example", and one gradient step.

    (w1, w2) and (c·w1, w2/c) give the same output w2·w1·x, but the gradient becomes
    (g1/c, c·g2). Left: both points on the contours of C with their steps −η∇C. Right: C after
    one step θ − η∇C(θ) from the rescaled point, as a function of c.
    """
    eta = positive("eta", eta)
    w = np.asarray(w, dtype=float)
    scaled = cost.rescale(w, c)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11.0, 4.6), layout="constrained")
    hi = 1.15 * max(c_range[1] * abs(w[0]), abs(w[1]) / c_range[0])
    plot_cost_contours(cost, w1_range=(-0.3, hi), w2_range=(-0.3, hi), ax=left,
                       title=f"same output, different gradients (c = {c:.3g})")
    for point, color, label in ((w, "orange", "(w1, w2)"), (scaled, "C3", "(c·w1, w2/c)")):
        step = -eta * cost.grad(point)
        left.plot(*point, "o", color=color, ms=8, mec="k",
                  label=f"{label}: ∇C = ({cost.grad(point)[0]:.3g}, {cost.grad(point)[1]:.3g})")
        left.annotate("", xy=point + step, xytext=point,
                      arrowprops={"arrowstyle": "-|>", "color": color, "lw": 2})
    left.legend(loc="upper right", fontsize=8)
    cs = np.geomspace(*c_range, 241)
    after = cost.value(cost.rescale(w, cs[:, None]) - eta * cost.grad(cost.rescale(w, cs[:, None])))
    right.semilogx(cs, after, label="C after one step from (c·w1, w2/c)")
    right.axhline(float(cost.value(w)), color="0.4", ls="--", label="C before the step")
    step_c = scaled - eta * cost.grad(scaled)
    right.plot(c, float(cost.value(step_c)), "o", color="C3", mec="k", ms=8, label=f"c = {c:.3g}")
    right.set(xlabel="scale factor c", ylabel="C", ylim=(0, 3 * float(cost.value(w))),
              title=f"one gradient step, η = {eta:g}")
    ticks = [t for t in 2.0 ** np.arange(-6, 7) if c_range[0] <= t <= c_range[1]]
    right.set_xticks(ticks, [f"1/{1 / t:g}" if t < 1 else f"{t:g}" for t in ticks])
    right.xaxis.set_minor_locator(mpl.ticker.NullLocator())
    right.legend(fontsize=8)
    return fig


def plot_signal_profiles(profiles: Mapping[str, Profile], *, title: str | None = None) -> Figure:
    """Per-layer std of the activations h_l (left) and rms of δ_l = ∂C/∂z_l (right), log axis.

    One colour per network in ``profiles`` (label -> ``propagation.Profile``): measured values as
    solid lines with dots, the ReLU mean-field prediction (factor σ²·fan/2 per layer in the
    mean square) dashed. Slides "Exponential growth/decay forward" and "... backward".
    """
    if not profiles:
        raise ValueError("profiles must map at least one label to a propagation.Profile")
    fig, (fwd, bwd) = plt.subplots(1, 2, figsize=(11.0, 4.2), layout="constrained")
    for i, (label, p) in enumerate(profiles.items()):
        layers = np.arange(1, len(p.forward_std) + 1)
        color = f"C{i % 10}"
        fwd.semilogy(layers, p.forward_std, "-o", ms=2.5, color=color, label=label)
        fwd.semilogy(layers, p.forward_predicted, "--", color=color, lw=1)
        bwd.semilogy(layers, p.backward_rms, "-o", ms=2.5, color=color, label=label)
        bwd.semilogy(layers, p.backward_predicted, "--", color=color, lw=1)
    fwd.plot([], [], "k--", lw=1, label="prediction")
    fwd.set(xlabel="layer l", ylabel="std of activations $h_l$", title="forward")
    bwd.set(xlabel="layer l", ylabel=r"rms of $\partial C/\partial z_l$",
            title="backward (gradient flows from right to left)")
    fwd.legend(fontsize=8)
    bwd.legend(fontsize=8)
    fig.suptitle(title or "signal size per layer")
    return fig


def plot_layer_histograms(values: Sequence[np.ndarray], *, ax: mpl.axes.Axes | None = None,
                          title: str = "", xlabel: str = "value", bins: int = 61,
                          limits: tuple[float, float] | None = None) -> mpl.axes.Axes:
    """Normalised histograms of one quantity per layer (``values[l−1]`` for layer l), overlaid.

    Glorot & Bengio (2010), figures 6 and 7: activations and back-propagated gradients per
    layer. ``limits`` fixes the x range (default: the 0.5 % and 99.5 % quantiles of all
    values); values outside it are left out.
    """
    if len(values) == 0:
        raise ValueError("values must hold at least one array (one per layer)")
    flat = [np.asarray(v, dtype=float).ravel() for v in values]
    if limits is None:
        both = np.concatenate(flat)
        limits = (float(np.quantile(both, 0.005)), float(np.quantile(both, 0.995)))
    if ax is None:
        _, ax = plt.subplots(layout="constrained")
    edges = np.linspace(*limits, bins + 1)
    for i, v in enumerate(flat):
        ax.hist(v, bins=edges, histtype="step", density=True, lw=1.3, label=f"layer {i + 1}")
    ax.set(xlabel=xlabel, ylabel="density", title=title, xlim=limits)
    ax.legend(fontsize=7)
    return ax


def plot_weight_gallery(weights: Mapping[str, np.ndarray], n_units: int = 24, cols: int = 6,
                        image_shape: tuple[int, int] = (28, 28)) -> Figure:
    """First-layer weights as images: row ``W(1)[j, :]`` of hidden unit j reshaped to 28×28.

    Slide "W(1) after epoch 50 (final)": what each hidden unit ``h_j(1) = relu(W(1)_j · x + b_j)``
    responds to. ``weights``: panel title -> ``W(1)`` of shape ``(n_hidden, 784)`` (e.g. at
    initialisation and after training); the first ``n_units`` rows are shown. Diverging colour
    map with limits ±max|W| per panel: red pixels push unit j up, blue pixels push it down.
    """
    if not weights:
        raise ValueError("weights must map at least one panel title to a weight matrix")
    size = image_shape[0] * image_shape[1]
    for name, w in weights.items():
        if np.ndim(w) != 2 or np.shape(w)[1] != size:
            raise ValueError(f"weights[{name!r}] must have shape (n_hidden, {size}), "
                             f"got {np.shape(w)}")
    n_units = integer("n_units", n_units, minimum=1)
    cols = integer("cols", cols, minimum=1)
    rows = -(-n_units // cols)
    fig = plt.figure(figsize=(2.6 + 4.2 * len(weights), 0.6 + 4.2 * rows / cols * 1.05),
                     layout="constrained")
    for sub, (name, w) in zip(np.atleast_1d(fig.subfigures(1, len(weights))), weights.items(),
                              strict=True):
        shown = np.asarray(w)[:n_units]
        limit = float(np.abs(shown).max()) or 1.0
        axes = sub.subplots(rows, cols, squeeze=False)
        for j, ax in enumerate(axes.flat):
            ax.set_axis_off()
            if j < len(shown):
                im = ax.imshow(shown[j].reshape(image_shape), cmap="RdBu_r", vmin=-limit,
                               vmax=limit)
        sub.colorbar(im, ax=axes, shrink=0.8, label="weight $W^{(1)}_{jl}$")
        sub.suptitle(f"{name}: units 1–{len(shown)}")
    return fig


def plot_learning_curves(histories: Mapping[str, History], steps_per_epoch: int) -> Figure:
    """Training loss and validation accuracy against epochs, one line per run.

    ``histories``: run name -> a ``History`` (``lecture_utils.training`` or ``torch_training``):
    ``train_loss``/``val_accuracy`` measured at ``eval_step`` (updates), plus the per-update
    mini-batch losses ``step_loss`` drawn faintly. x-axis: epochs = updates / ``steps_per_epoch``.
    """
    if not histories:
        raise ValueError("histories must map at least one run name to a History")
    if steps_per_epoch < 1:
        raise ValueError(f"steps_per_epoch must be >= 1, got {steps_per_epoch}")
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    for i, (name, h) in enumerate(histories.items()):
        color = f"C{i}"
        epochs = np.asarray(h.eval_step) / steps_per_epoch
        if h.step_loss:
            k = np.arange(1, len(h.step_loss) + 1) / steps_per_epoch
            ax_loss.plot(k, h.step_loss, color=color, alpha=0.15, lw=0.5)
        ax_loss.plot(epochs, h.train_loss, "o-", color=color, ms=3, label=f"{name} (training set)")
        if h.val_accuracy:  # from the first evaluation after training started
            trained = np.asarray(h.eval_step) > 0
            ax_acc.plot(epochs[trained], 100 * np.asarray(h.val_accuracy)[trained], "o-",
                        color=color, ms=3, label=name)
    ax_loss.set(yscale="log", xlabel="epoch", ylabel="cross-entropy C (log scale)",
                title="Training loss (faint: single mini-batches)")
    ax_loss.legend()
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)",
               title="Validation accuracy (at initialisation ≈ 10 %)")
    if ax_acc.lines:
        ax_acc.legend(loc="lower right")
    return fig


def plot_schedules(schedules: Mapping[str, Callable[[int], float]], n_steps: int,
                   steps_per_epoch: int | None = None) -> Figure:
    """Step size ``η_k = schedule(k)`` against the update number k (or epochs), one line each.

    Slide "Mini-batch training": anneal η_k towards the end. ``steps_per_epoch`` switches the
    x-axis to epochs (600 updates of 100 per MNIST epoch).
    """
    if not schedules:
        raise ValueError("schedules must map at least one label to a schedule")
    k = np.arange(integer("n_steps", n_steps, minimum=1))
    x = k / steps_per_epoch if steps_per_epoch else k
    fig, ax = plt.subplots(layout="constrained")
    for name, schedule in schedules.items():
        ax.plot(x, [schedule(int(i)) for i in k], label=name)
    ax.set(xlabel="epoch" if steps_per_epoch else "update k", ylabel="step size η_k",
           title="Step-size schedules", ylim=(0, None))
    ax.legend()
    return fig


def plot_confusion_matrix(matrix: np.ndarray, title: str = "Confusion matrix") -> Figure:
    """Counts ``M[i, j]`` of true class i predicted as j, with the numbers written in.

    The colour shows the off-diagonal errors only (the diagonal is drawn grey), so the few
    confusions are visible next to thousands of correct predictions.
    """
    m = np.asarray(matrix)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"matrix must be square (K, K), got shape {m.shape}")
    k = m.shape[0]
    errors = np.where(np.eye(k, dtype=bool), np.nan, m).astype(float)
    fig, ax = plt.subplots(figsize=(6.4, 5.6), layout="constrained")
    ax.imshow(np.where(np.eye(k, dtype=bool), 1.0, np.nan), cmap="Greys", vmin=0, vmax=4)
    im = ax.imshow(errors, cmap="Reds", vmin=0)
    top = np.nanmax(errors) if k > 1 else 0
    for i, j in np.ndindex(m.shape):
        dark = i != j and m[i, j] > 0.6 * top
        ax.text(j, i, str(int(m[i, j])), ha="center", va="center", fontsize=8,
                color="white" if dark else "black")
    fig.colorbar(im, ax=ax, label="misclassified examples (off-diagonal)")
    ax.set(xticks=range(k), yticks=range(k), xlabel="predicted class", ylabel="true class",
           title=f"{title}: {int(np.trace(m))} of {int(m.sum())} correct")
    ax.grid(False)
    return fig


def plot_digits(images: np.ndarray, titles: Sequence[str], cols: int = 6,
                title: str = "") -> Figure:
    """A grid of 28×28 digits (rows of ``images``, flat or square) with one title each."""
    images = np.asarray(images)
    n = len(images)
    if n == 0 or len(titles) != n:
        raise ValueError(f"images and titles must have the same length >= 1, got {n} and "
                         f"{len(titles)}")
    side = round(float(np.sqrt(images[0].size)))
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.7 * cols, 1.9 * rows + 0.4), squeeze=False,
                             layout="constrained")
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, image, text in zip(axes.flat, images, titles, strict=False):
        ax.imshow(image.reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(text, fontsize=9)
    fig.suptitle(title)
    return fig


def _running_mean(values: Sequence[float], window: int) -> np.ndarray:
    """Mean of the last ``window`` values at every position (fewer at the start)."""
    v = np.asarray(values, dtype=float)
    c = np.concatenate([[0.0], np.cumsum(v)])
    k = np.arange(1, len(v) + 1)
    return (c[k] - c[np.maximum(k - window, 0)]) / np.minimum(k, window)


def plot_gradient_noise(noises: Mapping[str, GradientNoise]) -> Figure:
    """Measured E‖g_B − g‖² against the batch size B (log-log), with its prediction.

    Slide "Mini-batch training": markers (±2 standard errors) are the measurement, solid lines
    σ²/B · (N − B)/(N − 1) (with the finite-population correction), dotted lines σ²/B, dashed
    lines the signal ‖g‖²; noise and signal are equal near B = σ²/‖g‖².
    """
    if not noises:
        raise ValueError("noises must map at least one label to a GradientNoise")
    fig, ax = plt.subplots(figsize=(7.5, 4.6), layout="constrained")
    for i, (label, noise) in enumerate(noises.items()):
        color = f"C{i}"
        b = np.geomspace(noise.batch_sizes.min(), noise.n, 200)[:-1]  # B = N gives 0
        ax.errorbar(noise.batch_sizes, noise.variance, yerr=2 * noise.stderr, fmt="o",
                    color=color, ms=5, capsize=2, label=f"{label}: measured")
        ax.plot(b, noise.predicted(b), color=color, label="σ²/B · (N − B)/(N − 1)")
        ax.plot(b, noise.sigma2 / b, ":", color=color, label="σ²/B")
        ax.axhline(noise.full_grad_norm2, color=color, ls="--", lw=1, label="signal ‖g‖²")
    ax.set(xscale="log", yscale="log", xlabel="batch size B",
           ylabel="E‖g_B − g‖²", title=f"Mini-batch gradient noise on MNIST (N = {noise.n:,})")
    ax.legend(fontsize=7, ncol=2)
    return fig


def plot_epoch_cost(histories: Mapping[int, History]) -> Figure:
    """How far one epoch gets (training loss) and what it costs (seconds) against B.

    Slide "Mini-batch training": an epoch of N examples is ⌈N/B⌉ updates. ``histories``:
    batch size -> the ``History`` of one epoch from the same initial weights.
    """
    if not histories:
        raise ValueError("histories must map at least one batch size to a History")
    sizes = np.array(list(histories))
    runs = list(histories.values())
    fig, (ax_loss, ax_time) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    ax_loss.plot(sizes, [h.train_loss[-1] for h in runs], "o-", label="after one epoch")
    for b, h in zip(sizes, runs, strict=True):
        n = len(h.step_loss)
        ax_loss.annotate(f"{n:,} update{'s' * (n != 1)}", (b, h.train_loss[-1]), fontsize=7,
                         textcoords="offset points", xytext=(4, 6))
    ax_loss.axhline(runs[0].train_loss[0], color="gray", ls="--", label="initial weights")
    ax_loss.set(xscale="log", yscale="log", xlabel="batch size B",
                ylabel="training loss (whole training set)", title="How far one epoch gets")
    ax_loss.legend()
    ax_time.plot(sizes, [h.seconds for h in runs], "o-", color="C1")
    ax_time.set(xscale="log", ylim=(0, None), xlabel="batch size B",
                ylabel="seconds per epoch (this machine)", title="What one epoch costs")
    return fig


def plot_loss_near_end(histories: Mapping[str, History], *, zoom: float = 0.4,
                       smooth: int = 100) -> Figure:
    """The training loss of runs with different step-size schedules, whole run and near the end.

    Slide "Mini-batch training": "important to anneal η_k towards the end". Left: mini-batch
    loss, running mean over ``smooth`` updates (log scale). Right: the loss on the whole
    training set (at ``History.eval_step``) in the last ``zoom`` of the run.
    """
    if not histories:
        raise ValueError("histories must map at least one run name to a History")
    if not 0 < zoom <= 1:
        raise ValueError(f"zoom must be in (0, 1], got {zoom}")
    fig, (ax_all, ax_end) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    for i, (name, h) in enumerate(histories.items()):
        color = f"C{i}"
        k = np.arange(1, len(h.step_loss) + 1)
        ax_all.plot(k, _running_mean(h.step_loss, smooth), color=color, lw=1, label=name)
        start = int((1 - zoom) * len(k))
        steps = np.asarray(h.eval_step)
        near = steps >= start
        ax_end.plot(steps[near], np.asarray(h.train_loss)[near], "o-", color=color, ms=4,
                    label=name)
    ax_all.set(yscale="log", xlabel="update k", ylabel="training loss",
               title=f"Mini-batch loss (mean of {smooth} updates)")
    ax_end.set(xlabel="update k", ylabel="training loss",
               title="Near the end: loss on the whole training set")
    ax_all.legend()
    ax_end.legend()
    return fig
