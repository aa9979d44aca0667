"""The records a merge leaves: GTO-format git tags annotated with what happened and who decided.

Tag names follow GTO (https://github.com/iterative/gto), so `gto show` and DVC Studio read the
same registry: `MODEL@vX.Y.Z` registers a version, `MODEL#STAGE#N` assigns it a stage and
`MODEL#STAGE!#N` takes the stage away (N counts a model's stage tags, as GTO does). Every tag
points at the commit that registered the version (GTO finds the version by that commit), and its
annotation holds a JSON record: the event, the commit on the default branch that made it, the
proposal, its proposer, the approvals that counted (each with the role it counted for), who
merged and the gate verdict's digest.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from steward.entries.names import is_name, is_version
from steward.gitio.gitcmd import run_git

EventKind = Literal["registration", "assignment", "unassignment"]
RECORD_MARKER = "steward-record:"


def registration_tag(model: str, version: str) -> str:
    return f"{model}@v{version}"


def stage_tag(model: str, stage: str, number: int, unassign: bool = False) -> str:
    return f"{model}#{stage}{'!' if unassign else ''}#{number}"


def tag_number(name: str) -> int | None:
    """N of a stage tag `MODEL#STAGE#N`, or None where the name ends in no number (ASCII
    digits only: `"²".isdigit()` is true, and `int("²")` fails)."""
    tail = name.rsplit("#", 1)[-1]
    return int(tail) if "#" in name and tail.isascii() and tail.isdigit() else None


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
    approved_by: list[str] = field(default_factory=list)  # the logins of `approvals`
    merged_by: str | None = None
    verdict: str | None = None
    approvals: list[str] = field(default_factory=list)  # "carol (ml-engineer)", as counted

    @property
    def summary(self) -> str:
        if self.event == "registration":
            return f"{self.model} {self.version} registered"
        verb = "enters" if self.event == "assignment" else "leaves"
        return f"{self.model} {self.version} {verb} {self.stage}"

    def tag_name_matches(self, name: str) -> bool:
        """Whether `name` is the tag `apply` gives this record: GTO's name for its event."""
        if self.event == "registration":
            return name == registration_tag(self.model, self.version)
        number = tag_number(name)
        unassign = self.event == "unassignment"
        return number is not None and name == stage_tag(
            self.model, self.stage or "", number, unassign
        )

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


def well_formed(record: Record, model: str) -> bool:
    """A record is JSON from a tag: check the types before trusting a single field."""
    strings_or_none: Iterable[object] = (
        record.stage,
        record.proposed_by,
        record.merged_by,
        record.verdict,
    )
    return (
        record.model == model
        and isinstance(model, str)
        and is_name(model)
        and record.event in get_args(EventKind)
        and isinstance(record.version, str)
        and is_version(record.version)
        and isinstance(record.commit, str)
        and isinstance(record.version_commit, str)
        and isinstance(record.at, str)
        and all(value is None or isinstance(value, str) for value in strings_or_none)
        and (record.event == "registration" or isinstance(record.stage, str))
        and (record.proposal is None or type(record.proposal) is int)
        and isinstance(record.approved_by, list)
        and all(isinstance(login, str) for login in record.approved_by)
        and isinstance(record.approvals, list)
        and all(isinstance(text, str) for text in record.approvals)
    )


def read_records(
    root: Path, patterns: list[str], newest: int | None = None
) -> list[tuple[str, Record]]:
    """The well-formed records in the annotated tags `patterns` name (`refs/tags/...`), with
    their tag names, in one `for-each-ref`; with `newest`, only the records among that many
    newest tags (by the date in the tag). A record counts only under its own model's tag
    names. Each tag's text is preceded by a random marker, so no tag message can pass itself
    off as another tag."""
    marker = f"--steward-{secrets.token_hex(16)}--"
    options = ["--sort=-taggerdate", f"--count={newest}"] if newest is not None else []
    out = run_git(
        root,
        "for-each-ref",
        *options,
        f"--format={marker}%(objecttype) %(refname)%0a%(contents)",
        *patterns,
    ).decode("utf-8", "replace")
    found = []
    for chunk in out.split(marker)[1:]:
        header, _, contents = chunk.partition("\n")
        kind, _, refname = header.partition(" ")
        if kind != "tag":
            continue  # a lightweight tag holds no record
        record = Record.parse(contents)
        tag = refname.removeprefix("refs/tags/")
        if record is None or not isinstance(record.model, str):
            continue
        if not tag.startswith((f"{record.model}@", f"{record.model}#")):
            continue
        if well_formed(record, record.model):
            found.append((tag, record))
    return found


_APPROVAL = re.compile(r"\s*([^\s,()]+)(?:\s*\(([^)]*)\))?\s*(?:,|$)")


def approvals_text(counted: Iterable[tuple[str, str]]) -> list[str]:
    """`carol (ml-engineer)` for each login that counted, with every role it counted for,
    as the `Steward-Approved-By` trailer and the records write them."""
    roles: dict[str, set[str]] = {}
    for login, role in counted:
        roles.setdefault(login, set()).add(role)
    return [
        f"{login} ({', '.join(sorted(roles[login]))})" for login in sorted(roles, key=str.casefold)
    ]


def parse_approvals(text: str) -> list[tuple[str, str]]:
    """The (login, roles) of a `Steward-Approved-By` trailer: `carol (ml-engineer), erin
    (governance)`; a trailer written before roles were recorded names logins only (roles '')."""
    if text.strip() in ("", "-"):
        return []
    found = []
    position = 0
    while position < len(text):
        match = _APPROVAL.match(text, position)
        if match is None or match.end() == position:
            return []  # not a trailer Steward wrote: nothing in it counts
        found.append((match.group(1), (match.group(2) or "").strip()))
        position = match.end()
    return found
