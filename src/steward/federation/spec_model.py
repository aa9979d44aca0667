"""The strict model of the federation file (`steward.federation.spec`), built only when a file
is not well formed, to name each problem with its field and line."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from steward.federation.spec_rules import DEFAULT_BRANCH, branch_error, name_error


class RegistrySpec(BaseModel):
    """One registry of the federation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(description="A unique name; rows of answers carry it.")]
    url: Annotated[str, Field(min_length=1, description="A git URL or a local path.")]
    branch: Annotated[str, Field(min_length=1)] = DEFAULT_BRANCH

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        error = name_error(value)
        if error is not None:
            raise ValueError(error)
        return value

    @field_validator("branch")
    @classmethod
    def _branch(cls, value: str) -> str:
        error = branch_error(value)
        if error is not None:
            raise ValueError(error)
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
