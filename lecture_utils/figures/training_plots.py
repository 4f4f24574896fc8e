"""Figures of mini-batch training (notebooks 04 and 05): learning curves, schedules, errors.

Pure functions: data in, matplotlib ``Figure`` out; the histories are ``training.History``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from lecture_utils._checks import integer, positive
from lecture_utils.figures.plots import WIDTH

if TYPE_CHECKING:
    from collections.abc import Callable

    from lecture_utils.analysis.gradient_noise import GradientNoise
    from lecture_utils.optim.training import History


def plot_weight_gallery(weights: Mapping[str, np.ndarray], n_units: int = 64, cols: int = 16,
                        image_shape: tuple[int, int] = (28, 28), *,
                        scale: Literal["robust", "unit"] = "robust",
                        percentile: float = 99.5, tile: float | None = None,
                        labels: Mapping[str, str] | None = None) -> Figure:
    """First-layer weights as images: row ``W(1)[j, :]`` of hidden unit j reshaped to 28×28.

    Slide "W(1) after epoch 50 (final)": what each hidden unit ``h_j(1) = relu(W(1)_j · x + b_j)``
    responds to. ``weights``: panel title -> a matrix of shape ``(n_hidden, 784)`` (``W(1)`` at
    initialisation, after training, or the change ``ΔW(1)``); the first ``n_units`` rows are
    shown, ``cols`` tiles of ``tile`` inches per row (default: as wide as the figure's
    ``WIDTH`` allows), one panel under the other. Diverging
    colour map, red positive, blue negative, white 0, with symmetric limits per ``scale``:
    ``"robust"`` ±(``percentile`` of |w| over the panel; the few larger weights saturate),
    ``"unit"`` ±max_l |w_jl| for each tile (the colour bar shows w_jl / max_l |w_jl|).
    ``labels``: panel title -> colour-bar label
    (default ``weight W(1)_jl``; label a change as ``ΔW(1)_jl``).
    """
    if not weights:
        raise ValueError("weights must map at least one panel title to a weight matrix")
    size = image_shape[0] * image_shape[1]
    for name, w in weights.items():
        if np.ndim(w) != 2 or np.shape(w)[1] != size:
            raise ValueError(f"weights[{name!r}] must have shape (n_hidden, {size}), "
                             f"got {np.shape(w)}")
    if scale not in ("robust", "unit"):
        raise ValueError(f"scale must be 'robust' or 'unit', got {scale!r}")
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {percentile!r}")
    n_units = integer("n_units", n_units, minimum=1)
    cols = integer("cols", cols, minimum=1)
    labels = dict(labels or {})
    shown = {name: np.asarray(w, dtype=float)[:n_units] for name, w in weights.items()}
    width = min(cols, max(len(w) for w in shown.values()))
    rows = [-(-len(w) // width) for w in shown.values()]
    tile = (WIDTH - 1.6) / width if tile is None else positive("tile", tile)   # 1.6 in: colour bar
    fig = plt.figure(figsize=(width * tile + 1.6, sum(r * tile + 0.5 for r in rows)),
                     layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(shown), 1, height_ratios=rows, squeeze=False)[:, 0])
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="white")   # the gaps between the tiles
    for ax, (name, w), n_rows in zip(axes, shown.items(), rows, strict=True):
        label = labels.get(name, "weight $W^{(1)}_{jl}$")
        if scale == "unit":
            w = w / np.maximum(np.abs(w).max(axis=1, keepdims=True), 1e-300)
            limit, label = 1.0, f"{label}\n÷ the max |·| of its unit"
        else:
            limit = float(np.percentile(np.abs(w), percentile)) or 1.0
        im = ax.imshow(_mosaic(w, image_shape, n_rows, width), cmap=cmap, vmin=-limit,
                       vmax=limit, interpolation="nearest")
        ax.set_axis_off()
        fig.colorbar(im, ax=ax, shrink=0.9, label=label,
                     extend="both" if scale == "robust" else "neither")
        how = {"robust": f"colour limits ±{percentile:g}th percentile of |w|",
               "unit": "each unit scaled to its own max |w|"}[scale]
        ax.set_title(f"{name}: units 1–{len(w)}\n({how})")
    return fig


def _mosaic(w: np.ndarray, image_shape: tuple[int, int], rows: int, cols: int) -> np.ndarray:
    """Rows of ``w`` as ``image_shape`` tiles in a ``rows × cols`` grid, NaN gaps between."""
    (h, v), gap = image_shape, max(2, image_shape[0] // 7)
    grid = np.full((rows * (h + gap) - gap, cols * (v + gap) - gap), np.nan)
    for j, unit in enumerate(w):
        top, left = (j // cols) * (h + gap), (j % cols) * (v + gap)
        grid[top:top + h, left:left + v] = unit.reshape(image_shape)
    return grid


def plot_learning_curves(histories: Mapping[str, History], steps_per_epoch: int) -> Figure:
    """Training loss and validation accuracy against epochs, one line per run.

    ``histories``: run name -> a ``training.History`` (of ``train`` or ``train_torch``):
    ``train_loss``/``val_accuracy`` measured at ``eval_step`` (updates), plus the per-update
    mini-batch losses ``step_loss`` drawn faintly. x-axis: epochs = updates / ``steps_per_epoch``.
    """
    if not histories:
        raise ValueError("histories must map at least one run name to a History")
    if steps_per_epoch < 1:
        raise ValueError(f"steps_per_epoch must be >= 1, got {steps_per_epoch}")
    fig, (ax_loss, ax_acc) = plt.subplots(2, 1, figsize=(WIDTH, 6.4), sharex=True,
                                          layout="constrained")
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
    ax_loss.set(yscale="log", ylabel="cross-entropy C (log scale)",
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
    fig, ax = plt.subplots(figsize=(WIDTH, 3.4), layout="constrained")
    for name, schedule in schedules.items():
        ax.plot(x, [schedule(int(i)) for i in k], label=name)
    ax.set(xlabel="epoch" if steps_per_epoch else "update $k$", ylabel=r"step size $\eta_k$",
           title="Step-size schedules", ylim=(0, None))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1))    # beside the lines, not on them
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
    tile = min(1.7, WIDTH / cols)    # inches per digit: the row fills at most WIDTH
    fig, axes = plt.subplots(rows, cols, figsize=(tile * cols, (tile + 0.4) * rows + 0.4),
                             squeeze=False, layout="constrained")
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
    fig, ax = plt.subplots(figsize=(WIDTH, 4.6), layout="constrained")
    for i, (label, noise) in enumerate(noises.items()):
        color = f"C{i}"
        b = np.geomspace(noise.batch_sizes.min(), noise.n, 200)[:-1]  # B = N gives 0
        ax.errorbar(noise.batch_sizes, noise.variance, yerr=2 * noise.stderr, fmt="o",
                    color=color, ms=5, capsize=2, label=f"{label}: measured")
        ax.plot(b, noise.predicted(b), color=color, label="σ²/B · (N − B)/(N − 1)")
        ax.plot(b, noise.sigma2 / b, ":", color=color, label="σ²/B")
        ax.axhline(noise.full_grad_norm2, color=color, ls="--", lw=1, label="signal ‖g‖²")
    ax.set(xscale="log", yscale="log", xlabel="batch size $B$",
           ylabel=r"$\mathbb{E}\,\|g_B - g\|^2$",
           title=f"Mini-batch gradient noise on MNIST ($N$ = {noise.n:,})")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1))   # outside the data
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
    fig, (ax_loss, ax_time) = plt.subplots(1, 2, figsize=(WIDTH, 3.6), layout="constrained")
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
    fig, (ax_all, ax_end) = plt.subplots(2, 1, figsize=(WIDTH, 6.4), layout="constrained")
    for i, (name, h) in enumerate(histories.items()):
        color = f"C{i}"
        k = np.arange(1, len(h.step_loss) + 1)
        ax_all.plot(k, _running_mean(h.step_loss, smooth), color=color, lw=1, label=name)
        start = int((1 - zoom) * len(k))
        steps = np.asarray(h.eval_step)
        near = steps >= start
        ax_end.plot(steps[near], np.asarray(h.train_loss)[near], "o-", color=color, ms=4,
                    label=name)
    ax_all.set(yscale="log", xlabel="update $k$", ylabel="training loss",
               title=f"Mini-batch loss (mean of {smooth} updates)")
    ax_end.set(xlabel="update $k$", ylabel="training loss",
               title="Near the end: loss on the whole training set")
    ax_all.legend()
    ax_end.legend()
    return fig
