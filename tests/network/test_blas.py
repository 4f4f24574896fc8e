"""``blas.add_matmul``: ``out += a @ b`` through numpy's own OpenBLAS, or numpy where it cannot.

Every case is checked against numpy's ``out + a @ b``, on the BLAS route and with the route
switched off (the numpy fallback a student gets with another BLAS), and ``MLP.sgd_step``
against ``loss_and_grads`` plus ``GradientDescent.step`` on a network large enough for the
route.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from lecture_utils import blas
from lecture_utils.network.mlp import MLP
from lecture_utils.optim.optimizers import GradientDescent

BLAS_CONFIG = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
WHEEL_OPENBLAS = (BLAS_CONFIG.get("name") == "scipy-openblas"
                  and "USE64BITINT" in BLAS_CONFIG.get("openblas configuration", ""))
ROUTES = ["numpy's OpenBLAS", "numpy only"]
TOL = {np.float32: dict(rtol=2e-6, atol=1e-4), np.float64: dict(rtol=1e-13, atol=1e-12)}


@pytest.fixture(params=ROUTES)
def route(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs on the BLAS route and on numpy's fallback (no gemm found)."""
    if request.param == "numpy only":
        monkeypatch.setattr(blas, "_GEMM", {})
    elif not blas._GEMM:
        pytest.skip(f"numpy's BLAS here is {BLAS_CONFIG.get('name')}: {blas.ROUTE}")
    return request.param


def calls_through_blas(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Record, for each call of ``add_matmul`` from now on, whether gemm took it."""
    taken: list[bool] = []
    real = blas._blas_add

    def spy(*args: np.ndarray) -> bool:
        taken.append(real(*args))
        return taken[-1]

    monkeypatch.setattr(blas, "_blas_add", spy)
    return taken


@pytest.mark.skipif(not WHEEL_OPENBLAS, reason="numpy here is not linked to its wheel's OpenBLAS")
def test_numpys_own_openblas_is_found_for_both_dtypes() -> None:
    assert set(blas._GEMM) == {np.dtype(np.float32), np.dtype(np.float64)}
    assert "OpenBLAS" in blas.ROUTE


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("orders", list(itertools.product("CF", repeat=3)),
                         ids=lambda o: "a{}-b{}-out{}".format(*o))
@pytest.mark.parametrize("shape", [(3, 4, 5), (300, 70, 260)], ids=["small", "large"])
def test_adds_the_product_for_every_memory_order(route: str, dtype: type, orders: tuple[str],
                                                 shape: tuple[int, int, int]) -> None:
    m, k, n = shape
    rng = np.random.default_rng(0)
    a, b, out = (np.asarray(rng.standard_normal(s), dtype=dtype, order=o)
                 for s, o in zip(((m, k), (k, n), (m, n)), orders, strict=True))
    expected = out + a @ b
    assert blas.add_matmul(a, b, out) is out
    np.testing.assert_allclose(out, expected, **TOL[dtype])


def test_a_large_product_goes_through_gemm(monkeypatch: pytest.MonkeyPatch) -> None:
    if not blas._GEMM:
        pytest.skip(blas.ROUTE)
    taken = calls_through_blas(monkeypatch)
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((256, 100), dtype=np.float32), rng.random((100, 784), np.float32)
    out = np.asfortranarray(rng.standard_normal((256, 784), dtype=np.float32))
    blas.add_matmul(a, b, out)
    blas.add_matmul(a[:2], b[:, :3], out[:2, :3].copy())   # fewer than SMALL numbers: numpy
    assert taken == [True]


def test_a_row_times_a_matrix_adds_into_a_vector(route: str) -> None:
    rng = np.random.default_rng(2)
    ones, delta, bias = np.ones(50), rng.standard_normal((50, 400)), rng.standard_normal(400)
    expected = bias + delta.sum(axis=0)
    blas.add_matmul(ones, delta, bias)
    np.testing.assert_allclose(bias, expected, rtol=1e-13)


@pytest.mark.parametrize("case", ["strided out", "strided a", "out is a", "mixed dtypes"])
def test_layouts_gemm_cannot_take_still_give_the_sum(route: str, case: str) -> None:
    rng = np.random.default_rng(3)
    big = rng.standard_normal((400, 400))         # every out below holds >= SMALL numbers
    a, b, out = big[:, :200].copy(), rng.standard_normal((200, 400)), big.copy()
    if case == "strided out":
        out = big[:, ::2]
        b = b[:, :200]
    elif case == "strided a":
        a = big[::2, :200]
        out = out[:200]
    elif case == "out is a":
        a, b, out = big, np.eye(400) * 0.5, big
    else:
        a = a.astype(np.float32)
    assert out.size >= blas.SMALL
    expected = out + a @ b
    blas.add_matmul(a, b, out)
    np.testing.assert_allclose(out, expected, rtol=1e-6 if case == "mixed dtypes" else 1e-13)


def test_mismatched_shapes_are_refused_like_matmul(route: str) -> None:
    a, b, out = np.ones((200, 100)), np.ones((90, 200)), np.ones((200, 200))
    with pytest.raises(ValueError, match="matmul"):
        blas.add_matmul(a, b, out)
    np.testing.assert_array_equal(out, 1.0)  # nothing was written


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_step_on_a_network_large_enough_for_gemm(route: str, dtype: type,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    fused = MLP([300, 256, 256, 10], rng=5, dtype=dtype)
    plain = fused.copy()
    rng = np.random.default_rng(6)
    x, y = rng.random((64, 300)), rng.integers(0, 10, 64)
    taken = calls_through_blas(monkeypatch)
    for _ in range(3):
        fused.sgd_step(x, y, 0.1)
        GradientDescent(0.1).step(plain.params, plain.loss_and_grads(x, y)[1])
    for name, p, q in zip(fused.names, fused.params, plain.params, strict=True):
        np.testing.assert_allclose(p, q, err_msg=name, **TOL[dtype])
    # the hidden layers' weights (256 x 300, 256 x 256) through gemm; the rest through numpy
    assert taken == ([True, True] * 3 if route == ROUTES[0] else [])
