"""Exercises of notebook 01 (the likelihood criterion): the worked example for every notebook.

Slide "Classification - one hot encoding and cross-entropy": the stable softmax and the
cross-entropy from logits with integer labels; slide "Training criterion": the minimiser of
the coin's criterion, a value exercise (a function of no arguments that returns a number).
"""

from __future__ import annotations

import numpy as np

from lecture_utils import functions as fn
from lecture_utils.exercises.core import Case, Exercise, Mutant, register


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


# --------------------------------------------------------------------------- torch oracles
def _torch_softmax(z: np.ndarray) -> np.ndarray:
    import torch

    return torch.softmax(torch.from_numpy(z), dim=-1).numpy()


def _torch_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    return F.cross_entropy(torch.from_numpy(logits), torch.from_numpy(labels)).numpy()


# --------------------------------------------------------------------------- references
def coin_minimiser() -> float:
    """The logit minimising ``C(θ) = -sum_i log Q(y_i | θ)``, ``Q(y=1 | θ) = σ(θ)``, for 7 heads
    in 20 flips (slide "Training criterion").

    ``C'(θ) = -(n_1 - n σ(θ)) = 0`` gives ``σ(θ*) = n_1 / n``, so ``θ* = log(n_1 / n_0)``.
    """
    n1, n = 7, 20
    return float(np.log(n1 / (n - n1)))


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

CROSS_ENTROPY = Exercise(
    name="cross_entropy",
    reference=fn.cross_entropy,     # C = -(1/n) sum_n log softmax(z_n)_{y_n}
    cases=_labelled_cases,
    oracle=_torch_cross_entropy,
    rtol=1e-5,
    atol=1e-7,
    mutants=(Mutant("return -np.mean", "return np.mean", "wrong sign"),
             Mutant("return -np.mean", "return -np.sum", "whole-number factor"),
             Mutant("z - m - np.log(np.sum(np.exp(z - m)", "z - np.log(np.sum(np.exp(z)",
                    "overflow")),
    hints={"overflow": "use log softmax(z) = (z - m) - log sum exp(z - m) with m the row max",
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

register(SOFTMAX, CROSS_ENTROPY, COIN_MINIMISER)
