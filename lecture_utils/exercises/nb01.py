"""Exercises of notebook 01 (the likelihood criterion): the worked example for every notebook.

Slide "Classification - one hot encoding and cross-entropy": the one-hot encoding, the
stable softmax, the cross-entropy from logits with integer labels and its gradient with
respect to the logits; slide "Q matches P": the Monte Carlo estimate of the expected
gradient (the mean score); slide "Training criterion": the minimiser of the coin's
criterion, a value exercise (a function of no arguments that returns a number).
"""

from __future__ import annotations

import numpy as np

from lecture_utils.exercises.core import Case, Exercise, Mutant, register
from lecture_utils.network import functions as fn


# --------------------------------------------------------------------------- inputs
def _logit_cases(rng: np.random.Generator) -> list[Case]:
    """Random logits of a few shapes, then the edge cases a naive ``np.exp`` fails on."""
    return [
        Case("random logits, 3 examples x 4 classes", (rng.normal(size=(3, 4)),)),
        Case("one example of 10 classes", (rng.normal(scale=3.0, size=(1, 10)),)),
        Case("huge logits (+-1000)", (np.array([[1000.0, 1001.0, 999.0],
                                                [-1000.0, -1002.0, -1001.0]]),)),
        Case("equal logits", (np.zeros((2, 5)),)),
        Case("float32 logits", (rng.normal(size=(4, 3)).astype(np.float32),)),
    ]


def _labelled_cases(rng: np.random.Generator) -> list[Case]:
    """Logits with integer labels (one per row); the huge-logit case of the softmax too."""
    return [Case(c.label, (c.args[0], rng.integers(0, c.args[0].shape[1], c.args[0].shape[0])))
            for c in _logit_cases(rng)]


def _cross_entropy_cases(rng: np.random.Generator) -> list[Case]:
    """One example first (reveal's), then several rows with their own labels, huge logits, and
    a label whose probability underflows to 0 in float64: ``log`` of a probability fails there,
    ``z - logsumexp(z)`` does not."""
    return [
        Case("one example of 10 classes", (rng.normal(scale=3.0, size=(1, 10)), np.array([3]))),
        Case("3 examples, labels (2, 0, 1): row n's loss uses its own label labels[n]",
             (rng.normal(size=(3, 4)), np.array([2, 0, 1]))),
        Case("huge logits (+-1000)", (np.array([[1000.0, 1001.0, 999.0],
                                                [-1000.0, -1002.0, -1001.0]]), np.array([2, 0]))),
        Case("a label whose probability underflows to 0 (logits 0 and -800): take log softmax "
             "= z - logsumexp(z), never the log of a probability",
             (np.array([[0.0, -800.0, 1.0], [-760.0, 2.0, 0.0]]), np.array([1, 0]))),
        Case("equal logits", (np.zeros((2, 5)), np.array([4, 0]))),
        Case("float32 logits", (rng.normal(size=(4, 3)).astype(np.float32),
                                np.array([0, 2, 1, 1]))),
    ]


def _label_cases(rng: np.random.Generator) -> list[Case]:
    """Integer labels and the number of classes: the slide's label 9, MNIST's ten, fewer."""
    return [
        Case("the label 9 alone, 10 classes", (np.array([9]), 10)),
        Case("six MNIST labels, 10 classes", (rng.integers(0, 10, 6), 10)),
        Case("20 labels of 3 classes", (rng.integers(0, 3, 20), 3)),
    ]


def _score_cases(rng: np.random.Generator) -> list[Case]:
    """Logits theta of shape (K,) and samples y_i drawn from a distribution P."""
    p = np.array([0.5, 0.3, 0.2])
    return [
        Case("random theta, 1000 samples of P = (0.5, 0.3, 0.2)",
             (rng.normal(size=3), rng.choice(3, size=1000, p=p))),
        Case("theta = log P (Q = P), 1000 samples of P", (np.log(p), rng.choice(3, 1000, p=p))),
        Case("random theta of 10 classes, 50 samples", (rng.normal(size=10),
                                                          rng.integers(0, 10, 50))),
        Case("a single sample", (rng.normal(size=4), np.array([2]))),
        Case("huge logits (1000, 0, -1000)", (np.array([1000.0, 0.0, -1000.0]),
                                               rng.integers(0, 3, 8))),
    ]


# --------------------------------------------------------------------------- torch oracles
def _torch_softmax(z: np.ndarray) -> np.ndarray:
    import torch

    return torch.softmax(torch.from_numpy(z), dim=-1).numpy()


