"""`steward card`: a Markdown model card whose front matter the Hugging Face Hub library reads,
filled from the registry at a revision and from its history; and the one notion of a filled-in card
section that the card, `steward show` and the gate share."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from huggingface_hub import ModelCard
from markdown_it import MarkdownIt

from steward.cli.main import run
from steward.entries import layout
from steward.entries.card_sections import filled_sections, is_filled
from steward.entries.models import ModelCard as CardTexts
from steward.governance.modelcard import model_card
from steward.governance.modelcard_render import hf_license, render_card
from steward.reading.catalog import NotFound
from tests.builders import add_dataset, add_model, add_version, new_registry, run_git
from tests.governance_registry import promote_to_production
from tests.promotion_setup import PromotionRepo, make_promotion_repo

HOSTILE = (
    "Line one with *stars*, _underscores_ & <b>tags</b> | pipes.\n"
    "---\n"
    "# not a heading\n"
    "<script>alert(1)</script>\n"
    "```\n"
    "1. not a list\n"
    "    indented\n"
    "[link](http://example.com) ~~struck~~ `tick`"
)
EXPECTED_HEADINGS = [
    "Model card: fraud 2.0.0",
    "Model details",
    "Approvals",
    "Intended use",
    "Out-of-scope uses",
    "Factors",
    "Metrics",
    "Quantitative analyses: production",
    "Evaluation data",
    "Training data",
    "Ethical considerations",
    "Caveats and recommendations",
    "Limitations",
]


def commit(root: Path, message: str = "registry") -> str:
    run_git(root, "add", "-A")
    run_git(root, "commit", "-qm", message)
    return run_git(root, "rev-parse", "HEAD").strip()


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    """fraud: 1.0.0 in production with a production reading, 2.0.0 in staging; trained on a
    dataset whose `card_number` column is pii."""
    root = new_registry(tmp_path / "registry")
    add_dataset(
        root,
        "transactions",
        columns=[
            {"name": "amount", "type": "float"},
            {"name": "card_number", "type": "string", "classification": ["pii"]},
        ],
    )
    add_model(
        root,
        "fraud",
        license="Apache-2.0",
        tags=["tabular-classification", "payments"],
        classification=["internal", "pii"],
        card={
            "intended_use": "Rank card authorisations by fraud risk.",
            "limitations": "EU data only.",
            "factors": "TODO",
            "ethical_considerations": "  ",
        },
    )
    datasets = [
        {
            "id": "transactions",
            "version": "2026-10-31",
            "uri": "s3://lake/transactions/2026-10-31/",
            "columns": ["amount", "card_number"],
        }
    ]
    add_version(
        root,
        "fraud",
        "1.0.0",
        stage="production",
        metrics={"auc": 0.91, "f1": 0.8},
        training={"datasets": datasets, "code": {"repo": "org/train", "commit": "9c1e" * 10}},
        production_metrics=[
            {"at": "2026-11-21T10:00:00Z", "metrics": {"auc": 0.89}, "source": "shadow"}
        ],
    )
    add_version(
        root,
        "fraud",
        "2.0.0",
        stage="staging",
        metrics={"auc": 0.95},
        training={"datasets": datasets},
    )
    commit(root)
    return root


def markdown() -> MarkdownIt:
    """CommonMark with GitHub's tables and strikethrough, as the Hub renders cards."""
    return MarkdownIt("commonmark").enable("table").enable("strikethrough")


def headings(body: str) -> list[str]:
    tokens = markdown().parse(body)
    return [
        tokens[i + 1].content.replace("`", "")
        for i, token in enumerate(tokens)
        if token.type == "heading_open"
    ]


def card_text(root: Path, target: str, *args: str) -> str:
    out = root.parent / "card.md"
    assert run(["-C", str(root), "card", target, "-o", str(out), *args]) == 0
    return out.read_text(encoding="utf-8")


# --- filled in ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "   ",
        "TODO",
        "todo.",
        "TBD",
        "(tbd)",
        "N/A",
        "n/a",
        "-",
        "--",
        "...",
        "?",
        "TODO: describe the data",
        "FIXME later",
        "none",
    ],
)
def test_empty_and_placeholder_texts_are_not_filled_in(text: str | None) -> None:
    assert not is_filled(text)


