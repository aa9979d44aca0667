"""`steward apply` walks from where its records say it got to, not from the start of history
(`steward.aftermerge.watermark`), and that shortcut never loses an event: not to a forged record,
not to a run killed between two tags, not to a model whose tag could not be written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from steward.aftermerge import apply, watermark
from steward.aftermerge.apply import apply_range
from steward.aftermerge.records import Record
from tests.builders import run_git
from tests.promotion_setup import PromotionRepo, make_promotion_repo


def set_stage(root: Path, model: str, version: str, stage: str) -> str:
    """Commit a stage change straight onto the branch (no proposal, no apply); its commit id."""
    path = root / f"registry/models/{model}/{version}.yaml"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(f"stage: {stage}\n" if ln.startswith("stage:") else ln for ln in lines))
    run_git(root, "commit", "-qam", f"{model} {version} to {stage}")
    return run_git(root, "rev-parse", "HEAD").strip()


def copy_model(root: Path, source: str, name: str) -> None:
    """Register a second model by copying the first one's files (a registration per version)."""
    for tracked in run_git(root, "ls-files", f"registry/models/{source}").split():
        copy = root / tracked.replace(f"/{source}/", f"/{name}/")
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text((root / tracked).read_text().replace(source, name))
    run_git(root, "add", "-A", f"registry/models/{name}")
    run_git(root, "commit", "-qm", f"Register {name}")


def records(root: Path) -> dict[str, tuple[str, str, str | None, str]]:
    """Every tag's record, as (event, version, stage, commit) by tag name."""
    out = run_git(root, "for-each-ref", "--format=%(refname:strip=2)%00%(contents)%01", "refs/tags")
    found = {}
    for item in out.split("\x01"):
        name, _, contents = item.strip("\n").partition("\x00")
        record = Record.parse(contents) if name else None
        if record is not None:
            found[name] = (record.event, record.version, record.stage, record.commit)
    return found


