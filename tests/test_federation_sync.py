"""`steward federation sync` and the federation file: each registry fetched into a local mirror,
incrementally; a registry that cannot be fetched is named and makes the exit code 1; a malformed
federation file is an error naming the file and the field."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from steward.cli import main
from steward.federation import mirror
from steward.federation.spec import FederationError, load_federation
from tests.builders import add_version, run_git, write
from tests.federation_setup import central, commit_and_push, fraud_and_risk


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main.run(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def objects(repo: Path) -> dict[str, str]:
    """`git count-objects -v` as a dict: loose and packed counts, the packs' sizes."""
    out = run_git(repo, "count-objects", "-v")
    return dict(line.split(": ", 1) for line in out.splitlines())


def refs(repo: Path) -> str:
    return run_git(repo, "for-each-ref", "--format=%(refname) %(objectname)")


@pytest.fixture
def federation_file(tmp_path: Path) -> Path:
    fraud, risk = fraud_and_risk(tmp_path / "teams")
    return central(tmp_path, [("fraud", str(fraud.origin)), ("risk", str(risk.origin))])


def test_sync_mirrors_each_registry_inside_the_central_repos_git_dir(
    federation_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "federation", "sync", str(federation_file))
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == ["fraud", "risk"]
    assert all("fetched (new) -> " in line for line in lines)
    mirrors = federation_file.parent / ".git" / "steward" / "federation"
    assert sorted(p.name for p in mirrors.iterdir()) == ["fraud.git", "risk.git"]
    # Only the branch: no tags, no other refs; the central repository's status stays clean.
    assert refs(mirrors / "fraud.git").split()[0] == "refs/heads/main"
    assert run_git(federation_file.parent, "status", "--porcelain") == ""

    code, out, _ = run(capsys, "federation", "sync", str(federation_file))
    assert code == 0
    assert all("up to date" in line for line in out.splitlines())


def test_sync_after_one_new_version_fetches_only_that_registry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fraud, risk = fraud_and_risk(tmp_path / "teams")
    path = central(tmp_path, [("fraud", str(fraud.origin)), ("risk", str(risk.origin))])
    assert run(capsys, "federation", "sync", str(path))[0] == 0
    mirrors = mirror.mirrors_dir(load_federation(path))
    before = {name: (refs(mirrors / f"{name}.git"), objects(mirrors / f"{name}.git"))
              for name in ("fraud", "risk")}  # fmt: skip

    add_version(risk.work, "credit", "2.2.0")
    commit_and_push(risk, "risk: credit 2.2.0")
    code, out, _ = run(capsys, "federation", "sync", str(path), "--json")
    assert code == 0
    status = {item["registry"]: item for item in json.loads(out)["registries"]}
    assert status["fraud"]["status"] == "up to date"
    assert status["risk"]["status"] == "fetched"
    assert status["risk"]["new"] == run_git(risk.origin, "rev-parse", "main").strip()
    # fraud's mirror received nothing: the same refs, the same objects.
    assert (refs(mirrors / "fraud.git"), objects(mirrors / "fraud.git")) == before["fraud"]
    assert objects(mirrors / "risk.git") != before["risk"][1]


