"""Notebook 07's exercises: the references against torch, the correct styles every check accepts
(ddof = 1 where the prompt says "standard deviation", float32, torch, other draws of the same
numbers) and the slips each check names. The shared harness (``test_exercise_checks.py``) runs
the notebook's solutions, stubs and mutants."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
import torch

from lecture_utils.exercises import check, get, nb07


def _forward_std_ddof1(weights, x):
    h, stds = x, []
    for W in weights[:-1]:
        h = np.maximum(h @ W.T, 0)
        stds.append(np.std(h, ddof=1))
    return np.array(stds)


def _forward_std_float32(weights, x):
    h, stds = x.astype(np.float32), []
    for W in weights[:-1]:
        h = np.maximum(h @ W.T.astype(np.float32), 0)
        stds.append(h.std())
    return np.array(stds)


def _forward_std_torch(weights, x):
    h, stds = torch.from_numpy(x), []
    for W in weights[:-1]:
        h = torch.relu(h @ torch.from_numpy(W).T)
        stds.append(h.std())          # torch's default: ddof = 1
    return torch.stack(stds)


def _backward_rms_float32(weights, x, y):
    return nb07.backward_rms([W.astype(np.float32) for W in weights], x.astype(np.float32), y)


def _depth_profile_standard_normal(init, widths, x, seed):
    """The same numbers drawn as std · standard_normal, and the loops over layer indices."""
    rng = np.random.default_rng(seed)
    weights = [init(widths[i], widths[i + 1]) * rng.standard_normal((widths[i + 1], widths[i]))
               for i in range(len(widths) - 1)]
    z, forward = x, []
    for W in weights:
        z = z @ W.T
        forward.append(z.std())
    g, backward = np.ones_like(z), [0.0] * len(weights)
    for i in reversed(range(len(weights))):
        g = g @ weights[i]
        backward[i] = np.sqrt((g**2).mean())
    return np.stack([np.array(forward), np.array(backward)])


@pytest.mark.parametrize(("name", "student"), [
    ("forward_std", _forward_std_ddof1), ("forward_std", _forward_std_float32),
    ("forward_std", _forward_std_torch), ("backward_rms", _backward_rms_float32),
    ("init_stds", lambda fan_in, fan_out: (math.sqrt(2 / fan_in),
                                           math.sqrt(2 / (fan_in + fan_out)))),
    ("init_stds", lambda fan_in, fan_out: (np.float32(2 / fan_in) ** 0.5,
                                           np.float32(2 / (fan_in + fan_out)) ** 0.5)),
    ("std_factor", lambda s, fan_in, n: math.sqrt(s * s * fan_in / 2) ** n),
    ("depth_profile", _depth_profile_standard_normal),
], ids=["forward-ddof1", "forward-float32", "forward-torch", "backward-float32",
        "init-math", "init-float32", "factor-sqrt", "depth-standard-normal"])
def test_correct_styles_are_accepted(name, student, capsys: pytest.CaptureFixture[str]) -> None:
    assert inspect.unwrap(check(name, student)) is student, capsys.readouterr().out


def _depth_profile_not_reversed(init, widths, x, seed):
    profile = nb07.depth_profile(init, widths, x, seed)
    return np.array([profile[0], profile[1][::-1]])


@pytest.mark.parametrize(("name", "student", "hint"), [
    ("depth_profile", _depth_profile_not_reversed, "reverse it"),
    ("init_stds", lambda fan_in, fan_out: np.sqrt([2 / fan_in, 2 / (fan_in + fan_out)]),
     "(He std, Glorot std)"),
    ("init_stds", lambda fan_in, fan_out: (np.sqrt(2 / fan_in), np.sqrt(1 / fan_out)),
     "Glorot std"),
])
def test_slips_get_their_hint(name, student, hint, capsys: pytest.CaptureFixture[str]) -> None:
    check(name, student)
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(f"{name}: not yet: ") and hint in first, first


@pytest.mark.parametrize("name", ["forward_std", "backward_rms"])
def test_the_loops_agree_with_torch_autograd(name: str) -> None:
    ex = get(name)
    for case in ex.inputs():
        np.testing.assert_allclose(ex.reference(*case.args), ex.oracle(*case.args), rtol=1e-8,
                                   atol=1e-15, err_msg=case.label)


def test_glorots_two_conditions_on_a_funnel() -> None:
    """σ² = 1/fan_in keeps the forward variance (in expectation), 1/fan_out the backward one."""
    widths, x = [400, 200, 100, 50], np.random.default_rng(0).normal(size=(2000, 400))
    flat_forward = np.mean([nb07.depth_profile(lambda fi, fo: 1 / np.sqrt(fi), widths, x, s)[0]
                            for s in range(20)], axis=0)
    flat_backward = np.mean([nb07.depth_profile(lambda fi, fo: 1 / np.sqrt(fo), widths, x, s)[1]
                             for s in range(20)], axis=0)
    np.testing.assert_allclose(flat_forward, 1, rtol=0.05)
    np.testing.assert_allclose(flat_backward, 1, rtol=0.05)
