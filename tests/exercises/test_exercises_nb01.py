"""Notebook 01's exercises: the references, the correct styles every check accepts (loops,
torch, einsum, float32) and the slips each check names."""

import inspect

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lecture_utils.analysis import likelihood as lik
from lecture_utils.exercises import check, get, nb01
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


# --------------------------------------------------------------------------- styles and slips
def _mean_score_float32(theta, y):
    t = theta.astype(np.float32)
    e = np.exp(t - t.max())
    return np.mean(np.eye(t.size, dtype=np.float32)[y] - e / e.sum(), axis=0)


def _mean_score_loop(theta, y):
    q = np.exp(theta - theta.max()) / np.sum(np.exp(theta - theta.max()))
    total = np.zeros_like(q)
    for label in y:
        total[label] += 1
    return total / len(y) - q


def _mean_score_torch(theta, y):
    t = torch.tensor(theta, requires_grad=True)
    F.log_softmax(t, dim=0)[torch.from_numpy(y)].mean().backward()
    return t.grad


def _cross_entropy_loop(z, labels):
    total = 0.0
    for row, label in zip(z, labels, strict=True):
        m = max(row)
        total += m + np.log(sum(np.exp(v - m) for v in row)) - row[label]
    return total / len(labels)


def _cross_entropy_torch(z, labels):
    return F.cross_entropy(torch.from_numpy(z), torch.from_numpy(labels))


def _cross_entropy_einsum(z, labels):
    log_q = z - fn.logsumexp(z, axis=1, keepdims=True)
    return -np.einsum("nk,nk->", log_q, np.eye(z.shape[1])[labels]) / len(labels)


def _one_hot_loop(labels, num_classes):
    out = np.zeros((len(labels), num_classes), dtype=int)
    for i, label in enumerate(labels):
        out[i, label] = 1
    return out


@pytest.mark.parametrize(("name", "student"), [
    ("mean_score", _mean_score_float32), ("mean_score", _mean_score_loop),
    ("mean_score", _mean_score_torch),
    ("cross_entropy", _cross_entropy_loop), ("cross_entropy", _cross_entropy_torch),
    ("cross_entropy", _cross_entropy_einsum), ("cross_entropy", nb01.cross_entropy),
    ("one_hot", _one_hot_loop), ("one_hot", lambda labels, k: np.eye(k)[labels]),
], ids=["mean_score-float32", "mean_score-loop", "mean_score-torch", "cross_entropy-loop",
        "cross_entropy-torch", "cross_entropy-einsum", "cross_entropy-reference", "one_hot-loop",
        "one_hot-float-eye"])
def test_correct_styles_are_accepted(name, student, capsys: pytest.CaptureFixture[str]) -> None:
    assert inspect.unwrap(check(name, student)) is student, capsys.readouterr().out


def _stable_softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize(("name", "student", "hint"), [
    # -log of the softmax the section recommends: log(0) where the label's probability underflows
    ("cross_entropy", lambda z, y: -np.mean(np.log(_stable_softmax(z)[np.arange(len(y)), y])),
     "log softmax"),
    ("cross_entropy", lambda z, y: -np.mean(np.log(_stable_softmax(z)[np.arange(len(y)), y]
                                                   + 1e-12)), "log softmax"),
    ("cross_entropy", lambda z, y: -np.mean((z - fn.logsumexp(z, axis=1, keepdims=True))[:, y]),
     "own label, log_q[np.arange(n), labels]"),
    ("one_hot", lambda labels, k: [[int(i == c) for i in range(k)] for c in labels],
     "expected a numpy array"),
    ("mean_score", lambda theta, y: np.mean(_stable_softmax(theta[None])[0]
                                            - np.eye(theta.size)[y], axis=0), "wrong sign"),
])
def test_slips_get_their_hint(name, student, hint, capsys: pytest.CaptureFixture[str]) -> None:
    check(name, student)
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(f"{name}: not yet: ") and hint in first, first


def test_the_underflow_case_underflows_and_the_reference_stays_finite() -> None:
    [case] = [c for c in get("cross_entropy").inputs() if "underflows" in c.label]
    z, labels = case.args
    with np.errstate(divide="ignore"):
        assert np.isinf(-np.log(_stable_softmax(z)[np.arange(len(labels)), labels])).any()
    assert np.isclose(nb01.cross_entropy(z, labels), fn.cross_entropy(z, labels), rtol=1e-12)
