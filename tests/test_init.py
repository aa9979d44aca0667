from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from steward.cli.main import run
from steward.errors import StewardError
from steward.reading.registry import check_registry
from steward.reading.scaffold import init_registry
from tests.builders import run_git


def test_init_makes_a_committed_registry_that_passes_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "acme-registry"
    assert run(["init", str(target)]) == 0
    out = capsys.readouterr().out
    remote = tmp_path / "acme-registry.dvc-storage"
    assert f"DVC default remote 'storage': {remote} (a local directory, the default)" in out
    assert remote.is_dir()
    assert run_git(target, "status", "--porcelain") == ""
    assert run_git(target, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    tracked = run_git(target, "ls-files").split()
    for path in (
        "policies/registry.yaml",
        "README.md",
        ".dvc/config",
        ".steward/schemas/version.schema.json",
        "registry/models/.gitkeep",
        "registry/datasets/.gitkeep",
    ):
        assert path in tracked
    assert f"url = {remote}" in (target / ".dvc/config").read_text()
    assert "remote = storage" in (target / ".dvc/config").read_text()
    assert check_registry(target).ok
    assert check_registry(target, "HEAD").ok


def test_init_with_a_remote_url(tmp_path: Path) -> None:
    result = init_registry(tmp_path / "reg", "s3://acme-models/registry")
    assert result.remote_url == "s3://acme-models/registry"
    assert not result.remote_is_local_default
    assert "url = s3://acme-models/registry" in (tmp_path / "reg/.dvc/config").read_text()
    assert not (tmp_path / "reg.dvc-storage").exists()


def test_init_refuses_a_non_empty_directory_and_touches_nothing(tmp_path: Path) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(StewardError, match="exists and is not an empty directory"):
        init_registry(target)
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    assert not (tmp_path / "busy.dvc-storage").exists()


def test_init_failure_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import steward.reading.scaffold as scaffold

    def broken(root: Path, remote: str, roles: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(scaffold, "_write_files", broken)
    with pytest.raises(StewardError, match=r"could not create the registry in .*: disk full"):
        init_registry(tmp_path / "deep" / "er" / "reg")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_init_into_an_existing_empty_directory_keeps_it_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import steward.reading.scaffold as scaffold

    target = tmp_path / "empty"
    target.mkdir()
    monkeypatch.setattr(scaffold, "commit_all", lambda *a, **k: (_ for _ in ()).throw(OSError("x")))
    with pytest.raises(StewardError, match="could not create the registry"):
        init_registry(target)
    assert target.is_dir() and list(target.iterdir()) == []
    assert not (tmp_path / "empty.dvc-storage").exists()


def test_init_without_a_git_identity_still_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
    ):
        monkeypatch.delenv(name)
    result = init_registry(tmp_path / "reg")
    author = run_git(result.root, "log", "-1", "--format=%an <%ae>").strip()
    assert author == "Steward <steward@localhost>"


def test_init_refuses_a_directory_inside_another_repository(tmp_path: Path) -> None:
    outer = tmp_path / "project"
    outer.mkdir()
    run_git(outer, "init", "-q")
    with pytest.raises(StewardError, match="is inside the git repository"):
        init_registry(outer / "registry")
    assert not (outer / "registry").exists()
    assert not (outer / "registry.dvc-storage").exists()


def test_a_relative_local_remote_is_taken_from_the_directory_given_with_C(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = tmp_path / "base"
    base.mkdir()
    monkeypatch.chdir(tmp_path)
    assert run(["-C", str(base), "init", "reg", "--remote", "store"]) == 0
    assert f"url = {base / 'store'}" in (base / "reg/.dvc/config").read_text()
    assert (base / "store").is_dir()


def test_init_reports_file_system_errors_as_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert run(["init", str(blocker / "reg")]) == 1
    assert "error: could not create the registry" in capsys.readouterr().err


def test_init_writes_workflows_that_install_only_from_the_hash_checked_lock(
    tmp_path: Path,
) -> None:
    root = init_registry(tmp_path / "reg").root
    gate = (root / ".github/workflows/gate.yml").read_text()
    hash_checked = (
        "          python -m pip install --disable-pip-version-check --quiet --require-hashes"
        " --no-deps \\"
    )
    for name, jobs in (("gate.yml", 1), ("apply.yml", 2)):  # apply.yml: apply, site
        text = (root / ".github/workflows" / name).read_text()
        installs = [line for line in text.splitlines() if "pip install" in line]
        assert installs == [hash_checked] * jobs, installs
        assert text.count("-r .github/steward/requirements.txt") == jobs
    assert "\n  pull_request_target:" not in gate and "\n  pull_request:" in gate
    assert ".github/workflows/apply.yml" in run_git(root, "ls-files")


def test_the_apply_workflow_keeps_stewards_caches_and_the_gate_never_reads_them(
    tmp_path: Path,
) -> None:
    """A fresh CI clone starts from the records of the last push to main (#19): the cached paths
    are where Steward keeps them, keyed by the lock (Steward's version) and the commit. The gate
    restores nothing: a pull request's runs can write caches of their own scope."""
    from steward.gitio.changelog import _index_path
    from steward.reading.cache import cache_dir
    from steward.reading.central_policy import mirror_dir

    root = init_registry(tmp_path / "reg").root
    where = {
        cache_dir(root).parent,  # type: ignore[union-attr]
        mirror_dir(root, "any").parent,
        _index_path(root),
    }
    expected = sorted(Path(path).relative_to(root).as_posix() for path in where)  # type: ignore[arg-type]
    own = Path(__file__).resolve().parents[1] / ".github/workflows"
    for directory in (root / ".github/workflows", own):
        apply = yaml.safe_load((directory / "apply.yml").read_text())["jobs"]
        for job, action in (("apply", "actions/cache@"), ("site", "actions/cache/restore@")):
            (step,) = [s for s in apply[job]["steps"] if "/cache" in s.get("uses", "")]
            assert step["uses"].startswith(action)
            assert sorted(step["with"]["path"].split()) == expected
            key = step["with"]["key"]
            assert "hashFiles('.github/steward/requirements.txt')" in key
            assert key.endswith("-${{ github.sha }}")
            assert step["with"]["restore-keys"] == key.removesuffix("${{ github.sha }}")
        gate = (directory / "gate.yml").read_text()
        assert "actions/cache" not in gate


_PINNED = re.compile(r"^[\w.-]+/[\w.-]+(?:/[\w.-]+)*@[0-9a-f]{40}$")
_UPLOAD_PAGES = "actions/upload-pages-artifact@fc324d3547104276b827a68afc52ff2a11cc49c9"
_DEPLOY_PAGES = "actions/deploy-pages@cd2ce8fcbc39b97be8ca5fce6e763baed58fa128"


@pytest.mark.parametrize("which", ["written by init", "this repository's own"])
def test_the_apply_workflow_publishes_the_site_only_where_the_repository_opts_in(
    which: str, tmp_path: Path
) -> None:
    """The optional `site` job: after a successful apply, only with STEWARD_SITE=true, with the
    Pages permissions and nothing more, installing Steward exactly as that file's apply job."""
    if which == "written by init":
        path = init_registry(tmp_path / "reg").root / ".github/workflows/apply.yml"
    else:
        path = Path(__file__).resolve().parents[1] / ".github/workflows/apply.yml"
    text = path.read_text()
    workflow = yaml.safe_load(text)
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    assert set(jobs) == {"apply", "site"}
    apply, site = jobs["apply"], jobs["site"]
    assert apply["permissions"] == {"contents": "write"}
    assert site["needs"] == "apply"
    assert site["if"] == "vars.STEWARD_SITE == 'true'"  # no status function: apply succeeded
    assert "STEWARD_SITE to `true`" in text.split("\n  site:\n", 1)[1].split("name: site", 1)[0]
    assert site["permissions"] == {
        "contents": "read",
        "pull-requests": "read",
        "statuses": "read",
        "pages": "write",
        "id-token": "write",
    }
    assert site["environment"] == {
        "name": "github-pages",
        "url": "${{ steps.deployment.outputs.page_url }}",
    }
    assert site["concurrency"] == {"group": "pages", "cancel-in-progress": False}
    assert isinstance(site["timeout-minutes"], int)

    def uses(job: dict[str, Any]) -> list[str]:
        return [step["uses"] for step in job["steps"] if "uses" in step]

    cache = uses(apply)[1]
    assert cache.startswith("actions/cache@")
    restore = cache.replace("actions/cache@", "actions/cache/restore@")
    assert uses(site) == [uses(apply)[0], restore, *uses(apply)[2:], _UPLOAD_PAGES, _DEPLOY_PAGES]
    assert all(_PINNED.match(action) for action in uses(site))
    checkout = site["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"]["fetch-depth"] == 0 and checkout["with"]["persist-credentials"] is False
    installs = [
        s["run"] for job in (apply, site) for s in job["steps"] if "pip install" in s.get("run", "")
    ]
    assert len(installs) == 2 and installs[0] == installs[1]
    (build,) = [s for s in site["steps"] if "steward site" in s.get("run", "")]
    assert build["run"].strip() == 'steward site -o "$RUNNER_TEMP/site" --rev "$AFTER"'
    assert build["env"] == {
        "AFTER": "${{ github.event.after }}",
        "GITHUB_TOKEN": "${{ github.token }}",
    }
    upload, deploy = site["steps"][-2:]
    assert upload["with"] == {"path": "${{ runner.temp }}/site"} and deploy["id"] == "deployment"
    for job in jobs.values():  # expressions reach the shell only through env:
        assert all("${{" not in step.get("run", "") for step in job["steps"])


def test_init_fills_roles_and_refuses_a_bad_login_leaving_nothing(tmp_path: Path) -> None:
    from steward.cli.main import run

    assert (
        run(
            [
                "init",
                str(tmp_path / "r"),
                "--role",
                "ml-engineer=alice,bob",
                "--role",
                "auditors=@acme/audit",
            ]
        )
        == 0
    )
    policy = (tmp_path / "r" / "policies/registry.yaml").read_text()
    assert "  ml-engineer: [alice, bob]\n" in policy and '  auditors: ["@acme/audit"]\n' in policy
    assert run(["-C", str(tmp_path / "r"), "check"]) == 0
    assert run(["init", str(tmp_path / "s"), "--role", "ml-engineer=Not A Login"]) == 2
    assert not (tmp_path / "s").exists()
