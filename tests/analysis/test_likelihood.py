"""lecture_utils.analysis.likelihood (and its figures/widget) against closed forms and torch
autograd."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from lecture_utils.analysis import likelihood as lik
from lecture_utils.figures import likelihood_plots, widgets

PROPS = settings(max_examples=50, deadline=None)
P = np.array([0.5, 0.3, 0.2])


def _distributions(k: int) -> st.SearchStrategy[np.ndarray]:
    weights = st.lists(st.floats(0.01, 10.0), min_size=k, max_size=k)
    return weights.map(lambda w: np.asarray(w) / np.sum(w))


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_nll_is_the_slide_sum_and_matches_torch():
    rng = np.random.default_rng(1)
    samples = rng.integers(0, 4, size=30)
    theta = rng.normal(size=4)
    q = np.exp(theta) / np.exp(theta).sum()
    slide = -sum(np.log(q[y]) for y in samples)
    ref = F.cross_entropy(torch.tensor(np.tile(theta, (30, 1))), torch.from_numpy(samples),
                          reduction="sum").item()
    assert lik.nll(theta, samples) == pytest.approx(slide, rel=1e-12)
    assert lik.nll(theta, samples) == pytest.approx(ref, rel=1e-12)


def test_coin_nll_minimised_at_log_odds():
    flips = np.array([1] * 7 + [0] * 13)
    thetas = np.linspace(-3, 3, 6001)
    costs = lik.nll(lik.coin_logits(thetas), flips)
    assert costs.shape == thetas.shape
    assert thetas[np.argmin(costs)] == pytest.approx(np.log(7 / 13), abs=1e-3)
    q = 1 / (1 + np.exp(-thetas))
    np.testing.assert_allclose(costs, -(7 * np.log(q) + 13 * np.log(1 - q)), rtol=1e-12)


def test_score_matches_torch_autograd():
    theta = np.array([0.2, -1.0, 0.7])
    t = torch.tensor(theta, requires_grad=True)
    for y in range(3):
        (grad,) = torch.autograd.grad(F.log_softmax(t, dim=0)[y], t)
        np.testing.assert_allclose(lik.score(theta, [y])[0], grad.numpy(), atol=1e-14)


@PROPS
@given(_distributions(4), _distributions(4))
def test_expected_score_is_p_minus_q_and_zero_only_at_p(p, q):
    np.testing.assert_allclose(lik.expected_score(p, np.log(q)), p - q, atol=1e-12)
    np.testing.assert_allclose(lik.expected_score(p, np.log(p) + 3.0), 0.0, atol=1e-12)


def test_mc_expected_score_unbiased_with_1_over_sqrt_n_spread():
    rng = np.random.default_rng(0)
    for n in (100, 10_000):
        est = lik.mc_expected_score(P, np.log(P), n, rng, repeats=4000)
        assert est.shape == (4000, 3)
        sd = np.sqrt(P * (1 - P) / n)
        assert np.all(np.abs(est.mean(axis=0)) < 4 * sd / np.sqrt(4000))
        np.testing.assert_allclose(est.std(axis=0), sd, rtol=0.05)
    far = lik.mc_expected_score(P, np.zeros(3), 10_000, rng, repeats=100).mean(axis=0)
    np.testing.assert_allclose(far, P - 1 / 3, atol=0.01)


@PROPS
@given(_distributions(5), _distributions(5))
def test_cross_entropy_is_entropy_plus_kl(p, q):
    assert lik.expected_nll(p, q) == pytest.approx(lik.entropy(p) + lik.kl_divergence(p, q),
                                                   rel=1e-12, abs=1e-12)
    assert lik.kl_divergence(p, q) >= -1e-15
    assert lik.kl_divergence(p, p) == pytest.approx(0.0, abs=1e-15)


def test_entropy_kl_closed_forms_and_zeros():
    assert lik.entropy(np.full(10, 0.1)) == pytest.approx(np.log(10))
    assert lik.entropy([1.0, 0.0]) == 0.0
    assert lik.kl_divergence([0.5, 0.5, 0.0], [0.25, 0.25, 0.5]) == pytest.approx(np.log(2))
    assert lik.kl_divergence([0.5, 0.5], [1.0, 0.0]) == np.inf
    grid = np.stack([np.linspace(0.1, 0.9, 5), 1 - np.linspace(0.1, 0.9, 5)], axis=-1)
    assert lik.kl_divergence([0.3, 0.7], grid).shape == (5,)
    assert lik.expected_nll([0.3, 0.7], grid).shape == (5,)


def test_counts():
    np.testing.assert_array_equal(lik.counts([0, 2, 2, 1, 2], 4), [1, 1, 3, 0])


@pytest.mark.parametrize(("call", "match"), [
    (lambda: lik.entropy([0.5, 0.6]), "p must have entries >= 0 summing to 1"),
    (lambda: lik.kl_divergence(P, [-0.1, 0.6, 0.5]), "q must have entries >= 0"),
    (lambda: lik.entropy(0.5), "p must be a probability vector"),
    (lambda: lik.score(np.zeros((2, 3)), [0]), r"theta must have shape \(K,\)"),
    (lambda: lik.mc_expected_score(P, np.zeros(3), 0, np.random.default_rng()), "n must be"),
    (lambda: lik.mc_expected_score(P, np.zeros(3), 5, np.random.default_rng(), repeats=0),
     "repeats must be"),
    (lambda: lik.mc_expected_score(P, np.zeros(4), 5, np.random.default_rng()),
     r"theta must have shape \(3,\)"),
    (lambda: lik.nll(np.zeros(3), [0, 3]), r"labels must lie in 0..2"),
])
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --- figures and widget built on this module ---------------------------------------------------

def test_plot_cross_entropy_decomposition():
    fig = likelihood_plots.plot_cross_entropy_decomposition(0.3, 0.7)
    ax = fig.axes[1]
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_legend() is not None
    expected = f"{lik.expected_nll([0.7, 0.3], [0.3, 0.7]):.3f}"
    assert ax.get_title().startswith(expected)
    with pytest.raises(ValueError, match="q must be in"):
        likelihood_plots.plot_cross_entropy_decomposition(0.3, 1.0)


def test_set_cross_entropy_q_gives_the_figure_drawn_at_that_q():
    """The slider moves one figure; its marks, bars and title equal those of a fresh one."""
    moved = likelihood_plots.plot_cross_entropy_decomposition(0.3, 0.7)
    likelihood_plots.set_cross_entropy_q(moved, 0.3, 0.2)
    fresh = likelihood_plots.plot_cross_entropy_decomposition(0.3, 0.2)
    for a, b in zip(moved.axes, fresh.axes, strict=True):
        assert a.get_title() == b.get_title()
        for line_a, line_b in zip(a.lines, b.lines, strict=True):
            np.testing.assert_allclose(line_a.get_xydata(), line_b.get_xydata())
        assert [r.get_height() for r in a.patches] == [r.get_height() for r in b.patches]
    with pytest.raises(ValueError, match="q must be in"):
        likelihood_plots.set_cross_entropy_q(moved, 0.3, 0.0)
    plt.close("all")


def test_plot_digit_probabilities():
    images = np.random.default_rng(0).random((3, 784))
    probs = np.full((3, 10), 0.1)
    fig = likelihood_plots.plot_digit_probabilities(images, np.array([1, 2, 3]),
                                                    {"a": probs, "b": probs})
    assert len(fig.axes) == 9
    with pytest.raises(ValueError, match=r"probs\['a'\] must have shape"):
        likelihood_plots.plot_digit_probabilities(images, np.array([1, 2, 3]), {"a": probs[:2]})
    with pytest.raises(ValueError, match="images must have shape"):
        likelihood_plots.plot_digit_probabilities(images[:, :700], np.array([1, 2, 3]),
                                                  {"a": probs})


def test_cross_entropy_widget_redraws_on_a_slider_move():
    w = widgets.cross_entropy_decomposition(p=0.3, q=0.4)
    first = bytes(w.image.value)
    w.controls["q"].value = 0.8
    assert bytes(w.image.value) != first and w.renders == 2
