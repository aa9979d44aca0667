"""The strings of the registry: the patterns of names, versions, logins, hashes, paths and
timestamps, and the checks and formats that need no entry model (`is_name`, `is_version`,
`relative_path_problem`, `format_timestamp`).

Pure and light: reading cached answers imports it without pydantic. The pydantic string types
built on these patterns are in `steward.entries.name_types`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

NAME_PATTERN = r"[a-z0-9][a-z0-9._-]{0,63}"
_SEMVER_ID = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
VERSION_PATTERN = (
    r"(?:0|[1-9][0-9]{0,8})\.(?:0|[1-9][0-9]{0,8})\.(?:0|[1-9][0-9]{0,8})"
    rf"(?:-{_SEMVER_ID}(?:\.{_SEMVER_ID}){{0,7}})?"
)
LOGIN_PATTERN = r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}(?:\[bot\])?"
TEAM_PATTERN = r"@[A-Za-z0-9][A-Za-z0-9-]{0,38}/[a-z0-9][a-z0-9._-]{0,99}"
PRINCIPAL_PATTERN = f"(?:{LOGIN_PATTERN}|{TEAM_PATTERN})"
METRIC_PATTERN = r"[A-Za-z0-9_][A-Za-z0-9_.:/@-]{0,127}"
MD5_PATTERN = r"[0-9a-f]{32}(?:\.dir)?"
SHA256_PATTERN = r"[0-9a-f]{64}"
COMMIT_PATTERN = r"[0-9a-f]{7,64}"
OBJECT_ID_PATTERN = r"[0-9a-f]{40}(?:[0-9a-f]{24})?"
# A timestamp as entries write it: RFC 3339 with a time zone, at most microseconds.
RFC3339_PATTERN = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})"
)

MAX_VERSION_LENGTH = 64


MAX_PATH = 1024
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


def relative_path_problem(value: str) -> str | None:
    """What is wrong with `value` as a path inside an artifact (relative, '/'-separated, no
    '..', nothing that escapes), or None."""
    problem = None
    if not value:
        problem = "is empty"
    elif len(value) > MAX_PATH:
        problem = f"is longer than {MAX_PATH} characters"
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
    return problem


def format_timestamp(value: datetime) -> str:
    """A timestamp as entries and answers write it: in UTC, `Z` for `+00:00`."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def is_name(value: str) -> bool:
    return re.fullmatch(NAME_PATTERN, value, re.ASCII) is not None


def is_version(value: str) -> bool:
    return (
        len(value) <= MAX_VERSION_LENGTH
        and re.fullmatch(VERSION_PATTERN, value, re.ASCII) is not None
    )
