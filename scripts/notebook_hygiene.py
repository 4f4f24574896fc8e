"""Check the stored outputs of notebooks: no machine paths, no progress bars, no run metadata,
no figure wider than the site's column.

Usage: python scripts/notebook_hygiene.py [NOTEBOOK ...]
(default: notebooks/*.ipynb and notebooks/student/*.ipynb). Prints one line per problem and
exits 1 if there is any. The pre-commit hook and ``tests/project/test_notebook_hygiene.py`` call it.
"""

from __future__ import annotations

import base64
import json
import re
import struct
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: An absolute path of some machine: a POSIX home/system folder or a Windows drive.
ABSOLUTE_PATH = re.compile(r"(?<![\w.~])(/(home|root|work|tmp|Users|private|var|opt|mnt)/"
                           r"|[A-Za-z]:\\{1,2}(Users|Windows|Program|Documents))")
#: tqdm's text bar, e.g. " 0%|          | 0/6000 [00:00<?, ?update/s]".
PROGRESS_BAR = re.compile(r"\d+%\|[^|\n]*\|")
#: The widest stored figure, in pixels: ``plots.WIDTH`` (7.2 in at 120 dpi, 864 px, shown at
#: 100 % in the site's 880-pixel column) plus the cropping margin, and room for the one wider
#: diagram (the computational graph of notebook 02, 9 in: 1,093 px, shown at 81 %).
MAX_FIGURE_WIDTH = 1100


def notebooks() -> list[Path]:
    """Both editions' notebooks in the repository."""
    folder = ROOT / "notebooks"
    return sorted(folder.glob("*.ipynb")) + sorted((folder / "student").glob("*.ipynb"))


def _texts(output: dict) -> Iterator[str]:
    """The text an output shows: streams, tracebacks and every non-image mime type."""
    if "text" in output:
        yield "".join(output["text"])
    yield from output.get("traceback", [])
    for mime, value in output.get("data", {}).items():
        if not mime.startswith("image/"):
            yield value if isinstance(value, str) else json.dumps(value)


def png_width(data: str) -> int:
    """The width in pixels of a base64-encoded PNG (from its IHDR header)."""
    header = base64.b64decode("".join(data)[:44])
    return struct.unpack(">I", header[16:20])[0]


def _shown(path: Path) -> str:
    """``path`` relative to the repository when it lies inside it."""
    full = path.resolve()
    return str(full.relative_to(ROOT)) if full.is_relative_to(ROOT) else str(path)


def problems(path: Path) -> list[str]:
    """Every stored output of ``path`` that holds an absolute path, a progress bar, a figure
    wider than ``MAX_FIGURE_WIDTH``, or cell execution metadata (timestamps), one line each:
    ``file cell N: what``."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    found = []
    for n, cell in enumerate(nb.get("cells", [])):
        where = f"{_shown(Path(path))} cell {n}"
        if "execution" in cell.get("metadata", {}):
            found.append(f"{where}: execution timestamps in the cell metadata")
        for output in cell.get("outputs", []):
            if "image/png" in output.get("data", {}):
                width = png_width(output["data"]["image/png"])
                if width > MAX_FIGURE_WIDTH:
                    found.append(f"{where}: a figure {width} pixels wide (at most "
                                 f"{MAX_FIGURE_WIDTH}: narrow its figsize)")
            for text in _texts(output):
                if m := ABSOLUTE_PATH.search(text):
                    line = text[max(0, m.start() - 30):m.end() + 40].replace("\n", " ")
                    found.append(f"{where}: absolute path in an output: ...{line}...")
                if m := PROGRESS_BAR.search(text):
                    found.append(f"{where}: progress bar in an output: {m.group(0)!r}")
    return found


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or notebooks()
    lines = [line for path in paths for line in problems(path)]
    for line in lines:
        print(line)
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
