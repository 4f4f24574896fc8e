"""Sphinx configuration of the static site; ``site/build_site.py`` prepares the sources, runs it.

Every asset comes from an installed package: the theme (sphinx-book-theme, pydata-sphinx-theme,
with its icon font) and MathJax 3 (sphinx-mathjax-offline copies it into ``_static``). No page
loads anything from another host; nothing is executed (the notebooks' stored outputs are shown).
"""

from __future__ import annotations

import hashlib
import re
from base64 import b64decode
from pathlib import Path
from typing import Any

import nbformat
from docutils import nodes

project = "Optimising feed-forward neural networks"
author = "DTU Deep learning hands-on, Lecture 2"
copyright = "the authors of the notebooks"

extensions = ["myst_nb", "sphinx.ext.mathjax", "sphinx-mathjax-offline"]
myst_enable_extensions = ["dollarmath", "amsmath"]
nb_execution_mode = "off"        # the stored outputs are the page
nb_ipywidgets_js = {}            # no widget manager from a CDN: widget views are replaced
nb_merge_streams = True
exclude_patterns = ["**.ipynb_checkpoints"]

html_theme = "sphinx_book_theme"
html_title = project
html_copy_source = True          # the download button's notebook (_sources/NN_topic.ipynb)
html_show_sphinx = False
html_static_path = ["_static"]
# The theme's first script reads the colour mode from here (else it logs an error).
html_context = {"default_mode": "auto"}
html_css_files = ["site.css"]
# search-button-field.html: the theme's search button, named by its visible text.
templates_path = ["_templates"]
html_theme_options = {
    # repository_url and repository_branch: passed by build_site.py (the README's link
    # definition; the git ref that the notebooks' Colab cell installs,
    # lecture_utils.course.colab.REF).
    "path_to_docs": "notebooks/student",   # launch buttons open the student edition
    "use_repository_button": True,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "launch_buttons": {
        "binderhub_url": "https://mybinder.org",
        "colab_url": "https://colab.research.google.com",
        "notebook_interface": "jupyterlab",
    },
    "show_toc_level": 2,
}

def image_alt_texts(path: Path) -> dict[str, str]:
    """{sha256 of a stored figure: its alt text} for the figures of the notebook at ``path``."""
    from build_site import alt_text, image_outputs  # site/ is on sys.path while Sphinx runs

    texts = {}
    for output, mime in image_outputs(nbformat.read(path, as_version=4)):
        if mime != "image/svg+xml" and alt_text(output, mime):
            data = b64decode(output["data"][mime])
            texts[hashlib.sha256(data).hexdigest()] = alt_text(output, mime)
    return texts


def add_alt_texts(app: Any, doctree: nodes.document) -> None:
    """Give each figure of a notebook page its stored alt text (myst-nb names a figure's file
    by the sha256 of its bytes, and takes alt text only from cell metadata)."""
    path = Path(app.env.doc2path(app.env.docname))
    if path.suffix != ".ipynb":
        return
    texts = image_alt_texts(path)
    for image in doctree.findall(nodes.image):
        stem = Path(image["uri"]).stem
        if re.fullmatch("[0-9a-f]{64}", stem):  # a stored figure, not a markdown image
            image["alt"] = texts.get(stem, "")   # not the file's name when it has none


def add_browser_button(app: Any, pagename: str, templatename: str, context: dict[str, Any],
                       doctree: Any) -> None:
    """With the browser edition built (``build_site.py --lite``): a "Run in your browser" entry
    beside Binder and Colab, opening the page's notebook in JupyterLite (``lite/``)."""
    if not app.config.browser_edition or Path(app.env.doc2path(pagename)).suffix != ".ipynb":
        return
    for group in context.get("header_buttons", []):
        if group.get("label") == "launch-buttons":
            group["buttons"].append({
                "type": "link", "text": "Run in your browser",
                "tooltip": "Run this notebook in your browser: nothing to install",
                "icon": "fas fa-laptop-code",
                "url": context["pathto"]("lite/lab/index.html", 1) + f"?path={pagename}.ipynb",
            })


def setup(app: Any) -> dict[str, bool]:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    app.connect("doctree-read", add_alt_texts)
    app.add_config_value("browser_edition", False, "html", types=[bool, str])
    app.connect("html-page-context", add_browser_button, priority=900)
    return {"parallel_read_safe": True}
