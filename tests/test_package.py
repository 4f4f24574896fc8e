"""The package's own index lists every module, and the numpy path never imports torch."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import lecture_utils

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted(m.name for m in pkgutil.iter_modules(lecture_utils.__path__)
                 if not m.name.startswith("_"))
#: What notebooks 00-04 and the numpy network need: importing these must not import torch.
NUMPY_ONLY = ["data", "functions", "gradcheck", "initialisers", "likelihood", "mlp",
              "optimizers", "paths", "schedules", "tiny", "training", "trajectories"]


@pytest.mark.parametrize("name", MODULES)
def test_every_module_is_in_both_maps(name: str) -> None:
    assert f"- ``{name}``: " in lecture_utils.__doc__, "lecture_utils/__init__.py"
    assert f"  - `{name}`: " in (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")


def test_the_maps_list_no_module_that_is_gone() -> None:
    listed = [line.split("``")[1] for line in lecture_utils.__doc__.splitlines()
              if line.startswith("- ``")]
    assert sorted(listed) == MODULES


def test_the_numpy_modules_do_not_import_torch() -> None:
    code = ("import sys\n"
            f"for name in {NUMPY_ONLY!r}:\n"
            "    __import__('lecture_utils.' + name)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch')[:3])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
