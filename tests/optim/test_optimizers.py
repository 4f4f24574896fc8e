"""lecture_utils.optim.optimizers: step by step against torch.optim, Newton, runner, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lecture_utils.analysis.tiny import TinyExampleII
from lecture_utils.optim import optimizers as opt
from lecture_utils.optim import trajectories as tr

STEPS = 50


def random_quadratic(n: int, seed: int = 0, lo: float = 0.2, hi: float = 2.0
                     ) -> tr.Quadratic:
    """A random positive-definite quadratic with eigenvalues in [lo, hi]."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    A = (Q * rng.uniform(lo, hi, n)) @ Q.T
    return tr.Quadratic(0.5 * (A + A.T), rng.standard_normal(n))


def tiny_ii() -> TinyExampleII:
    """Tiny Example II: C = (w1 w2 − 1.5)² + 0.04(w1² + w2²)."""
    return TinyExampleII()


def torch_tiny_ii(w: torch.Tensor) -> torch.Tensor:
    return (w[0] * w[1] - 1.5) ** 2 + 0.04 * (w[0] ** 2 + w[1] ** 2)


# (our optimiser, the torch optimiser with the same hyper-parameters)
PAIRS = {
    "sgd_momentum": (lambda: opt.Momentum(lr=0.05, momentum=0.9),
                     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    "sgd_nesterov": (lambda: opt.Momentum(lr=0.05, momentum=0.8, nesterov=True),
                     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True)),
    "sgd": (lambda: opt.GradientDescent(lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    "adagrad": (lambda: opt.Adagrad(lr=0.3), lambda p: torch.optim.Adagrad(p, lr=0.3)),
    "rmsprop": (lambda: opt.RMSprop(lr=0.02, alpha=0.9, eps=1e-6),
                lambda p: torch.optim.RMSprop(p, lr=0.02, alpha=0.9, eps=1e-6)),
    "adadelta": (lambda: opt.Adadelta(lr=1.0, rho=0.9, eps=1e-6),
                 lambda p: torch.optim.Adadelta(p, lr=1.0, rho=0.9, eps=1e-6)),
    "adam": (lambda: opt.Adam(lr=0.05, betas=(0.8, 0.99), eps=1e-8),
             lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.8, 0.99), eps=1e-8)),
}


def compare_with_torch(name: str, params: list[np.ndarray], numpy_grad, torch_loss) -> None:
    """Run ours (numpy gradients) and torch (autograd) side by side; equal after every step."""
    ours, make_torch = PAIRS[name]
    o = ours()
    tparams = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in params]
    topt = make_torch(tparams)
    for k in range(STEPS):
        params = o.step(params, numpy_grad(params))
        topt.zero_grad()
        torch_loss(tparams).backward()
        topt.step()
        for p, t in zip(params, tparams, strict=True):
            np.testing.assert_allclose(p, t.detach().numpy(), rtol=1e-6, atol=1e-12,
                                       err_msg=f"{name}: step {k + 1}")
    assert o.t == STEPS


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_matches_torch_on_random_quadratic(name: str) -> None:
    """Two parameter arrays of shapes (3, 2) and (4,), one quadratic over all 10 numbers."""
    q = random_quadratic(10, seed=1)
    A_t, c_t = torch.tensor(q.H), torch.tensor(q.c)
    rng = np.random.default_rng(2)
    params = [rng.standard_normal((3, 2)), rng.standard_normal(4)]

    def numpy_grad(ps):
        g = q.grad(np.concatenate([p.ravel() for p in ps]))
        return [g[:6].reshape(3, 2), g[6:]]

    def torch_loss(ts):
        d = torch.cat([t.reshape(-1) for t in ts]) - c_t
        return 0.5 * d @ A_t @ d

    compare_with_torch(name, params, numpy_grad, torch_loss)


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_matches_torch_on_tiny_example_ii(name: str) -> None:
    cost = tiny_ii()
    w = np.array([0.3, 2.2])
    compare_with_torch(name, [w], lambda ps: [cost.grad(ps[0])],
                       lambda ts: torch_tiny_ii(ts[0]))


