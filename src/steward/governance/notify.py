"""Whom an impact answer tells, and the order it lists stages in: light (no entry models), so
that the federated answer and the catalog site share them with `steward impact`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

STAGE_ORDER = ("production", "staging", "development", "archived")


@dataclass(frozen=True)
class Notify:
    principal: str
    reasons: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"principal": self.principal, "reasons": self.reasons}


def gather(pairs: Iterable[Iterable[tuple[str, str]]]) -> list[Notify]:
    """Each principal once (as first spelt, compared ignoring case), with its reasons in
    first-seen order. Dicts as ordered sets: a team owning thousands of affected versions stays
    linear."""
    spelling: dict[str, str] = {}
    reasons: dict[str, dict[str, None]] = {}
    for item in pairs:
        for principal, reason in item:
            key = principal.casefold()
            spelling.setdefault(key, principal)
            reasons.setdefault(key, {})[reason] = None
    return [Notify(spelling[key], list(found)) for key, found in reasons.items()]
