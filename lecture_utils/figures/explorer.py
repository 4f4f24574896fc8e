"""The optimiser explorer of notebook 03: a trajectory on the contours, its loss, a readout.

:func:`explore` is the pure part (parameters in, figure out) that tests and the benchmark call;
``lecture_utils.figures.widgets.optimizer_explorer`` wraps it in sliders. The contours are drawn
once,
by :func:`make_view`; a slider move only reruns
:func:`~lecture_utils.optim.trajectories.run_trajectory`,
moves the line data (``set_data``), rewrites the readout text and blits the moving lines onto
the stored background (:meth:`ExplorerView.render_png`).

Slides: "Gradient descent, η = 0.25 / 0.35", "Newton's method, too complex", "Momentum method
(Polyak, 1964)", "Momentum method with noisy gradient", all on Tiny Example II.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from lecture_utils.analysis.tiny import TINY_II, grid
from lecture_utils.figures import plots
from lecture_utils.figures.live_figure import Blitter
from lecture_utils.optim.optimizers import OPTIMIZERS, Optimizer, make_optimizer
from lecture_utils.optim.trajectories import Cost, Trajectory, run_trajectory

__all__ = ["METHODS", "ExplorerView", "explore", "loss_axis", "make_view", "optimizer_kwargs",
           "stability_limit", "used_controls"]

#: The explorer's menu: the registry's name -> its key in ``optimizers.OPTIMIZERS``.
METHODS: dict[str, str] = {OPTIMIZERS[key].name: key for key in (
    "gd", "momentum", "nesterov", "adam", "newton", "damped_newton", "saddle_free_newton")}
_NEWTON = {"newton", "damped_newton", "saddle_free_newton"}
#: C − C* is clipped to this range; the loss axis spans whole decades around the data within it.
LOSS_RANGE = (1e-12, 1e3)


def optimizer_kwargs(method: str, eta: float, alpha: float = 0.9, damping: float = 1.0
                     ) -> dict[str, float]:
    """The arguments of ``optimizers.make_optimizer(method, ...)`` behind the explorer's controls.

    Gradient descent and Adam use η; momentum and Nesterov use η and α; the Newton family
    takes the full step (η = 1) and the damped/saddle-free variants use δ = ``damping``
    (H + δI, |H| + δI).
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

    η drives the first-order methods, α only momentum and Nesterov, δ only the damped and
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
    the loss panel alone is drawn again when its axis changes (a new number of steps, or the
    losses leave the decades the axis spans), the contours never.
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
    _blitter: Blitter | None = field(default=None, init=False)

    @property
    def moving(self) -> list[Artist]:
        """The artists a slider move changes."""
        return [self.path, self.start, self.end, self.loss]

    def render_png(self) -> bytes:
        """The figure as PNG bytes, drawn with the Agg canvas (blitting the static part)."""
        if self._blitter is None:
            self._blitter = Blitter(self.fig, self.moving, panels=[self.ax_loss])
        return self._blitter.png(key=(self.ax_loss.get_xlim(), self.ax_loss.get_ylim()))

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
    fig = Figure(figsize=(plots.WIDTH, 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax_path, ax_loss = fig.subplots(1, 2, width_ratios=[1.35, 1.0])
    fig.get_layout_engine().set(wspace=0.1)  # room between the colour bar and the loss panel
    marks = {} if minima is None else {"minima": minima}
    if hasattr(cost, "saddle"):
        marks["saddle"] = np.atleast_2d(cost.saddle)
    plots.plot_cost_contours(cost, w1_range=w1_range, w2_range=w2_range, marks=marks,
                             ax=ax_path, title="trajectory on the cost contours", colorbar=True)
    path, start = plots.plot_trajectory(ax_path, np.zeros((1, 2)), color="C3",
                                        label=r"$\theta_k$")
    (end,) = ax_path.plot([], [], "s", color="C3", ms=7, label=r"$\theta$ at the last step",
                          zorder=4)
    ax_path.legend(loc="lower right", fontsize=8, framealpha=0.8, frameon=True)
    if minima is None:
        c_min = float(np.min(cost.value(grid(w1_range, w2_range, 201))))
        minima = np.zeros((0, 2))
    else:
        minima = np.atleast_2d(np.asarray(minima, dtype=float))
        c_min = float(np.min(cost.value(minima)))
    (loss,) = ax_loss.semilogy([], [], "-", color="C3", lw=1.5)
    ax_loss.set(xlabel="iteration $k$", ylabel=r"$C(\theta_k) - C^*$",
                title="loss above the minimum", ylim=LOSS_RANGE)
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
    shown = np.clip(traj.losses - view.c_min, *LOSS_RANGE)
    view.loss.set_data(k, shown)
    right = view.ax_loss.get_xlim()[1]
    if not steps <= right <= 2 * steps:  # else keep the axis: a steps slider moved back and
        # forth draws the loss panel once, and a drag once in ten steps, not on every move
        view.ax_loss.set_xlim(0, 10 * -(-max(steps, 1) // 10))
    lo, hi = view.ax_loss.get_ylim()
    want_lo, want_hi = loss_axis(shown)
    if not (want_lo / 1e3 <= lo <= shown.min() and want_hi <= hi <= 10 * want_hi):
        view.ax_loss.set_ylim(want_lo, want_hi)  # else keep the axis (and the background)
    view.readout = _readout(view, opt, method, eta, alpha)
    return view


def loss_axis(losses: np.ndarray) -> tuple[float, float]:
    """Limits of the log loss axis: whole decades around ``losses`` (> 0), at least three.

    The lower limit moves in steps of three decades, so a slider move rarely changes the axis
    (a change redraws the figure's static part); :func:`explore` also keeps the current axis
    while the losses fit it with at most one such step to spare below and a decade above.
    """
    lo = 3 * np.floor(np.log10(np.min(losses)) / 3)
    hi = np.ceil(np.log10(np.max(losses)))
    return float(10.0 ** min(lo, hi - 3)), float(10.0 ** hi)


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
