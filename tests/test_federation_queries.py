"""`steward show` and `steward which` with `--federation`: a model found in whichever registry
holds it, `REGISTRY/MODEL` when several do, the answer naming its registry; read from the
mirrors, never fetched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from steward.cli import main
from steward.federation import mirror
from steward.federation.spec import load_federation
from tests.builders import add_model, add_version, write
from tests.federation_setup import central, commit_and_push, fraud_and_risk


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main.run(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def federation_file(tmp_path: Path) -> Path:
    fraud, risk = fraud_and_risk(tmp_path / "teams")
    # Both teams have a model called `shared`.
    for team in (fraud, risk):
        add_model(team.work, "shared", owner=f"{team.name}-lead")
        add_version(team.work, "shared", "0.1.0")
        commit_and_push(team, "shared")
    write(
        fraud.work, ".dvc/config", "[core]\n    remote = storage\n['remote \"storage\"']\n"
        "    url = s3://fraud-artifacts/dvc\n"
    )  # fmt: skip
    commit_and_push(fraud, "a DVC remote")
    path = central(tmp_path, [("fraud", str(fraud.origin)), ("risk", str(risk.origin))])
    assert all(not r.failed for r in mirror.sync(load_federation(path)))
    return path


def test_show_finds_the_model_in_its_registry(
    federation_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "show", "credit", "--federation", str(federation_file))
    assert code == 0
    assert out.splitlines()[0].startswith("registry risk (")
    assert "owner           rick" in out

    code, out, _ = run(
        capsys, "show", "fraud@1.1.0", "--federation", str(federation_file), "--json"
    )
    assert code == 0
    found = json.loads(out)
    assert (found["registry"], found["model"], found["version"]) == ("fraud", "fraud", "1.1.0")
    assert found["inherited_classifications"] == ["internal", "pii"]
    assert found["unavailable"] == []


def test_a_model_in_two_registries_needs_its_registry_named(
    federation_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "show", "shared", "--federation", str(federation_file))
    assert code == 2
    assert "model 'shared' is in 2 registries (fraud, risk): name one, as REGISTRY/shared" in err
    code, out, _ = run(
        capsys, "show", "risk/shared", "--federation", str(federation_file), "--json"
    )
    assert code == 0
    assert json.loads(out)["owner"] == "risk-lead"
    code, _, err = run(capsys, "show", "ops/shared", "--federation", str(federation_file))
    assert code == 2
    assert "no registry 'ops' in the federation (it has: fraud, risk)" in err
    code, _, err = run(capsys, "show", "nothing", "--federation", str(federation_file))
    assert code == 1
    assert "model 'nothing' is in none of the registries read (fraud, risk)" in err


def test_which_answers_from_the_registry_and_its_committed_dvc_remote(
    federation_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "which", "fraud", "production", "--federation", str(federation_file), "--json"
    )
    assert code == 0
    found = json.loads(out)
    assert (found["registry"], found["version"]) == ("fraud", "1.0.0")
    assert found["remote"]["url"] == "s3://fraud-artifacts/dvc"
    code, out, _ = run(
        capsys, "which", "risk/credit", "--stage", "production", "--federation",
        str(federation_file),
    )  # fmt: skip
    assert code == 0
    assert out.startswith("registry risk (")
    assert out.splitlines()[1] == "credit 2.0.0 is in production"


def test_queries_read_the_mirror_not_the_origin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the registry pushed after the last sync is not in the answer until the next sync."""
    fraud, risk = fraud_and_risk(tmp_path / "teams")
    path = central(tmp_path, [("fraud", str(fraud.origin)), ("risk", str(risk.origin))])
    assert run(capsys, "federation", "sync", str(path))[0] == 0
    add_version(risk.work, "credit", "2.2.0", stage="staging")
    commit_and_push(risk, "credit 2.2.0")
    code, _, err = run(capsys, "which", "credit", "staging", "--federation", str(path))
    assert code == 1
    assert "no version of credit is in staging" in err
    assert run(capsys, "federation", "sync", str(path))[0] == 0
    code, out, _ = run(capsys, "which", "credit", "staging", "--federation", str(path))
    assert code == 0
    assert "credit 2.2.0 is in staging" in out


def test_a_registry_not_synced_is_named_and_makes_the_answer_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fraud, risk = fraud_and_risk(tmp_path / "teams")
    path = central(tmp_path, [("fraud", str(fraud.origin)), ("risk", str(risk.origin))])
    mirror.sync(load_federation(path), names=["fraud"])
    code, out, err = run(capsys, "show", "fraud", "--federation", str(path), "--json")
    assert code == 1  # fraud is answered, but risk might have had a `fraud` too
    found = json.loads(out)
    assert found["registry"] == "fraud"
    assert found["unavailable"][0]["registry"] == "risk"
    assert "registry risk UNAVAILABLE: never synced" in err
    code, _, err = run(capsys, "show", "risk/credit", "--federation", str(path))
    assert code == 1
    assert "registry risk cannot be read: never synced" in err
