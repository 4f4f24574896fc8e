"""The Colab route: the setup cell of lecture_utils.course.colab and the tool that writes it.

Outside Colab the cell runs nothing. Its install command, run into a fresh venv that already
holds Colab-like torch, numpy, matplotlib and ipywidgets 7.7 (Colab has shipped 7.7.x), from
a local clone of the repository in place of GitHub, installs lecture_utils and upgrades or
replaces none of them; the project's widgets then build and react kernel-side under that
ipywidgets. The venv test downloads those versions from PyPI (marked ``registry``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from lecture_utils.course import colab

ROOT = Path(__file__).resolve().parents[2]
SYNC = ROOT / "scripts" / "sync_notebook_headers.py"
#: What a Colab runtime ships, at versions Colab has shipped (torch: the local CPU wheel).
COLAB_LIKE = ["torch==2.13.0", "numpy==2.0.2", "matplotlib==3.10.0", "ipywidgets==7.7.1",
              "pillow==11.1.0", "tqdm==4.67.1", "pooch==1.8.2"]


def run_cell(monkeypatch: pytest.MonkeyPatch, in_colab: bool) -> list[list[str]]:
    """Execute the cell's text; return the commands it would run (none are run)."""
    calls: list[list[str]] = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append(cmd))
    if in_colab:
        monkeypatch.setitem(sys.modules, "google.colab", object())
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(colab.cell_source("https://github.com/owner/repo"), {})
    return calls


def test_cell_does_nothing_outside_colab(monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_cell(monkeypatch, in_colab=False) == []


def test_cell_in_colab_installs_the_pinned_ref_then_fetches_mnist(
        monkeypatch: pytest.MonkeyPatch) -> None:
    pip, fetch = run_cell(monkeypatch, in_colab=True)
    assert pip == [sys.executable, "-m", "pip",
                   *colab.install_args("https://github.com/owner/repo")]
    assert pip[-1] == f"lecture-utils @ git+https://github.com/owner/repo@{colab.REF}"
    assert "--upgrade" not in pip and "-U" not in pip, "must keep what Colab ships"
    assert fetch == [sys.executable, "-m", "lecture_utils", "fetch-data"]


def test_every_notebook_of_both_editions_has_its_header() -> None:
    result = subprocess.run([sys.executable, str(SYNC), "--check"], capture_output=True,
                            text=True)
    assert result.returncode == 0, (
        f"{result.stdout}{result.stderr}run `python scripts/sync_notebook_headers.py`")


def test_sync_tool_writes_the_header_once(tmp_path: Path) -> None:
    copies = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb"))[:2]:
        copies.append(tmp_path / path.name)
        nb = nbformat.read(path, as_version=4)  # without its header, as before the first sync
        nb.cells = [c for c in nb.cells if colab.TAG not in c.metadata.get("tags", [])]
        nb.cells[0].source = "\n".join(line for line in nb.cells[0].source.split("\n")
                                       if "colab-badge.svg" not in line)
        nbformat.write(nb, copies[-1])
    check = [sys.executable, str(SYNC), "--check", *map(str, copies)]
    originals = {p.name: nbformat.read(p, as_version=4) for p in copies}
    subprocess.run([sys.executable, str(SYNC), *map(str, copies)], check=True, cwd=tmp_path)
    assert subprocess.run(check, capture_output=True).returncode == 0
    once = [p.read_text() for p in copies]
    subprocess.run([sys.executable, str(SYNC), *map(str, copies)], check=True, cwd=tmp_path)
    assert [p.read_text() for p in copies] == once, "a second run changed a notebook"
    for path in copies:
        nb, before = nbformat.read(path, as_version=4), originals[path.name]
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code[0].metadata["tags"] == [colab.TAG]
        assert code[0].source.startswith("# Colab setup") and "@" + colab.REF in code[0].source
        title = nb.cells[0].source.split("\n")
        assert title[0] == before.cells[0].source.split("\n")[0], "the heading stays first"
        assert f"blob/{colab.REF}/notebooks/student/{path.name}" in title[1]
        assert f"urlpath=lab/tree/notebooks/student/{path.name}" in title[1]
        assert [c.source for c in nb.cells[2:]] == [c.source for c in before.cells[1:]]


def pip_list(python: Path) -> dict[str, str]:
    out = subprocess.run([str(python), "-m", "pip", "list", "--format", "json"], check=True,
                         capture_output=True, text=True).stdout
    return {p["name"].lower(): p["version"] for p in json.loads(out)}


@pytest.fixture(scope="module")
def colab_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv holding COLAB_LIKE, then the cell's install from a local clone at colab.REF."""
    if shutil.which("git") is None:
        pytest.skip("git is needed to clone the repository")
    tmp = tmp_path_factory.mktemp("colab")
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(tmp / "venv")], check=True)
    python = tmp / "venv" / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *COLAB_LIKE], check=True, timeout=900)
    before = pip_list(python)
    clone = clone_of_working_tree(tmp / "clone")
    # file://localhost/...: the pip of Python 3.11's venv rejects a git+file:/// URL
    subprocess.run([str(python), "-m", "pip", *colab.install_args(f"file://localhost{clone}")],
                   check=True, timeout=900)
    after = pip_list(python)
    changed = {n: (v, after.get(n)) for n, v in before.items() if after.get(n) != v}
    assert not changed, f"the cell's install changed what Colab ships: {changed}"
    assert "lecture-utils" in after
    return python