def test_tiny_example_ii_matches_formula() -> None:
    cost = tiny_ii()
    w = np.array([0.7, -1.3])
    t = torch.tensor(w, requires_grad=True)
    loss = torch_tiny_ii(t)
    (g,) = torch.autograd.grad(loss, t, create_graph=True)
    H = torch.stack([torch.autograd.grad(g[i], t, retain_graph=True)[0] for i in range(2)])
    np.testing.assert_allclose(cost.value(w), loss.item(), rtol=1e-12)
    np.testing.assert_allclose(cost.grad(w), g.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(cost.hessian(w), H.numpy(), rtol=1e-12)


def test_gd_on_tiny_ii_converges_at_025_not_at_035() -> None:
    """Slides: η = 0.25 is slow but converges, η = 0.35 > 2/5.84 oscillates."""
    cost = tiny_ii()
    w_star = cost.minima[0]
    start = [0.5, 1.5]
    slow = tr.run_trajectory(cost, opt.GradientDescent(0.25), start, 300)
    osc = tr.run_trajectory(cost, opt.GradientDescent(0.35), start, 300)
    assert not slow.diverged and not osc.diverged
    assert np.linalg.norm(slow.points[-1] - w_star) < 1e-4
    assert np.linalg.norm(osc.points[-1] - w_star) > 1e-2
    # the η = 0.35 run keeps oscillating: the loss goes up and down to the end
    assert np.sum(np.diff(osc.losses[-50:]) > 0) >= 10


def test_momentum_torch_form_differs_only_when_lr_changes() -> None:
    """Constant η: slide form == torch buffer form; a schedule (η changes) separates them."""
    q = random_quadratic(3, seed=4)
    w = np.ones(3)
    t = torch.ones(3, dtype=torch.float64, requires_grad=True)
    ours, theirs = opt.Momentum(lr=0.1, momentum=0.9), torch.optim.SGD([t], lr=0.1, momentum=0.9)
    for k in range(6):
        lr = 0.1 if k < 3 else 0.05
        ours.lr = lr
        theirs.param_groups[0]["lr"] = lr
        [w] = ours.step([w], [q.grad(w)])
        t.grad = torch.tensor(q.grad(t.detach().numpy()))
        theirs.step()
        if k < 3:
            np.testing.assert_allclose(w, t.detach().numpy(), rtol=1e-12)
    assert not np.allclose(w, t.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", sorted(opt.OPTIMIZERS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_step_returns_new_arrays_any_shape_dtype_preserved(name: str, dtype) -> None:
    o = opt.make_optimizer(name, **({"damping": 0.1} if "damped" in name or "free" in name else
                                    {} if name == "newton" else {"lr": 0.1}))
    rng = np.random.default_rng(0)
    if o.needs_hessian:
        params, hessian = [rng.standard_normal(4).astype(dtype)], 2.0 * np.eye(4)
    else:
        params, hessian = [rng.standard_normal((2, 3, 2)).astype(dtype),
                           np.array(0.5, dtype=dtype)], None
    before = [p.copy() for p in params]
    grads = [np.ones_like(p, dtype=np.float64) for p in params]
    new = o.step(params, grads, hessian)
    for p, b in zip(params, before, strict=True):
        np.testing.assert_array_equal(p, b)  # the arrays given are not changed
    assert all(np.all(g == 1.0) for g in grads)
    for p, b in zip(new, before, strict=True):
        assert p.dtype == dtype and p.shape == b.shape
        assert np.all(p < b)  # a step against a positive gradient decreases every entry
    state = [a for slot in o.state.values() for a in slot.values()]
    assert not any(np.shares_memory(a, p) for a in state for p in [*params, *grads, *new])


def test_reset_forgets_state() -> None:
    q = random_quadratic(2, seed=3)
    w1, w2 = np.ones(2), np.ones(2)
    o = opt.Adam(lr=0.1)
    for _ in range(5):
        [w1] = o.step([w1], [q.grad(w1)])
    o.reset()
    assert o.t == 0 and o.state == {}
    w1 = np.ones(2)
    o2 = opt.Adam(lr=0.1)
    for _ in range(3):
        [w1] = o.step([w1], [q.grad(w1)])
        [w2] = o2.step([w2], [q.grad(w2)])
    np.testing.assert_array_equal(w1, w2)


@settings(max_examples=25, deadline=None)
@given(lr=st.floats(1e-3, 1.0), seed=st.integers(0, 2**16))
def test_zero_momentum_is_gradient_descent(lr: float, seed: int) -> None:
    q = random_quadratic(3, seed=seed)
    ws = [np.ones(3) for _ in range(3)]
    opts = [opt.GradientDescent(lr), opt.Momentum(lr, momentum=0.0),
            opt.Momentum(lr, 0.0, nesterov=True)]
    for _ in range(5):
        ws = [o.step([w], [q.grad(w)])[0] for w, o in zip(ws, opts, strict=True)]
    np.testing.assert_allclose(ws[1], ws[0], rtol=1e-12)
    np.testing.assert_allclose(ws[2], ws[0], rtol=1e-12)


# --- Newton family ---------------------------------------------------------------------------
def test_newton_reaches_quadratic_minimum_in_one_step() -> None:
    q = random_quadratic(6, seed=5, lo=0.01, hi=50.0)
    w = np.random.default_rng(6).standard_normal(6)
    [w] = opt.Newton().step([w], [q.grad(w)], q.hessian(w))
    np.testing.assert_allclose(w, q.c, rtol=1e-10, atol=1e-12)


def test_newton_is_attracted_by_a_saddle_saddle_free_is_not() -> None:
    """C = ½(w1² − w2²): Newton jumps onto the saddle at 0, saddle-free Newton moves away."""
    saddle = tr.Quadratic(np.diag([1.0, -1.0]), np.zeros(2))
    start = np.array([0.5, 0.1])
    newton = tr.run_trajectory(saddle, opt.Newton(), start, 1)
    np.testing.assert_allclose(newton.points[-1], 0.0, atol=1e-15)
    free = tr.run_trajectory(saddle, opt.SaddleFreeNewton(damping=0.0), start, 1)
    np.testing.assert_allclose(free.points[-1], [0.0, 0.2])  # w1 → 0, w2 doubles: downhill
    assert free.losses[-1] < free.losses[0]


def test_damped_newton_interpolates_between_newton_and_gd() -> None:
    q = random_quadratic(3, seed=7)
    w0 = np.ones(3)
    [w_small] = opt.DampedNewton(damping=1e-12).step([w0], [q.grad(w0)], q.hessian(w0))
    np.testing.assert_allclose(w_small, q.c, rtol=1e-8)
    [w_big] = opt.DampedNewton(damping=1e6, lr=1e6).step([w0], [q.grad(w0)], q.hessian(w0))
    np.testing.assert_allclose(w_big, w0 - q.grad(w0), rtol=1e-5)  # ≈ GD with η = lr/λ = 1


def test_newton_errors() -> None:
    w, g = np.ones(2), np.ones(2)
    with pytest.raises(ValueError, match="hessian="):
        opt.Newton().step([w], [g])
    with pytest.raises(ValueError, match=r"hessian must have shape \(2, 2\)"):
        opt.Newton().step([w], [g], np.eye(3))
    with pytest.raises(ValueError, match="one flat vector"):
        opt.Newton().step([np.ones((2, 2))], [np.ones((2, 2))], np.eye(4))
    with pytest.raises(ValueError, match="one flat vector"):
        opt.Newton().step([w, w.copy()], [g, g], np.eye(2))
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        opt.Newton().step([w], [g], np.zeros((2, 2)))


# --- runner ----------------------------------------------------------------------------------
def test_runner_records_points_and_losses() -> None:
    q = random_quadratic(2, seed=8)
    traj = tr.run_trajectory(q, opt.GradientDescent(0.5), [1.0, -1.0], 20)
    assert traj.points.shape == (21, 2) and traj.losses.shape == (21,)
    assert traj.steps_taken == 20 and not traj.diverged and traj.reason == "completed"
    np.testing.assert_allclose(traj.losses, q.value(traj.points))
    np.testing.assert_allclose(traj.points[1], traj.points[0] - 0.5 * q.grad(traj.points[0]))


@pytest.mark.parametrize(("lr", "bound", "reason"), [
    (5.0, 1e6, "bound exceeded"),
    (5.0, 1e300, "non-finite"),
])
def test_runner_stops_cleanly_on_divergence(lr: float, bound: float, reason: str) -> None:
    q = random_quadratic(2, seed=9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = tr.run_trajectory(q, opt.GradientDescent(lr), [1.0, 1.0], 10_000, bound=bound)
    assert traj.diverged and traj.reason.startswith(reason)
    assert traj.steps_taken < 10_000
    assert np.all(np.isfinite(traj.points)) and np.all(np.isfinite(traj.losses))


def test_runner_singular_hessian_stops() -> None:
    flat = tr.Quadratic(np.zeros((2, 2)), np.zeros(2))
    traj = tr.run_trajectory(flat, opt.Newton(), [1.0, 1.0], 5)
    assert traj.diverged and traj.reason == "singular Hessian" and traj.steps_taken == 0


def test_runner_noise_is_seeded_and_shared_between_methods() -> None:
    q = random_quadratic(2, seed=10)
    a = tr.run_trajectory(q, opt.GradientDescent(0.1), [1.0, 1.0], 30, noise_sigma=0.5, seed=3)
    b = tr.run_trajectory(q, opt.GradientDescent(0.1), [1.0, 1.0], 30, noise_sigma=0.5, seed=3)
    c = tr.run_trajectory(q, opt.GradientDescent(0.1), [1.0, 1.0], 30, noise_sigma=0.5, seed=4)
    np.testing.assert_array_equal(a.points, b.points)
    assert not np.allclose(a.points, c.points)


def test_runner_resets_the_optimizer() -> None:
    q = random_quadratic(2, seed=11)
    o = opt.Momentum(0.1, 0.9)
    a = tr.run_trajectory(q, o, [1.0, 1.0], 10)
    b = tr.run_trajectory(q, o, [1.0, 1.0], 10)
    np.testing.assert_array_equal(a.points, b.points)


# --- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(("make", "match"), [
    (lambda: opt.GradientDescent(0.0), "lr must be finite and > 0, got 0.0"),
    (lambda: opt.GradientDescent(-1), "lr must be finite and > 0, got -1"),
    (lambda: opt.GradientDescent(float("nan")), "lr must be finite"),
    (lambda: opt.Momentum(0.1, momentum=1.0), r"momentum must be in \[0, 1\), got 1.0"),
    (lambda: opt.Momentum(0.1, momentum=-0.1), r"momentum must be in \[0, 1\)"),
    (lambda: opt.Momentum(0.1, momentum=1.5, nesterov=True), r"momentum must be in \[0, 1\)"),
    (lambda: opt.Adam(betas=(0.9, 1.0)), r"betas\[1\] must be in \[0, 1\)"),
    (lambda: opt.Adam(betas=(0.9,)), "betas must be a pair"),
    (lambda: opt.RMSprop(alpha=1.2), r"alpha must be in \[0, 1\)"),
    (lambda: opt.Adadelta(rho=-0.5), r"rho must be in \[0, 1\)"),
    (lambda: opt.Adagrad(eps=0.0), "eps must be finite and > 0"),
    (lambda: opt.DampedNewton(damping=-1.0), "damping must be finite and >= 0"),
    (lambda: opt.make_optimizer("sgd2", lr=0.1), "name must be one of"),
])
def test_bad_hyper_parameters(make, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_hyper_parameter_types() -> None:
    with pytest.raises(TypeError, match="lr must be a real number"):
        opt.GradientDescent("fast")
    o = opt.GradientDescent(0.1)
    with pytest.raises(ValueError, match="lr must be finite and >= 0"):
        o.lr = -0.1
    o.lr = 0.0  # a schedule may anneal to zero
    [w] = o.step([np.ones(2)], [np.ones(2)])
    np.testing.assert_array_equal(w, 1.0)


@pytest.mark.parametrize(("params", "grads", "error", "match"), [
    ([np.ones(3)], [np.ones(2)], ValueError, r"grads\[0\] must have the shape of params\[0\]"),
    ([np.ones(3)], [np.ones(3), np.ones(3)], ValueError, "same length"),
    (np.ones(3), np.ones(3), TypeError, "lists of arrays"),
    ([np.ones(3, dtype=int)], [np.ones(3)], TypeError, r"params\[0\] must be a float numpy"),
    ([[1.0, 2.0]], [[1.0, 1.0]], TypeError, r"params\[0\] must be a float numpy"),
])
def test_bad_step_arguments(params, grads, error, match: str) -> None:
    with pytest.raises(error, match=match):
        opt.Momentum(0.1).step(params, grads)


def test_changed_shape_needs_reset() -> None:
    o = opt.Momentum(0.1)
    o.step([np.ones(3)], [np.ones(3)])
    with pytest.raises(ValueError, match=r"changed shape.*reset\(\)"):
        o.step([np.ones(4)], [np.ones(4)])
    o.reset()
    o.step([np.ones(4)], [np.ones(4)])


def test_every_step_checks_its_arguments() -> None:
    w, g = np.ones(3), np.full(3, 2.0)
    o = opt.GradientDescent(0.5)
    for _ in range(2):
        w = o.step([w], [g])[0]
    np.testing.assert_array_equal(w, [-1.0, -1.0, -1.0])
    with pytest.raises(ValueError, match=r"grads\[0\] must have the shape"):
        o.step([w], [np.ones(4)])
    [w] = o.step([w], [g.tolist()])           # a list is converted to θ's dtype
    np.testing.assert_array_equal(w, [-2.0, -2.0, -2.0])


def test_registry_names_every_optimiser_once_and_its_torch_twin_steps_alike() -> None:
    names = [entry.name for entry in opt.OPTIMIZERS.values()]
    assert len(set(names)) == len(names)
    q = random_quadratic(3, seed=12)
    for key in opt.OPTIMIZERS:
        o = opt.make_optimizer(key, **({"damping": 0.1} if "damped" in key or "free" in key
                                       else {} if key == "newton" else {"lr": 0.05}))
        if o.torch_name is None:
            assert o.needs_hessian
            with pytest.raises(TypeError, match=f"got {type(o).__name__}"):
                o.to_torch([torch.zeros(3)])
            continue
        w = np.linspace(-1.0, 1.0, 3)
        t = torch.tensor(w, requires_grad=True)
        twin = o.to_torch([t])
        assert twin.defaults["lr"] == o.lr
        for k in range(20):
            [w] = o.step([w], [q.grad(w)])
            twin.zero_grad()
            t.grad = torch.from_numpy(q.grad(t.detach().numpy()))
            twin.step()
            np.testing.assert_allclose(w, t.detach().numpy(), rtol=1e-10, atol=1e-14,
                                       err_msg=f"{key}: step {k + 1}")
    assert opt.OPTIMIZERS["nesterov"].make(lr=0.1).nesterov


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"start": [np.nan, 1.0]}, "start must be finite"),
    ({"start": [np.inf, 1.0]}, "start must be finite"),
    ({"start": [[1.0, 1.0]]}, "start must be a flat vector"),
    ({"start": [2e6, 0.0]}, "start must lie within bound"),
    ({"steps": -1}, "steps must be an integer >= 0"),
    ({"noise_sigma": -0.1}, "noise_sigma must be finite and >= 0"),
    ({"bound": 0.0}, "bound must be finite and > 0"),
])
def test_runner_bad_arguments(kwargs: dict, match: str) -> None:
    q = random_quadratic(2)
    args = {"start": [1.0, 1.0], "steps": 5} | kwargs
    with pytest.raises(ValueError, match=match):
        tr.run_trajectory(q, opt.GradientDescent(0.1), **args)


