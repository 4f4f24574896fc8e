"""lecture_utils.analysis.tiny: hand-written gradients and Hessians against torch autograd
(float64)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from lecture_utils.analysis.gradcheck import max_relative_error
from lecture_utils.analysis.hessian import classify_critical_point
from lecture_utils.analysis.tiny import (
    BACKPROP_TINY,
    TINY_II,
    BackpropTinyExample,
    LinearChainCost,
    TinyExampleI,
    TinyExampleII,
    grid,
)
from lecture_utils.figures import plots, widgets

RTOL = 1e-8


def torch_tiny_i(cost: TinyExampleI):
    return lambda w: (cost.y - w[1] * torch.relu(w[0] * cost.x)) ** 2


def torch_chain(cost: LinearChainCost):
    return lambda w: (w[0] * w[1] * cost.x - cost.y) ** 2 + cost.decay * (w[0] ** 2 + w[1] ** 2)


def param_id(value: object) -> str:
    """A test id that is the same in every process: a function's name, else the repr."""
    return getattr(value, "__name__", None) or repr(value)


COSTS = [
    (TinyExampleI(x=1.0, y=1.5), torch_tiny_i),
    (TinyExampleI(x=-0.7, y=2.0), torch_tiny_i),
    (TinyExampleII(), torch_chain),
    (TinyExampleII(x=-2.0, y=0.3, decay=0.1), torch_chain),
    (BackpropTinyExample(), torch_chain),
    (LinearChainCost(x=0.5, y=-1.0, decay=0.2), torch_chain),
]


