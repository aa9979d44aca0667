"""The federation file: which registries one view spans, by name, URL and branch.

```yaml
registries:
  - name: fraud                                       # unique, a steward name
    url: https://github.com/org/fraud-registry.git    # or a local path / file:// URL
    branch: main                                      # default main
```

Loaded by the strict YAML loader and a strict model: unknown keys, duplicate names, names that
could escape a directory, an empty list, are errors naming the file and the field. A relative
local path resolves against the federation file's directory, so the file means the same thing
from wherever it is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from steward.entries.problems import Problem
from steward.entries.yamlio import loads
from steward.errors import StewardError, YamlError
from steward.federation.spec_rules import DEFAULT_BRANCH, branch_error, name_error
from steward.gitio.gitcmd import fetch_location


class FederationError(StewardError):
    """The federation file is missing or malformed; the message names the file and the field."""


@dataclass(frozen=True)
class Member:
    """A registry of a loaded federation: its spec, and the URL git fetches it from."""

    name: str
    url: str  # as written
    branch: str
    fetch_url: str  # a relative local path made absolute against the file's directory


@dataclass(frozen=True)
class Federation:
    path: Path  # the federation file, absolute
    members: list[Member]

    def names(self) -> list[str]:
        return [member.name for member in self.members]

    def member(self, name: str) -> Member | None:
        return next((member for member in self.members if member.name == name), None)


def load_federation(path: Path) -> Federation:
    """The federation file at `path`, or FederationError naming every problem with its field."""
    path = path.absolute()
    shown = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FederationError(f"{shown}: no such federation file") from None
    except OSError as exc:
        raise FederationError(f"{shown}: cannot be read: {exc.strerror or exc}") from None
    try:
        loaded = loads(raw, shown)
    except YamlError as exc:
        raise FederationError(str(exc)) from None
    if not isinstance(loaded.data, dict):
        raise FederationError(f"{shown}: expected a mapping with a `registries:` list")
    registries = _well_formed(loaded.data)
    if registries is None:
        # Something is off: the strict model names every problem with its field and line.
        from pydantic import ValidationError

        from steward.entries.problems import problems_from_validation
        from steward.federation.spec_model import FederationFile

        try:
            spec = FederationFile.model_validate(loaded.data)
        except ValidationError as exc:
            problems = problems_from_validation(shown, loaded, exc, FederationFile)
            raise FederationError(_render(problems)) from None
        registries = [(item.name, item.url, item.branch) for item in spec.registries]
    members = [
        Member(name, url, branch, fetch_location(url, path.parent))
        for name, url, branch in registries
    ]
    return Federation(path, members)


_FIELDS = frozenset({"name", "url", "branch"})


def _well_formed(data: dict[Any, Any]) -> list[tuple[str, str, str]] | None:
    """(name, url, branch) of every registry of a file the model would accept as it is, read
    without building the model (a federated answer's start-up pays for no pydantic); None for
    anything else, which the model then reports. Never accepts what the model refuses: the same
    rules, by the same functions (a test holds the two together)."""
    registries = data.get("registries")
    if len(data) != 1 or type(registries) is not list or not registries:
        return None
    found: list[tuple[str, str, str]] = []
    names: set[str] = set()
    for item in registries:
        if type(item) is not dict or not ({"name", "url"} <= item.keys() <= _FIELDS):
            return None
        name, url, branch = item["name"], item["url"], item.get("branch", DEFAULT_BRANCH)
        if not (type(name) is str and type(url) is str and type(branch) is str):
            return None
        if not url or not branch or name_error(name) or branch_error(branch):
            return None
        if not _is_utf8(url):
            return None  # a lone surrogate (a YAML escape): the model refuses it
        if name in names:
            return None
        names.add(name)
        found.append((name, url, branch))
    return found


def _render(problems: list[Problem]) -> str:
    return "\n".join(problem.render() for problem in problems)


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
