"""One request as a route handler sees it, one reply, and GitHub's conventions shared by all
handlers: error bodies and page-number pagination with `Link` headers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from tests.github_api.openapi import DEFAULT_DOCS_URL, Operation
from tests.github_api.state import Token

DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100


@dataclass
class Reply:
    status: int
    body: Any = None
    """Decoded JSON; None sends no body (204)."""
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """Raised by a handler to answer with GitHub's error body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers or {}


def error_body(
    status: int, message: str, docs_url: str = DEFAULT_DOCS_URL, errors: list[Any] | None = None
) -> dict[str, Any]:
    """GitHub's error document: `message`, `documentation_url`, and (since 2024) `status` as a
    string; `errors` only on validation failures."""
    body: dict[str, Any] = {"message": message, "documentation_url": docs_url}
    if errors is not None:
        body["errors"] = errors
    body["status"] = str(status)
    return body


DEFAULT_MESSAGES = {
    400: "Problems parsing JSON",
    401: "Bad credentials",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    422: "Validation Failed",
    429: "Too Many Requests",
    500: "Server Error",
    502: "Server Error",
    503: "Service Unavailable",
    504: "We couldn't respond to your request in time. Sorry about that. Please try resubmitting "
    "your request and contact us if the problem persists.",
}


@dataclass
class Call:
    """A request that passed authentication and matched a documented operation."""

    method: str
    path: str
    """Canonical, still percent-encoded: aliases (`/repositories/{id}/...`) already resolved."""
    operation: Operation
    params: dict[str, str]
    """Path parameters, percent-decoded."""
    query: list[tuple[str, str]]
    body: Any
    token: Token
    base_url: str

    def arg(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return default

    def body_value(self, name: str, default: Any = None) -> Any:
        """A field of the JSON body (which the request schema already checked)."""
        if isinstance(self.body, dict):
            return self.body.get(name, default)
        return default


def paginate(call: Call, items: list[Any], link_path: str | None = None) -> Reply:
    """GitHub's page-number pagination: `per_page` (default 30, at most 100) and `page` (from 1),
    a `Link` header with `prev`, `next`, `last` and `first` where they apply, each URL the request's
    own with only `page` changed. GitHub writes repository-scoped links as
    `/repositories/{id}/...`, not `/repos/{owner}/{repo}/...`: `link_path` lets a handler do the
    same, so a client that rebuilds URLs instead of following them is caught."""
    per_page = _int_arg(call.arg("per_page"), DEFAULT_PER_PAGE)
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    page = max(_int_arg(call.arg("page"), 1), 1)
    last = max((len(items) + per_page - 1) // per_page, 1)
    chunk = items[(page - 1) * per_page : page * per_page]

    def link(number: int, rel: str) -> str:
        query = [(key, value) for key, value in call.query if key != "page"]
        query.append(("page", str(number)))
        return f'<{call.base_url}{link_path or call.path}?{urlencode(query)}>; rel="{rel}"'

    links = []
    if page > 1:
        links.append(link(min(page - 1, last), "prev"))
    if page < last:
        links.append(link(page + 1, "next"))
        links.append(link(last, "last"))
    if page > 1:
        links.append(link(1, "first"))
    headers = {"Link": ", ".join(links)} if links else {}
    return Reply(200, chunk, headers)


def _int_arg(value: str | None, default: int) -> int:
    """GitHub ignores a non-numeric page or per_page and uses the default."""
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        return default
