"""One real-browser test: JupyterLab on 127.0.0.1, headless Chromium (Debian's
package, driven by Playwright) opens 01_quickstart, runs it, clicks Start in
the live panel, sees the active calls rise, clicks Stop, and saves
screenshots in the test's temporary directory."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "01_quickstart.ipynb"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.browser


def ensure_chromium() -> str:
    """The Chromium binary; installed with apt-get when missing and we are root.
    Skips (saying why) only when it is absent and cannot be installed."""
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        pytest.skip(f"{CHROMIUM} is missing and cannot be installed here (needs root and "
                    "apt-get): `apt-get install -y chromium` enables this test")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    proc = None
    for cmd in ([apt, "install", "-y", "chromium"], [apt, "update"],
                [apt, "install", "-y", "chromium"]):
        try:
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900,
                                  check=False)
        except subprocess.TimeoutExpired:
            break
        if cmd[1] == "install" and proc.returncode == 0 and os.access(CHROMIUM, os.X_OK):
            return CHROMIUM
    tail = (proc.stderr or proc.stdout)[-500:] if proc is not None else "timed out"
    pytest.skip(f"{CHROMIUM} is missing and `apt-get install -y chromium` failed: {tail}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_lab_settings(settings: Path) -> None:
    """No news/update toasts; the notebook's kernel starts without asking; every cell
    rendered (no windowing) so the panel is in the DOM."""
    files = {
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
            {"fetchNews": "false", "checkForUpdates": False},
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
            {"windowingMode": "none", "autoStartDefaultKernel": True},
    }
    for name, content in files.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content), encoding="utf-8")


def write_server_config(config: Path) -> None:
    """Loopback only: no news feed, no update check, no PyPI extension manager."""
    config.mkdir(parents=True, exist_ok=True)
    (config / "jupyter_server_config.json").write_text(json.dumps({
        "LabApp": {"news_url": None, "extension_manager": "readonly",
                   "check_for_updates_class": "jupyterlab.NeverCheckForUpdate"},
        "ServerApp": {"terminals_enabled": False},
    }), encoding="utf-8")


class JupyterLab:
    """A JupyterLab server in its own process group, on 127.0.0.1, in ``root``."""

    def __init__(self, root: Path, home: Path) -> None:
        import secrets

        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        write_lab_settings(home / "settings")
        write_server_config(home / "config")
        env = dict(os.environ)
        env.update({
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
            "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
            "IPYTHONDIR": str(home / "ipython"),
        })
        self.log = open(home / "jupyterlab.log", "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
             f"--port={self.port}", "--port-retries=0", f"--ServerApp.root_dir={root}",
             f"--IdentityProvider.token={self.token}", "--ServerApp.open_browser=False",
             *(["--allow-root"] if os.geteuid() == 0 else [])],
            cwd=root, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.children: set[int] = set()

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/status?token={self.token}",
                                            timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise TimeoutError(f"JupyterLab did not answer within {timeout} s")

    def remember_children(self) -> None:
        """Note the kernels (started in their own sessions) so they are killed too."""
        import psutil

        try:
            for child in psutil.Process(self.proc.pid).children(recursive=True):
                self.children.add(child.pid)
        except psutil.NoSuchProcess:
            pass

    def stop(self) -> None:
        import psutil

        self.remember_children()
        try:  # a clean shutdown stops the kernels too
            req = urllib.request.Request(f"{self.url}/api/shutdown?token={self.token}",
                                         method="POST")
            urllib.request.urlopen(req, timeout=5).close()
            self.proc.wait(15)
        except (OSError, subprocess.TimeoutExpired):
            pass
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)
        for pid in self.children:
            try:
                psutil.Process(pid).kill()
            except psutil.NoSuchProcess:
                pass
        self.log.close()


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[JupyterLab]:
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    server = JupyterLab(root, tmp_path / "jupyter")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def active_calls(page) -> int:
    text = page.locator(".switchlab-stat-active").first.inner_text(timeout=5000)
    return int(text.replace(",", "") or 0)


def wait_for(cond, timeout: float, what: str, step: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"{what}: not seen within {timeout:.0f} s")


@pytest.mark.timeout(300)
def test_quickstart_panel_in_a_real_browser(lab: JupyterLab, tmp_path: Path) -> None:
    chromium = ensure_chromium()
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                     args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(30_000)
            page.goto(f"{lab.url}/lab/tree/{NOTEBOOK.name}?token={lab.token}")
            page.locator(".jp-Notebook .jp-Cell").first.wait_for()
            dialog = page.locator(".jp-Dialog .jp-mod-accept")   # "Select Kernel", if asked
            try:
                dialog.wait_for(timeout=3000)
                dialog.click()
            except PlaywrightTimeout:
                pass
            # the kernel is up
            page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(
                timeout=60_000)
            page.screenshot(path=str(tmp_path / "0-opened.png"))

            # Run → Run All Cells
            page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
            page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()

            # the panel appears and the notebook runs to its end
            page.locator(".switchlab-start").wait_for(timeout=90_000)
            lab.remember_children()
            n_code = page.locator(".jp-CodeCell").count()

            def all_ran() -> bool:
                prompts = page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
                done = [p for p in prompts if re.search(r"\[\d+\]", p)]
                return len(done) == n_code and not any("*" in p for p in prompts)

            wait_for(all_ran, 150, "every cell executed")
            errors = page.locator(".jp-OutputArea-output[data-mime-type="
                                  "'application/vnd.jupyter.stderr'] >> text=Traceback")
            assert errors.count() == 0
            assert page.locator(".jp-OutputArea-output img").count() >= 2   # the two plots
            panel = page.locator(".switchlab-panel")
            panel.scroll_into_view_if_needed()
            wait_for(lambda: page.locator(".switchlab-stat-state").inner_text() == "STOPPED",
                     30, "the notebook's own load test stopped")
            wait_for(lambda: active_calls(page) == 0, 30, "its calls ended")
            page.screenshot(path=str(tmp_path / "1-ran.png"), full_page=True)

            # Start in the panel: the active calls rise
            page.locator(".switchlab-start").click()
            wait_for(lambda: page.locator(".switchlab-stat-state").inner_text() ==
                     "ORIGINATING", 15, "state ORIGINATING after Start")
            first = wait_for(lambda: active_calls(page), 15, "active calls above 0")
            wait_for(lambda: active_calls(page) > max(first, 10), 20,
                     f"active calls rising above {max(first, 10)}")
            time.sleep(1.5)   # one more refresh of the chart
            panel.screenshot(path=str(tmp_path / "2-panel-running.png"))
            page.screenshot(path=str(tmp_path / "3-running.png"))

            # Stop in the panel
            page.locator(".switchlab-stop").click()
            wait_for(lambda: page.locator(".switchlab-stat-state").inner_text() == "STOPPED",
                     15, "state STOPPED after Stop")
            wait_for(lambda: active_calls(page) == 0, 30, "calls ended after Stop")
            assert page.locator(".switchlab-errors .switchlab-error").count() == 0
            panel.screenshot(path=str(tmp_path / "4-panel-stopped.png"))
        except BaseException:
            try:  # what the page showed when it failed
                page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
            except Exception:  # noqa: BLE001 - keep the original error
                pass
            raise
        finally:
            browser.close()
    shots = sorted(p.name for p in tmp_path.glob("*.png"))
    assert shots == ["0-opened.png", "1-ran.png", "2-panel-running.png", "3-running.png",
                     "4-panel-stopped.png"]
