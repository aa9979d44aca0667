"""A fake GitHub REST API for Steward's tests, held honest by GitHub's own OpenAPI description
and webhook examples (npm packages installed on demand; see `node.py`)."""

from tests.github_api.node import NodePackagesError, ensure_node_packages
from tests.github_api.server import (
    DEFAULT_LOGIN,
    DEFAULT_TOKEN,
    FakeGitHub,
    Fault,
    RecordedRequest,
    ReviewRequests,
    Violation,
)
from tests.github_api.state import PullCommit, PullFile
from tests.github_api.webhooks import example

__all__ = [
    "DEFAULT_LOGIN",
    "DEFAULT_TOKEN",
    "FakeGitHub",
    "Fault",
    "NodePackagesError",
    "PullCommit",
    "PullFile",
    "RecordedRequest",
    "ReviewRequests",
    "Violation",
    "ensure_node_packages",
    "example",
]
