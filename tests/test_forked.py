"""`steward.reading.forked` itself: what a worker inherits of this process's signal handling."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from steward.reading import forked
from tests.forking import force_forks


@pytest.fixture
def sigint_ignored() -> Iterator[None]:
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_signal_this_process_ignores_stays_ignored_in_a_worker(
    monkeypatch: pytest.MonkeyPatch, sigint_ignored: None
) -> None:
    """A build run in the background of a non-interactive shell ignores Ctrl-C: its workers
    must too, not die of it (their shares would be redone, their pages left half written)."""
    started = force_forks(monkeypatch)

    def handlers(share: int, still_wanted: object) -> tuple[bool, bool]:
        return (
            signal.getsignal(signal.SIGINT) is signal.SIG_IGN,
            signal.getsignal(signal.SIGTERM) is signal.SIG_DFL,
        )

    answers = forked.split(
        [0, 1, 2], handlers, lambda share, workers: (True, True), lambda share, sent: sent
    )
    assert len(started) == 2
    assert answers == [(True, True), (True, True), (True, True)]
