"""Thin ipywidgets wrappers around pure plotting functions.

Each wrapper only builds sliders around a figure of the plotting modules, shown by one
:class:`~lecture_utils.figures.live_figure.LiveFigure` (a PNG image redrawn in place, no backlog
while
dragging): the figure is built once and a move updates its artists, redrawing only those
(``moving=``, blitting), so tests call the plotting functions and the notebooks stay
interactive.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from lecture_utils.analysis import tiny
from lecture_utils.figures import (
    explorer,
    likelihood_plots,
    plots,
    propagation_plots,
    training_plots,
)
from lecture_utils.figures.live_figure import LiveFigure

if TYPE_CHECKING:  # torch is imported only when a training widget is used
    from collections.abc import Callable, Sequence

    from matplotlib.figure import Figure
    from torch import nn


def cross_entropy_decomposition(p: float = 0.3, q: float = 0.7) -> LiveFigure:
    """Slider for ``Q(y = 1)`` on one ``likelihood_plots.plot_cross_entropy_decomposition``.

    A move calls ``likelihood_plots.set_cross_entropy_q`` and redraws only what it changes:
    the model's bars, the three marked values and the title (the curves are kept as pixels).
    """
    slider = widgets.FloatSlider(value=q, min=0.01, max=0.99, step=0.01, description="Q(y = 1)",
                                 readout_format=".2f")
    fig = likelihood_plots.plot_cross_entropy_decomposition(p, q)
    return LiveFigure({"q": slider}, figure=fig, moving=likelihood_plots.cross_entropy_moving(fig),
                      update=lambda q: likelihood_plots.set_cross_entropy_q(fig, p, q))


def gradient_step_1d(eta: float = 0.25) -> LiveFigure:
    """Slider for η on one :func:`plots.plot_gradient_step_1d` figure (notebook 00's widget
    check): a move redraws only the steps and their legend (``plots.GradientStepView``)."""
    slider = widgets.FloatSlider(value=eta, min=0.05, max=1.05, step=0.05, description="η")
    view = plots.gradient_step_view(eta)
    return LiveFigure({"eta": slider}, figure=view.fig, update=view.update, moving=view.moving)


def optimizer_explorer(view: explorer.ExplorerView | None = None, *, method: str = "gd",
                       eta: float = 0.25, alpha: float = 0.9, damping: float = 1.0,
                       sigma: float = 0.0, start: tuple[float, float] = (0.5, 1.5),
                       steps: int = 50, seed: int = 0) -> LiveFigure:
    """Controls for :func:`explorer.explore` above the figure, shown as a PNG image.

    Method, η (log slider), α, damping δ, noise σ and its seed, start point and number of
    steps; below the figure the readout (λ(H), η·λ_max against its limit). Controls the chosen
    method ignores are disabled (:func:`explorer.used_controls`). The contours are drawn once;
    a control change reruns only the trajectory and blits it (``ExplorerView.render_png``).
    """
    view = explorer.make_view() if view is None else view
    slider = {"continuous_update": True, "style": {"description_width": "80px"}}
    controls = {
        "method": widgets.Dropdown(options=list(explorer.METHODS.items()), value=method,
                                   description="method", style=slider["style"]),
        "eta": widgets.FloatLogSlider(value=eta, base=10, min=-3, max=0.5, step=0.01,
                                      description="η", readout_format=".3g", **slider),
        "alpha": widgets.FloatSlider(value=alpha, min=0.0, max=0.99, step=0.01,
                                     description="α (momentum)", **slider),
        "damping": widgets.FloatLogSlider(value=damping, base=10, min=-3, max=1, step=0.05,
                                          description="δ (damping)", readout_format=".3g",
                                          **slider),
        "sigma": widgets.FloatSlider(value=sigma, min=0.0, max=2.0, step=0.05,
                                     description="σ (noise)", **slider),
        "seed": widgets.IntSlider(value=seed, min=0, max=20, description="noise seed", **slider),
        "w1": widgets.FloatSlider(value=start[0], min=-2.5, max=2.5, step=0.05,
                                  description="start w1", **slider),
        "w2": widgets.FloatSlider(value=start[1], min=-2.5, max=2.5, step=0.05,
                                  description="start w2", **slider),
        "steps": widgets.IntSlider(value=steps, min=1, max=300, description="steps", **slider),
    }
    readout = widgets.HTML()

    def render(w1: float, w2: float, **v: float) -> bytes:
        explorer.explore(view, start=(w1, w2), **v)
        return view.render_png()

    def after(**v: float) -> None:
        used = explorer.used_controls(v["method"], v["sigma"])
        for name, control in controls.items():
            control.disabled = name not in used
        readout.value = f"<pre>{html.escape(view.readout)}</pre>"

    def layout(boxes: list[widgets.Widget]) -> widgets.Widget:
        return widgets.HBox([widgets.VBox(boxes[i:i + 3]) for i in range(0, len(boxes), 3)])

    return LiveFigure(controls, render=render, after=after, layout=layout, below=[readout])


def scaling_issue(w: tuple[float, float] = (0.5, 0.5), c: float = 2.0,
                  eta: float = 0.1) -> LiveFigure:
    """Log-slider for the scale factor c (and η) on one :func:`plots.plot_scaling_step` figure.

    The contours are drawn once; a move redraws only the points, steps, curve, marker and
    readout (``plots.ScalingStepView.moving``).
    """
    view = plots.scaling_step_view(tiny.BACKPROP_TINY, np.asarray(w, dtype=float))
    return LiveFigure(
        {"c": widgets.FloatLogSlider(value=c, base=2, min=-3, max=3, step=0.05, description="c",
                                     readout_format=".3g"),
         "eta": widgets.FloatSlider(value=eta, min=0.01, max=0.3, step=0.01, description="η")},
        figure=view.fig, update=view.update, moving=view.moving)


def signal_propagation(x: np.ndarray, y: np.ndarray, *, width: int = 128, depth: int = 20,
                       gain: float = 1.2, seed: int = 0) -> LiveFigure:
    """Sliders for depth (1..50) and He gain g (σ² = g²/fan_in) moving the signal profiles.

    The figure is ``propagation_plots.plot_gain_profile`` (fixed axes) of the net
    ``propagation.deep_mlp`` of that depth (ReLU, ``width`` units per hidden layer) with
    weights ``initialisers.he_normal(gain=g)`` from ``numpy.random.default_rng(seed)``, on the
    batch (x, y). ``propagation.HeGainSweep`` runs the forward pass once, so a move costs one
    backward pass, and only the four lines and the title are redrawn (blitted). Per layer the
    mean square is multiplied by g²/2: flat at √2.
    """
    from lecture_utils.analysis import propagation  # torch is imported only when the widget is used

    sweep = propagation.HeGainSweep(x, y, width=width, max_depth=50, seed=seed)
    fig = propagation_plots.plot_gain_profile(sweep.profile(depth, gain), gain=gain,
                                              width=width, max_depth=50)

    def update(depth: int, gain: float) -> None:
        propagation_plots.set_gain_profile(fig, sweep.profile(depth, gain), gain=gain)

    return LiveFigure(
        {"depth": widgets.IntSlider(value=depth, min=1, max=50, description="depth"),
         "gain": widgets.FloatSlider(value=gain, min=0.5, max=2.5, step=0.02,
                                     description="gain g", readout_format=".2f")},
        figure=fig, update=update, moving=propagation_plots.gain_profile_moving(fig))


def optimizer_comparison_figure(model: nn.Module, x: np.ndarray, y: np.ndarray,
                                x_val: np.ndarray, y_val: np.ndarray, *,
                                names: Sequence[str] = ("gradient descent", "momentum", "Adam"),
                                lr_scale: float = 1.0, batch_size: int = 100, epochs: int = 1,
                                seed: int = 0) -> Figure:
    """:func:`training_plots.plot_learning_curves` of ``torch_training.compare_optimizers``.

    Every run starts from the weights of ``model`` and sees the same batches (``seed``);
    each optimiser uses η = ``lr_scale`` × its ``torch_training.DEFAULT_LR``.
    """
    from lecture_utils.optim import torch_training  # imports torch only when used

    histories = torch_training.compare_optimizers(model, x, y, x_val, y_val, names=names,
                                                  lr_scale=lr_scale, batch_size=batch_size,
                                                  epochs=epochs, seed=seed)
    fig = training_plots.plot_learning_curves(histories, -(-len(x) // batch_size))
    fig.suptitle(f"{len(x):,} training images, B = {batch_size}: same initial weights and "
                 f"batches for every optimiser")
    return fig


def optimizer_comparison(model: nn.Module, x: np.ndarray, y: np.ndarray, x_val: np.ndarray,
                         y_val: np.ndarray) -> widgets.VBox:
    """Choose optimisers, η scale, B and epochs; **Run** draws :func:`optimizer_comparison_figure`.

    Training takes seconds, so nothing runs on a slider move, only on the button.
    """
    from lecture_utils.optim.torch_training import LECTURE_OPTIMIZERS

    names = widgets.SelectMultiple(options=list(LECTURE_OPTIMIZERS),
                                   value=("gradient descent", "momentum", "Adam"), rows=7,
                                   description="optimisers")
    lr_scale = widgets.FloatLogSlider(value=1.0, base=10, min=-2, max=1, step=0.25,
                                      description="η / default", readout_format=".3g")
    batch_size = widgets.SelectionSlider(options=[10, 20, 50, 100, 200, 500, 1000], value=100,
                                         description="batch B")
    epochs = widgets.IntSlider(value=1, min=1, max=5, description="epochs")
    run = widgets.Button(description="Run", button_style="primary", icon="play")
    status = widgets.Label("Choose, then press Run (training takes a few seconds).")
    out = widgets.Output()

    def draw() -> None:
        optimizer_comparison_figure(model, x, y, x_val, y_val, names=names.value,
                                    lr_scale=lr_scale.value, batch_size=batch_size.value,
                                    epochs=epochs.value)
        plt.show()

    _on_press(run, status, out, draw, busy="training ...")
    controls = widgets.VBox([lr_scale, batch_size, epochs, widgets.HBox([run, status])])
    return widgets.VBox([widgets.HBox([names, controls]), out])


def _on_press(button: widgets.Button, status: widgets.Label, out: widgets.Output,
              draw: Callable[[], None], busy: str) -> None:
    """Wire ``button``: while ``draw()`` runs into ``out`` (cleared first) the button is
    disabled and ``status`` says ``busy``; then "done.", why it cannot run (a ValueError),
    or that it failed (any other error, whose traceback ``out`` shows)."""
    def on_click(_: widgets.Button) -> None:
        button.disabled, status.value = True, busy
        with out:
            out.clear_output(wait=True)
            try:
                draw()
                status.value = "done."
            except ValueError as err:
                status.value = f"cannot run: {err}"
            except Exception:
                status.value = "failed: see the error below"
                raise
            finally:
                button.disabled = False

    button.on_click(on_click)


def run_button(run: Callable[[], Figure | Sequence[Figure]], *, alts: Sequence[str],
               description: str = "Run") -> widgets.VBox:
    """A **Run** button for work too slow for a slider: ``run()`` draws its figures below it.

    Nothing runs until the button is pressed; then ``run()``'s printed text and its figures
    (one ``Figure`` or several, shown by :func:`lecture_utils.course.notebook.show` with one text
    description each from ``alts``) replace what the output held before.
    """
    from lecture_utils.course.notebook import show

    button = widgets.Button(description=description, button_style="primary", icon="play")
    status = widgets.Label("Press the button to run it (this takes a while).")
    out = widgets.Output()

    def draw() -> None:
        figures = run()
        for fig, alt in zip([figures] if hasattr(figures, "savefig") else figures, alts,
                            strict=True):
            show(fig, alt=alt)

    _on_press(button, status, out, draw, busy="running ...")
    return widgets.VBox([widgets.HBox([button, status]), out])
