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

The figure is built once and an ``update`` function of the control values changes its
artists (``figure=`` and ``update=``), or ``render`` returns PNG bytes made any other way.
Quickest: ``figure=`` and ``update=`` with ``moving=``, the artists ``update`` changes: the
rest (contours, axes, ticks, legends) is drawn once and kept as pixels, and each redraw only
copies those pixels back and draws the moving artists on top (blitting, :class:`Blitter`).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

__all__ = ["Blitter", "LiveFigure", "png_bytes"]


def _agg(fig: Figure) -> FigureCanvasAgg:
    return fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)


def _encode(canvas: FigureCanvasAgg) -> bytes:
    """What ``canvas`` holds now, as PNG bytes (fast zlib level: the figure changes)."""
    rgba = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
    buf = io.BytesIO()
    rgba.convert("RGB").save(buf, format="png", compress_level=1)
    return buf.getvalue()


def png_bytes(fig: Figure) -> bytes:
    """``fig`` drawn by the Agg canvas, as PNG bytes."""
    canvas = _agg(fig)
    canvas.draw()
    return _encode(canvas)


@contextlib.contextmanager
def _hidden(artists: Sequence[Artist]) -> Iterator[None]:
    """Draw without ``artists`` inside the ``with`` block."""
    shown = [artist.get_visible() for artist in artists]
    for artist in artists:
        artist.set_visible(False)
    try:
        yield
    finally:
        for artist, visible in zip(artists, shown, strict=True):
            artist.set_visible(visible)


class Blitter:
    """PNG bytes of ``fig`` redrawing only its ``moving`` artists (and ``panels`` when asked).

    The first call draws the whole figure once (its layout engine places the axes, then is
    switched off so they stay put) and keeps the pixels of everything but ``moving`` and
    ``panels``; each call copies them back and draws ``moving`` on top. ``panels`` are axes
    whose ticks change with the data (a loss axis spanning the number of steps): they are
    drawn over the kept pixels, and kept with them, only when ``png(key)`` gets a new ``key``
    (their limits, say); other artists must not change.
    """

    def __init__(self, fig: Figure, moving: Sequence[Artist], panels: Sequence[Axes] = ()) -> None:
        self.fig, self.moving, self.panels = fig, list(moving), list(panels)
        self._static: Any = None      # pixels without panels and moving artists
        self._background: Any = None  # the static pixels with the panels drawn for _key
        self._key: Hashable = None

    def png(self, key: Hashable = None) -> bytes:
        """The figure as it is now; ``key``: what the ``panels`` show (redrawn when it changes)."""
        canvas = _agg(self.fig)
        size = canvas.get_width_height()
        if self._static is None or self._static[0] != size:
            canvas.draw()                             # lay out with everything visible
            self.fig.set_layout_engine("none")
            with _hidden([*self.moving, *self.panels]):
                canvas.draw()
                self._static = (size, canvas.copy_from_bbox(self.fig.bbox))
            self._background = None
        if self._background is None or key != self._key:
            canvas.restore_region(self._static[1])
            if self.panels:
                with _hidden(self.moving):
                    for panel in self.panels:
                        self.fig.draw_artist(panel)
            self._background, self._key = canvas.copy_from_bbox(self.fig.bbox), key
        canvas.restore_region(self._background)
        for artist in self.moving:
            if artist.get_visible():
                self.fig.draw_artist(artist)
        return _encode(canvas)


class LiveFigure(widgets.VBox):
    """Controls above a figure shown as a PNG; a control change redraws it in place.

    A ``VBox`` of the controls (or ``layout(controls)``), the ``image`` and ``below``.

    Parameters
    ----------
    controls
        Name -> value widget (slider, dropdown, ...); the names are the keyword arguments
        passed to ``update`` or ``render``.
    figure, update
        One figure built once and ``update(**values)`` that changes its artists
        (``set_data``, ``set_text``, ...) before it is rendered again. The figure is closed in
        pyplot: only this widget shows it.
    moving
        With ``figure``: the artists ``update`` changes, if nothing else changes (axis limits
        included); only these are redrawn (:class:`Blitter`).
    render
        ``render(**values) -> bytes``: PNG bytes made any other way.
    after
        Called with the values after each redraw (a readout, enabling controls, ...).
    layout, below
        ``layout(controls) -> widget`` arranges the controls (default: one per row);
        ``below``: widgets under the figure (a readout).

    Exactly one of ``figure`` with ``update``, or ``render`` is given.
    ``renders`` counts the redraws.
    """

    def __init__(self, controls: Mapping[str, widgets.ValueWidget], *,
                 figure: Figure | None = None,
                 update: Callable[..., object] | None = None,
                 moving: Sequence[Artist] | None = None,
                 render: Callable[..., bytes] | None = None,
                 after: Callable[..., object] | None = None,
                 layout: Callable[[list[widgets.Widget]], widgets.Widget] | None = None,
                 below: list[widgets.Widget] | None = None) -> None:
        if (figure is None) != (update is None) or (figure is None) == (render is None):
            raise ValueError("give exactly one of figure= with update=, or render=")
        if not controls:
            raise ValueError("controls must name at least one widget")
        if moving is not None and figure is None:
            raise ValueError("moving= lists artists of figure=: give figure= and update= too")
        self.controls = dict(controls)
        self.image = widgets.Image(format="png")
        self.renders = 0
        if figure is not None:
            plt.close(figure)  # a figure made by pyplot would show once more below the cell
        self._figure, self._update, self._render = figure, update, render
        self._blitter = None if moving is None else Blitter(figure, moving)
        self._after = after
        self._busy = self._stale = False
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
        assert self._figure is not None and self._update is not None
        self._update(**values)
        if self._blitter is not None:
            return self._blitter.png()
        png = png_bytes(self._figure)
        self._figure.set_layout_engine("none")  # the first draw placed the axes: keep them
        return png

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
