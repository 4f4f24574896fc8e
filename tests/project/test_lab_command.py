"""The README's first command, ``make lab``, serves JupyterLab with every notebook.

Started headless on 127.0.0.1 with a free port and a random token (through ``LAB_ARGS``),
with Jupyter folders of its own; stopped (its whole process group) at the end.
"""

from __future__ import annotations

import shutil
import socket
import urllib.request
from pathlib import Path

import pytest
from jupyterlab_driver import ROOT, LabServer, running_lab, skip_or_fail_in_ci

pytestmark = pytest.mark.slow

START_NOTEBOOK = "00_start_here.ipynb"


def make_lab(options: list[str]) -> list[str]:
    """``make lab LAB_ARGS="<options>"``, the README's command with test options."""
    return ["make", "--no-print-directory", "lab", f"LAB_ARGS={' '.join(options)}"]


def test_make_lab_serves_every_notebook(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        skip_or_fail_in_ci("GNU make is needed for the README's commands")
    # The first run of `make lab` may install the pinned requirements (quick when installed).
    with running_lab(ROOT, tmp_path, command_for=make_lab, timeout=300) as lab:
        folder = notebooks_folder(lab)
        listed = {item["name"] for item in lab.api(f"contents/{folder}".rstrip("/"))["content"]}
        expected = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
        assert START_NOTEBOOK in expected, f"notebooks/{START_NOTEBOOK} is missing"
        assert expected <= listed, f"not served: {sorted(expected - listed)}"
        start = lab.api(f"contents/{folder}{START_NOTEBOOK}?content=0")
        assert start["type"] == "notebook", start
        assert_lab_page(lab)
        port = int(lab.url.rsplit(":", 1)[1].rstrip("/"))
    assert lab.process.poll() is not None, "JupyterLab still runs after being stopped"
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still answers"


def notebooks_folder(lab: LabServer) -> str:
    """Where the server shows notebooks/: "" when it serves that folder itself (``jupyter lab
    <file>`` serves the file's folder), "notebooks/" when it serves the repository."""
    root = lab.api("contents")["content"]
    return "notebooks/" if any(i["name"] == "notebooks" and i["type"] == "directory"
                              for i in root) else ""


def assert_lab_page(lab: LabServer) -> None:
    """The JupyterLab application page itself is served (not only the REST API)."""
    with urllib.request.urlopen(lab.lab_url(), timeout=10) as response:
        page = response.read().decode()
    assert response.status == 200 and "jupyter-config-data" in page, page[:500]