def test_an_unreachable_registry_is_named_and_the_others_still_sync(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fraud, _ = fraud_and_risk(tmp_path / "teams")
    path = central(tmp_path, [("fraud", str(fraud.origin)), ("gone", "../nowhere.git")])
    code, out, _ = run(capsys, "federation", "sync", str(path))
    assert code == 1
    assert "fraud  main  fetched" in out
    gone = next(line for line in out.splitlines() if line.startswith("gone"))
    assert "FAILED" in gone and "nowhere.git" in gone  # git's reason, the path it tried


def test_a_sync_counts_one_fetch_per_registry_and_never_prompts(
    federation_file: Path,
) -> None:
    calls: list[tuple[list[str], dict[str, str]]] = []

    def counting(
        args: list[str], env: dict[str, str], timeout: float
    ) -> subprocess.CompletedProcess[bytes]:
        calls.append((args, env))
        return subprocess.run(args, env=env, capture_output=True, timeout=timeout, check=False)

    results = mirror.sync(load_federation(federation_file), runner=counting)
    assert [r.status for r in results] == ["fetched", "fetched"]
    assert len(calls) == 2
    for args, env in calls:
        assert env["GIT_TERMINAL_PROMPT"] == "0"
        assert args[-1] == "+refs/heads/main:refs/heads/main"
        assert "--no-tags" in args


def test_a_fetch_that_hangs_fails_after_the_timeout(federation_file: Path) -> None:
    def hanging(
        args: list[str], env: dict[str, str], timeout: float
    ) -> subprocess.CompletedProcess[bytes]:
        raise subprocess.TimeoutExpired(args, timeout)

    results = mirror.sync(load_federation(federation_file), runner=hanging)
    assert [r.status for r in results] == ["failed", "failed"]
    assert all(r.reason is not None and "no answer within" in r.reason for r in results)


def test_a_sync_killed_mid_fetch_is_finished_by_the_next_one(
    federation_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A kill -9 of git in the middle of its fetch: what it left (an initialised mirror, maybe
    a temporary pack) needs no repair; the next sync fetches."""
    federation = load_federation(federation_file)

    def killed(
        args: list[str], env: dict[str, str], timeout: float
    ) -> subprocess.CompletedProcess[bytes]:
        process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        process.kill()
        _, err = process.communicate()
        return subprocess.CompletedProcess(args, process.returncode, b"", err)

    assert all(r.failed for r in mirror.sync(federation, runner=killed))
    code, out, _ = run(capsys, "federation", "sync", str(federation_file))
    assert code == 0, out
    assert all(" fetched (new) -> " in line for line in out.splitlines())


def test_mirrors_beside_a_federation_file_outside_any_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fraud_and_risk(tmp_path / "teams")
    outside = tmp_path / "plain"
    # A relative path resolves against the file's directory, not the process's.
    path = write(outside, "fed.yaml", "registries:\n  - {name: fraud, url: ../teams/fraud.git}\n")
    assert run(capsys, "federation", "sync", str(path))[0] == 0
    assert (outside / ".steward-federation" / ".gitignore").read_text() == "*\n"
    assert (outside / ".steward-federation" / "fraud.git" / "HEAD").is_file()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("registries: []\n", "registries: "),
        ("registries:\n  - {name: a, url: x, colour: red}\n", "registries[0].colour"),
        ("registries:\n  - {name: ../a, url: x}\n", "registries[0].name: '../a' is not a registry"),
        ("registries:\n  - {name: a, url: x}\n  - {name: a, url: y}\n", "used twice"),
        ("registries:\n  - {name: a, url: x, branch: --upload-pack=x}\n", "not a branch name"),
        ("registries:\n  - {name: a}\n", "registries[0].url"),
        ("registries:\n  - {name: a, url: x}\nregistries: []\n", "duplicate"),
        ("- a\n", "expected a mapping"),
    ],
)
def test_a_malformed_federation_file_names_the_file_and_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    path = write(tmp_path, "federation.yaml", text)
    with pytest.raises(FederationError) as caught:
        load_federation(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)
    code, _, err = run(capsys, "federation", "sync", str(path))
    assert code == 1
    assert message in err


@pytest.mark.parametrize(
    "text",
    [
        "registries:\n  - {name: a, url: x}\n",
        "registries:\n  - {name: a, url: x, branch: release/2}\n  - {name: b.c, url: ../b}\n",
        "registries: []\n",
        "registries:\n  - {name: a, url: ''}\n",
        "registries:\n  - {name: a, url: x, branch: ''}\n",
        "registries:\n  - {name: a, url: x, branch: a..b}\n",
        "registries:\n  - {name: A, url: x}\n",
        "registries:\n  - {name: a, url: 3}\n",
        "registries:\n  - {name: a, url: x}\n  - {name: a, url: x}\n",
        "registries:\n  - {name: a, url: x}\nextra: 1\n",
        "registries:\n  - [a, x]\n",
        "registries: {name: a, url: x}\n",
    ],
)
def test_a_file_read_without_the_model_is_read_as_the_model_reads_it(text: str) -> None:
    """The fast reading of a well-formed file (no pydantic at start-up) never accepts what the
    strict model refuses, and reads what it accepts the same way."""
    from steward.entries.yamlio import loads

    data = loads(text.encode(), "federation.yaml").data
    _same_reading(data)


def test_a_url_that_is_no_utf8_is_left_to_the_model_to_refuse() -> None:
    # A lone surrogate: libyaml refuses its escape, PyYAML's Python loader lets it through.
    _same_reading({"registries": [{"name": "a", "url": "https://h/x\ud800"}]})


def _same_reading(data: object) -> None:
    from pydantic import ValidationError

    from steward.federation.spec import _well_formed
    from steward.federation.spec_model import FederationFile

    assert isinstance(data, dict)
    fast = _well_formed(data)
    try:
        model = FederationFile.model_validate(data)
    except ValidationError:
        assert fast is None
    else:
        assert fast == [(item.name, item.url, item.branch) for item in model.registries]


def test_a_missing_federation_file_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "-C", str(tmp_path), "federation", "sync")
    assert code == 1
    assert f"{tmp_path}/federation.yaml: no such federation file" in err


def test_list_across_registries_names_each_rows_registry(
    federation_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "federation", "sync", str(federation_file))[0] == 0
    code, out, _ = run(capsys, "list", "--federation", str(federation_file), "--json")
    assert code == 0
    found: dict[str, Any] = json.loads(out)
    assert [(r["registry"], r["model"], r["version"]) for r in found["versions"]] == [
        ("fraud", "fraud", "1.0.0"),
        ("fraud", "fraud", "1.1.0"),
        ("risk", "credit", "2.0.0"),
        ("risk", "credit", "2.1.0"),
    ]
    assert found["unavailable"] == [] and found["problems"] == []
    assert [r["name"] for r in found["registries"]] == ["fraud", "risk"]
    # Warm: the same answer from the mirrors' caches.
    assert run(capsys, "list", "--federation", str(federation_file), "--json")[1] == out

    code, out, _ = run(
        capsys, "list", "--federation", str(federation_file), "--stage", "production"
    )
    assert code == 0
    rows = [line.split()[:4] for line in out.splitlines()[1:3]]
    assert rows == [
        ["fraud", "fraud", "1.0.0", "production"],
        ["risk", "credit", "2.0.0", "production"],
    ]
    assert out.split()[:2] == ["REGISTRY", "MODEL"]
    filtered = json.loads(
        run(capsys, "list", "--federation", str(federation_file), "--owner", "RICK", "--json")[1]
    )
    assert [(r["registry"], r["version"]) for r in filtered["versions"]] == [
        ("risk", "2.0.0"),
        ("risk", "2.1.0"),
    ]


def test_list_names_a_registry_never_synced_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fraud, risk = fraud_and_risk(tmp_path / "teams")
    path = central(tmp_path, [("fraud", str(fraud.origin)), ("risk", str(risk.origin))])
    assert mirror.sync(load_federation(path), names=["fraud"])[0].status == "fetched"
    code, out, err = run(capsys, "list", "--federation", str(path), "--json")
    assert code == 1
    found = json.loads(out)
    assert [r["registry"] for r in found["versions"]] == ["fraud", "fraud"]
    assert found["unavailable"][0]["registry"] == "risk"
    assert "never synced" in found["unavailable"][0]["reason"]
    assert "registry risk UNAVAILABLE: never synced" in err


# --- found by review: a mirror is only read as the registry the file names ---------------------


def test_a_mirror_fetched_from_another_url_is_never_read_as_this_registry(
    federation_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another federation file in the same repository reusing a name (or a URL edited without a
    sync) must not put one registry's rows under another's name."""
    assert run(capsys, "federation", "sync", str(federation_file))[0] == 0
    risk = tmp_path / "teams" / "risk.git"
    other = write(
        federation_file.parent, "other.yaml", f"registries:\n  - name: fraud\n    url: {risk}\n"
    )
    assert run(capsys, "federation", "sync", str(other))[0] == 0  # fraud.git now holds risk
    code, out, err = run(capsys, "list", "--federation", str(federation_file), "--json")
    assert code == 1
    found = json.loads(out)
    assert {r["registry"] for r in found["versions"]} == {"risk"}  # no rows named fraud
    (gap,) = found["unavailable"]
    assert gap["registry"] == "fraud" and str(risk) in gap["reason"]
    assert "registry fraud UNAVAILABLE" in err
    assert run(capsys, "federation", "sync", str(federation_file))[0] == 0
    assert run(capsys, "list", "--federation", str(federation_file), "--json")[0] == 0


def test_a_sync_never_writes_into_the_repository_git_dir_names(
    federation_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = tmp_path / "victim"
    run_git(tmp_path, "init", "-q", "-b", "main", str(victim))
    run_git(victim, "commit", "-q", "--allow-empty", "-m", "mine")
    before = refs(victim)
    monkeypatch.setenv("GIT_DIR", str(victim / ".git"))
    results = mirror.sync(load_federation(federation_file))
    monkeypatch.delenv("GIT_DIR", raising=False)  # the sync dropped it from the process
    assert [r.status for r in results] == ["fetched", "fetched"]
    assert refs(victim) == before
    mirrors = federation_file.parent / ".git" / "steward" / "federation"
    assert sorted(p.name for p in mirrors.iterdir()) == ["fraud.git", "risk.git"]


def test_a_sync_that_cannot_record_itself_leaves_the_mirror_stale_not_current(
    federation_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A full disk after the fetch: the record of a finished sync cannot be written, so answers
    name the registry stale (its record was removed when the sync started)."""
    assert run(capsys, "federation", "sync", str(federation_file))[0] == 0
    fraud_mirror = federation_file.parent / ".git/steward/federation/fraud.git"
    (fraud_mirror / f".{mirror.SYNCED_FILE}.tmp").mkdir()  # the write fails as on a full disk
    code, out, _ = run(capsys, "federation", "sync", str(federation_file))
    assert code == 1 and "fraud  main  FAILED: cannot record the sync" in out
    code, out, err = run(capsys, "list", "--federation", str(federation_file), "--json")
    assert code == 1
    assert "registry fraud STALE" in err
    (fraud_mirror / f".{mirror.SYNCED_FILE}.tmp").rmdir()
    assert run(capsys, "federation", "sync", str(federation_file))[0] == 0
    assert run(capsys, "list", "--federation", str(federation_file))[0] == 0


def test_a_lock_a_killed_fetch_left_is_removed_by_the_next_sync(
    federation_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "federation", "sync", str(federation_file))[0] == 0
    lock = federation_file.parent / ".git/steward/federation/fraud.git/refs/heads/main.lock"
    lock.write_text("")
    old = 1_000_000_000
    os.utime(lock, (old, old))
    code, out, _ = run(capsys, "federation", "sync", str(federation_file))
    assert code == 0, out
    assert not lock.exists()


def test_an_scp_style_url_without_a_user_is_a_remote_not_a_path(tmp_path: Path) -> None:
    path = write(tmp_path, "f.yaml", "registries:\n  - name: a\n    url: myhost:org/reg.git\n")
    assert load_federation(path).members[0].fetch_url == "myhost:org/reg.git"


def test_a_federated_list_refuses_a_model_name_that_is_no_name(
    federation_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "list", "--federation", str(federation_file), "--model", "BAD NAME")
    assert code == 2 and "is not a model name" in err
