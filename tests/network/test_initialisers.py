"""lecture_utils.init: sample variances against the formulas and against torch.nn.init."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from lecture_utils.network import initialisers

#: Var(w²)/Var(w)² of the distribution: 2 for a normal, 4/5 for a uniform (kurtosis − 1).
_KURTOSIS_MINUS_ONE = {"normal": 2.0, "glorot_normal": 2.0, "he_normal": 2.0,
                       "standard": 0.8, "glorot_uniform": 0.8, "he_uniform": 0.8}
_FANS = [(300, 200), (784, 256), (64, 1000)]


def _within_sampling_error(w: np.ndarray, variance: float, kurt_minus_one: float) -> bool:
    """Mean of w² (w has mean 0) vs variance, within 5 standard errors √(Var(w²)/N)."""
    se = variance * math.sqrt(kurt_minus_one / w.size)
    return abs(float(np.mean(w**2)) - variance) < 5 * se


@pytest.mark.parametrize(("fan_in", "fan_out"), _FANS)
@pytest.mark.parametrize("scheme", sorted(initialisers.INITIALISERS))
def test_sample_variance_matches_the_formula(scheme: str, fan_in: int, fan_out: int) -> None:
    kwargs = {"std": 0.05} if scheme == "normal" else {}
    w = initialisers.INITIALISERS[scheme](fan_in, fan_out, rng=np.random.default_rng(0), **kwargs)
    assert w.shape == (fan_out, fan_in) and w.dtype == np.float64
    variance = initialisers.weight_variance(scheme, fan_in, fan_out, **kwargs)
    assert _within_sampling_error(w, variance, _KURTOSIS_MINUS_ONE[scheme])
    assert abs(float(w.mean())) < 5 * math.sqrt(variance / w.size)


@pytest.mark.parametrize(("fan_in", "fan_out"), _FANS)
def test_closed_forms(fan_in: int, fan_out: int) -> None:
    v = initialisers.weight_variance
    assert v("glorot_uniform", fan_in, fan_out) == pytest.approx(2 / (fan_in + fan_out))
    assert v("glorot_normal", fan_in, fan_out, gain=3.0) == pytest.approx(18 / (fan_in + fan_out))
    assert v("he_normal", fan_in, fan_out) == pytest.approx(2 / fan_in)
    assert v("he_uniform", fan_in, fan_out, gain=1.0) == pytest.approx(1 / fan_in)
    assert v("standard", fan_in, fan_out) == pytest.approx(1 / (3 * fan_in))
    assert v("normal", fan_in, fan_out, std=0.1) == pytest.approx(0.01)


@pytest.mark.parametrize(("scheme", "bound"), [("standard", lambda fi, fo: 1 / math.sqrt(fi)),
                                               ("glorot_uniform",
                                                lambda fi, fo: math.sqrt(6 / (fi + fo))),
                                               ("he_uniform", lambda fi, fo: math.sqrt(6 / fi))])
def test_uniform_schemes_fill_their_interval(scheme: str, bound) -> None:
    w = initialisers.INITIALISERS[scheme](400, 300, rng=np.random.default_rng(1))
    a = bound(400, 300)
    assert np.abs(w).max() <= a
    assert np.abs(w).max() > 0.999 * a


# torch.nn.init draws with torch's generator; compare the variances both reach, each within
# its own sampling error, and torch's documented formulas with ours.
def _leaky_slope(gain: float) -> float:
    """torch's kaiming_* take the leaky-ReLU slope a with gain √(2/(1 + a²))."""
    return math.sqrt(max(2 / gain**2 - 1, 0.0))


_TORCH = {
    "glorot_uniform": lambda t, g: nn.init.xavier_uniform_(t, gain=g),
    "glorot_normal": lambda t, g: nn.init.xavier_normal_(t, gain=g),
    "he_uniform": lambda t, g: nn.init.kaiming_uniform_(t, a=_leaky_slope(g)),
    "he_normal": lambda t, g: nn.init.kaiming_normal_(t, a=_leaky_slope(g)),
}