def _torch_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    return F.cross_entropy(torch.from_numpy(logits), torch.from_numpy(labels)).numpy()


def _torch_one_hot(labels: np.ndarray, num_classes: int) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    return F.one_hot(torch.from_numpy(labels), num_classes).numpy()


def _torch_mean_score(theta: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Autograd of ``(1/n) sum_i log softmax(θ)_{y_i}`` with respect to ``θ``."""
    import torch

    t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    torch.log_softmax(t, dim=0)[torch.from_numpy(y)].mean().backward()
    return t.grad.numpy()


def _torch_cross_entropy_grad(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Autograd of torch's mean cross-entropy with respect to the logits."""
    import torch
    import torch.nn.functional as F

    z = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    F.cross_entropy(z, torch.from_numpy(labels)).backward()
    return z.grad.numpy()


# --------------------------------------------------------------------------- references
def coin_minimiser() -> float:
    """The logit minimising ``C(θ) = -sum_i log Q(y_i | θ)``, ``Q(y=1 | θ) = σ(θ)``, for 7 heads
    in 20 flips (slide "Training criterion").

    ``C'(θ) = -(n_1 - n σ(θ)) = 0`` gives ``σ(θ*) = n_1 / n``, so ``θ* = log(n_1 / n_0)``.
    """
    n1, n = 7, 20
    return float(np.log(n1 / (n - n1)))


def one_hot(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Row ``i`` is the one-hot vector of ``labels[i]`` (slide "Classification - one hot
    encoding"): the rows of the identity matrix, with integer entries as
    ``torch.nn.functional.one_hot`` gives them.
    """
    return np.eye(num_classes, dtype=np.int64)[labels]


def mean_score(theta: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Monte Carlo estimate of the expected gradient ``E_P[∂/∂θ log Q(y | θ)]`` from samples
    ``y_i ~ P`` of a softmax model ``Q(y | θ) = softmax(θ)_y`` (slide "Q matches P"):
    ``(1/n) sum_i (onehot(y_i) - softmax(θ))``, the mean of the scores.
    """
    return np.mean(fn.one_hot(y, theta.size, dtype=np.float64) - fn.softmax(theta), axis=0)


def cross_entropy(z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``C = -(1/n) sum_n log softmax(z_n)_{y_n}`` from logits (slide "Classification"), with
    ``log softmax(z) = z - logsumexp(z)``: finite even where the softmax underflows to 0.
    """
    log_q = z - fn.logsumexp(z, axis=1, keepdims=True)
    return -np.mean(log_q[np.arange(len(labels)), labels])


def cross_entropy_grad(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``∂C/∂z = (softmax(z) - y) / N`` of the mean cross-entropy ``C = -(1/N) sum_n log
    softmax(z_n)_{c_n}`` (slide "Classification"), ``y`` the one-hot labels, in ``z``'s dtype.
    """
    z = np.asarray(logits)
    return (fn.softmax(z) - fn.one_hot(labels, z.shape[-1], dtype=z.dtype)) / len(labels)


ONE_HOT = Exercise(
    name="one_hot",
    reference=one_hot,
    cases=_label_cases,
    oracle=_torch_one_hot,
    rtol=0,
    atol=0,
    mutants=(Mutant("np.eye(num_classes)", "np.eye(num_classes + 1)",  # the slide's eleven
                    "wrong shape"),
             Mutant("[labels]", "[labels].T", "transposed")),
    hints={"shape": "one row per label, one column per class"},
    slide="Classification - one hot encoding and cross-entropy",
)

MEAN_SCORE = Exercise(
    name="mean_score",
    reference=mean_score,
    cases=_score_cases,
    oracle=_torch_mean_score,
    rtol=1e-5,  # float32 work passes; no slip comes that close
    atol=1e-7,
    mutants=(Mutant("fn.one_hot(y, theta.size, dtype=np.float64) - fn.softmax(theta)",
                    "fn.softmax(theta) - fn.one_hot(y, theta.size, dtype=np.float64)",
                    "wrong sign"),
             Mutant("np.mean(", "np.sum(", "whole-number factor")),
    hints={"sign": "the score is the gradient of log Q, not of -log Q",
           "factor": "an estimate of an expectation is a mean over the samples",
           "shape": "one entry per logit: average over the samples"},
    slide="Q matches P, the expected gradient vanishes at θ*",
)

CROSS_ENTROPY_GRAD = Exercise(
    name="cross_entropy_grad",
    reference=cross_entropy_grad,
    cases=_labelled_cases,
    oracle=_torch_cross_entropy_grad,
    rtol=1e-5,
    atol=1e-7,
    mutants=(Mutant("fn.softmax(z) - fn.one_hot(labels, z.shape[1], dtype=z.dtype)",
                    "fn.one_hot(labels, z.shape[1], dtype=z.dtype) - fn.softmax(z)",
                    "wrong sign"),
             Mutant(") / len(labels)", ")", "whole-number factor")),
    hints={"sign": "C is the negative log-likelihood: its gradient is h - y",
           "factor": "C is the mean over the examples",
           "shape": "one row per example, one column per class"},
    slide="Classification - one hot encoding and cross-entropy",
)

SOFTMAX = Exercise(
    name="softmax",
    reference=fn.softmax,
    cases=_logit_cases,
    oracle=_torch_softmax,
    rtol=1e-5,
    atol=1e-7,
    mutants=(Mutant("np.exp(z - m)", "np.exp(z)", "overflow"),  # no max-subtraction
             Mutant("np.sum(e, axis=-1, keepdims=True)", "np.sum(e)",  # over all rows
                    "relative error")),
    hints={"overflow": "subtract the row's max before np.exp; the factor exp(-m) cancels",
           "shape": "sum over the last axis with keepdims=True"},
    slide="Classification - one hot encoding and cross-entropy",
)

def _every_label_of_every_row(z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The slip ``log_q[:, labels]``: an (n, n) block, every row with every label."""
    return -np.mean((z - fn.logsumexp(z, axis=1, keepdims=True))[:, labels])


def _log_of_guarded_softmax(z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The slip ``-log(softmax + 1e-12)``: finite, and wrong where the probability underflows."""
    return -np.mean(np.log(fn.softmax(z)[np.arange(len(labels)), labels] + 1e-12))


CROSS_ENTROPY = Exercise(
    name="cross_entropy",
    reference=cross_entropy,
    cases=_cross_entropy_cases,
    oracle=_torch_cross_entropy,
    rtol=1e-5,
    atol=1e-7,
    mutants=(Mutant("return -np.mean", "return np.mean", "wrong sign"),
             Mutant("return -np.mean", "return -np.sum", "whole-number factor"),
             Mutant("z - m - np.log(np.sum(np.exp(z - m)", "z - np.log(np.sum(np.exp(z)",
                    "overflow"),
             # -log of the stable softmax: log(0) where the label's probability underflows
             Mutant("z - m - np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))",
                    "np.log(np.exp(z - m) / np.sum(np.exp(z - m), axis=1, keepdims=True))",
                    "log softmax"),
             # the same with a guard inside the log: finite, and wrong by 800 - 27.6
             Mutant("z - m - np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))",
                    "np.log(np.exp(z - m) / np.sum(np.exp(z - m), axis=1, keepdims=True)"
                    " + 1e-12)", "log softmax"),
             # every row against every label: an (n, n) block
             Mutant("log_q[np.arange(len(labels)), labels]", "log_q[:, labels]", "own label")),
    slips=((_every_label_of_every_row,
            "log_q[:, labels] pairs every row with every label (an n × n block): take row n's "
            "own label, log_q[np.arange(n), labels]"),
           (_log_of_guarded_softmax,
            "log(p + 1e-12) hides the underflow but caps the loss at 27.6: use log softmax = "
            "z - logsumexp(z), never the log of a probability")),
    hints={"overflow": "a probability over- or underflows: use log softmax(z) = (z - m) - "
                       "log sum exp(z - m) with m the row max, never the log of a softmax",
           "sign": "C is the negative log-likelihood",
           "factor": "average over the examples, as torch does"},
    slide="Classification - one hot encoding and cross-entropy",
)

COIN_MINIMISER = Exercise(
    name="coin_minimiser",
    reference=coin_minimiser,
    rtol=1e-6,
    mutants=(Mutant("np.log(7 / 13)", "np.log(13 / 7)", "wrong sign"),  # tails over heads
             Mutant("np.log(7 / 13)", "np.log(7 / 20)", "relative error")),  # log P(heads)
    hints={"sign": "which side has more flips, heads or tails?"},
    slide="Training criterion",
)

register(ONE_HOT, MEAN_SCORE, CROSS_ENTROPY_GRAD, SOFTMAX, CROSS_ENTROPY, COIN_MINIMISER)
