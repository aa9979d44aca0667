"""`steward impact`: who depends on a dataset, a version or a column of it, production first, with
the owners to notify; exit 1 when production is affected or the registry cannot be fully read."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from steward.cli import main
from tests.builders import add_model, add_version, run_git
from tests.governance_registry import (
    DECLARED,
    break_file,
    governance_registry,
    training,
    uses,
)


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return governance_registry(tmp_path / "registry")


def impact(
    root: Path, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, dict[str, Any], str]:
    capsys.readouterr()
    code = main.run(["-C", str(root), "impact", *args, "--json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out else {}, captured.err


def names(items: list[dict[str, Any]]) -> list[str]:
    return [f"{item['model']} {item['version']} {item['stage']}" for item in items]


def test_whole_dataset_lists_production_first_and_exits_1(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report, _ = impact(registry, capsys, "--dataset", "transactions")
    assert code == 1  # a production version depends on it
    assert report["production_affected"] is True
    assert report["complete"] is True
    assert names(report["affected"]) == [
        "churn 2.0.0 production",
        "fraud 1.2.0 production",
        "fraud 1.3.0 staging",
        "fraud 1.4.0-rc.1 development",
        "fraud 1.1.0 archived",
    ]
    assert names(report["retired"]) == ["fraud 1.0.0 retired"]  # apart, not counted


def test_a_column_reaches_versions_listing_it_or_listing_none(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report, _ = impact(registry, capsys, "--dataset", "transactions", "--column", "card_hash")
    assert code == 0  # production versions list their columns, and not this one
    assert names(report["affected"]) == [
        "fraud 1.3.0 staging",  # lists no columns: all of them
        "fraud 1.4.0-rc.1 development",  # lists card_hash
    ]
    reasons = [item["reasons"] for item in report["affected"]]
    assert reasons == [["lists no columns, so uses all of them"], ["lists column card_hash"]]
    assert names(report["retired"]) == ["fraud 1.0.0 retired"]
    code, report, _ = impact(registry, capsys, "--dataset", "transactions", "--column", "hour")
    assert code == 1
    assert names(report["affected"])[:2] == ["churn 2.0.0 production", "fraud 1.2.0 production"]


def test_a_dataset_version_spares_other_versions_but_not_unversioned_refs(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report, _ = impact(
        registry, capsys, "--dataset", "transactions", "--version", "2026-10-31"
    )
    assert code == 0
    assert names(report["affected"]) == ["fraud 1.3.0 staging", "fraud 1.4.0-rc.1 development"]
    assert [item["version_match"] for item in report["affected"]] == ["unversioned", "exact"]
    assert "counted as affected" in report["affected"][0]["reasons"][-1]
    assert names(report["other_versions"]) == [
        "churn 2.0.0 production",
        "fraud 1.2.0 production",
        "fraud 1.1.0 archived",
        "fraud 1.0.0 retired",
    ]
    capsys.readouterr()
    main.run(
        ["-C", str(registry), "impact", "--dataset", "transactions", "--version", "2026-10-31"]
    )
    text = capsys.readouterr().out
    assert "1 of them cite no dataset version and are counted as affected conservatively" in text


def test_owners_to_notify_are_deduplicated_with_their_reasons(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, report, _ = impact(registry, capsys, "--dataset", "transactions", "--column", "hour")
    notify = {item["principal"]: item["reasons"] for item in report["notify"]}
    # crm's owner "Carol" and fraud's owner "carol" are one login: one entry (as first
    # spelt, production first), both reasons
    assert list(notify) == ["dave", "Carol", "erin", "@acme/payments"]
    assert notify["Carol"] == ["owner of crm, a consumer of churn", "owner of fraud"]
    assert notify["dave"] == ["owner of churn", "owner of risk.dashboard, a consumer of fraud"]
    assert notify["erin"] == ["data steward of fraud"]


def test_retired_versions_never_make_it_fail_nor_add_owners(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # legacy's only version is retired: its owner and consumers hear nothing
    add_model(
        registry, "legacy", owner="zoe", classification=DECLARED,
        downstream=[{"name": "old-api", "owner": "yann"}],
    )  # fmt: skip
    add_version(
        registry, "legacy", "2.0.0", stage="retired", retired_at="2026-11-01T00:00:00Z",
        retired_reason="retention", training=training(uses("transactions", "2026-07-31")),
    )  # fmt: skip
    code, report, _ = impact(
        registry, capsys, "--dataset", "transactions", "--version", "2026-07-31"
    )
    assert code == 0
    assert names(report["affected"]) == ["fraud 1.3.0 staging"]  # it cites no version
    assert names(report["retired"]) == ["fraud 1.0.0 retired", "legacy 2.0.0 retired"]
    notified = {item["principal"] for item in report["notify"]}
    assert notified == {"carol", "erin", "@acme/payments", "dave"}  # fraud's, none of legacy's


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--dataset", "nope"],
            "no dataset 'nope' in the registry: registry/datasets/nope.yaml does not exist",
        ),
        (
            ["--dataset", "transactions", "--column", "amout"],
            "dataset 'transactions' has no column 'amout' "
            "(registry/datasets/transactions.yaml lists: card_hash, amount, hour)",
        ),
        (["--dataset", "../policies"], "'../policies' is not a dataset name"),
    ],
)
def test_usage_errors_exit_2_naming_the_file(
    registry: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, report, err = impact(registry, capsys, *args)
    assert code == 2
    assert report == {}
    assert message in err


def test_an_unreadable_version_makes_it_fail_closed(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    break_file(registry, "registry/models/churn/2.0.0.yaml")
    # Without the broken file nothing in production uses card_hash, but that file might.
    code, report, err = impact(
        registry, capsys, "--dataset", "transactions", "--column", "card_hash"
    )
    assert code == 1
    assert report["complete"] is False
    assert report["production_affected"] is False
    assert report["problems"][0]["path"] == "registry/models/churn/2.0.0.yaml"
    assert "cannot be sure" in err
    assert "registry/models/churn/2.0.0.yaml:" in err


def test_an_unreadable_dataset_entry_still_finds_its_dependents(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    break_file(registry, "registry/datasets/customer-profiles.v2.yaml")
    code, report, _ = impact(registry, capsys, "--dataset", "customer-profiles.v2")
    assert code == 1
    assert names(report["affected"]) == ["churn 2.0.0 production", "ad-ranker.v2 0.1.0 development"]
    assert report["complete"] is False


def test_rev_reads_a_commit_without_the_working_tree(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_git(registry, "add", "-A")
    run_git(registry, "commit", "-qm", "registry")
    break_file(registry, "registry/models/churn/2.0.0.yaml")
    code, report, _ = impact(registry, capsys, "--dataset", "transactions", "--rev", "HEAD")
    assert report["complete"] is True
    assert code == 1
    assert names(report["affected"])[0] == "churn 2.0.0 production"


def test_text_report_names_production_and_whom_to_notify(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    code = main.run(["-C", str(registry), "impact", "--dataset", "customer-profiles.v2"])
    out = capsys.readouterr().out
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == (
        "impact of a change to customer-profiles.v2  "
        "(registry/datasets/customer-profiles.v2.yaml, owner @acme/data)"
    )
    assert lines[1] == "2 version(s) depend on it:"
    assert lines[2].startswith("  churn 2.0.0  production  uses customer-profiles.v2@2026-10-01")
    assert lines[3].startswith("  ad-ranker.v2 0.1.0  development")
    assert "PRODUCTION AFFECTED: 1 production version(s)" in lines
    assert lines[lines.index("notify:") + 1 :] == [
        "  dave  (owner of churn)",
        "  Carol  (owner of crm, a consumer of churn)",
        "  @acme/ads  (owner of ad-ranker.v2)",
    ]


def test_a_warm_impact_imports_neither_pydantic_nor_the_entry_models(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Asked again with nothing changed, impact answers from the registry's cached index (as
    `list` does), never parsing an entry: it imports no entry model nor their validation."""
    first, report, _ = impact(registry, capsys, "--dataset", "transactions")
    probe = (
        "import sys\n"
        "from steward.cli import main\n"
        f"code = main.run(['-C', {str(registry)!r}, 'impact', '--dataset', 'transactions'])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'dvc')\n"
        "               or m in ('steward.entries.models', 'steward.entries.policy'))\n"
        "print(code, heavy, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.stderr.strip().splitlines()[-1] == f"{first} []", done.stderr
    assert names(report["affected"])[0] == "churn 2.0.0 production"


def test_the_cached_answer_follows_the_working_tree(
    registry: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each change to the working tree gives the answer an uncached run gives."""

    def both() -> dict[str, Any]:
        _, cached, _ = impact(registry, capsys, "--dataset", "transactions")
        monkeypatch.setenv("STEWARD_NO_CACHE", "1")
        _, fresh, _ = impact(registry, capsys, "--dataset", "transactions")
        monkeypatch.delenv("STEWARD_NO_CACHE")
        assert cached == fresh
        return cached

    before = both()
    version = registry / "registry/models/churn/2.0.0.yaml"
    text = version.read_text("utf-8")
    version.write_text(text.replace("stage: production", "stage: archived"), "utf-8")
    assert "churn 2.0.0 archived" in names(both()["affected"])
    version.write_text(text, "utf-8")
    assert both() == before
    version.unlink()
    assert "churn 2.0.0 production" not in names(both()["affected"])


def test_a_fact_is_kept_under_the_bytes_it_was_read_from(registry: Path) -> None:
    """A version file changed after the working tree was listed and before it was read: what
    was read is cached under the new bytes' id, never under the listed (old) one, so the old
    content, restored, is not answered with the new content's facts."""
    from steward.gitio.tree import WorktreeSnapshot
    from steward.governance.impact import Question
    from steward.governance.impact import impact as impact_of
    from steward.reading.uses import uses_index

    version = registry / "registry/models/churn/2.0.0.yaml"
    text = version.read_text("utf-8")
    snapshot = WorktreeSnapshot(registry)
    snapshot.files()  # listed with the committed content
    version.write_text(text.replace("stage: production", "stage: archived"), "utf-8")
    racing = impact_of(uses_index(snapshot), Question("transactions"))
    assert "churn" in {item.model_name for item in racing.affected}
    version.write_text(text, "utf-8")
    again = impact_of(uses_index(WorktreeSnapshot(registry)), Question("transactions"))
    assert [i.stage for i in again.affected if i.model_name == "churn"] == ["production"]


_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
_MAYBE = st.none() | _TEXT


@st.composite
def _rows(draw: st.DrawFn) -> list[Any]:
    from steward.governance.impact import Affected
    from steward.reading.uses import ModelFacts

    models = draw(
        st.lists(
            st.none()
            | st.builds(
                ModelFacts,
                _TEXT,
                _TEXT,
                _TEXT,
                _TEXT,
                _MAYBE,
                st.lists(st.tuples(_TEXT, _MAYBE), max_size=3).map(tuple),
            ),
            min_size=1,
            max_size=3,
        )
    )
    rows = []
    for _ in range(draw(st.integers(0, 4))):
        model = draw(st.sampled_from(models))
        name = model.name if model is not None else draw(_TEXT)
        rows.append(
            Affected(
                draw(_TEXT),
                name,
                draw(_TEXT),
                draw(_TEXT),
                draw(_TEXT),
                model,
                draw(_TEXT),
                draw(_MAYBE),
                tuple(draw(st.lists(_TEXT, max_size=3))),
                tuple(draw(st.lists(_TEXT, min_size=1, max_size=2))),
                draw(_TEXT),
            )
        )
    return rows


@given(_rows(), _rows(), _rows())
def test_the_json_report_is_what_json_dumps_writes(
    affected: list[Any], retired: list[Any], other: list[Any]
) -> None:
    """`to_json` builds the rows without the pure-Python encoder: byte for byte what
    `json.dumps(as_dict(), indent=2)` writes, whatever the strings and the empty parts."""
    from steward.entries.problems import Problem
    from steward.governance.impact import ImpactReport, Question
    from steward.governance.notify import gather

    report = ImpactReport(
        Question("transactions", None, "amount"),
        "registry/datasets/transactions.yaml",
        None,
        affected,
        retired,
        other,
        gather(item.notify() for item in affected),
        [Problem("registry/models/x/1.0.0.yaml", 3, "stage", 'é "quoted"')],
    )
    assert report.to_json() == json.dumps(report.as_dict(), indent=2)
