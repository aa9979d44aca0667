"""`steward site`: the catalog website, read as files (the browser tests open it in Chromium).

Every page of a registry full of hostile texts is parsed: only the site's own markup, no event
handler, no inline script or style, every link leading to a page and anchor that exist. The
incremental build is held to its promise: a change rewrites only the pages it changes."""

from __future__ import annotations

import json
import os
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from steward.aftermerge.history import model_histories, model_history
from steward.cli.main import run
from steward.site.build import MANIFEST, build_site
from tests.builders import add_dataset, add_model, add_version, run_git, small_registry, write
from tests.github_api import FakeGitHub
from tests.site_registry import HOSTILE, HOSTILE_FILE, ODD_METRIC, SiteRegistry, site_registry

SITE_TAGS = {
    "html", "head", "meta", "title", "link", "body", "a", "header", "nav", "main", "footer",
    "p", "h1", "h2", "h3", "section", "ul", "li", "dl", "dt", "dd", "table", "caption", "thead",
    "tbody", "tr", "th", "td", "code", "span", "strong", "div", "figure", "figcaption", "svg",
    "line", "text", "polyline", "circle", "path", "g", "rect", "form", "label", "input",
    "select", "option", "noscript", "script",
}  # fmt: skip
SCRIPTS = {"search-index.js", "assets/site.js"}


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.ids: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append((tag, found))
        if found.get("id"):
            self.ids.add(str(found["id"]))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[SiteRegistry, Path]:
    registry = site_registry(tmp_path_factory.mktemp("site") / "repo")
    out = registry.root.parent / "site"
    build_site(registry.root, out, forge=registry.forge)
    return registry, out


def pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def test_every_page_is_only_the_sites_own_markup(built: tuple[SiteRegistry, Path]) -> None:
    """Hostile descriptions, card texts, column names, parameters and file names stay text: no
    element, attribute, handler or script comes from the registry."""
    _, out = built
    assert len(pages(out)) == 8  # index, 2 lists, 2 models, 2 datasets, proposals
    for path in pages(out):
        page = parse(path)
        depth = len(path.relative_to(out).parts) - 1
        for tag, attrs in page.tags:
            assert tag in SITE_TAGS, (path, tag)
            assert not any(name.startswith("on") or name == "style" for name in attrs), (path, tag)
            for name in ("href", "src"):
                value = attrs.get(name) or ""
                assert not value.lower().startswith(("javascript:", "data:", "//")), (path, value)
            if tag == "script":
                assert attrs["src"] in {"../" * depth + s for s in SCRIPTS}, (path, attrs)
            if tag == "link" and attrs.get("rel") == "stylesheet":
                assert attrs["href"] == "../" * depth + "assets/site.css"
        csp = [
            a["content"] for t, a in page.tags if a.get("http-equiv") == "Content-Security-Policy"
        ]
        assert csp and "default-src 'none'" in str(csp[0]) and "script-src 'self'" in str(csp[0])
    churn = parse(out / "models/churn.html")
    text = "".join(churn.text)
    assert text.count(HOSTILE) >= 5  # description, two cards, two versions' descriptions
    assert HOSTILE_FILE in text and ODD_METRIC in text
    assert HOSTILE in "".join(parse(out / "datasets/profiles.html").text)


def test_every_link_leads_to_a_page_and_anchor_that_exist(built: tuple[SiteRegistry, Path]) -> None:
    _, out = built
    checked = 0
    for path in pages(out):
        for tag, attrs in parse(path).tags:
            href = attrs.get("href") if tag in ("a", "link") else None
            if not href or (tag == "link" and attrs.get("rel") == "canonical"):
                continue
            parts = urlsplit(href)
            assert not parts.scheme, (path, href)  # no origin on GitHub here: all links internal
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            assert target.is_file() and target.is_relative_to(out.resolve()), (path, href)
            if parts.fragment and target.suffix == ".html":
                assert unquote(parts.fragment) in parse(target).ids, (path, href)
            checked += 1
    assert checked > 100


