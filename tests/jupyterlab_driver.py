"""Start an isolated JupyterLab server and drive its notebooks in headless Chromium.

Used by ``test_browser.py`` (every notebook, as a student meets it) and
``test_lab_command.py`` (the README's ``make lab``). The server gets a free port on
127.0.0.1, a random token, and its own config, data, runtime, workspace and
user-settings folders, so nothing on the machine changes what the tests see.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
    "--no-first-run", "--disable-background-networking", "--disable-component-update",
    "--disable-sync",
]

# User settings (JUPYTERLAB_SETTINGS_DIR): no news or update toasts over the page, every
# cell kept in the DOM (the default windowing drops off-screen cells), no extension manager.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                    "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/extensionmanager-extension/plugin": {"enabled": False},
}
SERVER_CONFIG = {
    "LabApp": {"news_url": None, "extension_manager": "readonly",
               "check_for_updates_class": "jupyterlab.handlers.announcements.NeverCheckForUpdate"},
}
PROBLEM_TEXT = re.compile(r"traceback|error|warning", re.IGNORECASE)
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


# --------------------------------------------------------------------------- server
def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def isolated_env(state_dir: Path) -> dict[str, str]:
    """``os.environ`` plus Jupyter folders of its own under ``state_dir`` (created, configured).

    The repository root goes first on ``PYTHONPATH`` so kernels import ``lecture_utils``
    from this checkout whatever their working folder.
    """
    dirs = {name: state_dir / sub for name, sub in [
        ("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
        ("JUPYTERLAB_SETTINGS_DIR", "user-settings"), ("IPYTHONDIR", "ipython"),
    ]}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    (dirs["JUPYTER_CONFIG_DIR"] / "jupyter_server_config.json").write_text(
        json.dumps(SERVER_CONFIG, indent=1))
    for name, values in LAB_SETTINGS.items():
        path = dirs["JUPYTERLAB_SETTINGS_DIR"] / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values, indent=1))
    env = dict(os.environ, **{k: str(v) for k, v in dirs.items()})
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(ROOT), env.get("PYTHONPATH")] if p)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("MKL_NUM_THREADS", "1")
    return env


def lab_args(port: int, token: str) -> list[str]:
    """Command-line options: headless, 127.0.0.1, ``port`` (no retries), ``token``."""
    args = ["--no-browser", "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")
    return args


@dataclass
class LabServer:
    """A running JupyterLab: its URL, token, root folder, process and log file."""

    url: str
    token: str
    root_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def api(self, path: str, method: str = "GET") -> Any:
        """Call the REST API at ``/api/<path>`` with the token; JSON result (None if empty)."""
        request = urllib.request.Request(f"{self.url}api/{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def lab_url(self, path: str = "lab") -> str:
        return f"{self.url}{path}?token={self.token}"

    def log(self, start: int = 0) -> str:
        """The server's (and its kernels') output from byte ``start`` on."""
        with self.log_path.open("rb") as f:
            f.seek(start)
            return f.read().decode(errors="replace")

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def shutdown_kernels(self) -> None:
        """Delete every session (and so its kernel), to free memory between notebooks."""
        for session in self.api("sessions"):
            self.api(f"sessions/{session['id']}", method="DELETE")


def wait_for_api(url: str, token: str, process: subprocess.Popen[bytes], log_path: Path,
                 timeout: float) -> None:
    """Poll ``<url>api/status`` until it answers 200; raise with the log tail otherwise."""
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(f"{url}api/status",
                                     headers={"Authorization": f"token {token}"})
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {process.returncode}:\n"
                               f"{_tail(log_path)}")
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise TimeoutError(f"JupyterLab API at {url} did not answer within {timeout:.0f} s:\n"
                       f"{_tail(log_path)}")


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def stop_process_group(process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """SIGTERM the process group of ``process`` (started with a new session), then SIGKILL."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    try:  # children (kernels, make's jupyter) may outlive the leader
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout)


