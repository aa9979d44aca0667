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
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from steward.entries.names import is_name
from steward.entries.problems import Problem, problems_from_validation
from steward.entries.yamlio import loads
from steward.errors import StewardError, YamlError
from steward.gitio.gitcmd import fetch_location

DEFAULT_BRANCH = "main"


class FederationError(StewardError):
    """The federation file is missing or malformed; the message names the file and the field."""


class RegistrySpec(BaseModel):
    """One registry of the federation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(description="A unique name; rows of answers carry it.")]
    url: Annotated[str, Field(min_length=1, description="A git URL or a local path.")]
    branch: Annotated[str, Field(min_length=1)] = DEFAULT_BRANCH

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not is_name(value):
            raise ValueError(
                f"'{value}' is not a registry name: 1 to 64 lowercase letters, digits, '.', '_' "
                "or '-'"
            )
        return value

    @field_validator("branch")
    @classmethod
    def _branch(cls, value: str) -> str:
        # A branch name only: never an option, a refspec or a path that climbs out of refs/heads.
        if (
            value.startswith(("-", "/"))
            or value.endswith(("/", ".lock"))
            or ".." in value
            or any(c in value for c in " ~^:?*[\\")
            or not value.isprintable()
        ):
            raise ValueError(f"'{value}' is not a branch name")
        return value


class FederationFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    registries: Annotated[list[RegistrySpec], Field(min_length=1)]

    @field_validator("registries")
    @classmethod
    def _unique(cls, value: list[RegistrySpec]) -> list[RegistrySpec]:
        seen: set[str] = set()
        for spec in value:
            if spec.name in seen:
                raise ValueError(f"registry name '{spec.name}' is used twice")
            seen.add(spec.name)
        return value


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
    try:
        spec = FederationFile.model_validate(loaded.data)
    except ValidationError as exc:
        problems = problems_from_validation(shown, loaded, exc, FederationFile)
        raise FederationError(_render(problems)) from None
    members = [
        Member(item.name, item.url, item.branch, fetch_location(item.url, path.parent))
        for item in spec.registries
    ]
    return Federation(path, members)


def _render(problems: list[Problem]) -> str:
    return "\n".join(problem.render() for problem in problems)
