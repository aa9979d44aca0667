"""Semantic versions: ordering by precedence, and the next version after the highest one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from steward.entries.names import is_version
from steward.errors import UsageError

Bump = Literal["major", "minor", "patch"]
BUMPS: tuple[Bump, ...] = ("major", "minor", "patch")

_Identifier = tuple[int, int | str]


def precedence(version: str) -> tuple[int, int, int, int, tuple[_Identifier, ...]]:
    """A sort key in SemVer 2.0 precedence: 1.0.0-rc.1 < 1.0.0 < 1.0.1 < 1.10.0."""
    core, _, prerelease = version.partition("-")
    major, minor, patch = (int(part) for part in core.split("."))
    if not prerelease:
        return (major, minor, patch, 1, ())
    identifiers: list[_Identifier] = [
        (0, int(part)) if part.isdigit() else (1, part) for part in prerelease.split(".")
    ]
    return (major, minor, patch, 0, tuple(identifiers))


def highest(versions: Iterable[str]) -> str | None:
    return max(versions, key=precedence, default=None)


def bump(version: str | None, part: Bump) -> str:
    """The version after `version` (the first one is 0.1.0, 1.0.0 or 0.0.1 by `part`)."""
    if version is None:
        return {"major": "1.0.0", "minor": "0.1.0", "patch": "0.0.1"}[part]
    major, minor, patch, released, _ = precedence(version)
    # As npm's `semver inc`: a bump of a pre-release that already has that shape releases it
    # (2.0.0-rc.1 -> 2.0.0 for any part; 1.2.3-rc.1 -> 1.2.3 for patch).
    if part == "major":
        return f"{major}.0.0" if not released and minor == patch == 0 else f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor}.0" if not released and patch == 0 else f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch}" if not released else f"{major}.{minor}.{patch + 1}"


def require_version(value: str) -> str:
    if not is_version(value):
        raise UsageError(
            f"'{value}' is not a semantic version: write MAJOR.MINOR.PATCH such as 1.3.0"
        )
    return value
