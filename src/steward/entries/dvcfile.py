"""DVC pointer files (`<version>.dvc`): exactly the fields `dvc add` writes for a directory.

Anything else is refused, because DVC honours it: `wdir` moves where `path` points, `push: false`
keeps the data off the remote, `cache: false` out of the cache, `remote:` sends it elsewhere.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from steward.entries.name_types import Md5


class DvcOut(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    md5: Md5
    size: int = Field(ge=0)
    nfiles: int | None = Field(default=None, ge=0)
    hash: Literal["md5"]
    path: str


class DvcPointer(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    outs: list[DvcOut] = Field(min_length=1, max_length=1)
