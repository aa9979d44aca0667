"""Forcing `steward.reading.forked` to split work in tests, and counting the workers it starts."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from steward.reading import forked


def force_forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Split every piece of work over three processes; the list holds the pids of the workers
    started."""
    monkeypatch.setattr(forked, "cores", lambda: 3)
    # Threads earlier tests left behind (tqdm's monitor in DVC, servers) are idle, and not this
    # test's: only a thread started here counts.
    baseline = threading.active_count()
    monkeypatch.setattr(forked, "may_fork", lambda: threading.active_count() == baseline)
    started: list[int] = []
    fork = forked._fork

    def counted(*args: Any) -> None:
        workers: list[tuple[int, int, int]] = args[-1]
        before = len(workers)
        fork(*args)
        started.extend(pid for _number, pid, _pipe in workers[before:])

    monkeypatch.setattr(forked, "_fork", counted)
    return started
