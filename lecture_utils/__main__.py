"""Command line: ``python -m lecture_utils check`` and ``python -m lecture_utils fetch-data``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from lecture_utils import __version__

USAGE = f"""usage: python -m lecture_utils COMMAND [options]   (lecture_utils {__version__})

commands:
  check        print the versions of the key packages and whether MNIST is available
  fetch-data   download MNIST if needed and verify its checksums (--help for options)
"""


def check(argv: Sequence[str]) -> int:
    """The environment check of notebook 00; exit code 1 if something is missing."""
    from lecture_utils.course import environment

    if argv:
        print(f"check takes no options, got {' '.join(argv)}", file=sys.stderr)
        return 2
    rows = environment.report()
    print(environment.format_report(rows))
    return 0 if all(r.ok for r in rows) else 1


def fetch_data(argv: Sequence[str]) -> int:
    """Download and verify MNIST (see :func:`lecture_utils.data.mnist.main`)."""
    from lecture_utils.data import mnist as data

    return data.main(argv)


COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {"check": check, "fetch-data": fetch_data}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command named first in ``argv``; return the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if args else 2
    if args[0] == "--version":
        print(f"lecture_utils {__version__}")
        return 0
    command = COMMANDS.get(args[0])
    if command is None:
        print(f"unknown command {args[0]!r}\n\n{USAGE}", file=sys.stderr)
        return 2
    return command(args[1:])


if __name__ == "__main__":
    sys.exit(main())
