"""Train the torch twin of the MLP with any ``torch.optim`` optimiser (notebook 05).

Slides "Mini-batch training": θ_{k+1} = θ_k − η_k g_k with g_k the gradient of the mean
cross-entropy over a mini-batch of B examples, ⌈n/B⌉ updates per epoch, η_k optionally
annealed by a schedule ``step -> η``. The batches come from ``lecture_utils.data.minibatches``
with ``numpy.random.default_rng(seed)``, the same seeded batches as the numpy training loop, so
a numpy optimiser on the numpy network and its ``torch.optim`` twin see identical data.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from lecture_utils._checks import integer
from lecture_utils.data import minibatches
from lecture_utils.optimizers import (
    Adadelta,
    Adagrad,
    Adam,
    GradientDescent,
    Momentum,
    Optimizer,
    RMSprop,
    make_optimizer,
)

#: Builds an optimiser for the given parameters, e.g. ``partial(torch.optim.Adam, lr=1e-3)``.
OptimizerFactory = Callable[[Iterable[torch.Tensor]], torch.optim.Optimizer]

#: Default η of each optimiser, not tuned: 0.1 for SGD, 0.01 for momentum (the same effective
#: step η/(1 − 0.9) = 0.1), the papers' (and torch's) defaults for the adaptive methods.
DEFAULT_LR: dict[str, float] = {
    "SGD": 0.1,
    "Momentum": 0.01,
    "Nesterov": 0.01,
    "Adagrad": 0.01,
    "RMSprop": 0.001,
    "Adadelta": 1.0,
    "Adam": 0.001,
}


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


class TrainedRun(NamedTuple):
    """A trained model and the history of its training."""

    model: nn.Module
    history: History


@torch.no_grad()
def evaluate(model: nn.Module, x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor,
             chunk: int = 10_000) -> tuple[float, float]:
    """Mean cross-entropy −(1/n) Σ log softmax(f(x_i))_{y_i} and accuracy of ``model`` on (x, y)."""
    xt, yt = _as_tensors(model, x, y)
    total_loss, correct = 0.0, 0
    for start in range(0, len(xt), chunk):
        logits = model(xt[start:start + chunk])
        target = yt[start:start + chunk]
        total_loss += nn.functional.cross_entropy(logits, target, reduction="sum").item()
        correct += int((logits.argmax(dim=1) == target).sum().item())
    return total_loss / len(xt), correct / len(xt)


def train_torch(model: nn.Module, optimizer: torch.optim.Optimizer, x: np.ndarray,
                y: np.ndarray, *, epochs: int = 1, batch_size: int = 100, seed: int = 0,
                schedule: Callable[[int], float] | None = None,
                x_val: np.ndarray | None = None, y_val: np.ndarray | None = None,
                eval_every: int | None = None) -> History:
    """Mini-batch training of ``model`` in place: for each batch, θ ← optimiser step on g_k.

    Batches: ``minibatches(x, y, batch_size, rng=np.random.default_rng(seed))`` once per
    epoch, identical to the numpy loop. ``schedule(k)`` (optional) sets η_k of every parameter
    group before update k = 0, 1, ... (slide "Mini-batch training": anneal η_k towards the end).
    Labels ``y`` are class indices. Returns the :class:`History`.
    """
    check_loop_arguments(epochs, batch_size, eval_every, x_val, y_val)
    xt, yt = _as_tensors(model, x, y)
    rng = np.random.default_rng(seed)
    history, clock = History(), UpdateClock()
    val = None if x_val is None else (x_val, y_val)

    def record(step: int) -> None:
        with clock.paused():
            history.record_evaluation(step, partial(evaluate, model), (xt, yt), val)

    record(0)
    step = 0
    for _ in range(epochs):
        losses = []
        for index in _batch_indices(len(xt), batch_size, rng):
            if schedule is not None:
                for group in optimizer.param_groups:
                    group["lr"] = float(schedule(step))
            optimizer.zero_grad(set_to_none=True)
            loss = nn.functional.cross_entropy(model(xt[index]), yt[index])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            history.lr.append(float(optimizer.param_groups[0]["lr"]))
            step += 1
            if eval_every is not None and step % eval_every == 0:
                record(step)
        history.end_epoch(losses)
        if history.eval_step[-1] != step:
            record(step)
    history.seconds = clock.seconds()
    return history


def train_many(model: nn.Module, optimizers: Mapping[str, OptimizerFactory], x: np.ndarray,
               y: np.ndarray, **kwargs) -> dict[str, TrainedRun]:
    """Train a copy of ``model`` with each optimiser: same initial weights, same batches.

    ``kwargs`` go to :func:`train_torch` (epochs, batch_size, seed, schedule, x_val, ...).
    ``model`` itself is left untouched.
    """
    if not optimizers:
        raise ValueError("optimizers must name at least one optimiser factory")
    runs = {}
    for name, factory in optimizers.items():
        twin = copy.deepcopy(model)
        runs[name] = TrainedRun(twin, train_torch(twin, factory(twin.parameters()), x, y, **kwargs))
    return runs


#: The lecture's optimisers: display name -> key of ``lecture_utils.optimizers.OPTIMIZERS``.
LECTURE_OPTIMIZERS: dict[str, str] = {
    "SGD": "gd",
    "Momentum": "momentum",
    "Nesterov": "nesterov",
    "Adagrad": "adagrad",
    "RMSprop": "rmsprop",
    "Adadelta": "adadelta",
    "Adam": "adam",
}


def torch_twin(optimizer: Optimizer) -> OptimizerFactory:
    """The ``torch.optim`` optimiser that takes the same steps as a numpy ``optimizer``.

    ``GradientDescent``/``Momentum`` -> ``SGD`` (torch's buffer b = −m/η, identical steps for
    a constant η), the adaptive methods -> their namesakes with the same η, decay rates and ε.
    Returns a ``functools.partial``, so ``factory.keywords`` shows the hyperparameters.
    """
    if isinstance(optimizer, Momentum):
        return partial(torch.optim.SGD, lr=optimizer.lr, momentum=optimizer.momentum,
                       nesterov=optimizer.nesterov)
    if isinstance(optimizer, GradientDescent):
        return partial(torch.optim.SGD, lr=optimizer.lr)
    if isinstance(optimizer, Adagrad):
        return partial(torch.optim.Adagrad, lr=optimizer.lr, eps=optimizer.eps)
    if isinstance(optimizer, RMSprop):
        return partial(torch.optim.RMSprop, lr=optimizer.lr, alpha=optimizer.alpha,
                       eps=optimizer.eps)
    if isinstance(optimizer, Adadelta):
        return partial(torch.optim.Adadelta, lr=optimizer.lr, rho=optimizer.rho,
                       eps=optimizer.eps)
    if isinstance(optimizer, Adam):
        return partial(torch.optim.Adam, lr=optimizer.lr, betas=optimizer.betas,
                       eps=optimizer.eps)
    raise TypeError(f"optimizer must be one of GradientDescent, Momentum, Nesterov, Adagrad, "
                    f"RMSprop, Adadelta, Adam; got {type(optimizer).__name__}")


def torch_optimizers(names: Iterable[str] | None = None, *, lr_scale: float = 1.0,
                     lr: Mapping[str, float] | None = None) -> dict[str, OptimizerFactory]:
    """``torch.optim`` twins of the lecture's optimisers (:data:`LECTURE_OPTIMIZERS`) by name.

    Hyperparameters are those of ``lecture_utils.optimizers`` (momentum 0.9, torch's decay
    rates and ε); η is ``lr_scale × DEFAULT_LR[name]`` unless ``lr`` overrides it by name.
    Each factory is a ``functools.partial``: ``factory.keywords["lr"]`` is its η.
    """
    if lr_scale <= 0:
        raise ValueError(f"lr_scale must be > 0, got {lr_scale}")
    chosen = list(LECTURE_OPTIMIZERS) if names is None else list(names)
    unknown = sorted(set(chosen) - set(LECTURE_OPTIMIZERS) | set(lr or {}) - set(chosen))
    if unknown:
        raise ValueError(f"unknown optimiser name(s) {unknown}; "
                         f"expected some of {list(LECTURE_OPTIMIZERS)}")
    rates = {name: lr_scale * DEFAULT_LR[name] for name in chosen} | dict(lr or {})
    return {name: torch_twin(make_optimizer(LECTURE_OPTIMIZERS[name], lr=rates[name]))
            for name in chosen}


def _batch_indices(n: int, batch_size: int, rng: np.random.Generator) -> Iterable[np.ndarray]:
    """Index arrays of the mini-batches ``data.minibatches`` yields for these n examples."""
    positions = np.arange(n)
    for batch, _ in minibatches(positions, positions, batch_size, rng=rng):
        yield torch.from_numpy(np.asarray(batch, dtype=np.int64))


def _as_tensors(model: nn.Module, x: np.ndarray | torch.Tensor,
                y: np.ndarray | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    dtype = next(model.parameters()).dtype
    xt = torch.as_tensor(x).to(dtype).reshape(len(x), -1)
    yt = torch.as_tensor(y)
    if yt.ndim != 1 or yt.dtype.is_floating_point:
        raise ValueError(f"y must be a 1-d array of integer class labels, got shape "
                         f"{tuple(yt.shape)} and dtype {yt.dtype}")
    if len(yt) != len(xt):
        raise ValueError(f"x and y must have the same length, got {len(xt)} and {len(yt)}")
    return xt, yt.long()


def check_loop_arguments(epochs: int, batch_size: int, eval_every: int | None,
                         x_val: object, y_val: object) -> None:
    """The argument checks the numpy and the torch training loop share."""
    integer("epochs", epochs, minimum=1)
    integer("batch_size", batch_size, minimum=1)
    if eval_every is not None:
        integer("eval_every", eval_every, minimum=1)
    if (x_val is None) != (y_val is None):
        raise ValueError("x_val and y_val must be given together")
