"""Notebook 05's exercises beyond the shared harness: the sampler's property check.

``tests/exercises/test_exercise_checks.py`` runs every exercise's solution, stub and mutants from
the
notebook; here the property check ``verify`` of the mini-batch sampler is tested on its own:
the reference and other correct samplers pass it, and each slip gets its hint.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from lecture_utils.exercises import check, get, nb05


def _shuffled(n, batch_size, rng):
    """A correct sampler written differently: shuffle in place, np.array_split."""
    order = np.arange(n)
    rng.shuffle(order)
    return np.array_split(order, range(batch_size, n, batch_size))


def test_the_reference_and_another_sampler_pass(capsys: pytest.CaptureFixture[str]) -> None:
    ex = get("epoch_batches")
    for case in ex.inputs():
        assert nb05._verify_sampler(nb05.epoch_batches, case) is None, case.label
    assert check("epoch_batches", _shuffled) is _shuffled
    assert "epoch_batches: correct" in capsys.readouterr().out


def test_a_lazy_sampler_is_not_yet(capsys: pytest.CaptureFixture[str]) -> None:
    """A generator of batches has no len(), which the cell after the check takes."""
    def lazy(n, batch_size, rng):
        order = rng.permutation(n)
        return (order[i:i + batch_size] for i in range(0, n, batch_size))

    assert check("epoch_batches", lazy) is nb05.epoch_batches
    out = capsys.readouterr().out
    assert "epoch_batches: not yet: return a list of index arrays, not a generator" in out, out


@pytest.mark.parametrize(("student", "hint"), [
    (lambda n, b, rng: nb05.epoch_batches(n, b, rng)[:-1], "missing"),
    (lambda n, b, rng: nb05.epoch_batches(n, b, rng) * 2, "appears twice"),
    (lambda n, b, rng: [rng.permutation(n).astype(float)], "integer indices"),
    (lambda n, b, rng: [rng.permutation(n)], "wrong batch sizes"),
    (lambda n, b, rng: [np.random.default_rng(0).permutation(n)[i:i + b]
                        for i in range(0, n, b)], "same order in two epochs"),
    (lambda n, b, rng: [batch + 1 for batch in nb05.epoch_batches(n, b, rng)],
     "outside 0, ..., n-1"),
])
def test_each_slip_gets_its_hint(student: object, hint: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert check("epoch_batches", student) is nb05.epoch_batches
    out = capsys.readouterr().out
    assert "epoch_batches: not yet: " in out and hint in out, out


def test_the_step_references_leave_their_inputs_alone() -> None:
    rng = np.random.default_rng(0)
    theta, g, m, v = (rng.normal(size=5) for _ in range(4))
    v = np.abs(v)
    before = [a.copy() for a in (theta, g, m, v)]
    new_theta, new_m, new_v = nb05.adam_step(theta, g, m, v, 3, 1e-2)
    nb05.rmsprop_step(theta, g, v, 1e-2)
    for a, b in zip((theta, g, m, v), before, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(np.stack([new_theta, new_m, new_v]),
                               np.stack(nb05._torch_adam(theta, g, m, v, 3, 1e-2)), rtol=1e-12)


def test_the_step_references_are_the_library_optimisers_steps() -> None:
    """adam_step and rmsprop_step, run for 10 steps, take the steps of optimizers.Adam/RMSprop."""
    from lecture_utils.optim import optimizers

    rng = np.random.default_rng(1)
    theta = rng.normal(size=4)
    adam, rmsprop = optimizers.Adam(lr=0.01), optimizers.RMSprop(lr=0.01, alpha=0.9)
    ours_adam, ours_rms = theta, theta
    m = v = s = np.zeros(4)
    lib_adam, lib_rms = [theta], [theta]
    for t in range(1, 11):
        g = rng.normal(size=4)
        ours_adam, m, v = nb05.adam_step(ours_adam, g, m, v, t, 0.01)
        ours_rms, s = nb05.rmsprop_step(ours_rms, g, s, 0.01, rho=0.9)
        lib_adam = adam.step(lib_adam, [g])
        lib_rms = rmsprop.step(lib_rms, [g])
    np.testing.assert_allclose(ours_adam, lib_adam[0], rtol=1e-14)
    np.testing.assert_allclose(ours_rms, lib_rms[0], rtol=1e-14)


@pytest.mark.parametrize(("slip", "hint"), [
    (nb05._adam_without_bias_correction, "bias correction is missing"),
    (nb05._adam_eps_inside, "outside the square root"),
])
def test_adam_slips_name_theta_and_the_fix(slip: object, hint: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert check("adam_step", slip) is nb05.adam_step
    out = capsys.readouterr().out
    assert "adam_step: not yet: θ is off" in out and hint in out, out


def test_adam_in_float32_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    def adam32(theta, g, m, v, t, eta, beta1=0.9, beta2=0.999, eps=1e-8):
        return tuple(np.float32(x) for x in nb05.adam_step(theta, g, m, v, t, eta, beta1,
                                                            beta2, eps))
    assert check("adam_step", adam32) is adam32
    assert "adam_step: correct" in capsys.readouterr().out


# --------------------------------------------------------------------------- Exercise 9: adam
def _adam_by_steps(grad, theta0, eta, n_steps, beta1=0.9, beta2=0.999, eps=1e-8):
    """Right, by Exercise 5's step in a loop, t from range(1, n_steps + 1)."""
    theta, m, v = theta0, np.zeros_like(theta0), np.zeros_like(theta0)
    out = [(theta, m, v)]
    for t in range(1, n_steps + 1):
        theta, m, v = nb05.adam_step(theta, grad(theta), m, v, t, eta, beta1, beta2, eps)
        out.append((theta, m, v))
    return tuple(np.array(part) for part in zip(*out, strict=True))


