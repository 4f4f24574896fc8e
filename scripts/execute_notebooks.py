"""Re-execute notebooks top to bottom with the project's kernel and store reproducible outputs.

Usage:
    python scripts/execute_notebooks.py [notebooks/NN_x.ipynb ...]    (default: all, in order)
    python scripts/execute_notebooks.py --check-stable [notebooks/NN_x.ipynb ...]

The stored notebook holds nothing that changes from run to run of an unchanged notebook:
no execution timestamps (``record_timing=False``, ``metadata.execution`` stripped), kernel
metadata without the Python version, widget model ids renumbered in order of appearance,
printed text in one output per stream (the kernel's split into messages depends on timing),
and no progress bars (tqdm's outputs are dropped from what is stored; students still see the
bars live, and nbval ignores them because the cells that train are ``# NBVAL_IGNORE_OUTPUT``).
Executing twice in a row therefore leaves ``git diff`` empty outside the cells marked
``# NBVAL_IGNORE_OUTPUT``. ``--check-stable`` proves it: it executes each notebook twice
(nothing is written) and prints the changed lines outside those cells.

A run fails loudly rather than hangs (:func:`notebook_client`, :func:`watchdog`): it needs no
terminal or standard input, so ``make outputs`` and CI behave the same as a run by hand.
"""

from __future__ import annotations

import difflib
import faulthandler
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client import KernelManager
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from notebook_hygiene import PROGRESS_BAR

ROOT = Path(__file__).resolve().parent.parent
CELL_TIMEOUT_S = 900     # a cell that runs longer has hung: CellTimeoutError names it
STARTUP_TIMEOUT_S = 120  # seconds the new kernel has to answer its first request
IOPUB_TIMEOUT_S = 30     # a cell's last output must arrive this soon after its reply
NOTEBOOK_LIMIT_S = 1800  # a whole notebook run (the watchdog's limit; the target is 45 s)
IGNORE_MARKER = "# NBVAL_IGNORE_OUTPUT"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
}


def is_progress_bar(output: nbformat.NotebookNode) -> bool:
    """A tqdm bar: its notebook widget (text form ``42%|####  | ...``) or its stderr text."""
    text = output.get("data", {}).get("text/plain", "") if "data" in output else (
        output.get("text", "") if output.get("name") == "stderr" else "")
    return bool(PROGRESS_BAR.search("".join(text)))


def coalesce_streams(outputs: list) -> list:
    """Join consecutive stdout (or stderr) outputs into one: how the kernel splits a cell's
    printed text into messages depends on timing, the text itself does not."""
    merged: list = []
    for output in outputs:
        last = merged[-1] if merged else None
        if (output.output_type == "stream" and last is not None
                and last.output_type == "stream" and last.name == output.name):
            last.text = "".join(last.text) + "".join(output.text)
        else:
            merged.append(output)
    return merged


