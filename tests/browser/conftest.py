"""Debian's Chromium driven by Playwright against the real server (`fhir-server serve --seed`,
authorization on), as a newcomer runs it after `make run`.

Chromium is launched from `/usr/bin/chromium` (never `playwright install`); `make test`
installs it on a machine without it. `NOSKHE_SCREENSHOTS=DIR` keeps a screenshot of every
page the tests name, for people to look at.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from fhir_server.cli import main
from tests.conftest import RunningServer

CHROMIUM = os.environ.get("NOSKHE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
EHR_CLIENT, EHR_SECRET = "demo-ehr", "demo-ehr-secret-1405"

pytestmark = pytest.mark.e2e


@dataclass
class Site:
    root: str
    base: str
    data: Path

    def url(self, path: str) -> str:
        return f"{self.root}{path}"

    def outbox(self) -> list[dict[str, Any]]:
        path = self.data / "sms-outbox.jsonl"
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        return [json.loads(line) for line in lines]


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """`fhir-server serve --seed` (what `make run` does), plus an EHR that can register launches."""
    data = tmp_path_factory.mktemp("browser-site")
    server = RunningServer(data, "--seed", workers=1, start_timeout=120)  # seeding comes first
    ehr = ["clients", "add", "--data", str(data), "--client-id", EHR_CLIENT, "--secret", EHR_SECRET]
    assert (
        main([*ehr, "--ehr-launcher", "--redirect-uri", "http://127.0.0.1:9/ehr", "--scope", "launch"]) == 0
    )
    yield Site(f"http://127.0.0.1:{server.port}", server.base, data)
    server.stop()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(chromium: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies), desktop size, Persian locale."""
    ctx = chromium.new_context(viewport=DESKTOP, locale="fa-IR")
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def shot(page: Page, name: str) -> None:
    """Keep a screenshot for people (NOSKHE_SCREENSHOTS=DIR); tests do not depend on it."""
    folder = os.environ.get("NOSKHE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        size = page.viewport_size or DESKTOP
        page.screenshot(path=str(Path(folder) / f"{name}-{size['width']}.png"), full_page=True)
