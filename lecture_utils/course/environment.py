"""The environment check of notebook 00 and of ``python -m lecture_utils check``.

Two audiences: a student needs :data:`KEY_PACKAGES` (what the notebooks import); only an
instructor's checks need :data:`INSTRUCTOR_PACKAGES`, so their absence is a note, not a failure.
The advice for a missing package fits where the check runs (:func:`where`): Colab, Binder, a
laptop with ``make`` or one without, or the browser edition (Pyodide, in the page), which has
no torch, JupyterLab or pooch and needs none of them (:data:`NOT_IN_BROWSER`). Paths are
printed relative to the project or with ``~``.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

#: Distributions the notebooks need, with what each is for (the student set).
KEY_PACKAGES: dict[str, str] = {
    "numpy": "arrays",
    "matplotlib": "figures",
    "torch": "autograd, the oracle for hand-written gradients",
    "ipywidgets": "sliders",
    "jupyterlab": "the notebook interface",
    "pooch": "MNIST download with checksums",
    "tqdm": "progress bars",
}

#: Distributions only the instructors' checks need (``make test``): never a student's failure.
INSTRUCTOR_PACKAGES: dict[str, str] = {
    "nbval": "re-runs the notebooks against their stored outputs",
    "pytest": "runs the tests",
    "playwright": "drives JupyterLab in a browser (the browser test)",
}

#: Key packages the browser edition does without, and why that is fine there.
NOT_IN_BROWSER: dict[str, str] = {
    "torch": "none exists for WebAssembly: the cells that need it say so",
    "jupyterlab": "JupyterLite runs the notebook in the page",
    "pooch": "MNIST comes from the site itself",
}

#: The folder holding pyproject.toml when lecture_utils runs from the project (not in Colab).
PROJECT = Path(__file__).resolve().parents[2]

#: Where the check may run; each gets its own advice.
PLACES = ("colab", "binder", "make", "pip", "browser")


@dataclass(frozen=True)
class Row:
    """One line of the check: what, its state, and whether it is fine."""

    name: str
    state: str
    ok: bool


def where() -> str:
    """``"colab"``, ``"binder"``, ``"browser"`` (Pyodide: the browser edition), ``"make"`` (a
    project folder with a Makefile and ``make`` on the PATH) or ``"pip"`` (anything else:
    Windows without make, a bare install)."""
    if sys.platform == "emscripten":
        return "browser"
    if "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ:
        return "colab"
    if "BINDER_LAUNCH_HOST" in os.environ or "BINDER_REPO_URL" in os.environ:
        return "binder"
    if (PROJECT / "Makefile").is_file() and shutil.which("make"):
        return "make"
    return "pip"


def install_advice(place: str, *, instructor: bool = False) -> str:
    """How to install what is missing, for a student (or an instructor's tools) at ``place``."""
    if instructor:
        return {"make": "`make test` installs them",
                "pip": "`python -m pip install -r requirements/dev.txt` installs them"}.get(
            place, "they run on an instructor's machine, not here")
    return {
        "colab": "run the notebook's first cell (the Colab setup), then this cell again",
        "binder": "this Binder image is incomplete: launch it again from the README's badge",
        "make": "run `make lab` in the project folder",
        "pip": "run `python -m pip install -r requirements/student.txt` and "
               "`python -m pip install --no-deps -e .` in the project folder (README, Windows)",
        "browser": "reload the page; if it stays missing, open the notebook on Binder or Colab",
    }[place]


def short_path(text: str) -> str:
    """``text`` with paths inside the project relative to it, the home folder as ``~`` and the
    folder named by ``LECTURE_MNIST_DIR`` as that variable."""
    end = r"(?=$|[\s'\")\]:,;])"
    mnist = os.environ.get("LECTURE_MNIST_DIR", "").rstrip(os.sep)
    if mnist and os.path.isabs(mnist):
        text = re.sub(re.escape(mnist) + end, "$LECTURE_MNIST_DIR", text)
    if (PROJECT / "pyproject.toml").is_file():
        text = text.replace(str(PROJECT) + os.sep, "")
        text = re.sub(re.escape(str(PROJECT)) + end, ".", text)
    return re.sub(re.escape(str(Path.home())) + rf"(?={re.escape(os.sep)}|{end[3:-1]})", "~", text)


def package_rows(place: str | None = None) -> list[Row]:
    """Python and each key package (a missing one fails, with advice), then the instructors'
    tools (a missing one is only a note)."""
    place = place or where()
    rows = [Row("python", f"{platform.python_version()} ({short_path(sys.executable)})", True)]
    for name in KEY_PACKAGES:
        version = installed(name)
        if not version and place == "browser" and name in NOT_IN_BROWSER:
            rows.append(Row(name, f"not in the browser edition ({NOT_IN_BROWSER[name]})", True))
            continue
        rows.append(Row(name, version or f"missing: {install_advice(place)}", bool(version)))
    absent = [name for name in INSTRUCTOR_PACKAGES if not installed(name)]
    for name in INSTRUCTOR_PACKAGES:
        version = installed(name)
        rows.append(Row(name, version or "not installed (only instructors' checks use it)", True))
    if absent and place in ("make", "pip"):
        rows.append(Row("note", f"the instructors' tools: {install_advice(place, instructor=True)}",
                        True))
    return rows


def installed(name: str) -> str | None:
    """The installed version of distribution ``name``, or None."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def data_row() -> Row:
    """Where MNIST was found (no network is used), or what to do to get it."""
    from lecture_utils.data import mnist as data

    status = data.mnist_status(verify=True)
    return Row("MNIST", short_path(str(status).removeprefix("MNIST: ")), status.ok)


def threads_row() -> Row:
    """How many threads numpy's BLAS and torch use (``setup()`` chooses them), and why."""
    from lecture_utils.course import threads

    return Row("threads", threads.describe(), True)


def report(place: str | None = None) -> list[Row]:
    """Every row of the environment check."""
    return [*package_rows(place), data_row(), threads_row()]


def format_report(rows: list[Row]) -> str:
    """The rows as an aligned text table with a verdict line."""
    width = max(len(r.name) for r in rows)
    lines = [f"{'ok' if r.ok else '!!'}  {r.name:<{width}}  {r.state}" for r in rows]
    bad = [r.name for r in rows if not r.ok]
    lines.append("All set." if not bad else f"To fix: {', '.join(bad)}.")
    return "\n".join(lines)
