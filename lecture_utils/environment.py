"""The environment check of notebook 00 and of ``python -m lecture_utils check``."""

from __future__ import annotations

import importlib.metadata
import platform
from dataclasses import dataclass
from pathlib import Path

#: Distributions the notebooks need, with what each is for.
KEY_PACKAGES: dict[str, str] = {
    "numpy": "arrays",
    "matplotlib": "figures",
    "torch": "autograd, the oracle for hand-written gradients",
    "ipywidgets": "sliders",
    "jupyterlab": "the notebook interface",
    "pooch": "MNIST download with checksums",
    "tqdm": "progress bars",
    "nbval": "the instructors' check",
}


@dataclass(frozen=True)
class Row:
    """One line of the check: what, its state, and whether it is fine."""

    name: str
    state: str
    ok: bool


def package_rows() -> list[Row]:
    """The installed version of each key package, or how to install it."""
    rows = [Row("python", platform.python_version(), True)]
    for name in KEY_PACKAGES:
        try:
            rows.append(Row(name, importlib.metadata.version(name), True))
        except importlib.metadata.PackageNotFoundError:
            rows.append(Row(name, "missing: run `make lab` or `pip install -e .[lab,test]`", False))
    return rows


def data_row() -> Row:
    """Where MNIST was found (no network is used), or what to do to get it."""
    from lecture_utils import data

    status = data.mnist_status(verify=True)
    state = str(status).removeprefix("MNIST: ").replace(str(Path.home()), "~")
    return Row("MNIST", state, status.ok)


def report() -> list[Row]:
    """Every row of the environment check."""
    return [*package_rows(), data_row()]


def format_report(rows: list[Row]) -> str:
    """The rows as an aligned text table with a verdict line."""
    width = max(len(r.name) for r in rows)
    lines = [f"{'ok' if r.ok else '!!'}  {r.name:<{width}}  {r.state}" for r in rows]
    bad = [r.name for r in rows if not r.ok]
    lines.append("All set." if not bad else f"To fix: {', '.join(bad)}.")
    return "\n".join(lines)