def normalise(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop per-run metadata and progress bars, renumber widget model ids (in place)."""
    nb.metadata.pop("widgets", None)  # widget state is per run; nbval never compares it
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = dict(LANGUAGE_INFO)
    ids: dict[str, str] = {}
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if "outputs" in cell:
            cell.outputs = coalesce_streams([o for o in cell.outputs if not is_progress_bar(o)])
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view and "model_id" in view:
                view["model_id"] = ids.setdefault(view["model_id"], f"{len(ids) + 1:032x}")
    return nb


@contextmanager
def notebook_client(nb: nbformat.NotebookNode, folder: Path, *, timeout: int = CELL_TIMEOUT_S,
                    km: KernelManager | None = None, **options: Any) -> Iterator[NotebookClient]:
    """An nbclient ``NotebookClient`` for ``nb`` (kernel started in ``folder``) that fails
    loudly instead of waiting for ever; call its ``execute()`` inside the ``with`` block.

    - each cell has ``timeout`` seconds, the kernel ``STARTUP_TIMEOUT_S`` to start, and a cell's
      outputs must all have arrived ``IOPUB_TIMEOUT_S`` after its reply (nbclient's default
      only warns and stores the notebook without them);
    - the kernel talks over Unix sockets in a private folder (``transport="ipc"``) instead of
      TCP ports on 127.0.0.1: jupyter_client picks free ports before the kernel binds them,
      so a kernel started at the same moment by another run on the machine (nbval, a lab, a
      second runner) can take one of them first and this kernel fails to start.

    ``km``: a kernel manager of your own (e.g. another environment's kernel spec; default
    this Python's ``python3``); its kernel is shut down at the end of the block (nbclient
    leaves a kernel it was given running). ``options`` go to ``NotebookClient``.
    """
    sockets = tempfile.mkdtemp(prefix="nbclient-")
    km = KernelManager(kernel_name="python3") if km is None else km
    km.transport, km.ip = "ipc", str(Path(sockets) / "kernel")
    try:
        yield NotebookClient(nb, km=km, timeout=timeout, startup_timeout=STARTUP_TIMEOUT_S,
                             iopub_timeout=IOPUB_TIMEOUT_S, raise_on_iopub_timeout=True,
                             resources={"metadata": {"path": str(folder)}}, **options)
    finally:
        if km.has_kernel:
            km.shutdown_kernel(now=True)
        shutil.rmtree(sockets, ignore_errors=True)


@contextmanager
def watchdog(seconds: float) -> Iterator[None]:
    """Exit this process with status 1 and every thread's traceback on stderr if the ``with``
    block takes longer than ``seconds``: the last resort against a hang outside a cell
    (kernel start, shutdown), which nbclient's timeouts do not bound."""
    faulthandler.dump_traceback_later(seconds, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def run(path: Path, timeout: int = CELL_TIMEOUT_S) -> nbformat.NotebookNode:
    """Execute ``path`` in its own folder with the current Python's kernel; return it normalised.

    ``timeout``: seconds a cell may take before the run fails.
    """
    nb = nbformat.read(path, as_version=4)
    with notebook_client(nb, path.parent, timeout=timeout, record_timing=False) as client:
        client.execute()
    return normalise(nb)


def execute(path: Path) -> float:
    """Run ``path`` and write its outputs back; returns the seconds taken."""
    start = time.perf_counter()
    nbformat.write(run(path), path)
    return time.perf_counter() - start


def compared_text(nb: nbformat.NotebookNode) -> list[str]:
    """The notebook's JSON lines with the outputs of ``# NBVAL_IGNORE_OUTPUT`` cells left out."""
    nb = nbformat.from_dict(nb)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.lstrip().startswith(IGNORE_MARKER):
            cell.outputs = []
    return nbformat.writes(nb).splitlines()


def unstable_lines(path: Path, timeout: int = CELL_TIMEOUT_S) -> list[str]:
    """Execute ``path`` twice; the diff lines (``+``/``-``) outside ignored cells."""
    first, second = compared_text(run(path, timeout)), compared_text(run(path, timeout))
    diff = difflib.unified_diff(first, second, "first run", "second run", lineterm="", n=0)
    return [line for line in diff
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def main(argv: list[str]) -> int:
    check = "--check-stable" in argv
    names = [a for a in argv if a != "--check-stable"]
    paths = [Path(a) for a in names] or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    failed = 0
    for path in paths:
        if check:
            with watchdog(2 * NOTEBOOK_LIMIT_S):
                lines = unstable_lines(path)
            failed += bool(lines)
            print(f"{path.name}: {len(lines)} changed lines outside ignored cells", flush=True)
            for line in lines[:40]:
                print(f"    {line[:160]}")
        else:
            print(f"{path.name}: running ...", flush=True)
            with watchdog(NOTEBOOK_LIMIT_S):
                seconds = execute(path)
            print(f"{path.name}: stored outputs ({seconds:.1f} s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
