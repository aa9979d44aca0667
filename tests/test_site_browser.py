"""The catalog site in a real browser: headless Chromium (Playwright, the system `chromium`)
opens the quickstart's site and a site of hostile texts from `file://`.

Navigation works by keyboard and by clicks, the search box and filters narrow the index, the
charts and the lineage graph are in the DOM with the right nodes, the site works under its own
Content-Security-Policy, hostile texts stay inert even with that policy switched off (no dialog,
no console message, no request outside the site), and axe-core finds no serious or critical
accessibility violation. Without Chromium the tests skip, unless STEWARD_REQUIRE_CHROMIUM is set
(as in CI), where they fail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from steward.demo.quickstart import run_quickstart
from steward.site.build import build_site
from tests.browser import axe_violations, browser_page
from tests.site_registry import HOSTILE, SiteRegistry, site_registry

MAX_TABS = 200


@pytest.fixture(scope="module")
def quickstart_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("quickstart") / "registry"
    for _ in run_quickstart(target):
        pass
    return target / "_site"


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[SiteRegistry, Path]:
    registry = site_registry(tmp_path_factory.mktemp("hostile") / "repo")
    out = registry.root.parent / "site"
    build_site(registry.root, out, forge=registry.forge)
    return registry, out


def tab_to(page: Any, selector: str) -> None:
    """Press Tab until the focused element matches `selector` (as a keyboard user would)."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_navigation_by_keyboard(quickstart_site: Path) -> None:
    with browser_page(bypass_csp=False) as (page, log):
        page.goto((quickstart_site / "index.html").as_uri())
        page.wait_for_selector("#models tbody tr")  # the script filled the table under the CSP
        tab_to(page, "a[href='models/fraud-detector.html']")
        page.keyboard.press("Enter")
        page.wait_for_url("**/models/fraud-detector.html")
        assert page.locator("h1").inner_text() == "Model fraud-detector"
        tab_to(page, "a[href='#v-0.2.0']")
        page.keyboard.press("Enter")
        page.wait_for_url("**/models/fraud-detector.html#v-0.2.0")
        tab_to(page, "#v-0\\.2\\.0 a[href='../datasets/transactions.html']")
        page.keyboard.press("Enter")
        page.wait_for_url("**/datasets/transactions.html")
        assert page.locator("h1").inner_text() == "Dataset transactions"
        tab_to(page, "a[href='../models/fraud-detector.html#v-0.2.0']")
        page.keyboard.press("Enter")
        page.wait_for_url("**/models/fraud-detector.html#v-0.2.0")
        page.go_back()
        page.wait_for_url("**/datasets/transactions.html")
        tab_to(page, "nav[aria-label='Site'] a[href='../index.html']")
        page.keyboard.press("Enter")
        page.wait_for_url("**/index.html")
        assert page.locator("#models tbody tr").count() == 1
    assert (log.console, log.errors, log.dialogs) == ([], [], [])


def test_navigation_by_clicks_and_back(quickstart_site: Path) -> None:
    with browser_page(bypass_csp=False) as (page, log):
        page.goto((quickstart_site / "index.html").as_uri())
        page.click("#models a[href='models/fraud-detector.html']")
        page.wait_for_url("**/models/fraud-detector.html")
        page.click("#versions a[href='#v-0.1.0']")
        page.wait_for_url("**#v-0.1.0")
        assert page.locator("#v-0\\.1\\.0").is_visible()
        # the lineage graph's dataset node is a link too
        page.click("svg.lineage g.node.dataset a")
        page.wait_for_url("**/datasets/transactions.html")
        page.go_back()
        page.wait_for_url("**#v-0.1.0")
        page.go_back()
        page.go_back()
        page.wait_for_url("**/index.html")
        assert page.locator("#models tbody tr").count() == 1
    assert (log.console, log.errors, log.dialogs) == ([], [], [])


