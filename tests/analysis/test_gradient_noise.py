"""Mini-batch gradient noise: exact per-example variance, the 1/B law with its correction."""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lecture_utils.analysis.gradient_noise import (
    full_gradient,
    gradient_variance,
    minibatch_gradient_noise,
    per_example_sq_norms,
    predicted_variance,
)
from lecture_utils.data.mnist import load_mnist
from lecture_utils.figures import training_plots
from lecture_utils.network.mlp import MLP


def brute_force_per_example(model: torch.nn.Module, x: torch.Tensor,
                            y: torch.Tensor) -> np.ndarray:
    """One autograd call per example: the (n, n_params) matrix of g_i."""
    rows = []
    for i in range(len(x)):
        loss = torch.nn.functional.cross_entropy(model(x[i:i + 1]), y[i:i + 1])
        grads = torch.autograd.grad(loss, list(model.parameters()))
        rows.append(torch.cat([g.reshape(-1) for g in grads]).numpy())
    return np.array(rows)


@pytest.fixture
def small() -> tuple[torch.nn.Sequential, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(),
                                torch.nn.Linear(5, 4, bias=False), torch.nn.ReLU(),
                                torch.nn.Linear(4, 3)).double()
    gen = torch.Generator().manual_seed(1)
    return model, torch.randn(40, 6, generator=gen, dtype=torch.float64), \
        torch.randint(0, 3, (40,), generator=gen)


def test_per_example_norms_match_one_backward_per_example(small):
    model, x, y = small
    g = brute_force_per_example(model, x, y)
    np.testing.assert_allclose(per_example_sq_norms(model, x, y).numpy(),
                               np.square(g).sum(axis=1), rtol=1e-12)


def test_variance_and_full_gradient_match_brute_force(small):
    model, x, y = small
    g = brute_force_per_example(model, x, y)
    mean = g.mean(axis=0)
    np.testing.assert_allclose(full_gradient(model, x, y, chunk=7).numpy(), mean, rtol=1e-12)
    sigma2, g_full = gradient_variance(model, x, y, chunk=9)
    assert sigma2 == pytest.approx(np.square(g - mean).sum(axis=1).mean(), rel=1e-10)
    np.testing.assert_allclose(g_full.numpy(), mean, rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(g=arrays(np.float64, st.tuples(st.integers(2, 7), st.integers(1, 3)),
                elements=st.floats(-10, 10)),
       data=st.data())
def test_predicted_variance_is_the_exact_mean_over_all_batches(g, data):
    """E||g_B − g||² over all C(N, B) batches equals σ²/B · (N − B)/(N − 1)."""
    n = len(g)
    b = data.draw(st.integers(1, n))
    mean = g.mean(axis=0)
    sigma2 = np.square(g - mean).sum(axis=1).mean()
    exact = np.mean([np.square(g[list(c)].mean(axis=0) - mean).sum()
                     for c in itertools.combinations(range(n), b)])
    assert float(predicted_variance(sigma2, b, n)) == pytest.approx(exact, rel=1e-9, abs=1e-9)


def test_predicted_variance_limits():
    np.testing.assert_allclose(predicted_variance(2.0, [1, 50, 100], 100),
                               [2.0, 2 / 50 * 50 / 99, 0])


@pytest.mark.parametrize(("args", "match"), [
    ((1.0, 0, 10), "batch_size must be in"),
    ((1.0, 11, 10), "batch_size must be in"),
    ((1.0, 1, 1), "n must be >= 2"),
])
def test_predicted_variance_rejects_bad_sizes(args, match):
    with pytest.raises(ValueError, match=match):
        predicted_variance(*args)


def test_measured_noise_agrees_with_the_prediction(small):
    model, x, y = small
    noise = minibatch_gradient_noise(model, x.numpy(), y.numpy(), [1, 4, 20, 40], n_draws=400,
                                     rng=np.random.default_rng(0))
    assert noise.n == 40 and noise.variance[-1] == pytest.approx(0, abs=1e-20)  # B = N
    ratio = noise.variance[:3] / noise.predicted()[:3]
    np.testing.assert_allclose(ratio, 1, atol=0.15)
    assert np.all(np.abs(noise.variance[:3] - noise.predicted()[:3]) < 5 * noise.stderr[:3])
    np.testing.assert_allclose(noise.noise_to_signal, noise.variance / noise.full_grad_norm2)
    assert noise.predicted(noise.noise_scale) == pytest.approx(
        noise.full_grad_norm2 * (40 - noise.noise_scale) / 39)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"batch_sizes": []}, ValueError, "batch_sizes must be"),
    ({"batch_sizes": [41]}, ValueError, "batch_sizes must be"),
    ({"n_draws": 1}, ValueError, "n_draws must be >= 2"),
])
def test_measure_rejects_bad_arguments(small, kwargs, error, match):
    model, x, y = small
    args = {"batch_sizes": [2], "n_draws": 3} | kwargs
    with pytest.raises(error, match=match):
        minibatch_gradient_noise(model, x.numpy(), y.numpy(), rng=np.random.default_rng(0),
                                 **args)


def test_models_it_cannot_handle_are_named():
    x, y = torch.zeros(3, 4), torch.zeros(3, dtype=torch.long)
    with pytest.raises(TypeError, match=r"must be an nn\.Sequential"):
        per_example_sq_norms(torch.nn.Linear(4, 2), x, y)
    with pytest.raises(TypeError, match=r"only in nn\.Linear layers, got LayerNorm"):
        per_example_sq_norms(torch.nn.Sequential(torch.nn.LayerNorm(4), torch.nn.Linear(4, 2)),
                             x, y)


def test_mnist_noise_falls_like_one_over_b(mnist_dir):
    mnist = load_mnist(mnist_dir)
    x, y = mnist.x_train[:5000], mnist.y_train[:5000]
    noise = minibatch_gradient_noise(MLP([784, 32, 10], rng=0).to_torch(), x, y, [10, 100],
                                     n_draws=30, rng=np.random.default_rng(0))
    np.testing.assert_allclose(noise.variance / noise.predicted(), 1, atol=0.2)
    slope = np.diff(np.log(noise.variance)) / np.diff(np.log(noise.batch_sizes))
    assert -1.15 < slope[0] < -0.85


def test_noise_figure_shows_measurement_prediction_and_signal(small):
    model, x, y = small
    noise = minibatch_gradient_noise(model, x.numpy(), y.numpy(), [1, 4, 20], n_draws=3,
                                     rng=np.random.default_rng(0))
    fig = training_plots.plot_gradient_noise({"init": noise})
    ax = fig.axes[0]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["σ²/B · (N − B)/(N − 1)", "σ²/B", "signal ‖g‖²", "init: measured"]
    assert ax.lines[-1].get_ydata()[0] == pytest.approx(noise.full_grad_norm2)
    plt.close(fig)
