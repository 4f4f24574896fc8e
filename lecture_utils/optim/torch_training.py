"""Train the torch twin of the MLP with any ``torch.optim`` optimiser (notebook 05).

Slides "Mini-batch training": θ_{k+1} = θ_k − η_k g_k with g_k the gradient of the mean
cross-entropy over a mini-batch of B examples, ⌈n/B⌉ updates per epoch, η_k optionally
annealed by a schedule ``step -> η``. :func:`train_torch` is the torch twin of
``training.train``: the same seeded batches and the same
:class:`~lecture_utils.optim.training.History`, so a numpy optimiser on the numpy network and
its ``torch.optim`` twin see identical data."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from lecture_utils.optim.optimizers import OPTIMIZERS, make_optimizer
from lecture_utils.optim.training import History, check_loop_arguments, labels_of, minibatches

#: Builds an optimiser for the given parameters, e.g. ``partial(torch.optim.Adam, lr=1e-3)``.
OptimizerFactory = Callable[[Iterable[torch.Tensor]], torch.optim.Optimizer]

#: Default η of each optimiser with a torch twin (by key of ``optimizers.OPTIMIZERS``), not
#: tuned: 0.1 for gradient descent, 0.01 for momentum (the same effective step
#: η/(1 − 0.9) = 0.1); torch's defaults for Adagrad and Adadelta (ρ = 0.9; Zeiler used 0.95),
#: Adam's paper's (= torch's), and for RMSprop a tenth of torch's η = 0.01 (ρ = 0.99 is torch's,
#: Tieleman & Hinton's is 0.9).
DEFAULT_LR: dict[str, float] = {
    "gd": 0.1,
    "momentum": 0.01,
    "nesterov": 0.01,
    "adagrad": 0.01,
    "rmsprop": 0.001,
    "adadelta": 1.0,
    "adam": 0.001,
}

#: The lecture's optimisers with a torch twin: the registry's name -> its key.
LECTURE_OPTIMIZERS: dict[str, str] = {OPTIMIZERS[key].name: key for key in DEFAULT_LR}


class TrainedRun(NamedTuple):
    """A trained model and the history of its training."""

    model: nn.Module
    history: History


def train_torch(model: nn.Module, optimizer: torch.optim.Optimizer, x: np.ndarray,
                y: np.ndarray, *, epochs: int = 1, batch_size: int = 100, seed: int = 0,
                schedule: Callable[[int], float] | None = None,
                x_val: np.ndarray | None = None, y_val: np.ndarray | None = None,
                eval_every: int | None = None, progress: bool = False) -> History:
    """Train ``model`` by mini-batch steps of a ``torch.optim`` optimiser; returns its History.

    The torch twin of ``training.train`` (d2l's ``train_concise_ch11``): the same batches
    (``training.minibatches`` from ``np.random.default_rng(seed)``), η_k = ``schedule(k)`` set
    in every parameter group before update k (slide "Mini-batch training"), autograd's
    gradients, then ``optimizer.step()``; the same evaluations and ``History``.
    """
    check_loop_arguments(epochs, batch_size, eval_every, x_val, y_val)
    dtype = next(model.parameters()).dtype
    x = np.asarray(x, dtype=str(dtype).removeprefix("torch.")).reshape(len(x), -1)
    y = labels_of(x, y).astype(np.int64)
    val = None if x_val is None else (x_val, y_val)
    history, rng, start = History(), np.random.default_rng(seed), time.perf_counter()
    history.record(model, (x, y), val)
    steps = -(-len(x) // batch_size)
    bar = tqdm(total=epochs * steps, unit="update", disable=not progress)
    for epoch in range(epochs):
        bar.set_description(f"epoch {epoch + 1}/{epochs}")
        for xb, yb in minibatches(x, y, batch_size, rng=rng):
            if schedule is not None:
                for group in optimizer.param_groups:
                    group["lr"] = schedule(len(history.step_loss))
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(torch.from_numpy(xb)), torch.from_numpy(yb))
            loss.backward()
            optimizer.step()
            history.step_loss.append(loss.item())
            history.lr.append(float(optimizer.param_groups[0]["lr"]))
            bar.update()
            if eval_every is not None and len(history.step_loss) % eval_every == 0:
                history.record(model, (x, y), val)
        bar.set_postfix_str(history.end_epoch(steps, model, (x, y), val))
    bar.close()
    history.seconds = time.perf_counter() - start - history.eval_seconds
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


def compare_optimizers(model: nn.Module, x: np.ndarray, y: np.ndarray, x_val: np.ndarray,
                       y_val: np.ndarray, *,
                       names: Sequence[str] = ("gradient descent", "momentum", "Adam"),
                       lr_scale: float = 1.0, batch_size: int = 100, epochs: int = 1,
                       seed: int = 0) -> dict[str, History]:
    """:func:`train_many` with the lecture's optimisers ``names`` (:func:`torch_optimizers`).

    η = ``lr_scale`` × ``DEFAULT_LR`` of each; losses and validation accuracies are measured five
    times per epoch. Keys name the optimiser and its η: ``"Adam (η = 0.001)"``.
    """
    if not names:
        raise ValueError("names must list at least one optimiser, e.g. ('momentum', 'Adam')")
    factories = torch_optimizers(names, lr_scale=lr_scale)
    steps_per_epoch = -(-len(x) // batch_size)
    runs = train_many(model, factories, x, y, epochs=epochs, batch_size=batch_size, seed=seed,
                      x_val=x_val, y_val=y_val, eval_every=max(1, steps_per_epoch // 5))
    return {f"{name} (η = {factories[name].keywords['lr']:.3g})": run.history
            for name, run in runs.items()}


def torch_optimizers(names: Iterable[str] | None = None, *, lr_scale: float = 1.0,
                     lr: Mapping[str, float] | None = None) -> dict[str, OptimizerFactory]:
    """``torch.optim`` twins of the lecture's optimisers (:data:`LECTURE_OPTIMIZERS`) by name.

    Each is ``Optimizer.torch_twin()`` of the numpy optimiser of that name, with η =
    ``lr_scale × DEFAULT_LR[key]`` unless ``lr`` overrides it by name, and the registry's other
    hyperparameters (momentum 0.9, torch's decay rates and ε). Each factory is a
    ``functools.partial``: ``factory.keywords["lr"]`` is its η.
    """
    if lr_scale <= 0:
        raise ValueError(f"lr_scale must be > 0, got {lr_scale}")
    chosen = list(LECTURE_OPTIMIZERS) if names is None else list(names)
    unknown = sorted(set(chosen) - set(LECTURE_OPTIMIZERS) | set(lr or {}) - set(chosen))
    if unknown:
        raise ValueError(f"unknown optimiser name(s) {unknown}; "
                         f"expected some of {list(LECTURE_OPTIMIZERS)}")
    keys = {name: LECTURE_OPTIMIZERS[name] for name in chosen}
    rates = {name: lr_scale * DEFAULT_LR[key] for name, key in keys.items()} | dict(lr or {})
    return {name: make_optimizer(key, lr=rates[name]).torch_twin() for name, key in keys.items()}
