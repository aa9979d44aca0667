"""`steward list`, `show` and `which`, and the `.dvc/config` reader `which` relies on.

Commands run through `steward.cli.main.run` (the one error handler, real exit codes) with the
query commands added to a copy of the `steward` group, so this file does not depend on their
registration in main.py.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest

from steward.artifacts.store import ArtifactStore
from steward.cli import main, query_cmd
from steward.entries import dvcconfig
from steward.errors import RemoteError
from steward.gitio.tree import WorktreeSnapshot
from steward.reading import queries
from steward.reading.scaffold import init_registry
from tests.builders import (
    add_dataset,
    add_model,
    add_version,
    small_registry,
    write,
)

QUERY_COMMANDS = (query_cmd.list_versions, query_cmd.show, query_cmd.which)


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


Steward = Callable[..., Ran]


@pytest.fixture
def steward(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Steward:
    """`steward -C ROOT ARGS...` through the real handler, with the query commands registered."""
    group = copy.copy(main.cli)
    group.commands = dict(main.cli.commands)
    for command in QUERY_COMMANDS:
        group.add_command(command)
    monkeypatch.setattr(main, "cli", group)

    def invoke(root: Path, *args: str) -> Ran:
        capsys.readouterr()
        code = main.run(["-C", str(root), *args])
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    """Two models, versions in several stages, tags on models and versions, and datasets whose
    classifications sit at the dataset level and on columns."""
    root = small_registry(tmp_path / "registry")  # fraud 1.0.0 production, 1.1.0 staging
    add_dataset(
        root,
        "customers",
        classification=["internal"],
        columns=[
            {"name": "customer_id", "type": "string", "classification": ["pii"]},
            {"name": "spend", "type": "float", "classification": ["financial"]},
            {"name": "plan", "type": "string"},
        ],
    )
    add_model(root, "churn", owner="Dave", team="growth", tags=["batch"], card={})
    add_version(root, "churn", "1.9.0", metrics={"auc": 0.8, "recall": 0.5})
    add_version(
        root,
        "churn",
        "1.10.0",
        stage="staging",
        tags=["candidate"],
        metrics={"auc": 0.82},
        training={"datasets": [{"id": "customers", "version": "2026-09-01"}]},
        production_metrics=[
            {"at": "2026-12-01T00:00:00Z", "metrics": {"auc": 0.79}, "source": "monitor"}
        ],
    )
    add_version(root, "churn", "2.0.0-rc.1", created_by="dave")
    return root


def _versions(rows: object) -> list[str]:
    assert isinstance(rows, list)
    return [f"{row['model']} {row['version']}" for row in rows]


# --- list -------------------------------------------------------------------------------------


def test_list_shows_every_version_by_model_then_precedence(
    steward: Steward, registry: Path
) -> None:
    ran = steward(registry, "list")
    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    assert lines[0].split() == ["MODEL", "VERSION", "STAGE", "CREATED", "OWNER"]
    assert [line.split()[:3] for line in lines[1:-1]] == [
        ["churn", "1.9.0", "development"],
        ["churn", "1.10.0", "staging"],  # 1.10.0 after 1.9.0, not before as text sorts
        ["churn", "2.0.0-rc.1", "development"],  # a pre-release of 2.0.0 after every 1.x
        ["fraud", "1.0.0", "production"],
        ["fraud", "1.1.0", "staging"],
    ]
    # aligned: every column starts at the same offset on every line
    assert len({line.index("STAGE") for line in lines[:1]} | {lines[2].index("staging")}) == 1
    assert lines[-1] == "5 versions of 2 models"
    assert all(line == line.rstrip() for line in lines)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--stage", "staging"], ["churn 1.10.0", "fraud 1.1.0"]),
        (["--model", "fraud"], ["fraud 1.0.0", "fraud 1.1.0"]),
        (["--owner", "dave"], ["churn 1.9.0", "churn 1.10.0", "churn 2.0.0-rc.1"]),  # Dave
        (["--owner", "carol", "--stage", "staging"], ["fraud 1.1.0"]),
        (["--tag", "candidate"], ["churn 1.10.0"]),  # the version's own tag
        (["--tag", "batch"], ["churn 1.9.0", "churn 1.10.0", "churn 2.0.0-rc.1"]),  # the model's
        (["--tag", "batch", "--stage", "production"], []),
        (["--owner", "nobody"], []),
    ],
)
def test_list_filters_must_all_match(
    steward: Steward, registry: Path, args: list[str], expected: list[str]
) -> None:
    ran = steward(registry, "list", *args, "--json")
    assert ran.code == 0, ran.err
    assert _versions(ran.json()) == expected


def test_list_json_carries_model_and_version_facts(steward: Steward, registry: Path) -> None:
    rows = steward(registry, "list", "--model", "churn", "--stage", "staging", "--json").json()
    assert rows == [
        {
            "model": "churn",
            "version": "1.10.0",
            "stage": "staging",
            "created_at": "2026-11-20T10:00:00Z",
            "created_by": "ci-bot",
            "owner": "Dave",
            "team": "growth",
            "risk": "limited",
            "tags": ["batch", "candidate"],
            "metrics": {"auc": 0.82},
            "artifact_md5": rows[0]["artifact_md5"],
            "entry": "registry/models/churn/1.10.0.yaml",
        }
    ]
    assert rows[0]["artifact_md5"].endswith(".dir")


def test_list_with_nothing_matching_says_so(steward: Steward, registry: Path) -> None:
    ran = steward(registry, "list", "--stage", "archived")
    assert (ran.code, ran.out.strip()) == (0, "no versions match")


def test_list_reports_an_unreadable_entry_and_lists_the_rest(
    steward: Steward, registry: Path
) -> None:
    write(registry, "registry/models/churn/1.9.0.yaml", "model: churn\nversion: 1.9.0\n")
    ran = steward(registry, "list", "--json")
    assert ran.code == 1  # the answer has a gap: never exit 0 on it
    assert "churn 1.9.0" not in _versions(ran.json())
    assert "fraud 1.1.0" in _versions(ran.json())
    assert "registry/models/churn/1.9.0.yaml" in ran.err
    assert "may be incomplete" in ran.err


def test_list_of_an_unknown_model_or_stage_is_refused(steward: Steward, registry: Path) -> None:
    ran = steward(registry, "list", "--model", "nope")
    assert ran.code == 1 and "model 'nope' is not in the registry" in ran.err
    assert steward(registry, "list", "--stage", "decommissioned").code == 2
    assert steward(registry, "list", "--model", "../fraud").code == 2


def test_list_owner_filter_skips_other_models_versions(registry: Path) -> None:
    """Ruling a model out by its owner means its versions are never parsed."""
    write(registry, "registry/models/fraud/1.1.0.yaml", "not: [valid")
    listing = queries.list_versions(registry, queries.Filters(owner="dave"))
    assert listing.ok and len(listing.rows) == 3


# --- show -------------------------------------------------------------------------------------


def test_show_model_tells_owners_card_gaps_and_versions(steward: Steward, registry: Path) -> None:
    ran = steward(registry, "show", "fraud")
    assert ran.code == 0, ran.err
    out = ran.out
    assert out.startswith("fraud  (registry/models/fraud/model.yaml)")
    assert "  owner           carol" in out
    assert "  classification  internal" in out
    assert "  data steward    (missing)" in out
    assert "intended use" in out and "Scoring card transactions." in out
    assert "  evaluation data              (missing)" in out
    versions = out.split("versions\n", 1)[1].splitlines()
    assert versions[0].split() == ["VERSION", "STAGE", "CREATED", "auc"]
    assert versions[1].split() == ["1.0.0", "production", "2026-11-20T10:00:00Z", "0.91"]


def test_show_model_json(steward: Steward, registry: Path) -> None:
    data = steward(registry, "show", "churn", "--json").json()
    assert isinstance(data, dict)
    assert (data["owner"], data["team"], data["tags"]) == ("Dave", "growth", ["batch"])
    assert data["missing_card_sections"] == list(data["card"])  # an empty card
    assert [v["version"] for v in data["versions"]] == ["1.9.0", "1.10.0", "2.0.0-rc.1"]
    assert data["versions"][0]["metrics"] == {"auc": 0.8, "recall": 0.5}
    assert data["problems"] == []


def test_show_model_key_metrics_put_common_ones_first(registry: Path) -> None:
    assert queries.show_model(registry, "churn").key_metrics == ["auc", "recall"]


def test_show_version_unions_dataset_and_column_classifications(
    steward: Steward, registry: Path
) -> None:
    ran = steward(registry, "show", "churn@1.10.0")
    assert ran.code == 0, ran.err
    out = ran.out
    assert out.startswith("churn 1.10.0  (registry/models/churn/1.10.0.yaml)")
    assert "  stage        staging" in out
    assert "dataset customers@2026-09-01  s3://lake/customers/" in out
    assert "classification  internal" in out
    assert "columns         customer_id: pii; spend: financial" in out
    assert "inherited classifications  financial, internal, pii" in out
    assert "2026-12-01T00:00:00Z (monitor)  auc 0.79" in out
    assert "registry/models/churn/1.10.0.dvc" in out

    data = steward(registry, "show", "churn@1.10.0", "--json").json()
    assert isinstance(data, dict)
    assert data["inherited_classifications"] == ["financial", "internal", "pii"]
    [dataset] = data["training"]["datasets"]
    assert dataset == {
        "id": "customers",
        "version": "2026-09-01",
        "uri": "s3://lake/customers/",
        "columns": ["customer_id", "spend", "plan"],
        "registered": True,
        "classification": ["internal"],
        "column_classifications": {"customer_id": ["pii"], "spend": ["financial"]},
        "inherited_classifications": ["financial", "internal", "pii"],
    }
    assert data["metrics"] == {"auc": 0.82}
    assert data["artifact"]["files"][0]["path"] == "model.pkl"
    assert data["production_metrics"][0]["metrics"] == {"auc": 0.79}
    assert (data["owner"], data["risk"], data["stage"]) == ("Dave", "limited", "staging")


def test_show_version_with_an_unregistered_dataset_fails_closed(
    steward: Steward, registry: Path
) -> None:
    (registry / "registry/datasets/customers.yaml").unlink()
    ran = steward(registry, "show", "churn@1.10.0")
    assert ran.code == 1
    assert "not registered: its classifications are unknown" in ran.out
    assert "registry/datasets/customers.yaml: does not exist" in ran.err


@pytest.mark.parametrize(
    ("target", "code", "message"),
    [
        ("fraud@9.9.9", 1, "fraud 9.9.9 is not registered"),
        ("nope@1.0.0", 1, "model 'nope' is not in the registry"),
        ("nope", 1, "model 'nope' is not in the registry"),
        ("fraud@", 2, "give a version after '@'"),
        ("fraud@latest", 2, "'latest' is not a semantic version"),
        ("../../etc", 2, "is not a model name"),
    ],
)
def test_show_refuses_what_is_not_there(
    steward: Steward, registry: Path, target: str, code: int, message: str
) -> None:
    ran = steward(registry, "show", target)
    assert ran.code == code
    assert message in ran.err


# --- which ------------------------------------------------------------------------------------


def test_which_names_the_version_and_where_its_artifact_is(
    steward: Steward, tmp_path: Path
) -> None:
    root = init_registry(tmp_path / "reg").root  # writes .dvc/config with a default remote
    add_dataset(root, "transactions")
    add_model(root, "fraud")
    add_version(root, "fraud", "1.0.0", stage="production")
    with ArtifactStore(root) as store:
        expected_url = store.remote_url()

    data = steward(root, "which", "fraud", "production", "--json").json()
    assert isinstance(data, dict)
    md5 = data["md5"]
    assert data["version"] == "1.0.0"
    assert data["entry"] == "registry/models/fraud/1.0.0.yaml"
    assert data["pointer"] == "registry/models/fraud/1.0.0.dvc"
    assert data["remote"] == {
        "name": "storage",
        "url": expected_url,
        "config_file": ".dvc/config",
        "listing_object": f"{expected_url}/files/md5/{md5[:2]}/{md5[2:]}",
    }
    assert data["remote_problem"] is None
    assert [item["path"] for item in data["files"]] == ["model.pkl"]

    ran = steward(root, "which", "fraud", "production")
    assert ran.code == 0, ran.err
    assert ran.out.startswith("fraud 1.0.0 is in production\n")
    assert f"  remote   {expected_url} ('storage')" in ran.out
    assert "  files    model.pkl" in ran.out


def test_which_without_a_remote_still_answers(steward: Steward, registry: Path) -> None:
    ran = steward(registry, "which", "fraud", "staging", "--json")
    assert ran.code == 0, ran.err
    data = ran.json()
    assert isinstance(data, dict)
    assert (data["version"], data["remote"]) == ("1.1.0", None)
    assert "no DVC default remote is configured" in data["remote_problem"]
    text = steward(registry, "which", "fraud", "staging").out
    assert "remote   no DVC default remote is configured" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["fraud", "archived"], "no version of fraud is in archived"),
        (["nope", "production"], "model 'nope' is not in the registry"),
    ],
)
def test_which_fails_when_nothing_holds_the_stage(
    steward: Steward, registry: Path, args: list[str], message: str
) -> None:
    ran = steward(registry, "which", *args)
    assert (ran.code, ran.out) == (1, "")
    assert message in ran.err


def test_which_refuses_two_holders_of_a_single_stage(steward: Steward, registry: Path) -> None:
    add_version(registry, "fraud", "1.2.0", stage="production")  # the policy: production single
    ran = steward(registry, "which", "fraud", "production")
    assert ran.code == 1
    assert "fraud has 2 versions in production (1.0.0, 1.2.0)" in ran.err


def test_which_of_a_shared_stage_answers_the_highest(steward: Steward, registry: Path) -> None:
    add_version(registry, "fraud", "1.10.0", stage="staging")
    data = steward(registry, "which", "fraud", "staging", "--json").json()
    assert isinstance(data, dict)
    assert (data["version"], data["also_in_stage"]) == ("1.10.0", ["1.1.0"])
    text = steward(registry, "which", "fraud", "staging").out
    assert "also in staging: 1.1.0" in text


def test_which_fails_on_a_broken_version_of_its_model(steward: Steward, registry: Path) -> None:
    """It cannot tell who holds the stage if one of the model's versions is unreadable."""
    write(registry, "registry/models/fraud/1.0.0.yaml", "model: fraud\n")
    ran = steward(registry, "which", "fraud", "staging")
    assert ran.code == 1
    assert "registry/models/fraud/1.0.0.yaml has problems" in ran.err


