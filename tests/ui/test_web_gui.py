"""The browser GUI end to end: ``stripe-kit gui`` in a subprocess, driven by a real headless Chromium (Playwright).

Picks the forest spec, edits a field, generates (object count shown, the 3D view changes), trains 4 CPU envs (the
epoch counter advances, the reward plot gets points, robots are drawn), stops (the checkpoint is reported).
Screenshots of each stage go to the test's tmp folder (``screenshots/``); the README's are copies of a good run.

Uses Debian's ``/usr/bin/chromium`` (``make test`` installs it), never Playwright's own browser downloads.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "train"))

from train_support import FAST, TASK  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_server(port: int, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"stripe-kit gui ended early (rc={proc.returncode}):\n{log.read_text()[-3000:]}"
        if "serving on" in log.read_text():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
                assert response.status == 200
            return
        time.sleep(0.2)
    raise AssertionError(f"stripe-kit gui did not start:\n{log.read_text()[-3000:]}")


def _pixels(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


@pytest.fixture
def chromium() -> str:
    path = _chromium()
    if path is None:
        pytest.skip("no Chromium found (/usr/bin/chromium): apt-get install chromium, or set CHROMIUM=/path")
    return path


@pytest.fixture
def gui(tmp_path, stripe_kit_bin, chromium):
    port = _free_port()
    log = tmp_path / "gui.log"
    args = [stripe_kit_bin, "gui", "--port", str(port), "--runs-dir", str(tmp_path / "runs"), "--device", "cpu"]
    for override in (*FAST, "sim.episode_length_s=1"):
        args += ["--override", override]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "exts"), os.environ.get("PYTHONPATH", "")]))
    with open(log, "w") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path, env=env)
    try:
        _wait_for_server(port, proc, log)
        yield f"http://127.0.0.1:{port}", proc, log
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_scene_and_training_in_the_browser(gui, chromium, tmp_path):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    url, proc, log = gui
    shots = tmp_path / "screenshots"
    shots.mkdir()

    def text_input(page, label: str):
        return page.locator(f"xpath=//label[normalize-space()='{label}']/following::input[1]")

    def body(page) -> str:
        return page.inner_text("body")

    def wait_text(page, pattern: str, timeout: float, what: str) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, body(page))
            if match:
                return match
            assert proc.poll() is None, f"stripe-kit gui ended (rc={proc.returncode}):\n{log.read_text()[-3000:]}"
            page.wait_for_timeout(250)
        page.screenshot(path=str(shots / "timeout.png"))
        raise AssertionError(f"{what}: /{pattern}/ not on the page after {timeout} s:\n{body(page)[-2000:]}\n"
                             f"{log.read_text()[-3000:]}")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=chromium, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1500, "height": 950})  # a fresh user data dir
        try:
            page = browser.pages[0] if browser.pages else browser.new_page()
            page.goto(url)
            page.get_by_role("button", name="Generate").wait_for(timeout=60_000)
            page.wait_for_timeout(1500)
            close = page.locator(".mantine-Notification-closeButton")  # the "software WebGL" notice
            if close.count():
                close.first.click()
            canvas = page.locator("canvas").first
            empty = _pixels(page.screenshot(clip=canvas.bounding_box()))

            # scene: pick the forest spec, edit a field, generate
            spec = page.get_by_label("Spec")
            spec.click()
            page.get_by_role("option", name="forest").click()
            rows = text_input(page, "terrain num_rows")
            rows.fill("4")
            rows.press("Tab")
            spacing = text_input(page, "tree.min_spacing")
            spacing.fill("2.5")
            spacing.press("Tab")
            page.wait_for_timeout(500)
            page.get_by_role("button", name="Generate").click()
            match = wait_text(page, r"(\d+) objects generated", 60, "scene summary")
            assert int(match.group(1)) > 0
            assert "4 x 6 tiles" in body(page)  # the edited field reached the generated scene
            assert "Error" not in body(page)
            page.wait_for_timeout(2500)
            page.screenshot(path=str(shots / "gui-scene.png"))
            drawn = _pixels(page.screenshot(clip=canvas.bounding_box()))
            assert drawn.shape == empty.shape and np.abs(drawn - empty).sum(axis=2).astype(bool).mean() > 0.05, \
                "the 3D view did not change after Generate"

            # a bad value shows a one-line error and keeps the scene
            spacing.fill("-1")
            spacing.press("Tab")
            wait_text(page, r"Error:.*min_spacing", 15, "field error")
            spacing.fill("2.5")
            spacing.press("Tab")

            # training: 4 CPU envs, a few epochs, stop
            page.get_by_role("tab", name="Training").click()
            text_input(page, "Num envs").fill("4")
            text_input(page, "Max iterations").fill("5000")  # so that Stop, not the limit, ends it
            page.wait_for_timeout(500)
            assert TASK in page.get_by_label("Task").input_value()
            page.get_by_role("button", name="Start training").click()
            wait_text(page, r"Epoch\s+[3-9]\d* / 5000 \(running\)", 120, "epoch counter")
            wait_text(page, r"Reward points: ([2-9]|\d\d)", 60, "reward plot")
            page.wait_for_timeout(1500)
            # a clip of the page, not an element screenshot: the page redraws the 3D view, so elements never settle
            plot = _pixels(page.screenshot(clip=page.locator(".uplot canvas").first.bounding_box()))
            green = (plot[..., 1] > plot[..., 0] + 40) & (plot[..., 1] > plot[..., 2] + 40)
            assert green.sum() > 50, "the reward plot shows no line"
            page.screenshot(path=str(shots / "gui-training.png"))
            page.get_by_role("button", name="Stop training").click()
            wait_text(page, r"\(stopped\)", 60, "stopped state")
            match = wait_text(page, r"Last checkpoint: (\S+last\.pth)", 10, "checkpoint")
            assert Path(match.group(1)).is_file()
            wait_text(page, r"stopped, epoch \d+", 10, "run list")
            page.wait_for_timeout(1000)
            page.screenshot(path=str(shots / "gui-stopped.png"))
        finally:
            browser.close()