def clone_of_working_tree(folder: Path) -> Path:
    """A git clone of the repository with the working tree's package and pyproject.toml
    committed and tagged colab.REF, so pip installs what would be pushed."""
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid"]
    subprocess.run([*git, "clone", "--quiet", str(ROOT), str(folder)], check=True)
    shutil.copy(ROOT / "pyproject.toml", folder / "pyproject.toml")
    shutil.rmtree(folder / "lecture_utils")
    shutil.copytree(ROOT / "lecture_utils", folder / "lecture_utils",
                    ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([*git, "-C", str(folder), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(folder), "commit", "--quiet", "--allow-empty", "-m", "tree"],
                   check=True)
    subprocess.run([*git, "-C", str(folder), "tag", "-f", colab.REF], check=True,
                   capture_output=True)
    return folder


DRIVE_WIDGETS = r'''
import ipywidgets
import numpy as np
import torch
from lecture_utils.figures import widgets as w

def parts(x):
    yield x
    for c in getattr(x, "children", ()):
        yield from parts(c)

def move_sliders(widget):
    """Move every enabled slider to another value; return how many moved."""
    moved = 0
    for part in list(parts(widget)):
        if isinstance(part, ipywidgets.widgets.widget_int._Int) or isinstance(
                part, ipywidgets.widgets.widget_float._Float):
            if part.disabled or not hasattr(part, "max"):
                continue
            old = part.value
            part.value = part.max if old != part.max else part.min
            assert part.value != old
            moved += 1
    return moved

def images(widget):
    return [p.value for p in parts(widget) if isinstance(p, ipywidgets.Image)]

rng = np.random.default_rng(0)
x = rng.normal(size=(60, 784)).astype(np.float32)
y = rng.integers(0, 10, size=60)
for build in (lambda: w.cross_entropy_decomposition(p=0.3, q=0.7),
              lambda: w.gradient_step_1d(eta=0.25),
              lambda: w.scaling_issue(w=(0.5, 0.5), c=2.0, eta=0.1),
              lambda: w.signal_propagation(x, y, width=16, depth=3, gain=1.2),
              lambda: w.optimizer_explorer(method="gd", eta=0.35, steps=20)):
    widget = build()
    first = images(widget)
    assert first and all(png[:4] == b"\x89PNG" for png in first), type(widget)
    assert move_sliders(widget) > 0, type(widget)
    assert images(widget) != first, f"{type(widget).__name__}: sliders moved, figure did not"

model = torch.nn.Sequential(torch.nn.Linear(784, 10))
comparison = w.optimizer_comparison(model, x, y, x[:20], y[:20])
button = next(p for p in parts(comparison) if isinstance(p, ipywidgets.Button))
status = next(p for p in parts(comparison) if isinstance(p, ipywidgets.Label))
button.click()
assert status.value == "done.", status.value
print("widgets ok under ipywidgets", ipywidgets.__version__)
'''


@pytest.mark.slow
@pytest.mark.registry
def test_widgets_work_under_colabs_ipywidgets(colab_venv: Path, tmp_path: Path) -> None:
    env = {**os.environ, "MPLBACKEND": "Agg", "LECTURE_UTILS_CACHE": str(tmp_path)}
    env.pop("PYTHONPATH", None)
    result = subprocess.run([str(colab_venv), "-c", DRIVE_WIDGETS], capture_output=True,
                            text=True, timeout=600, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "widgets ok under ipywidgets 7.7.1" in result.stdout
    assert "Exception in interact callback" not in result.stderr, result.stderr


def test_readme_table_opens_each_student_notebook_on_colab() -> None:
    readme = (ROOT / "README.md").read_text()
    repo = re.search(r"^\[repository\]: https://github\.com/(\S+)$", readme, re.M).group(1)
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        url = (f"https://colab.research.google.com/github/{repo}/blob/{colab.REF}"
               f"/notebooks/student/{path.name}")
        assert url in readme, f"README.md has no Colab badge for {path.name} at {colab.REF}"