def _adam_preallocated(grad, theta0, eta, n_steps, beta1=0.9, beta2=0.999, eps=1e-8):
    """Right, into preallocated histories, t counted from 0 and used as t + 1."""
    thetas = np.empty((n_steps + 1, *np.shape(theta0)))
    ms, vs = np.zeros_like(thetas), np.zeros_like(thetas)
    thetas[0] = theta0
    for t in range(n_steps):
        g = grad(thetas[t])
        ms[t + 1] = beta1 * ms[t] + (1 - beta1) * g
        vs[t + 1] = beta2 * vs[t] + (1 - beta2) * g * g
        step = ms[t + 1] / (1 - beta1 ** (t + 1))
        thetas[t + 1] = thetas[t] - eta * step / (np.sqrt(vs[t + 1] / (1 - beta2 ** (t + 1))) + eps)
    return thetas, ms, vs


def _adam_float32(grad, theta0, eta, n_steps, beta1=0.9, beta2=0.999, eps=1e-8):
    """Right, worked in float32 throughout."""
    theta = np.asarray(theta0, dtype=np.float32)
    m = v = np.zeros_like(theta)
    thetas, ms, vs = [theta], [m], [v]
    for t in range(1, n_steps + 1):
        g = np.asarray(grad(theta), dtype=np.float32)
        m = np.float32(beta1) * m + np.float32(1 - beta1) * g
        v = np.float32(beta2) * v + np.float32(1 - beta2) * g**2
        m_hat, v_hat = m / np.float32(1 - beta1**t), v / np.float32(1 - beta2**t)
        theta = theta - np.float32(eta) * m_hat / (np.sqrt(v_hat) + np.float32(eps))
        thetas.append(theta)
        ms.append(m)
        vs.append(v)
    return np.array(thetas), np.array(ms), np.array(vs)


def _adam_torch(grad, theta0, eta, n_steps, beta1=0.9, beta2=0.999, eps=1e-8):
    """Right, with torch tensors (returned as tensors)."""
    import torch

    theta = torch.tensor(theta0)
    m, v = torch.zeros_like(theta), torch.zeros_like(theta)
    thetas, ms, vs = [theta], [m], [v]
    for t in range(1, n_steps + 1):
        g = torch.as_tensor(grad(theta.numpy()))
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        theta = theta - eta * (m / (1 - beta1**t)) / ((v / (1 - beta2**t)).sqrt() + eps)
        thetas.append(theta)
        ms.append(m)
        vs.append(v)
    return torch.stack(thetas), torch.stack(ms), torch.stack(vs)


@pytest.mark.parametrize("student", [nb05.adam, _adam_by_steps, _adam_preallocated,
                                     _adam_float32, _adam_torch, nb05._torch_adam_run],
                         ids=["reference", "adam_step loop", "preallocated, t + 1",
                              "float32", "torch tensors", "torch.optim.Adam"])
