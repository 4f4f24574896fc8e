"""One figure that follows its controls: the mechanism behind every slider of the notebooks.

A :class:`LiveFigure` shows a matplotlib figure as PNG bytes in an ``ipywidgets.Image`` and
redraws it when a control changes, inside the change handler. That is quicker than
``ipywidgets.interact`` (which builds a new figure, draws it twice for a tight bounding box,
base64-encodes it and replaces an ``Output`` area) and it never builds a backlog while a
slider is dragged:

- the browser sends at most one update per widget while the kernel is busy (ipywidgets'
  message throttle) and merges the moves made meanwhile into the next one, which it sends
  when this redraw is done, so the figure follows the hand and ends on the final value;
- changes made while a redraw runs (a handler that sets another control) or inside
  :meth:`LiveFigure.hold` are merged into one more redraw with the latest values.

The figure comes from a function of the control values: either a pure plotting function that
returns a new figure (``draw=``), or one figure built once whose artists an ``update``
function changes (``figure=`` and ``update=``, quickest), or any ``render`` returning PNG
bytes (the optimiser explorer blits its moving lines onto a stored background).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

__all__ = ["LiveFigure", "png_bytes"]


def _agg(fig: Figure) -> FigureCanvasAgg:
    return fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)


def png_bytes(fig: Figure) -> bytes:
    """``fig`` drawn by the Agg canvas, as PNG bytes (fast zlib level: the figure changes)."""
    canvas = _agg(fig)
    canvas.draw()
    rgba = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
    buf = io.BytesIO()
    rgba.convert("RGB").save(buf, format="png", compress_level=1)
    return buf.getvalue()


class LiveFigure(widgets.VBox):
    """Controls above a figure shown as a PNG; a control change redraws it in place.

    A ``VBox`` of the controls (or ``layout(controls)``), the ``image`` and ``below``.

    Parameters
    ----------
    controls
        Name -> value widget (slider, dropdown, ...); the names are the keyword arguments
        passed to ``draw``, ``update`` or ``render``.
    draw
        ``draw(**values) -> Figure``: a pure plotting function; each change builds a new
        figure, renders it and closes it.
    figure, update
        One figure built once and ``update(**values)`` that changes its artists
        (``set_data``, ``set_text``, ...) before it is rendered again.
    render
        ``render(**values) -> bytes``: PNG bytes made any other way.
    after
        Called with the values after each redraw (a readout, enabling controls, ...).

    layout, below
        ``layout(controls) -> widget`` arranges the controls (default: one per row);
        ``below``: widgets under the figure (a readout).

    Exactly one of ``draw``, ``figure`` with ``update``, or ``render`` is given.
    ``renders`` counts the redraws.
    """

    def __init__(self, controls: Mapping[str, widgets.ValueWidget], *,
                 draw: Callable[..., Figure] | None = None, figure: Figure | None = None,
                 update: Callable[..., object] | None = None,
                 render: Callable[..., bytes] | None = None,
                 after: Callable[..., object] | None = None,
                 layout: Callable[[list[widgets.Widget]], widgets.Widget] | None = None,
                 below: list[widgets.Widget] | None = None) -> None:
        given = [draw is not None, figure is not None and update is not None,
                 render is not None]
        if sum(given) != 1 or (figure is None) != (update is None):
            raise ValueError("give exactly one of draw=, figure= with update=, or render=")
        if not controls:
            raise ValueError("controls must name at least one widget")
        self.controls = dict(controls)
        self.image = widgets.Image(format="png")
        self.renders = 0
        self._draw, self._figure, self._update, self._render = draw, figure, update, render
        self._after = after
        self._busy = self._stale = False
        self._positions: list[Any] | None = None  # axes positions of the first figure
        self._held = 0
        boxes: list[widgets.Widget] = list(self.controls.values())
        top = [layout(boxes)] if layout is not None else boxes
        super().__init__([*top, self.image, *(below or [])])
        for control in self.controls.values():
            control.observe(self._changed, names="value")
        self.refresh()

    @property
    def values(self) -> dict[str, Any]:
        """The controls' current values by name."""
        return {name: control.value for name, control in self.controls.items()}

    def png(self, **values: Any) -> bytes:
        """The figure for ``values`` as PNG bytes (no widget involved)."""
        if self._render is not None:
            return self._render(**values)
        if self._draw is not None:
            fig = self._draw(**values)
            try:
                self._reuse_layout(fig)
                return png_bytes(fig)
            finally:
                plt.close(fig)  # pure plotting functions may register it with pyplot
        assert self._figure is not None and self._update is not None
        self._update(**values)
        png = png_bytes(self._figure)
        self._figure.set_layout_engine("none")  # the first draw placed the axes: keep them
        return png

    def _reuse_layout(self, fig: Figure) -> None:
        """Lay out the first figure (constrained layout); give later ones the same positions.

        The layout engine measures every label twice per draw; the figures of one widget
        differ only in their data, so its first result serves them all.
        """
        if self._positions is None or len(self._positions) != len(fig.axes):
            _agg(fig).draw()
            self._positions = [ax.get_position() for ax in fig.axes]
        fig.set_layout_engine("none")
        for ax, position in zip(fig.axes, self._positions, strict=True):
            ax.set_position(position)

    def refresh(self) -> None:
        """Redraw now for the current values, then again while changes arrived meanwhile."""
        if self._busy or self._held:
            self._stale = True
            return
        self._busy = True
        try:
            self._stale = True
            while self._stale:
                self._stale = False
                values = self.values
                self.image.value = self.png(**values)
                self.renders += 1
                if self._after is not None:
                    self._after(**values)
        finally:
            self._busy = False

    @contextlib.contextmanager
    def hold(self) -> Iterator[LiveFigure]:
        """Change several controls inside ``with live.hold():``: one redraw at the end."""
        self._held += 1
        try:
            yield self
        finally:
            self._held -= 1
            if not self._held and self._stale:
                self.refresh()

    def _changed(self, _change: object) -> None:
        self.refresh()