@pytest.mark.parametrize("gain", [1.0, math.sqrt(2.0)])
@pytest.mark.parametrize("scheme", sorted(_TORCH))
def test_same_variance_as_torch_nn_init(scheme: str, gain: float) -> None:
    fan_in, fan_out = 500, 300
    torch.manual_seed(0)
    t = _TORCH[scheme](torch.empty(fan_out, fan_in, dtype=torch.float64), gain).numpy()
    draw = initialisers.INITIALISERS[scheme]
    ours = draw(fan_in, fan_out, rng=np.random.default_rng(0), gain=gain)
    variance = initialisers.weight_variance(scheme, fan_in, fan_out, gain=gain)
    for w in (t, ours):
        assert _within_sampling_error(w, variance, _KURTOSIS_MINUS_ONE[scheme])
    if scheme.endswith("uniform"):
        assert np.abs(t).max() == pytest.approx(np.abs(ours).max(), rel=1e-3)


def test_standard_is_torch_default_for_linear_layers() -> None:
    torch.manual_seed(0)
    w = nn.Linear(600, 400).weight.detach().double().numpy()
    assert np.abs(w).max() <= 1 / math.sqrt(600)
    assert _within_sampling_error(w, initialisers.weight_variance("standard", 600, 400), 0.8)


def test_torch_gain_for_relu_is_sqrt2() -> None:
    assert nn.init.calculate_gain("relu") == pytest.approx(math.sqrt(2.0))
    assert initialisers.weight_variance("he_normal", 100, 7) == pytest.approx(
        nn.init.calculate_gain("relu") ** 2 / 100)


def test_initialise_redraws_every_linear_layer_and_zeroes_biases() -> None:
    model = nn.Sequential(nn.Linear(50, 40), nn.ReLU(), nn.Linear(40, 30)).double()
    initialisers.initialise(model, "normal", rng=np.random.default_rng(0), std=0.3)
    again = nn.Sequential(nn.Linear(50, 40), nn.ReLU(), nn.Linear(40, 30)).double()
    initialisers.initialise(again, "normal", rng=np.random.default_rng(0), std=0.3)
    for a, b in zip(model.parameters(), again.parameters(), strict=True):
        torch.testing.assert_close(a, b)
    assert not model[0].bias.detach().any() and not model[2].bias.detach().any()
    assert float(model[0].weight.detach().std()) == pytest.approx(0.3, rel=0.05)


def test_bad_arguments_are_named() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="scheme must be one of"):
        initialisers.weight_variance("lecun", 3, 3)
    with pytest.raises(ValueError, match="std must be given for scheme 'normal'"):
        initialisers.weight_variance("normal", 3, 3)
    with pytest.raises(ValueError, match="std must be given for scheme 'normal' and only"):
        initialisers.weight_variance("he_normal", 3, 3, std=1.0)
    with pytest.raises(ValueError, match="gain applies to the Glorot and He schemes"):
        initialisers.weight_variance("standard", 3, 3, gain=2.0)
    with pytest.raises(ValueError, match="fan_in must be an integer >= 1"):
        initialisers.he_normal(0, 3, rng=rng)
    with pytest.raises(ValueError, match="gain must be finite and > 0"):
        initialisers.glorot_uniform(3, 3, rng=rng, gain=-1.0)
    with pytest.raises(ValueError, match="std must be finite and > 0"):
        initialisers.normal(3, 3, std=0.0, rng=rng)
    with pytest.raises(ValueError, match=r"at least one torch\.nn\.Linear"):
        initialisers.initialise(nn.ReLU(), "he_normal", rng=rng)
    with pytest.raises(ValueError, match="scheme must be one of"):
        initialisers.initialise(nn.Linear(2, 2), "lecun", rng=rng)
