"""Notebook 05's exercises beyond the shared harness: the sampler's property check.

``tests/exercises/test_exercise_checks.py`` runs every exercise's solution, stub and mutants from
the
notebook; here the property check ``verify`` of the mini-batch sampler is tested on its own:
the reference and other correct samplers pass it, and each slip gets its hint.
"""

from __future__ import annotations

import numpy as np
import pytest

from lecture_utils.exercises import check, get, nb05


def _shuffled(n, batch_size, rng):
    """A correct sampler written differently: shuffle in place, yield the batches lazily."""
    order = np.arange(n)
    rng.shuffle(order)
    return (order[i:i + batch_size] for i in range(0, n, batch_size))


def test_the_reference_and_a_lazy_sampler_pass(capsys: pytest.CaptureFixture[str]) -> None:
    ex = get("epoch_batches")
    for case in ex.inputs():
        assert nb05._verify_sampler(nb05.epoch_batches, case) is None, case.label
    assert check("epoch_batches", _shuffled) is _shuffled
    assert "epoch_batches: correct" in capsys.readouterr().out


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
