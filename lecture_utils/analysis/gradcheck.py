"""Gradient checks: centred finite differences, relative errors, and torch autograd side by side.

A hand-written (analytic) gradient is trusted once it agrees with two independent references:

* centred differences  ∂f/∂x_i ≈ (f(x + ε e_i) − f(x − ε e_i)) / (2ε), error O(ε²);
* torch autograd in float64 (reverse mode, exact up to rounding).

Agreement is measured by the relative error |a − b| / max(|a|, |b|, tiny) (CS231n's
gradient-check recipe). :func:`check_gradients` works on one array, a list of arrays or a dict
of named arrays (the parameters of a network), and returns a :class:`GradientCheck` table that
prints with stable rounding (``print(table)``, or the last expression of a notebook cell).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lecture_utils._checks import integer, positive, torch_available

__all__ = [
    "GradientCheck",
    "GradientRow",
    "check_gradients",
    "max_relative_error",
    "numerical_gradient",
    "relative_error",
]

Params = np.ndarray | Sequence[np.ndarray] | Mapping[str, np.ndarray]


def relative_error(a: Any, b: Any, tiny: float = 1e-12) -> np.ndarray:
    """Elementwise |a − b| / max(|a|, |b|, tiny); ``tiny`` keeps 0 vs 0 at error 0."""
    tiny = positive("tiny", tiny)
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), tiny)


def max_relative_error(a: Any, b: Any, tiny: float = 1e-12) -> float:
    """The largest elementwise :func:`relative_error` of ``a`` and ``b`` (0 for empty arrays)."""
    err = relative_error(a, b, tiny)
    return float(err.max()) if err.size else 0.0


def _centred_difference(f: Callable[[], Any], x: np.ndarray, index: tuple[int, ...],
                        eps: float) -> float:
    """(f(x + ε e_i) − f(x − ε e_i)) / 2ε, perturbing ``x[index]`` in place and restoring it."""
    old = x[index]
    x[index] = old + eps
    plus = _scalar(f())
    x[index] = old - eps
    minus = _scalar(f())
    x[index] = old
    return (plus - minus) / (2 * eps)


def _scalar(value: Any) -> float:
    value = np.asarray(value, dtype=float)
    if value.size != 1:
        raise ValueError(f"f must return a scalar, got an array of shape {value.shape}")
    return float(value.reshape(-1)[0])


def numerical_gradient(f: Callable[[np.ndarray], Any], x: Any, eps: float = 1e-6) -> np.ndarray:
    """Centred finite-difference gradient of a scalar function ``f`` at ``x`` (any shape).

    g_i = (f(x + ε e_i) − f(x − ε e_i)) / (2ε), computed in float64; ``x`` is not modified.
    """
    eps = positive("eps", eps)
    x = np.array(x, dtype=float)  # a copy, perturbed in place
    grad = np.empty_like(x)
    for index in np.ndindex(x.shape):
        grad[index] = _centred_difference(lambda: f(x), x, index, eps)
    return grad


def _named_arrays(params: Params, names: Sequence[str] | None, what: str
                  ) -> tuple[list[str], list[np.ndarray]]:
    """Normalise one array / a sequence / a mapping of arrays to (names, float64 copies)."""
    if isinstance(params, Mapping):
        keys, arrays = list(params.keys()), list(params.values())
    elif isinstance(params, np.ndarray | float | int):
        keys, arrays = ["w"], [params]
    elif isinstance(params, Sequence) and not isinstance(params, str):
        keys, arrays = [f"p{i}" for i in range(len(params))], list(params)
    else:
        raise TypeError(f"{what} must be an array, a list of arrays or a dict of arrays, "
                        f"got {type(params).__name__}")
    if names is not None:
        if isinstance(params, Mapping):
            raise TypeError(f"names is for a list of arrays; a dict names its {what} by its keys")
        if len(names) != len(arrays):
            raise ValueError(f"names must have one entry per array ({len(arrays)}), "
                             f"got {len(names)}")
        keys = [str(n) for n in names]
    return [str(k) for k in keys], [np.array(a, dtype=float) for a in arrays]


def _rebuild(params: Params, keys: list[str], arrays: list[Any]) -> Any:
    """The structure of ``params`` filled with ``arrays`` (numpy or torch)."""
    if isinstance(params, Mapping):
        return dict(zip(params.keys(), arrays, strict=True))
    if isinstance(params, np.ndarray | float | int):
        return arrays[0]
    return list(arrays)


def _same_shapes(grads: list[np.ndarray], arrays: list[np.ndarray], what: str) -> None:
    if len(grads) != len(arrays):
        raise ValueError(f"{what} must have one gradient per parameter array ({len(arrays)}), "
                         f"got {len(grads)}")
    for g, a in zip(grads, arrays, strict=True):
        if g.shape != a.shape:
            raise ValueError(f"{what} must match the parameter shapes, got {g.shape} for {a.shape}")


def _autograd(torch_f: Callable[[Any], Any], params: Params, keys: list[str],
              arrays: list[np.ndarray]) -> list[np.ndarray]:
    import torch

    leaves = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = torch_f(_rebuild(params, keys, leaves))
    if not isinstance(out, torch.Tensor) or out.numel() != 1:
        raise ValueError("torch_f must return a scalar torch tensor")
    grads = torch.autograd.grad(out, leaves, allow_unused=True)
    return [np.zeros(a.shape) if g is None else g.detach().numpy() for g, a in zip(grads, arrays,
                                                                                  strict=True)]


@dataclass(frozen=True)
class GradientRow:
    """One row: a parameter entry (or a whole array, then values are norms, errors maxima)."""

    name: str
    analytic: dict[str, float]
    numeric: float
    autograd: float | None
    errors: dict[str, float]


@dataclass(frozen=True)
class GradientCheck:
    """Table of a gradient check; relative errors are against autograd if given, else numeric.

    ``print(check)`` gives fixed-width text, a notebook renders ``_repr_markdown_``. Errors
    below ``floor`` print as ``<1e-09`` and errors above ``rtol`` get a ``✗``, so the stored text
    is the same on every machine.
    """

    rows: tuple[GradientRow, ...]
    reference: str
    rtol: float = 1e-6
    floor: float = 1e-9
    norms: bool = False

    @property
    def max_errors(self) -> dict[str, float]:
        """The largest relative error of each column (e.g. {"analytic": 3e-11, "numeric": ...})."""
        columns = self.rows[0].errors.keys() if self.rows else []
        return {c: max(r.errors[c] for r in self.rows) for c in columns}

    @property
    def passed(self) -> dict[str, bool]:
        """Whether each compared column agrees with the reference to ``rtol``."""
        return {c: e <= self.rtol for c, e in self.max_errors.items()}

    def _cells(self) -> tuple[list[str], list[list[str]]]:
        first = self.rows[0]
        values = [*first.analytic, "numeric", *(["autograd"] if first.autograd is not None else [])]
        if self.norms:
            values = [f"‖{c}‖" for c in values]
        header = ["parameter", *values, *(f"err({c})" for c in first.errors)]
        body = []
        for r in self.rows:
            numbers = [*r.analytic.values(), r.numeric]
            numbers += [r.autograd] if r.autograd is not None else []
            body.append([r.name, *map(_fmt_value, numbers),
                         *(self._fmt_error(e) for e in r.errors.values())])
        return header, body

    def _fmt_error(self, e: float) -> str:
        text = f"<{self.floor:.0e}" if e < self.floor else f"{e:.1e}"
        return text + (" ✗" if e > self.rtol else "")

    def to_text(self) -> str:
        """Fixed-width text table plus one line naming the reference."""
        header, body = self._cells()
        widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
        lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True))
                 for row in [header, *body]]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join([*lines, self._footer()])

    def _footer(self) -> str:
        return (f"relative errors |a − b| / max(|a|, |b|) against {self.reference}; "
                f"✗ marks errors > {self.rtol:g}")

    def __str__(self) -> str:
        return self.to_text()

    def _repr_markdown_(self) -> str:
        header, body = self._cells()
        lines = ["| " + " | ".join(row) + " |" for row in [header, *body]]
        lines.insert(1, "|" + "---|" * len(header))
        return "\n".join([*lines, "", self._footer()])


def _fmt_value(v: float) -> str:
    """Six significant digits; values below 1e-9 in size (rounding noise) print as 0."""
    return f"{round(v, 9) + 0.0:.6g}"


def check_gradients(f: Callable[[Any], Any], params: Params,
                    analytic: Params | Mapping[str, Params],
                    torch_f: Callable[[Any], Any] | None = None, *, eps: float = 1e-6,
                    names: Sequence[str] | None = None, labels: Sequence[str] | None = None,
                    expand: bool | None = None, max_entries: int | None = None,
                    rng: np.random.Generator | None = None, rtol: float = 1e-6,
                    tiny: float = 1e-12) -> GradientCheck:
    """Compare hand-written gradients with centred differences and torch autograd, as a table.

    f: the cost as a function of ``params`` (same structure: an array, a list or a dict of
        arrays), returning a scalar.
    analytic: the hand-written gradient(s) with the structure of ``params``; or a dict
        ``{"slide": g1, "corrected": g2}`` to compare several candidates in one table.
    torch_f: the same cost written with torch operations (optional), called with float64
        tensors in the structure of ``params``; its gradient becomes the reference. Without
        torch (the browser edition) it is left out: the differences are the reference.
    names: names of the arrays of a list (default p0, p1, ...; a single array is "w").
    labels: row labels replacing the generated ones (e.g. ["w1", "w2"]).
    expand: one row per entry (default when at most 16 entries are checked) or one row per
        array (values are then norms ‖·‖ over the checked entries, errors the maximum).
    max_entries: check only this many random entries per array (drawn with ``rng``), for
        large networks; finite differences cost two evaluations of ``f`` per entry.
    rtol: the largest relative error that passes (marked ✗ above it).
    tiny: floor of the denominator of the relative error. Finite differences carry an
        absolute rounding error of about 1e-16·|f|/eps, so an entry whose true gradient is
        nearly 0 shows a large relative error; raise ``tiny`` to the size of that noise.
    """
    eps = positive("eps", eps)
    keys, arrays = _named_arrays(params, names, "params")
    is_candidates = isinstance(analytic, Mapping) and (
        not isinstance(params, Mapping) or set(analytic) != set(keys))
    candidates = dict(analytic) if is_candidates else {"analytic": analytic}
    analytic_arrays = {}
    for label, grads in candidates.items():
        if isinstance(params, Mapping):
            if not isinstance(grads, Mapping) or set(grads) != set(keys):
                raise ValueError(f"analytic must be a dict with the keys of params {keys}")
            grads = {k: grads[k] for k in params}  # the order of params
        _, grad_list = _named_arrays(grads, None, "analytic")
        _same_shapes(grad_list, arrays, "analytic")
        analytic_arrays[str(label)] = grad_list

    entries = _choose_entries(arrays, max_entries, rng)
    evaluate = lambda: f(_rebuild(params, keys, arrays))  # noqa: E731 - arrays perturbed in place
    numeric = [np.array([_centred_difference(evaluate, a, idx, eps) for idx in idxs])
               for a, idxs in zip(arrays, entries, strict=True)]
    auto = None
    if torch_f is not None and torch_available():
        full = _autograd(torch_f, params, keys, arrays)
        auto = [np.array([g[idx] for idx in idxs]) for g, idxs in zip(full, entries, strict=True)]
    picked = {label: [np.array([g[idx] for idx in idxs]) for g, idxs in zip(gl, entries,
                                                                            strict=True)]
              for label, gl in analytic_arrays.items()}

    n_checked = sum(len(idxs) for idxs in entries)
    if n_checked == 0:
        raise ValueError("params must contain at least one entry")
    expand = n_checked <= 16 if expand is None else expand
    rows = []
    for k, (key, a, idxs) in enumerate(zip(keys, arrays, entries, strict=True)):
        ref = auto[k] if auto is not None else numeric[k]
        columns = {label: picked[label][k] for label in picked}
        compared = dict(columns, **({"numeric": numeric[k]} if auto is not None else {}))
        if expand:
            for j, idx in enumerate(idxs):
                name = key if a.ndim == 0 else f"{key}[{', '.join(map(str, idx))}]"
                rows.append(GradientRow(
                    name, {c: float(v[j]) for c, v in columns.items()}, float(numeric[k][j]),
                    None if auto is None else float(auto[k][j]),
                    {c: float(relative_error(v[j], ref[j], tiny)) for c, v in compared.items()}))
        else:
            rows.append(GradientRow(
                key, {c: float(np.linalg.norm(v)) for c, v in columns.items()},
                float(np.linalg.norm(numeric[k])),
                None if auto is None else float(np.linalg.norm(auto[k])),
                {c: max_relative_error(v, ref, tiny) for c, v in compared.items()}))
    if labels is not None:
        if len(labels) != len(rows):
            raise ValueError(f"labels must have one entry per row ({len(rows)}), got {len(labels)}")
        rows = [GradientRow(str(lab), r.analytic, r.numeric, r.autograd, r.errors)
                for lab, r in zip(labels, rows, strict=True)]
    reference = "autograd" if auto is not None else "finite differences"
    return GradientCheck(tuple(rows), reference, rtol=rtol, norms=not expand)


def _choose_entries(arrays: list[np.ndarray], max_entries: int | None,
                    rng: np.random.Generator | None) -> list[list[tuple[int, ...]]]:
    """All indices of each array, or ``max_entries`` random ones (sorted) per array."""
    if max_entries is None:
        return [list(np.ndindex(a.shape)) for a in arrays]
    max_entries = integer("max_entries", max_entries, minimum=1)
    rng = np.random.default_rng(0) if rng is None else rng
    chosen = []
    for a in arrays:
        flat = np.sort(rng.choice(a.size, size=min(max_entries, a.size), replace=False))
        chosen.append([tuple(int(i) for i in np.unravel_index(j, a.shape)) for j in flat])
    return chosen
