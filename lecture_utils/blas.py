"""``out += a @ b`` as one BLAS call, through the very BLAS numpy uses.

A step of gradient descent on a layer is ``W ← W − η δᵀ h``: a product added into ``W``.
BLAS's ``gemm`` computes exactly that, ``C ← α A B + β C`` with ``β = 1``, but numpy's
``matmul`` only writes a product (``β = 0``), so in numpy alone the step costs a product into
a buffer and then a pass over ``W``: on 784-256-256-10 the buffer and the pass make an epoch
about 6 % slower (0.275 s against 0.260 s, ``bench/bench_mlp.py``).

numpy's wheels bundle one OpenBLAS (``scipy-openblas``, 64-bit integers, its symbols prefixed
``scipy_`` and suffixed ``64_``). :func:`add_matmul` calls that library's ``gemm`` through
``ctypes``, so the products share numpy's BLAS threads. A second BLAS in the same process
(scipy's own OpenBLAS, say) would keep threads of its own spinning beside numpy's, and the two
fight over the cores: an epoch of 0.28 s took over 10 s that way on two cores.

Where numpy uses another BLAS (Accelerate, MKL, a system OpenBLAS) or the library does not pass
a check on small matrices, :func:`add_matmul` is ``out += a @ b`` in numpy: the same result,
one temporary and one pass slower. :data:`ROUTE` says which one this process takes.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["ROUTE", "SMALL", "add_matmul"]

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112   # CBLAS enums
_Gemm = Callable[..., None]
SMALL = 1 << 16   # out smaller than this: numpy's product and one pass beat the ctypes call


def _numpy_openblas() -> ctypes.CDLL | None:
    """The OpenBLAS numpy's wheel bundles, if numpy uses it (64-bit integers); else None."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except (AttributeError, KeyError, TypeError):
        return None
    if blas.get("name") != "scipy-openblas" or "USE64BITINT" not in blas.get(
            "openblas configuration", ""):
        return None
    home = Path(np.__file__).parent
    for folder in (home.parent / "numpy.libs", home / ".dylibs"):   # Linux/Windows, macOS
        for path in sorted(folder.glob("*scipy_openblas64_*")):
            try:
                return ctypes.CDLL(str(path))   # already loaded by numpy: the same library
            except OSError:
                continue
    return None


def _gemm(lib: ctypes.CDLL, name: str, real: type[ctypes._SimpleCData]) -> _Gemm:
    """``cblas_?gemm(order, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)``."""
    gemm = getattr(lib, name)
    i64, ptr = ctypes.c_int64, ctypes.c_void_p
    gemm.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, i64, i64, i64,
                     real, ptr, i64, ptr, i64, real, ptr, i64]
    gemm.restype = None
    return gemm


def _operand(x: np.ndarray) -> tuple[int, int] | None:
    """``(trans, ld)`` of a 2-D operand read row by row (C order) or column by column."""
    if x.flags.c_contiguous:
        return _NO_TRANS, max(1, x.shape[1])
    if x.flags.f_contiguous:
        return _TRANS, max(1, x.shape[0])
    return None


def _blas_add(gemm: _Gemm, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> bool:
    """``out += a @ b`` by ``gemm`` for 2-D arrays whose layouts allow it; False if not."""
    if b.dtype != out.dtype or a.dtype != out.dtype or out.ndim != 2 or b.ndim != 2:
        return False
    if not out.flags.c_contiguous:                   # out column-major: out.T += b.T @ a.T
        if not out.flags.f_contiguous:
            return False
        a, b, out = b.T, a.T, out.T
    m, n = out.shape
    k = a.shape[1]
    op_a, op_b = _operand(a), _operand(b)
    if (op_a is None or op_b is None or a.shape != (m, k) or b.shape != (k, n) or k == 0
            or np.may_share_memory(out, a) or np.may_share_memory(out, b)):
        return False
    gemm(_ROW_MAJOR, op_a[0], op_b[0], m, n, k, 1.0, a.ctypes.data, op_a[1],
         b.ctypes.data, op_b[1], 1.0, out.ctypes.data, n)
    return True


def _routines() -> dict[np.dtype, _Gemm]:
    """``sgemm``/``dgemm`` of numpy's OpenBLAS, each checked against numpy on small matrices."""
    lib = _numpy_openblas()
    if lib is None:
        return {}
    found = {}
    rng = np.random.default_rng(0)
    for dtype, name, real in ((np.float32, "scipy_cblas_sgemm64_", ctypes.c_float),
                              (np.float64, "scipy_cblas_dgemm64_", ctypes.c_double)):
        try:
            gemm = _gemm(lib, name, real)
        except AttributeError:
            continue
        a, b, c = (rng.integers(-4, 5, shape).astype(dtype) for shape in ((3, 4), (4, 5), (3, 5)))
        ok = True
        for x, y, z in ((a, b, c), (a, np.asfortranarray(b), np.asfortranarray(c)),
                        (np.asfortranarray(a), b, c.copy())):
            expected = z + x @ y
            ok &= _blas_add(gemm, x, y, z) and np.array_equal(z, expected)
        if ok:
            found[np.dtype(dtype)] = gemm
    return found


_GEMM = _routines()
ROUTE = ("gemm of numpy's own OpenBLAS (β = 1)" if _GEMM
         else "numpy: out += a @ b (numpy's BLAS is not the OpenBLAS of its wheels)")


def add_matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out += a @ b`` in place (``gemm`` with ``β = 1``); returns ``out``.

    ``a`` of shape ``(m, k)`` or ``(k,)`` (a row, then ``out`` is ``(n,)``), ``b`` ``(k, n)``,
    all of one dtype. One BLAS call when :data:`ROUTE` is numpy's OpenBLAS, ``out`` holds at
    least ``SMALL`` numbers, every array is stored row by row or column by column without
    gaps, and ``out`` overlaps neither input. Otherwise numpy: ``a @ b`` into a temporary of
    ``out``'s layout, then one pass (for a row or a small ``out`` that is the faster way:
    the call through ``ctypes`` costs a few microseconds).
    """
    gemm = _GEMM.get(out.dtype)
    if gemm is not None and a.ndim == 2 and out.size >= SMALL and _blas_add(gemm, a, b, out):
        return out
    out += np.matmul(a, b, out=np.empty_like(out))
    return out
