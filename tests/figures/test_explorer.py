"""lecture_utils.figures.explorer (pure part) and its widget wrapper."""

from __future__ import annotations

import io
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import same_color
from PIL import Image

from lecture_utils.analysis.tiny import TINY_II
from lecture_utils.figures import explorer, plots, widgets
from lecture_utils.optim import optimizers, trajectories


@pytest.fixture(scope="module")
def view() -> explorer.ExplorerView:
    return explorer.make_view()


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)


@pytest.mark.parametrize("method", list(explorer.METHODS.values()))
def test_every_method_draws_its_trajectory(view, method: str) -> None:
    explorer.explore(view, method=method, eta=0.1, steps=40, start=(0.5, 1.5))
    traj = view.trajectory
    assert traj is not None and traj.steps_taken == 40
    np.testing.assert_array_equal(np.column_stack(view.path.get_data()), traj.points)
    np.testing.assert_array_equal(view.end.get_data(), ([traj.points[-1, 0]],
                                                        [traj.points[-1, 1]]))
    _, loss = view.loss.get_data()
    np.testing.assert_allclose(loss, np.clip(traj.losses - view.c_min, *explorer.LOSS_RANGE))
    assert view.render_png().startswith(b"\x89PNG")


def test_explore_is_the_runner(view) -> None:
    explorer.explore(view, method="momentum", eta=0.05, alpha=0.8, sigma=0.3, seed=4,
                     start=(-1.0, 0.5), steps=30)
    ref = trajectories.run_trajectory(TINY_II, optimizers.Momentum(0.05, 0.8), (-1.0, 0.5), 30,
                                    noise_sigma=0.3, seed=4)
    np.testing.assert_array_equal(view.trajectory.points, ref.points)


def test_slider_move_keeps_the_contours_and_the_background(view) -> None:
    explorer.explore(view, eta=0.25, steps=50)
    view.render_png()
    artists = list(view.ax_path.get_children())
    background, static = view._blitter._background, view._blitter._static
    ylim = view.ax_loss.get_ylim()
    explorer.explore(view, eta=0.26, alpha=0.5, start=(0.55, 1.45), steps=50)
    assert view.ax_loss.get_ylim() == ylim  # the losses stay within the same decades
    view.render_png()
    assert view.ax_path.get_children() == artists  # same artists: nothing redrawn or added
    assert view._blitter._background is background  # nothing was rasterised again
    explorer.explore(view, eta=0.26, steps=80)  # a new loss axis: its panel is drawn again,
    view.render_png()
    assert view._blitter._background is not background
    assert view._blitter._static is static  # the contours are not


@pytest.mark.parametrize("method", ["gd", "newton", "momentum"])
def test_the_loss_axis_fits_the_run(view, method: str) -> None:
    explorer.explore(view, method=method, eta=0.1, start=(0.5, 1.5), steps=100)
    _, shown = view.loss.get_data()
    lo, hi = view.ax_loss.get_ylim()
    assert lo <= shown.min() and shown.max() <= hi  # every point is on the axis
    assert hi <= 100 * shown.max() and lo >= 1e-6 * shown.min()  # no more than a step to spare
    want = explorer.loss_axis(shown)
    assert want[1] < 10 * shown.max() and want[0] > 1e-3 * shown.min()
    assert np.log10(hi / lo) >= 3 - 1e-9


def test_blitted_png_equals_a_full_draw() -> None:
    view = explorer.make_view()
    explorer.explore(view, eta=0.2, steps=60)
    view.render_png()  # caches the background
    explorer.explore(view, eta=0.3, steps=60, start=(-0.5, 2.0))
    blitted = pixels(view.render_png())
    buf = io.BytesIO()
    view.fig.canvas.print_png(buf)  # a complete redraw
    full = pixels(buf.getvalue())
    assert blitted.shape == full.shape
    assert np.mean(np.any(blitted != full, axis=-1)) < 0.005


def test_readout_compares_eta_lambda_with_the_limit(view) -> None:
    explorer.explore(view, method="gd", eta=0.35, steps=100)
    text = view.readout
    assert "λ(H(θ*)) =  5.840,  0.160   η·λ_max = 2.044" in text
    assert "iff η·λ_max < 2 = 2.000" in text
    explorer.explore(view, method="momentum", eta=0.35, alpha=0.5, steps=100)
    assert "2(1+α) = 3.000" in view.readout
    explorer.explore(view, method="newton", start=(0.3, -0.4), steps=5)
    assert "Newton(lr=1)" in view.readout


def test_divergence_is_reported_without_warnings(view) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        explorer.explore(view, method="gd", eta=2.0, steps=200, start=(2.0, 2.0))
        view.render_png()
    assert view.trajectory.diverged
    assert "stopped after" in view.readout


@pytest.mark.parametrize(("method", "alpha"), [("gd", 0.0), ("momentum", 0.6),
                                               ("nesterov", 0.6)])