def test_adam_in_other_styles_is_correct(student: object,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert inspect.unwrap(check("adam", student)) is student
    assert capsys.readouterr().out.startswith("adam: correct")


def _slip(**change: object) -> object:
    """Adam's loop with one slip: ``change`` names it (see the hint each is tested for)."""
    def run(grad, theta0, eta, n_steps, beta1=0.9, beta2=0.999, eps=1e-8):
        theta, m, v = theta0, np.zeros_like(theta0), np.zeros_like(theta0)
        thetas, ms, vs = [theta], [m], [v]
        for t in range(1, n_steps + 1):
            g = grad(theta0 if change.get("g_at_start") else theta)
            m_old, v_old = m, v
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * (g if change.get("v_not_squared") else g**2)
            if change.get("swapped_beta1"):
                m = (1 - beta1) * m_old + beta1 * g
            tt = {"stuck": 1, "ahead": t + 1, "zero": t - 1}.get(change.get("t"), t)
            m_hat, v_hat = m / (1 - beta1**tt), v / (1 - beta2**tt)
            if change.get("no_bias_correction"):
                m_hat, v_hat = m, v
            if change.get("order"):  # θ moved before m and v
                m_hat, v_hat = m_old / (1 - beta1**t), v_old / (1 - beta2**t)
            root = np.sqrt(v_hat + eps) if change.get("eps_inside") else np.sqrt(v_hat) + eps
            theta = theta + (1 if change.get("uphill") else -1) * eta * m_hat / root
            if change.get("g_after"):  # m and v from the gradient at the new θ
                g = grad(theta)
                m = beta1 * m_old + (1 - beta1) * g
                v = beta2 * v_old + (1 - beta2) * g**2
            thetas.append(theta)
            ms.append(m / (1 - beta1**t) if change.get("keep_m_hat") else m)
            vs.append(v)
        return np.array(thetas), np.array(ms), np.array(vs)
    return run


@pytest.mark.parametrize(("change", "hint"), [
    ({"no_bias_correction": True}, "θ is off at step t = 1 on the input '5 steps on the valley "
                                   "H = diag(1, 100)': the bias correction is missing"),
    ({"eps_inside": True}, "θ is off at step t = 1 on the input '25 steps, θ a 3 × 4 array': "
                           "ε belongs outside the square root"),
    ({"t": "stuck"}, "θ is off at step t = 2 on the input '5 steps on the valley H = diag(1, "
                     "100)': t is stuck at 1"),
    ({"t": "ahead"}, "θ is off at step t = 1 on the input '5 steps on the valley H = diag(1, "
                     "100)': t is one step ahead"),
    ({"t": "zero"}, "θ is NaN or inf at step t = 1"),
    ({"order": True}, "θ is off at step t = 1 on the input '5 steps on the valley H = diag(1, "
                      "100)': θ moved with the previous m and v"),
    ({"g_after": True}, "m is off at step t = 1 on the input '5 steps on the valley H = diag(1, "
                        "100)' (θ and v before it are right): g_t is the gradient at θ_{t−1}, "
                        "before θ moves"),
    ({"g_at_start": True}, "m is off at step t = 2 on the input '5 steps on the valley H = "
                           "diag(1, 100)' (θ and v before it are right): g_t is the gradient at "
                           "the current θ_{t−1}, not at θ₀"),
    ({"uphill": True}, "θ is off at step t = 1 on the input '5 steps on the valley H = diag(1, "
                       "100)': wrong sign"),
    ({"swapped_beta1": True}, "m is off at step t = 1 on the input '5 steps on the valley H = "
                              "diag(1, 100)' (θ and v before it are right): β₁ and 1 − β₁ are "
                              "swapped"),
    ({"v_not_squared": True}, "v is off at step t = 1 on the input '5 steps on the valley H = "
                              "diag(1, 100)' (θ and m are right): v averages the squared"),
    ({"keep_m_hat": True}, "m is off at step t = 1 on the input '5 steps on the valley H = "
                           "diag(1, 100)' (θ and v before it are right): the factor (1 − β₁) "
                           "in front of g is missing; or you kept m̂"),
], ids=lambda x: str(x)[:30])
def test_each_adam_slip_names_theta_m_or_v_and_the_step(change: dict[str, object], hint: str,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    student = _slip(**change)
    assert check("adam", student) is nb05.adam
    first = capsys.readouterr().out.splitlines()[0]
    assert first == f"adam: not yet: {hint}" or first.startswith(f"adam: not yet: {hint}"), first
    namespace = {"check": check, "adam": nb05.adam}  # the check cell run again: the same
    exec('adam = check("adam", adam)', namespace)      # verdict (`adam` is the reference now)
    assert capsys.readouterr().out.splitlines()[0] == first


def test_adam_without_slips_is_the_reference(capsys: pytest.CaptureFixture[str]) -> None:
    """The slip machinery itself, with no slip, is a correct Adam (so the tests above test
    the slip, not the harness)."""
    assert check("adam", _slip()) is not nb05.adam
    assert capsys.readouterr().out.startswith("adam: correct")


def test_adam_histories_and_an_untouched_start() -> None:
    grad = nb05.Quadratic(np.diag([1.0, 100.0])).grad
    theta0 = np.array([-2.0, 0.2])
    thetas, ms, vs = nb05.adam(grad, theta0, 0.1, 3)
    np.testing.assert_array_equal(theta0, [-2.0, 0.2])
    assert thetas.shape == ms.shape == vs.shape == (4, 2)
    np.testing.assert_array_equal(thetas[0], theta0)
    np.testing.assert_array_equal(ms[0], 0.0)
    # the first step of Adam moves every coordinate with a gradient by about η
    np.testing.assert_allclose(np.abs(thetas[1] - thetas[0]), 0.1, rtol=1e-6)


def test_adam_graded_hints_then_reveal(capsys: pytest.CaptureFixture[str]) -> None:
    from lecture_utils.exercises import core, hint

    core._HINTS_SHOWN.pop("adam", None)
    hint("adam")
    hint("adam")
    hint("adam")
    out = capsys.readouterr().out
    assert "adam, hint 1 of 2: one loop over the steps" in out
    assert "adam, hint 2 of 2: the body of the loop is one call of your adam_step" in out
    assert 'no more hints' in out and 'reveal("adam")' in out
