"""The console of a running `territory demo`, in a real headless Chromium.

One demo for the module: `python -m territory demo` as a subprocess, with its embedded
broker, ingest, simulator, optimiser timer and console, exactly as a person runs it. The
tests read what it prints (the tokens), open every page (screenshots to
test-artifacts/demo-*.png), watch a value change live, follow an alert to its device, and
run the energy optimiser from the Plans page as an operator (the real `territory optimise
--once` over the demo's MQTT 3.1.1 broker).

`territory demo` has no option for the console's configuration: its console reads
`config/console.yaml` from the working folder, so the demo runs in a folder of its own whose
`config/console.yaml` is the project's with one alert threshold lowered, so that an alert is
raised on the demo's feeders as soon as they report, whatever the simulated hour.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from playwright.sync_api import Browser, Page, expect

from tests.dashboard.browser import screenshot_path
from tests.services import REPO, free_port

WAIT_MS = 30_000
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
DEMO_TERRITORY = REPO / "config/territories/demo.yaml"
# Every demo feeder carries a base load well above 5 % of its limit.
NEAR_RATIO = 0.05


@dataclass
class RunningDemo:
    url: str
    tokens: dict[str, str]  # role -> token, as the demo printed them
    folder: Path

    def api(self, role: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)


def write_console_config(folder: Path) -> None:
    settings: dict[str, Any] = yaml.safe_load((REPO / "config/console.yaml").read_text())
    settings["alerts"]["feeder_near_ratio"] = NEAR_RATIO
    (folder / "config").mkdir(parents=True)
    (folder / "config/console.yaml").write_text(yaml.safe_dump(settings))


def wait_until_running(process: subprocess.Popen[bytes], output: Path) -> str:
    """The demo's announcement, once it has printed it all; fails with its output if it dies."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        text = output.read_text(errors="replace")
        if "Ctrl-C stops everything." in text:
            return text
        if process.poll() is not None:
            pytest.fail(f"territory demo exited with {process.returncode}:\n{text}")
        time.sleep(0.2)
    pytest.fail(f"territory demo did not start within {START_TIMEOUT_S:.0f} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(f"territory demo did not stop within {STOP_TIMEOUT_S:.0f} s of SIGINT")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    folder = tmp_path_factory.mktemp("demo")
    write_console_config(folder)
    port = free_port()
    output = folder / "demo.out"
    env = {**os.environ, "TERRITORY_CONFIG": str(REPO / "config/settings.yaml")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "territory", "demo", "--port", str(port),
               "--data-dir", str(folder / "data"), "--territory", str(DEMO_TERRITORY)]  # fmt: skip
    with output.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=folder, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        text = wait_until_running(process, output)
        tokens = dict(re.findall(r"sign in as (\w+) with (\S+)", text))
        assert set(tokens) == {"viewer", "operator"}, text
        yield RunningDemo(f"http://127.0.0.1:{port}", tokens, folder)
    finally:
        stop(process)


def signed_in(browser: Browser, demo: RunningDemo, role: str, route: str) -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(f"{demo.url}/#/{route}")
    expect(page.locator("#login")).to_be_visible(timeout=WAIT_MS)
    page.fill("#token", demo.tokens[role])
    page.click("#login button")
    expect(page.locator("#live")).to_have_text("live", timeout=WAIT_MS)
    return page


# What each page shows once the demo's data has reached it.
PAGES = {
    "overview": ('#devices tr[data-device="f-centre"]', "kW"),
    "mobility": ('#stations tr[data-device^="centre-bik-"]', "centre"),
    "energy": ('section[data-feeder="f-centre"]', "of 270 kW"),
    "slots": ('#corridors tr[data-corridor="ligne-a"]', "450"),
    "plans": ('#plans tr[data-domain="energy"]', "optimal"),
    "alerts": ('#open-alerts tr[data-alert="feeder:f-centre"]', "near its 270 kW limit"),
    "device/f-centre": ("#device-latest .value", "kW"),
}


def test_every_page_of_the_demo_opens(demo: RunningDemo, browser: Browser) -> None:
    page = signed_in(browser, demo, "viewer", "overview")
    try:
        expect(page.locator("svg.map circle")).to_have_count(4, timeout=WAIT_MS)
        for route, (selector, text) in PAGES.items():
            page.goto(f"{demo.url}/#/{route}")
            expect(page.locator(selector).first).to_contain_text(text, timeout=WAIT_MS)
            page.wait_for_timeout(300)  # let the charts draw before the screenshot
            page.screenshot(path=screenshot_path(f"demo-{route.replace('/', '-')}"), full_page=True)
    finally:
        page.close()


def test_a_live_value_changes_without_reload(demo: RunningDemo, browser: Browser) -> None:
    page = signed_in(browser, demo, "viewer", "device/f-centre")
    try:
        latest = page.locator("#device-latest .headline")
        expect(latest).to_contain_text("seq", timeout=WAIT_MS)
        before = latest.inner_text()
        page.evaluate("window.sameDocument = true")  # gone if the page were reloaded
        expect(latest).not_to_have_text(before, timeout=WAIT_MS)  # the feeder reports every 5 s
        assert page.evaluate("window.sameDocument === true")
        seq = re.compile(r"\(seq (\d+)\)")
        now_seq, first_seq = seq.search(latest.inner_text()), seq.search(before)
        assert now_seq and first_seq and int(now_seq[1]) > int(first_seq[1])
    finally:
        page.close()


def test_an_alert_of_the_demo_links_to_its_device(demo: RunningDemo, browser: Browser) -> None:
    page = signed_in(browser, demo, "viewer", "alerts")
    try:
        row = page.locator('#open-alerts tr[data-alert="feeder:f-centre"]')
        expect(row).to_contain_text("feeder_load", timeout=WAIT_MS)
        row.get_by_role("link", name="f-centre").click()
        expect(page).to_have_url(f"{demo.url}/#/device/f-centre")
        expect(page.locator("#device-latest .value")).to_contain_text(" kW", timeout=WAIT_MS)
        expect(page.locator("#history-note")).to_contain_text("readings", timeout=WAIT_MS)
    finally:
        page.close()


def test_an_operator_runs_the_energy_optimiser_of_the_demo(
    demo: RunningDemo, browser: Browser
) -> None:
    page = signed_in(browser, demo, "operator", "plans")
    try:
        page.click('button[data-run="energy"]')
        status = page.locator("#run-status")
        expect(status).to_have_attribute("data-state", "succeeded", timeout=WAIT_MS)
        with demo.api("operator") as client:
            run = client.get("/api/optimise/runs").json()[0]
        assert run["domain"] == "energy" and run["requested_by"] == "demo-operator"
        # The run's own output names the plan it stored; that plan must reach the page.
        made = re.search(r"plan (energy-\d+)", run["output"])
        assert made, run["output"]
        expect(status).to_contain_text(made[1])
        row = page.locator(f'#plans tr[data-plan="{made[1]}"]')
        expect(row).to_contain_text("energy", timeout=WAIT_MS)
        page.screenshot(path=screenshot_path("demo-plans-after-run"), full_page=True)
    finally:
        page.close()


def test_a_viewer_cannot_run_the_demo_optimiser(demo: RunningDemo, browser: Browser) -> None:
    page = signed_in(browser, demo, "viewer", "plans")
    try:
        expect(page.locator('button[data-run="energy"]')).to_be_disabled()
        status = page.evaluate(
            """async (token) => (await fetch('/api/optimise/energy',
                 {method: 'POST', headers: {Authorization: 'Bearer ' + token}})).status""",
            demo.tokens["viewer"],
        )
        assert status == 403
    finally:
        page.close()
