"""`steward apply --push` killed (SIGKILL) at each step of a delivery, and re-run the way CI
re-runs a job: from a fresh clone. No delivery is lost; only the one interrupted while it ran
is repeated, and the repeat says `redelivery: true`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import run_git
from tests.promotion_setup import POLICY, make_promotion_repo
from tests.test_apply import promote

HOOK = """
hooks:
  - name: deploy
    on: [staging, production]
    run: [{python}, {script}]
"""

# Logs what it was told, where the test says (outside the test's apply runs it does nothing).
SCRIPT = """
import json, os, sys
event = json.load(sys.stdin)
log = os.environ.get("HOOK_LOG")
if log:
    with open(log, "a") as out:
        out.write(json.dumps({
            "tag": event["tag"], "delivery_id": event["delivery_id"],
            "redelivery": event["redelivery"], "env": os.environ["STEWARD_REDELIVERY"],
        }) + "\\n")
"""


def apply_in_fresh_clone(
    origin: Path, where: Path, log: Path, fault: str | None = None
) -> subprocess.CompletedProcess[str]:
    subprocess.run(["git", "clone", "-q", str(origin), str(where)], check=True)
    env = {k: v for k, v in os.environ.items() if k != "STEWARD_FAULT"}
    env["HOOK_LOG"] = str(log)
    if fault is not None:
        env["STEWARD_FAULT"] = fault
    return subprocess.run(
        [sys.executable, "-m", "steward", "-C", str(where), "apply", "--push", "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


@pytest.fixture
def history(tmp_path: Path) -> tuple[Path, list[str]]:
    """A pushed history owing the hook two deliveries (production, then staging)."""
    script = tmp_path / "deploy.py"
    script.write_text(SCRIPT)
    pr = make_promotion_repo(tmp_path, POLICY + HOOK.format(python=sys.executable, script=script))
    promote(pr, "0.1.0", "staging")
    promote(pr, "0.1.0", "production", ("carol", "erin"))
    promote(pr, "0.2.0", "staging")  # 0.1.0's staging assignment is superseded: not owed
    run_git(pr.root, "push", "-q", "origin", "main")
    stage_tags = [
        t
        for t in run_git(pr.root, "tag", "--list").split()
        if "#staging#" in t or "#production#" in t
    ]
    latest: dict[str, str] = {}
    for tag in sorted(stage_tags, key=lambda t: int(t.rsplit("#", 1)[1])):
        latest[tag.split("#")[1]] = tag
    return pr.repo.origin, sorted(latest.values(), key=lambda t: int(t.rsplit("#", 1)[1]))


def read_log(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.mark.parametrize(
    ("point", "first_run", "repeated"),
    [
        ("apply:tagged", 0, None),  # nothing started: nothing is a redelivery
        ("apply:started", 0, 0),  # started, never ran: delivered by the re-run, flagged
        ("apply:ran", 1, 0),  # ran, not marked done: the only repeat, flagged
        ("apply:marked", 1, None),  # done and marked: not repeated
    ],
)
def test_apply_killed_at_each_delivery_step_loses_nothing(
    history: tuple[Path, list[str]],
    tmp_path: Path,
    point: str,
    first_run: int,
    repeated: int | None,
) -> None:
    origin, owed = history
    assert len(owed) == 2
    log = tmp_path / "deliveries.jsonl"
    killed = apply_in_fresh_clone(origin, tmp_path / "ci-1", log, fault=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert [e["tag"] for e in read_log(log)] == owed[:first_run]
    rerun = apply_in_fresh_clone(origin, tmp_path / "ci-2", log)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    events = read_log(log)
    tags = [e["tag"] for e in events]
    # Every owed delivery made; only an interrupted one twice.
    assert sorted(set(tags)) == sorted(owed)
    twice = [t for t in owed if tags.count(t) > 1]
    assert twice == ([owed[0]] if point == "apply:ran" else [])
    for event in events[first_run:]:
        flagged = repeated is not None and event["tag"] == owed[repeated]
        assert event["redelivery"] is flagged, (point, events)
        assert event["env"] == ("true" if flagged else "false")
        assert event["delivery_id"] == event["tag"]
    # A third run, fresh again, delivers nothing.
    third = apply_in_fresh_clone(origin, tmp_path / "ci-3", log)
    assert third.returncode == 0 and json.loads(third.stdout)["delivered"] == []
    assert len(read_log(log)) == len(events)


def test_a_delivery_whose_start_cannot_be_recorded_is_not_made(
    history: tuple[Path, list[str]], tmp_path: Path
) -> None:
    """origin refuses the marks: the hook does not run (it could not be de-duplicated later),
    apply exits 1, and a later run with origin back delivers everything once."""
    origin, owed = history
    log = tmp_path / "deliveries.jsonl"
    hook = origin / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\n"
        "while read old new ref; do\n  case $ref in refs/steward/*) exit 1;; esac\ndone\n"
    )
    hook.chmod(0o755)
    refused = apply_in_fresh_clone(origin, tmp_path / "ci-1", log)
    assert refused.returncode == 1
    assert "its start could not be recorded" in refused.stdout + refused.stderr
    assert read_log(log) == []
    hook.unlink()
    again = apply_in_fresh_clone(origin, tmp_path / "ci-2", log)
    assert again.returncode == 0, again.stdout + again.stderr
    assert [e["tag"] for e in read_log(log)] == owed


def test_a_done_mark_that_cannot_be_pushed_is_redelivered_by_the_same_checkout(
    history: tuple[Path, list[str]], tmp_path: Path
) -> None:
    """origin takes the started marks but refuses the done marks: the run exits 1, the hook's
    later event waits, and a re-run in the same checkout (origin fixed) redelivers the first
    as a redelivery and then delivers the second."""
    origin, owed = history
    log = tmp_path / "deliveries.jsonl"
    hook = origin / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\n"
        "while read old new ref; do\n  case $ref in refs/steward/hooks/deploy/run/*) exit 1;; "
        "esac\ndone\n"
    )
    hook.chmod(0o755)
    first = apply_in_fresh_clone(origin, tmp_path / "ci", log)
    assert first.returncode == 1
    assert [e["tag"] for e in read_log(log)] == owed[:1]  # the second waits for the first
    hook.unlink()
    env = {k: v for k, v in os.environ.items() if k != "STEWARD_FAULT"}
    env["HOOK_LOG"] = str(log)
    again = subprocess.run(
        [sys.executable, "-m", "steward", "-C", str(tmp_path / "ci"), "apply", "--push"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert again.returncode == 0, again.stdout + again.stderr
    events = read_log(log)
    assert [(e["tag"], e["redelivery"]) for e in events] == [
        (owed[0], False),
        (owed[0], True),
        (owed[1], False),
    ]
