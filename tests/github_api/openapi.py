"""GitHub's REST API description (`@octokit/openapi`) as a response and request checker.

The fake server in `server.py` is only worth trusting if every response it sends is one GitHub
could send; this module answers "is it?" from GitHub's own dereferenced OpenAPI 3.0 description
(`api.github.com.deref.json`, ~70 MB, no `$ref`s). It is loaded once per process, on first use,
and each (operation, status) schema is converted to JSON Schema and compiled once.

What the checks can catch: a missing required field, a wrong type, `null` where GitHub never
sends one, a value outside an enum, a relative URL or a malformed timestamp where the description
says `uri` / `date-time`, a status code GitHub does not document for that operation, a route
that does not exist. What they cannot: GitHub's descriptions allow additional properties, so an
extra field passes, and they say nothing about the relations between objects (that a review's
`commit_id` is a real commit) -- the server's state model is responsible for those.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from tests.github_api.node import ensure_node_packages, node_modules

SPEC_RELATIVE_PATH = "@octokit/openapi/generated/api.github.com.deref.json"

DEFAULT_DOCS_URL = "https://docs.github.com/rest"

UNIVERSAL_ERROR_STATUSES = frozenset({400, 401, 403, 404, 422, 429, 500, 502, 503, 504})
"""Error statuses GitHub can answer on any operation whether or not the description lists them
for it: bad or missing credentials (401), permissions and rate limits (403, 429), a resource the
token cannot see (404), validation (422), outages (5xx). They must carry GitHub's error body."""

GITHUB_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["message", "documentation_url"],
    "properties": {
        "message": {"type": "string"},
        "documentation_url": {"type": "string"},
        "url": {"type": "string"},
        "status": {"type": "string"},
        "errors": {"type": "array"},
    },
}
"""The body of an error response where the description lists none: GitHub's "Basic Error", with
`message` and `documentation_url` required because GitHub always sends both (and PyGithub reads
`message` to classify rate limits)."""

_DROPPED_KEYWORDS = frozenset(
    {"nullable", "readOnly", "writeOnly", "example", "examples", "deprecated", "description"}
    | {"title", "discriminator", "xml", "externalDocs"}
)
_SUBSCHEMA_LISTS = ("oneOf", "anyOf", "allOf")
_SUBSCHEMA_SINGLE = ("items", "not", "additionalProperties")
_MAX_REPORTED_ERRORS = 5


# -- the description ---------------------------------------------------------------------------


load_seconds: float | None = None
"""How long parsing the description took in this process, for the test log."""


@functools.cache
def load_spec() -> dict[str, Any]:
    """The dereferenced description, parsed once per process (about 0.6 s)."""
    global load_seconds
    ensure_node_packages()
    started = time.perf_counter()
    with (node_modules() / SPEC_RELATIVE_PATH).open("rb") as handle:
        spec: dict[str, Any] = json.load(handle)
    load_seconds = time.perf_counter() - started
    return spec


@dataclass(frozen=True)
class Operation:
    """One documented method on one path template."""

    method: str
    template: str
    operation_id: str
    docs_url: str
    """GitHub's documentation page, which its error bodies carry as `documentation_url`."""
    responses: dict[str, Any] = field(repr=False, compare=False)
    request_body: dict[str, Any] | None = field(repr=False, compare=False)
    literal_segments: tuple[bool, ...] = field(repr=False, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.template)


SLASHED_PARAMETERS = frozenset({"branch", "ref", "path", "basehead"})
"""Parameters whose values may contain `/` (git ref names, file paths): PyGithub does not escape
the slash in a branch name. Any other parameter stays inside one segment, or `/repos/{owner}/{repo}`
would swallow every longer repository path."""


def _template_regex(template: str, *, loose: bool) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    pattern = ""
    for part in parts:
        if part.startswith("{"):
            name = part[1:-1]
            value = r".+?" if loose and name in SLASHED_PARAMETERS else r"[^/]+"
            pattern += f"(?P<{name.replace('-', '_')}>{value})"
        else:
            pattern += re.escape(part)
    return re.compile(pattern + r"\Z")


@dataclass(frozen=True)
class _Route:
    operation: Operation
    strict: re.Pattern[str]
    """Parameters match within one path segment: the usual case."""
    loose: re.Pattern[str]
    """`SLASHED_PARAMETERS` may span segments: a branch `feature/x` in `/branches/{branch}`."""


