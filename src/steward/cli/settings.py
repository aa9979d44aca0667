"""The options of the `steward` group that every command may use."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Options of the `steward` group that every command may use."""

    start: Path
    github_token: str | None = None
