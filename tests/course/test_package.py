"""The package's own index lists every module, and the numpy path never imports torch."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import lecture_utils

#: Every public module, by its dotted name below ``lecture_utils`` (the exercises are one entry).
MODULES = sorted(m.name.removeprefix("lecture_utils.")
                 for m in pkgutil.walk_packages(lecture_utils.__path__, "lecture_utils.")
                 if not m.ispkg and not m.name.split(".")[-1].startswith("_")
                 and not m.name.startswith("lecture_utils.exercises."))
#: What notebooks 00-04 and the numpy network need: importing these must not import torch.
NUMPY_ONLY = ["data.mnist", "network.functions", "analysis.gradcheck", "network.initialisers",
              "analysis.likelihood", "network.mlp", "optim.optimizers", "analysis.paths",
              "optim.schedules", "analysis.tiny", "optim.training", "optim.trajectories"]


def test_the_module_map_lists_every_module_and_no_other() -> None:
    listed = [line.split("``")[1] for line in lecture_utils.__doc__.splitlines()
              if line.startswith("- ``")]
    assert sorted(listed) == MODULES
    assert "``exercises.core``" in lecture_utils.__doc__


def test_the_numpy_modules_do_not_import_torch() -> None:
    code = ("import sys\n"
            f"for name in {NUMPY_ONLY!r}:\n"
            "    __import__('lecture_utils.' + name)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch')[:3])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