@functools.cache
def _routes() -> dict[str, list[_Route]]:
    """Every documented operation, by method."""
    routes: dict[str, list[_Route]] = {}
    for template, item in load_spec()["paths"].items():
        segments = tuple("{" not in segment for segment in template.strip("/").split("/"))
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            body = op.get("requestBody")
            operation = Operation(
                method=method.upper(),
                template=template,
                operation_id=op.get("operationId", ""),
                docs_url=(op.get("externalDocs") or {}).get("url", DEFAULT_DOCS_URL),
                responses=op["responses"],
                request_body=body if isinstance(body, dict) else None,
                literal_segments=segments,
            )
            routes.setdefault(operation.method, []).append(
                _Route(
                    operation,
                    strict=_template_regex(template, loose=False),
                    loose=_template_regex(template, loose=True),
                )
            )
    return routes


@functools.lru_cache(maxsize=4096)
def find_operation(method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
    """The documented operation a concrete (percent-decoded) path belongs to, and its parameters."""
    candidates = _routes().get(method.upper(), [])
    for attribute in ("strict", "loose"):
        best: tuple[Operation, dict[str, str]] | None = None
        for route in candidates:
            match = getattr(route, attribute).match(path)
            if match is None:
                continue
            if best is None or _more_specific(route.operation, best[0]):
                best = (route.operation, match.groupdict())
        if best is not None:
            return best
    return None


def _more_specific(candidate: Operation, incumbent: Operation) -> bool:
    """More literal segments win, then literals further left: `/repos/{owner}/{repo}/pulls/comments`
    beats `/repos/{owner}/{repo}/pulls/{pull_number}` for `/repos/o/r/pulls/comments`."""

    def rank(operation: Operation) -> tuple[int, tuple[bool, ...]]:
        literal_count = sum(operation.literal_segments)
        return (literal_count, operation.literal_segments)

    return rank(candidate) > rank(incumbent)


# -- OpenAPI 3.0 schema -> JSON Schema 2020-12 ---------------------------------------------------


def to_json_schema(schema: Any, *, request: bool = False) -> Any:
    """Convert one OpenAPI 3.0 schema object (recursively) to JSON Schema.

    The description is OpenAPI 3.0.3: `nullable: true` becomes a type union with "null" (and a
    `null` enum member; around a bare `allOf`/`oneOf`/`anyOf`, an `anyOf` with `{"type": "null"}`);
    annotations that JSON Schema would misread or that only cost time (`readOnly`, `example`,
    `x-*`, ...) are dropped. Only schema positions are walked, so an example value that happens to
    contain a key named `type` is never rewritten.

    `request=True` also lets every optional property be null: GitHub reads an explicit null in a
    request as "not given", and PyGithub relies on it (branch protection sends
    `"allow_deletions": null` for every flag left unset). And a deprecated property is never
    required of a request: the description still lists branch protection's `contexts` as required
    while telling clients to send `checks` instead, which is what PyGithub does.
    """
    if not isinstance(schema, dict):
        return schema
    converted: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DROPPED_KEYWORDS or key.startswith("x-"):
            continue
        if key in ("properties", "patternProperties"):
            required = set(schema.get("required") or ()) if key == "properties" else set()
            converted[key] = {
                name: _optional_null(to_json_schema(sub, request=request))
                if request and name not in required
                else to_json_schema(sub, request=request)
                for name, sub in value.items()
            }
        elif key in _SUBSCHEMA_LISTS:
            converted[key] = [to_json_schema(sub, request=request) for sub in value]
        elif key in _SUBSCHEMA_SINGLE:
            converted[key] = to_json_schema(value, request=request)
        elif key == "required" and request:
            properties = schema.get("properties") or {}
            converted[key] = [
                name for name in value if not (properties.get(name) or {}).get("deprecated")
            ]
        else:
            converted[key] = value
    if schema.get("nullable") is True:
        converted = _allow_null(converted)
    return converted


def _optional_null(schema: Any) -> Any:
    return _allow_null(schema) if isinstance(schema, dict) else schema


def _allow_null(schema: dict[str, Any]) -> dict[str, Any]:
    if "type" in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        schema["type"] = [*kinds, "null"] if "null" not in kinds else kinds
        if "enum" in schema and None not in schema["enum"]:
            schema["enum"] = [*schema["enum"], None]
        return schema
    if any(key in schema for key in _SUBSCHEMA_LISTS):
        return {"anyOf": [{"type": "null"}, schema]}
    return schema  # no type at all: anything, null included


# -- formats -------------------------------------------------------------------------------------

FORMAT_CHECKER = FormatChecker(formats=())
"""Only the formats that matter to a client: PyGithub follows `uri` fields (a relative or foreign
URL breaks it) and parses `date-time` fields. jsonschema's own date-time check needs an optional
package, so both are spelled out here."""

_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z",
)


@FORMAT_CHECKER.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    return True


