"""`steward gc`: retention proposes retirements and archivals through the gate, and only once a
retirement is merged does it remove the objects no remaining version uses from the DVC remote.

Real git, a real DVC local remote, the local forge."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import steward.artifacts.retention as _retention_module
from steward.artifacts.registration import RegistrationRequest, register_version
from steward.artifacts.retention import (
    RetentionError,
    plan_retention,
    retire_text,
    retired_reason,
    run_gc,
    sweep_retired,
)
from steward.artifacts.retrieve import pull_version, verify_versions
from steward.cli.main import run
from steward.entries import layout
from steward.entries.layout import Kind
from steward.entries.models import VersionEntry
from steward.entries.validate import read_entry
from steward.entries.yamlio import replace_top_level_value
from steward.errors import StewardError
from steward.forge.local import LocalForge
from steward.gate.promotion import merge_proposal, review_proposal
from steward.gitio.tree import WorktreeSnapshot
from steward.reading.check import check_snapshot
from steward.reading.create import create_model
from tests.builders import run_git
from tests.dvc_registry import RegistryRepo, make_registry, remote_object, write_model_files
from tests.promotion_setup import Clock

_ORIGINAL_GUARD = _retention_module._require_published_head

POLICY = """\
roles:
  ml-engineer: [carol, dave]
  governance: [erin]
  registrars: [ci-bot]
create_models: [ml-engineer]
register_versions: [registrars, ml-engineer]
stages:
  production: {single: true}
transitions:
  - from: development
    to: staging
    approvals: [{role: ml-engineer, count: 1}]
  - from: staging
    to: production
    approvals: [{role: ml-engineer, count: 1}]
  - from: development
    to: archived
    approvals: [{role: ml-engineer, count: 1}]
  - from: archived
    to: retired
    approvals: [{role: ml-engineer, count: 1}]
governance:
  approvals: [{role: governance, count: 1}]
retention:
  keep_archived: 1
