"""The live page in a real headless Chromium: a value shown, a new reading, the page changes."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.dashboard.browser import screenshot_path
from tests.dashboard.helpers import VIEWER_TOKEN, ConsoleServer, station


def test_page_shows_a_reading_and_follows_a_new_one(
    secured: ConsoleServer, browser: Browser
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(secured.url + "/#/overview")
        page.fill("#token", VIEWER_TOKEN)
        page.click("#login button")
        row = page.locator('#devices tr[data-device="st-north-1"] td.value')
        expect(row).to_have_text("7 / 20 bikes", timeout=15_000)
        expect(page.locator("#live")).to_have_text("live")

        secured.store.write([station("st-north-1", "north", seq=2, bikes=3)])

        expect(row).to_have_text("3 / 20 bikes", timeout=15_000)
        zone = page.locator('#zones tr[data-zone="north"]')
        expect(zone).to_contain_text("3 / 40")
        page.screenshot(path=screenshot_path("overview-live"), full_page=True)
    finally:
        page.close()
