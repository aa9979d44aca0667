"""The rules of a federation file's fields, as plain functions: the strict model
(`spec_model`) and the reading of a well-formed file without it (`spec`) share them."""

from __future__ import annotations

from steward.entries.names import is_name

DEFAULT_BRANCH = "main"


def name_error(value: str) -> str | None:
    if is_name(value):
        return None
    return f"'{value}' is not a registry name: 1 to 64 lowercase letters, digits, '.', '_' or '-'"


def branch_error(value: str) -> str | None:
    """Why `value` is not a branch name git may be asked for: never an option, a refspec or a
    path that climbs out of refs/heads."""
    if (
        value.startswith(("-", "/"))
        or value.endswith(("/", ".lock"))
        or ".." in value
        or any(c in value for c in " ~^:?*[\\")
        or not value.isprintable()
    ):
        return f"'{value}' is not a branch name"
    return None
