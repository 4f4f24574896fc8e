"""Mini-batch training of the numpy network with any optimiser and step-size schedule.

Slides "Mini-batch training": θ_{k+1} = θ_k − η_k g_k with g_k the gradient of the mean
cross-entropy on a mini-batch of B examples, ⌈n/B⌉ updates per epoch (600 of 100 on MNIST's
60,000), and η_k annealed towards the end. :func:`minibatches` draws the batches from one
``numpy.random.default_rng(seed)`` (a new shuffle every epoch); :func:`run_epochs` is the loop
itself, shared with ``torch_training.train_torch``, so the numpy network and its torch twin see
the same batches and fill the same :class:`History`. numpy only: importing this module does
not import torch.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    "UpdateClock",
    "batch_buffers",
    "check_loop_arguments",
    "confusion_matrix",
    "evaluate",
    "gather",
    "minibatches",
    "most_confident_errors",
    "run_epochs",
    "train",
    "update_function",
]

_POSTFIX_EVERY = 25  # updates between refreshes of the progress bar's running loss


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

    ``step_loss[k]``: mean cross-entropy of mini-batch k at θ_k (before update k);
    ``epoch_loss[e]``: mean of ``step_loss`` over epoch e; ``eval_step[j]``: number of updates
    done when ``train_loss[j]`` (mean cross-entropy on the whole training set) and
    ``val_accuracy[j]`` were measured (step 0 = the initial weights, then every ``eval_every``
    updates and at the end of every epoch); ``lr[k]``: η_k used by update k; ``seconds``:
    wall-clock time of the updates, evaluations excluded.
    """

    step_loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    epoch_loss: list[float] = field(default_factory=list)
    eval_step: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def steps_per_epoch(self) -> int:
        """Number of updates in one epoch, ⌈n/B⌉ (600 for MNIST's 60,000 images and B = 100)."""
        return len(self.step_loss) // max(len(self.epoch_loss), 1)

    def record_evaluation(self, step: int, evaluate: Callable[[Any, Any], tuple[float, float]],
                          train: tuple[Any, Any], val: tuple[Any, Any] | None) -> None:
        """Append the training-set loss (and, if ``val``, the validation accuracy) after
        ``step`` updates; ``evaluate(x, y)`` returns ``(loss, accuracy)``."""
        self.eval_step.append(step)
        self.train_loss.append(evaluate(*train)[0])
        if val is not None:
            self.val_accuracy.append(evaluate(*val)[1])

    def end_epoch(self, losses: list[float]) -> None:
        """Append one epoch's mini-batch losses and their mean."""
        self.step_loss.extend(losses)
        self.epoch_loss.append(float(np.mean(losses)))


class UpdateClock:
    """Wall-clock seconds of the updates: time spent inside ``paused()`` (evaluations) is left
    out, so ``History.seconds`` means the same in the numpy and the torch loop."""

    def __init__(self) -> None:
        self._start = time.perf_counter()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Leave the time of the ``with`` block out of :meth:`seconds`."""
        began = time.perf_counter()
        try:
            yield
        finally:
            self._start += time.perf_counter() - began

    def seconds(self) -> float:
        """Seconds since the clock started, paused blocks excluded."""
        return time.perf_counter() - self._start


def check_loop_arguments(epochs: int, batch_size: int, eval_every: int | None,
                         x_val: object, y_val: object) -> None:
    """The argument checks the numpy and the torch training loop share."""
    integer("epochs", epochs, minimum=1)
    integer("batch_size", batch_size, minimum=1)
    if eval_every is not None:
        integer("eval_every", eval_every, minimum=1)
    if (x_val is None) != (y_val is None):
        raise ValueError("x_val and y_val must be given together")


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


def run_epochs(model: Any, update: Callable[[np.ndarray], float], n: int, *,
               set_lr: Callable[[float], None], get_lr: Callable[[], float],
               train_data: tuple[ArrayLike, ArrayLike],
               val_data: tuple[ArrayLike, ArrayLike] | None, epochs: int, batch_size: int,
               seed: int, schedule: Callable[[int], float] | None, eval_every: int | None,
               progress: bool) -> History:
    """The mini-batch loop of both trainers: ``update(index)`` for every batch of every epoch.

    ``index`` holds the rows of batch k (:func:`minibatches` over ``range(n)`` with
    ``numpy.random.default_rng(seed)``); ``update`` takes one optimiser step on them and returns
    the batch loss at θ_k. ``schedule(k)`` (optional) goes to ``set_lr`` before update k;
    ``get_lr()`` is recorded after it. :func:`evaluate` of ``model`` on ``train_data`` (and
    ``val_data``) is recorded for θ_0, every ``eval_every`` updates and after every epoch,
    outside the clock of ``History.seconds``. ``progress`` shows a tqdm bar.
    """
    rng = np.random.default_rng(seed)
    history, clock = History(), UpdateClock()
    positions = np.arange(n)

    def record(step: int) -> None:
        with clock.paused():
            history.record_evaluation(step, lambda x, y: evaluate(model, x, y), train_data,
                                      val_data)

    record(0)
    bar = tqdm(total=epochs * -(-n // batch_size), unit="update",
               **({} if progress else {"disable": True}))
    step = 0
    for epoch in range(epochs):
        bar.set_description(f"epoch {epoch + 1}/{epochs}")
        losses: list[float] = []
        for index, _ in minibatches(positions, positions, batch_size, rng=rng):
            if schedule is not None:
                set_lr(float(schedule(step)))
            losses.append(update(index))
            history.lr.append(get_lr())
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


def batch_buffers(x: np.ndarray, y: np.ndarray, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Two arrays that every mini-batch of ``x`` and ``y`` is copied into (see :func:`gather`)."""
    return np.empty((batch_size, *x.shape[1:]), x.dtype), np.empty(batch_size, y.dtype)


