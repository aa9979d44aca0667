"""`steward dataset add|list|show`: a dataset registered from the command line, its columns read
from a real CSV or Parquet file, and the versions that use it."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from steward.cli.main import run
from steward.entries import layout
from steward.entries.layout import Kind
from steward.entries.validate import read_entry
from steward.reading.registry import check_registry
from tests.builders import count_parses, run_git
from tests.dvc_registry import RegistryRepo, make_registry, write_model_files


@pytest.fixture
def repo(tmp_path: Path) -> RegistryRepo:
    return make_registry(tmp_path)


def _csv(path: Path) -> Path:
    path.write_text(
        "sepal_length,petal_count,species,email,seen_at,ok\n"
        "5.1,3,setosa,a@example.com,2026-01-02 10:00:00,true\n"
        "4.9,4,versicolor,b@example.com,2026-01-03 11:00:00,false\n"
    )
    return path


def test_add_from_a_csv_reads_columns_and_types_and_commits(
    repo: RegistryRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _csv(tmp_path / "iris.csv")
    args = ["dataset", "add", "iris", "--uri", "s3://lake/iris.csv", "--owner", "alice"]
    args += ["--from", str(data), "--column", "email::pii", "--classification", "internal"]
    assert run(["-C", str(repo.root), *args]) == 0
    assert "Added dataset iris" in capsys.readouterr().out
    entry = read_entry(repo.root, layout.dataset_path("iris"), Kind.DATASET)
    assert [(c.name, c.type, c.classification) for c in entry.columns] == [
        ("sepal_length", "float", []),
        ("petal_count", "int", []),
        ("species", "string", []),
        ("email", "string", ["pii"]),
        ("seen_at", "timestamp", []),
        ("ok", "bool", []),
    ]
    assert run_git(repo.root, "status", "--porcelain") == ""
    assert run_git(repo.root, "log", "-1", "--format=%s") == "Add dataset iris\n"
    assert check_registry(repo.root, "HEAD").ok


def test_add_from_parquet_and_by_hand(repo: RegistryRepo, tmp_path: Path) -> None:
    table = pa.table({"user_id": pa.array([1, 2], pa.int64()), "score": [0.5, 0.7]})
    pq.write_table(table, tmp_path / "scores.parquet")
    base = ["-C", str(repo.root), "dataset", "add"]
    assert (
        run(
            [
                *base,
                "scores",
                "--uri",
                "bq://s",
                "--owner",
                "bob",
                "--from",
                str(tmp_path / "scores.parquet"),
            ]
        )
        == 0
    )
    assert (
        run(
            [
                *base,
                "clicks",
                "--uri",
                "s3://c",
                "--owner",
                "bob",
                "--column",
                "url:string:pii,internal",
            ]
        )
        == 0
    )
    scores = read_entry(repo.root, layout.dataset_path("scores"), Kind.DATASET)
    assert [(c.name, c.type) for c in scores.columns] == [("user_id", "int"), ("score", "float")]
    clicks = read_entry(repo.root, layout.dataset_path("clicks"), Kind.DATASET)
    assert clicks.columns[0].classification == ["pii", "internal"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["transactions", "--uri", "x", "--owner", "bob"],
            1,
            "dataset 'transactions' already exists",
        ),
        (["new", "--uri", "x", "--owner", "bob", "--from", "missing.csv"], 1, "no such file"),
        (["new", "--uri", "x", "--owner", "bob", "--from", "notes.txt"], 1, "reads Parquet"),
        (["Bad Name", "--uri", "x", "--owner", "bob"], 2, "name"),
        (["new", "--uri", "x", "--owner", "bob", "--column", ":int"], 2, "NAME[:TYPE]"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_committed(
    repo: RegistryRepo,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    code: int,
    message: str,
) -> None:
    (repo.root / "notes.txt").write_text("not data\n")
    head = repo.head()
    assert run(["-C", str(repo.root), "dataset", "add", *args]) == code
    assert message in capsys.readouterr().err
    assert repo.head() == head


def test_list_and_show_with_the_versions_that_use_it(
    repo: RegistryRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = write_model_files(tmp_path / "out", b"weights")
    assert (
        run(["-C", str(repo.root), "register", "fraud", str(files), "--dataset", "transactions"])
        == 0
    )
    capsys.readouterr()
    assert run(["-C", str(repo.root), "dataset", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [row["id"] for row in listed] == ["transactions"]
    assert run(["-C", str(repo.root), "dataset", "show", "transactions"]) == 0
    out = capsys.readouterr().out
    assert "amount: float" in out and "fraud 0.1.0" in out
    assert run(["-C", str(repo.root), "dataset", "show", "transactions", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["dataset"]["name"] == "transactions"
    assert [a["version"] for a in shown["used_by"]["affected"]] == ["0.1.0"]
    assert run(["-C", str(repo.root), "dataset", "show", "ghost"]) == 1
    assert "no dataset 'ghost' (registered: transactions)" in capsys.readouterr().err


def test_show_parses_the_datasets_and_asks_the_uses_index_for_the_rest(
    repo: RegistryRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a registry of 100,000 versions, `dataset show` must not parse every version twice
    (its entry, then who uses it): the entry is read from the datasets alone."""
    files = write_model_files(tmp_path / "out", b"weights")
    register = ["register", "fraud", str(files), "--dataset", "transactions"]
    assert run(["-C", str(repo.root), *register]) == 0
    parsed = count_parses(monkeypatch)
    capsys.readouterr()
    assert run(["-C", str(repo.root), "dataset", "show", "transactions", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [a["version"] for a in shown["used_by"]["affected"]] == ["0.1.0"]
    assert parsed == ["registry/datasets/transactions.yaml"]


def test_add_with_pr_opens_a_proposal_and_commits_nothing(
    repo: RegistryRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    head = repo.head()
    args = ["dataset", "add", "clicks", "--uri", "s3://c", "--owner", "bob", "--pr", "--as", "bob"]
    assert run(["-C", str(repo.root), *args]) == 0
    assert "Opened proposal #1: add dataset clicks" in capsys.readouterr().out
    assert repo.head() == head and not (repo.root / "registry/datasets/clicks.yaml").exists()
    shown = run_git(
        repo.root, "show", "steward/propose/add-dataset-clicks:registry/datasets/clicks.yaml"
    )
    assert "owner: bob" in shown
    assert run(["-C", str(repo.root), "gate", "1"]) == 0  # the owner may add it


def test_classifying_a_column_the_file_lacks_is_refused_with_a_suggestion(
    repo: RegistryRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _csv(tmp_path / "iris.csv")
    base = ["-C", str(repo.root), "dataset", "add", "iris", "--uri", "u", "--owner", "bob"]
    assert run([*base, "--from", str(data), "--column", "emial::pii"]) == 1
    assert "no column 'emial'; did you mean 'email'?" in capsys.readouterr().err
    assert run([*base, "--from", str(data), "--column", "label:string"]) == 0  # a new one, typed
