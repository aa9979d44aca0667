"""Progress on long work (hashing, pushing, pulling, verifying, reading a large registry cold): a
bar on stderr with bytes or files, rate and time left, drawn by tqdm (a dependency of DVC's), only
when stderr is a terminal and the command was not asked for `--json` or `--quiet`; otherwise
nothing at all is written. It imports nothing of Steward, so every layer may use it; tqdm is
imported only when a bar is drawn."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Advance = Callable[[int], object]


def wanted(quiet: bool = False, as_json: bool = False) -> bool:
    """Whether a command should show progress."""
    return sys.stderr.isatty() and not quiet and not as_json


def _nothing(_: int) -> None:
    return None


# Set by a command that reads the whole registry (check, list): library code below the command
# line then shows a files-read counter when a cold read is long enough to need one.
_reading_progress = False
READ_PROGRESS_MIN_FILES = 2000


def show_reading_progress(enabled: bool) -> None:
    global _reading_progress
    _reading_progress = enabled


@contextmanager
def files_read(total: int) -> Iterator[Advance]:
    """A files-read counter for a cold read of `total` files, when the command asked for one and
    the read is large enough to take a while."""
    enabled = _reading_progress and total >= READ_PROGRESS_MIN_FILES
    with byte_progress(total, "reading the registry", enabled, in_bytes=False) as advance:
        yield advance


@contextmanager
def byte_progress(total: int, what: str, enabled: bool, in_bytes: bool = True) -> Iterator[Advance]:
    """A bar for `total` bytes (or, with `in_bytes` False, files); yields the function that
    advances it. The bar is removed when done, so the command's output follows on a clean line."""
    if not enabled or total <= 0:
        yield _nothing
        return
    from tqdm import tqdm

    # No monitor thread: a bar must not stop a cold read from forking its workers
    # (`steward.reading.summarize_ahead` forks only while one thread runs).
    tqdm.monitor_interval = 0
    with tqdm(
        total=total,
        desc=what,
        unit="B" if in_bytes else " files",
        unit_scale=in_bytes,
        unit_divisor=1024,
        file=sys.stderr,
        leave=False,
        dynamic_ncols=True,
    ) as bar:
        yield bar.update
