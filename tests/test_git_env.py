"""The token reaches git through GIT_CONFIG_* variables, composed with what is already there."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from steward.gitio.gitcmd import token_env


def _config(env: dict[str, str], tmp_path: Path, key: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(tmp_path), "config", "--get-all", key],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip()


def test_entries_a_runner_set_are_kept_and_the_token_is_appended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CONFIG_COUNT", "2")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "core.autocrlf")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "input")
    monkeypatch.setenv("GIT_CONFIG_KEY_1", "safe.directory")
    monkeypatch.setenv("GIT_CONFIG_VALUE_1", "*")
    env = token_env("s3cret")
    assert env["GIT_CONFIG_COUNT"] == "3"
    assert (env["GIT_CONFIG_KEY_0"], env["GIT_CONFIG_VALUE_0"]) == ("core.autocrlf", "input")
    assert env["GIT_CONFIG_KEY_2"] == "http.extraHeader"
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert _config(env, tmp_path, "core.autocrlf") == "input"
    assert _config(env, tmp_path, "safe.directory") == "*"
    assert _config(env, tmp_path, "http.extraHeader").startswith("AUTHORIZATION: basic ")


def test_without_entries_the_token_is_the_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GIT_CONFIG_COUNT", raising=False)
    env = token_env("s3cret")
    assert (env["GIT_CONFIG_COUNT"], env["GIT_CONFIG_KEY_0"]) == ("1", "http.extraHeader")
    assert "s3cret" not in " ".join(env.values())  # only its base64 form, in the header
    assert token_env(None) == dict(os.environ)  # no token: nothing added
