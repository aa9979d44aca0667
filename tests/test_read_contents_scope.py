"""`read_contents` for one model (or the datasets alone) lists only the paths it reads: the model's
directory, the datasets and the policy files. Its answer must be what reading every file gives:
compared here on a working tree and a commit holding other models, a misplaced file in the model's
directory, a directory differing from `registry/` only by case, and changed, untracked and
deleted files."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.gitio.tree import GitSnapshot, Snapshot, TreeFile, WorktreeSnapshot
from steward.reading import contents
from steward.reading.contents import read_contents
from tests.builders import add_dataset, add_model, add_version, new_registry, run_git, write

ASKED = [
    {"model": "fraud"},
    {"model": "fraud", "with_policy": True},
    {"model": "fraud", "misplaced_in_model": True},
    {"model": "fraud.v2"},
    {"model": "no-such-model"},
    {"datasets_only": True},
]


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    root = new_registry(tmp_path / "registry")
    for model in ("fraud", "fraud.v2", "churn"):
        add_model(root, model)
        add_version(root, model, "1.0.0")
        add_version(root, model, "1.1.0")
    add_dataset(root, "transactions")
    run_git(root, "add", "-A")
    run_git(root, "commit", "-q", "-m", "registry")
    # Changed, untracked, deleted and misplaced files, in the model asked about and elsewhere.
    add_version(root, "fraud", "1.1.0", stage="staging")
    add_version(root, "fraud", "1.2.0")
    add_version(root, "churn", "1.2.0")
    (root / "registry/models/fraud.v2/1.0.0.yaml").unlink()
    write(root, "registry/models/fraud/notes.txt", "not an entry\n")
    write(root, "registry/models/churn/notes.txt", "not an entry\n")
    write(root, "Registry/models/fraud/model.yaml", "name: fraud\n")
    write(root, "registry/datasets/nested/x.yaml", "name: x\n")
    return root


def _committed(root: Path) -> None:
    run_git(root, "add", "-A")
    run_git(root, "commit", "-q", "-m", "the changes")


@pytest.mark.parametrize("asked", ASKED, ids=lambda asked: "-".join(map(str, asked.values())))
@pytest.mark.parametrize("where", ["working tree", "commit"])
def test_a_scoped_read_answers_as_reading_every_file(
    registry: Path, monkeypatch: pytest.MonkeyPatch, asked: dict[str, object], where: str
) -> None:
    if where == "commit":
        _committed(registry)

    def snapshot() -> Snapshot:
        return (
            WorktreeSnapshot(registry) if where == "working tree" else GitSnapshot(registry, "HEAD")
        )

    scoped = read_contents(snapshot(), **asked)  # type: ignore[arg-type]
    with monkeypatch.context() as patch:
        patch.setattr(contents, "_only", lambda *args: None)
        whole = read_contents(snapshot(), **asked)  # type: ignore[arg-type]
    assert scoped == whole
    if asked.get("model") == "fraud":
        assert [v.version for v in scoped.versions_of("fraud")] == ["1.0.0", "1.1.0", "1.2.0"]
        assert scoped.versions_of("fraud")[1].stage == "staging"
        assert set(scoped.models) == {"fraud"}
        assert bool(scoped.problems) == bool(asked.get("misplaced_in_model"))


@pytest.mark.parametrize("kind", [WorktreeSnapshot, GitSnapshot])
def test_a_scoped_read_lists_no_other_model(
    registry: Path, monkeypatch: pytest.MonkeyPatch, kind: type
) -> None:
    _committed(registry)
    listed: list[str] = []
    real = kind.files

    def recording(self: Snapshot, only: list[str] | None = None) -> list[TreeFile]:
        found: list[TreeFile] = real(self, only)
        listed.extend(file.path for file in found)
        return found

    monkeypatch.setattr(kind, "files", recording)
    snapshot = kind(registry) if kind is WorktreeSnapshot else kind(registry, "HEAD")
    read_contents(snapshot, model="fraud", with_policy=True)
    assert listed
    assert not [path for path in listed if "churn" in path or "fraud.v2" in path]
    assert "registry/datasets/transactions.yaml" in listed
    assert "policies/registry.yaml" in listed
