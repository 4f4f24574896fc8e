"""The references of notebook 03's exercises agree with the rest of lecture_utils.

The shared harness (tests/exercises/test_exercise_checks.py) runs the notebook's solutions, stubs
and
mutants; these tests tie the references to the runners and the theory the notebook uses.
"""

from __future__ import annotations

import numpy as np
import pytest

from lecture_utils.analysis.tiny import TINY_II
from lecture_utils.exercises import check, get, nb03
from lecture_utils.figures import explorer
from lecture_utils.optim import optimizers as opt
from lecture_utils.optim import trajectories as tr

START = np.array([0.5, 1.5])


@pytest.mark.parametrize("eta", [0.25, 0.35])
def test_gradient_descent_is_run_trajectory(eta: float) -> None:
    points = nb03.gradient_descent(TINY_II.grad, START, eta, 30)
    ref = tr.run_trajectory(TINY_II, opt.GradientDescent(eta), START, 30).points
    np.testing.assert_allclose(points, ref, rtol=1e-13)


@pytest.mark.parametrize(("eta", "alpha"), [(0.05, 0.8), (0.2, 0.5), (0.1, 0.0)])
def test_momentum_method_is_the_sweep(eta: float, alpha: float) -> None:
    points = nb03.momentum_method(TINY_II.grad, START, eta, alpha, 40)
    final = tr.momentum_sweep(TINY_II, START, [eta], [alpha], 40)[0, 0]
    np.testing.assert_allclose(points[-1], final, rtol=1e-12)
    assert points.shape == (41, 2)


def test_one_newton_step_minimises_every_case_quadratic() -> None:
    rng = np.random.default_rng(0)
    for _ in range(5):
        q = nb03._random_quadratic(rng, 4, indefinite=bool(rng.integers(2)))
        theta = rng.normal(size=4)
        new = nb03.newton_step(theta, q.grad(theta), q.hessian(theta))
        np.testing.assert_allclose(q.grad(new), 0, atol=1e-10)  # the critical point c
        np.testing.assert_allclose(new, q.c, atol=1e-10)


def test_the_saddle_free_step_goes_downhill_where_newton_goes_up() -> None:
    for case in get("saddle_free_step").inputs():
        g, H = case.args
        assert g @ nb03.saddle_free_step(g, H) < 0, case.label
    theta = np.array([0.6, 0.3])  # a start where Newton's first step is uphill (notebook 03)
    g, H = TINY_II.grad(theta), TINY_II.hessian(theta)
    assert g @ (nb03.newton_step(theta, g, H) - theta) > 0
    assert g @ nb03.saddle_free_step(g, H) < 0


def test_momentum_stable_eta_is_the_explorers_limit() -> None:
    lam_max = np.linalg.eigvalsh(TINY_II.hessian(TINY_II.minima[0])).max()
    assert np.isclose(nb03.momentum_stable_eta(), explorer.stability_limit("momentum", 0.5)[1]
                      / lam_max)
    for factor, converges in ((0.98, True), (1.02, False)):
        run = tr.run_trajectory(TINY_II, opt.Momentum(factor * nb03.momentum_stable_eta(), 0.5),
                                TINY_II.minima[0] + [0.01, 0.0], 300)
        assert bool(np.linalg.norm(run.points[-1] - TINY_II.minima[0]) < 1e-6) == converges


def test_every_case_is_seeded_and_has_the_stated_shape() -> None:
    for name in ("gradient_descent", "momentum_method"):
        ex = get(name)
        for case in ex.inputs():
            steps = case.args[-1]
            assert ex.reference(*case.args).shape == (steps + 1, len(case.args[1])), case.label
    first = get("newton_step").inputs()[0].args[0]
    np.testing.assert_array_equal(first, get("newton_step").inputs()[0].args[0])


def test_the_references_are_the_library_optimisers_steps() -> None:
    """gradient_descent, momentum_method and newton_step take the steps of optimizers.*."""
    gd, heavy_ball = opt.GradientDescent(0.2), opt.Momentum(0.05, 0.8)
    w_gd = w_hb = np.array(START, dtype=float)
    for _ in range(12):
        [w_gd] = gd.step([w_gd], [TINY_II.grad(w_gd)])
        [w_hb] = heavy_ball.step([w_hb], [TINY_II.grad(w_hb)])
    np.testing.assert_allclose(nb03.gradient_descent(TINY_II.grad, START, 0.2, 12)[-1], w_gd,
                               rtol=1e-14)
    np.testing.assert_allclose(nb03.momentum_method(TINY_II.grad, START, 0.05, 0.8, 12)[-1],
                               w_hb, rtol=1e-14)
    theta = np.array([1.0, 1.4])
    [newton] = opt.Newton().step([theta], [TINY_II.grad(theta)], TINY_II.hessian(theta))
    np.testing.assert_allclose(nb03.newton_step(theta, TINY_II.grad(theta),
                                                TINY_II.hessian(theta)), newton, rtol=1e-14)


@pytest.mark.parametrize(("name", "slip", "hint"), [
    ("newton_step", nb03._newton_direction, "you returned the step"),
    ("momentum_method", nb03._momentum_old_velocity, "the order of the two lines"),
    ("race", nb03._race_one_minimum, "nearest minimum"),
])
def test_each_slip_gets_its_hint(name: str, slip, hint: str, capsys) -> None:
    check(name, slip)
    out = capsys.readouterr().out
    assert f"{name}: not yet: " in out and hint in out, out


def test_a_rounded_limit_and_float32_work_are_accepted(capsys) -> None:
    assert check("momentum_stable_eta", lambda: 0.514)() == 0.514
    assert check("newton_step", lambda theta, g, H: nb03.newton_step(
        theta, g, H).astype(np.float32)) is not nb03.newton_step
    assert "not yet" not in capsys.readouterr().out


def test_the_race_counts_steps_to_the_nearest_minimum() -> None:
    methods = (nb03.gradient_descent, nb03.momentum_method, nb03.newton_step)
    fast = nb03.race(*methods, np.array([-1.2, -0.4]), 1e-4, 300)
    assert np.all(fast < 300) and fast[2] < fast[1] < fast[0]       # Newton, momentum, gd
    caught = nb03.race(*methods, np.array([0.3, -0.4]), 1e-3, 200)
    assert caught[2] == 201 and caught[0] < 200                       # Newton stuck at the saddle
