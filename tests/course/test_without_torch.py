"""The package without torch, as the browser edition has it (no torch for WebAssembly).

In a subprocess where ``import torch`` fails: every module but ``optim.torch_training`` imports,
``setup()`` runs, every exercise's check still accepts its reference and rejects a wrong answer
(the torch oracles are simply absent), and the numpy paths of the torch-backed modules run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

#: The one module whose purpose is torch; a notebook imports it only in a cell tagged needs-torch.
TORCH_MODULES = {"lecture_utils.optim.torch_training"}

SCRIPT = textwrap.dedent("""
    import contextlib, importlib, io, pkgutil, sys
    sys.modules["torch"] = None  # `import torch` raises ImportError, as in Pyodide
    import numpy as np
    import lecture_utils
    from lecture_utils.course.notebook import setup
    from lecture_utils.exercises import check
    from lecture_utils.exercises.core import VERDICT_RE, registry, torch_available

    names = sorted(m.name for m in pkgutil.walk_packages(lecture_utils.__path__, "lecture_utils."))
    failed = []
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            failed.append(name)
    print("no import:", ",".join(failed))
    assert not torch_available()
    rng = setup(seed=0)

    def wrong(reference):
        def answer(*args):
            value = reference(*args)
            if isinstance(value, tuple):
                return tuple(np.asarray(v, dtype=float) * 2 + 1 for v in value)
            return np.asarray(value, dtype=float) * 2 + 1
        return answer

    def verdict(name, student):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            check(name, student)
        return VERDICT_RE.search(out.getvalue())["verdict"]

    for name, ex in sorted(registry().items()):
        if name not in {NEEDS_TORCH}:
            wrongly = "-" if ex.verify else verdict(name, wrong(ex.reference))
            print(f"{name}|{verdict(name, ex.reference)}|{wrongly}")

    from lecture_utils.analysis import hessian, propagation
    p, se = hessian.prob_all_positive(2, 20_000, rng)
    assert abs(p - (2 - np.sqrt(2)) / 4) < 4 * se, (p, se)
    x, y = rng.random((32, 20)), rng.integers(0, 10, 32)
    sweep = propagation.HeGainSweep(x, y, width=16, max_depth=5)
    assert sweep.profile(5, 1.0).backward_rms.shape == (5,)
    try:
        hessian.NetworkCost(None, x, y)
    except ImportError:
        print("NetworkCost needs torch")
""")

#: Exercises whose own reference is torch code (the student writes torch): no check without it.
NEEDS_TORCH = ("autograd_dw1",)


def _run_without_torch() -> str:
    script = SCRIPT.replace("{NEEDS_TORCH}", repr(set(NEEDS_TORCH)))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_the_package_and_its_checks_work_without_torch() -> None:
    out = _run_without_torch()
    lines = out.splitlines()
    assert lines[0] == "no import: " + ",".join(sorted(TORCH_MODULES))
    rows = [line.split("|") for line in lines if "|" in line]
    assert len(rows) >= 40, out
    for name, right, wrong in rows:
        assert right == "correct", f"{name}: the reference itself gets {right!r}"
        assert wrong in ("not yet", "-"), f"{name}: a wrong answer gets {wrong!r}"
    assert "NetworkCost needs torch" in lines
