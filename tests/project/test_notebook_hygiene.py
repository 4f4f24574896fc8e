"""Stored notebook outputs are reviewable: no machine paths, no progress bars, no run metadata,
and executing a notebook twice stores the same text outside the ``# NBVAL_IGNORE_OUTPUT`` cells.
"""

from __future__ import annotations

import base64
import shutil
import struct
from pathlib import Path

import nbformat
import pytest
from project_scripts import script

ROOT = Path(__file__).resolve().parents[2]


hygiene = script("notebook_hygiene")
executor = script("execute_notebooks")


@pytest.mark.parametrize("path", hygiene.notebooks(), ids=lambda p: str(p.relative_to(ROOT)))
def test_stored_outputs_are_clean(path: Path) -> None:
    assert hygiene.problems(path) == []


def _notebook(tmp_path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, path)
    return path


def test_checker_reports_paths_bars_and_timestamps(tmp_path: Path) -> None:
    path = _notebook(tmp_path, "x = 1")
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00Z"}
    nb.cells[0].outputs = [
        nbformat.v4.new_output("stream", text="data in /home/ada/mnist\n"),
        nbformat.v4.new_output("display_data", data={"text/plain": "C:\\Users\\ada"}),
        nbformat.v4.new_output("stream", name="stderr", text="  0%|          | 0/6000 [00:00<?]"),
    ]
    nbformat.write(nb, path)
    found = hygiene.problems(path)
    assert len(found) == 4, found
    assert hygiene.main([str(path)]) == 1
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="data in ~/mnist and ../data\n")]
    nb.cells[0].metadata.clear()
    nbformat.write(nb, path)
    assert hygiene.problems(path) == []


def test_checker_reports_figures_wider_than_the_column(tmp_path: Path) -> None:
    path = _notebook(tmp_path, "x = 1")
    nb = nbformat.read(path, as_version=4)

    def png(width: int) -> str:   # a PNG's signature and IHDR header: all the checker reads
        header = b"\x89PNG\r\n\x1a\n" + struct.pack(">I4sII", 13, b"IHDR", width, 400)
        return base64.b64encode(header + bytes(8)).decode()

    nb.cells[0].outputs = [nbformat.v4.new_output("display_data", data={"image/png": png(w)})
                           for w in (hygiene.MAX_FIGURE_WIDTH, hygiene.MAX_FIGURE_WIDTH + 1)]
    nbformat.write(nb, path)
    found = hygiene.problems(path)
    assert len(found) == 1 and f"{hygiene.MAX_FIGURE_WIDTH + 1} pixels wide" in found[0], found


def test_execution_stores_no_per_run_state(tmp_path: Path) -> None:
    """Timestamps, widget ids and tqdm bars are what change between two runs."""
    path = _notebook(
        tmp_path,
        "import ipywidgets\nipywidgets.IntSlider(3)",
        "from tqdm.auto import tqdm\nfor _ in tqdm(range(3)):\n    pass\nprint('done')",
        "# NBVAL_IGNORE_OUTPUT\nimport time\nprint(time.time())",
    )
    first = executor.run(path, timeout=60)
    assert executor.unstable_lines(path, timeout=60) == []
    text = nbformat.writes(first)
    assert '"execution"' not in text and '"version"' not in first.metadata.language_info
    assert first.cells[0].outputs[0].data[executor.WIDGET_VIEW]["model_id"] == f"{1:032x}"
    assert first.cells[1].outputs == [nbformat.v4.new_output("stream", text="done\n")]


def test_a_lecture_notebook_is_stable(tmp_path: Path) -> None:
    """Notebook 02 (a few seconds) executed twice: no changed line outside ignored cells."""
    copy = tmp_path / "02.ipynb"
    shutil.copy(ROOT / "notebooks" / "02_tiny_examples_and_backprop.ipynb", copy)
    assert executor.unstable_lines(copy, timeout=120) == []
