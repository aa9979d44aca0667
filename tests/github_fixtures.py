"""Pytest fixtures for the fake GitHub (`tests/github_api/`).

Import them into a test module with `from tests.github_fixtures import github, github_client
# noqa: F401`, or list this module in `pytest_plugins` of a conftest.

`github` fails the test at teardown if the server recorded any violation: a response GitHub's
OpenAPI description does not allow, a request body GitHub would refuse, a route the fake does not
serve, or a crash in the fake. A test that provokes one on purpose takes it with
`github.take_violations()` and asserts on it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from github import Auth, Github

from tests.github_api import FakeGitHub


@contextlib.contextmanager
def checked_server() -> Iterator[FakeGitHub]:
    """A started fake GitHub that fails the test (`pytest.fail`) when it stops if it recorded
    any violation. The fixture is this; it is separate so that its failing can be tested."""
    server = FakeGitHub()
    with server:
        yield server
    if server.violations:
        report = "\n".join(str(violation) for violation in server.violations)
        pytest.fail(
            f"the fake GitHub recorded {len(server.violations)} violation(s):\n{report}",
            pytrace=False,
        )


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    """A started fake GitHub with one token (`github.token`, acting as `github.login`)."""
    with checked_server() as server:
        yield server


def client_for(server: FakeGitHub, token: str | None = None, per_page: int = 30) -> Github:
    """PyGithub pointed at `server`, without its built-in waiting.

    PyGithub by default sleeps 0.25 s between requests and 1 s between writes
    (`seconds_between_requests`/`_writes`) and retries rate limits by sleeping until the reset
    (`GithubRetry`); both are switched off so tests run at loopback speed and see every fault.
    """
    return Github(
        base_url=server.base_url,
        auth=Auth.Token(token or server.token),
        per_page=per_page,
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


@pytest.fixture
def github_client(github: FakeGitHub) -> Iterator[Github]:
    client = client_for(github)
    yield client
    client.close()
