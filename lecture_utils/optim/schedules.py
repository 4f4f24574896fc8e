"""Step-size schedules ``η_k = schedule(k)`` for annealing, k = 0, 1, ... counting updates.

Slide "Mini-batch training": "Important to anneal stepsize η_k towards the end". Each schedule
is a small frozen dataclass: call it with the update number ``k`` to get ``η_k``, or call
``values(n)`` for the first ``n`` step sizes (for a figure). The training loops set
``optimizer.lr = schedule(k)`` before update ``k``.

========================  ================================================
``Constant(lr)``          η_k = η_0
``StepDecay(lr, f, s)``   η_k = η_0 f^⌊k/s⌋          (drop by f every s updates)
``Exponential(lr, f, s)`` η_k = η_0 f^(k/s)          (smooth version of StepDecay)
``InverseTime(lr, τ)``    η_k = η_0 / (1 + k/τ)      ("1/t": Σ η_k = ∞, Σ η_k² < ∞)
``Linear(lr, lr_end, τ)`` η_k = (1 − s) η_0 + s η_τ, s = min(k/τ, 1)  (Goodfellow et al. 8.3.1)
========================  ================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lecture_utils._checks import integer, positive

__all__ = ["Constant", "Exponential", "InverseTime", "Linear", "Schedule", "StepDecay"]


def _factor(name: str, value: float) -> None:
    if positive(name, value) > 1:
        raise ValueError(f"{name} must be in (0, 1] (a decay factor), got {value!r}")


class Schedule:
    """Base class: ``schedule(k) -> η_k`` for updates ``k = 0, 1, ...``."""

    def __call__(self, step: int) -> float:
        return self._lr(integer("step", step, minimum=0))

    def _lr(self, k: int) -> float:
        raise NotImplementedError

    def values(self, n: int) -> np.ndarray:
        """``[η_0, ..., η_{n-1}]`` as a float64 array (to plot the schedule)."""
        return np.array([self._lr(k) for k in range(integer("n", n, minimum=0))],
                        dtype=np.float64)


@dataclass(frozen=True)
class Constant(Schedule):
    """η_k = η_0 for every update (no annealing)."""

    lr: float

    def __post_init__(self) -> None:
        positive("lr", self.lr)

    def _lr(self, k: int) -> float:
        return float(self.lr)


@dataclass(frozen=True)
class StepDecay(Schedule):
    """η_k = η_0 · factor^⌊k / every⌋: multiply by ``factor`` every ``every`` updates."""

    lr: float
    factor: float
    every: int

    def __post_init__(self) -> None:
        positive("lr", self.lr)
        _factor("factor", self.factor)
        integer("every", self.every, minimum=1)

    def _lr(self, k: int) -> float:
        return float(self.lr * self.factor ** (k // self.every))


@dataclass(frozen=True)
class Exponential(Schedule):
    """η_k = η_0 · factor^(k / every): ``factor`` per ``every`` updates, smoothly."""

    lr: float
    factor: float
    every: float = 1.0

    def __post_init__(self) -> None:
        positive("lr", self.lr)
        _factor("factor", self.factor)
        positive("every", self.every)

    def _lr(self, k: int) -> float:
        return float(self.lr * self.factor ** (k / self.every))


@dataclass(frozen=True)
class InverseTime(Schedule):
    """η_k = η_0 / (1 + k / τ): halved after τ updates; Σ η_k diverges, Σ η_k² converges."""

    lr: float
    tau: float

    def __post_init__(self) -> None:
        positive("lr", self.lr)
        positive("tau", self.tau)

    def _lr(self, k: int) -> float:
        return float(self.lr / (1.0 + k / self.tau))


@dataclass(frozen=True)
class Linear(Schedule):
    """η_k = (1 − s) η_0 + s η_τ with s = min(k / τ, 1): linear decay, then constant η_τ.

    ``s`` is the fraction of the decay done (Goodfellow et al. call it α; here α is the momentum).
    """

    lr: float
    lr_end: float
    tau: int

    def __post_init__(self) -> None:
        positive("lr", self.lr)
        positive("lr_end", self.lr_end)
        integer("tau", self.tau, minimum=1)

    def _lr(self, k: int) -> float:
        s = min(k / self.tau, 1.0)
        return float((1.0 - s) * self.lr + s * self.lr_end)
