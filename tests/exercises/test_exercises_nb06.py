"""Notebook 06's exercise references do what the notebook says they do (the shared harness,
tests/exercises/test_exercise_checks.py, runs the checks and mutants themselves)."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
import torch

from lecture_utils.analysis.tiny import TINY_II
from lecture_utils.exercises import check, nb06
from lecture_utils.optim.trajectories import Quadratic


def test_noisy_gradient_descent_stays_at_the_saddle_only_without_noise() -> None:
    still = nb06.noisy_gradient_descent(TINY_II, np.zeros(2), 0.1, 0.0, 100, 0)
    noisy = nb06.noisy_gradient_descent(TINY_II, np.zeros(2), 0.1, 0.05, 100, 0)
    assert still.shape == (101, 2) and np.all(still == 0)
    assert np.min(np.linalg.norm(TINY_II.minima - noisy[-1], axis=1)) < 0.05
    np.testing.assert_array_equal(noisy, nb06.noisy_gradient_descent(TINY_II, np.zeros(2), 0.1,
                                                                      0.05, 100, 0))


@pytest.mark.parametrize("w", [[0.0, 0.0], [0.3, -1.1], [1.2083, 1.2083]])
def test_the_finite_difference_hessian_is_the_exact_one(w: list[float]) -> None:
    np.testing.assert_allclose(nb06.hessian_fd(TINY_II, np.array(w)), TINY_II.hessian(np.array(w)),
                               atol=1e-8)


def test_the_value_answers() -> None:
    np.testing.assert_allclose(nb06.hessian_at_minimum(), TINY_II.hessian(TINY_II.minima[0]))
    assert int(np.ceil(nb06.stall_steps())) == 47
    assert nb06.index_at_zero() == pytest.approx(108 / 334)


# --------------------------------------------------------------------------- styles and slips
def _hessian_fd_in_place(cost, theta, h=1e-5):
    """Moves θ in place and never puts it back: the caller's θ changes."""
    n = theta.size
    H = np.empty((n, n))
    for j in range(n):
        theta[j] += h
        g_plus = cost.grad(theta)
        theta[j] -= 2 * h
        H[:, j] = (g_plus - cost.grad(theta)) / (2 * h)
    return (H + H.T) / 2


def _saddle_escape_torch(H, theta0, eta, sigma, steps, seed):
    rng = np.random.default_rng(seed)
    Ht = torch.from_numpy(H)
    theta, path = torch.tensor(theta0, dtype=torch.float64), []
    path.append(theta)
    for _ in range(steps):
        eps = torch.from_numpy(rng.standard_normal(len(theta0)))
        theta = theta - eta * (Ht @ theta + sigma * eps)
        path.append(theta)
    _, V = torch.linalg.eigh(Ht)           # its own eigenvector signs: |v_jᵀθ| does not care
    return (torch.stack(path) @ V).abs()


def _saddle_escape_loops(H, theta0, eta, sigma, steps, seed):
    rng = np.random.default_rng(seed)
    lam, V = np.linalg.eigh(H)
    theta, rows = np.array(theta0, dtype=float), []
    for k in range(steps + 1):
        rows.append([abs(V[:, j] @ theta) for j in range(len(lam))])
        if k < steps:
            theta = theta - eta * (H @ theta + sigma * rng.standard_normal(theta.size))
    return np.array(rows)


@pytest.mark.parametrize(("name", "student"), [
    ("stall_steps", lambda: np.log(0.1 / (1e-6 / np.sqrt(2))) / np.log1p(0.292)),
    ("stall_steps", lambda: (np.log(0.1) - np.log(1e-6 / np.sqrt(2))) / np.log(1.292)),
    ("stall_steps", lambda: math.log(0.1 * math.sqrt(2) / 1e-6, 1 + 0.1 * 2.92)),
    ("saddle_escape", _saddle_escape_torch), ("saddle_escape", _saddle_escape_loops),
    ("noisy_gradient_descent", nb06.noisy_gradient_descent),
], ids=["stall-log1p", "stall-difference", "stall-math-log", "saddle-torch", "saddle-loops",
        "noisy-reference"])
def test_correct_styles_are_accepted(name, student, capsys: pytest.CaptureFixture[str]) -> None:
    assert inspect.unwrap(check(name, student)) is student, capsys.readouterr().out


@pytest.mark.parametrize(("name", "student", "hint"), [
    ("hessian_fd", _hessian_fd_in_place, "changed its argument `theta`"),
    ("saddle_escape", lambda H, t0, eta, s, k, seed: np.abs(
        nb06.noisy_gradient_descent(Quadratic(H), t0, eta, s, k, seed)
        @ np.linalg.eigh(H)[1].T), "COLUMNS"),
    ("noisy_gradient_descent", lambda *args: list(nb06.noisy_gradient_descent(*args)),
     "expected a numpy array"),
])
def test_slips_get_their_hint(name, student, hint, capsys: pytest.CaptureFixture[str]) -> None:
    check(name, student)
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(f"{name}: not yet: ") and hint in first, first


def test_the_escape_grows_along_the_negative_eigenvalues_only() -> None:
    lam = np.array([-2.0, -0.5, 1.0, 3.0])
    U = nb06.saddle_escape(np.diag(lam), np.full(4, 1e-3), 0.1, 0.0, 30, 0)
    np.testing.assert_allclose(U[-1], 1e-3 * np.abs(1 - 0.1 * lam) ** 30, rtol=1e-10)
