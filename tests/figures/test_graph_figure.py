"""lecture_utils.figures.graph_figure: the computational-graph figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from lecture_utils.figures.graph_figure import TINY_I_LAYOUT, GraphLayout, draw_computational_graph

VALUES = {"x": 1.0, "y": 1.5, "w1": 0.8, "w2": -1.1, "a": 0.8, "h1": 0.8, "h2": -0.88, "C": 5.6644}
GRADS = {"C": 1.0, "h2": -4.76, "h1": 5.236, "w2": -3.808}


def test_draw_tiny_i_graph_writes_values_and_gradients() -> None:
    fig = draw_computational_graph(VALUES, GRADS, title="tiny")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "$w_2$ = -1.1" in texts and r"$\partial C/\partial w_2$ = -3.808" in texts
    assert "$h^{(2)} = w_2 h^{(1)}$\n= -0.88" in texts
    assert sum(t.startswith(r"$\partial C/") for t in texts) == len(GRADS)
    assert fig.axes[0].get_title() == "tiny" and fig.axes[0].get_legend() is not None
    plt.close(fig)


def test_bad_graphs_raise() -> None:
    with pytest.raises(ValueError, match="values must have an entry"):
        draw_computational_graph({"x": 1.0}, {}, TINY_I_LAYOUT)
    with pytest.raises(ValueError, match="edges must connect nodes"):
        GraphLayout(positions={"a": (0, 0)}, edges={("a", "b"): "1"})
