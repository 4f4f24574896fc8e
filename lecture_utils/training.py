"""Mini-batch training of the numpy network with any optimiser and step-size schedule.

Slides "Mini-batch training": θ_{k+1} = θ_k − η_k g_k with g_k the gradient of the mean
cross-entropy on a mini-batch of B examples, n/B updates per epoch (600 of 100 on MNIST's
60,000), and η_k annealed towards the end. The batches are ``data.minibatches`` with one
``numpy.random.default_rng(seed)`` (a new shuffle every epoch), exactly as in
``torch_training.train_torch``, so the numpy network and its torch twin see the same batches and
fill the same :class:`~lecture_utils.torch_training.History`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
from numpy.typing import ArrayLike
from tqdm.auto import tqdm

from lecture_utils.data import minibatches
from lecture_utils.functions import cross_entropy
from lecture_utils.mlp import MLP
from lecture_utils.optimizers import Optimizer
from lecture_utils.torch_training import History, UpdateClock, check_loop_arguments

__all__ = ["History", "confusion_matrix", "evaluate", "most_confident_errors", "train"]

_POSTFIX_EVERY = 25  # updates between refreshes of the progress bar's running loss


def evaluate(model: MLP, x: ArrayLike, y: ArrayLike, chunk: int = 10_000) -> tuple[float, float]:
    """Mean cross-entropy −(1/n) Σ_i log softmax(z(x_i))_{y_i} and accuracy of ``model``."""
    x, y = np.asarray(x), np.asarray(y)
    if y.shape != (len(x),):
        raise ValueError(f"y must hold one integer label per row of x, shape ({len(x)},), "
                         f"got shape {y.shape}")
    total, correct = 0.0, 0
    for start in range(0, len(x), chunk):
        logits, labels = model.forward(x[start:start + chunk]), y[start:start + chunk]
        total += float(cross_entropy(logits, labels, reduction="sum"))
        correct += int(np.count_nonzero(logits.argmax(axis=1) == labels))
    return total / len(x), correct / len(x)


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, n_classes: int = 10) -> np.ndarray:
    """Counts ``M[i, j]`` = number of examples of true class i predicted as class j."""
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if t.shape != p.shape or t.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-d of the same length, got shapes "
                         f"{t.shape} and {p.shape}")
    if t.dtype.kind not in "iu" or p.dtype.kind not in "iu":
        raise TypeError("y_true and y_pred must hold integer class labels")
    if t.size and (min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= n_classes):
        raise ValueError(f"labels must lie in 0..{n_classes - 1}")
    return np.bincount(n_classes * t + p, minlength=n_classes**2).reshape(n_classes, n_classes)


def most_confident_errors(probs: ArrayLike, y: ArrayLike, n: int = 12) -> np.ndarray:
    """Indices of the ``n`` misclassified rows with the highest predicted probability.

    A row is misclassified if ``argmax_k probs[i, k] != y[i]``; they are sorted by
    ``max_k probs[i, k]``, most confident first (fewer than ``n`` if there are fewer errors).
    """
    p, labels = np.asarray(probs), np.asarray(y)
    if p.ndim != 2 or labels.shape != (len(p),):
        raise ValueError(f"probs must have shape (N, K) and y shape (N,), got {p.shape} "
                         f"and {labels.shape}")
    wrong = np.flatnonzero(p.argmax(axis=1) != labels)
    order = np.argsort(-p[wrong].max(axis=1), kind="stable")
    return wrong[order[:n]]


def train(model: MLP, optimizer: Optimizer, x: ArrayLike, y: ArrayLike, *, epochs: int = 1,
          batch_size: int = 100, seed: int = 0, schedule: Callable[[int], float] | None = None,
          x_val: ArrayLike | None = None, y_val: ArrayLike | None = None,
          eval_every: int | None = None, progress: bool = True) -> History:
    """Train ``model`` in place: for each mini-batch, ``optimizer.step(params, grads)``.

    ``schedule(k)`` (optional) sets ``optimizer.lr = η_k`` before update k = 0, 1, ...
    The full training loss (and the validation accuracy, if ``x_val``/``y_val`` are given) is
    recorded for the initial weights, every ``eval_every`` updates and after every epoch.
    ``progress`` shows a tqdm bar with the running mean of the epoch's mini-batch losses.
    Labels ``y`` are class indices. Returns the :class:`History`; its ``seconds`` counts the
    updates only, evaluations excluded (as in ``torch_training.train_torch``).
    """
    check_loop_arguments(epochs, batch_size, eval_every, x_val, y_val)
    x = np.ascontiguousarray(x, dtype=model.dtype)  # one conversion, not one per batch
    y = np.asarray(y)
    if y.ndim != 1 or y.dtype.kind not in "iu" or len(y) != len(x):
        raise ValueError(f"y must hold one integer label per row of x, shape ({len(x)},), "
                         f"got shape {y.shape} and dtype {y.dtype}")
    rng = np.random.default_rng(seed)
    history, clock = History(), UpdateClock()
    val = None if x_val is None else (x_val, y_val)

    def record(step: int) -> None:
        with clock.paused():
            history.record_evaluation(step, partial(evaluate, model), (x, y), val)

    record(0)
    steps_per_epoch = -(-len(x) // batch_size)
    bar = tqdm(total=epochs * steps_per_epoch, disable=not progress, unit="update")
    step = 0
    for epoch in range(epochs):
        bar.set_description(f"epoch {epoch + 1}/{epochs}")
        losses: list[float] = []
        for xb, yb in minibatches(x, y, batch_size, rng=rng):
            if schedule is not None:
                optimizer.lr = schedule(step)
            loss, grads = model.loss_and_grads(xb, yb)
            optimizer.step(model.params, grads)
            losses.append(loss)
            history.lr.append(optimizer.lr)
            step += 1
            if step % _POSTFIX_EVERY == 0:
                bar.set_postfix(loss=f"{np.mean(losses):.4f}", refresh=False)
                bar.update(_POSTFIX_EVERY)
            if eval_every is not None and step % eval_every == 0:
                record(step)
        bar.update(step - bar.n)
        history.end_epoch(losses)
        if history.eval_step[-1] != step:
            record(step)
        if history.val_accuracy:
            bar.set_postfix(loss=f"{history.epoch_loss[-1]:.4f}",
                            val_acc=f"{history.val_accuracy[-1]:.4f}")
    bar.close()
    history.seconds = clock.seconds()
    return history
