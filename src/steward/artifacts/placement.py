"""Putting versions' artifact directories in place after a landing, and finishing landings that a
killed process left half done (`steward.gitio.landing`): the artifacts side of both."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from steward.entries import layout
from steward.errors import StewardError
from steward.gitio import landing


def place_data(root: Path, data: Mapping[str, str], drop: Sequence[str]) -> None:
    """Remove the directories in `drop`, then fill each directory of `data` (relative path ->
    md5 of its DVC listing) from the DVC cache. Only directories under the models' folder."""
    for relative in [*drop, *data]:
        parts = Path(relative).parts
        if (
            Path(relative).is_absolute()
            or ".." in parts
            or not relative.startswith(layout.MODELS_DIR + "/")
        ):
            raise StewardError(f"refusing to place artifacts at {relative!r}")
    for relative in drop:
        shutil.rmtree(root / relative, ignore_errors=True)
    if not data:
        return
    from steward.artifacts.local_stores import open_stores

    with contextlib.closing(open_stores(root)) as store:
        for relative, md5 in data.items():
            store.checkout_listing(md5, root / relative)


def recover_landings(root: Path) -> list[str]:
    """Finish every half-done landing in the work tree at `root`; what was finished."""
    return landing.recover(root, place_data)
