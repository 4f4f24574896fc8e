"""The plot style of every figure, and the figures of cost surfaces (notebooks 00, 02, 03, 06).

Pure functions: data in, matplotlib ``Figure``/``Axes`` out, so tests can call them. The
figures of the other topics live beside them: ``likelihood_plots`` (notebook 01),
``training_plots`` (04, 05) and ``propagation_plots`` (07).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from lecture_utils._checks import integer, positive
from lecture_utils.analysis.tiny import BackpropTinyExample, grid

if TYPE_CHECKING:
    from lecture_utils.optim.trajectories import Cost

# The widest figure, in inches: 7.2 in at 120 dpi are 864 pixels, which the site's text column
# (about 880 px) and JupyterLab's on a laptop show at 100 %, so no label is scaled down. A row
# of panels shares this width; where a panel would get narrower than about 3.4 in, the panels
# go into two rows. The notebooks' own figures keep to the same width.
WIDTH = 7.2

# 120 dpi: 10-point text is 17 pixels high and 8-point legends 13, readable at 100 % zoom; a
# figure of the default width is 768 pixels, which the site shows unscaled.
STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 120,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "image.cmap": "viridis",
}


def use_style() -> None:
    """Apply the project's matplotlib style (called by ``lecture_utils.course.notebook.setup``)."""
    mpl.rcParams.update(STYLE)


def plot_gradient_step_1d(eta: float, theta0: float = 1.0, steps: int = 4) -> Figure:
    """Gradient descent θ ← θ − η·2θ on C(θ) = θ² from ``theta0``: the first ``steps`` steps.

    Slide "Gradient descent" in one dimension: each step multiplies θ by (1 − 2η), so it
    converges for 0 < η < 1, lands on the minimum at η = ½ and overshoots for η > ½.
    """
    return gradient_step_view(eta, theta0, steps).fig


@dataclass(repr=False, eq=False)
class GradientStepView:
    """The figure of :func:`plot_gradient_step_1d`, built once; :meth:`update` moves the steps
    (the iterates, the arrows between them and their legend entry) to a new η."""

    fig: Figure
    theta0: float
    steps: int
    points: mpl.lines.Line2D
    arrows: list[mpl.text.Annotation]
    label: mpl.text.Text   # the legend entry of the steps

    @property
    def moving(self) -> list[mpl.artist.Artist]:
        """The artists :meth:`update` changes (a slider redraws only these: blitting)."""
        return [*self.arrows, self.points, self.label]

    def update(self, eta: float) -> None:
        """Show the first ``steps`` iterates θ_k = θ_0 (1 − 2η)^k for the step size ``eta``."""
        eta = positive("eta", eta)
        thetas = self.theta0 * (1 - 2 * eta) ** np.arange(self.steps + 1)
        self.points.set_data(thetas, thetas**2)
        for arrow, (a, b) in zip(self.arrows, itertools.pairwise(thetas), strict=True):
            arrow.xy = (b, b**2)
            arrow.set_position((a, a**2))
        label = f"{self.steps} steps, η = {eta:.2f}: θ ×= 1 − 2η = {1 - 2 * eta:+.2f}"
        self.points.set_label(label)
        self.label.set_text(label)


def gradient_step_view(eta: float, theta0: float = 1.0, steps: int = 4) -> GradientStepView:
    """Build the figure of :func:`plot_gradient_step_1d` at ``eta`` (its slider calls update)."""
    steps = integer("steps", steps, minimum=1)
    grid_ = np.linspace(-1.5 * abs(theta0), 1.5 * abs(theta0), 200)
    fig, ax = plt.subplots(figsize=(5.5, 3.4), layout="constrained")
    ax.plot(grid_, grid_**2, label="C(θ) = θ²")
    arrows = [ax.annotate("", xy=(theta0, theta0**2), xytext=(theta0, theta0**2),
                          arrowprops={"arrowstyle": "->", "color": "C3"}) for _ in range(steps)]
    (points,) = ax.plot([], [], "o", color="C3", label=" ")
    ax.set(xlabel="θ", ylabel="C(θ)", title="Gradient descent on C(θ) = θ²",
           xlim=(grid_[0], grid_[-1]), ylim=(-0.1 * theta0**2, 2.4 * theta0**2))
    label = ax.legend(loc="upper center").get_texts()[1]
    view = GradientStepView(fig, float(theta0), steps, points, arrows, label)
    view.update(eta)
    return view


