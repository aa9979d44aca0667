"""The HTML audit report in a real browser: headless Chromium renders it, its DOM has the models,
and the browser logged no console message (the page has no script, so any message is a fault).

A negative control proves the detection works: a page that calls `console.error` and throws is
caught. Without Chromium the tests skip, unless STEWARD_REQUIRE_CHROMIUM is set (CI sets it and
installs Chromium), where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from steward.governance.audit import audit
from steward.governance.audit_render import render_html
from tests.builders import add_model, add_version, run_git
from tests.promotion_setup import make_promotion_repo

TIMEOUT_S = 60
# Chromium's --enable-logging=stderr writes every console message (console.error and uncaught
# exceptions included) as `[pid:tid:time:LEVEL:CONSOLE(line)] "text", source: url (line)`.
CONSOLE_LINE = re.compile(r":CONSOLE[:(]\d*\)?\]? (.*)")


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("STEWARD_REQUIRE_CHROMIUM"):
            pytest.fail("STEWARD_REQUIRE_CHROMIUM is set but chromium is not installed")
        pytest.skip("chromium is not installed")
    return found


@dataclass(frozen=True)
class Rendered:
    dom: str
    console: list[str]


def render(page: Path, profile: Path) -> Rendered:
    """One headless Chromium run: the DOM after load, and the console messages it logged."""
    result = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    console = [m.group(1) for m in map(CONSOLE_LINE.search, result.stderr.splitlines()) if m]
    return Rendered(result.stdout, console)


def test_the_console_detection_catches_an_error(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><body><h1>broken</h1>"
        '<script>console.error("audit-canary"); throw new Error("kaboom")</script>'
        "</body></html>"
    )
    rendered = render(page, tmp_path / "profile")
    assert "<h1>broken</h1>" in rendered.dom
    assert any("audit-canary" in line for line in rendered.console), rendered.console
    assert any("kaboom" in line for line in rendered.console), rendered.console


def test_the_audit_report_renders_without_console_errors(tmp_path: Path) -> None:
    pr = make_promotion_repo(tmp_path / "repo")
    add_model(pr.root, "churn", risk="high", description="Churn <script>alert(1)</script>")
    add_version(pr.root, "churn", "1.0.0", stage="production")
    run_git(pr.root, "add", "-A")
    run_git(pr.root, "commit", "-qm", "churn")
    page = tmp_path / "audit.html"
    page.write_text(render_html(audit(pr.root)), encoding="utf-8")
    rendered = render(page, tmp_path / "profile")
    assert rendered.console == []
    assert '<h2 id="model-churn">Model churn</h2>' in rendered.dom
    assert '<h2 id="model-fraud">Model fraud</h2>' in rendered.dom
    assert "production_without_approval" in rendered.dom
    assert "Churn &lt;script&gt;alert(1)&lt;/script&gt;" in rendered.dom
    assert "<script" not in rendered.dom


def test_the_audit_report_in_playwright_is_inert_and_accessible(tmp_path: Path) -> None:
    """Hostile texts render as text: no dialog, no console message, no page error, no request
    beyond the page itself; axe-core finds no serious or critical accessibility violation."""
    from tests.browser import axe_violations, browser_page

    pr = make_promotion_repo(tmp_path / "repo")
    hostile = (
        'Churn <img src=x onerror=alert(1)> "><script>alert(2)</script> https://evil.test/x.png'
    )
    add_model(pr.root, "churn", risk="high", description=hostile)
    add_version(pr.root, "churn", "1.0.0", stage="production")
    run_git(pr.root, "add", "-A")
    run_git(pr.root, "commit", "-qm", "churn")
    page_file = tmp_path / "audit.html"
    page_file.write_text(render_html(audit(pr.root)), encoding="utf-8")
    with browser_page() as (page, log):
        page.goto(page_file.as_uri())
        assert page.locator("h2#model-churn").inner_text() == "Model churn"
        assert "<img src=x onerror=alert(1)>" in page.locator("body").inner_text()
        assert page.locator("img").count() == 0 and page.locator("script").count() == 0
        violations = axe_violations(page)
        assert (log.console, log.errors, log.dialogs) == ([], [], [])
        assert log.requests == [page_file.as_uri()]
    assert violations == []


def test_the_accessibility_check_catches_a_violation(tmp_path: Path) -> None:
    """The negative control: a form field without a label is a critical axe violation."""
    from tests.browser import axe_violations, browser_page

    page_file = tmp_path / "bad.html"
    page_file.write_text(
        '<!DOCTYPE html><html lang="en"><head><title>bad</title></head><body><main>'
        '<input type="text"></main></body></html>'
    )
    with browser_page() as (page, _):
        page.goto(page_file.as_uri())
        violations = axe_violations(page)
    assert any(v.startswith("label:") for v in violations), violations
