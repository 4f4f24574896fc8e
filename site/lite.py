"""The browser edition: JupyterLite with its Pyodide kernel, built into the static site.

``build_lite(html)`` writes ``html/lite/``, a JupyterLab that runs in the page (Python compiled
to WebAssembly, no server), whose file browser holds the browser edition of the notebooks:

- Pyodide 0.27.7 is copied from ``../shared/pyodide/0.27.7`` (``PYODIDE_DIR``) into
  ``lite/static/pyodide/``, so the site loads nothing from another host. ``PYODIDE_URL`` (its
  ``pyodide.js`` on a CDN) takes Pyodide from there instead; the site's own wheels then need the
  address the site is published at, ``LITE_URL`` (the lite folder's URL).
- The pure-Python wheels Pyodide lacks (``requirements/browser.txt``: ipywidgets, comm, tqdm,
  threadpoolctl; ``make site`` downloads them into ``build/browser-wheels``, with
  jupyterlab-widgets, whose JupyterLab extension draws the widgets) and this working
  tree's own wheel, built here, join Pyodide's package list (``pyodide-lock.json``) with their
  dependencies, and so do the kernel's own wheels (piplite, its ipykernel, pyodide_kernel; in
  its extension's folder). The kernel loads all of them, ``lecture_utils`` and what it needs
  at once while it starts (``loadPyodideOptions.packages``; it would otherwise install its own
  one after the other), and Pyodide loads any of them that a cell imports, so no notebook
  installs anything. The same wheels form the piplite index (``%pip install``).
- Pyodide's matplotlib wheel is served with its font list corrected (:func:`font_list_fixed`),
  so that matplotlib's first import does not read every font file again.
- ``lite/index.html`` is the browser edition's start page (what runs, where the work is kept, a
  link to each notebook), in place of JupyterLite's redirect to JupyterLab.
- MNIST's four ``.gz`` files are copied into ``lite/mnist/``; in the browser
  ``lecture_utils.data`` downloads them from there once, verifies them, and keeps them in the
  browser's storage (see ``lecture_utils/data/mnist.py``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYODIDE_VERSION = "0.27.7"
DEFAULT_PYODIDE_DIR = ROOT.parent / "shared" / "pyodide" / PYODIDE_VERSION
PUBLIC_PYODIDE_URL = f"https://cdn.jsdelivr.net/pyodide/v{PYODIDE_VERSION}/full/pyodide.js"
WHEELS_DIR = ROOT / "build" / "browser-wheels"
BROWSER_LOCK = ROOT / "requirements" / "browser.txt"
LABEXTENSIONS = Path(sys.prefix) / "share" / "jupyter" / "labextensions"
# The JupyterLab extensions of the browser edition: the Pyodide kernel's (from this environment)
# and ipywidgets' manager, from the wheel of requirements/browser.txt (the version built for
# JupyterLite's JupyterLab 4.4), which is not installed in the browser.
KERNEL_EXTENSION = "@jupyterlite/pyodide-kernel-extension"
WIDGETS_WHEEL, WIDGETS_EXTENSION = "jupyterlab-widgets", "@jupyter-widgets/jupyterlab-manager"
KERNEL_PLUGIN = "@jupyterlite/pyodide-kernel-extension:kernel"
# The kernel's own wheels, in its extension (the site's extensions/ folder holds a copy).
KERNEL_PYPI = Path(KERNEL_EXTENSION) / "static" / "pypi"
KERNEL_WHEELS = ["piplite", "ipykernel", "pyodide-kernel"]
# Loaded at once while the kernel starts (with their dependencies): the kernel's own packages,
# by the names its worker looks for here (any other it installs one after the other, with
# micropip and then piplite), and the project's package with all it imports.
PRELOAD = ["micropip", "piplite", "comm", "ssl", "sqlite3", "jedi", "ipython", "ipykernel",
           "pyodide_kernel", "lecture-utils"]
# What each wheel imports (Pyodide loads a package when a cell imports it) and needs first;
# lecture_utils' dependencies are read from its wheel (torch and pooch excepted: none in the
# browser, and lecture_utils does not import them there).
EXTRA_PACKAGES = {
    "piplite": (["piplite"], ["micropip"]),
    "ipykernel": (["ipykernel"], ["comm"]),
    "pyodide-kernel": (["pyodide_kernel"], ["ipykernel", "ipython", "jedi", "sqlite3", "ssl"]),
    "comm": (["comm"], ["traitlets"]),
    "ipywidgets": (["ipywidgets"], ["comm", "ipython", "traitlets"]),
    "tqdm": (["tqdm"], []),
    "threadpoolctl": (["threadpoolctl"], []),
}
NOT_IN_BROWSER = {"torch", "pooch"}
TITLE = "Optimising feed-forward neural networks"
MNIST_FOLDER = "mnist"   # lite/mnist/: lecture_utils.data.mnist.BROWSER_MIRROR
# JupyterLite's JupyterLab (4.4) takes the arrow keys pressed on a focused slider for its own
# command-mode shortcuts (to the next heading), so a slider would not move by keyboard: those
# two shortcuts, outside widgets only.
COMMAND_MODE = ".jp-Notebook.jp-mod-commandMode:not(.jp-mod-readWrite) :focus"
ARROW_SHORTCUTS = [("notebook:move-cursor-heading-above-or-collapse", "ArrowLeft"),
                   ("notebook:move-cursor-heading-below-or-expand", "ArrowRight")]
# JupyterLab's settings in the browser edition: no news from another host, the arrow keys to
# the sliders. Notebooks keep JupyterLab's windowing (the browser test, which reads every cell,
# turns it off in its own page): rendering every cell first made the kernel of a long notebook
# ready about 6 s later.
SETTINGS = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false",
                                                    "checkForUpdates": False},
    "@jupyterlab/shortcuts-extension:shortcuts": {"shortcuts": [
        shortcut for command, key in ARROW_SHORTCUTS for shortcut in (
            {"command": command, "keys": [key], "selector": COMMAND_MODE, "disabled": True},
            {"command": command, "keys": [key],
             "selector": f"{COMMAND_MODE}:not(.jupyter-widgets *)"})]},
}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def browser_wheels(folder: Path = WHEELS_DIR) -> list[Path]:
    """The wheels of ``requirements/browser.txt`` in ``folder``, each checked against its hash."""
    wanted = {}
    for line in BROWSER_LOCK.read_text().splitlines():
        match = re.match(r"([A-Za-z0-9._-]+)==(\S+)\s+--hash=sha256:([0-9a-f]{64})", line)
        if match:
            wanted[canonical(match.group(1))] = (match.group(2), match.group(3))
    wheels = []
    for name, (version, digest) in wanted.items():
        found = [w for w in folder.glob("*.whl")
                 if canonical(w.name.split("-")[0]) == name and w.name.split("-")[1] == version]
        if not found:
            raise FileNotFoundError(f"{folder} lacks the wheel {name}=={version} of "
                                    f"{BROWSER_LOCK.relative_to(ROOT)}: run `make site` (it "
                                    "downloads them) or pip download --no-deps --require-hashes "
                                    f"-r {BROWSER_LOCK.relative_to(ROOT)} -d {folder}")
        if sha256(found[0]) != digest:
            raise ValueError(f"{found[0]}: sha256 differs from {BROWSER_LOCK.name}'s {digest}")
        wheels.append(found[0])
    return wheels


def labextension(wheel: Path, name: str, folder: Path) -> Path:
    """The JupyterLab extension ``name`` held in ``wheel``, unpacked into ``folder``."""
    prefix = f"share/jupyter/labextensions/{name}/"
    with zipfile.ZipFile(wheel) as archive:
        members = [m for m in archive.namelist() if prefix in m]
        if not members:
            raise ValueError(f"{wheel.name} holds no JupyterLab extension {name}")
        for member in members:
            target = folder / name / member.split(prefix, 1)[1]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(member))
    return folder / name


def project_wheel(folder: Path) -> Path:
    """The wheel of this working tree's ``lecture_utils`` (what the browser installs), built
    from a clean copy of the package, so no stale build output of another tree gets in."""
    shutil.rmtree(folder, ignore_errors=True)
    source = folder / "source"
    shutil.copytree(ROOT / "lecture_utils", source / "lecture_utils",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--disable-pip-version-check", "-w", str(folder),
                    str(source)], check=True, cwd=folder)
    (wheel,) = folder.glob("lecture_utils-*.whl")
    return wheel


def wheel_requires(wheel: Path) -> list[str]:
    """The names of ``wheel``'s unconditional dependencies (its ``Requires-Dist`` lines)."""
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        lines = archive.read(metadata).decode().splitlines()
    return [canonical(re.match(r"[A-Za-z0-9._-]+", line.split(":", 1)[1].strip()).group(0))
            for line in lines if line.startswith("Requires-Dist:") and ";" not in line]


