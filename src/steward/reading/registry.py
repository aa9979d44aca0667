"""The operations users call, over a registry repository found from a starting directory."""

from __future__ import annotations

from pathlib import Path

from steward.entries import layout
from steward.entries.codeowners import render_codeowners
from steward.entries.layout import CODEOWNERS_PATH, Kind
from steward.entries.models import ModelEntry
from steward.entries.policy import Policy
from steward.entries.validate import read_entry
from steward.errors import StewardError
from steward.gitio.tree import WorktreeSnapshot, open_snapshot
from steward.reading.central_policy import floored_policy, worktree_reader
from steward.reading.check import CheckReport, check_cached, check_snapshot


def check_registry(start: Path, rev: str | None = None) -> CheckReport:
    """Check the working tree (or the tree of `rev`) of the registry containing `start`."""
    return check_cached(open_snapshot(start, rev))


def registry_codeowners(root: Path) -> str:
    """CODEOWNERS for the working tree of the registry at `root`, which must pass its check
    (problems with CODEOWNERS itself aside: it is about to be rewritten)."""
    report = check_snapshot(WorktreeSnapshot(root))
    blocking = [p for p in report.problems if p.path != CODEOWNERS_PATH]
    if blocking:
        details = "\n".join(p.render() for p in blocking[:20])
        raise StewardError(f"fix the registry first (`steward check`):\n{details}")
    local: Policy = read_entry(root, layout.POLICY_FILE, Kind.POLICY)
    policy = floored_policy(root, local, worktree_reader(root))
    models: dict[str, ModelEntry] = {}
    for model_file in sorted((root / layout.MODELS_DIR).glob("*/model.yaml")):
        entry: ModelEntry = read_entry(root, model_file.relative_to(root).as_posix(), Kind.MODEL)
        models[entry.name] = entry
    return render_codeowners(policy, models)
