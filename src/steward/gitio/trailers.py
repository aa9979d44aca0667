"""Steward's commit trailers (`Steward-Model: fraud`...): the one reader of them."""

from __future__ import annotations


def steward_trailers(message: str) -> dict[str, str]:
    """The `Steward-*` trailers of a commit message: name -> value (the last one wins)."""
    found = {}
    for line in message.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key.startswith("Steward-"):
            found[key] = value.strip()
    return found