@pytest.mark.parametrize(
    "text", ["EU data only.", "Todos los datos de la UE", "None of the inputs are personal.", "N"]
)
def test_a_written_text_is_filled_in(text: str) -> None:
    assert is_filled(text)


def test_filled_sections_of_a_card() -> None:
    card = CardTexts(intended_use="Scoring.", factors="TBD", limitations="-", evaluation_data="x")
    assert filled_sections(card) == frozenset({"intended_use", "evaluation_data"})


def test_show_lists_placeholder_sections_as_missing(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert run(["-C", str(registry), "show", "fraud", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert "factors" in shown["missing_card_sections"]
    assert "ethical_considerations" in shown["missing_card_sections"]
    assert "intended_use" not in shown["missing_card_sections"]
    assert run(["-C", str(registry), "show", "fraud"]) == 0
    text = capsys.readouterr().out
    assert "TODO (missing)" in text


# --- the Hugging Face front matter --------------------------------------------------------------


def test_the_card_loads_as_a_hugging_face_model_card(registry: Path) -> None:
    card = ModelCard(card_text(registry, "fraud"))  # parses locally; nothing reaches the Hub
    data = card.data
    assert data.license == "apache-2.0"
    assert data.datasets == ["transactions"]
    assert data.tags == ["steward", "tabular-classification", "payments", "risk-limited"]
    assert data.pipeline_tag == "tabular-classification"
    assert data.model_name == "fraud-1.0.0"
    results = {(r.dataset_type, r.metric_type): r.metric_value for r in data.eval_results}
    assert results == {
        ("offline-evaluation", "auc"): 0.91,
        ("offline-evaluation", "f1"): 0.8,
        ("production", "auc"): 0.89,
    }
    assert {r.task_type for r in data.eval_results} == {"tabular-classification"}


@pytest.mark.parametrize(
    ("license_text", "expected"),
    [
        ("MIT", {"license": "mit"}),
        ("cc-by-4.0", {"license": "cc-by-4.0"}),
        ("Apache 2.0", {"license": "apache-2.0"}),
        ("OpenRAIL++", {"license": "openrail++"}),
        (None, {"license": "unknown"}),
        (
            "Acme Internal License v2",
            {"license": "other", "license_name": "acme-internal-license-v2"},
        ),
    ],
)
def test_licenses_map_to_the_hubs_ids(license_text: str | None, expected: dict[str, str]) -> None:
    assert hf_license(license_text) == expected


def test_a_license_the_hub_does_not_know_is_other_with_its_name(registry: Path) -> None:
    path = registry / layout.model_path("fraud")
    path.write_text(path.read_text().replace("license: Apache-2.0", "license: Acme EULA 3"))
    commit(registry)
    data = ModelCard(card_text(registry, "fraud")).data
    assert (data.license, data.license_name) == ("other", "acme-eula-3")


# --- the body -----------------------------------------------------------------------------------


def test_the_card_has_the_sections_of_mitchell_et_al_filled_from_the_registry(
    registry: Path,
) -> None:
    text = card_text(registry, "fraud@2.0.0")
    body = ModelCard(text).text
    assert headings(body) == EXPECTED_HEADINGS
    assert "Rank card authorisations by fraud risk." in body
    assert "`s3://lake/transactions/2026-10-31/`" in body
    assert "columns used: `amount`, `card_number`" in body
    assert "Classification `pii` from dataset transactions, column card\\_number" in body
    assert "Classification `internal` from dataset transactions" in body
    assert "| `auc` | 0.95 |" in body
    assert "`tabular-classification`" in body


def test_unfilled_sections_say_so(registry: Path) -> None:
    body = ModelCard(card_text(registry, "fraud")).text
    assert (
        "**Missing card sections:** `out_of_scope_use`, `factors`, `ethical_considerations`" in body
    )
    factors = body.split("## Factors", 1)[1].split("##", 1)[0]
    assert "**Not filled in.** Write `card.factors`" in factors
    assert "TODO" not in factors


def test_the_default_version_is_the_production_holder_else_the_highest(registry: Path) -> None:
    assert model_card(registry, "fraud").version.version == "1.0.0"
    path = registry / layout.version_path("fraud", "1.0.0")
    path.write_text(path.read_text().replace("stage: production", "stage: archived"))
    commit(registry)
    assert model_card(registry, "fraud").version.version == "2.0.0"
    # the older revision still had 1.0.0 in production
    assert model_card(registry, "fraud", rev="HEAD~1").version.version == "1.0.0"


def test_unknown_models_and_versions_are_clear_errors(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(NotFound, match="model 'churn' is not in the registry at HEAD"):
        model_card(registry, "churn")
    with pytest.raises(NotFound, match=r"fraud 9\.9\.9 is not registered"):
        model_card(registry, "fraud", "9.9.9")
    assert run(["-C", str(registry), "card", "fraud@nine"]) == 2
    assert "not a semantic version" in capsys.readouterr().err


def test_model_texts_cannot_break_the_front_matter_or_the_structure(registry: Path) -> None:
    add_model(
        registry,
        "fraud",
        license="MIT\n---\nlicense: evil",
        description=HOSTILE,
        classification=["internal", "pii"],
        card=dict.fromkeys(CardTexts.model_fields, HOSTILE),
    )
    commit(registry)
    text = card_text(registry, "fraud@2.0.0")
    card = ModelCard(text)
    assert card.data.license == "other"
    assert card.data.datasets == ["transactions"]
    assert headings(card.text) == EXPECTED_HEADINGS
    tokens = markdown().parse(card.text)
    kinds = {token.type for token in tokens}
    assert not kinds & {"html_block", "hr", "fence", "code_block", "ordered_list_open"}
    inline = {child.type for token in tokens for child in token.children or []}
    assert not inline & {"html_inline", "link_open", "em_open", "s_open"}
    assert card.text.count("<script>") == 0
    rendered = markdown().render(card.text)
    assert "<script>" not in rendered and "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered


# --- approvals, from history --------------------------------------------------------------------


@pytest.fixture(scope="module")
def promoted(tmp_path_factory: pytest.TempPathFactory) -> PromotionRepo:
    return promote_to_production(make_promotion_repo(tmp_path_factory.mktemp("card-promoted")))


def test_the_card_says_who_approved_each_promotion(promoted: PromotionRepo) -> None:
    facts = model_card(promoted.root, "fraud")
    assert facts.version.version == "0.1.0"
    assert [(e.stage, e.approved_by, e.proposed_by) for e in facts.promotions] == [
        ("production", ("carol", "erin"), "dave"),
        ("staging", ("carol",), "dave"),
    ]
    body = render_card(facts)
    assert (
        "| `production` | #2 | `dave` | `carol (ml-engineer)`, `erin (governance)` | `dave` |"
        in body
    )
    assert facts.promotions[0].verdict is not None
    assert f"`{facts.promotions[0].verdict}`" in body
    # at the first merge only the staging promotion had happened
    first_merge = run_git(promoted.root, "log", "--merges", "--format=%H").split()[-1]
    older = model_card(promoted.root, "fraud", "0.1.0", rev=first_merge)
    assert [(e.stage, e.approved_by) for e in older.promotions] == [("staging", ("carol",))]


def test_output_is_relative_to_the_directory_given_with_c(
    registry: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert run(["-C", str(registry), "card", "fraud", "-o", "CARD.md"]) == 0
    assert (registry / "CARD.md").read_text(encoding="utf-8").startswith("---\n")
    assert not (elsewhere / "CARD.md").exists()
    capsys.readouterr()
    # a file that cannot be written is a usage error naming it, not an unexpected one
    assert run(["-C", str(registry), "card", "fraud", "-o", "no/such/dir/card.md"]) == 2
    assert f"cannot write {registry / 'no/such/dir/card.md'}" in capsys.readouterr().err
    assert run(["-C", str(registry), "card", "fraud", "-o", "registry"]) == 2


def test_an_unreadable_version_fails_the_default_card(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The production holder's file is broken: the card may not quietly describe 2.0.0 instead.
    path = registry / layout.version_path("fraud", "1.0.0")
    path.write_text(path.read_text() + "stage: archived\n")  # a duplicate key
    commit(registry)
    capsys.readouterr()
    assert run(["-C", str(registry), "card", "fraud"]) == 1
    assert "registry/models/fraud/1.0.0.yaml" in capsys.readouterr().err
    # a card asked for by version needs only that version's file
    assert run(["-C", str(registry), "card", "fraud@2.0.0"]) == 0
