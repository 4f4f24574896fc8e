"""lecture_utils.network.functions against torch.nn.functional, plus invariances (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lecture_utils.network import functions as fn

TOL = {np.float64: 1e-6, np.float32: 1e-5}  # float32 has ~7 significant digits
PROPS = settings(max_examples=50, deadline=None)


def _logits(kind: str, n: int, k: int, dtype, rng: np.random.Generator) -> np.ndarray:
    if kind == "random":
        x = rng.normal(scale=3.0, size=(n, k))
    elif kind == "extreme":  # entries of +-1000: naive exp overflows / underflows
        x = rng.choice([-1000.0, 1000.0, 0.0, 999.0], size=(n, k))
    else:  # "large": all logits near 1000
        x = 1000.0 + rng.normal(size=(n, k))
    return x.astype(dtype)


CASES = [(kind, n, k) for kind in ("random", "extreme", "large")
         for n, k in ((7, 10), (1, 10), (5, 1), (1, 1), (64, 3))]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


# --- torch reference ------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("kind", "n", "k"), CASES)
def test_softmax_log_softmax_logsumexp_match_torch(kind, n, k, dtype, rng):
    x = _logits(kind, n, k, dtype, rng)
    t = torch.from_numpy(x)
    tol = TOL[dtype]
    for ours, ref in [(fn.softmax(x), F.softmax(t, dim=-1)),
                      (fn.log_softmax(x), F.log_softmax(t, dim=-1)),
                      (fn.logsumexp(x), torch.logsumexp(t, dim=-1))]:
        assert ours.dtype == dtype
        assert np.all(np.isfinite(ours))
        np.testing.assert_allclose(ours, ref.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_along_other_axes(axis, rng):
    x = rng.normal(size=(3, 4, 5))
    t = torch.from_numpy(x)
    np.testing.assert_allclose(fn.softmax(x, axis=axis), F.softmax(t, dim=axis), atol=1e-12)
    np.testing.assert_allclose(fn.log_softmax(x, axis=axis), F.log_softmax(t, dim=axis),
                               atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("kind", "n", "k"), CASES)
def test_cross_entropy_matches_torch(kind, n, k, dtype, reduction, rng):
    x = _logits(kind, n, k, dtype, rng)
    labels = rng.integers(0, k, size=n)
    ref = F.cross_entropy(torch.from_numpy(x), torch.from_numpy(labels), reduction=reduction)
    tol = TOL[dtype]
    targets = [labels, fn.one_hot(labels, k), fn.one_hot(labels, k, dtype=np.float64)]
    for y in targets:
        ours = fn.cross_entropy(x, y, reduction=reduction)
        assert ours.dtype == dtype
        np.testing.assert_allclose(ours, ref.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_from_probs_matches_nll_loss(reduction, rng):
    x = rng.normal(size=(9, 4))
    labels = rng.integers(0, 4, size=9)
    probs = fn.softmax(x)
    ref = F.nll_loss(torch.log(torch.from_numpy(probs)), torch.from_numpy(labels),
                     reduction=reduction).numpy()
    for y in (labels, fn.one_hot(labels, 4)):
        ours = fn.cross_entropy(probs, y, from_logits=False, reduction=reduction)
        np.testing.assert_allclose(ours, ref, rtol=1e-12)
    np.testing.assert_allclose(fn.cross_entropy(x, labels, reduction=reduction), ref, rtol=1e-12)


def test_cross_entropy_soft_targets_match_torch(rng):
    x = rng.normal(size=(6, 5))
    y = fn.softmax(rng.normal(size=(6, 5)))
    ref = F.cross_entropy(torch.from_numpy(x), torch.from_numpy(y))
    np.testing.assert_allclose(fn.cross_entropy(x, y), ref.numpy(), rtol=1e-12)


def test_cross_entropy_zero_probability():
    probs = np.array([[1.0, 0.0], [0.5, 0.5]])
    np.testing.assert_allclose(
        fn.cross_entropy(probs, np.array([0, 1]), from_logits=False, reduction="none"),
        [0.0, np.log(2)])
    # 0 * log 0 = 0 with one-hot targets; a zero probability on the label costs infinity
    assert fn.cross_entropy(probs, fn.one_hot([0, 0], 2), from_logits=False, reduction="sum") \
        == pytest.approx(np.log(2))
    assert fn.cross_entropy(probs, np.array([1, 0]), from_logits=False) == np.inf


def test_cross_entropy_is_the_slide_sum():
    """C = -sum_n sum_k y_nk log h_nk, written out with loops."""
    x = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]])
    y = fn.one_hot([2, 1], 3)
    h = fn.softmax(x)
    slide = -sum(y[n, k] * np.log(h[n, k]) for n in range(2) for k in range(3))
    assert fn.cross_entropy(x, y, reduction="sum") == pytest.approx(slide, rel=1e-14)


@pytest.mark.parametrize("shape", [(), (6,), (2, 3)])
def test_one_hot_matches_torch(shape, rng):
    labels = rng.integers(0, 10, size=shape)
    ours = fn.one_hot(labels)
    ref = F.one_hot(torch.as_tensor(labels), num_classes=10).numpy()
    assert ours.dtype == np.float32
    assert ours.shape == (*shape, 10)
    np.testing.assert_array_equal(ours, ref)


def test_one_hot_nine_has_ten_entries():
    """Errata: the slide's vector for 9 has eleven entries; the right one has ten."""
    y = fn.one_hot(9)
    assert y.shape == (10,)
    np.testing.assert_array_equal(y, [0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
    assert fn.one_hot(np.array([3], dtype=np.uint8), 5, dtype=np.int64).dtype == np.int64


def test_relu_and_grad_match_torch_autograd(rng):
    x = np.concatenate([rng.normal(size=20), [0.0, -0.0, 1e-300, -1e-300]])
    t = torch.tensor(x, requires_grad=True)
    F.relu(t).sum().backward()
    np.testing.assert_array_equal(fn.relu(x), F.relu(t).detach().numpy())
    np.testing.assert_array_equal(fn.relu_grad(x), t.grad.numpy())
    x32 = x.astype(np.float32)
    assert fn.relu(x32).dtype == fn.relu_grad(x32).dtype == np.float32
    assert fn.relu([-1, 2]).dtype == np.float64  # integers are promoted


# --- stability -------------------------------------------------------------------------------

def test_extreme_logits_stay_finite():
    x = np.array([[1000.0, 0.0, -1000.0]])
    np.testing.assert_allclose(fn.softmax(x), [[1.0, 0.0, 0.0]])
    np.testing.assert_allclose(fn.log_softmax(x), [[0.0, -1000.0, -2000.0]])
    assert fn.cross_entropy(x, np.array([2])) == pytest.approx(2000.0)
    assert fn.logsumexp(np.array([-np.inf, -np.inf])) == -np.inf
    assert fn.logsumexp(np.array([np.inf, 0.0])) == np.inf


# --- invariances (hypothesis) ----------------------------------------------------------------

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
logit_rows = arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 12)), elements=finite)