def autograd(f, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(f(wt), wt)
    h = torch.autograd.functional.hessian(f, wt.detach())
    return g.numpy(), h.numpy()


def assert_rel_close(a: np.ndarray, b: np.ndarray) -> None:
    assert max_relative_error(a, b) < RTOL


@pytest.mark.parametrize(("cost", "make_torch"), COSTS, ids=param_id)
def test_grad_and_hessian_match_autograd(cost, make_torch) -> None:
    rng = np.random.default_rng(0)
    f = make_torch(cost)
    for w in rng.normal(scale=1.5, size=(20, 2)):
        g, h = autograd(f, w)
        assert_rel_close(cost.grad(w), g)
        assert_rel_close(cost.hessian(w), h)
        assert float(cost.value(w)) == pytest.approx(float(f(torch.tensor(w))), rel=1e-12)


@pytest.mark.parametrize(("cost", "make_torch"), COSTS, ids=param_id)
def test_vectorised_over_leading_axes(cost, make_torch) -> None:
    rng = np.random.default_rng(1)
    w = rng.normal(size=(3, 4, 2))
    value, g, h = cost.value(w), cost.grad(w), cost.hessian(w)
    assert value.shape == (3, 4) and g.shape == (3, 4, 2) and h.shape == (3, 4, 2, 2)
    np.testing.assert_allclose(g[2, 1], cost.grad(w[2, 1]))
    np.testing.assert_allclose(h[0, 3], cost.hessian(w[0, 3]))
    np.testing.assert_allclose(h, np.swapaxes(h, -1, -2))


def test_tiny_ii_critical_points_match_slide() -> None:
    np.testing.assert_allclose(TINY_II.minima, [[np.sqrt(1.46)] * 2, [-np.sqrt(1.46)] * 2])
    np.testing.assert_array_equal(TINY_II.saddle, [0.0, 0.0])
    for point in TINY_II.critical_points():
        np.testing.assert_allclose(TINY_II.grad(point), 0.0, atol=1e-12)
    eig = np.linalg.eigvalsh(TINY_II.hessian(TINY_II.minima[0]))
    np.testing.assert_allclose(eig, [0.16, 5.84])
    assert classify_critical_point(TINY_II.hessian(TINY_II.minima[1])) == "minimum"
    assert classify_critical_point(TINY_II.hessian(TINY_II.saddle)) == "saddle"


@pytest.mark.parametrize(("x", "y", "decay"), [(1.0, 1.5, 0.04), (-2.0, 0.3, 0.1), (0.5, -3, 0.2)])
def test_tiny_ii_minima_in_general(x: float, y: float, decay: float) -> None:
    cost = TinyExampleII(x, y, decay)
    for m in cost.minima:
        np.testing.assert_allclose(cost.grad(m), 0.0, atol=1e-12)
        assert classify_critical_point(cost.hessian(m)) == "minimum"
    # the minima are global: no grid point is lower
    assert cost.value(grid((-4, 4), (-4, 4), 161)).min() >= cost.value(cost.minima[0]) - 1e-12


def test_tiny_ii_without_saddle() -> None:
    cost = TinyExampleII(x=1.0, y=0.01, decay=0.04)
    np.testing.assert_array_equal(cost.critical_points(), [[0.0, 0.0]])
    with pytest.raises(ValueError, match="only critical point"):
        _ = cost.minima
    with pytest.raises(ValueError, match="not a saddle"):
        _ = cost.saddle


def test_slide_grad_errata() -> None:
    w = np.array([0.8, -1.1])
    cost = TinyExampleI(x=1.0, y=1.5)
    np.testing.assert_allclose(cost.grad(w), 2 * cost.slide_grad(w))  # missing factor 2
    cost = TinyExampleI(x=-1.0, y=1.5)
    w = np.array([-0.8, 1.1])  # w1·x > 0 but w1·h1 < 0
    assert cost.slide_grad(w)[0] == 0 and cost.grad(w)[0] != 0
    w = np.array([-0.8 * -1, 1.1])  # ReLU off: both give 0
    np.testing.assert_array_equal(cost.grad(w), [0.0, 0.0])
    np.testing.assert_array_equal(cost.slide_grad(w), [0.0, 0.0])


def test_scaling_issue() -> None:
    w = np.array([0.7, 1.3])
    for c in (2.0, 0.5, -3.0):
        scaled = BACKPROP_TINY.rescale(w, c)
        assert BACKPROP_TINY.output(scaled) == pytest.approx(BACKPROP_TINY.output(w))
        g, gs = BACKPROP_TINY.grad(w), BACKPROP_TINY.grad(scaled)
        np.testing.assert_allclose(gs, [g[0] / c, g[1] * c])


def test_grid_layout() -> None:
    w = grid((-1, 1), (0, 2), n=3)
    assert w.shape == (3, 3, 2)
    np.testing.assert_array_equal(w[0, :, 0], [-1, 0, 1])
    np.testing.assert_array_equal(w[:, 0, 1], [0, 1, 2])


@pytest.mark.parametrize("bad", [np.zeros(3), np.zeros((4, 3)), 1.0])
def test_bad_weights_raise(bad) -> None:
    with pytest.raises(ValueError, match="w must be"):
        TINY_II.value(bad)


def test_bad_constructor_arguments_raise() -> None:
    with pytest.raises(ValueError, match="decay must be"):
        TinyExampleII(decay=0.0)
    with pytest.raises(ValueError, match="decay must be"):
        LinearChainCost(decay=-1.0)
    with pytest.raises(ValueError, match="x must be"):
        TinyExampleI(x=float("nan"))
    with pytest.raises(ValueError, match="c must be"):
        BackpropTinyExample.rescale(np.ones(2), 0.0)
    with pytest.raises(ValueError, match="n must be"):
        grid(n=1)


# --- figures and widget built on this module ---------------------------------------------------

def test_plot_scaling_step_and_widget() -> None:
    fig = plots.plot_scaling_step(BACKPROP_TINY, np.array([0.5, 0.5]), c=4.0, eta=0.1)
    left, right = fig.axes[:2]
    assert left.get_legend() is not None and right.get_xlabel() == "scale factor $c$"
    with pytest.raises(ValueError, match="eta must be finite and > 0"):
        plots.plot_scaling_step(BACKPROP_TINY, np.array([0.5, 0.5]), c=4.0, eta=0.0)
    ax = plots.plot_cost_surface(TINY_II, marks={"minima": TINY_II.minima}, n=11)
    assert ax.get_zlabel() == "C" and ax.get_legend() is not None
    plt.close("all")
    w = widgets.scaling_issue(c=2.0, eta=0.1)
    first = bytes(w.image.value)
    w.controls["c"].value = 4.0
    assert bytes(w.image.value) != first and w.renders == 2


def test_the_scaling_view_moves_its_artists_to_the_step() -> None:
    """update(c, η) puts the red point at (c·w1, w2/c), its arrow at one step, the marker at C."""
    w = np.array([0.5, 0.5])
    view = plots.scaling_step_view(BACKPROP_TINY, w)
    for c, eta in ((4.0, 0.1), (0.25, 0.2)):
        view.update(c, eta)
        scaled = BACKPROP_TINY.rescale(w, c)
        stepped = scaled - eta * BACKPROP_TINY.grad(scaled)
        np.testing.assert_allclose(view.points[1].get_xydata()[0], scaled)
        np.testing.assert_allclose(view.steps[1].xy, stepped)
        np.testing.assert_allclose(view.marker.get_xydata()[0], [c, BACKPROP_TINY.value(stepped)])
    assert "0.0531 after" not in view.readout.get_text()
    view.update(4.0, 0.1)
    assert "0.0531 after" in view.readout.get_text()
    with pytest.raises(ValueError, match="c must be finite and > 0"):
        view.update(-1.0, 0.1)
    plt.close(view.fig)


@pytest.mark.parametrize(("cost", "make_torch"), COSTS, ids=param_id)
def test_torch_value_matches_value_and_reference(cost, make_torch) -> None:
    w = np.random.default_rng(3).normal(size=(5, 2))
    wt = torch.tensor(w, dtype=torch.float64)
    np.testing.assert_allclose(cost.torch_value(wt).numpy(), cost.value(w), rtol=1e-12)
    for row in wt:
        reference = float(make_torch(cost)(row))
        assert float(cost.torch_value(row)) == pytest.approx(reference, rel=1e-12)