def plot_cost_contours(cost: Cost, *, w1_range: tuple[float, float] = (-2.5, 2.5),
                       w2_range: tuple[float, float] = (-2.5, 2.5), n: int = 161,
                       levels: int = 18, marks: Mapping[str, np.ndarray] | None = None,
                       ax: mpl.axes.Axes | None = None, title: str | None = None,
                       colorbar: bool = False) -> mpl.axes.Axes:
    """Filled contours of a cost C(w1, w2) (``cost.value(W)``, W of shape (n, n, 2)).

    Levels C_min + (C_max − C_min)·geomspace(1e-3, 1) resolve the narrow valley around a
    minimum (slides "Gradient descent, η = 0.25 / 0.35" on Tiny Example II). ``marks`` maps a
    legend label to points of shape (k, 2), e.g. ``{"minima": c.minima, "saddle": [[0, 0]]}``.
    ``colorbar=True`` adds a colour bar of C beside the axes. Returns the Axes (a new figure
    when ``ax`` is None); draw trajectories on it with :func:`plot_trajectory`.
    """
    levels = integer("levels", levels, minimum=2)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.2, 4.4), layout="constrained")
    W = grid(w1_range, w2_range, n)
    Z = np.asarray(cost.value(W), dtype=float)
    lo, span = float(Z.min()), float(np.ptp(Z))
    bounds = lo + span * np.concatenate([[0.0], np.geomspace(1e-3, 1.0, int(levels))])
    norm = mpl.colors.BoundaryNorm(bounds, ncolors=256)
    filled = ax.contourf(W[..., 0], W[..., 1], Z, levels=bounds, norm=norm, cmap="Blues_r",
                         alpha=0.9)
    ax.contour(W[..., 0], W[..., 1], Z, levels=bounds[1:], colors="0.35", linewidths=0.4)
    if colorbar:
        bar = ax.figure.colorbar(filled, ax=ax, label="$C(w_1, w_2)$", shrink=0.85)
        bar.set_ticks(bounds[1::4], labels=[f"{b:.3g}" for b in bounds[1::4]])
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


@dataclass(repr=False, eq=False)
class ScalingStepView:
    """The figure of :func:`plot_scaling_step`, built once; :meth:`update` moves its artists.

    Contours, axes, legends and the curve "C before the step" are static; ``moving`` lists
    what an update changes (the two points, their steps, the curve of C after one step, the
    marker at c and the readout), so a slider can redraw only those (blitting).
    """

    fig: Figure
    cost: BackpropTinyExample
    w: np.ndarray
    cs: np.ndarray
    points: list[mpl.lines.Line2D]
    steps: list[mpl.text.Annotation]
    curve: mpl.lines.Line2D
    marker: mpl.lines.Line2D
    readout: mpl.text.Text

    @property
    def moving(self) -> list[mpl.artist.Artist]:
        """The artists :meth:`update` changes."""
        return [*self.points, *self.steps, self.curve, self.marker, self.readout]

    def update(self, c: float, eta: float) -> None:
        """Show the point rescaled by ``c`` and one step θ − η∇C(θ) from both points."""
        c, eta = positive("c", c), positive("eta", eta)
        cost, w = self.cost, self.w
        scaled = cost.rescale(w, c)
        grads = [cost.grad(w), cost.grad(scaled)]
        for point, g, dot, step in zip((w, scaled), grads, self.points, self.steps, strict=True):
            dot.set_data([point[0]], [point[1]])
            step.xy = point - eta * g
            step.set_position(point)
        rescaled = cost.rescale(w, self.cs[:, None])
        self.curve.set_ydata(cost.value(rescaled - eta * cost.grad(rescaled)))
        after = float(cost.value(scaled - eta * grads[1]))
        self.marker.set_data([c], [after])
        self.readout.set_text(  # plain text with Unicode subscripts: mathtext takes 10 ms
            f"c = {c:.3g}, η = {eta:.3g}\n"
            f"∇C(w₁, w₂) = ({grads[0][0]:.3g}, {grads[0][1]:.3g})\n"
            f"∇C(c·w₁, w₂/c) = ({grads[1][0]:.3g}, {grads[1][1]:.3g})\n"
            f"C = {float(cost.value(w)):.3g} before, {after:.3g} after the step")