@contextmanager
def running_lab(root_dir: Path, state_dir: Path,
                command_for: Callable[[list[str]], list[str]] | None = None,
                timeout: float = 120) -> Iterator[LabServer]:
    """Start JupyterLab in ``root_dir``, yield it once its API answers, then stop it.

    ``command_for(options)`` builds the command line from the options of ``lab_args``
    (default: this Python's ``jupyter lab`` serving ``root_dir`` with ``window.jupyterapp``
    exposed for the browser driver). The command runs in ``root_dir``, in a process group
    of its own that is killed on exit, with the environment of ``isolated_env``.
    """
    port, token = free_port(), secrets.token_hex(16)
    if command_for is None:
        def command_for(options: list[str]) -> list[str]:
            return [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={root_dir}",
                    "--LabApp.expose_app_in_browser=True", *options]
    log_path = state_dir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command_for(lab_args(port, token)), cwd=root_dir,
                                   env=isolated_env(state_dir), stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_api(url, token, process, log_path, timeout)
        yield LabServer(url, token, root_dir, process, log_path)
    finally:
        stop_process_group(process)


def skip_or_fail_in_ci(reason: str) -> NoReturn:
    """Skip the test for ``reason``; fail it instead when ``CI`` is set (CI must run it)."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def chromium_missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None when Chromium is installed."""
    if CHROMIUM.exists():
        return None
    return (f"Chromium not found at {CHROMIUM}: run scripts/ensure-chromium "
            "(as root it installs Debian's chromium package) or set CHROMIUM_PATH")


