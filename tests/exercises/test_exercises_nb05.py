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
