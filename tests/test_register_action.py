"""The composite register action's own steps, run with an Actions-like environment: its register
step's bash, with the inputs, outputs and step summary GitHub would give it, against the
in-process GitHub API (whose branches are a real bare repository the step pushes to). The clone's
origin is a path, not a GitHub URL: the action must still reach GitHub, never a local forge."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.dvc_registry import RegistryRepo, make_registry
from tests.github_api import FakeGitHub

ACTION = Path(__file__).resolve().parents[1] / ".github" / "actions" / "register" / "action.yml"
REPO = "acme/model-registry"


def _step(name: str) -> dict[str, object]:
    action = yaml.safe_load(ACTION.read_text())
    return next(step for step in action["runs"]["steps"] if step.get("name") == name)


def _expand(text: str, values: dict[str, str]) -> str:
    """`${{ inputs.x }}` and `${{ runner.temp }}` as the runner substitutes them in `env:`."""

    def one(match: re.Match[str]) -> str:
        return values[match.group(1).strip()]

    return re.sub(r"\$\{\{\s*([^}]+?)\s*\}\}", one, text)


def run_register_step(
    workspace: Path, temp: Path, inputs: dict[str, str], github: FakeGitHub
) -> tuple[subprocess.CompletedProcess[str], dict[str, str], str]:
    step = _step("Register the version and open its pull request")
    values = {f"inputs.{k}": v for k, v in inputs.items()} | {"runner.temp": str(temp)}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "STEWARD_"))}
    env.update({str(k): _expand(str(v), values) for k, v in dict(step["env"]).items()})  # type: ignore[call-overload]
    output, summary = temp / "output", temp / "summary"
    output.write_text("")
    summary.write_text("")
    env.update(
        {
            "GITHUB_ACTIONS": "true",
            "GITHUB_REPOSITORY": "acme/training",  # the training repository: must not be used
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_API_URL": github.base_url,
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_ACTOR": "alice",
        }
    )
    done = subprocess.run(
        ["bash", "-e", "-c", str(step["run"])],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return done, outputs, summary.read_text()


@pytest.fixture
def repo(tmp_path: Path) -> RegistryRepo:
    return make_registry(tmp_path)


def test_the_register_step_opens_a_pull_request_and_a_retry_reuses_it(
    repo: RegistryRepo, tmp_path: Path, github: FakeGitHub
) -> None:
    github.add_repo(REPO, default_branch="main", default_branch_sha=repo.head())
    github.back_with_git(REPO, repo.origin)
    workspace = tmp_path / "training"
    (workspace / "out").mkdir(parents=True)
    (workspace / "out" / "model.pkl").write_bytes(b"trained")
    (workspace / "out" / "metrics.json").write_text('{"auc": 0.93}')
    subprocess.run(
        ["git", "clone", "-q", str(repo.origin), str(workspace / ".steward-registry")], check=True
    )
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    (temp / "steward-register").symlink_to(Path(sys.prefix))  # the install step's venv
    inputs = {
        "model": "fraud",
        "paths": "  out/model.pkl\n\n",
        "metrics-file": "out/metrics.json",
        "datasets": "transactions",
        "version": "",
        "bump": "",
        "description": "Nightly retrain",
        "registry-path": ".steward-registry",
        "registry-token": github.token,
        "registry-repository": REPO,
    }
    done, outputs, summary = run_register_step(workspace, temp, inputs, github)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (outputs["version"], outputs["created"]) == ("0.1.0", "true")
    assert "`fraud` registered `0.1.0`" in summary
    pulls = list(github.state.repo(REPO).pulls.values())
    assert [(p.title, p.head_ref) for p in pulls] == [
        ("Register fraud 0.1.0", "steward/register/fraud-0.1.0")
    ]
    # The job is re-run from a fresh checkout: the same pull request answers.
    subprocess.run(["rm", "-rf", str(workspace / ".steward-registry")], check=True)
    subprocess.run(
        ["git", "clone", "-q", str(repo.origin), str(workspace / ".steward-registry")], check=True
    )
    done, outputs, summary = run_register_step(workspace, temp, inputs, github)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (outputs["version"], outputs["created"]) == ("0.1.0", "false")
    assert len(github.state.repo(REPO).pulls) == 1


def test_a_missing_file_is_refused_before_steward_runs(
    repo: RegistryRepo, tmp_path: Path, github: FakeGitHub
) -> None:
    workspace = tmp_path / "training"
    workspace.mkdir()
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    inputs = {
        "model": "fraud", "paths": "out/missing.pkl", "metrics-file": "", "datasets": "",
        "version": "", "bump": "", "description": "", "registry-path": ".steward-registry",
        "registry-token": github.token, "registry-repository": REPO,
    }  # fmt: skip
    done, outputs, _ = run_register_step(workspace, temp, inputs, github)
    assert (
        done.returncode == 1
        and "::error::no such file or directory: out/missing.pkl" in done.stdout
    )
    assert outputs == {}


def test_the_pip_cache_is_keyed_on_the_lock_the_install_uses(tmp_path: Path) -> None:
    import hashlib

    step = _step("Key pip's download cache on the lock the install uses")
    output = tmp_path / "output"
    output.write_text("")
    env = {
        **os.environ,
        "GITHUB_ACTION_PATH": str(ACTION.parent),
        "GITHUB_OUTPUT": str(output),
        "INSTALL_FROM": "action",
        "REGISTRY_PATH": str(tmp_path / "nowhere"),
    }
    subprocess.run(["bash", "-e", "-c", str(step["run"])], env=env, check=True)
    lock = ACTION.parents[2] / "steward" / "requirements.txt"
    assert output.read_text() == f"hash={hashlib.sha256(lock.read_bytes()).hexdigest()}\n"
    output.write_text("")
    subprocess.run(
        ["bash", "-e", "-c", str(step["run"])], env={**env, "INSTALL_FROM": "registry"}, check=True
    )
    assert output.read_text() == "hash=none\n"  # no registry lock there: a cache of its own