def test_a_stray_file_in_a_model_directory_is_an_expected_error(
    steward: Steward, registry: Path
) -> None:
    write(registry, "registry/models/fraud/notes.yaml", "text: hi\n")
    for args in (["which", "fraud", "staging"], ["show", "fraud"], ["list", "--model", "fraud"]):
        ran = steward(registry, *args)
        assert ran.code == 1, args  # not 3, an unexpected error
        assert "registry/models/fraud/notes.yaml: unexpected file 'notes.yaml'" in ran.err


def test_which_reads_only_its_models_directory(
    registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_walk(self: WorktreeSnapshot) -> list[object]:
        raise AssertionError("which listed the whole registry")

    monkeypatch.setattr(WorktreeSnapshot, "files", no_walk)
    write(registry, "registry/models/churn/1.9.0.yaml", "broken: [")  # another model: unread
    assert queries.which(registry, "fraud", "production").version.version == "1.0.0"


def test_which_does_not_import_dvc(tmp_path: Path) -> None:
    root = init_registry(tmp_path / "reg").root
    add_model(root, "fraud")
    add_dataset(root, "transactions")
    add_version(root, "fraud", "1.0.0", stage="production")
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from steward.reading import queries\n"
        f"found = queries.which(Path({str(root)!r}), 'fraud', 'production')\n"
        "assert found.remote is not None\n"
        "print(sorted(m for m in sys.modules if m == 'dvc' or m.startswith('dvc.')))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# --- .dvc/config ------------------------------------------------------------------------------


def _dvc_repo(root: Path, config: str, local: str | None = None) -> Path:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    write(root, ".dvc/config", config)
    if local is not None:
        write(root, ".dvc/config.local", local)
    return root


CONFIGS = {
    "absolute path": (
        "[core]\n    remote = storage\n['remote \"storage\"']\n    url = /srv/s\n",
        None,
    ),
    "relative path": ("[core]\nremote = up\n['remote \"up\"']\nurl = ../../storage\n", None),
    "s3, quoted": (
        '[core]\n    remote = s3\n[\'remote "s3"\']\n    url = "s3://bucket/registry"\n',
        None,
    ),
    "mixed case, comments": (
        "# made by hand\n[Core]\n    Remote = Main  # the default\n"
        "['remote \"main\"']\n    URL = /data/main\n",
        None,
    ),
    "url overridden locally": (
        "[core]\n    remote = storage\n['remote \"storage\"']\n    url = /srv/s\n",
        "['remote \"storage\"']\n    url = /mnt/fast\n",
    ),
    "default set locally": (
        "['remote \"a\"']\n    url = /srv/a\n['remote \"b\"']\n    url = /srv/b\n",
        "[core]\n    remote = b\n",
    ),
}


@pytest.mark.parametrize("case", list(CONFIGS))
def test_dvc_config_url_is_what_dvc_reads(tmp_path: Path, case: str) -> None:
    config, local = CONFIGS[case]
    root = _dvc_repo(tmp_path / "repo", config, local)
    with ArtifactStore(root) as store:
        expected = store.remote_url()
    assert dvcconfig.default_remote(root).url == expected


def test_dvc_config_says_which_file_set_the_url(tmp_path: Path) -> None:
    config, local = CONFIGS["url overridden locally"]
    remote = dvcconfig.default_remote(_dvc_repo(tmp_path / "repo", config, local))
    assert (remote.name, remote.url, remote.config_file) == (
        "storage",
        "/mnt/fast",
        ".dvc/config.local",
    )
    assert remote.object_url("abcdef.dir") == "/mnt/fast/files/md5/ab/cdef.dir"


def test_read_config_merges_local_over_shared(tmp_path: Path) -> None:
    config, local = CONFIGS["default set locally"]
    sections = dvcconfig.read_config(_dvc_repo(tmp_path / "repo", config, local))
    assert sections == {
        'remote "a"': {"url": "/srv/a"},
        'remote "b"': {"url": "/srv/b"},
        "core": {"remote": "b"},
    }


@pytest.mark.parametrize(
    ("config", "error", "message"),
    [
        (None, dvcconfig.RemoteNotConfigured, "no DVC default remote is configured"),
        ("['remote \"a\"']\n    url = /a\n", dvcconfig.RemoteNotConfigured, "no DVC default"),
        ("[core]\n    remote = gone\n", dvcconfig.DvcConfigError, "'gone' is not defined"),
        (
            "[core]\n    remote = a\n['remote \"a\"']\n    region = x\n",
            dvcconfig.DvcConfigError,
            "'a' has no url",
        ),
        ("[core\nremote = a\n", dvcconfig.DvcConfigError, ".dvc/config is not a valid DVC config"),
        ("[core]\nremote = a\nremote = b\n", dvcconfig.DvcConfigError, "not a valid DVC config"),
    ],
)
def test_dvc_config_problems_are_remote_errors(
    tmp_path: Path, config: str | None, error: type[RemoteError], message: str
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    if config is not None:
        write(root, ".dvc/config", config)
    with pytest.raises(error, match=message.replace("(", r"\(")) as raised:
        dvcconfig.default_remote(root)
    assert isinstance(raised.value, RemoteError)


# --- command-line meta ------------------------------------------------------------------------


@pytest.mark.parametrize("command", QUERY_COMMANDS, ids=lambda c: c.name)
def test_query_commands_have_help_everywhere(command: click.Command) -> None:
    assert command.help
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"steward {command.name} {param.opts} has no help"


def test_command_names(steward: Steward, registry: Path) -> None:
    assert [c.name for c in QUERY_COMMANDS] == ["list", "show", "which"]
    for name in ("list", "show", "which"):
        ran = steward(registry, name, "--help")
        assert ran.code == 0 and f"Usage: steward {name}" in ran.out