def scaling_step_view(cost: BackpropTinyExample, w: np.ndarray, *,
                      c_range: tuple[float, float] = (0.125, 8.0)) -> ScalingStepView:
    """Build the figure of :func:`plot_scaling_step` for the point ``w`` (call ``update``)."""
    w = np.asarray(w, dtype=float)
    lo, hi_c = positive("c_range[0]", c_range[0]), positive("c_range[1]", c_range[1])
    # the contours above the curve: side by side at WIDTH, the legend and the readout would
    # cover the contours
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(WIDTH, 7.6), height_ratios=[1.5, 1],
                                      layout="constrained")
    hi = 1.15 * max(hi_c * abs(w[0]), abs(w[1]) / lo)
    plot_cost_contours(cost, w1_range=(-0.3, hi), w2_range=(-0.3, hi), ax=top, colorbar=True,
                       title="same output $w_2 w_1 x$, different gradients")
    points, steps = [], []
    for color, label in (("orange", "$(w_1, w_2)$"), ("C3", "$(c\\,w_1,\\ w_2/c)$")):
        (dot,) = top.plot(*w, "o", color=color, ms=8, mec="k", label=label, zorder=5)
        points.append(dot)
        steps.append(top.annotate("", xy=w, xytext=w, zorder=5, arrowprops={
            "arrowstyle": "-|>", "color": color, "lw": 2}))
    top.legend(loc="upper right", fontsize=9, title="one step $-\\eta\\nabla C$ from",
                title_fontsize=9)
    readout = top.text(0.97, 0.76, "", transform=top.transAxes, ha="right", va="top",
                        fontsize=9, zorder=6, bbox={"boxstyle": "round", "fc": "white",
                                                    "ec": "0.6", "alpha": 0.9})
    cs = np.geomspace(lo, hi_c, 241)
    (curve,) = bottom.semilogx(cs, np.zeros_like(cs),
                              label="$C$ after one step from $(c\\,w_1, w_2/c)$")
    bottom.axhline(float(cost.value(w)), color="0.4", ls="--", label="$C$ before the step")
    (marker,) = bottom.plot([1.0], [0.0], "o", color="C3", mec="k", ms=8,
                           label="at the slider's $c$")
    bottom.set(xlabel="scale factor $c$", ylabel="$C$", xlim=(lo, hi_c),
              ylim=(0, 3 * float(cost.value(w))),
              title="one gradient step $\\theta - \\eta\\,\\nabla C(\\theta)$")
    ticks = [t for t in 2.0 ** np.arange(-6, 7) if lo <= t <= hi_c]
    bottom.set_xticks(ticks, [f"1/{1 / t:g}" if t < 1 else f"{t:g}" for t in ticks])
    bottom.xaxis.set_minor_locator(mpl.ticker.NullLocator())
    bottom.legend(loc="upper center", fontsize=9)
    return ScalingStepView(fig, cost, w, cs, points, steps, curve, marker, readout)


def plot_scaling_step(cost: BackpropTinyExample, w: np.ndarray, c: float, eta: float = 0.1,
                      *, c_range: tuple[float, float] = (0.125, 8.0)) -> Figure:
    """The scaling issue of slide "Backpropagation, tiny example", and one gradient step.

    (w1, w2) and (c·w1, w2/c) give the same output w2·w1·x, but the gradient becomes
    (g1/c, c·g2). Top: both points on the contours of C with their steps −η∇C. Below: C after
    one step θ − η∇C(θ) from the rescaled point, as a function of c.
    """
    view = scaling_step_view(cost, w, c_range=c_range)
    view.update(c, eta)
    return view.fig


