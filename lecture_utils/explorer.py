"""The optimiser explorer of notebook 03: a trajectory on the contours, its loss, a readout.

:func:`explore` is the pure part (parameters in, figure out) that tests and the benchmark call;
``lecture_utils.widgets.optimizer_explorer`` wraps it in sliders. The contours are drawn once,
by :func:`make_view`; a slider move only reruns :func:`~lecture_utils.trajectories.run_trajectory`,
moves the line data (``set_data``), rewrites the readout text and blits the moving lines onto
the stored background (:meth:`ExplorerView.render_png`).

Slides: "Gradient descent, η = 0.25 / 0.35", "Newton's method, too complex", "Momentum method
(Polyak, 1964)", "Momentum method with noisy gradient", all on Tiny Example II.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image

from lecture_utils import plots
from lecture_utils.optimizers import Optimizer, make_optimizer
from lecture_utils.tiny import TINY_II, grid
from lecture_utils.trajectories import Cost, Trajectory, run_trajectory

__all__ = ["METHODS", "ExplorerView", "explore", "make_view", "optimizer_kwargs", "stability_limit",
           "used_controls"]

#: Menu label -> key of ``optimizers.OPTIMIZERS``.
METHODS: dict[str, str] = {
    "gradient descent": "gd",
    "momentum": "momentum",
    "Nesterov momentum": "nesterov",
    "Adam": "adam",
    "Newton": "newton",
    "damped Newton": "damped_newton",
    "saddle-free Newton": "saddle_free_newton",
}
_NEWTON = {"newton", "damped_newton", "saddle_free_newton"}
#: Fixed range of the loss axis (C − C* is clipped to it), so a slider move need not redraw it.
LOSS_RANGE = (1e-12, 1e3)


def optimizer_kwargs(method: str, eta: float, alpha: float = 0.9, damping: float = 1.0
                     ) -> dict[str, float]:
    """The arguments of ``optimizers.make_optimizer(method, ...)`` behind the explorer's controls.

    Gradient descent and Adam use η; momentum and Nesterov use η and α; the Newton family
    takes the full step (η = 1) and the damped/saddle-free variants use λ = ``damping``.
    ``method`` is a key of ``optimizers.OPTIMIZERS`` listed in :data:`METHODS`.
    """
    if method not in METHODS.values():
        raise ValueError(f"method must be one of {list(METHODS.values())}, got {method!r}")
    if method in {"momentum", "nesterov"}:
        return {"lr": eta, "momentum": alpha}
    if method == "newton":
        return {}
    if method in _NEWTON:
        return {"damping": damping}
    return {"lr": eta}


def used_controls(method: str, sigma: float) -> set[str]:
    """The explorer's controls that change the trajectory for ``method`` and noise ``sigma``.

    η drives the first-order methods, α only momentum and Nesterov, λ only the damped and
    saddle-free Newton steps, and the noise seed matters only when σ > 0. The widget disables
    the others, so no slider silently does nothing.
    """
    if method not in METHODS.values():
        raise ValueError(f"method must be one of {list(METHODS.values())}, got {method!r}")
    used = {"method", "sigma", "w1", "w2", "steps"}
    if method not in _NEWTON:
        used.add("eta")
    if method in {"momentum", "nesterov"}:
        used.add("alpha")
    if method in _NEWTON - {"newton"}:
        used.add("damping")
    if sigma > 0:
        used.add("seed")
    return used


@dataclass(repr=False)
class ExplorerView:
    """The explorer's figure and the artists a slider move updates.

    :meth:`render_png` draws the static part (contours, axes, legend) once into an Agg buffer,
    keeps a copy, and afterwards only restores that copy and draws the moving artists (blitting);
    a new background is drawn only when the loss axis changes (a new number of steps).
    In Jupyter the view shows itself as that PNG.
    """

    fig: Figure
    ax_path: Axes
    ax_loss: Axes
    path: Line2D
    start: Line2D
    end: Line2D
    loss: Line2D
    cost: Cost
    minima: np.ndarray  #: (k, 2) known minima (distance and C − C* are measured to them)
    c_min: float
    trajectory: Trajectory | None = None
    readout: str = ""  #: optimiser, λ(H) at θ_k and θ*, η·λ_max against its limit, status
    _background: object = field(default=None, init=False)
    _background_key: tuple = field(default=(), init=False)

    @property
    def moving(self) -> list[Artist]:
        """The artists a slider move changes."""
        return [self.path, self.start, self.end, self.loss]

    def render_png(self) -> bytes:
        """The figure as PNG bytes, drawn with the Agg canvas (blitting the static part)."""
        canvas = self.fig.canvas
        key = (self.ax_loss.get_xlim(), self.ax_loss.get_ylim(), canvas.get_width_height())
        if self._background is None or key != self._background_key:
            for artist in self.moving:
                artist.set_visible(False)
            canvas.draw()
            self.fig.set_layout_engine("none")  # keep the positions found by the first draw
            self._background = canvas.copy_from_bbox(self.fig.bbox)
            self._background_key = key
            for artist in self.moving:
                artist.set_visible(True)
        canvas.restore_region(self._background)
        for artist in self.moving:
            self.fig.draw_artist(artist)
        rgba = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
        buf = io.BytesIO()
        rgba.convert("RGB").save(buf, format="png", compress_level=1)
        return buf.getvalue()

    def _repr_png_(self) -> bytes:
        return self.render_png()

    def __repr__(self) -> str:
        traj = self.trajectory
        run = "no run yet" if traj is None else f"{traj.steps_taken} steps, {traj.reason}"
        return f"<optimizer explorer: {run}>"


def make_view(cost: Cost = TINY_II, *, w1_range: tuple[float, float] = (-2.5, 2.5),
              w2_range: tuple[float, float] = (-2.5, 2.5),
              minima: np.ndarray | None = None) -> ExplorerView:
    """Draw the static part once: contours with critical points, empty trajectory and loss lines.

    ``minima`` defaults to ``cost.minima`` (Tiny Example II: ±(√1.46, √1.46)); without it the
    loss panel shows C(θ_k) − min over the grid.
    """
    if minima is None:
        minima = getattr(cost, "minima", None)
    fig = Figure(figsize=(10.4, 4.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax_path, ax_loss = fig.subplots(1, 2, width_ratios=[1.0, 1.25])
    marks = {} if minima is None else {"minima": minima}
    if hasattr(cost, "saddle"):
        marks["saddle"] = np.atleast_2d(cost.saddle)
    plots.plot_cost_contours(cost, w1_range=w1_range, w2_range=w2_range, marks=marks,
                             ax=ax_path, title="trajectory on the cost contours")
    path, start = plots.plot_trajectory(ax_path, np.zeros((1, 2)), color="C3", label="θ_k")
    (end,) = ax_path.plot([], [], "s", color="C3", ms=7, label="θ at the last step", zorder=4)
    ax_path.legend(loc="lower right", fontsize=8, framealpha=0.8, frameon=True)
    if minima is None:
        c_min = float(np.min(cost.value(grid(w1_range, w2_range, 201))))
        minima = np.zeros((0, 2))
    else:
        minima = np.atleast_2d(np.asarray(minima, dtype=float))
        c_min = float(np.min(cost.value(minima)))
    (loss,) = ax_loss.semilogy([], [], "-", color="C3", lw=1.5)
    ax_loss.set(xlabel="iteration k", ylabel="C(θ_k) − C*", title="loss above the minimum",
                ylim=LOSS_RANGE)
    return ExplorerView(fig, ax_path, ax_loss, path, start, end, loss, cost, minima, c_min)


def explore(view: ExplorerView | None = None, *, method: str = "gd", eta: float = 0.25,
            alpha: float = 0.9, damping: float = 1.0, sigma: float = 0.0,
            start: Sequence[float] = (0.5, 1.5), steps: int = 50, seed: int = 0) -> ExplorerView:
    """Run ``method`` from ``start`` for ``steps`` steps and show it on ``view`` (new if None).

    Only the trajectory and the loss line move. ``view.readout`` (text shown beside the figure)
    gives the Hessian eigenvalues λ at the last iterate and at the nearest minimum, and
    η·λ_max against 2 (gradient descent is stable near a minimum iff η·λ_max < 2), 2(1 + α)
    for momentum or 2(1 + α)/(1 + 2α) for Nesterov. Returns the view; ``view.trajectory``
    holds the run.
    """
    view = make_view() if view is None else view
    opt = make_optimizer(method, **optimizer_kwargs(method, eta, alpha, damping))
    traj = run_trajectory(view.cost, opt, start, steps, noise_sigma=sigma, seed=seed)
    view.trajectory = traj
    pts = traj.points
    view.path.set_data(pts[:, 0], pts[:, 1])
    view.start.set_data(pts[:1, 0], pts[:1, 1])
    view.end.set_data(pts[-1:, 0], pts[-1:, 1])
    k = np.arange(len(traj.losses))
    view.loss.set_data(k, np.clip(traj.losses - view.c_min, *LOSS_RANGE))
    view.ax_loss.set_xlim(0, max(steps, 1))
    view.readout = _readout(view, opt, method, eta, alpha)
    return view


def stability_limit(method: str, alpha: float = 0.0) -> tuple[str, float]:
    """Largest stable η·λ on a quadratic with curvature λ: (formula, value).

    Gradient descent: e ← (1 − ηλ)e is stable iff ηλ < 2. Heavy ball: the roots of
    z² − (1 + α − ηλ)z + α lie in the unit disc iff ηλ < 2(1 + α). Nesterov (gradient at the
    look-ahead point): z² − (1 + α)(1 − ηλ)z + α(1 − ηλ), stable iff ηλ < 2(1 + α)/(1 + 2α).
    """
    if method == "gd":
        return "2", 2.0
    if method == "momentum":
        return "2(1+α)", 2.0 * (1.0 + alpha)
    if method == "nesterov":
        return "2(1+α)/(1+2α)", 2.0 * (1.0 + alpha) / (1.0 + 2.0 * alpha)
    raise ValueError(f"method must be 'gd', 'momentum' or 'nesterov', got {method!r}")


def _readout(view: ExplorerView, opt: Optimizer, method: str, eta: float, alpha: float) -> str:
    """Text box: the optimiser, λ(H) at θ_k and at the nearest minimum, stability, status."""
    traj = view.trajectory
    assert traj is not None
    last = traj.points[-1]
    where = {"θ_k": last}
    if len(view.minima):
        where["θ*"] = view.minima[np.argmin(np.linalg.norm(view.minima - last, axis=1))]
    lines = [repr(opt)]
    for label, w in where.items():
        lam = np.linalg.eigvalsh(np.asarray(view.cost.hessian(w), dtype=float))[::-1]
        text = f"λ(H({label})) = {', '.join(f'{x:6.3f}' for x in lam)}"
        if method not in _NEWTON:
            text += f"   η·λ_max = {eta * lam[0]:.3f}"
        lines.append(text)
    if method in _NEWTON:
        lines.append("full step θ ← θ − M(H)⁻¹ g (η unused)")
    elif method == "adam":
        lines.append("Adam divides g by its running RMS: no η·λ limit")
    else:
        name, limit = stability_limit(method, alpha)
        lines.append(f"stable near θ* iff η·λ_max < {name} = {limit:.3f}")
    if traj.diverged:
        lines.append(f"stopped after {traj.steps_taken} steps: {traj.reason}")
    else:
        dist = np.linalg.norm(where["θ*"] - last) if "θ*" in where else float("nan")
        shown = "< 1e-12" if dist < 1e-12 else f"= {dist:.2e}"  # no round-off digits
        lines.append(f"{traj.steps_taken} steps: |θ_k − θ*| {shown}")
    return "\n".join(lines)
