"""A new user's first day, through the command line only: no hand-written YAML but a one-line
card edit, no reading `.git/steward`. init with roles, a dataset from a CSV, a model, a version
citing the dataset, a promotion seen, reviewed and merged, a pull, a card edit proposed and
closed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from steward.cli.main import run
from tests.builders import run_git


def steward(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = run(list(args))
    out, err = capsys.readouterr()
    assert code == 0, (args, out, err)
    return out


def test_the_daily_loop_needs_no_hand_written_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reg = tmp_path / "registry"
    roles = ["--role", "ml-engineer=alice,bob", "--role", "governance=grace"]
    steward(capsys, "init", str(reg), *roles, "--role", "registrars=ci-bot")
    c = ["-C", str(reg)]
    data = tmp_path / "iris.csv"
    data.write_text("sepal_length,petal_width,species\n5.1,0.2,setosa\n6.2,1.8,virginica\n")
    out = steward(
        capsys, *c, "dataset", "add", "iris", "--uri", "s3://lake/iris.csv", "--owner", "alice",
        "--from", str(data), "--column", "species::internal", "--classification", "internal",
    )  # fmt: skip
    assert "3 columns, 1 classified" in out
    steward(
        capsys, *c, "create", "iris-clf", "--owner", "alice", "--team", "ds",
        "--classification", "internal",
        "--card", "intended_use=Classify iris flowers in the botany course.",
        "--card", "limitations=Three species only.",
    )  # fmt: skip
    trained = tmp_path / "out"
    trained.mkdir()
    (trained / "model.pkl").write_bytes(b"a fitted classifier")
    out = steward(
        capsys, *c, "register", "iris-clf", str(trained), "--dataset", "iris",
        "--metric", "accuracy=0.95", "--as", "ci-bot", "--json",
    )  # fmt: skip
    assert json.loads(out)["version"] == "0.1.0"
    assert "iris-clf 0.1.0" in steward(capsys, *c, "dataset", "show", "iris")

    steward(capsys, *c, "promote", "iris-clf", "0.1.0", "--to", "staging", "--as", "alice")
    listed = json.loads(steward(capsys, *c, "proposals", "--json"))
    assert [(p["number"], p["author"]) for p in listed] == [(1, "alice")]
    shown = steward(capsys, *c, "proposal", "show", "1")
    assert "gate (judged now): fails" in shown and "Intended use" in shown  # the card, in the body
    assert "approved" in steward(capsys, *c, "review", "1", "--approve", "--as", "bob")
    assert "passes" in steward(capsys, *c, "proposal", "show", "1")
    steward(capsys, *c, "merge", "1", "--as", "alice")
    served = tmp_path / "served"
    steward(capsys, *c, "pull", "iris-clf", "--stage", "staging", "-o", str(served))
    assert (served / "model.pkl").read_bytes() == b"a fitted classifier"

    model = reg / "registry/models/iris-clf/model.yaml"
    model.write_text(
        model.read_text().replace("Three species only.", "Three species only; adult plants.")
    )
    out = steward(capsys, *c, "propose", "-m", "Narrow the limitations", "--as", "alice")
    assert "Opened proposal #2" in out
    assert run_git(reg, "status", "--porcelain") == ""
    assert "registry/models/iris-clf/model.yaml" in steward(capsys, *c, "proposal", "show", "2")
    steward(capsys, *c, "close", "2")
    states = {
        p["number"]: p["state"]
        for p in json.loads(steward(capsys, *c, "proposals", "--state", "all", "--json"))
    }
    assert states == {1: "merged", 2: "closed"}
    assert "ok:" in steward(capsys, *c, "check")
