from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from steward.cli.main import run
from steward.reading.registry import check_registry
from tests.builders import (
    add_dataset,
    add_model,
    add_version,
    model_data,
    run_git,
    small_registry,
    write,
    write_yaml,
)


def line(root: Path, relative: str, needle: str) -> int:
    """The 1-based line of `relative` that first contains `needle`."""
    lines = (root / relative).read_text().splitlines()
    return next(i for i, text in enumerate(lines, 1) if needle in text)


def rendered(root: Path, rev: str | None = None) -> list[str]:
    return [p.render() for p in check_registry(root, rev).problems]


def test_small_registry_passes(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    report = check_registry(root)
    assert report.problems == []
    assert report.counts == {"files": 14, "models": 1, "versions": 2, "datasets": 1, "teams": 0}


def test_check_command_exit_codes_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = small_registry(tmp_path / "reg")
    assert run(["-C", str(root), "check"]) == 0
    assert "ok: 1 models, 2 versions" in capsys.readouterr().out
    add_version(root, "fraud", "1.2.0", metrics={"auc": "high"})
    assert run(["-C", str(root), "check", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert report["problems"] == [
        {
            "path": "registry/models/fraud/1.2.0.yaml",
            "line": report["problems"][0]["line"],
            "field": "metrics.auc",
            "message": "expected a number, got 'high'",
        }
    ]
    assert isinstance(report["problems"][0]["line"], int)


def test_path_must_agree_with_names(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    write_yaml(root, "registry/models/fraud/model.yaml", model_data("fraud-2"))
    add_version(root, "fraud", "1.2.0")
    text = (
        (root / "registry/models/fraud/1.2.0.yaml")
        .read_text()
        .replace("version: 1.2.0", "version: 1.2.1")
    )
    write(root, "registry/models/fraud/1.2.0.yaml", text)
    add_dataset(root, "customers")
    dataset = root / "registry/datasets/customers.yaml"
    dataset.write_text(dataset.read_text().replace("name: customers", "name: clients"))
    assert rendered(root) == [
        "registry/datasets/customers.yaml:1: name: 'clients' does not match the file name "
        "'customers' in the file's path",
        "registry/models/fraud/1.2.0.yaml:2: version: '1.2.1' does not match the file name "
        "'1.2.0' in the file's path",
        "registry/models/fraud/model.yaml:1: name: 'fraud-2' does not match the model directory "
        "'fraud' in the file's path",
    ]


@pytest.mark.parametrize(
    ("relative", "message"),
    [
        ("registry/models/Fraud/model.yaml", "'Fraud' is not a valid model name"),
        ("registry/models/fraud/1.0.yaml", "unexpected file '1.0.yaml'"),
        ("registry/models/fraud/notes.txt", "unexpected file 'notes.txt'"),
        ("registry/datasets/x.yml", "Steward reads '.yaml' files, not '.yml'"),
        ("registry/datasets/../x.yaml", None),
        ("registry/models/fraud/sub/model.yaml", "unexpected file"),
        ("policies/other.yaml", "unexpected file"),
        ("registry/models/-bad/model.yaml", "'-bad' is not a valid model name"),
    ],
)
def test_unexpected_paths_are_refused(tmp_path: Path, relative: str, message: str | None) -> None:
    root = small_registry(tmp_path / "reg")
    write(root, relative, "name: x\n")
    problems = rendered(root)
    if message is None:  # the path resolves outside registry/: git does not list it as ours
        assert not (root / "registry/datasets/x.yaml").exists()
        return
    normalized = os.path.normpath(relative)
    assert any(p.startswith(normalized + ": ") and message in p for p in problems), problems


def test_symlinks_are_refused(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    outside = write(tmp_path, "outside.yaml", "secret: 1\n")
    (root / "registry/datasets/leak.yaml").symlink_to(outside)
    (root / "policies/teams").mkdir()
    (root / "policies/teams/risk-ml.yaml").symlink_to(root / "policies/registry.yaml")
    assert rendered(root) == [
        "policies/teams/risk-ml.yaml: symbolic links are not allowed in a registry",
        "registry/datasets/leak.yaml: symbolic links are not allowed in a registry",
    ]


def test_names_differing_only_by_case_are_refused(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    add_version(root, "fraud", "2.0.0-rc.1")
    add_version(root, "fraud", "2.0.0-RC.1")
    problems = rendered(root)
    assert (
        "registry/models/fraud/2.0.0-rc.1.yaml: differs from registry/models/fraud/2.0.0-RC.1.yaml "
        "only by case; they are the same file on case-insensitive file systems" in problems
    )


def test_pointer_must_exist_and_match(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    (root / "registry/models/fraud/1.1.0.dvc").unlink()
    add_version(root, "fraud", "1.2.0")
    pointer = root / "registry/models/fraud/1.2.0.dvc"
    pointer.write_text(
        "outs:\n- md5: 00000000000000000000000000000000.dir\n  size: 1\n  nfiles: 5\n"
        "  hash: md5\n  path: 1.2.0\n"
    )
    write(root, "registry/models/fraud/9.9.9.dvc", pointer.read_text().replace("1.2.0", "9.9.9"))
    problems = rendered(root)
    assert (
        problems[0] == "registry/models/fraud/1.1.0.yaml:7: artifact.dvc: the DVC pointer "
        "registry/models/fraud/1.1.0.dvc is missing"
    )
    md5 = (root / "registry/models/fraud/1.2.0.yaml").read_text().split("md5: ")[1].split("\n")[0]
    assert problems[1:] == [
        f"registry/models/fraud/1.2.0.yaml:8: artifact.md5: '{md5}' does not match md5 "
        "'00000000000000000000000000000000.dir' in the DVC pointer registry/models/fraud/1.2.0.dvc",
        "registry/models/fraud/1.2.0.yaml:9: artifact.size: 11 does not match size 1 in the DVC "
        "pointer registry/models/fraud/1.2.0.dvc",
        "registry/models/fraud/1.2.0.yaml:11: artifact.files: 1 does not match nfiles 5 in the DVC "
        "pointer registry/models/fraud/1.2.0.dvc",
        "registry/models/fraud/9.9.9.dvc: no version entry registry/models/fraud/9.9.9.yaml for "
        "this DVC pointer",
    ]


def test_cited_datasets_must_exist(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    add_version(
        root, "fraud", "1.2.0", training={"datasets": [{"id": "transactions"}, {"id": "ghost"}]}
    )
    where = line(root, "registry/models/fraud/1.2.0.yaml", "id: ghost")
    assert rendered(root) == [
        f"registry/models/fraud/1.2.0.yaml:{where}: training.datasets[1].id: "
        "dataset 'ghost' is not in the registry (registry/datasets/ghost.yaml does not exist)"
    ]


def test_single_stage_holds_one_version(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    add_version(root, "fraud", "1.2.0", stage="production")
    add_model(root, "churn")
    add_version(root, "churn", "1.0.0", stage="production")  # another model: fine
    assert rendered(root) == [
        f"registry/models/fraud/{v}.yaml:3: stage: production holds one version per model "
        "(policies/registry.yaml stages.production.single), but fraud has 2 there: 1.0.0, 1.2.0"
        for v in ("1.0.0", "1.2.0")
    ]


def test_versions_need_their_model(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    add_version(root, "orphan", "1.0.0")
    assert rendered(root) == [
        "registry/models/orphan/model.yaml: file is missing: the directory holds versions of a "
        "model that was never created (`steward create`)"
    ]


def test_policy_is_required_and_checked(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    policy = root / "policies/registry.yaml"
    policy.write_text(
        policy.read_text().replace("create_models: [ml-engineer]", "create_models: [ml-engineers]")
    )
    assert rendered(root) == [
        "policies/registry.yaml:5: create_models[0]: role 'ml-engineers' is not defined under roles"
    ]
    policy.unlink()
    assert rendered(root) == [
        "policies/registry.yaml: file is missing: every registry needs a policy "
        "(`steward init` writes a default)"
    ]


def test_check_collects_every_problem_in_every_file(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    write(root, "registry/models/fraud/1.2.0.yaml", "model: fraud\nmodel: fraud\n")
    write(root, "registry/datasets/bad.yaml", "name: bad\nowner: erin\nuri: 5\ncolour: red\n")
    assert rendered(root) == [
        "registry/datasets/bad.yaml:3: uri: expected a string, got the number 5; "
        "quote it to keep it as written: '5'",
        "registry/datasets/bad.yaml:4: colour: unknown field; did you mean 'columns'?",
        "registry/models/fraud/1.2.0.yaml:2: duplicate key 'model' (first on line 1)",
    ]


def test_check_at_a_revision_reads_git_objects(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    run_git(root, "add", "-A")
    run_git(root, "commit", "-q", "-m", "registry")
    good = run_git(root, "rev-parse", "HEAD").strip()
    add_version(root, "fraud", "1.2.0", stage="staging", metrics={"auc": "0.9"})
    run_git(root, "add", "-A")
    run_git(root, "commit", "-q", "-m", "bad version")
    (root / "registry/models/fraud/1.2.0.yaml").unlink()  # the working tree differs from HEAD
    assert rendered(root) == [
        "registry/models/fraud/1.2.0.dvc: no version entry registry/models/fraud/1.2.0.yaml for "
        "this DVC pointer"
    ]
    run_git(root, "checkout", "--", "registry/models/fraud/1.2.0.yaml")
    where = line(root, "registry/models/fraud/1.2.0.yaml", "auc:")
    (root / "registry/models/fraud/1.2.0.yaml").unlink()
    assert rendered(root, "HEAD") == [
        f"registry/models/fraud/1.2.0.yaml:{where}: metrics.auc: expected a number, got '0.9'"
    ]
    assert rendered(root, good) == []


def test_gitignored_files_are_not_registry_content(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    write(root, "registry/models/fraud/.gitignore", "/1.0.0\n/1.1.0\n")
    write(root, "registry/models/fraud/1.0.0/model.pkl", b"\x80\x04data")
    write(root, ".gitignore", ".DS_Store\n")
    write(root, "registry/.DS_Store", b"\x00\x01")
    assert rendered(root) == []


def test_unknown_revision_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = small_registry(tmp_path / "reg")
    assert run(["-C", str(root), "check", "--rev", "nope"]) == 1
    assert f"error: 'nope' is not a revision of {root}" in capsys.readouterr().err
    assert (
        run(["-C", str(root), "check", "--rev=--output=/tmp/x"]) == 1
    )  # never reaches git as an option
    assert "'--output=/tmp/x' is not a revision" in capsys.readouterr().err


def test_top_level_directories_differing_by_case_are_checked(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    write(root, "Registry/models/fraud/1.1.0.yaml", "model: !!python/object:os.system x\n")
    write(root, "Policies/registry.yaml", "roles: {}\n")
    run_git(root, "add", "-A")
    run_git(root, "commit", "-qm", "case tricks")
    expected = [
        "Policies/registry.yaml: 'Policies' differs from 'policies' only by case: on "
        "case-insensitive file systems they are one directory",
        "Registry/models/fraud/1.1.0.yaml: 'Registry' differs from 'registry' only by case: on "
        "case-insensitive file systems they are one directory",
        "policies/registry.yaml: differs from Policies/registry.yaml only by case; they are the "
        "same file on case-insensitive file systems",
        "registry/models/fraud/1.1.0.yaml: differs from Registry/models/fraud/1.1.0.yaml only by "
        "case; they are the same file on case-insensitive file systems",
    ]
    assert rendered(root) == expected
    assert rendered(root, "HEAD") == expected


def test_a_symlinked_steward_directory_is_refused(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    import shutil

    shutil.rmtree(root / ".steward")
    (root / ".steward").symlink_to(tmp_path)
    assert rendered(root) == [".steward: symbolic links are not allowed in a registry"]


def test_outside_a_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["-C", str(tmp_path), "check"]) == 1
    assert "is not inside a git repository" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ("wdir: ../../../elsewhere\n", "wdir: unknown field"),
        ("", None),
    ],
)
def test_pointer_fields_dvc_would_honour_are_refused(
    tmp_path: Path, extra: str, problem: str | None
) -> None:
    root = small_registry(tmp_path / "reg")
    pointer = root / "registry/models/fraud/1.0.0.dvc"
    pointer.write_text(extra + pointer.read_text())
    found = rendered(root)
    if problem is None:
        assert found == []
    else:
        assert found == [f"registry/models/fraud/1.0.0.dvc:1: {problem}"]


@pytest.mark.parametrize("field", ["push: false", "cache: false", "remote: attacker"])
def test_pointer_output_options_are_refused(tmp_path: Path, field: str) -> None:
    root = small_registry(tmp_path / "reg")
    pointer = root / "registry/models/fraud/1.0.0.dvc"
    pointer.write_text(pointer.read_text() + f"  {field}\n")
    name = field.split(":")[0]
    assert rendered(root) == [f"registry/models/fraud/1.0.0.dvc:7: outs[0].{name}: unknown field"]


def test_problems_render_on_one_line_whatever_names_hold(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    write(root, "registry/datasets/evil\n::error::forged.yaml", "name: x\n")
    problems = rendered(root)
    assert problems == [
        "registry/datasets/evil\\n::error::forged.yaml: 'evil\\n::error::forged' is not a valid "
        "dataset name: names are 1 to 64 lowercase letters, digits, '.', '_' or '-', starting "
        "with a letter or digit"
    ]
    assert all("\n" not in line for line in problems)
