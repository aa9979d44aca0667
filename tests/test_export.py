"""`steward export`: OpenLineage run events checked with the openlineage-python client's own
models, Steward's custom facets against their shipped JSON Schema, and the flat JSON catalog."""

from __future__ import annotations

import copy
import json
import uuid
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openlineage.client import event_v2, facet_v2
from openlineage.client.generated import (
    dataset_version_dataset,
    documentation_dataset,
    documentation_job,
    job_type_job,
    ownership_dataset,
    ownership_job,
    schema_dataset,
    tags_dataset,
    tags_job,
)
from openlineage.client.serde import Serde

from steward.cli import main
from steward.gitio.tree import WorktreeSnapshot
from steward.governance.export_openlineage import (
    FACETS_SCHEMA_ID,
    PRODUCER,
    dataset_naming,
    default_namespace,
    export_events,
    static_uuid7,
)
from steward.reading.contents import read_contents
from tests.builders import add_model, default_policy_text, run_git, write
from tests.governance_registry import AWKWARD_URI, break_file, governance_registry

NAMESPACE = "steward://github.com/acme/registry"


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return governance_registry(tmp_path / "registry")


def export(root: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main.run(["-C", str(root), "export", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def events_of(root: Path) -> list[dict[str, Any]]:
    return export_events(read_contents(WorktreeSnapshot(root)), NAMESPACE)


# --- the client's models ------------------------------------------------------------------------

DATASET_FACETS: dict[str, Any] = {
    "schema": lambda f: schema_dataset.SchemaDatasetFacet(
        fields=[schema_dataset.SchemaDatasetFacetFields(**field) for field in f["fields"]]
    ),
    "ownership": lambda f: ownership_dataset.OwnershipDatasetFacet(
        owners=[ownership_dataset.Owner(**owner) for owner in f["owners"]]
    ),
    "tags": lambda f: tags_dataset.TagsDatasetFacet(
        tags=[tags_dataset.TagsDatasetFacetFields(**tag) for tag in f["tags"]]
    ),
    "version": lambda f: dataset_version_dataset.DatasetVersionDatasetFacet(**f),
    "documentation": lambda f: documentation_dataset.DocumentationDatasetFacet(**f),
}
JOB_FACETS: dict[str, Any] = {
    "ownership": lambda f: ownership_job.OwnershipJobFacet(
        owners=[ownership_job.Owner(**owner) for owner in f["owners"]]
    ),
    "tags": lambda f: tags_job.TagsJobFacet(
        tags=[tags_job.TagsJobFacetFields(**tag) for tag in f["tags"]]
    ),
    "jobType": lambda f: job_type_job.JobTypeJobFacet(**f),
    "documentation": lambda f: documentation_job.DocumentationJobFacet(**f),
}


def _fields(facet: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in facet.items() if k not in ("_producer", "_schemaURL")}


def _standard(builders: dict[str, Any], facets: dict[str, Any]) -> dict[str, Any]:
    """Facets through the client's classes; an unknown field is a TypeError from attrs."""
    built = {}
    for key, facet in facets.items():
        if key.startswith("steward_"):
            continue
        assert facet["_producer"] == PRODUCER
        built[key] = builders[key](_fields(facet))
        built[key]._producer = facet["_producer"]
    return built


def _custom(base: type[Any], facets: dict[str, Any]) -> dict[str, Any]:
    return {
        key: base(producer=facet["_producer"]).with_additional_properties(**_fields(facet))
        for key, facet in facets.items()
        if key.startswith("steward_")
    }


def structure(event: dict[str, Any]) -> event_v2.RunEvent:
    """The event as the client's `RunEvent` (the client ships no deserializer; attrs refuses
    unknown fields and the client's validators check eventTime, runId and URIs)."""
    run = event["run"]
    job = event["job"]
    return event_v2.RunEvent(
        eventType=event_v2.RunState(event["eventType"]),
        eventTime=event["eventTime"],
        producer=event["producer"],
        run=event_v2.Run(runId=run["runId"], facets=_custom(facet_v2.RunFacet, run["facets"])),
        job=event_v2.Job(
            namespace=job["namespace"],
            name=job["name"],
            facets=_standard(JOB_FACETS, job["facets"]),
        ),
        inputs=[
            event_v2.InputDataset(
                namespace=item["namespace"],
                name=item["name"],
                facets=_standard(DATASET_FACETS, item["facets"]),
                inputFacets=_custom(facet_v2.InputDatasetFacet, item["inputFacets"]),
            )
            for item in event["inputs"]
        ],
        outputs=[
            event_v2.OutputDataset(
                namespace=item["namespace"],
                name=item["name"],
                facets={
                    **_standard(DATASET_FACETS, item["facets"]),
                    **_custom(facet_v2.DatasetFacet, item["facets"]),
                },
            )
            for item in event["outputs"]
        ],
    )


def _without_empty(value: Any) -> Any:
    """The client writes its defaults (`fields: []`, `outputFacets: {}`); we leave them out."""
    if isinstance(value, dict):
        return {k: _without_empty(v) for k, v in value.items() if v not in ([], {})}
    if isinstance(value, list):
        return [_without_empty(item) for item in value]
    return value


def _comparable(event: dict[str, Any]) -> dict[str, Any]:
    """Our facets' `_schemaURL` points at our schema; the client's generic classes put theirs."""
    event = _without_empty(copy.deepcopy(event))
    places = [event["run"]["facets"]]
    places += [item["inputFacets"] for item in event["inputs"]]
    places += [item["facets"] for item in event["outputs"]]
    for facets in places:
        for key, facet in facets.items():
            if key.startswith("steward_"):
                facet.pop("_schemaURL")
    return event


def test_every_event_round_trips_through_the_clients_run_event(registry: Path) -> None:
    events = events_of(registry)
    assert len(events) == 7  # one per version, retired included
    for event in events:
        rebuilt = Serde.to_dict(structure(event))
        assert _comparable(rebuilt) == _comparable(event)
        assert event["schemaURL"] == rebuilt["schemaURL"]  # the spec version the client speaks


def test_events_say_which_version_read_which_datasets(registry: Path) -> None:
    events = {event["outputs"][0]["name"]: event for event in events_of(registry)}
    event = events["registry/models/churn/2.0.0"]
    assert event["eventType"] == "COMPLETE"
    assert event["eventTime"] == "2026-10-15T00:00:00Z"
    assert event["job"] == {
        "namespace": NAMESPACE,
        "name": "churn.training",
        "facets": event["job"]["facets"],
    }
    owners = event["job"]["facets"]["ownership"]["owners"]
    assert owners == [
        {"name": "user:dave", "type": "OWNER"},
        {"name": "team:growth", "type": "TEAM"},
    ]
    inputs = {(item["namespace"], item["name"]): item for item in event["inputs"]}
    # named by the dataset entry's URI (the cited version is a facet); credentials never kept
    profiles = inputs[dataset_naming(AWKWARD_URI)]  # type: ignore[index]
    transactions = inputs[("s3://lake", "transactions")]
    assert transactions["facets"]["version"]["datasetVersion"] == "2026-09-30"
    tags = transactions["facets"]["tags"]["tags"]
    assert {"key": "internal", "value": "true", "source": "STEWARD"} in tags
    assert {"key": "pii", "value": "true", "source": "STEWARD", "field": "card_hash"} in tags
    assert [f["name"] for f in transactions["facets"]["schema"]["fields"]] == [
        "card_hash",
        "amount",
        "hour",
    ]
    usage = transactions["inputFacets"]["steward_trainingInput"]
    assert usage["columns"] == ["hour"]
    assert usage["usedColumns"] == ["hour"]
    assert usage["inheritedClassifications"] == [{"label": "internal", "dataset": "transactions"}]
    assert profiles["inputFacets"]["steward_trainingInput"]["usedColumns"] == [
        "customer_id",
        "spend",
    ]
    output = event["outputs"][0]
    assert output["namespace"] == NAMESPACE
    assert output["facets"]["ownership"]["owners"] == [{"name": "user:dave", "type": "OWNER"}]
    output_tags = {(t["key"], t["value"]) for t in output["facets"]["tags"]["tags"]}
    assert {("stage", "production"), ("risk", "limited"), ("pii", "true")} <= output_tags
    model_version = output["facets"]["steward_modelVersion"]
    assert model_version["stage"] == "production"
    assert {"label": "pii", "dataset": "customer-profiles.v2", "column": "customer_id"} in (
        model_version["classification"]["inherited"]
    )
    assert model_version["classification"]["declared"] == ["internal", "pii", "financial"]


def test_custom_facets_validate_against_the_shipped_schema(registry: Path) -> None:
    schema = json.loads(
        (resources.files("steward") / "schemas" / "openlineage-facets.json").read_text("utf-8")
    )
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == FACETS_SCHEMA_ID
    checked = 0
    for event in events_of(registry):
        facets = [event["run"]["facets"]["steward_training"]]
        facets += [item["inputFacets"]["steward_trainingInput"] for item in event["inputs"]]
        facets += [item["facets"]["steward_modelVersion"] for item in event["outputs"]]
        for facet in facets:
            ref, _, pointer = facet["_schemaURL"].partition("#")
            assert ref == FACETS_SCHEMA_ID
            definition = schema["$defs"][pointer.rsplit("/", 1)[1]]
            validator = Draft202012Validator({**definition, "$defs": schema["$defs"]})
            assert list(validator.iter_errors(facet)) == []
            checked += 1
    assert checked == 7 * 2 + 8  # run + output per event, and one per dataset cited
    # ... and the schema is not toothless
    bad = {"_producer": PRODUCER, "_schemaURL": "x", "model": "m", "version": "1.0.0"}
    validator = Draft202012Validator(
        {**schema["$defs"]["StewardModelVersionFacet"], "$defs": schema["$defs"]}
    )
    assert list(validator.iter_errors({**bad, "stage": "nope", "surprise": 1}))


def test_run_ids_are_time_ordered_uuid7_and_stable(registry: Path) -> None:
    first = events_of(registry)
    again = events_of(registry)
    ids = [event["run"]["runId"] for event in first]
    assert ids == [event["run"]["runId"] for event in again]
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(run_id).version == 7 for run_id in ids)
    assert ids == sorted(ids)  # events are in time order, and so are their ids
    times = [event["eventTime"] for event in first]
    assert times == sorted(times)


def test_static_uuid7_carries_its_instant() -> None:
    from datetime import UTC, datetime

    instant = datetime(2026, 10, 1, tzinfo=UTC)
    value = static_uuid7(instant, b"fraud@1.2.0")
    assert value.int >> 80 == int(instant.timestamp() * 1000)
    assert static_uuid7(instant, b"other") != value


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://lake/transactions/", ("s3://lake", "transactions")),
        (
            "s3://lake/transactions/2026-10-31/part.parquet",
            ("s3://lake", "transactions/2026-10-31/part.parquet"),
        ),
        ("gs://bucket/a/b", ("gs://bucket", "a/b")),
        ("s3://key:secret@lake/t", ("s3://lake", "t")),
        ("abfss://c@acct.dfs.core.windows.net/p/q", ("abfss://c@acct.dfs.core.windows.net", "p/q")),
        ("hdfs://namenode:8020/warehouse/t", ("hdfs://namenode:8020", "warehouse/t")),
        (
            "postgres://user:pw@db:5432/shop.public.orders",
            ("postgres://db:5432", "shop.public.orders"),
        ),
        ("file:///data/train.csv", ("file", "/data/train.csv")),
        ("bigquery:project.dataset.table", ("bigquery", "project.dataset.table")),
        ("lake/transactions", None),
    ],
)
def test_dataset_naming_follows_the_openlineage_spec(
    uri: str, expected: tuple[str, str] | None
) -> None:
    assert dataset_naming(uri) == expected


