"""The one mechanism behind every slider: a figure redrawn in place as a PNG, no backlog."""

from __future__ import annotations

import io

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from lecture_utils.figures import widgets as lecture_widgets
from lecture_utils.figures.live_figure import LiveFigure, png_bytes


def line_figure() -> tuple[Figure, object]:
    fig = Figure(figsize=(3, 2), dpi=50)
    (line,) = fig.subplots().plot([0, 1], [0, 0])
    fig.axes[0].set_ylim(-3, 3)
    return fig, line


def test_a_value_change_redraws_the_image() -> None:
    fig, line = line_figure()
    slope = widgets.FloatSlider(value=1.0, min=-2, max=2)
    seen: list[float] = []

    def update(slope: float) -> None:
        seen.append(slope)
        line.set_ydata([0, slope])

    live = LiveFigure({"slope": slope}, figure=fig, update=update)
    before = bytes(live.image.value)
    assert before.startswith(b"\x89PNG") and live.renders == 1 and seen == [1.0]
    slope.value = -1.5
    assert bytes(live.image.value) != before and seen == [1.0, -1.5]
    assert live.image.value == png_bytes(fig)  # the image is the figure at the new value
    assert live.children == (slope, live.image)


def test_moving_artists_are_drawn_onto_the_kept_static_pixels() -> None:
    fig, _ = line_figure()
    (dot,) = fig.axes[0].plot([0.2], [2.0], "o")  # the static line stays at y = 0, below it
    x = widgets.FloatSlider(value=0.2, min=0, max=1)
    live = LiveFigure({"x": x}, figure=fig, update=lambda x: dot.set_xdata([x]), moving=[dot])
    static = live._blitter._static
    x.value = 0.7
    assert live._blitter._static is static  # the static part was not drawn again

    def pixels(png: bytes) -> np.ndarray:
        return plt.imread(io.BytesIO(png), format="png")

    np.testing.assert_array_equal(pixels(live.image.value), pixels(png_bytes(fig)))
    with pytest.raises(ValueError, match="moving= lists artists of figure="):
        LiveFigure({"x": x}, render=lambda x: b"", moving=[dot])


def test_a_widget_figure_is_closed_in_pyplot_and_reproducible() -> None:
    before = len(plt.get_fignums())
    live = lecture_widgets.gradient_step_1d(eta=0.25)
    first = bytes(live.image.value)
    live.controls["eta"].value = 0.75
    assert bytes(live.image.value) != first and live.renders == 2
    assert len(plt.get_fignums()) == before  # nothing left for the inline backend to show
    assert live.png(eta=0.25) == first  # the same values give the same picture


def test_changes_while_drawing_are_merged_into_one_more_redraw() -> None:
    """A handler that moves controls mid-redraw (or many moves meanwhile): the figure is
    redrawn once more, with the latest values, never once per move."""
    a, b = widgets.IntSlider(0, 0, 100), widgets.IntSlider(0, 0, 100)
    drawn: list[tuple[int, int]] = []

    def render(a: int, b: int) -> bytes:
        drawn.append((a, b))
        if a == 1:  # moves arriving while this redraw runs
            for v in range(2, 8):
                a_slider.value = v
            b_slider.value = 9
        return bytes([a, b])

    a_slider, b_slider = a, b
    live = LiveFigure({"a": a, "b": b}, render=render)
    a.value = 1
    assert drawn == [(0, 0), (1, 0), (7, 9)] and live.image.value == bytes([7, 9])


def test_hold_redraws_once_for_several_changes() -> None:
    a, b = widgets.IntSlider(0, 0, 10), widgets.IntSlider(0, 0, 10)
    live = LiveFigure({"a": a, "b": b}, render=lambda a, b: bytes([a, b]))
    with live.hold():
        a.value, b.value = 3, 4
        a.value = 5
        assert live.renders == 1
    assert live.renders == 2 and live.image.value == bytes([5, 4])
    with live.hold():
        pass
    assert live.renders == 2  # nothing changed: no redraw


def test_layout_and_widgets_below() -> None:
    a = widgets.IntSlider(1, 0, 5)
    note = widgets.HTML()
    live = LiveFigure({"a": a}, render=lambda a: bytes([a]), layout=widgets.HBox,
                      below=[note], after=lambda a: setattr(note, "value", f"a = {a}"))
    assert isinstance(live.children[0], widgets.HBox) and live.children[1:] == (live.image, note)
    a.value = 2
    assert note.value == "a = 2"


@pytest.mark.parametrize("kwargs", [{}, {"render": bytes, "figure": Figure(), "update": print},
                                    {"figure": Figure()}, {"update": print}])
def test_exactly_one_way_to_draw(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="exactly one of figure= with update=, or render="):
        LiveFigure({"a": widgets.IntSlider()}, **kwargs)


def test_every_notebook_slider_widget_is_a_live_figure() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 12)).astype(np.float32), rng.integers(0, 3, 16)
    made = [lecture_widgets.gradient_step_1d(), lecture_widgets.cross_entropy_decomposition(),
            lecture_widgets.scaling_issue(), lecture_widgets.signal_propagation(x, y, width=8,
                                                                                depth=3)]
    for live in made:
        assert isinstance(live, LiveFigure) and bytes(live.image.value).startswith(b"\x89PNG")
        control = next(iter(live.controls.values()))
        before = bytes(live.image.value)
        control.value = control.max
        assert bytes(live.image.value) != before, type(control).__name__


def test_signal_propagation_moves_the_lines_of_one_figure() -> None:
    """The widget updates one figure; its lines equal those of the pure plotting function."""
    from lecture_utils.analysis import propagation
    from lecture_utils.figures import propagation_plots
    from lecture_utils.network import initialisers

    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(32, 12)).astype(np.float32), rng.integers(0, 3, 32)
    live = lecture_widgets.signal_propagation(x, y, width=8, depth=3, gain=1.0)
    live.controls["depth"].value, live.controls["gain"].value = 6, 1.6
    net = propagation.deep_mlp(12, 8, 6, 3)
    initialisers.initialise(net, "he_normal", rng=np.random.default_rng(0), gain=1.6)
    fresh = propagation_plots.plot_signal_profiles({"x": propagation.profile(net, x, y)})
    shown = live._figure
    assert shown is not None and live.renders == 3
    for ax_shown, ax_fresh in zip(shown.axes, fresh.axes, strict=True):
        for a, b in zip(ax_shown.lines[:2], ax_fresh.lines[:2], strict=True):
            np.testing.assert_allclose(a.get_xydata(), b.get_xydata(), rtol=1e-6)
    assert shown.get_suptitle() == "depth 6, gain g = 1.60: mean square × g²/2 = 1.28 per layer"
    plt.close(fresh)


def test_run_button_runs_only_when_pressed() -> None:
    calls: list[int] = []

    def run() -> tuple[object, object]:
        calls.append(1)
        return plt.subplots()[0], plt.subplots()[0]

    box = lecture_widgets.run_button(run, alts=("first figure", "second figure"), description="Go")
    button, status = box.children[0].children
    assert button.description == "Go" and not calls
    button.click()
    assert calls == [1] and status.value == "done." and not button.disabled
    plt.close("all")


def test_run_button_says_when_it_failed() -> None:
    def run() -> None:
        raise RuntimeError("boom")

    box = lecture_widgets.run_button(run, alts=("a figure",))
    button, status = box.children[0].children
    button.click()              # without a kernel the dispatcher logs the error
    assert status.value == "failed: see the error below" and not button.disabled
