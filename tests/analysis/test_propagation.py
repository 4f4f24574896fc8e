"""lecture_utils.analysis.propagation: per-layer signals against backprop by hand and against
theory."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from lecture_utils.analysis import propagation
from lecture_utils.figures import propagation_plots
from lecture_utils.network import initialisers


def _net(depth: int, width: int, gain: float, seed: int = 0, n_in: int = 30,
         activation: str = "relu") -> nn.Sequential:
    net = propagation.deep_mlp(n_in, width, depth, 10, activation=activation)
    return initialisers.initialise(net, "he_normal", rng=np.random.default_rng(seed), gain=gain)


def _batch(n: int = 64, n_in: int = 30, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, n_in)), rng.integers(0, 10, size=n)


def test_deep_mlp_alternates_linear_and_activation() -> None:
    net = propagation.deep_mlp(784, 64, 5, 10, activation="tanh")
    shapes = [tuple(m.weight.shape) for m in net if isinstance(m, nn.Linear)]
    assert shapes == [(64, 784)] + [(64, 64)] * 4 + [(10, 64)]
    assert sum(isinstance(m, nn.Tanh) for m in net) == 5
    assert net[0].weight.dtype == torch.float64


def test_propagate_matches_backprop_written_by_hand() -> None:
    net = _net(depth=4, width=20, gain=1.3)
    x, y = _batch()
    s = propagation.propagate(net, x, y)
    linears = [m for m in net if isinstance(m, nn.Linear)]
    h = torch.as_tensor(x)
    for layer, z, a in zip(linears, s.pre, s.post, strict=False):  # forward: z = W h + b
        torch.testing.assert_close(z, layer(h))
        torch.testing.assert_close(a, torch.relu(z))
        h = a
    p = torch.softmax(s.logits, dim=1)
    torch.testing.assert_close(s.delta_out, (p - nn.functional.one_hot(torch.as_tensor(y), 10))
                               / len(y))
    delta = s.delta_out
    for k in range(3, -1, -1):  # δ_k = (δ_{k+1} W_{k+1}) ⊙ 1(z_k > 0), ∂C/∂W_k = δ_kᵀ h_{k−1}
        delta = (delta @ linears[k + 1].weight.detach()) * (s.pre[k] > 0)
        torch.testing.assert_close(s.delta[k], delta)
        below = torch.as_tensor(x) if k == 0 else s.post[k - 1]
        torch.testing.assert_close(s.weight_grad[k], delta.T @ below)
    assert s.loss == pytest.approx(float(nn.functional.cross_entropy(s.logits,
                                                                     torch.as_tensor(y))))


def test_slide_formula_linear_given_indicators() -> None:
    # y_i = Σ_jkl 1(h2_j > 0) 1(h1_k > 0) W3_ij W2_jk W1_kl x_l, ∂y_i/∂x_l without x_l
    torch.manual_seed(0)
    W1, W2, W3 = (torch.randn(s, dtype=torch.float64) for s in ((7, 5), (6, 7), (4, 6)))
    x = torch.randn(5, dtype=torch.float64)
    h1 = torch.relu(W1 @ x)
    h2 = torch.relu(W2 @ h1)
    jac = torch.einsum("j,k,ij,jk,kl->il", (h2 > 0).double(), (h1 > 0).double(), W3, W2, W1)
    torch.testing.assert_close(jac @ x, W3 @ h2)
    auto = torch.autograd.functional.jacobian(lambda v: W3 @ torch.relu(W2 @ torch.relu(W1 @ v)),
                                              x)
    torch.testing.assert_close(jac, auto)


@pytest.mark.parametrize("c", [0.8, 1.0, 1.25])
def test_per_layer_factor_matches_mean_field_slope(c: float) -> None:
    # He gain g = c·√2: the mean square is multiplied by g²/2 = c² per layer, the std by c.
    width, depth = 512, 12
    net = _net(depth, width, gain=c * math.sqrt(2), seed=1)
    x, y = _batch(256, seed=2)
    p = propagation.profile(net, x, y)
    assert propagation.fitted_factor(p.forward_std) == pytest.approx(c, rel=0.03)
    assert propagation.fitted_factor(p.backward_rms[:-1]) == pytest.approx(1 / c, rel=0.05)
    # finite width: log‖z_l‖² does a random walk with variance ≈ 5·l/width (Hanin & Rolnick,
    # 2018), so log std strays from the mean-field line by about ½√(5·l/width)
    spread = 0.5 * np.sqrt(5 * np.arange(1, depth + 1) / width)
    assert np.all(np.abs(np.log(p.forward_std / p.forward_predicted)) < 3 * spread)
    assert np.all(np.abs(np.log(p.backward_rms / p.backward_predicted)) < 3 * spread[::-1])
    assert propagation.fitted_factor(p.forward_predicted) == pytest.approx(c, rel=0.01)


def test_first_layer_prediction_uses_the_input_mean_square() -> None:
    # E[z_1²] = σ²·mean_n‖x_n‖²: averaged over many weight draws it is exact.
    x, y = _batch(32, seed=3)
    x = x + 1.0  # a nonzero mean: Var(x) alone would be wrong
    ratios = [propagation.profile(_net(1, 400, 1.0, seed=s), x, y) for s in range(5)]
    measured = np.mean([r.forward_std[0] for r in ratios])
    predicted = np.mean([r.forward_predicted[0] for r in ratios])
    assert measured == pytest.approx(predicted, rel=0.03)


def test_layer_factor_is_one_for_he() -> None:
    def factor(scheme: str) -> float:
        return propagation.layer_factor(initialisers.weight_variance(scheme, 256, 256), 256)

    assert factor("he_normal") == pytest.approx(1.0)
    assert factor("glorot_normal") == pytest.approx(0.5)
    assert factor("standard") == pytest.approx(1 / 6)


def test_fitted_factor_of_a_geometric_sequence() -> None:
    assert propagation.fitted_factor(3.0 * 0.7 ** np.arange(10)) == pytest.approx(0.7)


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="depth must be an integer >= 1"):
        propagation.deep_mlp(3, 4, 0, 2)
    with pytest.raises(ValueError, match="activation must be one of"):
        propagation.deep_mlp(3, 4, 2, 2, activation="gelu")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"model must be an nn\.Sequential"):
        propagation.propagate(nn.Linear(3, 2), np.zeros((2, 3)), np.zeros(2))
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 30\)"):
        propagation.propagate(_net(2, 5, 1.0), np.zeros((2, 3)), np.zeros(2))
    with pytest.raises(ValueError, match="values must be a 1-D array"):
        propagation.fitted_factor(np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="weight_variance must be finite and > 0"):
        propagation.layer_factor(0.0, 3)


def test_plot_signal_profiles_draws_measured_and_predicted_lines() -> None:
    import matplotlib.pyplot as plt


    x, y = _batch()
    profiles = {f"gain {g}": propagation.profile(_net(6, 32, g), x, y) for g in (1.0, 1.4)}
    fig = propagation_plots.plot_signal_profiles(profiles, title="test")
    fwd, bwd = fig.axes
    assert len(fwd.get_lines()) == 2 * 2 + 1 and len(bwd.get_lines()) == 2 * 2
    np.testing.assert_allclose(fwd.get_lines()[0].get_ydata(), profiles["gain 1.0"].forward_std)
    assert fwd.get_yscale() == "log" and fig.get_suptitle() == "test"
    ax = propagation_plots.plot_layer_histograms([np.zeros(5), np.ones(5)], limits=(-1, 2),
                                                 title="h")
    assert len(ax.patches) == 2 and ax.get_xlim() == (-1, 2)
    with pytest.raises(ValueError, match="profiles must map at least one label"):
        propagation_plots.plot_signal_profiles({})
    plt.close("all")


def test_signal_widget_wraps_the_pure_function() -> None:
    import matplotlib.pyplot as plt

    from lecture_utils.figures import widgets

    x, y = _batch(32, n_in=30)
    w = widgets.signal_propagation(x, y, width=16, depth=3, gain=1.4)
    depth, gain = w.controls["depth"], w.controls["gain"]
    assert (depth.value, gain.value) == (3, 1.4) and depth.max == 50
    first = bytes(w.image.value)
    gain.value = 2.0
    second = bytes(w.image.value)
    depth.value = 5
    assert len({first, second, bytes(w.image.value)}) == 3
    plt.close("all")


@pytest.mark.parametrize(("depth", "gain"), [(1, 1.0), (3, 1.4), (6, 0.7), (6, 2.4)])
def test_he_gain_sweep_is_the_profile_of_the_same_network(depth: int, gain: float) -> None:
    """One forward pass for every (depth, gain): the same numbers as building the net anew."""
    x, y = _batch(40)
    sweep = propagation.HeGainSweep(x, y, width=12, max_depth=6, n_out=10, seed=4)
    fresh = propagation.profile(_net(depth, 12, gain, seed=4), x, y)
    fast = sweep.profile(depth, gain)
    for name in ("forward_std", "forward_predicted", "backward_rms", "backward_predicted"):
        np.testing.assert_allclose(getattr(fast, name), getattr(fresh, name), rtol=1e-10,
                                   err_msg=name)
    assert fast.weight_grad_norm is None


def test_he_gain_sweep_names_bad_arguments() -> None:
    x, y = _batch(8)
    sweep = propagation.HeGainSweep(x, y, width=4, max_depth=3)
    with pytest.raises(ValueError, match="depth"):
        sweep.profile(4, 1.0)
    with pytest.raises(ValueError, match="gain"):
        sweep.profile(2, -1.0)
    with pytest.raises(ValueError, match="x must have shape"):
        propagation.HeGainSweep(x[0], y, width=4)


def test_plot_gain_profile_keeps_its_axes() -> None:
    import matplotlib.pyplot as plt

    x, y = _batch(16)
    sweep = propagation.HeGainSweep(x, y, width=8, max_depth=10)
    fig = propagation_plots.plot_gain_profile(sweep.profile(4, 1.6), gain=1.6, width=8,
                                              max_depth=10)
    for ax in fig.axes:
        assert ax.get_xlim() == (0, 11) and ax.get_ylim() == pytest.approx((1e-12, 1e12))
    assert "g = 1.60" in fig.get_suptitle() and "1.28 per layer" in fig.get_suptitle()
    plt.close(fig)