def gather(x: np.ndarray, y: np.ndarray, index: np.ndarray,
           buffers: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``x[index], y[index]`` copied into ``buffers`` (no allocation per step).

    ``mode="clip"``: the indices are a permutation of ``range(n)``, always in range, and numpy
    buffers the whole gather once more when ``out=`` meets the default ``mode="raise"``.
    """
    bx, by = buffers[0][:len(index)], buffers[1][:len(index)]
    np.take(x, index, axis=0, out=bx, mode="clip")
    np.take(y, index, out=by, mode="clip")
    return bx, by


def update_function(model: MLP, optimizer: Optimizer, x: np.ndarray, y: np.ndarray,
                    batch_size: int) -> Callable[[np.ndarray], float]:
    """``update(index)``: ``optimizer.train_step`` on the rows ``index`` of ``x``, ``y``
    (gathered into buffers made once); returns the batch loss at θ_k. The loop body of
    :func:`train`.
    """
    buffers = batch_buffers(x, y, batch_size)

    def update(index: np.ndarray) -> float:
        return optimizer.train_step(model, *gather(x, y, index, buffers))

    return update


def train(model: MLP, optimizer: Optimizer, x: ArrayLike, y: ArrayLike, *, epochs: int = 1,
          batch_size: int = 100, seed: int = 0, schedule: Callable[[int], float] | None = None,
          x_val: ArrayLike | None = None, y_val: ArrayLike | None = None,
          eval_every: int | None = None, progress: bool = True) -> History:
    """Train ``model`` in place: ``optimizer.train_step`` on each mini-batch, that is
    ``optimizer.step(params, grads)`` (gradient descent fuses the two, :meth:`MLP.sgd_step`).

    ``schedule(k)`` (optional) sets ``optimizer.lr = η_k`` before update k = 0, 1, ...
    The full training loss (and the validation accuracy, if ``x_val``/``y_val`` are given) is
    recorded for the initial weights, every ``eval_every`` updates and after every epoch.
    ``progress`` shows a tqdm bar with the running mean of the epoch's mini-batch losses.
    Labels ``y`` are class indices. Returns the :class:`History` (:func:`run_epochs`).
    """
    check_loop_arguments(epochs, batch_size, eval_every, x_val, y_val)
    x = np.ascontiguousarray(x, dtype=model.dtype)  # one conversion, not one per batch
    y = np.asarray(y)
    if y.ndim != 1 or y.dtype.kind not in "iu" or len(y) != len(x):
        raise ValueError(f"y must hold one integer label per row of x, shape ({len(x)},), "
                         f"got shape {y.shape} and dtype {y.dtype}")

    update = update_function(model, optimizer, x, y, batch_size)

    def set_lr(eta: float) -> None:
        optimizer.lr = eta

    val = None if x_val is None else (x_val, y_val)
    return run_epochs(model, update, len(x), set_lr=set_lr, get_lr=lambda: optimizer.lr,
                      train_data=(x, y), val_data=val, epochs=epochs, batch_size=batch_size,
                      seed=seed, schedule=schedule, eval_every=eval_every, progress=progress)
