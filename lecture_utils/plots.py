"""The plot style of every figure, and the figures of cost surfaces (notebooks 00, 02, 03, 06).

Pure functions: data in, matplotlib ``Figure``/``Axes`` out, so tests can call them. The
figures of the other topics live beside them: ``likelihood_plots`` (notebook 01),
``training_plots`` (04, 05) and ``propagation_plots`` (07).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import TYPE_CHECKING

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from lecture_utils._checks import integer, positive
from lecture_utils.tiny import BackpropTinyExample, grid

if TYPE_CHECKING:
    from lecture_utils.trajectories import Cost

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


