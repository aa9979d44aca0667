"""`steward impact`, `steward lineage` and `steward export` with `--federation`: two team
registries that train on one table (one URI, registered under different ids and labels), read
from their mirrors; an unreachable registry named and failing the answer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from steward.cli import main
from steward.federation import mirror
from steward.federation.spec import load_federation
from tests.builders import add_version, write
from tests.federation_setup import central, commit_and_push, fraud_and_risk


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main.run(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def synced(tmp_path: Path, extra: list[tuple[str, str]] | None = None) -> Path:
    fraud, risk = fraud_and_risk(tmp_path / "teams")
    path = central(
        tmp_path, [("fraud", str(fraud.origin)), ("risk", str(risk.origin)), *(extra or [])]
    )
    mirror.sync(load_federation(path))
    return path


@pytest.fixture
def federation_file(tmp_path: Path) -> Path:
    return synced(tmp_path)


def rows(items: list[dict[str, Any]]) -> list[str]:
    return [f"{i['registry']} {i['model']} {i['version']} {i['stage']}" for i in items]


def test_impact_lists_both_teams_versions_production_first_with_owners(
    federation_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "impact", "--dataset", "transactions", "--federation", str(federation_file),
        "--json",
    )  # fmt: skip
    assert code == 1  # production is affected
    report = json.loads(out)
    assert report["uri"] == "s3://lake/transactions"
    assert [(d["registry"], d["dataset"]) for d in report["datasets"]] == [
        ("fraud", "transactions"),
        ("risk", "txn"),
    ]
    assert rows(report["affected"]) == [
        "fraud fraud 1.0.0 production",
        "risk credit 2.0.0 production",
        "fraud fraud 1.1.0 staging",
    ]
    assert report["affected"][1]["dataset"] == "txn"
    assert report["production_affected"] is True and report["complete"] is True
    assert {n["principal"]: n["reasons"] for n in report["notify"]} == {
        "carol": ["owner of fraud/fraud"],
        "dora": ["data steward of fraud/fraud"],
        "@org/payments": ["owner of payments-api, a consumer of fraud/fraud"],
        "rick": ["owner of risk/credit"],
    }
    # One URI, two labels: reported, not resolved.
    assert report["conflicts"] == [
        {
            "uri": "s3://lake/transactions",
            "what": "classification",
            "labels": {"fraud/transactions": ["internal"], "risk/txn": ["confidential"]},
        }
    ]
    # Named by the other registry's id, the same dataset answers the same.
    code, out, _ = run(
        capsys, "impact", "--dataset", "risk/txn", "--federation", str(federation_file), "--json"
    )
    assert rows(json.loads(out)["affected"]) == rows(report["affected"])


def test_impact_text_names_registries_conflicts_and_production(
    federation_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "impact", "--dataset", "txn", "--federation", str(federation_file))
    assert code == 1
    assert "3 version(s) in 2 registry(ies) depend on it:" in out
    assert "  risk  credit 2.0.0  production  uses txn@2026-10-31" in out
    assert "PRODUCTION AFFECTED: 2 production version(s)" in out
    assert (
        "CONFLICT: s3://lake/transactions classification is labelled differently: "
        "fraud/transactions: internal; risk/txn: confidential"
    ) in out


def test_impact_of_a_dataset_version_and_a_column(
    federation_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "impact", "--dataset", "transactions", "--version", "2026-09-30", "--federation",
        str(federation_file), "--json",
    )  # fmt: skip
    report = json.loads(out)
    assert code == 0 and report["affected"] == []
    assert len(report["other_versions"]) == 3
    code, out, _ = run(
        capsys, "impact", "--dataset", "transactions", "--column", "card_hash", "--federation",
        str(federation_file), "--json",
    )  # fmt: skip
    assert rows(json.loads(out)["affected"])[0] == "fraud fraud 1.0.0 production"
    code, _, err = run(
        capsys, "impact", "--dataset", "transactions", "--column", "nope", "--federation",
        str(federation_file),
    )  # fmt: skip
    assert code == 2 and "no registry describes a column 'nope'" in err


def test_an_id_meaning_different_uris_must_be_named_with_its_registry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fraud, risk = fraud_and_risk(tmp_path / "teams")
    # risk's `profiles` is s3://lake/profiles/; fraud registers another table under that id.
    write(
        fraud.work, "registry/datasets/profiles.yaml",
        "name: profiles\nowner: erin\nuri: s3://other/profiles/\n",
    )  # fmt: skip
    commit_and_push(fraud, "another profiles")
    path = central(tmp_path, [("fraud", str(fraud.origin)), ("risk", str(risk.origin))])
    mirror.sync(load_federation(path))
    code, _, err = run(capsys, "impact", "--dataset", "profiles", "--federation", str(path))
    assert code == 2
    assert "dataset 'profiles' is a different URI in different registries" in err
    assert "name one, as REGISTRY/profiles" in err
    code, out, _ = run(
        capsys, "impact", "--dataset", "risk/profiles", "--federation", str(path), "--json"
    )
    assert code == 0
    assert rows(json.loads(out)["affected"]) == ["risk credit 2.1.0 development"]


def test_an_unreachable_registry_is_named_and_impact_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = synced(tmp_path, [("ops", str(tmp_path / "no-such-registry.git"))])
    code, out, err = run(
        capsys, "impact", "--dataset", "profiles", "--federation", str(path), "--json"
    )
    report = json.loads(out)
    # No production version is affected, and still: exit 1, the answer is not whole.
    assert rows(report["affected"]) == ["risk credit 2.1.0 development"]
    assert code == 1
    assert report["complete"] is False
    assert report["unavailable"][0]["registry"] == "ops"
    assert "the last sync failed" in report["unavailable"][0]["reason"]
    assert "registry ops UNAVAILABLE" in err
    code, out, _ = run(capsys, "impact", "--dataset", "profiles", "--federation", str(path))
    assert code == 1
    assert "registry ops UNAVAILABLE" in out and "INCOMPLETE" in out


def test_a_broken_file_in_one_registry_fails_impact_closed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fraud, risk = fraud_and_risk(tmp_path / "teams")
    write(risk.work, "registry/models/credit/2.2.0.yaml", "model: credit\nversion: [\n")
    commit_and_push(risk, "a broken entry")
    path = central(tmp_path, [("fraud", str(fraud.origin)), ("risk", str(risk.origin))])
    mirror.sync(load_federation(path))
    code, out, err = run(
        capsys, "impact", "--dataset", "profiles", "--federation", str(path), "--json"
    )
    assert code == 1
    report = json.loads(out)
    assert report["complete"] is False
    assert report["problems"][0]["registry"] == "risk"
    assert report["problems"][0]["path"] == "registry/models/credit/2.2.0.yaml"
    assert "risk: registry/models/credit/2.2.0.yaml" in err


def test_impact_reads_a_new_version_after_sync_through_the_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fraud, risk = fraud_and_risk(tmp_path / "teams")
    path = central(tmp_path, [("fraud", str(fraud.origin)), ("risk", str(risk.origin))])
    mirror.sync(load_federation(path))
    args = ["impact", "--dataset", "txn", "--federation", str(path), "--json"]
    first = json.loads(run(capsys, *args)[1])
    assert json.loads(run(capsys, *args)[1]) == first  # warm: the same answer
    add_version(
        risk.work, "credit", "2.2.0", stage="staging",
        training={"datasets": [{"id": "txn", "uri": "s3://lake/transactions/"}]},
    )  # fmt: skip
    commit_and_push(risk, "credit 2.2.0")
    assert [r.status for r in mirror.sync(load_federation(path))] == ["up to date", "fetched"]
    after = json.loads(run(capsys, *args)[1])
    assert "risk credit 2.2.0 staging" in rows(after["affected"])


def test_lineage_joins_the_other_registrys_versions_on_the_same_uri(
    federation_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "lineage", "fraud", "--federation", str(federation_file), "--format", "json"
    )
    assert code == 0
    graph = json.loads(out)
    assert graph["registry"] == "fraud"
    versions = {n["id"]: n for n in graph["nodes"] if n["kind"] == "version"}
    assert list(versions) == [
        "version:fraud@1.0.0",
        "version:fraud@1.1.0",
        "version:risk/credit@2.0.0",
    ]
    assert versions["version:fraud@1.0.0"]["registry"] == "fraud"
    assert versions["version:risk/credit@2.0.0"]["registry"] == "risk"
    assert versions["version:risk/credit@2.0.0"]["owner"] == "rick"
    edge = next(e for e in graph["edges"] if e["target"] == "version:risk/credit@2.0.0")
    assert edge["source"] == "dataset:transactions@2026-10-31"
    assert edge["dataset"] == "txn" and edge["elsewhere"] is True
    assert edge["inherited_classifications"] == ["confidential"]
    assert graph["conflicts"][0]["what"] == "classification"

    code, out, _ = run(capsys, "lineage", "fraud", "--federation", str(federation_file))
    assert out.startswith("registry fraud (")
    assert "  risk/credit 2.0.0  production" in out
    assert "CONFLICT: s3://lake/transactions" in out


@pytest.mark.parametrize("output_format", ["mermaid", "dot"])
def test_lineage_pictures_draw_the_other_registries(
    federation_file: Path, capsys: pytest.CaptureFixture[str], output_format: str
) -> None:
    code, out, _ = run(
        capsys, "lineage", "risk/credit", "--federation", str(federation_file), "--format",
        output_format,
    )  # fmt: skip
    assert code == 0
    assert "fraud/fraud 1.0.0" in out and "credit 2.0.0" in out
    if output_format == "dot":
        result = subprocess.run(["dot", "-Tsvg"], input=out, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr


def test_lineage_names_an_unreachable_registry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = synced(tmp_path, [("ops", str(tmp_path / "nowhere.git"))])
    code, out, err = run(capsys, "lineage", "fraud", "--federation", str(path), "--format", "json")
    assert code == 1
    assert json.loads(out)["unavailable"][0]["registry"] == "ops"
    assert "registry ops UNAVAILABLE" in err


def test_export_puts_every_registry_in_one_catalog(
    federation_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "export", "--format", "json", "--federation", str(federation_file))
    assert code == 0
    catalog = json.loads(out)
    assert catalog["format"] == "steward-federation-catalog" and catalog["complete"] is True
    assert [r["name"] for r in catalog["registries"]] == ["fraud", "risk"]
    assert [v["id"] for v in catalog["registries"][1]["catalog"]["versions"]] == [
        "version:credit@2.0.0",
        "version:credit@2.1.0",
    ]
    (shared,) = catalog["shared_datasets"]
    assert shared["uri"] == "s3://lake/transactions"
    assert [(d["registry"], d["dataset"]) for d in shared["datasets"]] == [
        ("fraud", "transactions"),
        ("risk", "txn"),
    ]
    assert shared["conflicts"][0]["labels"]["risk/txn"] == ["confidential"]

    code, out, _ = run(
        capsys, "export", "--format", "openlineage", "--federation", str(federation_file),
        "--namespace", "steward://acme",
    )  # fmt: skip
    assert code == 0
    events = [json.loads(line) for line in out.splitlines()]
    assert len(events) == 4
    assert {e["job"]["namespace"] for e in events} == {
        "steward://acme/fraud",
        "steward://acme/risk",
    }


def test_federation_options_refuse_rev(
    federation_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "impact", "--dataset", "txn", "--rev", "HEAD", "--federation",
        str(federation_file),
    )  # fmt: skip
    assert code == 2 and "--rev and --federation" in err


def test_a_registry_that_cannot_be_fetched_again_is_named_stale_and_impact_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Synced once, then its origin is gone: the answer still reads the older copy, and says so."""
    fraud, risk = fraud_and_risk(tmp_path / "teams")
    path = central(tmp_path, [("fraud", str(fraud.origin)), ("risk", str(risk.origin))])
    assert run(capsys, "federation", "sync", str(path))[0] == 0
    moved = risk.origin.rename(tmp_path / "away.git")
    code, out, _ = run(capsys, "federation", "sync", str(path))
    assert code == 1 and "risk  main  FAILED: " in out

    code, out, err = run(
        capsys, "impact", "--dataset", "profiles", "--federation", str(path), "--json"
    )
    report = json.loads(out)
    assert code == 1  # development only, but the answer may be out of date
    assert rows(report["affected"]) == ["risk credit 2.1.0 development"]
    (stale,) = report["unavailable"]
    assert stale["registry"] == "risk" and stale["read_commit"] is not None
    assert "the last sync failed (" in stale["reason"]
    assert "registry risk STALE: the last sync failed" in err

    moved.rename(risk.origin)
    assert run(capsys, "federation", "sync", str(path))[0] == 0
    code, out, _ = run(
        capsys, "impact", "--dataset", "profiles", "--federation", str(path), "--json"
    )
    assert code == 0 and json.loads(out)["unavailable"] == []


def test_the_federated_impact_asks_as_one_registrys_impact() -> None:
    """Kept apart so that a warm federated answer does not import the entry models (the stage
    order is one constant, `governance.notify.STAGE_ORDER`)."""
    from steward.federation import impact as federated
    from steward.governance import impact as single

    question = federated.Question("transactions", "2026-10-31", "amount")
    assert question.as_dict() == single.Question("transactions", "2026-10-31", "amount").as_dict()


def test_a_warm_federated_impact_imports_neither_pydantic_nor_the_entry_models(
    federation_file: Path,
) -> None:
    """What keeps a warm answer across 20 registries of 5,000 versions near a second: it reads
    cached indexes, never the entry models or their validation library."""
    command = [
        "impact", "--dataset", "transactions", "--federation", str(federation_file),
    ]  # fmt: skip
    assert main.run(command) == 1  # fills the mirrors' caches
    probe = (
        "import sys\n"
        "from steward.cli import main\n"
        f"code = main.run({command!r})\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'dvc')\n"
        "               or m in ('steward.entries.models', 'steward.entries.policy'))\n"
        "print(code, heavy, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.stderr.strip().splitlines()[-1] == "1 []", done.stderr