"""


REGISTERED = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
SHARED_CONFIG = "depth: 6\n"  # every version's config.yaml: one object on the remote


def md5(data: bytes | str) -> str:
    return hashlib.md5(data.encode() if isinstance(data, str) else data).hexdigest()


def registered_at(when: datetime) -> Clock:
    clock = Clock()
    clock.now = when
    return clock


def set_stage(root: Path, model: str, version: str, stage: str) -> None:
    """Move a version by a direct commit: test setup, not what users do."""
    path = layout.version_path(model, version)
    text = (root / path).read_text()
    (root / path).write_text(replace_top_level_value(text, "stage", stage, path))
    run_git(root, "commit", "-qam", f"{model} {version} to {stage}")


def make_repo(
    tmp_path: Path,
    policy: str = POLICY,
    weights: tuple[bytes, ...] = (b"v1", b"v2", b"v3"),
    stages: tuple[str, ...] = ("archived", "archived", "production"),
) -> RegistryRepo:
    """fraud 0.1.0, 0.2.0, 0.3.0, ... with the given weights and stages; config.yaml is the same
    file in each, so its object is shared by all of them."""
    repo = make_registry(tmp_path)
    (repo.root / layout.POLICY_FILE).write_text(policy)
    run_git(repo.root, "commit", "-qam", "The registry's policy")
    for i, (data, stage) in enumerate(zip(weights, stages, strict=True)):
        version = f"0.{i + 1}.0"
        files = write_model_files(tmp_path / f"out-{version}", data, SHARED_CONFIG)
        register_version(
            repo.root,
            RegistrationRequest("fraud", (files,), version=version, created_by="ci-bot"),
            clock=registered_at(REGISTERED + timedelta(days=i)),
        )
        if stage != "development":
            set_stage(repo.root, "fraud", version, stage)
    return repo


def entry(root: Path, version: str) -> VersionEntry:
    found: VersionEntry = read_entry(root, layout.version_path("fraud", version), Kind.VERSION)
    return found


def remote_files(repo: RegistryRepo) -> set[str]:
    return {p.relative_to(repo.remote).as_posix() for p in repo.remote.rglob("*") if p.is_file()}


def branches(root: Path) -> str:
    return run_git(root, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/")


def test_gc_retires_through_the_gate_keeps_shared_objects_and_leaves_tombstones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path)
    root = repo.root
    listing_v1 = entry(root, "0.1.0").artifact.md5
    head, refs, objects = repo.head(), branches(root), remote_files(repo)
    assert remote_object(repo.remote, md5(b"v1")).is_file()

    # A dry run reports the plan and changes nothing: no branch, no proposal, no object.
    assert run(["-C", str(root), "gc", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"would retire fraud 0.1.0: {retired_reason(1)}" in out
    assert "would open a proposal: Retention: retire 1 version, archive 0" in out
    assert "no retired versions: nothing to remove from the remote" in out
    assert "dry run: nothing changed" in out
    assert (repo.head(), branches(root), remote_files(repo)) == (head, refs, objects)
    assert not list((root / ".git").rglob("steward/forge/*.json"))

    # gc proposes; the work tree, the index and main stay as they were; nothing is removed yet.
    status = repo.status()
    assert run(["-C", str(root), "gc", "--as", "ci-bot"]) == 0
    out = capsys.readouterr().out
    assert "Opened proposal #1: Retention: retire 1 version, archive 0" in out
    assert "no retired versions: nothing to remove from the remote" in out
    assert (repo.head(), repo.status(), remote_files(repo)) == (head, status, objects)
    forge = LocalForge(root, clock=Clock())
    proposal = forge.get_proposal(1)
    assert proposal.author == "ci-bot"
    assert "| fraud | 0.1.0 | retention: keep the last 1 archived versions |" in proposal.body

    # The change is surgical: the stage line, and two lines appended.
    diff = run_git(root, "diff", "-U0", head, proposal.head_branch)
    changed = [
        line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert changed[0] == "-stage: archived"
    assert changed[1] == "+stage: retired"
    assert changed[2].startswith("+retired_at: ")
    assert changed[3] == "+retired_reason: 'retention: keep the last 1 archived versions'"
    assert len(changed) == 4

    # Until it is merged, a second run proposes nothing more and removes nothing.
    assert run(["-C", str(root), "gc", "--as", "ci-bot"]) == 0
    out = capsys.readouterr().out
    assert f"already proposed on {proposal.head_branch}" in out
    assert "nothing new to retire or archive" in out
    assert remote_files(repo) == objects

    # The gate judges it like any promotion: it needs the approval the policy names.
    with pytest.raises(Exception, match="ml-engineer: 0 of 1"):
        merge_proposal(root, forge, 1, "dave")
    review_proposal(forge, 1, "dave", "APPROVED")
    merge_proposal(root, forge, 1, "dave")
    assert entry(root, "0.1.0").stage == "retired"

    # Now the sweep: the unique weights and the listing go; the shared config stays.
    assert run(["-C", str(root), "gc", "--dry-run", "--json"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert sorted(item["object"] for item in dry["sweep"]["removed"]) == sorted(
        [md5(b"v1"), listing_v1]
    )
    assert remote_files(repo) == objects  # dry run: still all there
    assert run(["-C", str(root), "gc"]) == 0
    out = capsys.readouterr().out
    assert f"removed {md5(b'v1')} (2 bytes) of fraud@0.1.0 from the remote" in out
    assert f"kept {md5(SHARED_CONFIG)}: a remaining version uses it too" in out
    listing_size = remote_object_size(dry, listing_v1)
    assert f"removed 2 objects from {repo.remote}: {2 + listing_size} bytes freed" in out
    assert not remote_object(repo.remote, md5(b"v1")).exists()
    assert not remote_object(repo.remote, listing_v1).exists()
    assert remote_object(repo.remote, md5(SHARED_CONFIG)).is_file()
    assert remote_object(repo.remote, md5(b"v2")).is_file()

    # The tombstone: the entry and its pointer stay, with when and why; the registry checks.
    tombstone = entry(root, "0.1.0")
    assert tombstone.retired_reason == retired_reason(1)
    assert tombstone.retired_at is not None
    assert (root / layout.pointer_path("fraud", "0.1.0")).is_file()
    assert check_snapshot(WorktreeSnapshot(root)).problems == []
    assert run(["-C", str(root), "check"]) == 0
    # verify looks at the remaining versions only; they are all whole.
    assert verify_versions(root).ok
    assert verify_versions(root).checked == ["fraud@0.2.0", "fraud@0.3.0"]
    capsys.readouterr()

    # Idempotent: a further run has nothing to propose and nothing to remove.
    head, refs, objects = repo.head(), branches(root), remote_files(repo)
    assert run(["-C", str(root), "gc", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["proposal"] is None
    assert again["plan"]["retire"] == again["plan"]["archive"] == []
    assert again["sweep"]["removed"] == []
    assert (repo.head(), branches(root), remote_files(repo)) == (head, refs, objects)


def remote_object_size(report: dict[str, object], oid: str) -> int:
    removed = report["sweep"]["removed"]  # type: ignore[index]
    return next(int(item["size"]) for item in removed if item["object"] == oid)


def test_archive_after_days_follows_the_injected_clock(tmp_path: Path) -> None:
    policy = POLICY.replace(
        "retention:\n  keep_archived: 1\n", "retention:\n  archive_after_days: 30\n"
    )
    # 0.1.0 registered Sep 1, 0.2.0 Sep 2 (both development), 0.3.0 Sep 3 in staging.
    repo = make_repo(tmp_path, policy, stages=("development", "development", "staging"))
    root = repo.root

    def at(when: datetime) -> Clock:
        return registered_at(when - timedelta(seconds=1))  # the clock ticks once per call

    early = plan_retention(root, at(REGISTERED + timedelta(days=30, hours=12)))
    assert [m.version for m in early.archive] == ["0.1.0"]
    assert early.archive[0].why == (
        "in development since 2026-09-01 (30 days; archive_after_days: 30)"
    )
    assert plan_retention(root, at(REGISTERED + timedelta(days=29))).archive == ()
    late = plan_retention(root, at(REGISTERED + timedelta(days=400)))
    assert [m.version for m in late.archive] == ["0.1.0", "0.2.0"]  # never the staging one
    assert late.retire == ()

    forge = LocalForge(root, clock=Clock())
    report = run_gc(root, lambda: forge, "ci-bot", clock=at(REGISTERED + timedelta(days=31)))
    assert report.proposal is not None
    assert report.proposal.proposal.title == "Retention: retire 0 versions, archive 1"
    review_proposal(forge, 1, "dave", "APPROVED")
    merge_proposal(root, forge, 1, "dave")
    assert [entry(root, v).stage for v in ("0.1.0", "0.2.0", "0.3.0")] == [
        "archived",
        "development",
        "staging",
    ]
    archived = entry(root, "0.1.0")
    assert archived.retired_at is None and archived.retired_reason is None


def test_keep_archived_counts_versions_archived_in_the_same_proposal(tmp_path: Path) -> None:
    policy = POLICY.replace(
        "  keep_archived: 1\n", "  keep_archived: 1\n  archive_after_days: 30\n"
    )
    # 0.1.0 and 0.2.0 archived, 0.3.0 old in development, 0.4.0 in production.
    repo = make_repo(
        tmp_path,
        policy,
        weights=(b"v1", b"v2", b"v3", b"v4"),
        stages=("archived", "archived", "development", "production"),
    )
    plan = plan_retention(repo.root, registered_at(REGISTERED + timedelta(days=100)))
    # After the merge 0.3.0 is the newest archived one: both older ones retire now, and 0.3.0
    # is not retired in the same change (that would skip a stage).
    assert [(m.version, m.to_stage) for m in plan.retire] == [
        ("0.1.0", "retired"),
        ("0.2.0", "retired"),
    ]
    assert [(m.version, m.to_stage) for m in plan.archive] == [("0.3.0", "archived")]
    assert plan.title == "Retention: retire 2 versions, archive 1"
    forge = LocalForge(repo.root, clock=Clock())
    report = run_gc(repo.root, lambda: forge, "ci-bot", clock=Clock())
    assert report.proposal is not None
    review_proposal(forge, 1, "dave", "APPROVED")
    merge_proposal(repo.root, forge, 1, "dave")
    # Merged and swept in one more run; then the policy is met and gc has nothing to do.
    second = run_gc(repo.root, lambda: forge, "ci-bot", clock=Clock())
    assert second.proposal is None and second.plan.moves == ()
    assert {item.oid for item in second.sweep.removed} == {
        md5(b"v1"),
        md5(b"v2"),
        entry(repo.root, "0.1.0").artifact.md5,
        entry(repo.root, "0.2.0").artifact.md5,
    }
    third = run_gc(repo.root, lambda: forge, "ci-bot", clock=Clock())
    assert third.proposal is None and third.plan.moves == () and third.sweep.removed == []


def test_retention_is_per_model_and_keeps_files_another_model_shares(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)  # fraud: 0.1.0 and 0.2.0 archived, 0.3.0 in production
    root = repo.root
    create_model(root, {"name": "churn", "owner": "carol", "team": "risk-ml", "risk": "limited"})
    for version, data in (("1.0.0", b"v1"), ("1.1.0", b"churn-2")):  # churn 1.0.0 reuses v1
        files = write_model_files(tmp_path / f"churn-{version}", data, "layers: 2\n")
        register_version(root, RegistrationRequest("churn", (files,), version=version))
        set_stage(root, "churn", version, "archived")
    plan = plan_retention(root)
    assert [m.name for m in plan.retire] == ["churn@1.0.0", "fraud@0.1.0"]
    forge = LocalForge(root, clock=Clock())
    assert run_gc(root, lambda: forge, "ci-bot").proposal is not None
    review_proposal(forge, 1, "dave", "APPROVED")
    merge_proposal(root, forge, 1, "dave")
    report = run_gc(root, lambda: forge, "ci-bot")
    removed = {item.oid: item.versions for item in report.sweep.removed}
    # v1 was used by both retired versions and nothing else: it goes, named by both.
    assert removed[md5(b"v1")] == ("churn@1.0.0", "fraud@0.1.0")
    assert md5("layers: 2\n") not in removed  # churn 1.1.0 still uses it
    assert remote_object(repo.remote, md5("layers: 2\n")).is_file()
    assert remote_object(repo.remote, md5(b"churn-2")).is_file()
    assert verify_versions(root).ok


def test_without_retention_gc_has_nothing_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path, POLICY.replace("retention:\n  keep_archived: 1\n", ""))
    head, refs = repo.head(), branches(repo.root)
    assert run(["-C", str(repo.root), "gc"]) == 0
    assert (
        capsys.readouterr().out == "policies/registry.yaml has no retention rules: nothing to do\n"
    )
    assert (repo.head(), branches(repo.root)) == (head, refs)


def test_a_policy_without_the_transition_is_reported_and_nothing_is_proposed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = POLICY.replace(
        "  - from: archived\n    to: retired\n    approvals: [{role: ml-engineer, count: 1}]\n", ""
    )
    repo = make_repo(tmp_path, policy)
    refs = branches(repo.root)
    assert run(["-C", str(repo.root), "gc", "--as", "ci-bot"]) == 1
    out = capsys.readouterr().out
    assert "problem: the policy has no transition archived -> retired" in out
    assert "- {from: archived, to: retired, approvals: [...]}" in out
    assert branches(repo.root) == refs


def test_staging_and_production_are_never_touched(tmp_path: Path) -> None:
    policy = POLICY.replace("  keep_archived: 1\n", "  keep_archived: 0\n  archive_after_days: 1\n")
    repo = make_repo(tmp_path, policy, stages=("staging", "production", "archived"))
    plan = plan_retention(repo.root, registered_at(REGISTERED + timedelta(days=1000)))
    assert [(m.version, m.from_stage, m.to_stage) for m in plan.moves] == [
        ("0.3.0", "archived", "retired")
    ]


def test_the_sweep_keeps_objects_of_versions_registered_on_other_branches(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path)
    root = repo.root
    set_stage(root, "fraud", "0.1.0", "retired")  # as if the retention proposal had merged
    # A registration waiting on a branch reuses the retired version's weights.
    run_git(root, "checkout", "-q", "-b", "steward/register/fraud")
    files = write_model_files(tmp_path / "out-next", b"v1", "depth: 7\n")
    register_version(root, RegistrationRequest("fraud", (files,), version="0.4.0"))
    run_git(root, "checkout", "-q", "main")
    report = sweep_retired(root)
    assert [item.oid for item in report.removed] == [entry(root, "0.1.0").artifact.md5]
    assert remote_object(repo.remote, md5(b"v1")).is_file()
    assert set(report.kept_shared) == {md5(b"v1"), md5(SHARED_CONFIG)}


def test_the_sweep_fails_closed_when_a_remaining_version_cannot_be_read(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path)
    root = repo.root
    set_stage(root, "fraud", "0.1.0", "retired")
    listing = entry(root, "0.2.0").artifact.md5
    remote_object(repo.remote, listing).unlink()
    cached = root / ".dvc/cache/files/md5" / listing[:2] / listing[2:]
    cached.unlink()
    objects = remote_files(repo)
    with pytest.raises(RetentionError, match=r"cannot tell which objects fraud@0\.2\.0 uses"):
        sweep_retired(root)
    assert remote_files(repo) == objects


def test_an_interrupted_sweep_finishes_on_the_next_run(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    root = repo.root
    set_stage(root, "fraud", "0.1.0", "retired")
    remote_object(repo.remote, md5(b"v1")).unlink()  # the first run got this far
    report = sweep_retired(root)
    assert [item.oid for item in report.removed] == [entry(root, "0.1.0").artifact.md5]
    assert sweep_retired(root).removed == []


def test_retire_text_changes_three_lines_and_keeps_everything_else() -> None:
    text = (
        "# yaml-language-server: $schema=x\n"
        "model: fraud\n"
        "version: 0.1.0\n"
        "stage: archived   # moved by hand\n"
        "created_at: 2026-09-01T12:00:00Z\n"
        "created_by: ci-bot\n"
        "artifact:\n"
        "  dvc: 0.1.0.dvc\n"
        f"  md5: {'0' * 32}.dir\n"
        "  size: 2\n"
        "  format: pickle\n"
        "  files:\n"
        f"  - {{path: model.pkl, sha256: {'0' * 64}, size: 2}}"  # no newline at the end
    )
    path = layout.version_path("fraud", "0.1.0")
    edited = retire_text(text, path, "2026-12-01T00:00:00Z", retired_reason(3))
    assert edited.splitlines() == [
        *text.splitlines()[:3],
        "stage: retired   # moved by hand",
        *text.splitlines()[4:],
        "retired_at: '2026-12-01T00:00:00Z'",
        "retired_reason: 'retention: keep the last 3 archived versions'",
    ]
    with pytest.raises(RetentionError, match="already has retired_reason"):
        retire_text(text + "\nretired_reason: by hand\n", path, "2026-12-01T00:00:00Z", "x")


def test_after_the_sweep_remaining_versions_pull_and_dvc_sees_only_the_retired_gone(
    tmp_path: Path,
) -> None:
    """DVC's own view after a sweep: the retired version's pointer stays (the tombstone), so
    `dvc status -c` names its removed objects, and nothing of the remaining versions."""
    repo = make_repo(tmp_path)
    root = repo.root
    set_stage(root, "fraud", "0.1.0", "retired")
    sweep_retired(root)
    status = subprocess.run(
        [sys.executable, "-m", "dvc", "status", "-c", "--json"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert status.returncode == 0, status.stderr
    assert set(json.loads(status.stdout)) == {
        "registry/models/fraud/0.1.0",
        "registry/models/fraud/0.1.0/model.pkl",
    }
    run_git(root, "push", "-q", "origin", "main")
    clone = repo.clone(tmp_path / "clone")
    pulled = pull_version(clone, "fraud", version="0.2.0", output=tmp_path / "serving")
    assert sorted(p.name for p in pulled.files) == ["config.yaml", "model.pkl"]
    assert (tmp_path / "serving/config.yaml").read_text() == SHARED_CONFIG


@pytest.fixture(autouse=True)
def _shared_branch_up_to_date(monkeypatch: pytest.MonkeyPatch) -> None:
    """gc runs where the shared branch is (CI on main): these tests' registries commit locally,
    so main is published before each sweep, as a push would have done."""
    import steward.artifacts.retention as retention

    original = retention._require_published_head

    def publish_then_check(root: Path) -> None:
        if "origin" in run_git(root, "remote").split():
            run_git(root, "push", "-q", "origin", "HEAD:refs/heads/main")
        original(root)

    monkeypatch.setattr(retention, "_require_published_head", publish_then_check)


def test_the_sweep_refuses_an_unpublished_or_proposal_branch(tmp_path: Path) -> None:
    repo = make_registry(tmp_path)
    run_git(repo.root, "commit", "-q", "--allow-empty", "-m", "local only")
    with pytest.raises(StewardError, match="is not at origin/main"):
        _ORIGINAL_GUARD(repo.root)
    run_git(repo.root, "push", "-q", "origin", "main")
    _ORIGINAL_GUARD(repo.root)  # published: fine
    run_git(repo.root, "checkout", "-q", "-b", "steward/retention/x")
    with pytest.raises(StewardError, match="gc sweeps from the shared branch"):
        _ORIGINAL_GUARD(repo.root)