def launch_chromium(playwright: Any) -> Any:
    """Headless system Chromium through Python playwright (no ``playwright install``)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                      headless=True)


# --------------------------------------------------------------------------- notebooks
def copy_for_browser(source: Path, target: Path) -> Path:
    """Copy a notebook for JupyterLab to open: outputs cleared, kernel ``python3``.

    JupyterLab autosaves the files it opens, so it only ever sees copies. Clearing the
    stored outputs means every output on the page (including stale widget views, which
    would show "Error displaying widget: model not found") comes from this run.
    """
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return target


@dataclass
class NotebookCheck:
    """What driving one notebook found: problems (empty = fine), timings, screenshots."""

    notebook: str
    artifacts: Path
    problems: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    #: "cell 3, slider 1 'η'" -> key-press-to-figure times (ms) of that slider
    slider_latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    sliders: int = 0
    buttons: int = 0
    widgets: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def median_latency_ms(self) -> float | None:
        return statistics.median(self.latencies_ms) if self.latencies_ms else None

    def slider_lines(self) -> list[str]:
        """One line per slider: median, spread and count of its key-press-to-figure times."""
        return [f"{self.notebook} {where}: median {statistics.median(times):.0f} ms "
                f"(min {min(times):.0f}, max {max(times):.0f}) over {len(times)} presses"
                for where, times in self.slider_latencies_ms.items() if times]

    def summary(self) -> str:
        latency = (f", slider->figure median {self.median_latency_ms:.0f} ms "
                   f"over {len(self.latencies_ms)}" if self.latencies_ms else "")
        return (f"{self.notebook}: {self.seconds:.1f} s, {self.widgets} widget views, "
                f"{self.sliders} sliders, {self.buttons} buttons{latency}")

    def failure_message(self) -> str:
        lines = [f"{self.notebook}: {len(self.problems)} problem(s) in JupyterLab:"]
        lines += [f"  - {p}" for p in self.problems]
        lines.append(f"screenshots and logs: {self.artifacts}")
        return "\n".join(lines)


# JavaScript run in the page; `window.jupyterapp` is exposed by --LabApp.expose_app_in_browser.
# `within` bounds every wait, so a hang becomes an error with a screenshot, not a stuck test.
_JS_WITHIN = """const within = (promise, seconds, what) => Promise.race([promise,
  new Promise((_, reject) => setTimeout(
    () => reject(new Error(`${what}: no answer within ${seconds} s`)), seconds * 1000))]);"""
_JS_OPEN = "async (path) => {\n" + _JS_WITHIN + """
  const app = window.jupyterapp;
  await within(app.restored, 120, 'JupyterLab start');
  const panel = await within(app.commands.execute('docmanager:open',
      {path, factory: 'Notebook', kernel: {name: 'python3'}}), 120, 'opening ' + path);
  window.__nb = panel;
  // stderr and errors of messages that no cell shows: widget callbacks (comm messages).
  window.__callbackStderr = [];
  panel.sessionContext.iopubMessage.connect((_, msg) => {
    if (msg.parent_header?.msg_type === 'execute_request') return;
    const type = msg.header.msg_type, content = msg.content;
    if (type === 'stream' && content.name === 'stderr') window.__callbackStderr.push(content.text);
    if (type === 'error') window.__callbackStderr.push(content.traceback.join('\\n'));
  });
  window.__mutations = 0;  // lets the driver wait until the notebook stops changing
  new MutationObserver(() => { window.__mutations++; }).observe(panel.content.node,
      {subtree: true, childList: true, attributes: true, characterData: true});
  await within(Promise.all([panel.context.ready, panel.sessionContext.ready]), 120,
               'kernel session');
  app.shell.activateById(panel.id);
  await within(panel.revealed, 60, 'showing the notebook');
  return panel.id;
}"""
_JS_KERNEL_READY = """() => {
  const kernel = window.__nb.sessionContext.session?.kernel;
  return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}"""
_JS_RUN_ALL = "async (seconds) => {\n" + _JS_WITHIN + """
  window.jupyterapp.shell.activateById(window.__nb.id);
  return await within(window.jupyterapp.commands.execute('notebook:run-all-cells'), seconds,
                      'run all cells');
}"""
_JS_KERNEL_STATUS = "() => window.__nb.sessionContext.session?.kernel?.status ?? 'none'"
# From the notebook model: error outputs (exact cell numbers) and, per cell, how many
# widget views the kernel displayed.
_JS_CELL_OUTPUTS = """() => {
  const errors = [], views = [];
  const cells = window.__nb.content.model.cells;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    let n = 0;
    for (const o of (cell.type === 'code' && cell.toJSON().outputs) || []) {
      if (o.output_type === 'error') errors.push(`cell ${i + 1} raised ${o.ename}: ${o.evalue}`);
      const view = o.data && o.data['application/vnd.jupyter.widget-view+json'];
      if (view && view.model_id) n++;
    }
    views.push(n);
  }
  return {errors, views, callbackStderr: window.__callbackStderr.join('')};
}"""
# From the page: stderr and error outputs (also inside widget Output areas), widget
# placeholders ("Loading widget...", "Error displaying widget") and, per cell, how many
# widget views rendered.
_JS_PAGE_STATE = """(pattern) => {
  const re = new RegExp(pattern, 'i');
  const cells = [...window.__nb.content.node.querySelectorAll('.jp-Cell')];
  const problems = [], rendered = [];
  let loading = 0;
  cells.forEach((cell, i) => {
    for (const el of cell.querySelectorAll('.jp-OutputArea-output')) {
      const text = el.innerText.trim();
      if (el.dataset.mimeType === 'application/vnd.jupyter.stderr' && re.test(text)) {
        const where = el.closest('.widget-output') ? 'inside a widget output' : 'output';
        problems.push(`cell ${i + 1}: ${where}: ${text.slice(-1500)}`);
      } else if (text.startsWith('Error displaying widget')) {
        problems.push(`cell ${i + 1}: ${text}`);
      } else if (text.startsWith('Loading widget')) {
        loading++;
      }
    }
    rendered.push(cell.querySelectorAll(
      '.jp-Cell-outputArea > .jp-OutputArea-child > .jp-OutputArea-output > .jupyter-widgets'
    ).length);
  });
  return {problems, rendered, loading, mutations: window.__mutations};
}"""
_JS_SLIDER_LABEL = """(handle) => handle.closest('.widget-slider')
  .querySelector('.widget-label')?.innerText.trim() || 'unlabelled'"""
# The readout, the rounded aria value and the handle position: any of them moves.
_JS_SLIDER_VALUE = """(handle) => ({
  shown: handle.closest('.widget-slider').querySelector('.widget-readout')?.innerText
         || handle.getAttribute('aria-valuenow'),
  aria: handle.getAttribute('aria-valuetext') + ' ' + handle.getAttribute('aria-valuenow'),
  position: handle.parentElement.style.transform})"""
# Arm a probe on a cell before a key press. It records the key press time, then the time
# of the first frame painted after the figure (image sources and widget output text)
# changed, with at least as many images as before; or `settled` once the kernel went busy
# and then idle for 1 s (or never went busy within 5 s) without that, `changed` telling
# whether the cell changed at all (say, a traceback replaced the figure).
_JS_ARM_PROBE = """(cell) => {
  const images = () => [...cell.querySelectorAll('.jp-Cell-outputArea img')];
  const state = () => JSON.stringify([images().map((i) => i.src),
    [...cell.querySelectorAll('.widget-output')].map((o) => o.innerText)]);
  const kernel = window.__nb.sessionContext.session.kernel;
  const probe = {before: state(), t0: null, t1: null, settled: false, changed: false,
                 busy: false, idleSince: null};
  const imagesBefore = images().length;
  window.__probe = probe;
  document.addEventListener('keydown', () => { probe.t0 = performance.now(); },
                            {capture: true, once: true});
  const onStatus = (_, status) => {
    if (status === 'busy') { probe.busy = true; probe.idleSince = null; }
    if (status === 'idle' && probe.busy) probe.idleSince = performance.now();
  };
  kernel.statusChanged.connect(onStatus);
  const finish = () => {
    observer.disconnect(); clearInterval(timer); kernel.statusChanged.disconnect(onStatus);
  };
  const observer = new MutationObserver(async () => {
    if (probe.t0 === null || probe.t1 !== null || probe.settled) return;
    // Changed, and not just cleared on the way (clear_output without wait=True).
    if (state() === probe.before || images().length < imagesBefore) return;
    finish();
    await Promise.all(images().map((i) => i.decode().catch(() => null)));
    await new Promise((r) => requestAnimationFrame(() => r()));
    probe.t1 = performance.now();
  });
  observer.observe(cell, {subtree: true, childList: true, attributes: true,
                          characterData: true});
  const timer = setInterval(() => {
    if (probe.t0 === null) return;
    const now = performance.now();
    const quiet = probe.busy ? (probe.idleSince !== null && now - probe.idleSince > 1000)
                             : now - probe.t0 > 5000;
    if (quiet) { probe.settled = true; probe.changed = state() !== probe.before; finish(); }
  }, 50);
}"""


class NotebookDriver:
    """Drive one notebook in a fresh browser page; collect a ``NotebookCheck``."""

    def __init__(self, lab: LabServer, browser: Any, path: str, artifacts: Path,
                 run_timeout_s: float = 900, slider_timeout_s: float = 120,
                 presses: int = 1) -> None:
        if presses < 1:
            raise ValueError(f"presses must be >= 1, got {presses}")
        self.lab, self.browser, self.path, self.presses = lab, browser, path, presses
        self.run_timeout_s, self.slider_timeout_ms = run_timeout_s, slider_timeout_s * 1000
        shutil.rmtree(artifacts, ignore_errors=True)
        artifacts.mkdir(parents=True)
        self.result = NotebookCheck(Path(path).stem, artifacts)
        self.console: list[str] = []
        self.panel = ""

    def run(self) -> NotebookCheck:
        """Open, wait for the kernel, run all cells, check outputs, widgets and sliders."""
        start, log_start = time.monotonic(), self.lab.log_size()
        context = self.browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        try:
            self._open(page)
            ran_ok = page.evaluate(_JS_RUN_ALL, self.run_timeout_s)
            self._settle(page)
            self._check_page(page, after_run_all=True)
            if not ran_ok and not self.result.problems:
                self.result.problems.append("run all cells stopped early (a cell failed)")
            page.screenshot(path=self.result.artifacts / "after_run_all.png")
            if ran_ok:
                self._move_sliders(page)
                self._settle(page)
                self._check_page(page)
        except Exception as exc:  # a hang or a crash is a finding too, with a screenshot
            self.result.problems.append(f"driver: {type(exc).__name__}: {exc}"
                                        f"{_dialog_text(page)}")
            _try_screenshot(page, self.result.artifacts / "driver_error.png")
        finally:
            self.result.seconds = time.monotonic() - start
            (self.result.artifacts / "server.log").write_text(self.lab.log(log_start))
            (self.result.artifacts / "console.log").write_text("\n".join(self.console))
            context.close()
            self.lab.shutdown_kernels()
        self.result.problems = list(dict.fromkeys(self.result.problems))  # drop repeats
        (self.result.artifacts / "report.txt").write_text(
            self.result.summary() + "\n" + (self.result.failure_message()
                                            if self.result.problems else "no problems") + "\n")
        return self.result

    def _open(self, page: Any) -> None:
        # A workspace of its own: the default one would reopen earlier notebooks.
        page.goto(self.lab.lab_url(f"lab/workspaces/check-{secrets.token_hex(4)}"),
                  wait_until="domcontentloaded")
        page.wait_for_function("() => window.jupyterapp !== undefined", timeout=120_000)
        self.panel = page.evaluate(_JS_OPEN, self.path)
        # Running all cells as soon as the toolbar says idle can run nothing.
        page.wait_for_function(_JS_KERNEL_READY, timeout=120_000)

    def _settle(self, page: Any) -> None:
        """Wait for an idle kernel, then rendered widget views and no DOM change for 0.5 s."""
        deadline = time.monotonic() + self.run_timeout_s
        while (status := page.evaluate(_JS_KERNEL_STATUS)) != "idle":
            if status in ("dead", "none") or time.monotonic() > deadline:
                self.result.problems.append(f"kernel {status} after running the cells")
                return
            page.wait_for_timeout(100)
        deadline, last, stable_since = time.monotonic() + 60, None, time.monotonic()
        while time.monotonic() < deadline:
            state = page.evaluate(_JS_PAGE_STATE, PROBLEM_TEXT.pattern)
            if (key := (state["mutations"], state["loading"])) != last:
                last, stable_since = key, time.monotonic()
            elif state["loading"] == 0 and time.monotonic() - stable_since > 0.5:
                return
            page.wait_for_timeout(100)

    def _check_page(self, page: Any, after_run_all: bool = False) -> None:
        """Add what the notebook model and the page show is wrong; count widget views."""
        model = page.evaluate(_JS_CELL_OUTPUTS)
        state = page.evaluate(_JS_PAGE_STATE, PROBLEM_TEXT.pattern)
        self.result.problems += model["errors"] + state["problems"]
        stderr = ANSI_ESCAPE.sub("", model["callbackStderr"]).strip()
        if PROBLEM_TEXT.search(stderr):
            tail = "\n".join(stderr.splitlines()[-12:])
            self.result.problems.append("kernel stderr outside any cell's output (a widget "
                                        f"callback?), last lines:\n{tail}")
        if state["loading"]:
            self.result.problems.append(f"{state['loading']} widget view(s) never rendered "
                                        "(still 'Loading widget...')")
        if after_run_all:  # moving sliders may legitimately replace views afterwards
            for i, (shown, rendered) in enumerate(zip(model["views"], state["rendered"],
                                                      strict=True)):
                if rendered < shown:
                    self.result.problems.append(f"cell {i + 1}: {shown - rendered} of {shown} "
                                                "widget view(s) did not render")
            self.result.widgets = sum(state["rendered"])

    def _move_sliders(self, page: Any) -> None:
        """Use every interactive figure as a student would, with the keyboard.

        A cell showing sliders and a figure: every enabled slider must move and change the
        figure (an explorer disables the sliders that its current choices ignore).
        A cell showing sliders, a button and a widget output but no figure yet (an explorer
        that only runs on **Run**): pressing the button must draw a figure.
        """
        cells = page.locator(f"#{self.panel} .jp-Cell")
        for c in range(cells.count()):
            cell = cells.nth(c)
            handles = cell.locator(".widget-slider .noUi-target:not([disabled]) .noUi-handle")
            if not handles.count():
                continue
            if cell.locator(".jp-Cell-outputArea img").count():
                for h in range(handles.count()):
                    self._move_slider(page, cell, handles.nth(h), c + 1, h + 1)
            elif cell.locator(".widget-output").count():
                buttons = cell.locator("button.widget-button")
                for b in range(buttons.count()):
                    self._press_button(page, cell, buttons.nth(b), c + 1, b + 1)

    def _move_slider(self, page: Any, cell: Any, handle: Any, cell_no: int, slider_no: int
                     ) -> None:
        """Focus ``handle``; press an arrow key ``presses`` times (alternating); check each."""
        self.result.sliders += 1
        label = handle.evaluate(_JS_SLIDER_LABEL)
        at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
        keys = ["ArrowLeft", "ArrowRight"] if at_max else ["ArrowRight", "ArrowLeft"]
        name = f"cell{cell_no:02d}_slider{slider_no}"
        for press in range(self.presses):
            key, value = keys[press % 2], handle.evaluate(_JS_SLIDER_VALUE)
            where = (f"cell {cell_no}, slider {slider_no} '{label}' ({key} from "
                     f"{value['shown']}, press {press + 1})")
            probe = self._press(page, cell, handle, key, name if press == 0 else None)
            if handle.evaluate(_JS_SLIDER_VALUE) == value:
                self.result.problems.append(f"{where}: the slider did not move")
                return
            if probe["t1"] is None:
                what = "lost its figure" if probe["changed"] else "did not change the figure"
                self.result.problems.append(f"{where}: {what} (compare {name}_before.png "
                                            f"and {name}_after.png)")
                return
            self.result.latencies_ms.append(probe["t1"] - probe["t0"])
            self.result.slider_latencies_ms.setdefault(
                f"cell {cell_no}, slider {slider_no} '{label}'", []).append(
                probe["t1"] - probe["t0"])

    def _press_button(self, page: Any, cell: Any, button: Any, cell_no: int, button_no: int
                      ) -> None:
        """Press ``button`` with the keyboard; a figure must appear in the cell."""
        self.result.buttons += 1
        name = f"cell{cell_no:02d}_button{button_no}"
        label = button.inner_text().strip()
        self._press(page, cell, button, "Enter", name)
        if not cell.locator(".jp-Cell-outputArea img").count():
            self.result.problems.append(f"cell {cell_no}, button '{label}': pressing it drew "
                                        f"no figure (see {name}_after.png)")

    def _press(self, page: Any, cell: Any, target: Any, key: str, name: str | None
               ) -> dict[str, Any]:
        """Press ``key`` on ``target`` and wait for the cell's figure; the probe's record.

        ``t0``/``t1``: key press and changed figure (ms; ``t1`` None if it did not change);
        ``changed``: whether the cell changed at all. With a ``name``, screenshots of the
        cell before and after go to the artifacts.
        """
        target.scroll_into_view_if_needed()
        if name:
            cell.screenshot(path=self.result.artifacts / f"{name}_before.png")
        cell.evaluate(_JS_ARM_PROBE)
        target.focus()
        target.press(key)
        page.wait_for_function("() => window.__probe.t1 !== null || window.__probe.settled",
                               timeout=self.slider_timeout_ms)
        if name:
            cell.screenshot(path=self.result.artifacts / f"{name}_after.png")
        return page.evaluate("() => window.__probe")


def _dialog_text(page: Any) -> str:
    """The text of an open JupyterLab dialog (say, a kernel error), if any."""
    try:
        dialogs = page.locator(".jp-Dialog")
        return f"; dialog: {dialogs.first.inner_text(timeout=1000)}" if dialogs.count() else ""
    except Exception:  # the page may be gone; the original error is what matters
        return ""


def _try_screenshot(page: Any, path: Path) -> None:
    try:
        page.screenshot(path=path)
    except Exception:  # the page may be gone; the original error is what matters
        pass


def check_notebook(lab: LabServer, browser: Any, path: str, artifacts: Path,
                   **options: float) -> NotebookCheck:
    """Open ``path`` (relative to the server's root) in a new page of ``browser``; check it.

    Runs all cells, then reports: error outputs; tracebacks, errors or warnings on stderr
    anywhere (cell outputs, widget Output areas, widget callbacks); widget views that show
    "Error displaying widget" or never render; sliders (of cells with a figure) that do not
    move or do not change the figure when moved with the keyboard. Screenshots before and
    after each first slider move go to ``artifacts``. ``options``: ``run_timeout_s``,
    ``slider_timeout_s``, ``presses`` (key presses per slider, for latency samples).
    """
    return NotebookDriver(lab, browser, path, artifacts, **options).run()
