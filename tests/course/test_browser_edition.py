"""The browser edition: torch cells shown instead of run, everything else the student edition's."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from project_scripts import script

from lecture_utils.course import browser_edition as be
from lecture_utils.course.editions import complete_notebooks, student_notebook

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n not really a figure").decode()
#: Code that calls torch: such a cell must be tagged needs-torch.
TORCH_CODE = re.compile(r"^\s*(import torch|from torch)|\btorch\.|\bF\.|\bnn\.|\btt\.",
                        re.MULTILINE)


def _notebook() -> nbformat.NotebookNode:
    """Numpy, a torch cell with text and a figure, and numpy again that needs nothing of it."""
    cells = [
        nbformat.v4.new_markdown_cell("# 99 · A test\n\n## Numpy first"),
        nbformat.v4.new_code_cell("import numpy as np\n\nx = np.arange(4.0)\nprint(x.sum())"),
        nbformat.v4.new_markdown_cell("## Torch's view"),
        nbformat.v4.new_code_cell(
            "import torch\n\nt = torch.tensor(x)\nprint(f\"torch: {t.sum().item()}\")",
            metadata={"tags": [be.TAG]},
            outputs=[nbformat.v4.new_output("stream", text="torch: 6.0\n"),
                     nbformat.v4.new_output("display_data", data={"image/png": PNG},
                                            metadata={"image/png": {"alt": "A bar chart."}})]),
        nbformat.v4.new_code_cell("def double(v):\n    ### BEGIN SOLUTION\n    return 2 * v\n"
                                  "    ### END SOLUTION\n\n\nprint((x ** 2).sum())",
                                  outputs=[nbformat.v4.new_output("stream", text="14.0\n")]),
    ]
    for i, cell in enumerate(cells):
        cell.id = f"cell-{i}"
    return nbformat.v4.new_notebook(cells=cells)


def test_a_torch_cell_becomes_markdown_with_its_code_and_output() -> None:
    nb = _notebook()
    browser = be.browser_notebook(nb, "99_test.ipynb")
    shown = browser.cells[3]
    assert shown.cell_type == "markdown" and shown.id == "cell-3"
    assert be.needs_torch(shown)
    assert shown.source.startswith(be.NOTICE + "\n\n```python\nimport torch\n")
    assert "```\ntorch: 6.0\n```" in shown.source
    assert "![A bar chart.](attachment:figure-1.png)" in shown.source
    assert shown.attachments["figure-1.png"]["image/png"] == PNG
    nbformat.validate(browser)


def test_every_other_cell_is_the_student_editions() -> None:
    nb = _notebook()
    student, browser = student_notebook(nb), be.browser_notebook(nb)
    assert [c.id for c in browser.cells] == [c.id for c in student.cells]
    for s, b in zip(student.cells, browser.cells, strict=True):
        if not be.needs_torch(s):
            assert b == s
    assert "raise NotImplementedError()" in browser.cells[4].source  # the exercise's stub
    assert browser.cells[4].outputs == []


def test_showing_the_torch_cells_twice_changes_nothing() -> None:
    nb = _notebook()
    once = be.browser_notebook(nb)
    assert be.torch_cells_shown(once, {}) == once


def test_the_browser_edition_runs_where_torch_cannot_be_imported(tmp_path: Path) -> None:
    browser = be.browser_notebook(_notebook())
    code = [c.source for c in browser.cells if c.cell_type == "code"]
    script = textwrap.dedent("""
        import sys
        sys.modules["torch"] = None   # import torch fails, as in Pyodide
        cells = {code!r}
        namespace = {{}}
        for source in cells:
            exec(compile(source, "<cell>", "exec"), namespace)
    """).format(code=code)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["6.0", "14.0"]


def test_the_header_line_counts_the_torch_cells_by_section() -> None:
    nb = _notebook()
    assert be.header_line(nb) == (
        "In the browser edition (in the page, nothing installed) 1 cell needs PyTorch (section "
        "“Torch's view”): it shows its code and output; run it on Binder, Colab or a laptop.")
    nb.cells[3].metadata.tags = []
    assert be.header_line(nb).endswith("every cell runs.")


@pytest.mark.parametrize("path", complete_notebooks(), ids=lambda p: p.stem[:2])
def test_every_cell_that_calls_torch_is_tagged(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    untagged = [c.id for c in nb.cells if c.cell_type == "code" and not be.needs_torch(c)
                and TORCH_CODE.search(c.source)]
    assert not untagged, f"{path.name}: cells calling torch without the tag {be.TAG}: {untagged}"
    assert be.header_line(nb) in nb.cells[0].source, "run scripts/sync_notebook_headers.py"


def test_the_command_writes_every_notebook(tmp_path: Path) -> None:
    assert be.main([str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.glob("*.ipynb"))
    assert written == [p.name for p in complete_notebooks()]
    for path in tmp_path.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        assert not [c for c in nb.cells if c.cell_type == "code" and be.needs_torch(c)]


@pytest.mark.slow
@pytest.mark.parametrize("path", complete_notebooks(), ids=lambda p: p.stem[:2])
def test_every_browser_notebook_runs_top_to_bottom_without_torch(path: Path) -> None:
    """Run All over the browser edition in a kernel where ``import torch`` fails, as in Pyodide:
    no error output in any cell. (tests/project/test_lite.py runs notebooks in Pyodide itself;
    make test-browser-edition runs all eight there.)"""
    nb = be.browser_notebook(nbformat.read(path, as_version=4), path.name)
    nb.cells.insert(0, nbformat.v4.new_code_cell('import sys\nsys.modules["torch"] = None'))
    with script("execute_notebooks").notebook_client(nb, path.parent, allow_errors=True) as run:
        run.execute()
    errors = [f"{c.id}: {o.ename}: {o.evalue}" for c in nb.cells if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{path.name}: {errors}"
