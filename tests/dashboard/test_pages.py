"""Every page of the console in a real headless Chromium, signed in with a token.

The console runs over a seeded store with a scenario file; live changes are written into
the store while the page is open. A screenshot of each page goes to test-artifacts/.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from territory.store import Plan
from tests.dashboard.browser import screenshot_path
from tests.dashboard.helpers import (
    OPERATOR_TOKEN,
    VIEWER_TOKEN,
    ConsoleServer,
    secured_config,
    serve,
    station,
)
from tests.dashboard.rich import seed_rich, write_scenario

WAIT_MS = 15_000


@pytest.fixture(scope="module")
def territory_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    folder = tmp_path_factory.mktemp("pages")
    seed_rich(folder / "territory.db")
    running = serve(
        folder / "territory.db", secured_config(), territory_file=write_scenario(folder)
    )
    yield running
    running.stop()
    running.store.close()


def signed_in(browser: Browser, console: ConsoleServer, token: str, route: str) -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(f"{console.url}/#/{route}")
    expect(page.locator("#login")).to_be_visible(timeout=WAIT_MS)
    page.fill("#token", token)
    page.click("#login button")
    expect(page.locator("#live")).to_have_text("live", timeout=WAIT_MS)
    return page


PAGES = {
    "overview": ('#zones tr[data-zone="centre"]', "9 / 40"),
    "mobility": ('#routes tr[data-van="van-1"]', "north-bik-001"),
    "energy": ('section[data-feeder="fd-centre"]', "of 400 kW"),
    "slots": ("#shifted", "office-park"),
    "plans": ('#plans tr[data-domain="slots"]', "fallback"),
    "alerts": ("#open-alerts", "centre-bik-001 has 0 bikes"),
    "device/fd-centre": ("#device-latest", "400 kW"),
    "zone/centre?kind=feeder": ("#zone-history-note", "points of 300 s over 1 feeder"),
}


def test_every_page_opens_with_its_content(
    territory_console: ConsoleServer, browser: Browser
) -> None:
    page = signed_in(browser, territory_console, VIEWER_TOKEN, "overview")
    try:
        expect(page.locator("svg.map circle")).to_have_count(3, timeout=WAIT_MS)
        for route, (selector, text) in PAGES.items():
            page.goto(f"{territory_console.url}/#/{route}")
            expect(page.locator(selector).first).to_contain_text(text, timeout=WAIT_MS)
            page.wait_for_timeout(300)  # let the charts draw before the screenshot
            name = route.split("?")[0].replace("/", "-")
            page.screenshot(path=screenshot_path(f"page-{name}"), full_page=True)
    finally:
        page.close()


def test_a_live_value_changes_on_the_mobility_page(
    territory_console: ConsoleServer, browser: Browser
) -> None:
    page = signed_in(browser, territory_console, VIEWER_TOKEN, "mobility")
    try:
        cell = page.locator('#stations tr[data-device="east-bik-001"] td.bikes')
        expect(cell).to_have_text("11", timeout=WAIT_MS)
        territory_console.store.write([station("east-bik-001", "east", 101, bikes=2)])
        expect(cell).to_have_text("2", timeout=WAIT_MS)
    finally:
        page.close()


def test_an_alert_links_to_its_device(territory_console: ConsoleServer, browser: Browser) -> None:
    page = signed_in(browser, territory_console, VIEWER_TOKEN, "alerts")
    try:
        row = page.locator('#open-alerts tr[data-alert="full:north-bik-001"]')
        row.get_by_role("link", name="north-bik-001").click()
        expect(page).to_have_url(f"{territory_console.url}/#/device/north-bik-001")
        expect(page.locator("#device-latest .value")).to_have_text("20 / 20 bikes", timeout=WAIT_MS)
        expect(page.locator("#history-note")).to_contain_text("readings", timeout=WAIT_MS)
    finally:
        page.close()


def plotted(page: Page, chart: str) -> list[float]:
    """The values of the first series of the chart in the element `chart`, once drawn."""
    page.wait_for_function(
        f"() => document.querySelector('{chart}')?.plot?.data[0].length > 0", timeout=WAIT_MS
    )
    values = page.evaluate(f"() => document.querySelector('{chart}').plot.data[1]")
    return [float(v) for v in values if v is not None]


def test_a_zones_history_is_drawn_from_its_devices(
    territory_console: ConsoleServer, browser: Browser
) -> None:
    page = signed_in(browser, territory_console, VIEWER_TOKEN, "overview")
    try:
        page.locator('#zones tr[data-zone="centre"]').get_by_role("link", name="Centre").click()
        expect(page).to_have_url(f"{territory_console.url}/#/zone/centre")
        expect(page.locator("#view h2").first).to_have_text("Zone Centre", timeout=WAIT_MS)
        # The centre's feeder: an hour of readings, 200 kW rising by 2 kW a minute.
        page.goto(f"{territory_console.url}/#/zone/centre?kind=feeder&window=21600")
        note = page.locator("#zone-history-note")
        expect(note).to_contain_text("points of 300 s over 1 feeder", timeout=WAIT_MS)
        expect(page.locator("#attribute")).to_have_value("activePower")
        six_hours = plotted(page, "#zone-history .chart")
        assert 12 <= len(six_hours) <= 13
        assert all(200 <= value <= 318 for value in six_hours)
        assert six_hours == sorted(six_hours)
        # Seven days in hours, from the same readings.
        page.select_option("#window", "604800")
        page.click("#view button.primary")
        expect(note).to_contain_text("points of 3600 s", timeout=WAIT_MS)
        week = plotted(page, "#zone-history .chart")
        assert 1 <= len(week) <= 2 and all(200 <= value <= 318 for value in week)
        page.screenshot(path=screenshot_path("page-zone-week"), full_page=True)
    finally:
        page.close()


def test_an_operator_runs_the_optimiser_and_sees_the_new_plan(
    territory_console: ConsoleServer, browser: Browser
) -> None:
    page = signed_in(browser, territory_console, OPERATOR_TOKEN, "plans")
    try:
        newest = page.locator("#plans tbody tr").first
        expect(newest).to_have_attribute("data-domain", "slots", timeout=WAIT_MS)
        page.click('button[data-run="energy"]')
        expect(newest).to_have_attribute("data-domain", "energy", timeout=WAIT_MS)
        expect(newest).to_contain_text("triggered", timeout=WAIT_MS)
        expect(page.locator("#run-status")).to_have_attribute(
            "data-state", "succeeded", timeout=WAIT_MS
        )
        page.screenshot(path=screenshot_path("page-plans-after-run"), full_page=True)
    finally:
        page.close()


def test_a_viewer_cannot_run_the_optimiser(
    territory_console: ConsoleServer, browser: Browser
) -> None:
    page = signed_in(browser, territory_console, VIEWER_TOKEN, "plans")
    try:
        expect(page.locator('button[data-run="energy"]')).to_be_disabled()
        status = page.evaluate(
            """async (token) => (await fetch('/api/optimise/energy',
                 {method: 'POST', headers: {Authorization: 'Bearer ' + token}})).status""",
            VIEWER_TOKEN,
        )
        assert status == 403
    finally:
        page.close()


def test_a_wrong_token_is_refused_on_the_page(
    territory_console: ConsoleServer, browser: Browser
) -> None:
    page = browser.new_page()
    try:
        page.goto(f"{territory_console.url}/#/overview")
        page.fill("#token", "a-wrong-token-of-some-length")
        page.click("#login button")
        expect(page.locator("#login-error")).to_contain_text("refused", timeout=WAIT_MS)
        expect(page.locator("#live")).to_have_text("offline")
    finally:
        page.close()


def x_axis(page: Page, chart: str) -> tuple[float, float]:
    """The time range (epoch s) of the x axis of the chart in the element `chart`."""
    # Functions, not expressions: an expression is evaluated with eval(), which the page's
    # Content-Security-Policy forbids.
    page.wait_for_function(f"() => document.querySelector('{chart}')?.plot !== undefined")
    low, high = page.evaluate(
        f"(() => {{ const x = document.querySelector('{chart}').plot.scales.x;"
        " return [x.min, x.max]; })()"
    )
    return float(low), float(high)


def test_a_feeder_with_one_reading_gets_an_axis_of_hours(
    territory_console: ConsoleServer, browser: Browser
) -> None:
    page = signed_in(browser, territory_console, VIEWER_TOKEN, "energy")
    try:
        expect(page.locator('section[data-feeder="fd-east"]')).to_be_visible(timeout=WAIT_MS)
        now = time.time()
        # fd-east has a single reading and no planned series: the last 6 hours up to now.
        low, high = x_axis(page, 'section[data-feeder="fd-east"] .chart')
        assert abs(low - (now - 6 * 3600)) < 120 and abs(high - now) < 120
        # A plan of 4 slots of 15 min for fd-centre: the axis runs on to the plan's end.
        start = now + 60
        decisions = {"start": start, "slot_minutes": 15, "feeder_load_kw": {"fd-centre": [1.0] * 4}}
        territory_console.store.write_plan(
            Plan(domain="energy", created=now, status="optimal", body={"decisions": decisions})
        )
        chart, end = 'section[data-feeder="fd-centre"] .chart', start + 4 * 900
        page.wait_for_function(
            f"() => Math.abs(document.querySelector('{chart}')?.plot?.scales.x.max - {end}) < 1",
            timeout=WAIT_MS,
        )
        low, high = x_axis(page, chart)
        assert abs(low - (now - 6 * 3600)) < 120 and abs(high - end) < 1
        # The device page shows the window asked for, even around a single reading.
        page.goto(f"{territory_console.url}/#/device/fd-east?window=3600&step=0&aggregate=mean")
        expect(page.locator("#history-note")).to_contain_text("1 readings", timeout=WAIT_MS)
        low, high = x_axis(page, "#history-note + .chart")
        assert abs((high - low) - 3600) < 5 and abs(high - time.time()) < 120
    finally:
        page.close()


def test_every_page_runs_under_the_policy_that_refuses_inline_script(
    territory_console: ConsoleServer, browser: Browser
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    # Recorded from the first script of each document on: every breach of the policy.
    page.add_init_script(
        "window.breaches = [];"
        " document.addEventListener('securitypolicyviolation',"
        " (e) => window.breaches.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    complaints: list[str] = []
    page.on("console", lambda m: complaints.append(m.text) if "Security Policy" in m.text else None)
    try:
        page.goto(f"{territory_console.url}/#/overview")
        page.fill("#token", VIEWER_TOKEN)
        page.click("#login button")
        expect(page.locator("#live")).to_have_text("live", timeout=WAIT_MS)
        for route, (selector, text) in PAGES.items():
            page.goto(f"{territory_console.url}/#/{route}")
            expect(page.locator(selector).first).to_contain_text(text, timeout=WAIT_MS)
        assert page.evaluate("() => window.breaches") == []
        assert complaints == []
        # The policy is in force: an inline script and an inline handler are both refused.
        ran = page.evaluate(
            """() => {
                const script = document.createElement('script');
                script.textContent = 'window.inlineRan = true';
                document.head.append(script);
                const button = document.createElement('button');
                button.setAttribute('onclick', 'window.handlerRan = true');
                document.body.append(button);
                button.click();
                return [window.inlineRan === true, window.handlerRan === true];
            }"""
        )
        assert ran == [False, False]
        page.wait_for_function("() => window.breaches.length >= 2", timeout=WAIT_MS)
        assert all(b.startswith("script-src") for b in page.evaluate("() => window.breaches"))
    finally:
        page.close()