def lock_entry(wheel: Path, imports: list[str], depends: list[str], file_name: str) -> dict:
    name, version = wheel.name.split("-")[:2]
    return {"name": canonical(name), "version": version, "file_name": file_name,
            "install_dir": "site", "sha256": sha256(wheel), "package_type": "package",
            "imports": imports, "depends": depends, "unvendored_tests": False,
            "shared_library": False}


def extended_lock(lock: dict, wheels: dict[Path, str]) -> dict:
    """Pyodide's package list plus ``wheels``, each wheel given the address of its folder (the
    project's wheel among them, its dependencies read from it)."""
    lock = json.loads(json.dumps(lock))
    known = set(lock["packages"]) | {canonical(w.name.split("-")[0]) for w in wheels}
    for wheel, folder in wheels.items():
        name = canonical(wheel.name.split("-")[0])
        if name == "lecture-utils":
            imports = ["lecture_utils"]
            depends = [r for r in wheel_requires(wheel) if r not in NOT_IN_BROWSER]
            missing = sorted(set(depends) - known)
            if missing:
                raise ValueError(f"lecture_utils needs {missing}, neither in Pyodide "
                                 f"{PYODIDE_VERSION} nor in {BROWSER_LOCK.relative_to(ROOT)}: "
                                 "add them there")
        else:
            imports, depends = EXTRA_PACKAGES[name]
        lock["packages"][name] = lock_entry(wheel, imports, depends, folder + wheel.name)
    return lock