@FORMAT_CHECKER.checks("uri")
def _is_absolute_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    if not parts.scheme:
        return False
    return bool(parts.netloc) if parts.scheme in ("http", "https") else True


@FORMAT_CHECKER.checks("email")
def _is_email(value: object) -> bool:
    return not isinstance(value, str) or "@" in value


# -- validation ----------------------------------------------------------------------------------


def _compile(schema: dict[str, Any], *, request: bool = False) -> Draft202012Validator:
    return Draft202012Validator(
        to_json_schema(schema, request=request), format_checker=FORMAT_CHECKER
    )


_ERROR_VALIDATOR = Draft202012Validator(GITHUB_ERROR_SCHEMA, format_checker=FORMAT_CHECKER)


@dataclass(frozen=True)
class ResponseRule:
    """What the description allows for one (operation, status)."""

    validator: Draft202012Validator | None
    """None: the response has no body."""
    source: str
    """Where the rule comes from, for messages: `200`, `default`, or `GitHub error`."""


@functools.lru_cache(maxsize=2048)
def response_rule(method: str, template: str, status: int) -> ResponseRule | None:
    """The compiled rule for a documented status (falling back to `default`, then to GitHub's
    generic error body for statuses any endpoint can answer); None if GitHub never sends it."""
    operation = _operation(method, template)
    responses = operation.responses
    key = str(status)
    if key not in responses and "default" in responses and status not in UNIVERSAL_ERROR_STATUSES:
        key = "default"
    if key in responses:
        content = responses[key].get("content") or {}
        media = content.get("application/json") or next(iter(content.values()), None)
        if media is not None and "schema" in media:
            return ResponseRule(_compile(media["schema"]), key)
        if status >= 400:
            return ResponseRule(_ERROR_VALIDATOR, f"{key} (GitHub error)")
        return ResponseRule(None, key)
    if status in UNIVERSAL_ERROR_STATUSES:
        return ResponseRule(_ERROR_VALIDATOR, "GitHub error")
    return None


@functools.lru_cache(maxsize=1024)
def request_validator(method: str, template: str) -> Draft202012Validator | None:
    body = _operation(method, template).request_body
    if body is None:
        return None
    media = (body.get("content") or {}).get("application/json")
    if media is None or "schema" not in media:
        return None
    return _compile(media["schema"], request=True)


@functools.cache
def _operations() -> dict[tuple[str, str], Operation]:
    return {
        route.operation.key: route.operation
        for candidates in _routes().values()
        for route in candidates
    }


def _operation(method: str, template: str) -> Operation:
    return _operations()[(method, template)]


def _render_errors(errors: Iterator[ValidationError]) -> list[str]:
    rendered = []
    for count, error in enumerate(sorted(errors, key=lambda e: list(e.absolute_path)), 1):
        if count > _MAX_REPORTED_ERRORS:
            rendered.append("... (more errors)")
            break
        message = error.message if len(error.message) < 300 else error.message[:300] + "..."
        rendered.append(f"{error.json_path}: {message}")
    return rendered


def check_response(method: str, path: str, status: int, body: Any) -> list[str]:
    """Problems with a response GitHub would send for `method path`, one line each; [] if none.

    `body` is the decoded JSON (None for an empty body). A path that matches no documented route
    may only be answered with GitHub's 404 error (or 401: credentials are checked first).
    """
    found = find_operation(method, path)
    if found is None:
        if status in (401, 404):
            return _render_errors(_ERROR_VALIDATOR.iter_errors(body))
        return [f"{method} {path}: no such operation in GitHub's REST API description"]
    operation, _ = found
    rule = response_rule(operation.method, operation.template, status)
    where = f"{operation.method} {operation.template} ({operation.operation_id})"
    if rule is None:
        documented = ", ".join(operation.responses)
        return [f"{where}: status {status} is not documented (documented: {documented})"]
    if rule.validator is None:
        if body is not None:
            return [f"{where} -> {status}: GitHub sends no body here"]
        return []
    if body is None:
        return [f"{where} -> {status}: a body is documented, none was sent"]
    return [
        f"{where} -> {rule.source}: {line}"
        for line in _render_errors(rule.validator.iter_errors(body))
    ]


def check_request(operation: Operation, body: Any) -> list[str]:
    """Problems with a request body for `operation`, one line each; [] if none. GitHub answers
    such a request with 422, so a client that sends one has a bug the tests should see."""
    validator = request_validator(operation.method, operation.template)
    if validator is None:
        return []
    assert operation.request_body is not None
    if body is None:
        return ["a request body is required"] if operation.request_body.get("required") else []
    return _render_errors(validator.iter_errors(body))
