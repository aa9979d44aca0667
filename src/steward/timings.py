"""Where a command's time goes, for the benchmarks: with `STEWARD_TIMINGS=FILE` in the
environment, each `phase(NAME)` appends one JSON line to FILE, `{"phase": NAME, "start": UNIX
TIME, "seconds": DURATION, "beside": BOOL}`. Unset, a phase costs one environment lookup and
writes nothing. A phase `beside` the command's own runs in a thread of its own (registration's
pass over the files): its time overlaps the others'.

Nothing reads the file but the benchmarks (`tests/benchmarks/register.py` prints the breakdown);
start-up is the time from the process's start to the first phase."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

VARIABLE = "STEWARD_TIMINGS"


@contextmanager
def phase(name: str, beside: bool = False) -> Iterator[None]:
    target = os.environ.get(VARIABLE)
    if not target:
        yield
        return
    started_at = time.time()
    started = time.perf_counter()
    try:
        yield
    finally:
        seconds = time.perf_counter() - started
        line = json.dumps(
            {"phase": name, "start": started_at, "seconds": seconds, "beside": beside}
        )
        with Path(target).open("a", encoding="utf-8") as stream:
            stream.write(line + "\n")
