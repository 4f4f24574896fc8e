"""The project's scripts (``scripts/*.py``, ``bench/*.py``; not packages) imported as modules for
the tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def script(name: str, folder: str = "scripts") -> ModuleType:
    """Import ``<folder>/<name>.py`` (``folder`` "scripts" or "bench")."""
    spec = importlib.util.spec_from_file_location(name, ROOT / folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