def test_a_model_page_shows_versions_timeline_charts_lineage_card_and_findings(
    built: tuple[SiteRegistry, Path],
) -> None:
    _, out = built
    page = parse(out / "models/fraud.html")
    text = "".join(page.text)
    # versions table and sections per version
    assert {"v-0.1.0", "v-0.2.0", "versions", "timeline", "metrics", "lineage", "card"} <= page.ids
    # the stage timeline: who proposed, approved (with role) and merged each promotion
    assert "entered production" in text and "entered staging" in text
    assert "carol (ml-engineer)" in text and "erin (governance)" in text
    # one chart per metric, a point per version that has it
    charts = [a for t, a in page.tags if t == "svg" and "chart" in (a.get("class") or "")]
    assert [c["data-metric"] for c in charts] == ["auc"]
    points = [a["data-version"] for t, a in page.tags if t == "circle"]
    assert points == ["0.1.0", "0.2.0"]
    # the lineage graph's nodes
    nodes = {a["data-node-id"] for t, a in page.tags if t == "g" and a.get("data-node-id")}
    assert nodes == {"version:fraud@0.1.0", "version:fraud@0.2.0"} | {
        n for n in nodes if n.startswith("dataset:")
    }
    churn = parse(out / "models/churn.html")
    churn_nodes = {a["data-node-id"] for t, a in churn.tags if t == "g" and a.get("data-node-id")}
    assert churn_nodes == {
        "dataset:profiles@2026-10-01",
        "dataset:transactions@2026-10-31",
        "version:churn@1.0.0",
        "version:churn@1.1.0",
        "consumer:crm",
    }
    churn_text = "".join(churn.text)
    # audit findings for the model: high risk in production without the governance approval
    assert "high_risk_without_required_approval" in churn_text
    assert "production_without_approval" in churn_text
    assert "Missing card sections" in churn_text


def test_a_dataset_page_lists_each_columns_users_production_first(
    built: tuple[SiteRegistry, Path],
) -> None:
    _, out = built
    page = parse(out / "datasets/profiles.html")
    rows: list[list[str]] = []
    cells: list[str] = []
    html = (out / "datasets/profiles.html").read_text()
    assert html.index("churn 1.0.0") < html.index("churn 1.1.0")  # production first
    text = "".join(page.text)
    assert "email" in text and "pii" in text
    del rows, cells
    index = json.loads(
        (out / "search-index.js").read_text().removeprefix("self.stewardIndex = ").rstrip(";\n")
    )
    assert [row["name"] for row in index] == ["churn", "fraud"]
    churn = index[0]
    assert churn["team"] == "growth" and churn["risk"] == "high"
    assert churn["stages"] == {"production": ["1.0.0"], "development": ["1.1.0"]}
    assert churn["inherited"] == ["internal", "pii"]


def test_the_proposals_page_shows_open_proposals_and_their_verdicts(
    built: tuple[SiteRegistry, Path],
) -> None:
    registry, out = built
    text = "".join(parse(out / "proposals.html").text)
    assert f"#{registry.open_proposal}" in text
    assert "failure" in text and "needs 1 approval" in text
    assert "#1" not in text.replace(f"#{registry.open_proposal}", "")  # merged ones are not open


def test_all_model_history_equals_each_model_history(built: tuple[SiteRegistry, Path]) -> None:
    registry, _ = built
    together = model_histories(registry.root)
    assert set(together) == {"fraud", "churn"}
    for model, history in together.items():
        assert history == model_history(registry.root, model)
    assert model_histories(registry.root, models=["churn"]) == {"churn": together["churn"]}


# --- building again -----------------------------------------------------------------------------


def _registry(root: Path) -> Path:
    small_registry(root)
    add_dataset(root, "profiles")
    add_model(root, "churn", team="growth")
    add_version(root, "churn", "1.0.0", training={"datasets": [{"id": "profiles"}]})
    run_git(root, "add", "-A")
    run_git(root, "commit", "-qm", "churn")
    return root


