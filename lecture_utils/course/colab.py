"""The Colab setup cell, the first code cell of every notebook, defined once here.

On Google Colab the cell installs ``lecture_utils`` from the repository at :data:`REF` and
fetches MNIST; anywhere else it does nothing. The install keeps what Colab ships (torch,
numpy, matplotlib, ipywidgets): pip's default ``only-if-needed`` strategy leaves an installed
package alone when it satisfies the lower bound of pyproject.toml, and those bounds are ones
Colab satisfies (ipywidgets 7.7 included; tests/course/test_colab.py checks both).
``scripts/sync_notebook_headers.py`` writes the cell and the title cell's badges into the
notebooks.
"""

from __future__ import annotations

from lecture_utils import __version__

#: The git ref the Colab cell installs: the release tag of this version of the notebooks.
REF = f"v{__version__}"
#: Tag of the Colab setup cell in the notebooks' cell metadata (how the sync tool finds it).
TAG = "colab-setup"


def requirement(repository: str, ref: str = REF) -> str:
    """The pip requirement of lecture_utils at ``ref`` of ``repository`` (a git URL or path)."""
    return f"lecture-utils @ git+{repository}@{ref}"


def install_args(repository: str, ref: str = REF) -> list[str]:
    """``pip install`` arguments of the cell: quiet, upgrading nothing that already fits."""
    return ["install", "--quiet", requirement(repository, ref)]


def cell_source(repository: str, ref: str = REF) -> str:
    """The text of the Colab setup cell for ``repository`` (https URL) at ``ref``."""
    *options, package = install_args(repository, ref)
    pip = ", ".join(f'"{a}"' for a in ["-m", "pip", *options])
    return f'''# Colab setup: on Google Colab, install the course's helper package lecture_utils
# (keeping Colab's torch, numpy, matplotlib, ipywidgets) and fetch MNIST. Elsewhere: nothing.
import sys

if "google.colab" in sys.modules:
    import subprocess

    package = "{package}"
    subprocess.run([sys.executable, {pip}, package], check=True)
    subprocess.run([sys.executable, "-m", "lecture_utils", "fetch-data"], check=True)'''
