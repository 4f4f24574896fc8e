"""Critical points, exact network Hessians, the index and GOE statistics
(lecture_utils.analysis.hessian)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from torch import nn

from lecture_utils.analysis import hessian as hz
from lecture_utils.analysis.tiny import TinyExampleII
from lecture_utils.optim.trajectories import Quadratic

TINY = TinyExampleII()


class _NoCriticalPoint:
    """C(w) = w³ + w: g = 3w² + 1 ≥ 1, so ‖g‖ has a minimum at w = 0 but g never vanishes."""

    def grad(self, w: np.ndarray) -> np.ndarray:
        return 3 * w**2 + 1

    def hessian(self, w: np.ndarray) -> np.ndarray:
        return np.array([[6.0 * w[0]]])


def test_tiny_ii_has_two_minima_and_a_saddle_at_the_origin() -> None:
    starts = np.random.default_rng(0).uniform(-2, 2, size=(30, 2))
    found = hz.critical_points(TINY, starts)
    a = math.sqrt(1.46)
    np.testing.assert_allclose([cp.point for cp in found], [[-a, -a], [0, 0], [a, a]],
                               atol=1e-10)
    assert [cp.kind for cp in found] == ["minimum", "saddle", "minimum"]
    np.testing.assert_allclose(found[0].eigenvalues, [0.16, 5.84], atol=1e-10)
    np.testing.assert_allclose(found[1].eigenvalues, [-2.92, 3.08], atol=1e-10)
    assert [cp.index for cp in found] == [0.0, 0.5, 0.0]
    assert all(cp.converged and cp.grad_norm <= 1e-10 for cp in found)


def test_newton_converges_in_few_steps_next_to_a_critical_point() -> None:
    cp = hz.find_critical_point(TINY, [0.1, -0.05])
    assert cp.converged and cp.kind == "saddle" and cp.iterations <= 8
    np.testing.assert_allclose(cp.point, 0.0, atol=1e-10)


@pytest.mark.parametrize(("H", "kind"), [([[2.0, 0.0], [0.0, 1.0]], "minimum"),
                                         ([[-1.0, 0.5], [0.5, -2.0]], "maximum"),
                                         ([[1.0, 2.0], [2.0, 1.0]], "saddle"),
                                         ([[1.0, 0.0], [0.0, 0.0]], "degenerate")])
def test_quadratic_critical_point_is_classified_by_eigenvalues(H: list, kind: str) -> None:
    q = Quadratic(H)
    cp = hz.find_critical_point(q, [0.7, -0.3] if kind != "degenerate" else [0.0, 0.3])
    assert cp.kind == kind
    np.testing.assert_allclose(cp.eigenvalues, np.linalg.eigvalsh(H))
    np.testing.assert_allclose(q.value(np.ones((4, 3, 2))), 0.5 * np.sum(H), rtol=1e-12)
    assert q.hessian(np.zeros((5, 2))).shape == (5, 2, 2)


def test_newton_reports_a_point_that_is_not_critical() -> None:
    cp = hz.find_critical_point(_NoCriticalPoint(), [1.0], max_iter=200)
    assert not cp.converged
    assert cp.grad_norm == pytest.approx(1.0, abs=1e-6)


def test_index_is_the_fraction_of_negative_eigenvalues() -> None:
    assert hz.index([-1.0, 2.0, 3.0, -4.0]) == 0.5
    assert hz.index([-1e-12, 1.0], tol=1e-9) == 0.0
    with pytest.raises(ValueError, match="eigenvalues must be a non-empty 1-D array"):
        hz.index([])
    with pytest.raises(ValueError, match="tol must be finite and >= 0, got -1"):
        hz.index([1.0], tol=-1)


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="start must be a flat vector"):
        hz.find_critical_point(TINY, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="max_iter must be an integer"):
        hz.find_critical_point(TINY, [0.0, 1.0], max_iter=-1)
    with pytest.raises(ValueError, match=r"H must be a symmetric \(n, n\) matrix"):
        Quadratic([[1.0, 2.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="starts must have shape"):
        hz.critical_points(TINY, np.zeros(2))


def _regression_cost(weight_decay: float) -> tuple[hz.NetworkCost, torch.Tensor, nn.Linear]:
    torch.manual_seed(0)
    x = torch.randn(40, 3, dtype=torch.float64)
    y = torch.randn(40, 2, dtype=torch.float64)
    model = nn.Linear(3, 2).double()
    return hz.NetworkCost(model, x, y, loss=nn.functional.mse_loss,
                          weight_decay=weight_decay), x, model


def test_network_hessian_of_linear_regression_matches_closed_form() -> None:
    cost, x, _ = _regression_cost(0.1)
    theta = np.random.default_rng(1).normal(size=cost.n_params)
    # mse over 2 outputs: C = Σ_n Σ_k (w_k·x̃_n − y_nk)² / (2N) + λ‖θ‖², x̃ = (x, 1);
    # θ = (W row-major, b): H = kron(I_2, X̃ᵀX̃ / N) rearranged + 2λ I
    xt = torch.cat([x, torch.ones(40, 1, dtype=torch.float64)], 1).numpy()
    block = xt.T @ xt / x.shape[0]  # per output k, Hessian w.r.t. (w_k, b_k)
    order = [0, 1, 2, 6, 3, 4, 5, 7]  # (w_1, b_1, w_2, b_2) -> θ = (W11..W13, W21..W23, b1, b2)
    expected = np.kron(np.eye(2), block)[np.ix_(np.argsort(order), np.argsort(order))]
    np.testing.assert_allclose(cost.hessian(theta), expected + 0.2 * np.eye(8), atol=1e-12)


def test_network_grad_matches_autograd_on_the_module_and_finite_differences() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3)).double()
    x, y = torch.randn(30, 4, dtype=torch.float64), torch.arange(30) % 3
    cost = hz.NetworkCost(model, x, y, weight_decay=0.01)
    assert cost.n_params == 4 * 5 + 5 + 5 * 3 + 3
    np.testing.assert_array_equal(cost.theta0,
                                  nn.utils.parameters_to_vector(model.parameters()).detach())
    loss = nn.functional.cross_entropy(model(x), y) + 0.01 * sum(
        p.square().sum() for p in model.parameters())
    loss.backward()
    direct = torch.cat([p.grad.reshape(-1) for p in model.parameters()]).numpy()
    np.testing.assert_allclose(cost.grad(cost.theta0), direct, rtol=1e-12, atol=1e-14)
    assert cost.value(cost.theta0) == pytest.approx(float(loss.detach()), rel=1e-14)
    # Hessian: symmetric, and its columns are centred differences of the gradient
    H, eps = cost.hessian(cost.theta0), 1e-6
    np.testing.assert_allclose(H, H.T, atol=1e-12)
    for j in (0, 7, 26, 42):
        e = np.zeros(cost.n_params)
        e[j] = eps
        fd = (cost.grad(cost.theta0 + e) - cost.grad(cost.theta0 - e)) / (2 * eps)
        np.testing.assert_allclose(H[:, j], fd, atol=1e-8)


def test_all_zero_initialisation_is_a_saddle_with_predicted_index() -> None:
    # Balanced classes: at θ = 0 every output is uniform, so ∇C = 0. The Hessian couples
    # W1 and W2 through M = E[(p − onehot) xᵀ] (rank K − 1): each hidden unit adds K − 1
    # negative eigenvalues, index = hidden·(K − 1)/n_params.
    torch.manual_seed(0)
    hidden, classes = 6, 4
    model = nn.Sequential(nn.Linear(5, hidden), nn.Tanh(), nn.Linear(hidden, classes)).double()
    x, y = torch.randn(80, 5, dtype=torch.float64), torch.arange(80) % classes
    cost = hz.NetworkCost(model, x, y, weight_decay=1e-4)
    zero = np.zeros(cost.n_params)
    assert np.linalg.norm(cost.grad(zero)) < 1e-15
    cp = hz.find_critical_point(cost, zero)
    assert cp.converged and cp.iterations == 0 and cp.kind == "saddle"
    assert cp.index == pytest.approx(hidden * (classes - 1) / cost.n_params)


def test_network_cost_rejects_bad_input() -> None:
    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module"):
        hz.NetworkCost("net", np.zeros((2, 2)), np.zeros(2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="same number of rows"):
        hz.NetworkCost(nn.Linear(2, 2), np.zeros((3, 2)), np.zeros(2, dtype=int))
    cost, _, _ = _regression_cost(0.0)
    with pytest.raises(ValueError, match=r"theta must have shape \(8,\)"):
        cost.grad(np.zeros(7))


def test_goe_entries_have_the_documented_variances() -> None:
    n, size = 5, 20_000
    H = hz.sample_goe(n, size, np.random.default_rng(0))
    np.testing.assert_array_equal(H, np.swapaxes(H, -1, -2))
    diag, off = H[:, 0, 0], H[:, 0, 1]
    # sample variance of N(0, s²) from N draws has standard error s²·√(2/N)
    assert diag.var() == pytest.approx(2 / n, abs=5 * (2 / n) * math.sqrt(2 / size))
    assert off.var() == pytest.approx(1 / n, abs=5 * (1 / n) * math.sqrt(2 / size))


@pytest.mark.parametrize(("n", "exact"), [(1, 0.5), (2, (2 - math.sqrt(2)) / 4)])
def test_prob_all_positive_matches_exact_small_n(n: int, exact: float) -> None:
    p, se = hz.prob_all_positive(n, 200_000, np.random.default_rng(n), chunk=50_000)
    assert se == pytest.approx(math.sqrt(exact * (1 - exact) / 200_000), rel=0.05)
    assert abs(p - exact) < 4 * se


def test_prob_all_positive_falls_faster_than_independent_signs() -> None:
    rng = np.random.default_rng(0)
    p = [hz.prob_all_positive(n, 100_000, rng)[0] for n in (1, 2, 3, 4)]
    assert all(a > b for a, b in itertools.pairwise(p))
    assert p[3] < 0.2 * 2.0**-4
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        hz.sample_goe(0, 3, rng)
    with pytest.raises(ValueError, match="samples must be an integer >= 1"):
        hz.prob_all_positive(2, 0, rng)


@pytest.mark.parametrize(("eigenvalues", "tol", "counts", "kind"), [
    ([1.0, 2.0], 1e-10, [0, 0, 2], "minimum"),
    ([-1.0, -2.0], 1e-10, [2, 0, 0], "maximum"),
    ([-1.0, 1e-12, 2.0], 1e-10, [1, 1, 1], "saddle"),
    ([2.0, -1e-12], 1e-10, [0, 1, 1], "degenerate"),
    ([2.0, -1e-12], 0.0, [1, 0, 1], "saddle"),
    ([0.0, 0.0], 1e-10, [0, 2, 0], "degenerate"),
])
def test_inertia_decides_the_kind(eigenvalues: list[float], tol: float, counts: list[int],
                                  kind: str) -> None:
    H = np.diag(eigenvalues)
    assert hz.inertia(H, tol).tolist() == counts
    assert hz.classify_critical_point(H, tol) == kind


def test_inertia_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="square"):
        hz.inertia(np.ones((2, 3)))
    with pytest.raises(ValueError, match="tol"):
        hz.inertia(np.eye(2), tol=-1.0)


def test_the_cholesky_count_is_the_eigenvalue_count() -> None:
    rng = np.random.default_rng(3)
    H = hz.sample_goe(4, 20_000, rng)
    p, _ = hz.prob_all_positive(4, 20_000, np.random.default_rng(3))
    assert p == np.mean(np.linalg.eigvalsh(H)[:, 0] > 0)
