"""Answers to `which` and `show` kept with what they were read from (`steward.reading.answers`).

The promise: a kept answer is printed only while every file it was read from is as it was, so
after any change the command prints exactly what it prints with the cache off; and a warm answer
costs the CLI's start-up, not the entry models' import.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from steward.cli import main
from steward.reading import answers, cache, queries, shown, whereabouts
from tests.builders import POLICY, add_dataset, add_model, add_version, small_registry, write

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def steward(capsys: pytest.CaptureFixture[str]) -> Run:
    def invoke(root: Path, *args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main.run(["-C", str(root), *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    root = small_registry(tmp_path / "registry")  # fraud 1.0.0 production, 1.1.0 staging
    write(
        root,
        ".dvc/config",
        '[core]\n    remote = storage\n[remote "storage"]\n    url = ../store\n',
    )
    add_dataset(root, "customers", classification=["internal"])
    add_model(root, "churn", owner="Dave", team="growth")
    add_version(
        root, "churn", "1.0.0", stage="staging",
        training={"datasets": [{"id": "customers", "version": "2026-09-01"}]},
    )  # fmt: skip
    return root


def _no_fresh_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("answered afresh, not from the kept answer")

    # Where the commands find them (`steward.reading.queries` re-exports them).
    monkeypatch.setattr(whereabouts, "which", refuse)
    for name in ("show_model", "show_version"):
        monkeypatch.setattr(shown, name, refuse)


QUESTIONS = {
    "which": ["which", "fraud", "production"],
    "which-json": ["which", "fraud", "staging", "--json"],
    "show-model": ["show", "fraud"],
    "show-version": ["show", "churn@1.0.0", "--json"],
}


def test_an_answer_asked_again_is_the_kept_one(
    steward: Run, registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = {name: steward(registry, *args) for name, args in QUESTIONS.items()}
    assert all(code == 0 for code, _, _ in first.values()), first
    with monkeypatch.context() as patched:
        _no_fresh_answer(patched)
        again = {name: steward(registry, *args) for name, args in QUESTIONS.items()}
    assert again == first


def _stage(root: Path, model: str, version: str, stage: str) -> None:
    path = root / f"registry/models/{model}/{version}.yaml"
    text = path.read_text()
    old = next(line for line in text.splitlines() if line.startswith("stage:"))
    path.write_text(text.replace(old, f"stage: {stage}"))


# Each change touches what some question read; every question must then answer as if asked
# for the first time.
CHANGES: dict[str, Callable[[Path], object]] = {
    "a version's stage": lambda root: _stage(root, "fraud", "1.0.0", "archived"),
    "a version file added": lambda root: add_version(root, "fraud", "1.2.0", stage="staging"),
    "a version file removed": lambda root: (root / "registry/models/fraud/1.1.0.yaml").unlink(),
    "a version file broken": lambda root: write(root, "registry/models/fraud/1.1.0.yaml", "x: ["),
    "the model's owner": lambda root: add_model(root, "fraud", owner="erin"),
    "the model file removed": lambda root: (root / "registry/models/fraud/model.yaml").unlink(),
    "a dataset's classification": lambda root: add_dataset(
        root, "customers", classification=["pii"]
    ),
    "a dataset removed": lambda root: (root / "registry/datasets/customers.yaml").unlink(),
    "the remote's URL": lambda root: write(
        root,
        ".dvc/config",
        '[core]\n    remote = storage\n[remote "storage"]\n    url = /elsewhere\n',
    ),
    "a local config over it": lambda root: write(
        root, ".dvc/config.local", '[remote "storage"]\n    url = /local\n'
    ),
    "the policy's single stages": lambda root: write(
        root,
        "policies/registry.yaml",
        POLICY.replace("production: {single: true}", "staging: {single: true}"),
    ),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_after_any_change_the_answer_is_what_an_uncached_run_prints(
    steward: Run, registry: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    add_version(registry, "fraud", "1.1.1", stage="staging")  # two holders: the policy is read
    questions = [*QUESTIONS.values(), ["which", "churn", "staging"]]
    for args in questions:
        assert steward(registry, *args)[0] == 0, args
    CHANGES[change](registry)
    kept = [steward(registry, *args) for args in questions]
    monkeypatch.setenv("STEWARD_NO_CACHE", "1")
    fresh = [steward(registry, *args) for args in questions]
    assert kept == fresh
    assert any(run[0] != 0 or run[1] for run in fresh)


def test_a_remote_under_home_is_resolved_against_the_home_of_the_run(
    steward: Run, registry: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    write(registry, ".dvc/config", '[core]\n    remote = s\n[remote "s"]\n    url = ~/store\n')
    monkeypatch.setenv("HOME", str(tmp_path / "one"))
    assert str(tmp_path / "one" / "store") in steward(registry, "which", "fraud", "production")[1]
    monkeypatch.setenv("HOME", str(tmp_path / "two"))
    assert str(tmp_path / "two" / "store") in steward(registry, "which", "fraud", "production")[1]


def test_an_answer_with_problems_is_never_kept(
    steward: Run, registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(registry, "registry/models/fraud/1.1.0.yaml", "x: [")
    code, _, err = steward(registry, "show", "fraud")
    assert code == 1 and "registry/models/fraud/1.1.0.yaml" in err
    with monkeypatch.context() as patched:
        _no_fresh_answer(patched)
        code, _, err = steward(registry, "show", "fraud")
    assert code != 0 and "answered afresh" in err


def test_a_file_changed_while_it_was_answered_is_read_afresh_next_time(registry: Path) -> None:
    reads = answers.Reads(registry)
    queries.which(registry, "fraud", "production", reads)
    _stage(registry, "fraud", "1.0.0", "archived")  # after it was read, before it was kept
    answers.remember(registry, ("q",), reads, "fraud 1.0.0 is in production")
    assert answers.recall(registry, ("q",)) is None


def test_a_damaged_kept_answer_is_a_miss(steward: Run, registry: Path) -> None:
    first = steward(registry, "which", "fraud", "production")
    directory = cache.cache_dir(registry)
    assert directory is not None
    (kept,) = (directory / "answers").glob("*.pickle")
    data = bytearray(kept.read_bytes())
    data[-3] ^= 0xFF
    kept.write_bytes(bytes(data))
    assert steward(registry, "which", "fraud", "production") == first


def test_a_central_pin_keeps_the_answer_from_being_kept(registry: Path) -> None:
    """Whether a pinned central file can be read decides the single stages; `Reads` cannot
    record that, so such an answer is computed every time."""
    pin = "central:\n  repo: example/central\n  commit: " + "a" * 40 + "\n"
    write(registry, "policies/registry.yaml", pin + POLICY)
    add_version(registry, "fraud", "1.1.1", stage="staging")  # two holders: the policy is read
    reads = answers.Reads(registry)
    queries.which(registry, "fraud", "staging", reads)
    assert not reads.whole


def test_a_warm_which_or_show_imports_neither_the_entry_models_nor_their_libraries(
    registry: Path,
) -> None:
    """What keeps a question near the CLI's own start-up (#19): asked first, it reads plain
    entries (`steward.entries.plain_entries`); asked again, it prints the answer it kept."""
    questions = list(QUESTIONS.values())
    probe = (
        "import sys\n"
        "from steward.cli import main\n"
        f"codes = [main.run(['-C', sys.argv[1], *args]) for args in {questions!r}]\n"
        "heavy = sorted(m for m in sys.modules\n"
        "               if m.split('.')[0] in ('pydantic', 'jsonschema', 'dvc')\n"
        "               or m in ('steward.entries.models', 'steward.entries.policy'))\n"
        "print(codes, heavy, file=sys.stderr)\n"
    )
    for expected in ("[0, 0, 0, 0] []", "[0, 0, 0, 0] []"):  # cold (`plain_entries`), then warm
        done = subprocess.run(
            [sys.executable, "-c", probe, str(registry)], capture_output=True, text=True
        )
        assert done.stderr.strip().splitlines()[-1].startswith(expected), done.stderr