FONT_LIST = "matplotlib/fontlist.json"
MPL_DATA = "matplotlib/mpl-data/"


def font_entry(font: bytes, fname: str, fields: list[str]) -> dict:
    """The font list's entry of the TrueType ``font`` (``fname``: its path in matplotlib's
    data folder), read by this environment's matplotlib; ``fields``: those the list has."""
    from matplotlib import font_manager

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(fname).name
        path.write_bytes(font)
        entry = font_manager.ttfFontProperty(font_manager.get_font(path))
    return {**{f: getattr(entry, f) for f in fields}, "fname": fname, "__class__": "FontEntry"}


def font_list_fixed(wheel: Path, folder: Path) -> Path:
    """Pyodide's matplotlib ``wheel``, copied into ``folder`` with a font list it accepts.

    The wheel ships ``matplotlib/fontlist.json``, so that the first import need not read every
    font file. Pyodide 0.27.7's was written by a later matplotlib on a desktop: its version is
    not the wheel's ``FontManager.__version__``, it lists the desktop's fonts and misses one of
    matplotlib's (Humor Sans), so at each first import matplotlib discards it, reads every font
    (a second or so in the browser) and says so in the notebook ("Matplotlib is building the
    font cache"). The copy lists matplotlib's own fonts (paths relative to its data folder)
    under the wheel's version, as matplotlib builds it there; the wheel's RECORD gets the new
    file's hash.
    """
    with zipfile.ZipFile(wheel) as source:
        manager = source.read("matplotlib/font_manager.py").decode()
        fonts = json.loads(source.read(FONT_LIST))
        fonts["_version"] = int(re.search(r"__version__ = (\d+)", manager).group(1))
        for kind in ("afmlist", "ttflist"):
            fonts[kind] = [f for f in fonts[kind] if not Path(f["fname"]).is_absolute()]
        listed = {f["fname"] for f in fonts["afmlist"] + fonts["ttflist"]}
        fields = [f for f in fonts["ttflist"][0] if f != "__class__"]
        fonts["ttflist"] += [font_entry(source.read(name), name.removeprefix(MPL_DATA), fields)
                             for name in source.namelist()
                             if name.startswith(f"{MPL_DATA}fonts/")
                             and name.endswith((".ttf", ".otf"))
                             and name.removeprefix(MPL_DATA) not in listed]
        fixed = json.dumps(fonts, indent=2).encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(fixed).digest()).rstrip(b"=").decode()
        folder.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(folder / wheel.name, "w") as copy:
            for item in source.infolist():
                data = source.read(item)
                if item.filename == FONT_LIST:
                    data = fixed
                elif item.filename.endswith(".dist-info/RECORD"):
                    data = re.sub(rf"^{re.escape(FONT_LIST)},.*$",
                                  f"{FONT_LIST},sha256={digest},{len(fixed)}", data.decode(),
                                  flags=re.MULTILINE).encode()
                copy.writestr(item, data)
    return folder / wheel.name