def _build(root: Path, out: Path) -> set[str]:
    result = build_site(root, out)
    return set(result.written)


LISTINGS = {"index.html", "search-index.js", "all-models.html", "datasets.html"}


def test_a_rebuild_rewrites_only_what_changed(tmp_path: Path) -> None:
    root = _registry(tmp_path / "repo")
    out = tmp_path / "site"
    first = _build(root, out)
    assert {"models/fraud.html", "models/churn.html", "datasets/profiles.html"} <= first
    assert _build(root, out) == set()  # nothing changed: nothing written

    # A new version of churn: its page, the dataset it cites, the listings.
    add_version(root, "churn", "1.1.0", training={"datasets": [{"id": "profiles"}]})
    run_git(root, "add", "-A")
    run_git(root, "commit", "-qm", "churn 1.1.0")
    # (the datasets list counts the versions using each; the plain model list is unchanged)
    assert _build(root, out) == {"models/churn.html", "datasets/profiles.html"} | LISTINGS - {
        "all-models.html"
    }

    # A dataset's file: its page and the pages of the models citing it, not the others.
    add_dataset(root, "profiles", description="now described")
    run_git(root, "commit", "-qam", "describe profiles")
    assert _build(root, out) == {"models/churn.html", "datasets/profiles.html", "index.html",
                                 "datasets.html"}  # fmt: skip

    # A record `apply` wrote (a tag) changes the model's history: that page only.
    run_git(root, "tag", "-a", "fraud@0.1.0", "-m", "not a record, but a tag of fraud's")
    assert _build(root, out) == {"models/fraud.html"}

    # The policy decides audit findings: every model page.
    policy = root / "policies/registry.yaml"
    policy.write_text(policy.read_text() + "\n# a comment changes the blob\n")
    run_git(root, "commit", "-qam", "policy")
    assert {"models/fraud.html", "models/churn.html"} <= _build(root, out)

    # A model removed: its page goes.
    run_git(root, "rm", "-rq", "registry/models/churn")
    run_git(root, "commit", "-qm", "churn gone")
    result = build_site(root, out)
    assert result.removed == ["models/churn.html"]
    assert not (out / "models/churn.html").exists()


def test_a_deleted_page_or_a_broken_manifest_is_rebuilt(tmp_path: Path) -> None:
    root = _registry(tmp_path / "repo")
    out = tmp_path / "site"
    _build(root, out)
    (out / "models/fraud.html").unlink()
    assert _build(root, out) == {"models/fraud.html"}
    manifest = json.loads((out / MANIFEST).read_text())
    for broken in ("{not json", "[]", json.dumps({**manifest, "models": {"fraud": {}}})):
        (out / MANIFEST).write_text(broken)
        rebuilt = _build(root, out)
        assert {"models/fraud.html", "models/churn.html", "datasets/profiles.html"} <= rebuilt
        assert _build(root, out) == set()


def test_entry_links_point_at_github_when_origin_is_there(tmp_path: Path) -> None:
    root = _registry(tmp_path / "repo")
    run_git(root, "remote", "add", "origin", "https://github.com/acme/registry.git")
    out = tmp_path / "site"
    build_site(root, out)
    html = (out / "models/fraud.html").read_text()
    assert (
        'href="https://github.com/acme/registry/blob/main/registry/models/fraud/model.yaml"' in html
    )


