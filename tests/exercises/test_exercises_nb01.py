"""The references of notebook 01's exercises that are not lecture_utils functions themselves."""

import numpy as np
import torch
import torch.nn.functional as F

from lecture_utils.analysis import likelihood as lik
from lecture_utils.exercises import nb01
from lecture_utils.network import functions as fn


def test_one_hot_is_torchs_with_its_dtype() -> None:
    labels = np.array([5, 0, 9])
    got = nb01.one_hot(labels, 10)
    want = F.one_hot(torch.from_numpy(labels), 10).numpy()
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_the_cross_entropy_gradient_keeps_float32_and_matches_autograd() -> None:
    rng = np.random.default_rng(0)
    z, labels = rng.normal(size=(5, 4)).astype(np.float32), rng.integers(0, 4, 5)
    got = nb01.cross_entropy_grad(z, labels)
    assert got.dtype == np.float32
    t = torch.tensor(z, requires_grad=True)
    F.cross_entropy(t, torch.from_numpy(labels)).backward()
    np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_the_mean_score_is_counts_over_n_minus_q() -> None:
    """(1/n) sum_i (e_{y_i} - Q) = n_k/n - Q: what lik.mc_expected_score draws directly."""
    rng = np.random.default_rng(1)
    theta, y = rng.normal(size=3), rng.integers(0, 3, 200)
    np.testing.assert_allclose(nb01.mean_score(theta, y),
                               lik.counts(y, 3) / y.size - fn.softmax(theta), atol=1e-12)


def test_the_coin_minimiser_gives_the_observed_frequency() -> None:
    assert np.isclose(1 / (1 + np.exp(-nb01.coin_minimiser())), 7 / 20)