LANDING = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}: the browser edition</title>
<!-- JupyterLab's pages read the site's settings from here too (no redirect to it, though) -->
<script id="jupyter-config-data" type="application/json" data-jupyter-lite-root=".">{{}}</script>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto;
        padding: 0 1rem; line-height: 1.5; color: #1a1a1a; background: #fff; }}
a {{ color: #0b57a4; }}
li {{ margin: 0.4rem 0; }}
.note {{ color: #444; }}
</style>
</head>
<body>
<main>
<h1>{title}: the browser edition</h1>
<p>Each notebook below opens in JupyterLab running in this page: Python runs in your browser,
nothing is installed and no account is needed. The first notebook takes a little while to
start (the browser downloads Python and its packages once); the numpy code, the figures, the
sliders and the exercises with their checks all run here. A cell that needs PyTorch, which does
not exist for the browser, shows its code and what it computes; run those on Binder, Colab or a
laptop (see the <a href="../index.html">notebooks' website</a>).</p>
<p>Your work is saved in this browser's storage and is there on your next visit from the same
browser (another browser or a private window starts afresh). To keep a copy, use
<em>File → Download</em> in JupyterLab.</p>
<h2>The notebooks</h2>
<ul>
{items}
</ul>
<p class="note"><a href="lab/index.html">JupyterLab with every notebook</a></p>
</main>
</body>
</html>
"""


def landing_page(notebooks: list[Path], title: str) -> str:
    """``lite/index.html``: what runs here, where the work is kept, a link to each notebook
    (its title, and how many of its cells need PyTorch: the cells tagged ``needs-torch``)."""
    import html

    import nbformat

    from lecture_utils.course.browser_edition import needs_torch

    items = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        heading = next((line[2:].strip() for c in nb.cells if c.cell_type == "markdown"
                        for line in c.source.splitlines() if line.startswith("# ")), path.stem)
        torch = sum(needs_torch(c) for c in nb.cells)
        note = ("" if not torch else " (1 cell needs PyTorch)" if torch == 1
                else f" ({torch} cells need PyTorch)")
        items.append(f'<li><a href="lab/index.html?path={path.name}">{html.escape(heading)}'
                     f"</a>{note}</li>")
    return LANDING.format(title=html.escape(title), items="\n".join(items))


def build_lite(html: Path, notebooks: Path, work: Path, *,
               pyodide_dir: Path | None = None, pyodide_url: str | None = None,
               lite_url: str | None = None, mnist_dir: Path | None = None,
               wheels_dir: Path = WHEELS_DIR) -> Path:
    """Build the browser edition of ``notebooks`` (its ``.ipynb`` files) into ``html/lite``.

    ``pyodide_dir``: a Pyodide 0.27.7 folder to copy (default ``$PYODIDE_DIR``, else
    ``../shared/pyodide/0.27.7``); ``pyodide_url``: its ``pyodide.js`` elsewhere instead (then
    ``lite_url``, where ``html/lite`` is published, is needed). ``mnist_dir``: the folder of
    MNIST's four files (default: where ``lecture_utils.data`` finds them).
    """
    from lecture_utils.data.mnist import FILES, mnist_status

    out = html / "lite"
    pyodide_url = pyodide_url or os.environ.get("PYODIDE_URL") or None
    lite_url = lite_url or os.environ.get("LITE_URL") or None
    if pyodide_url and not lite_url:
        raise ValueError("PYODIDE_URL needs LITE_URL, the address where the site's lite/ folder "
                         "is published (its wheels are loaded from there)")
    pyodide_dir = Path(pyodide_dir or os.environ.get("PYODIDE_DIR") or DEFAULT_PYODIDE_DIR)
    if not pyodide_url and not (pyodide_dir / "pyodide.js").is_file():
        raise FileNotFoundError(f"no Pyodide {PYODIDE_VERSION} in {pyodide_dir} (pyodide.js): "
                                "set PYODIDE_DIR to its folder, or PYODIDE_URL to its pyodide.js")
    status = mnist_status(mnist_dir, verify=True)
    if not status.ok:
        raise FileNotFoundError(f"the browser edition serves MNIST: {status}")

    shutil.rmtree(work, ignore_errors=True)
    (work / "pypi").mkdir(parents=True)
    wheels = browser_wheels(wheels_dir)
    (widgets,) = [w for w in wheels if canonical(w.name.split("-")[0]) == WIDGETS_WHEEL]
    extensions = [LABEXTENSIONS / KERNEL_EXTENSION,
                  labextension(widgets, WIDGETS_EXTENSION, work / "labextensions")]
    wheels = [*(w for w in wheels if w != widgets), project_wheel(work / "project")]
    for wheel in wheels:
        shutil.copy2(wheel, work / "pypi" / wheel.name)
    pyodide_settings: dict = {"disablePyPIFallback": True,
                              "loadPyodideOptions": {"packages": PRELOAD}}
    if pyodide_url:
        pyodide_settings["pyodideUrl"] = pyodide_url
        # Our package list replaces the CDN's: its own packages by their address there.
        pyodide_settings["loadPyodideOptions"]["lockFileURL"] = "static/browser-lock.json"
    else:
        pyodide_settings["pyodideUrl"] = "./static/pyodide/pyodide.js"
    (work / "jupyter-lite.json").write_text(json.dumps({
        "jupyter-lite-schema-version": 0,
        "jupyter-config-data": {"appName": TITLE,
                                "litePluginSettings": {KERNEL_PLUGIN: pyodide_settings}}},
        indent=1))
    (work / "overrides.json").write_text(json.dumps(SETTINGS, indent=1))
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "jupyter", "lite", "build", "--lite-dir", str(work),
               "--output-dir", str(out), "--contents", str(notebooks), "--apps", "lab",
               "--ignore-sys-prefix", "--no-sourcemaps", "--log-level", "WARN",
               *[f"--LiteBuildConfig.federated_extensions={e}" for e in extensions]]
    run = subprocess.run(command, cwd=work, capture_output=True, text=True)
    if run.returncode:
        raise RuntimeError(f"jupyter lite build failed:\n{run.stdout[-4000:]}\n"
                           f"{run.stderr[-4000:]}")

    # The package list's addresses of the site's files: absolute with Pyodide elsewhere,
    # else relative to static/pyodide/ (Pyodide's folder, where the list is).
    site = lite_url.rstrip("/") + "/" if pyodide_url else "../../"
    target = out / "static" / "pyodide"
    if pyodide_url:
        base = pyodide_url.rsplit("/", 1)[0] + "/"
        lock = json.loads((pyodide_dir / "pyodide-lock.official.json").read_text()
                          if (pyodide_dir / "pyodide-lock.official.json").exists()
                          else (pyodide_dir / "pyodide-lock.json").read_text())
        for entry in lock["packages"].values():
            entry["file_name"] = base + entry["file_name"]
    else:
        shutil.copytree(pyodide_dir, target, ignore=shutil.ignore_patterns(
            "verify.py", "pyodide-lock.official.json", "*.md"))
        lock = json.loads((pyodide_dir / "pyodide-lock.json").read_text())
    matplotlib = lock["packages"]["matplotlib"]
    fixed = font_list_fixed(pyodide_dir / matplotlib["file_name"].rsplit("/", 1)[-1], target)
    matplotlib["sha256"] = sha256(fixed)
    if pyodide_url:   # this one wheel from the site
        matplotlib["file_name"] = f"{site}static/pyodide/{fixed.name}"
    kernel_wheels = [w for w in (LABEXTENSIONS / KERNEL_PYPI).glob("*.whl")
                     if canonical(w.name.split("-")[0]) in KERNEL_WHEELS]
    lock = extended_lock(lock, {**{w: f"{site}pypi/" for w in wheels},
                                **{w: f"{site}extensions/{KERNEL_PYPI}/" for w in kernel_wheels}})
    (out / "static" / "browser-lock.json" if pyodide_url
     else target / "pyodide-lock.json").write_text(json.dumps(lock))
    # The start page: ours, in place of JupyterLite's redirect to JupyterLab.
    (out / "index.html").write_text(landing_page(sorted(notebooks.glob("[0-9][0-9]_*.ipynb")),
                                                 TITLE), encoding="utf-8")
    (out / MNIST_FOLDER).mkdir()
    for spec in FILES.values():
        shutil.copy2(status.folder / spec.name, out / MNIST_FOLDER / spec.name)
    return out
