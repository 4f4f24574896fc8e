"""Mini-batch training of the numpy network with any optimiser and step-size schedule.

Slides "Mini-batch training": θ_{k+1} = θ_k − η_k g_k with g_k the gradient of the mean
cross-entropy on a mini-batch of B examples, ⌈n/B⌉ updates per epoch (600 of 100 on MNIST's
60,000), and η_k annealed towards the end. :func:`train` is the whole loop (d2l's
``train_ch11``); ``torch_training.train_torch`` is its torch twin, with the same batches
(:func:`minibatches` from one ``numpy.random.default_rng(seed)``, a new shuffle every epoch)
and the same :class:`History`. numpy only: importing this module does not import torch.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from tqdm.auto import tqdm

from lecture_utils._checks import integer
from lecture_utils.network.functions import cross_entropy
from lecture_utils.network.mlp import MLP
from lecture_utils.optim.optimizers import Optimizer

__all__ = [
    "History",
    "check_loop_arguments",
    "confusion_matrix",
    "evaluate",
    "minibatches",
    "most_confident_errors",
    "train",
]

if sys.platform == "emscripten":   # the browser edition: no thread for tqdm's monitor
    tqdm.monitor_interval = 0


def minibatches(x: np.ndarray, y: np.ndarray, batch_size: int = 100, *,
                rng: np.random.Generator | int | None = None, shuffle: bool = True,
                drop_last: bool = False) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One epoch of mini-batches ``(x[idx], y[idx])`` (slides: 600 updates of 100 per epoch).

    With ``shuffle=True`` each call draws a new permutation from ``rng``: pass one
    ``np.random.Generator`` and call once per epoch to get a new order every epoch (an
    int seed gives the same order on every call). With ``shuffle=False`` the batches are
    views in file order. If ``batch_size`` does not divide ``n``, the last batch holds the
    remaining ``n % batch_size`` samples, or is dropped with ``drop_last=True``.
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
        raise ValueError(f"x and y must have the same first dimension, got shapes {x.shape} "
                         f"and {y.shape}")
    integer("batch_size", batch_size, minimum=1)
    if shuffle and rng is None:
        raise ValueError("rng is required when shuffle=True: pass np.random.default_rng(seed)")
    if rng is not None and not isinstance(rng, (np.random.Generator, int, np.integer)):
        raise TypeError(f"rng must be a numpy.random.Generator or an int seed, got "
                        f"{type(rng).__name__}")
    n = len(x)
    stop = n - n % batch_size if drop_last else n
    if not shuffle:
        return ((x[i:i + batch_size], y[i:i + batch_size]) for i in range(0, stop, batch_size))
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    order = gen.permutation(n)
    return ((np.take(x, idx, axis=0), np.take(y, idx, axis=0))  # x[idx], y[idx], a bit faster
            for idx in (order[i:i + batch_size] for i in range(0, stop, batch_size)))


@dataclass
class History:
    """What a training run records.

    ``step_loss[k]``: mean cross-entropy of mini-batch k at θ_k (before update k); ``lr[k]``:
    η_k of update k; ``epoch_loss[e]``: mean of ``step_loss`` over epoch e; ``eval_step[j]``:
    number of updates done when ``train_loss[j]`` (mean cross-entropy on the whole training
    set) and ``val_accuracy[j]`` were measured (step 0 = the initial weights, then every
    ``eval_every`` updates and after every epoch); ``seconds``: wall-clock time of the run
    without its evaluations, which took ``eval_seconds``.
    """

    step_loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    epoch_loss: list[float] = field(default_factory=list)
    eval_step: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    seconds: float = 0.0
    eval_seconds: float = 0.0

    @property
    def steps_per_epoch(self) -> int:
        """Number of updates in one epoch, ⌈n/B⌉ (500 for 50,000 images and B = 100)."""
        return len(self.step_loss) // max(len(self.epoch_loss), 1)

    def record(self, model: Any, train: tuple[Any, Any], val: tuple[Any, Any] | None) -> None:
        """Evaluate ``model`` now: the training-set loss (and, if ``val``, the validation
        accuracy) after ``len(step_loss)`` updates; the time it takes goes to ``eval_seconds``."""
        began = time.perf_counter()
        self.eval_step.append(len(self.step_loss))
        self.train_loss.append(evaluate(model, *train)[0])
        if val is not None:
            self.val_accuracy.append(evaluate(model, *val)[1])
        self.eval_seconds += time.perf_counter() - began

    def end_epoch(self, steps: int, model: Any, train: tuple[Any, Any],
                  val: tuple[Any, Any] | None) -> str:
        """Close an epoch of ``steps`` updates: its mean loss, an evaluation unless one was just
        made; returns the progress bar's text."""
        self.epoch_loss.append(float(np.mean(self.step_loss[-steps:])))
        if self.eval_step[-1] != len(self.step_loss):
            self.record(model, train, val)
        accuracy = f", val_acc={self.val_accuracy[-1]:.4f}" if self.val_accuracy else ""
        return f"loss={self.epoch_loss[-1]:.4f}{accuracy}"


