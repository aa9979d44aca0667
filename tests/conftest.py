"""Test isolation: a private HOME and git/DVC config per session, no network beyond loopback."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The fake GitHub's fixtures (`github`, `github_client`) for every test module.
pytest_plugins = ["tests.github_fixtures"]

_FIGURES: list[str] = []


@pytest.fixture(scope="session", autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    home = tmp_path_factory.mktemp("home")
    patch = pytest.MonkeyPatch()
    patch.setenv("HOME", str(home))
    patch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    patch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    patch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    patch.setenv("GIT_AUTHOR_NAME", "Test Author")
    patch.setenv("GIT_AUTHOR_EMAIL", "author@example.com")
    patch.setenv("GIT_COMMITTER_NAME", "Test Committer")
    patch.setenv("GIT_COMMITTER_EMAIL", "committer@example.com")
    patch.setenv("DVC_NO_ANALYTICS", "1")
    patch.setenv("DVC_GLOBAL_CONFIG_DIR", str(home / "dvc-global"))
    patch.setenv("DVC_SYSTEM_CONFIG_DIR", str(home / "dvc-system"))
    patch.setenv("DVC_SITE_CACHE_DIR", str(home / "dvc-site-cache"))
    patch.delenv("STEWARD_TRACEBACK", raising=False)
    patch.delenv("GITHUB_ACTIONS", raising=False)
    for name in ("STEWARD_FORGE", "STEWARD_REPOSITORY", "STEWARD_FAULT", "STEWARD_PUSH_TIMEOUT"):
        patch.delenv(name, raising=False)
    (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n")
    yield
    patch.undo()


@pytest.fixture(params=["steward", "dvc"])
def stores(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Which writes a registration's cache and remote: Steward itself (plain local directories,
    `steward.artifacts.local_stores`) or DVC, which Steward leaves them to wherever a DVC
    configuration outside the repository exists (here an empty global one)."""
    if request.param == "dvc":
        from tests.dvc_registry import through_dvc

        through_dvc(monkeypatch, tmp_path / "dvc-global-config")
    return str(request.param)


_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else address
    if self.family in (socket.AF_INET, socket.AF_INET6) and host not in (
        "127.0.0.1",
        "::1",
        "localhost",
    ):
        raise RuntimeError(f"a test tried to reach {address!r}: tests stay on loopback")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


@pytest.fixture
def figure() -> Any:
    """Record a measured figure; it is printed in the test log's summary, never asserted."""

    def record(text: str) -> None:
        _FIGURES.append(text)

    return record


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _FIGURES:
        terminalreporter.section("measured figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout
