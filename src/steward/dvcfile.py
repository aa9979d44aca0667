"""DVC pointer files (`<version>.dvc`), as far as Steward needs to read them.

DVC owns this format and adds fields over time, so unknown fields are allowed here; the fields we
compare with the version entry (md5, size, nfiles, path) are typed strictly.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DvcOut(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    md5: str
    path: str
    size: int | None = None
    nfiles: int | None = None
    hash: str | None = None


class DvcPointer(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    outs: list[DvcOut] = Field(min_length=1, max_length=1)