@pytest.fixture
def walked(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The `since` of every walk apply makes (None: from the start of history)."""
    seen: list[str | None] = []
    real = apply._changes

    def spy(root: Path, after: str, since: str | None = None) -> list[apply._Change]:
        seen.append(since)
        return real(root, after, since)

    monkeypatch.setattr(apply, "_changes", spy)
    return seen


@pytest.mark.parametrize("asked", [watermark.MODELS_ASKED, 0], ids=["walking back", "by date"])
def test_apply_walks_from_the_last_commit_it_recorded(
    tmp_path: Path, walked: list[str | None], monkeypatch: pytest.MonkeyPatch, asked: int
) -> None:
    """Found walking back from the tip, or (where many models' changes have no record) among
    the newest tags by date: the same commit."""
    monkeypatch.setattr(watermark, "MODELS_ASKED", asked)
    pr = make_promotion_repo(tmp_path)
    apply_range(pr.root, None, "HEAD")
    assert walked == [None]  # no records yet: the whole history
    recorded = run_git(pr.root, "rev-parse", "HEAD").strip()  # registered 0.2.0: recorded
    for i in range(3):
        (pr.root / f"notes-{i}.txt").write_text("no event\n")
        run_git(pr.root, "add", "-A")
        run_git(pr.root, "commit", "-qm", "not an event")
    changed = set_stage(pr.root, "fraud", "0.1.0", "staging")
    result = apply_range(pr.root, None, "HEAD")
    assert walked[-1] == run_git(pr.root, "rev-parse", f"{recorded}^1").strip()
    assert sorted(result.tagged) == ["fraud#development!#3", "fraud#staging#4"]
    assert records(pr.root)["fraud#staging#4"][3] == changed


def test_a_push_whose_apply_never_ran_is_caught_up(tmp_path: Path) -> None:
    pr = make_promotion_repo(tmp_path)
    apply_range(pr.root, None, "HEAD")
    first = set_stage(pr.root, "fraud", "0.1.0", "staging")  # no apply for this push
    second = set_stage(pr.root, "fraud", "0.2.0", "staging")
    apply_range(pr.root, None, "HEAD")
    found = records(pr.root)
    assert found["fraud#staging#4"] == ("assignment", "0.1.0", "staging", first)
    assert found["fraud#staging#6"] == ("assignment", "0.2.0", "staging", second)


@pytest.mark.parametrize("claim", ["assignment", "registration"])
def test_a_forged_record_of_an_event_that_did_not_happen_moves_nothing(
    tmp_path: Path, claim: str
) -> None:
    """A record at the tip, newer than any other, naming an event its commit did not make: the
    walk still starts from the last true record, so the unrecorded event is recorded."""
    pr = make_promotion_repo(tmp_path)
    apply_range(pr.root, None, "HEAD")
    changed = set_stage(pr.root, "fraud", "0.1.0", "staging")  # not applied yet
    (pr.root / "notes.txt").write_text("no event\n")
    run_git(pr.root, "add", "-A")
    run_git(pr.root, "commit", "-qm", "not an event")
    tip = run_git(pr.root, "rev-parse", "HEAD").strip()
    forged = Record(
        event=claim, model="fraud", version="0.2.0",  # type: ignore[arg-type]
        stage="production" if claim == "assignment" else None, commit=tip, version_commit=tip,
        at="2026-11-26T00:00:00Z",
    )  # fmt: skip
    name = "fraud#production#99" if claim == "assignment" else "fraud@v9.9.9"
    if claim == "registration":
        forged = Record(**{**forged.as_dict(), "version": "9.9.9"})
    run_git(pr.root, "tag", "-a", "-m", forged.tag_message(), name, "HEAD")
    apply_range(pr.root, None, "HEAD")
    assert ("assignment", "0.1.0", "staging", changed) in records(pr.root).values()


def test_a_record_under_another_tag_name_moves_nothing(tmp_path: Path) -> None:
    """The record of a true event, copied into a tag `apply` would not give it."""
    pr = make_promotion_repo(tmp_path)
    apply_range(pr.root, None, "HEAD")
    changed = set_stage(pr.root, "fraud", "0.1.0", "staging")
    true = Record("assignment", "fraud", "0.1.0", "staging", changed, changed, "2026-11-26T00:00Z")
    run_git(pr.root, "tag", "-a", "-m", true.tag_message(), "fraud#production#50", "HEAD")
    apply_range(pr.root, None, "HEAD")
    assert ("assignment", "0.1.0", "staging", changed) in records(pr.root).values()


def _apply(root: Path, fault: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "STEWARD_FAULT"}
    if fault is not None:
        env["STEWARD_FAULT"] = fault
    return subprocess.run(
        [sys.executable, "-m", "steward", "-C", str(root), "apply", "--json"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip


def _unapplied_history(tmp_path: Path) -> PromotionRepo:
    """Several commits' events over two models, none of them applied."""
    pr = make_promotion_repo(tmp_path)
    copy_model(pr.root, "fraud", "churn")
    set_stage(pr.root, "fraud", "0.1.0", "staging")
    set_stage(pr.root, "churn", "0.1.0", "staging")
    set_stage(pr.root, "fraud", "0.1.0", "production")
    return pr


def test_apply_killed_after_each_tag_records_every_event_in_the_end(tmp_path: Path) -> None:
    """Killed (SIGKILL) right after each tag it writes, then re-run, run after run: the tags
    end the same as one uninterrupted run's, names and numbers included."""
    pr = _unapplied_history(tmp_path / "a")
    reference = tmp_path / "reference"
    subprocess.run(["git", "clone", "-q", str(pr.root), str(reference)], check=True)
    assert _apply(reference, None).returncode == 0
    expected = records(reference)
    kills = 0
    while _apply(pr.root, "apply:tag-written").returncode == -9:
        kills += 1
        assert kills <= len(expected)
    assert kills == len(expected)
    assert records(pr.root) == expected


def test_a_model_whose_tag_fails_stops_the_walk_at_that_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commit's other events are recorded; later commits wait for the next run, which
    starts from that commit and records everything."""
    pr = _unapplied_history(tmp_path)
    real = apply._Tagger.tag

    def refuse_churn(self: apply._Tagger, record: Record, result: apply.ApplyResult) -> None:
        if record.model == "churn":
            raise apply.StewardError("tag refused")
        real(self, record, result)

    with monkeypatch.context() as patched:
        patched.setattr(apply._Tagger, "tag", refuse_churn)
        first = apply_range(pr.root, None, "HEAD")
    assert first.failed == ["churn: tag refused"]
    assert not [t for t in records(pr.root) if t.startswith("churn")]
    # fraud's events at the commits before churn's are recorded, none after it.
    assert "fraud#staging#4" not in records(pr.root)
    second = apply_range(pr.root, None, "HEAD")
    assert second.ok
    found = records(pr.root)
    assert {t for t in found if t.startswith("churn")} >= {"churn@v0.1.0", "churn@v0.2.0"}
    assert found["fraud#production#6"][:3] == ("assignment", "0.1.0", "production")


def test_records_reach_the_remote_all_or_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tag name taken on the remote while apply ran rejects the whole push of the records:
    a later commit's record on the remote without an earlier one's would put a fresh clone's
    watermark past the unrecorded event for good."""
    from steward import faults

    pr = make_promotion_repo(tmp_path / "w")
    copy_model(pr.root, "fraud", "churn")
    apply_range(pr.root, None, "HEAD")
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(pr.root), str(origin)], check=True)
    work = tmp_path / "dev"
    subprocess.run(["git", "clone", "-q", str(origin), str(work)], check=True)
    earlier = set_stage(work, "fraud", "0.1.0", "staging")
    set_stage(work, "churn", "0.1.0", "staging")
    run_git(work, "push", "-q", "origin", "HEAD")
    ci = tmp_path / "ci"
    subprocess.run(["git", "clone", "-q", str(origin), str(ci)], check=True)
    taken = "fraud#staging#4"  # the name apply is about to give the earlier commit's record
    real = faults.point

    def race(name: str) -> None:
        if name == "apply:tagged":  # someone pushes a tag of that name meanwhile
            run_git(work, "tag", taken, "HEAD")
            run_git(work, "push", "-q", "origin", f"refs/tags/{taken}")
        real(name)

    monkeypatch.setattr(faults, "point", race)
    first = apply_range(ci, None, "HEAD", push=True)
    monkeypatch.setattr(faults, "point", real)
    assert not first.ok
    pushed = run_git(origin, "for-each-ref", "--format=%(refname:strip=2)", "refs/tags").split()
    assert not [tag for tag in pushed if tag.startswith("churn#staging")]  # none of that run's
    fresh = tmp_path / "ci2"
    subprocess.run(["git", "clone", "-q", str(origin), str(fresh)], check=True)
    assert apply_range(fresh, None, "HEAD", push=True).ok
    assert ("assignment", "0.1.0", "staging", earlier) in records(fresh).values()
