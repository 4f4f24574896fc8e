"""Exercises of notebook 00 (start here): two warm-ups that show how exercises and checks work.

Slide "Gradient descent": one step ``θ_{k+1} = θ_k − η g_k``, checked against the course's
optimiser and ``torch.optim.SGD``; slide "Objectives of lecture" (autograd handles the
derivation): the derivative of ``C(θ) = θ³``, checked against torch autograd.
"""

from __future__ import annotations

import numpy as np

from lecture_utils.exercises.core import Case, Exercise, Mutant, register


# --------------------------------------------------------------------------- inputs
def _step_cases(rng: np.random.Generator) -> list[Case]:
    """(θ, g, η): from θ = 0 (where a flipped step is exactly the negative), the notebook's
    θ = 1 on C = θ², a weight matrix, and a step size past the stable range of θ²."""
    return [
        Case("θ = 0, three weights, η = 0.25", (np.zeros(3), rng.normal(size=3), 0.25)),
        Case("θ = 1 on C(θ) = θ², g = 2θ, η = 0.25", (np.array([1.0]), np.array([2.0]), 0.25)),
        Case("a 4 x 3 weight matrix, η = 0.05", (rng.normal(size=(4, 3)),
                                                  rng.normal(size=(4, 3)), 0.05)),
        Case("η = 1.05", (rng.normal(size=5), rng.normal(size=5), 1.05)),
    ]


def _theta_cases(rng: np.random.Generator) -> list[Case]:
    """Points θ at which to evaluate C'(θ): random, negative, zero and large."""
    return [
        Case("five random θ", (rng.normal(size=5),)),
        Case("θ = 2", (np.array([2.0]),)),
        Case("negative θ", (-rng.uniform(0.5, 3.0, size=4),)),
        Case("θ = 0 and θ = 10", (np.array([0.0, 10.0]),)),
    ]


# --------------------------------------------------------------------------- torch oracles
def _torch_sgd_step(theta: np.ndarray, grad: np.ndarray, eta: float) -> np.ndarray:
    """One step of ``torch.optim.SGD(lr=η)`` from θ with the gradient g."""
    import torch

    p = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    p.grad = torch.tensor(grad, dtype=torch.float64)
    torch.optim.SGD([p], lr=eta).step()
    return p.detach().numpy()


def _torch_cube_derivative(theta: np.ndarray) -> np.ndarray:
    """Autograd of ``sum_i θ_i³``: the derivative of θ³ at each entry."""
    import torch

    t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    (t**3).sum().backward()
    return t.grad.numpy()


# --------------------------------------------------------------------------- references
def gd_step(theta: np.ndarray, grad: np.ndarray, eta: float) -> np.ndarray:
    """``θ_{k+1} = θ_k − η g_k`` (slide "Gradient descent"), a new array."""
    return np.asarray(theta, dtype=np.float64) - eta * np.asarray(grad, dtype=np.float64)


def cube_derivative(theta: np.ndarray) -> np.ndarray:
    """``C'(θ) = 3θ²`` of ``C(θ) = θ³``, entry by entry."""
    return 3 * np.asarray(theta, dtype=np.float64) ** 2


GD_STEP = Exercise(
    name="gd_step",
    reference=gd_step,
    cases=_step_cases,
    oracle=_torch_sgd_step,
    rtol=1e-10,
    atol=1e-12,
    mutants=(Mutant("theta - eta * grad", "theta + eta * grad", "wrong sign"),
             Mutant("theta - eta * grad", "theta - grad", "whole-number factor"),
             Mutant("return theta - eta * grad", "theta -= eta * grad\n    return theta",
                    "changed its argument `theta`")),
    hints={"sign": "step against the gradient, downhill",
           "factor": "the step is the gradient times η"},
    graded_hints=("The gradient points uphill: the step goes the other way.",
                  "The step is η times the gradient, taken from θ; return a new array."),
    slide="Gradient descent",
)

CUBE_DERIVATIVE = Exercise(
    name="cube_derivative",
    reference=cube_derivative,
    cases=_theta_cases,
    oracle=_torch_cube_derivative,
    rtol=1e-10,
    atol=1e-12,
    mutants=(Mutant("3 * theta**2", "2 * theta**2", "constant factor"),
             Mutant("3 * theta**2", "3 * theta", "relative error")),
    hints={"factor": "d/dθ θⁿ = n θⁿ⁻¹"},
    graded_hints=("The power rule: d/dθ θⁿ = n θⁿ⁻¹.",
                  "With n = 3, entry by entry: numpy's ** works on every entry of an array."),
    slide="Objectives of lecture",
)

register(GD_STEP, CUBE_DERIVATIVE)
