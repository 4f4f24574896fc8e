"""Re-execute notebooks top to bottom with the project's kernel and store their outputs.

Usage: python scripts/execute_notebooks.py [notebooks/NN_x.ipynb ...]   (default: all, in order)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def execute(path: Path) -> float:
    """Run ``path`` in its own folder with the current Python's kernel; write outputs back."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    nb.metadata.pop("widgets", None)  # widget state is per run; nbval never compares it
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for path in paths:
        print(f"{path.name}: running ...", flush=True)
        seconds = execute(path)
        print(f"{path.name}: stored outputs ({seconds:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
