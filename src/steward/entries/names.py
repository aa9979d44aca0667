"""The string types of the registry: names, versions, logins, hashes and paths.

Each type checks with a full match (Python's `$` would let a trailing newline through), says what is
wrong in words a user can act on, and exports the same pattern to JSON Schema for editors.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

NAME_PATTERN = r"[a-z0-9][a-z0-9._-]{0,63}"
_SEMVER_ID = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
VERSION_PATTERN = (
    r"(?:0|[1-9][0-9]{0,8})\.(?:0|[1-9][0-9]{0,8})\.(?:0|[1-9][0-9]{0,8})"
    rf"(?:-{_SEMVER_ID}(?:\.{_SEMVER_ID}){{0,7}})?"
)
LOGIN_PATTERN = r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}(?:\[bot\])?"
TEAM_PATTERN = r"@[A-Za-z0-9][A-Za-z0-9-]{0,38}/[a-z0-9][a-z0-9._-]{0,99}"
METRIC_PATTERN = r"[A-Za-z0-9_][A-Za-z0-9_.:/@-]{0,127}"
MD5_PATTERN = r"[0-9a-f]{32}(?:\.dir)?"
SHA256_PATTERN = r"[0-9a-f]{64}"
COMMIT_PATTERN = r"[0-9a-f]{7,64}"
OBJECT_ID_PATTERN = r"[0-9a-f]{40}(?:[0-9a-f]{24})?"

_MAX_VERSION_LENGTH = 64


def _checker(
    pattern: str, code: str, message: str, max_length: int | None = None
) -> Callable[[str], str]:
    compiled = re.compile(pattern, re.ASCII)

    def check(value: str) -> str:
        too_long = max_length is not None and len(value) > max_length
        if too_long or not compiled.fullmatch(value):
            raise PydanticCustomError(code, message, {"value": value})
        return value

    return check


Name = Annotated[
    str,
    AfterValidator(
        _checker(
            NAME_PATTERN,
            "name",
            "'{value}' is not a valid name: use 1 to 64 lowercase letters, digits, '.', '_' "
            "or '-', "
            "starting with a letter or digit",
        )
    ),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": f"^{NAME_PATTERN}$",
            "description": "lowercase letters, digits, '.', '_', '-'; 1 to 64 characters",
        }
    ),
]

Version = Annotated[
    str,
    AfterValidator(
        _checker(
            VERSION_PATTERN,
            "version",
            "'{value}' is not a semantic version: write MAJOR.MINOR.PATCH such as 1.3.0, "
            "optionally with a pre-release such as 2.0.0-rc.1",
            _MAX_VERSION_LENGTH,
        )
    ),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": f"^{VERSION_PATTERN}$",
            "maxLength": _MAX_VERSION_LENGTH,
            "description": "semantic version MAJOR.MINOR.PATCH[-PRERELEASE], always a string",
        }
    ),
]

Login = Annotated[
    str,
    AfterValidator(_checker(LOGIN_PATTERN, "login", "'{value}' is not a valid GitHub login")),
    WithJsonSchema(
        {"type": "string", "pattern": f"^{LOGIN_PATTERN}$", "description": "a GitHub login"}
    ),
]

_PRINCIPAL_PATTERN = f"(?:{LOGIN_PATTERN}|{TEAM_PATTERN})"
Principal = Annotated[
    str,
    AfterValidator(
        _checker(
            _PRINCIPAL_PATTERN,
            "principal",
            "'{value}' is neither a GitHub login nor a team written as @org/team-slug",
        )
    ),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": f"^{_PRINCIPAL_PATTERN}$",
            "description": "a GitHub login, or a team as @org/team-slug",
        }
    ),
]

MetricName = Annotated[
    str,
    AfterValidator(
        _checker(
            METRIC_PATTERN,
            "metric_name",
            "'{value}' is not a valid metric name: use letters, digits and _ . : / @ -",
        )
    ),
    WithJsonSchema({"type": "string", "pattern": f"^{METRIC_PATTERN}$"}),
]

Md5 = Annotated[
    str,
    AfterValidator(
        _checker(
            MD5_PATTERN,
            "md5",
            "'{value}' is not a DVC md5: 32 lowercase hex digits, with '.dir' for a directory",
        )
    ),
    WithJsonSchema({"type": "string", "pattern": f"^{MD5_PATTERN}$"}),
]

Sha256 = Annotated[
    str,
    AfterValidator(
        _checker(SHA256_PATTERN, "sha256", "'{value}' is not a sha256: 64 lowercase hex digits")
    ),
    WithJsonSchema({"type": "string", "pattern": f"^{SHA256_PATTERN}$"}),
]

CommitId = Annotated[
    str,
    AfterValidator(
        _checker(
            COMMIT_PATTERN,
            "commit",
            "'{value}' is not a git commit id: 7 to 64 lowercase hex digits",
        )
    ),
    WithJsonSchema({"type": "string", "pattern": f"^{COMMIT_PATTERN}$"}),
]

ObjectId = Annotated[
    str,
    AfterValidator(
        _checker(
            OBJECT_ID_PATTERN,
            "object_id",
            "'{value}' is not a full git object id: 40 (or 64) lowercase hex digits, never "
            "abbreviated, so that it names one object",
        )
    ),
    WithJsonSchema({"type": "string", "pattern": f"^{OBJECT_ID_PATTERN}$"}),
]

_MAX_PATH = 1024
_MAX_SEGMENT = 255
_NOT_PORTABLE = frozenset('<>:"|?*')
_WINDOWS_DEVICES = frozenset(
    {
        "con",
        "prn",
        "aux",
        "nul",
        *(f"com{i}" for i in range(1, 10)),
        *(f"lpt{i}" for i in range(1, 10)),
    }
)


def _segment_problem(segment: str) -> str | None:
    if segment in ("", ".", ".."):
        return f"has a '{segment}' segment" if segment else "has an empty segment"
    if len(segment) > _MAX_SEGMENT:
        return f"has a segment longer than {_MAX_SEGMENT} characters"
    if segment.endswith((".", " ")):
        return f"has a segment '{segment}' ending in a dot or space, which Windows drops"
    if segment.split(".", 1)[0].casefold() in _WINDOWS_DEVICES:
        return f"has a segment '{segment}' that names a Windows device"
    return None


def path_identity(path: str) -> str:
    """What two paths share when they are one file somewhere: same letters up to case and
    Unicode normalization (macOS and Windows file systems fold both)."""
    import unicodedata

    return unicodedata.normalize("NFC", path).casefold()


def check_relative_path(value: str) -> str:
    """A path inside an artifact: relative, '/'-separated, no '..', nothing that escapes."""
    problem = None
    if not value:
        problem = "is empty"
    elif len(value) > _MAX_PATH:
        problem = f"is longer than {_MAX_PATH} characters"
    elif value.startswith("/"):
        problem = "is absolute"
    elif "\\" in value:
        problem = "contains a backslash; separate directories with '/'"
    elif any(ord(c) < 32 or ord(c) == 127 for c in value):
        problem = "contains a control character"
    elif any(c in _NOT_PORTABLE for c in value):
        problem = 'contains one of < > : " | ? *, which Windows cannot store'
    else:
        for segment in value.split("/"):
            problem = _segment_problem(segment)
            if problem is not None:
                break
    if problem is not None:
        raise PydanticCustomError(
            "relative_path", "path '{value}' {problem}", {"value": value, "problem": problem}
        )
    return value


RelativePath = Annotated[
    str,
    AfterValidator(check_relative_path),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": _MAX_PATH,
            "pattern": r"^(?!/)(?!.*(?:^|/)\.\.?(?:/|$))(?!.*//)[^\\\u0000-\u001f\u007f]+$",
            "description": "a relative '/'-separated path without '.' or '..' segments",
        }
    ),
]


def is_name(value: str) -> bool:
    return re.fullmatch(NAME_PATTERN, value, re.ASCII) is not None


def is_version(value: str) -> bool:
    return (
        len(value) <= _MAX_VERSION_LENGTH
        and re.fullmatch(VERSION_PATTERN, value, re.ASCII) is not None
    )
