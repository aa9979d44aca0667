"""`steward site --federation`: one catalog across registries, built from their mirrors: the
registries linked to their own sites, the tables several registries register (matched by URI)
with their classification conflicts, an unreadable registry named (exit 1). In headless
Chromium: the links work by keyboard and axe-core finds no serious violation."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from steward.cli import main
from steward.federation import mirror
from steward.federation.spec import load_federation
from tests.browser import axe_violations, browser_page
from tests.builders import run_git
from tests.federation_setup import central, fraud_and_risk


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value and not value.startswith("#"):
                self.hrefs.append(value)


def links(page: Path) -> list[str]:
    parser = _Links()
    parser.feed(page.read_text())
    return parser.hrefs


def build(capsys: pytest.CaptureFixture[str], federation: Path, out: Path) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main.run(["site", "--federation", str(federation), "-o", str(out)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def federation_file(tmp_path: Path) -> Path:
    fraud, risk = fraud_and_risk(tmp_path / "teams")
    path = central(
        tmp_path,
        [("fraud", str(fraud.origin)), ("risk", str(risk.origin))],
    )
    mirror.sync(load_federation(path))
    return path


def test_the_federated_site_links_each_registry_and_the_tables_they_share(
    federation_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "site"
    code, stdout, err = build(capsys, federation_file, out)
    assert code == 0, err
    assert stdout.strip() == str(out / "index.html")
    index = (out / "index.html").read_text()
    for name in ("fraud", "risk"):
        assert f'href="registries/{name}/index.html"' in index
        assert (out / "registries" / name / "index.html").is_file()
    assert (out / "registries/fraud/models/fraud.html").is_file()
    assert (out / "registries/risk/models/credit.html").is_file()
    datasets = (out / "datasets.html").read_text()
    assert "s3://lake/transactions" in datasets
    assert 'href="registries/fraud/datasets/transactions.html"' in datasets
    assert 'href="registries/risk/datasets/txn.html"' in datasets
    assert "s3://lake/profiles" not in datasets  # one registry only: not shared
    assert "CONFLICT: s3://lake/transactions classification is labelled differently" in datasets
    assert "CONFLICT" in err
    for page in (out / "index.html", out / "datasets.html"):
        for href in links(page):
            assert (page.parent / href).resolve().is_file(), (page, href)
    assert (out / ".gitignore").read_text() == "*\n"


def test_an_unreadable_registry_is_named_on_the_site_and_fails_the_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fraud, risk = fraud_and_risk(tmp_path / "teams")
    path = central(
        tmp_path,
        [("fraud", str(fraud.origin)), ("risk", str(risk.origin)), ("ghost", "<b>nowhere</b>")],
    )
    mirror.sync(load_federation(path))
    out = tmp_path / "site"
    code, _, err = build(capsys, path, out)
    assert code == 1
    assert "registry ghost" in err
    index = (out / "index.html").read_text()
    assert "registry ghost UNAVAILABLE" in index
    assert "<b>" not in index  # every text escaped
    assert (out / "registries/fraud/index.html").is_file()  # the others are still built


def test_a_registry_dropped_from_the_federation_loses_its_site(
    federation_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "site"
    assert build(capsys, federation_file, out)[0] == 0
    (out / "registries" / "notes").mkdir()
    (out / "registries" / "notes" / "mine.txt").write_text("not a site")
    text = federation_file.read_text()
    federation_file.write_text(text.split("  - name: risk")[0])
    assert build(capsys, federation_file, out)[0] == 0
    assert not (out / "registries" / "risk").exists()
    assert (out / "registries" / "notes" / "mine.txt").is_file()  # not a site: left alone
    assert "registries/risk" not in (out / "index.html").read_text()


def test_the_federated_site_in_a_browser(
    federation_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "site"
    assert build(capsys, federation_file, out)[0] == 0
    with browser_page(bypass_csp=False) as (page, log):
        page.goto((out / "index.html").as_uri())
        focused = ""
        for _ in range(40):  # Tab to the first registry's link, then follow it with Enter
            page.keyboard.press("Tab")
            focused = page.evaluate("document.activeElement.textContent")
            if focused == "fraud":
                break
        assert focused == "fraud"
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url.endswith("registries/fraud/index.html")
        assert page.locator("h1").first.inner_text() != ""
        assert log.errors == [] and log.dialogs == []
    with browser_page() as (page, _log):
        for name in ("index.html", "datasets.html"):
            page.goto((out / name).as_uri())
            assert axe_violations(page) == [], name


def test_a_damaged_mirror_is_named_and_the_other_registries_still_get_their_sites(
    federation_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mirrors = federation_file.parent / ".git" / "steward" / "federation"
    fraud = mirrors / "fraud.git"
    blob = run_git(fraud, "rev-parse", "main:registry/models/fraud/1.0.0.yaml").strip()
    loose = fraud / "objects" / blob[:2] / blob[2:]
    assert loose.is_file()  # a small fetch keeps its objects loose
    loose.unlink()  # the branch and its trees are there, one version file is not
    out = tmp_path / "site"
    code, _, err = build(capsys, federation_file, out)
    assert code == 1
    assert "registry fraud UNAVAILABLE: its mirror cannot be read" in err
    assert "registry fraud UNAVAILABLE" in (out / "index.html").read_text()
    assert (out / "registries" / "risk" / "index.html").is_file()
