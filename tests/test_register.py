from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

import steward
from steward.artifacts.registration import (
    DatasetCitation,
    RegistrationError,
    RegistrationRequest,
    register_version,
)
from steward.cli.main import run
from steward.entries import layout
from steward.entries.layout import Kind
from steward.entries.validate import read_entry
from steward.errors import RemoteError, StewardError
from steward.reading.registry import check_registry
from tests.builders import run_git
from tests.dvc_registry import RegistryRepo, make_registry, remote_object, write_model_files


@pytest.fixture
def repo(tmp_path: Path) -> RegistryRepo:
    return make_registry(tmp_path)


def fixed_clock() -> datetime:
    return datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def request(sources: Path, **fields: object) -> RegistrationRequest:
    base: dict[str, object] = {"model": "fraud", "sources": (sources,)}
    base.update(fields)
    return RegistrationRequest(**base)  # type: ignore[arg-type]


def test_first_registration_commits_entry_pointer_and_pushes_data(
    repo: RegistryRepo, tmp_path: Path
) -> None:
    out = write_model_files(tmp_path / "out", b"weights-v1")
    before = repo.head()
    result = register_version(
        repo.root,
        request(
            out,
            metrics={"auc": 0.91, "f1": 0.8},
            datasets=(DatasetCitation("transactions", "2026-10-31"),),
            params={"max_depth": 6, "criterion": "gini"},
            features=("amount", "hour"),
            description="first cut",
            tags=("tabular",),
        ),
        clock=fixed_clock,
        training_code_dir=repo.root,
    )
    assert (result.model, result.version, result.created) == ("fraud", "0.1.0", True)
    assert run_git(repo.root, "rev-parse", "HEAD~1").strip() == before
    changed = run_git(repo.root, "show", "--name-only", "--format=", "HEAD").split()
    assert sorted(changed) == [
        "registry/models/fraud/.gitignore",
        "registry/models/fraud/0.1.0.dvc",
        "registry/models/fraud/0.1.0.yaml",
    ]
    assert run_git(repo.root, "status", "--porcelain") == ""
    entry = read_entry(repo.root, layout.version_path("fraud", "0.1.0"), Kind.VERSION)
    assert entry.stage == "development"
    assert entry.created_at == fixed_clock()
    assert entry.metrics == {"auc": 0.91, "f1": 0.8}
    assert entry.training.hyperparameters == {"max_depth": 6, "criterion": "gini"}
    assert [d.model_dump(exclude_defaults=True) for d in entry.training.datasets] == [
        {"id": "transactions", "version": "2026-10-31"}
    ]
    assert entry.training.code is None  # the registry's own commit says nothing about the code
    assert entry.environment.python == ".".join(map(str, sys.version_info[:3]))
    files = {f.path: f for f in entry.artifact.files}
    assert files["model.pkl"].sha256 == hashlib.sha256(b"weights-v1").hexdigest()
    assert entry.artifact.format == "pickle"
    # The data is on the remote, file by file, with its listing.
    for content in (b"weights-v1", b"depth: 6\n"):
        assert remote_object(repo.remote, hashlib.md5(content).hexdigest()).read_bytes() == content
    assert remote_object(repo.remote, entry.artifact.md5).is_file()
    # The workspace has the files, and the registry passes its check.
    assert (repo.root / "registry/models/fraud/0.1.0/model.pkl").read_bytes() == b"weights-v1"
    assert check_registry(repo.root).ok


def test_pointer_is_the_one_dvc_itself_writes(repo: RegistryRepo, tmp_path: Path) -> None:
    out = write_model_files(tmp_path / "out", b"weights", config="a: 1\n")
    (out / "nested").mkdir()
    (out / "nested" / "vocab.txt").write_text("x\ny\n")
    register_version(repo.root, request(out))
    ours = (repo.root / "registry/models/fraud/0.1.0.dvc").read_text()
    theirs_dir = tmp_path / "plain"
    theirs_dir.mkdir()
    run_git(theirs_dir, "init", "-q")
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=theirs_dir, check=True)
    subprocess.run(["cp", "-r", str(out), str(theirs_dir / "0.1.0")], check=True)
    subprocess.run([sys.executable, "-m", "dvc", "add", "-q", "0.1.0"], cwd=theirs_dir, check=True)
    assert ours == (theirs_dir / "0.1.0.dvc").read_text()
    status = subprocess.run(
        [sys.executable, "-m", "dvc", "status", "-c"], cwd=repo.root, capture_output=True, text=True
    )
    assert "in sync" in status.stdout, status.stdout + status.stderr


