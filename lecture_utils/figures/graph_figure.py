"""Draw a computational graph with the forward value and the backward gradient on every node.

Pure: a layout plus two dicts of numbers in, a matplotlib ``Figure`` out. The layout of Tiny
example I (x, w1 → a = w1·x → h1 = relu(a) → h2 = w2·h1 → C = (y − h2)²) is
:data:`TINY_I_LAYOUT`; any other small graph is a :class:`GraphLayout`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from lecture_utils.figures.plots import WIDTH

__all__ = ["TINY_I_LAYOUT", "GraphLayout", "draw_computational_graph"]


@dataclass(frozen=True)
class GraphLayout:
    """Node positions ``{name: (x, y)}``, node captions (the operation), and labelled edges.

    ``edges`` maps ``(parent, child)`` to the local derivative ∂child/∂parent written on the
    arrow; ``captions`` maps a node to a short formula shown under its name; ``symbols`` maps
    a node to the symbol it is drawn with (default: its name). Edge labels, captions and
    symbols are mathtext without the dollar signs (``"h^{(1)}"``).
    """

    positions: Mapping[str, tuple[float, float]]
    edges: Mapping[tuple[str, str], str]
    captions: Mapping[str, str] = field(default_factory=dict)
    symbols: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for parent, child in self.edges:
            for node in (parent, child):
                if node not in self.positions:
                    raise ValueError(f"edges must connect nodes in positions, got {node!r}")


TINY_I_LAYOUT = GraphLayout(
    positions={"x": (0.0, 1.3), "w1": (0.0, -1.3), "a": (2.6, 0.0), "h1": (5.2, 0.0),
               "w2": (5.2, -2.6), "h2": (7.8, 0.0), "y": (7.8, 2.6), "C": (10.4, 0.0)},
    edges={("x", "a"): "w_1", ("w1", "a"): "x", ("a", "h1"): r"\mathbf{1}(a > 0)",
           ("h1", "h2"): "w_2", ("w2", "h2"): "h^{(1)}", ("h2", "C"): "-2(y - h^{(2)})",
           ("y", "C"): "2(y - h^{(2)})"},
    captions={"a": "w_1 x", "h1": r"\mathrm{relu}(a)", "h2": "w_2 h^{(1)}", "C": "(y - h^{(2)})^2"},
    symbols={"w1": "w_1", "w2": "w_2", "h1": "h^{(1)}", "h2": "h^{(2)}"},
)


def draw_computational_graph(values: Mapping[str, float], grads: Mapping[str, float],
                             layout: GraphLayout = TINY_I_LAYOUT, *,
                             title: str = "Computational graph: forward values, backward gradients",
                             ) -> Figure:
    """Boxes with ``name = value`` (forward, black) and ``∂C/∂name = grad`` (backward, red).

    Arrows point forward, parent → child, and carry the local derivative ∂child/∂parent; the
    gradient of a node is the sum over its children of (child's gradient) × (arrow label),
    the chain rule of slide "Backpropagation (Linnainmaa, 1970)".
    """
    missing = [n for n in layout.positions if n not in values]
    if missing:
        raise ValueError(f"values must have an entry for every node, missing {missing}")
    xs = [p[0] for p in layout.positions.values()]
    ys = [p[1] for p in layout.positions.values()]
    # a row of five wide boxes needs 9 in (1,080 pixels; the site shows it at 81 %, still 14-pixel
    # text); at WIDTH the arrow labels would cover the boxes
    fig, ax = plt.subplots(figsize=(1.25 * WIDTH, 5.0), layout="constrained")
    ax.set(xlim=(min(xs) - 1.2, max(xs) + 1.2), ylim=(min(ys) - 1.2, max(ys) + 1.2),
           title=title)
    ax.set_axis_off()
    for (parent, child), label in layout.edges.items():
        (x0, y0), (x1, y1) = layout.positions[parent], layout.positions[child]
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0), zorder=1,
                    arrowprops={"arrowstyle": "-|>", "color": "0.45", "lw": 1.3,
                                "shrinkA": 44, "shrinkB": 30})
        ax.text((x0 + x1) / 2, (y0 + y1) / 2, f"${label}$", ha="center", va="center",
                fontsize=9, color="0.25",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"})
    for name, (x, y) in layout.positions.items():
        caption = layout.captions.get(name)
        symbol = layout.symbols.get(name, name)
        text = f"${symbol} = {caption}$\n= {values[name]:.4g}" if caption else \
            f"${symbol}$ = {values[name]:.4g}"
        ax.text(x, y, text, ha="center", va="center", fontsize=10,
                bbox={"boxstyle": "round,pad=0.4", "fc": "#e8f0fa", "ec": "#4a78b0"})
        if name in grads:
            ax.text(x, y - 0.45 - (0.2 if caption else 0.0),
                    f"$\\partial C/\\partial {symbol}$ = {grads[name]:.4g}", ha="center",
                    va="top", fontsize=9.5, color="#c0392b", zorder=3,
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none"})
    ax.plot([], [], "s", color="#e8f0fa", mec="#4a78b0", label="forward value")
    ax.plot([], [], "s", color="#c0392b", label=r"backward gradient $\partial C/\partial\,\cdot$")
    ax.plot([], [], ls="none", marker="$\\rightarrow$", color="0.45",
            label=r"local derivative $\partial\,$child$/\partial\,$parent")
    ax.legend(loc="lower right", fontsize=9)
    return fig