def test_runner_wrong_types() -> None:
    with pytest.raises(TypeError, match="steps must be an integer >= 0"):
        tr.run_trajectory(random_quadratic(2), opt.GradientDescent(0.1), [1.0, 1.0], 2.5)


def test_quadratic_errors() -> None:
    with pytest.raises(ValueError, match=r"H must be a symmetric \(n, n\) matrix"):
        tr.Quadratic([[1.0, 2.0], [0.0, 1.0]], [0.0, 0.0])
    with pytest.raises(ValueError, match=r"c must have shape \(2,\)"):
        tr.Quadratic(np.eye(2), [0.0])


def test_repr_and_cost_protocol() -> None:
    assert repr(opt.Momentum(0.1, 0.5)) == "Momentum(lr=0.1, momentum=0.5, nesterov=False)"
    assert isinstance(random_quadratic(2), tr.Cost)


def test_momentum_sweep_matches_the_runner_cell_by_cell() -> None:
    cost = tiny_ii()
    etas, alphas, start = [0.05, 0.25, 0.35, 0.9], [0.0, 0.5, 0.9], [0.5, 1.5]
    final = tr.momentum_sweep(cost, start, etas, alphas, 120)
    assert final.shape == (3, 4, 2)
    for i, alpha in enumerate(alphas):
        for j, eta in enumerate(etas):
            traj = tr.run_trajectory(cost, opt.Momentum(eta, alpha), start, 120)
            if traj.diverged:
                assert np.all(np.isnan(final[i, j]))
            else:
                np.testing.assert_allclose(final[i, j], traj.points[-1], rtol=1e-10)
    assert np.isnan(final).any() and not np.isnan(final).all()


def test_momentum_sweep_bad_arguments() -> None:
    q = random_quadratic(2)
    with pytest.raises(ValueError, match="etas must be finite and > 0"):
        tr.momentum_sweep(q, [1.0, 1.0], [0.1, 0.0], [0.5], 10)
    with pytest.raises(ValueError, match=r"alphas must be in \[0, 1\)"):
        tr.momentum_sweep(q, [1.0, 1.0], [0.1], [1.0], 10)
    with pytest.raises(ValueError, match="start must be finite"):
        tr.momentum_sweep(q, [np.nan, 1.0], [0.1], [0.5], 10)
