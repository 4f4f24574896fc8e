"""How fast does the notebook-03 explorer react to a slider move?

One move = ``explorer.explore`` (200 steps of the method on Tiny Example II, line data and
readout updated) + ``ExplorerView.render_png`` (Agg canvas, PNG bytes as the widget shows them).
Prints the median per method and over all methods; target: under 60 ms.

Usage: python bench/bench_explorer.py [--repeats 15] [--strict]   (--strict: exit 1 if slower)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from lecture_utils.figures import explorer
from lecture_utils.figures.plots import use_style

TARGET_MS = 60.0
STEPS = 200


def time_moves(view: explorer.ExplorerView, method: str, repeats: int) -> list[float]:
    """Milliseconds for ``repeats`` slider moves (η nudged each time) with ``method``."""
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        explorer.explore(view, method=method, eta=0.2 + 0.01 * (i % 10), alpha=0.8,
                         damping=1.0, start=(0.5, 1.5), steps=STEPS)
        view.render_png()
        times.append(1e3 * (time.perf_counter() - start))
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="slider moves per method")
    parser.add_argument("--strict", action="store_true", help="exit 1 above the target")
    args = parser.parse_args(argv)
    use_style()
    view = explorer.make_view()
    start = time.perf_counter()
    explorer.explore(view, steps=STEPS)
    view.render_png()  # first draw: contours and axes rasterised once
    print(f"first draw (contours + background): {1e3 * (time.perf_counter() - start):.1f} ms")
    every = []
    for label, method in explorer.METHODS.items():
        times = time_moves(view, method, args.repeats)
        every += times
        print(f"{label:>20}: median {statistics.median(times):6.1f} ms "
              f"(min {min(times):.1f}, max {max(times):.1f})")
    median = statistics.median(every)
    ok = median < TARGET_MS
    print(f"slider move, {STEPS} steps, all methods: median {median:.1f} ms "
          f"(target < {TARGET_MS:.0f} ms: {'OK' if ok else 'SLOW'})")
    return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