def test_versions_auto_bump_and_are_never_reused(repo: RegistryRepo, tmp_path: Path) -> None:
    versions = []
    for i, bump in enumerate(["minor", "minor", "patch", "major"]):
        out = write_model_files(tmp_path / f"out{i}", f"w{i}".encode())
        versions.append(register_version(repo.root, request(out, bump=bump)).version)
    assert versions == ["0.1.0", "0.2.0", "0.2.1", "1.0.0"]
    # Archive the highest: its number still counts.
    entry_path = repo.root / "registry/models/fraud/1.0.0.yaml"
    entry_path.write_text(entry_path.read_text().replace("stage: development", "stage: archived"))
    run_git(repo.root, "commit", "-qam", "archive 1.0.0")
    out = write_model_files(tmp_path / "out9", b"w9")
    assert register_version(repo.root, request(out)).version == "1.1.0"
    out = write_model_files(tmp_path / "out10", b"w10")
    with pytest.raises(RegistrationError, match=r"fraud 0\.2\.0 is already registered"):
        register_version(repo.root, request(out, version="0.2.0"))
    assert register_version(repo.root, request(out, version="5.0.0-rc.1")).version == "5.0.0-rc.1"


def test_identical_content_returns_the_existing_version(
    repo: RegistryRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = write_model_files(tmp_path / "out", b"same")
    first = register_version(repo.root, request(out, metrics={"auc": 0.9}))
    head, status = repo.head(), repo.status()
    copy = write_model_files(tmp_path / "copy", b"same")  # same bytes, other place
    again = register_version(repo.root, request(copy, metrics={"auc": 0.9}))
    assert (again.version, again.created, again.commit) == (first.version, False, None)
    assert (repo.head(), repo.status()) == (head, status)
    assert run(["-C", str(repo.root), "register", "fraud", str(copy), "--metric", "auc=0.9"]) == 0
    assert "fraud 0.1.0 already holds this content" in capsys.readouterr().out
    # Other metadata for the same content is not a retry: refused (exit 1), never dropped.
    with pytest.raises(
        RegistrationError, match=r"0\.1\.0 already holds this content .* other metrics"
    ):
        register_version(repo.root, request(copy, metrics={"auc": 0.5}))
    assert run(["-C", str(repo.root), "register", "fraud", str(copy), "--description", "x"]) == 1
    assert "with other metrics, description" in capsys.readouterr().err
    assert repo.head() == head


def test_remote_unreachable_leaves_everything_as_it_was(repo: RegistryRepo, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the remote should be a directory")
    config = repo.root / ".dvc/config"
    config.write_text(config.read_text().replace(str(repo.remote), str(blocker / "remote")))
    run_git(repo.root, "commit", "-qam", "point the remote somewhere unreachable")
    head, status = repo.head(), repo.status()
    index = run_git(repo.root, "ls-files", "--stage")
    out = write_model_files(tmp_path / "out", b"weights")
    with pytest.raises(RemoteError, match="could not push to the DVC remote"):
        register_version(repo.root, request(out))
    assert (repo.head(), repo.status()) == (head, status)
    assert run_git(repo.root, "ls-files", "--stage") == index
    assert not (repo.root / "registry/models/fraud/0.1.0").exists()


def test_failure_while_committing_takes_back_every_file(
    repo: RegistryRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import steward.artifacts.registration as register_module

    def refuse(*args: object) -> str:
        raise StewardError("disk full")

    monkeypatch.setattr(register_module, "make_commit", refuse)
    (repo.root / "notes.txt").write_text("the user's own uncommitted work")
    run_git(repo.root, "add", "notes.txt")
    head, status = repo.head(), repo.status()
    index = run_git(repo.root, "ls-files", "--stage")
    with pytest.raises(StewardError, match="disk full"):
        register_version(repo.root, request(write_model_files(tmp_path / "out", b"w")))
    assert (repo.head(), repo.status(), run_git(repo.root, "ls-files", "--stage")) == (
        head,
        status,
        index,
    )


def test_bad_input_is_refused_before_anything_happens(
    repo: RegistryRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = write_model_files(tmp_path / "out", b"w")
    head, status = repo.head(), repo.status()
    cache = sorted(p.name for p in (repo.root / ".dvc/cache").rglob("*"))
    cases = [
        (["--metric", "auc=high"], "metric auc: 'high' is not a number"),
        (["--metric", "auc=nan"], "metric auc: nan is not a finite number"),
        (["--metric", "auc"], "metric 'auc' is not NAME=VALUE"),
        (["--version", "1.10"], "'1.10' is not a semantic version"),
        (["--version", "1.0.0", "--bump", "major"], "give --version or --bump, not both"),
        (["--tag", "Not A Tag"], "tags[0]"),
    ]
    for args, message in cases:
        assert run(["-C", str(repo.root), "register", "fraud", str(out), *args]) == 2, args
        assert message in capsys.readouterr().err, args
    assert run(["-C", str(repo.root), "register", "fraud", str(out), "--dataset", "ghost"]) == 1
    assert "dataset 'ghost': registry/datasets/ghost.yaml does not exist" in capsys.readouterr().err
    assert run(["-C", str(repo.root), "register", "nobody", str(out)]) == 1
    assert "registry/models/nobody/model.yaml does not exist" in capsys.readouterr().err
    assert run(["-C", str(repo.root), "register", "fraud", str(tmp_path / "missing")]) == 1
    assert "no such file or directory" in capsys.readouterr().err
    assert (repo.head(), repo.status()) == (head, status)
    assert sorted(p.name for p in (repo.root / ".dvc/cache").rglob("*")) == cache


def test_register_command_reads_metric_and_param_files(
    repo: RegistryRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = write_model_files(tmp_path / "out", b"w")
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps({"auc": 0.9, "eval": {"f1": 0.7, "loss": 1}}))
    params = tmp_path / "params.yaml"
    params.write_text("train:\n  lr: 0.05\n  epochs: 40\n")
    code = run(
        [
            "-C", str(repo.root), "register", "fraud", str(out),
            "--metrics-file", str(metrics), "--metric", "auc=0.95",
            "--params-file", str(params), "--param", "seed=7",
            "--dataset", "transactions@2026-10-31", "--as", "ci-bot", "--json",
        ]
    )  # fmt: skip
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["version"] == "0.1.0" and result["created"] is True
    entry = read_entry(repo.root, result["entry"], Kind.VERSION)
    assert entry.metrics == {"auc": 0.95, "eval.f1": 0.7, "eval.loss": 1.0}
    assert entry.training.hyperparameters == {"train": {"lr": 0.05, "epochs": 40}, "seed": 7}
    assert entry.created_by == "ci-bot"
    bad = tmp_path / "bad.json"
    bad.write_text('{"auc": NaN}')
    assert (
        run(["-C", str(repo.root), "register", "fraud", str(out), "--metrics-file", str(bad)]) == 2
    )
    assert "NaN is not a number a registry can hold" in capsys.readouterr().err


def test_python_api_for_training_code(repo: RegistryRepo, tmp_path: Path) -> None:
    training = tmp_path / "training"
    training.mkdir()
    run_git(training, "init", "-q")
    (training / "train.py").write_text("print('train')\n")
    run_git(training, "add", "train.py")
    run_git(training, "commit", "-qm", "training code")
    run_git(
        training, "remote", "add", "origin", "https://x-access-token:s3cret@github.com/acme/t.git"
    )
    code_commit = run_git(training, "rev-parse", "HEAD").strip()
    model_file = training / "model.onnx"
    model_file.write_bytes(b"onnx bytes")
    import os

    cwd = Path.cwd()
    os.chdir(training)
    try:
        result = steward.register(
            "fraud", [model_file], repo=repo.root, metrics={"auc": 0.9}, datasets=["transactions"]
        )
    finally:
        os.chdir(cwd)
    entry = read_entry(repo.root, result.entry_path, Kind.VERSION)
    assert entry.training.code is not None
    assert entry.training.code.commit == code_commit
    assert entry.training.code.repo == "https://github.com/acme/t.git"  # the token is not kept
    assert entry.artifact.format == "onnx"
    assert [f.path for f in entry.artifact.files] == ["model.onnx"]


def test_ci_run_url_is_recorded_in_github_actions(
    repo: RegistryRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/training")
    monkeypatch.setenv("GITHUB_RUN_ID", "123456")
    monkeypatch.setenv("GITHUB_ACTOR", "ci-bot")
    result = register_version(repo.root, request(write_model_files(tmp_path / "o", b"w")))
    entry = read_entry(repo.root, result.entry_path, Kind.VERSION)
    assert entry.training.run == "https://github.com/acme/training/actions/runs/123456"
    assert entry.created_by == "ci-bot"


def test_team_extension_is_enforced_at_registration(repo: RegistryRepo, tmp_path: Path) -> None:
    team = repo.root / "policies/teams/risk-ml.yaml"
    team.parent.mkdir(parents=True, exist_ok=True)
    team.write_text(
        "team: risk-ml\nschemas:\n  version:\n    properties:\n"
        "      metrics: {required: [latency_p95_ms]}\n"
    )
    run_git(repo.root, "add", "-A")
    run_git(repo.root, "commit", "-qm", "team extension")
    head = repo.head()
    out = write_model_files(tmp_path / "out", b"w")
    with pytest.raises(RegistrationError, match="'latency_p95_ms' is a required property"):
        register_version(repo.root, request(out, metrics={"auc": 0.9}))
    assert repo.head() == head
    ok = register_version(repo.root, request(out, metrics={"latency_p95_ms": 9.5}))
    assert ok.created


def test_create_command(repo: RegistryRepo, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["-C", str(repo.root), "create", "churn", "--owner", "dave", "--team", "growth"]
    assert run([*args, "--card", "intended_use=Retention offers", "--tag", "tabular"]) == 0
    entry = read_entry(repo.root, layout.model_path("churn"), Kind.MODEL)
    assert (entry.owner, entry.team, entry.risk) == ("dave", "growth", "limited")
    assert entry.card.intended_use == "Retention offers"
    assert run_git(repo.root, "status", "--porcelain") == ""
    assert run(args) == 1
    assert "model 'churn' already exists" in capsys.readouterr().err
    assert run(["-C", str(repo.root), "create", "Bad_Name", "--owner", "x", "--team", "t"]) == 2
    assert "'Bad_Name' is not a valid name" in capsys.readouterr().err
    assert run([*args[:3], "x", "--owner", "x", "--team", "t", "--card", "vibe=good"]) == 2
    assert "unknown card section vibe" in capsys.readouterr().err


def test_register_as_a_pull_request_moves_nothing_but_a_branch(
    repo: RegistryRepo, tmp_path: Path
) -> None:
    from steward.forge.local import LocalForge
    from steward.gate.judge import run_gate

    forge = LocalForge(repo.root)
    head, status = repo.head(), run_git(repo.root, "status", "--porcelain")
    out = write_model_files(tmp_path / "out", b"weights for review")
    result = register_version(
        repo.root, request(out, metrics={"auc": 0.9}, created_by="ci-bot", pull_request=True),
        forge=forge,
    )  # fmt: skip
    assert (result.version, result.proposal, result.branch) == (
        "0.1.0",
        1,
        "steward/register/fraud-0.1.0",
    )
    assert (repo.head(), run_git(repo.root, "status", "--porcelain")) == (head, status)
    assert not (repo.root / "registry/models/fraud/0.1.0").exists()
    changed = run_git(repo.root, "show", "--name-only", "--format=", result.branch).split()
    assert sorted(changed) == [
        "registry/models/fraud/.gitignore",
        "registry/models/fraud/0.1.0.dvc",
        "registry/models/fraud/0.1.0.yaml",
    ]
    verdict = run_gate(repo.root, "", "", forge=forge, proposal_number=1).verdict
    assert [r.status for r in verdict.rules if r.rule == "entries valid"] == ["passed"]
    assert remote_object(repo.remote, hashlib.md5(b"weights for review").hexdigest()).is_file()


def test_the_columns_a_version_used_are_cited_and_must_exist(
    repo: RegistryRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert DatasetCitation.parse("transactions@2026-10-31:amount,hour") == DatasetCitation(
        "transactions", "2026-10-31", ("amount", "hour")
    )
    assert DatasetCitation.parse("transactions:amount") == DatasetCitation(
        "transactions", None, ("amount",)
    )
    out = write_model_files(tmp_path / "out", b"weights-v1")
    before = repo.head()
    args = ["-C", str(repo.root), "register", "fraud", str(out), "--as", "ci-bot"]
    assert run([*args, "--dataset", "transactions:amount,emial"]) == 1
    assert "dataset 'transactions' has no column 'emial'" in capsys.readouterr().err
    assert repo.head() == before
    assert run([*args, "--dataset", "transactions@2026-10-31:amount"]) == 0
    entry = read_entry(repo.root, layout.version_path("fraud", "0.1.0"), Kind.VERSION)
    assert entry.training.datasets[0].columns == ["amount"]
    assert check_registry(repo.root).problems == []