def test_abfss_keeps_its_container_but_drops_credentials() -> None:
    # `container@account` is the authority's host part in ABFSS, not user information; a
    # password-looking `user:pw@` is what must go. The naming spec puts the container first.
    assert dataset_naming("abfss://user:pw@acct.dfs.core.windows.net/p") == (
        "abfss://acct.dfs.core.windows.net",
        "p",
    )


def test_default_namespace_comes_from_origin_without_credentials(registry: Path) -> None:
    assert default_namespace(registry) == "steward://registry"
    run_git(
        registry, "remote", "add", "origin", "https://x-access-token:s3cret@github.com/acme/reg.git"
    )
    assert default_namespace(registry) == "steward://github.com/acme/reg"
    run_git(registry, "remote", "set-url", "origin", "git@github.com:acme/reg.git")
    assert default_namespace(registry) == "steward://github.com/acme/reg"


# --- the command --------------------------------------------------------------------------------


def test_openlineage_export_is_json_lines(
    registry: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = export(
        registry, "--format", "openlineage", "--namespace", NAMESPACE, capsys=capsys
    )
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 7
    assert [json.loads(line) for line in lines] == events_of(registry)
    target = tmp_path / "events.jsonl"
    code, out, _ = export(
        registry,
        "--format",
        "openlineage",
        "--namespace",
        NAMESPACE,
        "-o",
        str(target),
        capsys=capsys,
    )
    assert code == 0
    assert out == ""
    assert target.read_text("utf-8").splitlines() == lines


def test_catalog_lists_models_versions_datasets_and_edges(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = export(registry, "--format", "json", capsys=capsys)
    assert code == 0, err
    catalog = json.loads(out)
    assert catalog["format"] == "steward-catalog"
    assert catalog["format_version"] == 1
    assert catalog["complete"] is True
    assert set(catalog) == {
        "format", "format_version", "source", "complete", "models", "versions", "datasets",
        "edges", "problems",
    }  # fmt: skip
    assert [m["name"] for m in catalog["models"]] == ["ad-ranker.v2", "churn", "fraud"]
    fraud = next(m for m in catalog["models"] if m["name"] == "fraud")
    assert fraud["owner"] == "carol"
    assert fraud["data_steward"] == "erin"
    assert [c["name"] for c in fraud["downstream"]] == ["payments-api", "risk.dashboard"]
    assert fraud["versions"] == ["1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0-rc.1"]
    assert fraud["classification"] == {
        "declared": ["internal", "pii", "financial"],
        "inherited": ["financial", "internal", "pii"],
        "uncovered": [],
    }
    versions = {v["id"]: v for v in catalog["versions"]}
    production = versions["version:fraud@1.2.0"]
    assert production["stage"] == "production"
    assert production["owner"] == "carol"
    assert production["datasets"] == [
        {
            "id": "transactions",
            "version": "2026-09-30",
            "uri": "s3://lake/transactions/2026-09-30/",
            "columns": ["amount", "hour"],
            "used_columns": ["amount", "hour"],
        }
    ]
    assert production["classification"]["labels"] == ["financial", "internal"]
    assert {"label": "financial", "dataset": "transactions", "column": "amount"} in production[
        "classification"
    ]["inherited"]
    staging = versions["version:fraud@1.3.0"]
    assert staging["datasets"][0]["columns"] is None  # none listed: all of them
    assert staging["datasets"][0]["used_columns"] == ["card_hash", "amount", "hour"]
    datasets = {d["name"]: d for d in catalog["datasets"]}
    assert datasets["transactions"]["used_by"] == [
        "version:churn@2.0.0",
        "version:fraud@1.0.0",
        "version:fraud@1.1.0",
        "version:fraud@1.2.0",
        "version:fraud@1.3.0",
        "version:fraud@1.4.0-rc.1",
    ]
    assert datasets["customer-profiles.v2"]["columns"][0] == {
        "name": "customer_id",
        "type": "string",
        "description": None,
        "classification": ["pii"],
    }
    edges = catalog["edges"]
    assert {
        "kind": "trained_on",
        "source": "dataset:transactions@2026-09-30",
        "target": "version:churn@2.0.0",
        "dataset": "transactions",
        "columns": ["hour"],
        "used_columns": ["hour"],
        "inherited_classifications": ["internal"],
    } in edges
    assert {
        "kind": "serves",
        "source": "version:fraud@1.2.0",
        "target": "consumer:payments-api",
        "model": "fraud",
        "serving": True,
        "stage": "production",
    } in edges
    assert catalog["problems"] == []


def test_an_unreadable_file_makes_the_export_incomplete(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    break_file(registry, "registry/models/fraud/1.3.0.yaml")
    code, out, err = export(registry, "--format", "json", capsys=capsys)
    assert code == 1
    catalog = json.loads(out)
    assert catalog["complete"] is False
    assert catalog["problems"][0]["path"] == "registry/models/fraud/1.3.0.yaml"
    assert "registry/models/fraud/1.3.0.yaml:" in err
    assert "version:fraud@1.3.0" not in {v["id"] for v in catalog["versions"]}
    code, out, err = export(registry, "--format", "openlineage", capsys=capsys)
    assert code == 1
    assert len(out.splitlines()) == 6


def test_output_is_relative_to_c_and_an_unwritable_one_is_a_usage_error(
    registry: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = export(registry, "--format", "json", "-o", "catalog.json", capsys=capsys)
    assert code == 0, err
    assert json.loads((registry / "catalog.json").read_text("utf-8"))["format_version"] == 1
    assert not (tmp_path / "catalog.json").exists()
    code, out, err = export(registry, "--format", "json", "-o", "missing/c.json", capsys=capsys)
    assert (code, out) == (2, "")
    assert f"cannot write {registry / 'missing/c.json'}" in err


def test_catalog_says_what_a_model_inherits_but_does_not_declare(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        registry,
        "policies/registry.yaml",
        default_policy_text() + "classification_levels: [public, internal, confidential]\n",
    )
    # churn inherits internal, pii and financial; confidential covers the lower level internal
    add_model(registry, "churn", owner="dave", team="growth", classification=["confidential"])
    _, out, _ = export(registry, "--format", "json", capsys=capsys)
    churn = next(m for m in json.loads(out)["models"] if m["name"] == "churn")
    assert churn["classification"]["uncovered"] == ["financial", "pii"]


def test_an_export_asked_again_is_the_uncached_one(
    registry: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exports are kept under the working tree's state, format and namespace: asked again
    with nothing changed they are printed without parsing a file, and each change to the
    working tree (or another namespace) gives what an uncached run gives."""
    import steward.reading.contents as contents_module

    def both(*args: str) -> tuple[int, str, str]:
        cached = export(registry, *args, capsys=capsys)
        monkeypatch.setenv("STEWARD_NO_CACHE", "1")
        fresh = export(registry, *args, capsys=capsys)
        monkeypatch.delenv("STEWARD_NO_CACHE")
        assert cached == fresh
        return cached

    for args in (("--format", "json"), ("--format", "openlineage", "--namespace", NAMESPACE)):
        first = both(*args)
        real = contents_module.parse_file
        monkeypatch.setattr(contents_module, "parse_file", lambda *a: pytest.fail("parsed"))
        assert export(registry, *args, capsys=capsys) == first  # asked again: kept
        monkeypatch.setattr(contents_module, "parse_file", real)
    other = both("--format", "openlineage", "--namespace", "steward://elsewhere")
    assert "steward://elsewhere" in other[1]
    break_file(registry, "registry/models/fraud/1.3.0.yaml")
    assert both("--format", "json")[0] == 1
    version = registry / "registry/models/fraud/1.3.0.yaml"
    version.unlink()
    assert "version:fraud@1.3.0" not in both("--format", "json")[1]


def test_a_kept_export_names_the_revision_as_asked(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`main` and `HEAD` are one tree: each export still names the revision it was asked for."""
    run_git(registry, "add", "-A")
    run_git(registry, "commit", "-qm", "The registry")
    for rev in ("HEAD", "main", "HEAD"):
        code, out, _ = export(registry, "--format", "json", "--rev", rev, capsys=capsys)
        assert json.loads(out)["source"] == f"revision {rev}", code