def check_loop_arguments(epochs: int, batch_size: int, eval_every: int | None,
                         x_val: object, y_val: object) -> None:
    """The argument checks the numpy and the torch training loop share."""
    integer("epochs", epochs, minimum=1)
    integer("batch_size", batch_size, minimum=1)
    if eval_every is not None:
        integer("eval_every", eval_every, minimum=1)
    if (x_val is None) != (y_val is None):
        raise ValueError("x_val and y_val must be given together")


def labels_of(x: np.ndarray, y: ArrayLike) -> np.ndarray:
    """``y`` as integer class labels, one per row of ``x`` (a clear error otherwise)."""
    y = np.asarray(y)
    if y.shape != (len(x),) or y.dtype.kind not in "iu":
        raise ValueError(f"y must hold one integer label per row of x, shape ({len(x)},), "
                         f"got shape {y.shape} and dtype {y.dtype}")
    return y


def _logits(model: Any) -> Callable[[np.ndarray], np.ndarray]:
    """``x -> logits`` as numpy for an :class:`~lecture_utils.network.mlp.MLP` or a
    ``torch.nn.Module``.

    torch is looked up in ``sys.modules``: a torch model means torch is already imported.
    """
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(model, torch.nn.Module):
        dtype = next(model.parameters()).dtype

        def logits(x: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                return model(torch.as_tensor(x).to(dtype).reshape(len(x), -1)).numpy()

        return logits
    return model.forward


def evaluate(model: Any, x: ArrayLike, y: ArrayLike, chunk: int = 10_000) -> tuple[float, float]:
    """Mean cross-entropy −(1/n) Σ_i log softmax(z(x_i))_{y_i} and accuracy of ``model``.

    ``model`` is the numpy :class:`~lecture_utils.network.mlp.MLP` or its torch twin (any
    ``torch.nn.Module`` mapping images to logits); ``x`` is evaluated ``chunk`` rows at a time.
    """
    x, y = np.asarray(x), np.asarray(y)
    if y.shape != (len(x),) or y.dtype.kind not in "iu":
        raise ValueError(f"y must hold one integer label per row of x, shape ({len(x)},), "
                         f"got shape {y.shape} and dtype {y.dtype}")
    forward = _logits(model)
    total, correct = 0.0, 0
    for start in range(0, len(x), chunk):
        logits, labels = forward(x[start:start + chunk]), y[start:start + chunk]
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
    pairs = (n_classes * t + p).astype(np.intp)   # bincount's index type (32 bits in Pyodide)
    return np.bincount(pairs, minlength=n_classes**2).reshape(n_classes, n_classes)


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
    """Train ``model`` by mini-batch steps (slides "Mini-batch training"); returns its History.

    Update k: η_k = ``schedule(k)`` (if given), the batch's loss and gradients by the model's
    backward pass, then θ_{k+1} = ``optimizer.step(θ_k, g_k)``. The training loss (and the
    validation accuracy, with ``x_val``, ``y_val``) is recorded for the initial weights, every
    ``eval_every`` updates and after every epoch. Labels ``y`` are class indices; ``progress``
    shows a progress bar.
    """
    check_loop_arguments(epochs, batch_size, eval_every, x_val, y_val)
    x = np.asarray(x, dtype=model.dtype)
    y = labels_of(x, y)
    val = None if x_val is None else (x_val, y_val)
    history, rng, start = History(), np.random.default_rng(seed), time.perf_counter()
    history.record(model, (x, y), val)
    steps = -(-len(x) // batch_size)
    bar = tqdm(total=epochs * steps, unit="update", disable=not progress)
    for epoch in range(epochs):
        bar.set_description(f"epoch {epoch + 1}/{epochs}")
        for xb, yb in minibatches(x, y, batch_size, rng=rng):
            if schedule is not None:
                optimizer.lr = schedule(len(history.step_loss))
            loss, grads = model.loss_and_grads(xb, yb)
            model.params = optimizer.step(model.params, grads)
            history.step_loss.append(loss)
            history.lr.append(float(optimizer.lr))
            bar.update()
            if eval_every is not None and len(history.step_loss) % eval_every == 0:
                history.record(model, (x, y), val)
        bar.set_postfix_str(history.end_epoch(steps, model, (x, y), val))
    bar.close()
    history.seconds = time.perf_counter() - start - history.eval_seconds
    return history