@PROPS
@given(logit_rows)
def test_softmax_is_a_distribution(x):
    p = fn.softmax(x)
    assert np.all(p >= 0) and np.all(p <= 1)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=0, atol=1e-12)


@PROPS
@given(logit_rows, finite)
def test_softmax_unchanged_by_adding_a_constant(x, c):
    np.testing.assert_allclose(fn.softmax(x + c), fn.softmax(x), rtol=1e-9, atol=1e-12)


@PROPS
@given(logit_rows)
def test_log_softmax_and_logsumexp_bounds(x):
    lse = fn.logsumexp(x)
    m = x.max(axis=-1)
    assert np.all(lse >= m) and np.all(lse <= m + np.log(x.shape[-1]) + 1e-9)
    lp = fn.log_softmax(x)
    assert np.all(lp <= 1e-12)
    np.testing.assert_allclose(np.exp(lp), fn.softmax(x), atol=1e-12)


@PROPS
@given(logit_rows, st.data())
def test_cross_entropy_nonnegative_and_integer_equals_one_hot(x, data):
    n, k = x.shape
    labels = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    c = fn.cross_entropy(x, labels, reduction="none")
    assert np.all(c >= 0)
    np.testing.assert_allclose(c, fn.cross_entropy(x, fn.one_hot(labels, k), reduction="none"),
                               rtol=1e-12, atol=1e-12)


# --- errors ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("labels", "error", "match"), [
    ([1.0, 2.0], TypeError, "labels must be integer"),
    ([True, False], TypeError, "labels must be integer"),
    ([0, 10], ValueError, r"labels must lie in 0..9"),
    ([-1, 3], ValueError, r"labels must lie in 0..9"),
])
def test_one_hot_rejects_bad_labels(labels, error, match):
    with pytest.raises(error, match=match):
        fn.one_hot(labels)


@pytest.mark.parametrize(("num_classes", "error"), [(0, ValueError), (2.0, TypeError),
                                                    (True, TypeError)])
def test_one_hot_rejects_bad_num_classes(num_classes, error):
    with pytest.raises(error, match="num_classes"):
        fn.one_hot([0], num_classes)


@pytest.mark.parametrize(("x", "y", "kwargs", "error", "match"), [
    (np.zeros(3), np.array([0]), {}, ValueError, r"logits must have shape \(n, K\)"),
    (np.zeros((2, 3)), np.array([0, 1, 2]), {}, ValueError, r"labels must have shape \(2,\)"),
    (np.zeros((2, 3)), np.array([0.0, 1.0]), {}, TypeError, "labels must be integer"),
    (np.zeros((2, 3)), np.array([0, 3]), {}, ValueError, r"labels must lie in 0..2"),
    (np.zeros((2, 3)), np.ones((2, 3)), {}, ValueError, "each row of labels must sum to 1"),
    (np.zeros((2, 3)), np.array([0, 1]), {"from_logits": False}, ValueError,
     "each row of probs must sum to 1"),
    (-np.eye(2), np.array([0, 1]), {"from_logits": False}, ValueError, "probs must hold"),
    (np.zeros((2, 3)), np.array([0, 1]), {"reduction": "avg"}, ValueError, "reduction must"),
    (np.zeros((0, 3)), np.zeros(0, int), {}, ValueError, "at least one example"),
    (np.array([["a", "b"]]), np.array([0]), {}, TypeError, "logits must be a real-valued"),
])
def test_cross_entropy_rejects_bad_input(x, y, kwargs, error, match):
    with pytest.raises(error, match=match):
        fn.cross_entropy(x, y, **kwargs)


def test_softmax_rejects_scalar():
    with pytest.raises(ValueError, match="x must have at least one dimension"):
        fn.softmax(3.0)