def test_stability_limit_on_a_quadratic(method: str, alpha: float) -> None:
    """Just below the limit the error shrinks, just above it grows (curvature λ = 4)."""
    lam = 4.0
    _, limit = explorer.stability_limit(method, alpha)
    cost = trajectories.Quadratic([[lam]], [0.0])
    final = {}
    for factor in (0.98, 1.02):
        kwargs = explorer.optimizer_kwargs(method, eta=factor * limit / lam, alpha=alpha)
        opt = optimizers.make_optimizer(method, **kwargs)
        final[factor] = abs(trajectories.run_trajectory(cost, opt, [1.0], 800).points[-1, 0])
    assert final[0.98] < 1e-3 and final[1.02] > 1e3


def test_bad_method() -> None:
    with pytest.raises(ValueError, match="method must be one of"):
        explorer.optimizer_kwargs("sgd", eta=0.1)
    with pytest.raises(ValueError, match="method must be 'gd', 'momentum' or 'nesterov'"):
        explorer.stability_limit("adam")


def test_repr_is_short(view) -> None:
    explorer.explore(view, steps=10)
    assert repr(view) == "<optimizer explorer: 10 steps, completed>"
    assert view._repr_png_().startswith(b"\x89PNG")


def test_widget_updates_image_and_trajectory() -> None:
    view = explorer.make_view()
    box = widgets.optimizer_explorer(view, steps=20)
    controls = {c.description: c for column in box.children[0].children for c in column.children}
    assert set(controls) == {"method", "η", "α (momentum)", "δ (damping)", "σ (noise)",
                             "noise seed", "start w1", "start w2", "steps"}
    image = box.children[1]
    before = bytes(image.value)
    assert before.startswith(b"\x89PNG") and view.trajectory.steps_taken == 20
    controls["η"].value = 0.3
    assert bytes(image.value) != before and "lr=0.3" in view.readout
    controls["method"].value = "adam"
    controls["steps"].value = 35
    assert view.trajectory.steps_taken == 35 and "Adam(" in view.readout
    assert "Adam(" in box.children[2].value and box.children[2].value.startswith("<pre>")


@pytest.mark.parametrize(("method", "sigma", "ignored"), [
    ("gd", 0.0, {"alpha", "damping", "seed"}),
    ("momentum", 0.5, {"damping"}),
    ("nesterov", 0.0, {"damping", "seed"}),
    ("adam", 0.0, {"alpha", "damping", "seed"}),
    ("newton", 0.0, {"eta", "alpha", "damping", "seed"}),
    ("saddle_free_newton", 0.1, {"eta", "alpha"}),
])
def test_every_enabled_control_changes_the_trajectory(method: str, sigma: float,
                                                      ignored: set[str]) -> None:
    """The widget disables exactly the controls that cannot change what the student sees."""
    base = {"eta": 0.1, "alpha": 0.5, "damping": 1.0, "seed": 0, "w1": 0.5, "w2": 1.5,
            "steps": 20}
    nudged = {"eta": 0.2, "alpha": 0.6, "damping": 2.0, "seed": 1, "w1": 0.6, "w2": 1.4,
              "steps": 21}

    def points(**change: float) -> np.ndarray:
        v = {**base, **change}
        view = explorer.explore(explorer.make_view(), method=method, sigma=sigma, eta=v["eta"],
                                alpha=v["alpha"], damping=v["damping"], seed=v["seed"],
                                start=(v["w1"], v["w2"]), steps=v["steps"])
        result = view.trajectory.points.copy()
        plt.close(view.fig)
        return result

    used = explorer.used_controls(method, sigma)
    assert used.isdisjoint(ignored)
    reference = points()
    for name, value in nudged.items():
        other = points(**{name: value})
        changed = other.shape != reference.shape or not np.array_equal(other, reference)
        assert changed == (name in used), f"{name} for {method}"


def test_widget_disables_ignored_controls() -> None:
    box = widgets.optimizer_explorer(explorer.make_view(), steps=5)
    controls = {c.description: c for column in box.children[0].children for c in column.children}
    assert controls["α (momentum)"].disabled and controls["δ (damping)"].disabled
    controls["method"].value = "momentum"
    assert not controls["α (momentum)"].disabled and controls["noise seed"].disabled
    controls["σ (noise)"].value = 0.5
    assert not controls["noise seed"].disabled


def test_contour_and_trajectory_helpers() -> None:
    ax = plots.plot_cost_contours(TINY_II, n=41, marks={"minima": TINY_II.minima,
                                                       "saddle": TINY_II.saddle})
    path, start = plots.plot_trajectory(ax, [[0.5, 1.5], [1.0, 1.2]], label="run")
    assert same_color(path.get_color(), "C0")  # the marks do not use up the colour cycle
    np.testing.assert_array_equal(start.get_xydata(), [[0.5, 1.5]])
    assert [t.get_text() for t in ax.legend().get_texts()] == ["minima", "saddle", "run"]
    with pytest.raises(ValueError, match=r"points must have shape \(k\+1, 2\)"):
        plots.plot_trajectory(ax, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="levels must be an integer >= 2"):
        plots.plot_cost_contours(TINY_II, levels=1, ax=ax)
    plt.close(ax.figure)
