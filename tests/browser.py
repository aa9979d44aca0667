"""Web output in a real browser: Playwright for Python driving the system Chromium (no browser
download), with what a page did recorded (console messages, page errors, dialogs, every request)
and axe-core (npm, `tests/browser_assets`) loaded into the page for accessibility checks.

Without Chromium or Playwright the tests that use it skip, unless STEWARD_REQUIRE_CHROMIUM is set
(CI sets it and installs both), where they fail."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

AXE = (
    Path(__file__).resolve().parent / "browser_assets" / "node_modules" / "axe-core" / "axe.min.js"
)


def _missing(what: str) -> None:
    if os.environ.get("STEWARD_REQUIRE_CHROMIUM"):
        pytest.fail(f"STEWARD_REQUIRE_CHROMIUM is set but {what} is missing")
    pytest.skip(f"{what} is missing")


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        _missing("chromium")
    assert found is not None
    return found


@dataclass
class PageLog:
    """What a page did while the test used it."""

    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@contextmanager
def browser_page(bypass_csp: bool = True) -> Iterator[tuple[Any, PageLog]]:
    """A fresh page in headless Chromium and the log of what it does. The page's own
    Content-Security-Policy is bypassed (unless `bypass_csp` is false) only so that the test
    can inject axe-core; a test of what the page does under its policy keeps it."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright (pip install -e '.[test]')")
    executable = chromium_path()
    log = PageLog()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            context = browser.new_context(bypass_csp=bypass_csp)
            page = context.new_page()
            page.on(
                "console", lambda message: log.console.append(f"{message.type}: {message.text}")
            )
            page.on("pageerror", lambda error: log.errors.append(str(error)))
            page.on("request", lambda request: log.requests.append(request.url))

            def on_dialog(dialog: Any) -> None:
                log.dialogs.append(dialog.message)
                dialog.dismiss()

            page.on("dialog", on_dialog)
            yield page, log
        finally:
            browser.close()


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """axe-core's violations of these impacts on the page as loaded: `rule: help (N nodes)`."""
    if not AXE.is_file():
        _missing(f"axe-core (npm ci --prefix {AXE.parents[2]})")
    page.add_script_tag(path=str(AXE))
    # No preload: axe would fetch the page's stylesheets again with XMLHttpRequest, which
    # Chromium refuses for file:// pages (a console error that is axe's, not the page's).
    result = page.evaluate("async () => await axe.run(document, {preload: false})")
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)"
        for v in result["violations"]
        if v.get("impact") in impacts
    ]
