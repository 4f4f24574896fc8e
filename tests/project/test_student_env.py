"""Every notebook a student opens runs top to bottom in the student's own environment.

``.venv-student`` holds the student lock (requirements/student.txt) and lecture_utils, nothing
else: ``make test`` builds it the way ``make lab`` builds a student's ``.venv``. nbclient runs
here, in the developers' venv; the kernel is the student venv's Python (a kernel spec of its
own), so a package missing from the student set fails here as it would on a student's laptop.
The student edition (notebooks/student/) is run when it exists, else the complete notebooks.
A cell fails the test with an error, a warning or anything else written to stderr; then
:func:`student_edition_checks.assert_student_outputs` checks the exercises' verdicts.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from jupyterlab_driver import skip_or_fail_in_ci
from project_scripts import script
from student_edition_checks import assert_student_outputs

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
executor = script("execute_notebooks")
STUDENT_PYTHON = ROOT / ".venv-student" / "bin" / "python"
#: Tools of the developer set that must not be in the student environment.
TEST_TOOLS = ("pytest", "nbval", "playwright", "jupyter-repo2docker", "docker", "hypothesis")
#: What `make test` sets for its other tests; a student's kernel has none of them.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def student_notebooks() -> list[Path]:
    """The notebooks a student opens: the student edition, or the complete one before it exists."""
    student = ROOT / "notebooks" / "student"
    return sorted((student if student.is_dir() else ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def student_python() -> Path:
    if not STUDENT_PYTHON.exists():
        skip_or_fail_in_ci("no .venv-student: `make test` builds it from requirements/student.txt")
    return STUDENT_PYTHON


@pytest.fixture(scope="module")
def kernel_specs(student_python: Path, tmp_path_factory: pytest.TempPathFactory
                 ) -> KernelSpecManager:
    """A kernel spec ``student`` that starts ipykernel with the student venv's Python."""
    folder = tmp_path_factory.mktemp("kernels")
    (folder / "student").mkdir()
    (folder / "student" / "kernel.json").write_text(json.dumps({
        "argv": [str(student_python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python (student set)", "language": "python"}))
    return KernelSpecManager(kernel_dirs=[str(folder)], ensure_native_kernel=False)


def test_student_venv_holds_no_test_tools(student_python: Path) -> None:
    code = ("import importlib.metadata as m, sys\n"
            "for n in sys.argv[1:]:\n"
            "    try: print(n, m.version(n))\n"
            "    except m.PackageNotFoundError: pass\n")
    found = subprocess.run([str(student_python), "-c", code, *TEST_TOOLS], check=True,
                           capture_output=True, text=True).stdout
    assert not found, f".venv-student holds developer tools:\n{found}"


@pytest.mark.parametrize("path", student_notebooks(), ids=lambda p: p.name)
def test_notebook_runs_in_the_student_environment(path: Path, kernel_specs: KernelSpecManager,
                                                  tmp_path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    # The threads a student gets: setup() chooses them, so the variables `make test` pins for
    # the other tests are cleared here.
    env = {**os.environ, "MPLBACKEND": "module://matplotlib_inline.backend_inline",
           "LECTURE_UTILS_CACHE": os.environ.get("LECTURE_UTILS_CACHE", str(tmp_path))}
    for name in ("PYTHONPATH", *THREAD_VARIABLES):
        env.pop(name, None)
    km = KernelManager(kernel_name="student", kernel_spec_manager=kernel_specs)
    with executor.notebook_client(nb, path.parent, km=km, allow_errors=False) as client:
        client.execute(env=env)  # raises CellExecutionError, naming the cell, on an error
    stderr = [f"cell {i + 1}: {out.text.strip()[:500]}"
              for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
              for out in cell.get("outputs", [])
              if out.output_type == "stream" and out.name == "stderr"]
    assert not stderr, f"{path.name} wrote to stderr (a warning?):\n" + "\n".join(stderr)
    assert_student_outputs(nb, path)
