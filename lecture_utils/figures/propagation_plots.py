"""Figures of notebook 07 (signal propagation): per-layer profiles and histograms.

Pure functions: data in, matplotlib ``Figure``/``Axes`` out; no torch (the profiles come from
``lecture_utils.analysis.propagation``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.artist import Artist
from matplotlib.figure import Figure

from lecture_utils.figures.plots import WIDTH

if TYPE_CHECKING:
    from lecture_utils.analysis.propagation import Profile


def plot_signal_profiles(profiles: Mapping[str, Profile], *, title: str | None = None) -> Figure:
    """Per-layer std of the activations h_l (left) and rms of δ_l = ∂C/∂z_l (right), log axis.

    One colour per network in ``profiles`` (label -> ``propagation.Profile``): measured values as
    solid lines with dots, the ReLU mean-field prediction (factor σ²·fan/2 per layer in the
    mean square) dashed. Slides "Exponential growth/decay forward" and "... backward".
    """
    if not profiles:
        raise ValueError("profiles must map at least one label to a propagation.Profile")
    fig, (fwd, bwd) = plt.subplots(1, 2, figsize=(WIDTH, 4.2), layout="constrained")
    for i, (label, p) in enumerate(profiles.items()):
        layers = np.arange(1, len(p.forward_std) + 1)
        color = f"C{i % 10}"
        fwd.semilogy(layers, p.forward_std, "-o", ms=2.5, color=color, label=label)
        fwd.semilogy(layers, p.forward_predicted, "--", color=color, lw=1)
        bwd.semilogy(layers, p.backward_rms, "-o", ms=2.5, color=color, label=label)
        bwd.semilogy(layers, p.backward_predicted, "--", color=color, lw=1)
    fwd.plot([], [], "k--", lw=1, label="prediction")
    fwd.set(xlabel="layer $l$", ylabel="std of activations $h_l$", title="forward")
    bwd.set(xlabel="layer $l$", ylabel=r"rms of $\partial C/\partial z_l$",
            title="backward\n(gradient flows from right to left)")
    fwd.legend(fontsize=8)
    bwd.legend(fontsize=8)
    fig.suptitle(title or "signal size per layer")
    return fig


def gain_title(depth: int, gain: float) -> str:
    """The title of the depth/gain figure: depth, g and the per-layer factor g²/2.

    Short plain text, not mathtext: the slider redraws it on every move.
    """
    return f"depth {depth}, gain g = {gain:.2f}: mean square × g²/2 = {gain**2 / 2:.2f} per layer"


def plot_gain_profile(profile: Profile, *, gain: float, width: int, max_depth: int = 50,
                      ylim: tuple[float, float] = (1e-12, 1e12)) -> Figure:
    """:func:`plot_signal_profiles` of one He-normal ReLU net with gain g, on fixed axes.

    The figure of notebook 07's depth and gain slider (``propagation.HeGainSweep`` makes the
    profile): layers 1..``max_depth`` and ``ylim`` stay put, so a move of the slider changes the
    slope of the lines, not the axes (a line that leaves ``ylim`` leaves the plot).
    """
    fig = plot_signal_profiles({f"measured (He normal, width {width})": profile},
                               title=gain_title(len(profile.forward_std), gain))
    fwd, bwd = fig.axes
    for ax in (fwd, bwd):
        ax.set(xlim=(0, max_depth + 1), ylim=ylim)
    fwd.legend(fontsize=8, loc="upper left")
    bwd.get_legend().remove()     # the same two lines as on the left
    return fig


def gain_profile_moving(fig: Figure) -> list[Artist]:
    """The artists :func:`set_gain_profile` changes: the measured and predicted lines of both
    panels and the title (the slider redraws only these)."""
    fwd, bwd = fig.axes
    return [*fwd.lines[:2], *bwd.lines[:2], fig.suptitle(fig.get_suptitle())]


def set_gain_profile(fig: Figure, profile: Profile, *, gain: float) -> None:
    """Move a :func:`plot_gain_profile` figure to ``profile`` (another depth or gain): its
    four lines and the title; the axes stay put."""
    *lines, title = gain_profile_moving(fig)
    layers = np.arange(1, len(profile.forward_std) + 1)
    for line, values in zip(lines, [profile.forward_std, profile.forward_predicted,
                                    profile.backward_rms, profile.backward_predicted],
                            strict=True):
        line.set_data(layers, values)
    title.set_text(gain_title(len(profile.forward_std), gain))


def plot_layer_histograms(values: Sequence[np.ndarray], *, ax: mpl.axes.Axes | None = None,
                          title: str = "", xlabel: str = "value", bins: int = 61,
                          limits: tuple[float, float] | None = None) -> mpl.axes.Axes:
    """Normalised histograms of one quantity per layer (``values[l−1]`` for layer l), overlaid.

    Glorot & Bengio (2010), figures 6 and 7: activations and back-propagated gradients per
    layer. ``limits`` fixes the x range (default: the 0.5 % and 99.5 % quantiles of all
    values); values outside it are left out.
    """
    if len(values) == 0:
        raise ValueError("values must hold at least one array (one per layer)")
    flat = [np.asarray(v, dtype=float).ravel() for v in values]
    if limits is None:
        both = np.concatenate(flat)
        limits = (float(np.quantile(both, 0.005)), float(np.quantile(both, 0.995)))
    if ax is None:
        _, ax = plt.subplots(layout="constrained")
    edges = np.linspace(*limits, bins + 1)
    for i, v in enumerate(flat):
        ax.hist(v, bins=edges, histtype="step", density=True, lw=1.3, label=f"layer {i + 1}")
    ax.set(xlabel=xlabel, ylabel="density", title=title, xlim=limits)
    ax.legend(fontsize=7)
    return ax
