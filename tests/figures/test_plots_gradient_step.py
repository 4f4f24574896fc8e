"""plots.plot_gradient_step_1d and its widget (notebook 00)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from lecture_utils.figures import plots, widgets


@pytest.mark.parametrize(("eta", "factor"), [(0.25, 0.5), (0.5, 0.0), (0.75, -0.5), (1.05, -1.1)])
def test_iterates_follow_one_minus_two_eta(eta: float, factor: float) -> None:
    fig = plots.plot_gradient_step_1d(eta, theta0=1.0, steps=3)
    ax = fig.axes[0]
    points = ax.lines[1].get_xdata()
    np.testing.assert_allclose(points, factor ** np.arange(4), atol=1e-12)
    assert ax.get_title() and ax.get_xlabel() == "θ" and ax.get_legend() is not None
    plt.close(fig)


def test_the_view_moves_its_steps_to_those_of_a_fresh_figure() -> None:
    view = plots.gradient_step_view(0.25)
    view.update(0.8)
    fresh = plots.plot_gradient_step_1d(0.8)
    for moved, drawn in zip(view.fig.axes[0].lines, fresh.axes[0].lines, strict=True):
        np.testing.assert_allclose(moved.get_xydata(), drawn.get_xydata())
    arrows = [(a.xy, a.xyann) for a in view.arrows]
    assert arrows == [(a.xy, a.xyann) for a in fresh.axes[0].texts]
    assert ([t.get_text() for t in view.fig.axes[0].get_legend().get_texts()]
            == [t.get_text() for t in fresh.axes[0].get_legend().get_texts()])
    plt.close("all")


@pytest.mark.parametrize(("kwargs", "message"), [({"eta": 0.0}, "eta must be finite and > 0"),
                                                  ({"eta": 0.1, "steps": 0}, "steps must be")])
def test_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plots.plot_gradient_step_1d(**kwargs)


def test_widget_redraws_on_a_slider_move() -> None:
    w = widgets.gradient_step_1d(0.3)
    first = bytes(w.image.value)
    w.controls["eta"].value = 0.9
    assert bytes(w.image.value) != first and w.image.value == w.png(eta=0.9)
    plt.close("all")