def test_charts_and_lineage_are_in_the_dom(quickstart_site: Path) -> None:
    with browser_page(bypass_csp=False) as (page, _):
        page.goto((quickstart_site / "models/fraud-detector.html").as_uri())
        metrics = page.locator("svg.chart").evaluate_all(
            "charts => charts.map(c => c.dataset.metric)"
        )
        assert metrics == ["accuracy", "auc"]
        points = page.locator("svg.chart[data-metric='auc'] circle").evaluate_all(
            "cs => cs.map(c => c.dataset.version)"
        )
        assert points == ["0.1.0", "0.2.0"]
        nodes = page.locator("svg.lineage g.node").evaluate_all(
            "gs => gs.map(g => g.dataset.nodeId)"
        )
        assert sorted(nodes) == [
            "dataset:transactions@seed-7",
            "version:fraud-detector@0.1.0",
            "version:fraud-detector@0.2.0",
        ]
        assert page.locator("svg.lineage path.edge").count() == 2


def test_search_and_filters_narrow_the_index(hostile_site: tuple[SiteRegistry, Path]) -> None:
    _, out = hostile_site
    with browser_page(bypass_csp=False) as (page, log):
        page.goto((out / "index.html").as_uri())
        rows = page.locator("#models tbody tr")
        assert rows.count() == 2
        page.fill("#q", "growth")  # a team's name leaves only its models
        assert rows.evaluate_all("rs => rs.map(r => r.dataset.model)") == ["churn"]
        assert page.locator("#count").inner_text() == "1 of 2 models shown"
        page.fill("#q", "")
        page.select_option("#filter-team", "growth")
        assert rows.evaluate_all("rs => rs.map(r => r.dataset.model)") == ["churn"]
        assert "team=growth" in page.url  # a filtered view can be shared
        page.select_option("#filter-team", "")
        stages = page.locator("#filter-stage option").evaluate_all("os => os.map(o => o.value)")
        assert stages == ["", "development", "production"]  # the stages some version holds
        page.select_option("#filter-stage", "production")
        assert rows.count() == 2
        page.select_option("#filter-stage", "")
        page.select_option("#filter-classification", "pii")
        assert rows.evaluate_all("rs => rs.map(r => r.dataset.model)") == ["churn"]
        page.select_option("#filter-classification", "")
        page.select_option("#filter-risk", "high")  # both are high risk
        assert rows.count() == 2
        page.fill("#q", "no such model anywhere")
        assert rows.count() == 0
        # reopening the shared address restores the filter
        page.goto((out / "index.html").as_uri() + "?team=growth")
        assert rows.evaluate_all("rs => rs.map(r => r.dataset.model)") == ["churn"]
    assert (log.console, log.errors, log.dialogs) == ([], [], [])


PAGES = (
    "index.html",
    "all-models.html",
    "models/churn.html",
    "models/fraud.html",
    "datasets.html",
    "datasets/profiles.html",
    "proposals.html",
)


@pytest.mark.parametrize("path", PAGES)
def test_hostile_texts_are_inert_and_pages_accessible(
    hostile_site: tuple[SiteRegistry, Path], path: str
) -> None:
    """With the page's CSP switched off, escaping alone must hold: hostile texts show as text, no
    dialog, console message, page error or request outside the site. Then axe-core."""
    _, out = hostile_site
    with browser_page(bypass_csp=True) as (page, log):
        page.goto((out / path).as_uri())
        page.wait_for_load_state("load")
        body = page.locator("body").inner_text()
        if path in ("models/churn.html", "datasets/profiles.html"):
            assert "<script>alert(2)</script>" in body
        if path == "index.html":
            page.fill("#q", "alert")  # hostile descriptions go through the script's rendering
            assert page.locator("#models tbody tr").count() == 1
        page.evaluate(  # would fire any onmouseover or onfocus a text had smuggled in
            """() => document.querySelectorAll("*").forEach(e => {
                e.dispatchEvent(new MouseEvent("mouseover", {bubbles: true}));
                e.dispatchEvent(new FocusEvent("focus"));
            })"""
        )
        assert page.locator("img, iframe, object, embed").count() == 0
        assert page.locator("script:not([src])").count() == 0
        violations = axe_violations(page)
    assert (log.console, log.errors, log.dialogs) == ([], [], [])
    site = out.resolve().as_uri() + "/"
    assert all(url.startswith(site) for url in log.requests), log.requests
    assert violations == []
    assert HOSTILE  # the texts the registry holds (tests.site_registry)
