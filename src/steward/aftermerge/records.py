"""The records a merge leaves: GTO-format git tags annotated with what happened and who decided.

Tag names follow GTO (https://github.com/iterative/gto), so `gto show` and DVC Studio read the
same registry: `MODEL@vX.Y.Z` registers a version, `MODEL#STAGE#N` assigns it a stage and
`MODEL#STAGE!#N` takes the stage away (N counts a model's stage tags, as GTO does). Every tag
points at the commit that registered the version (GTO finds the version by that commit), and its
annotation holds a JSON record: the event, the commit on the default branch that made it, the
proposal, its proposer and approvers, who merged and the gate verdict's digest.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

EventKind = Literal["registration", "assignment", "unassignment"]
RECORD_MARKER = "steward-record:"


def registration_tag(model: str, version: str) -> str:
    return f"{model}@v{version}"


def stage_tag(model: str, stage: str, number: int, unassign: bool = False) -> str:
    return f"{model}#{stage}{'!' if unassign else ''}#{number}"


@dataclass(frozen=True)
class Record:
    event: EventKind
    model: str
    version: str
    stage: str | None
    commit: str  # the commit on the default branch that made the change (a merge, usually)
    version_commit: str  # the commit that registered the version: where the tag points
    at: str  # when that commit was made, ISO 8601
    proposal: int | None = None
    proposed_by: str | None = None
    approved_by: list[str] = field(default_factory=list)
    merged_by: str | None = None
    verdict: str | None = None

    @property
    def summary(self) -> str:
        if self.event == "registration":
            return f"{self.model} {self.version} registered"
        verb = "enters" if self.event == "assignment" else "leaves"
        return f"{self.model} {self.version} {verb} {self.stage}"

    def tag_message(self) -> str:
        payload = json.dumps(asdict(self), sort_keys=True)
        return f"{self.summary}\n\n{RECORD_MARKER} {payload}\n"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def parse(cls, message: str) -> Record | None:
        """The record in a tag's annotation, or None when it holds none (not Steward's tag)."""
        for line in message.splitlines():
            if line.startswith(RECORD_MARKER):
                try:
                    data = json.loads(line[len(RECORD_MARKER) :])
                    return cls(**data)
                except (ValueError, TypeError):
                    return None
        return None


def trailers(message: str) -> dict[str, str]:
    """`Steward-*` trailers of a merge commit message (see promotion.merge_proposal)."""
    found = {}
    for line in message.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key.startswith("Steward-"):
            found[key] = value.strip()
    return found