def test_the_site_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _registry(tmp_path / "repo")
    assert (
        run(["-C", str(root), "site", "--json", "--base-url", "https://acme.github.io/reg/"]) == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["index"] == str(root / "_site" / "index.html")
    assert result["models"] == 2 and result["datasets"] == 2 and result["proposals"] is True
    html = (root / "_site/models/fraud.html").read_text()
    assert '<link rel="canonical" href="https://acme.github.io/reg/models/fraud.html">' in html
    assert run_git(root, "status", "--porcelain") == ""  # _site/ is ignored by the registry
    assert run(["-C", str(root), "site", "-o", "out"]) == 0
    assert capsys.readouterr().out.strip() == str(root / "out" / "index.html")
    assert run(["-C", str(root), "site", "--base-url", "javascript:alert(1)"]) == 2
    assert run(["-C", str(root), "site", "-o", ".."]) == 2
    assert "cannot be written over the repository" in capsys.readouterr().err


def test_the_lineage_graph_is_the_same_with_and_without_graphviz(
    built: tuple[SiteRegistry, Path], tmp_path: Path
) -> None:
    import shutil

    from steward.gitio.tree import GitSnapshot
    from steward.governance.lineage import model_lineage
    from steward.reading.contents import read_contents
    from steward.site.lineage_svg import dot_layouts, lineage_svg

    registry, _ = built
    graph = model_lineage(read_contents(GitSnapshot(registry.root, "HEAD")), "churn")
    without = lineage_svg(graph, {})
    assert without.count("data-node-id=") == 5 and without.count("<path ") == 6
    if shutil.which("dot") is None:
        if os.environ.get("STEWARD_REQUIRE_GRAPHVIZ"):
            pytest.fail("STEWARD_REQUIRE_GRAPHVIZ is set but Graphviz `dot` is not on PATH")
        pytest.skip("graphviz is not installed")
    [layout] = dot_layouts([graph])
    assert layout is not None
    with_dot = lineage_svg(graph, {}, layout)
    assert with_dot.count("data-node-id=") == 5 and with_dot.count("<path ") == 6
    assert with_dot != without  # graphviz placed it


def _set_stage(root: Path, model: str, version: str, stage: str, message: str) -> None:
    path = root / f"registry/models/{model}/{version}.yaml"
    text = path.read_text()
    path.write_text("\n".join(
        f"stage: {stage}" if line.startswith("stage:") else line for line in text.splitlines()
    ) + "\n")  # fmt: skip
    run_git(root, "commit", "-qam", message)


def test_a_build_of_another_branch_is_brought_up_to_date(tmp_path: Path) -> None:
    """The last build's commit is not on this branch's chain: the history index decides."""
    root = _registry(tmp_path / "repo")
    out = tmp_path / "site"
    _build(root, out)
    run_git(root, "checkout", "-qb", "other")
    _set_stage(root, "churn", "1.0.0", "staging", "churn to staging on another branch")
    build_site(root, out, rev="other")
    assert "entered staging" in (out / "models/churn.html").read_text()
    assert build_site(root, out, rev="main").written[0] == "models/churn.html"
    assert "entered staging" not in (out / "models/churn.html").read_text()


def test_history_that_only_a_merged_branch_saw_is_not_kept(tmp_path: Path) -> None:
    """The last build was of a branch later merged: its commits are ancestors of the merge, but
    not on main's first-parent chain, and the merge changed nothing of churn (the branch
    staged it and took that back). main's history of churn has neither event."""
    root = _registry(tmp_path / "repo")
    run_git(root, "checkout", "-qb", "feature")
    _set_stage(root, "churn", "1.0.0", "staging", "stage churn")
    _set_stage(root, "churn", "1.0.0", "development", "take it back")
    out = tmp_path / "site"
    build_site(root, out, rev="feature")
    assert "entered staging" in (out / "models/churn.html").read_text()
    run_git(root, "checkout", "-q", "main")
    run_git(root, "merge", "-q", "--no-ff", "-m", "merge feature", "feature")
    build_site(root, out, rev="main")
    assert "entered staging" not in (out / "models/churn.html").read_text()


def test_a_model_or_dataset_named_index_has_its_page(tmp_path: Path) -> None:
    root = _registry(tmp_path / "repo")
    add_dataset(root, "index")
    add_model(root, "index")
    add_version(root, "index", "1.0.0", training={"datasets": [{"id": "index"}]})
    run_git(root, "add", "-A")
    run_git(root, "commit", "-qm", "index")
    out = tmp_path / "site"
    build_site(root, out)
    assert "<h1>Model <code>index</code></h1>" in (out / "models/index.html").read_text()
    assert "<h1>Dataset <code>index</code></h1>" in (out / "datasets/index.html").read_text()
    assert "<h1>All models</h1>" in (out / "all-models.html").read_text()


def test_a_build_cut_off_is_finished_by_the_next(tmp_path: Path) -> None:
    """Pages are written before the manifest: a build cut off in between must not leave the old
    manifest vouching for a page already replaced (with another revision's content)."""
    root = _registry(tmp_path / "repo")
    out = tmp_path / "site"
    build_site(root, out)
    run_git(root, "checkout", "-qb", "other")
    add_model(root, "churn", team="growth", description="only on the other branch")
    run_git(root, "commit", "-qam", "describe churn")

    def cut_off(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    import steward.site.build as build

    original = build._datasets
    build._datasets = cut_off  # type: ignore[assignment]
    try:
        with pytest.raises(KeyboardInterrupt):
            build_site(root, out, rev="other")
    finally:
        build._datasets = original
    assert "only on the other branch" in (out / "models/churn.html").read_text()
    result = build_site(root, out, rev="main")
    assert "models/churn.html" in result.written
    assert "only on the other branch" not in (out / "models/churn.html").read_text()


def test_a_manifest_naming_paths_outside_the_site_removes_nothing(tmp_path: Path) -> None:
    root = _registry(tmp_path / "repo")
    out = tmp_path / "site"
    build_site(root, out)
    victim = tmp_path / "victim.html"
    victim.write_text("keep me")
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["models"]["../../victim"] = manifest["models"]["fraud"]
    (out / MANIFEST).write_text(json.dumps(manifest))
    build_site(root, out)
    assert victim.read_text() == "keep me"
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["models"]["fraud"]["row"]["tags"] = 5  # valid JSON, not what a build writes
    (out / MANIFEST).write_text(json.dumps(manifest))
    assert "models/fraud.html" in build_site(root, out).written
    (out / MANIFEST).write_text(json.dumps({"format": 3, "models": 5, "datasets": []}))
    assert {"models/fraud.html", "models/churn.html"} <= set(build_site(root, out).written)


def test_an_output_directory_with_committed_files_is_refused(tmp_path: Path) -> None:
    """Committed files under the output directory would be published, and a committed manifest
    would vouch for committed pages."""
    root = _registry(tmp_path / "repo")
    write(root, "_site/evil.html", "<script>alert(1)</script>")
    run_git(root, "add", "-f", "_site/evil.html")
    run_git(root, "commit", "-qm", "a page smuggled into the site directory")
    with pytest.raises(Exception, match="committed to the repository"):
        build_site(root, root / "_site")
    assert run(["-C", str(root), "site"]) == 1


def test_pages_are_the_same_whatever_the_chunks_and_history_reading(
    built: tuple[SiteRegistry, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many stale models are rendered a chunk at a time with every history read at once; a
    few, one history at a time: the pages must not depend on which."""
    import steward.site.model_build as model_build

    registry, out = built
    monkeypatch.setattr(model_build, "CHUNK", 1)
    monkeypatch.setattr(model_build, "ONE_BY_ONE", 0)
    other = tmp_path / "other"
    build_site(registry.root, other, forge=registry.forge)
    for path in pages(out):
        assert (other / path.relative_to(out)).read_text() == path.read_text(), path


def test_a_dataset_cited_by_many_versions_lists_the_first_and_counts_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from steward.site import catalog_pages

    monkeypatch.setattr(catalog_pages, "SHOWN_SERVING", 1)
    monkeypatch.setattr(catalog_pages, "SHOWN_OTHERS", 1)
    monkeypatch.setattr(catalog_pages, "SHOWN_PER_COLUMN", 2)
    root = _registry(tmp_path / "repo")
    for version, stage in (("1.1.0", "production"), ("1.2.0", "staging"), ("1.3.0", "development")):
        add_version(
            root, "churn", version, stage=stage, training={"datasets": [{"id": "profiles"}]}
        )
    add_version(
        root, "churn", "1.4.0", training={"datasets": [{"id": "profiles", "columns": ["hour"]}]}
    )
    run_git(root, "add", "-A")
    run_git(root, "commit", "-qm", "more churn")
    out = tmp_path / "site"
    build_site(root, out)
    page = (out / "datasets/profiles.html").read_text()
    # production first; one serving shown, one more counted; the newest other shown, two counted
    assert page.index("churn 1.1.0") < page.index("churn 1.4.0")
    assert "And 1 more in production or staging, 2 more in development or archived" in page
    assert "<dd>5</dd>" in page  # versions trained on it (1.0.0 to 1.4.0), all counted
    amount, hour = page.split("<code>amount</code>")[1], page.split("<code>hour</code>")[1]
    assert "and 2 more" in amount.split("</tr>")[0]  # 4 use every column, 2 shown
    assert "and 3 more" in hour.split("</tr>")[0]  # and 1.4.0 uses hour: 5, 2 shown


def test_the_proposals_page_from_github(tmp_path: Path, github: FakeGitHub) -> None:
    """The open pull requests and their gate statuses, read through PyGithub from the fake
    GitHub (its responses checked against GitHub's OpenAPI description); a title a role-less
    contributor wrote stays text. A forge that refuses is said so on the page."""
    from steward.gate.promotion import propose_promotion
    from tests.promotion_setup import make_promotion_repo
    from tests.test_github_forge import Waits, forge_for, mirror

    pr = make_promotion_repo(tmp_path / "repo")
    promotion = propose_promotion(pr.root, pr.forge, "fraud", "0.2.0", "staging", "dave")
    number = mirror(pr, github, promotion.branch, "dave", f"Promote fraud {HOSTILE}")
    forge = forge_for(github, Waits())
    forge.set_status(promotion.commit, "steward/gate", "failure", "1 rules failed")
    out = tmp_path / "site"
    build_site(pr.root, out, forge=forge, forge_label="GitHub")
    page = parse(out / "proposals.html")
    text = "".join(page.text)
    assert f"#{number}" in text and f"Promote fraud {HOSTILE}" in text
    assert "failure" in text and "1 rules failed" in text
    assert not any(tag == "script" for tag, _ in page.tags)
    refused = forge_for(github, Waits(), token="not-a-token")
    build_site(pr.root, out, forge=refused, forge_label="GitHub")
    assert "The forge could not be read" in (out / "proposals.html").read_text()


def test_a_second_build_of_one_site_waits_for_the_first(tmp_path: Path) -> None:
    """Two builds into one directory take turns (the manifest and the sweep of partial pages
    assume one builder); a builder killed with the lock held releases it."""
    import fcntl
    import signal
    import subprocess
    import sys
    import time

    from steward.site.build import LOCK

    root = _registry(tmp_path / "repo")
    out = tmp_path / "site"
    (out / LOCK).parent.mkdir(parents=True)
    command = [sys.executable, "-m", "steward", "-C", str(root), "site", "-o", str(out)]
    with (out / LOCK).open("a+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # a first build, writing
        second = subprocess.Popen([*command, "--no-proposals"], stderr=subprocess.PIPE)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and second.poll() is None:
            time.sleep(0.1)
        assert second.poll() is None, second.stderr.read() if second.stderr else ""
        assert not (out / MANIFEST).exists() and not (out / "index.html").exists()
    assert second.wait(timeout=120) == 0  # the first is done: the second builds
    assert (out / "index.html").exists()

    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys, time\n"
         "f = open(sys.argv[1], 'a+b'); fcntl.flock(f, fcntl.LOCK_EX)\n"
         "print('held', flush=True); time.sleep(600)", str(out / LOCK)],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert subprocess.run([*command, "--no-proposals"], timeout=120).returncode == 0


def test_a_site_on_a_file_system_without_locks_is_built_all_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import fcntl

    def no_locks(*args: object) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    root = _registry(tmp_path / "repo")
    monkeypatch.setattr(fcntl, "flock", no_locks)
    result = build_site(root, tmp_path / "site")
    assert "index.html" in result.written
