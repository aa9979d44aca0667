"""`steward lineage`: the graph of datasets → versions → consumers, and its text, Mermaid, DOT and
JSON renderings, valid syntax whatever the entries' texts hold."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from steward.cli import main
from steward.gitio.tree import WorktreeSnapshot
from steward.governance.lineage import LineageGraph, model_lineage
from steward.governance.lineage_render import dot_quote, mermaid_text, render_dot, render_mermaid
from steward.reading.contents import read_contents
from tests.builders import count_parses
from tests.governance_registry import AWKWARD_TEXT, AWKWARD_URI, break_file, governance_registry


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return governance_registry(tmp_path / "registry")


def graph_of(root: Path, model: str, version: str | None = None) -> LineageGraph:
    return model_lineage(read_contents(WorktreeSnapshot(root)), model, version)


def run(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main.run(["-C", str(root), "lineage", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_graph_links_datasets_versions_and_consumers(registry: Path) -> None:
    graph = graph_of(registry, "fraud")
    assert graph.ok
    assert [node.id for node in graph.nodes_of("version")] == [
        "version:fraud@1.0.0",
        "version:fraud@1.1.0",
        "version:fraud@1.2.0",
        "version:fraud@1.3.0",
        "version:fraud@1.4.0-rc.1",
    ]
    assert [node.id for node in graph.nodes_of("consumer")] == [
        "consumer:payments-api",
        "consumer:risk.dashboard",
    ]
    datasets = {node.id: node.attributes for node in graph.nodes_of("dataset")}
    assert set(datasets) == {
        "dataset:transactions",  # 1.3.0 cites no version
        "dataset:transactions@2026-07-31",
        "dataset:transactions@2026-08-31",
        "dataset:transactions@2026-09-30",
        "dataset:transactions@2026-10-31",
    }
    cited = datasets["dataset:transactions@2026-09-30"]
    assert cited["uri"] == "s3://lake/transactions/2026-09-30/"  # the version's own citation
    assert cited["classification"] == ["internal"]
    assert cited["column_classifications"] == {"card_hash": ["pii"], "amount": ["financial"]}
    assert cited["used_columns"] == ["amount", "hour"]
    assert cited["owner"] == "erin"
    assert datasets["dataset:transactions"]["used_columns"] == ["card_hash", "amount", "hour"]
    edges = {(edge.kind, edge.source, edge.target): edge.attributes for edge in graph.edges}
    trained = edges[("trained_on", "dataset:transactions@2026-10-31", "version:fraud@1.4.0-rc.1")]
    assert trained == {
        "columns": ["card_hash", "amount"],
        "used_columns": ["card_hash", "amount"],
        "inherited_classifications": ["financial", "internal", "pii"],
    }
    assert edges[("trained_on", "dataset:transactions", "version:fraud@1.3.0")]["columns"] is None
    serves = {(s, t): a["serving"] for (k, s, t), a in edges.items() if k == "serves"}
    assert serves == {
        ("version:fraud@1.2.0", "consumer:payments-api"): True,
        ("version:fraud@1.2.0", "consumer:risk.dashboard"): True,
        ("version:fraud@1.3.0", "consumer:payments-api"): False,
        ("version:fraud@1.3.0", "consumer:risk.dashboard"): False,
        ("version:fraud@1.4.0-rc.1", "consumer:payments-api"): False,
        ("version:fraud@1.4.0-rc.1", "consumer:risk.dashboard"): False,
    }  # archived and retired versions serve no one
    version = next(n for n in graph.nodes_of("version") if n.id == "version:fraud@1.2.0")
    assert version.attributes["stage"] == "production"
    assert version.attributes["owner"] == "carol"
    consumer = graph.nodes_of("consumer")[0]
    assert consumer.attributes["owner"] == "@acme/payments"


def test_one_version_shows_only_its_own_lineage(registry: Path) -> None:
    graph = graph_of(registry, "churn", "2.0.0")
    assert [node.id for node in graph.nodes] == [
        "dataset:customer-profiles.v2@2026-10-01",
        "dataset:transactions@2026-09-30",
        "version:churn@2.0.0",
        "consumer:crm",
    ]
    assert len(graph.edges) == 3


def test_retired_versions_are_shown_and_marked(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    graph = graph_of(registry, "fraud", "1.0.0")
    (version,) = graph.nodes_of("version")
    assert version.attributes["retired"] is True
    assert [edge.kind for edge in graph.edges] == ["trained_on"]
    code, out, _ = run(registry, capsys, "fraud")
    assert code == 0
    assert "  fraud 1.0.0  retired  (retired: its artifact may be gone)" in out.splitlines()
    assert "    -> serves payments-api" in out.splitlines()
    assert "    -> candidate for payments-api" in out.splitlines()


@pytest.mark.parametrize(
    ("target", "code", "message"),
    [
        ("nope", 1, "model 'nope' is not in the registry (registry/models/nope/model.yaml)"),
        ("fraud@9.9.9", 1, "fraud 9.9.9 is not registered"),
        ("fraud@latest", 2, "'latest' is not a semantic version"),
        ("../x", 2, "'../x' is not a model name"),
        ("fraud@", 2, "give a version after '@'"),
    ],
)
def test_unknown_targets_are_errors(
    registry: Path, capsys: pytest.CaptureFixture[str], target: str, code: int, message: str
) -> None:
    exit_code, out, err = run(registry, capsys, target)
    assert exit_code == code
    assert out == ""
    assert message in err


def test_an_unreadable_version_is_reported_and_exits_1(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    break_file(registry, "registry/models/fraud/1.3.0.yaml")
    code, out, err = run(registry, capsys, "fraud", "--format", "json")
    assert code == 1
    graph = json.loads(out)
    assert [p["path"] for p in graph["problems"]] == ["registry/models/fraud/1.3.0.yaml"]
    assert "the graph may be incomplete" in err
    # another version's lineage does not depend on that file
    code, _, _ = run(registry, capsys, "fraud@1.2.0")
    assert code == 0


def test_json_carries_nodes_and_edges(registry: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(registry, capsys, "churn", "--format", "json")
    assert code == 0
    graph = json.loads(out)
    assert graph["model"] == "churn"
    assert {node["kind"] for node in graph["nodes"]} == {"dataset", "version", "consumer"}
    assert {edge["kind"] for edge in graph["edges"]} == {"trained_on", "serves"}
    profiles = next(n for n in graph["nodes"] if n["id"].startswith("dataset:customer"))
    assert profiles["uri"] == AWKWARD_URI


# --- Mermaid ------------------------------------------------------------------------------------

_LABEL = r'"(?P<label>[^"]*)"'
_MERMAID_NODE = re.compile(
    rf"  (?P<id>n\d+)(?:\[\({_LABEL}\)\]|\(\[{_LABEL.replace('label', 'label2')}\]\)"
    rf"|\[/{_LABEL.replace('label', 'label3')}/\])"
)
_MERMAID_EDGE = re.compile(r'  n\d+ (?:-->|-\.->)(?:\|"(?P<label>[^"|]*)"\|)? n\d+')
_MERMAID_OTHER = re.compile(r"flowchart LR|  classDef \w+ [-\w:#., ]+|  class n\d+(,n\d+)* \w+")


def _decode(label: str) -> str:
    assert re.fullmatch(r"(?:[A-Za-z0-9 _.,:/@=+()\[\]'-]|#\d+;|<br/>)*", label), label
    return re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), label)


def mermaid_labels(text: str) -> list[str]:
    """Every label of a flowchart, decoded, after checking each line is a statement we write."""
    labels = []
    for line in text.splitlines():
        node = _MERMAID_NODE.fullmatch(line)
        edge = _MERMAID_EDGE.fullmatch(line)
        assert node or edge or _MERMAID_OTHER.fullmatch(line), f"not Mermaid we write: {line!r}"
        match = node or edge
        if match is not None:
            label = next(
                (v for v in match.groupdict().values() if v and not v.startswith("n")), None
            )
            if label is not None:
                labels.extend(_decode(part) for part in label.split("<br/>"))
    return labels


def test_mermaid_escapes_whatever_the_labels_hold(registry: Path) -> None:
    for model in ("fraud", "churn", "ad-ranker.v2"):
        text = render_mermaid(graph_of(registry, model))
        labels = mermaid_labels(text)
        assert labels, model
    labels = mermaid_labels(render_mermaid(graph_of(registry, "churn")))
    assert AWKWARD_URI in labels
    assert "customer-profiles.v2@2026-10-01" in labels
    assert mermaid_text('a"b#c;d|e<f>') == "a#34;b#35;c#59;d#124;e#60;f#62;"


def test_mermaid_marks_candidates_and_retired_versions(registry: Path) -> None:
    lines = render_mermaid(graph_of(registry, "fraud")).splitlines()
    assert sum("-.->" in line for line in lines) == 4  # staging and development, two consumers
    assert "  class n5 retired" in lines
    assert "  class n7 production" in lines


# --- DOT ----------------------------------------------------------------------------------------

_DOT_STRING = r'"(?:[^"\\\n]|\\.)*"'
_DOT_LINE = re.compile(
    rf"digraph {_DOT_STRING} \{{|  rankdir=LR;|  (node|edge) \[.*\];|\}}"
    rf"|  {_DOT_STRING}(?: -> {_DOT_STRING})?(?: \[(?:\w+=(?:{_DOT_STRING}|\w+)(?:, )?)+\])?;"
)


def test_dot_quotes_whatever_the_labels_hold(registry: Path) -> None:
    for model in ("fraud", "churn", "ad-ranker.v2"):
        for line in render_dot(graph_of(registry, model)).splitlines():
            assert _DOT_LINE.fullmatch(line), f"not DOT we write: {line!r}"
    assert dot_quote('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'
    text = render_dot(graph_of(registry, "churn"))
    assert dot_quote(AWKWARD_URI)[1:-1] in text


def _needs_graphviz() -> str:
    dot = shutil.which("dot")
    if dot is None:
        if os.environ.get("STEWARD_REQUIRE_GRAPHVIZ"):
            pytest.fail("STEWARD_REQUIRE_GRAPHVIZ is set but Graphviz `dot` is not on PATH")
        pytest.skip("Graphviz `dot` is not installed (apt-get install graphviz); CI requires it")
    return dot


@pytest.mark.parametrize("model", ["fraud", "churn", "ad-ranker.v2"])
def test_graphviz_renders_the_dot(registry: Path, model: str, tmp_path: Path) -> None:
    dot = _needs_graphviz()
    text = render_dot(graph_of(registry, model))
    result = subprocess.run(
        [dot, "-Tsvg"], input=text.encode(), capture_output=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stderr == b"", result.stderr.decode()  # no syntax warnings either
    svg = result.stdout.decode()
    titles = {html.unescape(t) for t in re.findall(r"<title>(.*?)</title>", svg)}
    texts = {html.unescape(t) for t in re.findall(r"<text [^>]*>(.*?)</text>", svg)}
    assert {node.id for node in graph_of(registry, model).nodes} <= titles
    if model == "churn":
        assert AWKWARD_URI in texts  # the label survived quoting intact


def test_cli_formats(registry: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs: dict[str, Any] = {}
    for output_format in ("text", "mermaid", "dot", "json"):
        code, out, err = run(registry, capsys, "fraud@1.2.0", "--format", output_format)
        assert code == 0, err
        outputs[output_format] = out
    assert outputs["text"].splitlines()[0] == (
        "lineage of fraud 1.2.0: 1 dataset, 1 version, 2 consumers"
    )
    assert outputs["mermaid"].startswith("flowchart LR\n")
    assert outputs["dot"].startswith('digraph "lineage of fraud@1.2.0" {\n')
    assert json.loads(outputs["json"])["version"] == "1.2.0"
    assert AWKWARD_TEXT not in outputs["mermaid"]


def test_a_models_lineage_parses_only_its_files_and_the_datasets(
    registry: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The graph is of one model: on a registry of 100,000 versions it must not parse the
    others (it did: a cold `lineage` cost a whole `list`). A misplaced file in the model's own
    directory is still reported; one in another model's is not this graph's business."""
    parsed = count_parses(monkeypatch)
    (registry / "registry/models/fraud/1.0.yaml").write_text("model: fraud\n")
    (registry / "registry/models/churn/2.yaml").write_text("model: churn\n")
    code, out, _ = run(registry, capsys, "fraud", "--format", "json")
    assert parsed and all(
        path.startswith(("registry/models/fraud/", "registry/datasets/")) for path in parsed
    ), parsed
    assert code == 1
    assert [p["path"] for p in json.loads(out)["problems"]] == ["registry/models/fraud/1.0.yaml"]


def test_other_readers_of_one_model_do_not_count_misplaced_files(registry: Path) -> None:
    """Cards, audits and federated `which`/`show` read one model too, and never counted a stray
    file in its directory as a problem; only lineage asks for that."""
    (registry / "registry/models/fraud/notes.txt").write_text("remember to retrain\n")
    plain = read_contents(WorktreeSnapshot(registry), model="fraud")
    asked = read_contents(WorktreeSnapshot(registry), model="fraud", misplaced_in_model=True)
    assert [p.path for p in plain.problems] == []
    assert [p.path for p in asked.problems] == ["registry/models/fraud/notes.txt"]
