"""Work split over every core by forking: each share but the first done by a forked worker, the
first by this process meanwhile, the workers' answers sent back pickled through pipes.

Forking shares what is already imported and read (nothing is pickled on the way in). The workers
are an optimisation, never a condition: a worker that cannot be started, fails, dies or sends
back what is not a whole answer for its share leaves that share to the caller, to be done again
in this process. No fork happens where it could copy a lock another thread holds (any thread but
this one running) or where the platform has no `fork`. The users: a cold read's summaries
(`summarize_ahead`) and the catalog site's pages (`steward.site.build`).

A worker never runs this process's code past the fork (SIGINT and SIGTERM are blocked across
the fork, and reset to their default actions in the worker unless this process ignores them),
stops at its next item once its parent is gone (`still_wanted`), releases what it was given
(`release`: a `git cat-file` it started) before it exits, and is killed and reaped if this
process stops waiting for it.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

MOST_WORKERS = 4  # processes in all, this one included

Share = TypeVar("Share")
Answer = TypeVar("Answer")

# Signals that would raise in Python: blocked from before a fork until the worker has the
# default actions (it then dies of them) or, in this process, until the worker is known to
# `split`'s clean-up.
_SIGNALS = {signal.SIGINT, signal.SIGTERM}


class Orphaned(Exception):
    """The process that forked this worker is gone: no one will read its answer."""


def processes() -> int:
    """How many processes work may be split over here: one per core up to `MOST_WORKERS`, or
    1 where no worker may be forked."""
    count = min(cores(), MOST_WORKERS)
    return count if count >= 2 and may_fork() else 1


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def may_fork() -> bool:
    return (
        hasattr(os, "fork") and hasattr(signal, "pthread_sigmask") and threading.active_count() == 1
    )


def split(
    shares: Sequence[Share],
    work: Callable[[Share, Callable[[], None]], Answer],
    own: Callable[[Share, int], Answer],
    checked: Callable[[Share, object], Answer | None],
    release: Callable[[], object] = lambda: None,
) -> list[Answer | None]:
    """Every share but the first done by a forked worker (`work(share, still_wanted)`, which
    calls `still_wanted()` before each item: it stops a worker whose parent is gone), the first
    here meanwhile (`own(share, workers)`: how many workers run beside it, for progress). The
    answers in the order of the shares; a worker's as `checked(share, what it sent)` returns it:
    None where it is not a whole answer for its share."""
    workers: list[tuple[int, int, int]] = []  # (share number, pid, read end)
    answers: list[Answer | None] = [None] * len(shares)
    try:
        for number in range(1, len(shares)):
            _fork(number, shares[number], work, release, workers)
        answers[0] = own(shares[0], len(workers))
        for number, pid, pipe in workers:
            sent = _answer_of(pid, pipe)
            if sent is not None:
                answers[number] = checked(shares[number], sent)
    finally:
        for _number, pid, pipe in workers:
            _reap(pid, pipe)
    return answers


def _fork(
    number: int,
    share: Share,
    work: Callable[[Share, Callable[[], None]], object],
    release: Callable[[], object],
    workers: list[tuple[int, int, int]],
) -> None:
    """Start a worker doing `share`, and add it to `workers`; none is added if it could not be
    started (the caller then does the share itself)."""
    try:
        read_end, write_end = os.pipe()
    except OSError:
        return
    parent = os.getpid()

    def still_wanted() -> None:
        if os.getppid() != parent:  # a system call: a microsecond
            raise Orphaned

    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    try:
        try:
            pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            return
        if pid == 0:  # the worker: never returns
            code = 1
            try:
                for signum in _SIGNALS:  # one this process ignores stays ignored
                    if signal.getsignal(signum) is not signal.SIG_IGN:
                        signal.signal(signum, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
                os.close(read_end)
                answer = work(share, still_wanted)
                release()
                with os.fdopen(write_end, "wb") as pipe:  # pickled as it is sent: no copy
                    pickle.dump(answer, pipe, pickle.HIGHEST_PROTOCOL)
                code = 0
            finally:
                os._exit(code)
        os.close(write_end)
        workers.append((number, pid, read_end))
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def _answer_of(pid: int, pipe: int) -> object | None:
    """What the worker sent, if it exited well and sent one pickle and nothing else. Unpickled
    as it arrives (the pickled bytes are never held whole beside what they make)."""
    try:
        with os.fdopen(pipe, "rb", closefd=False) as stream:
            answer: object = pickle.load(stream)
            ended = stream.read(1) == b""  # nothing after the answer, and the worker is done
        _pid, status = os.waitpid(pid, 0)
    except Exception:  # a truncated or damaged answer, or a failed read: the share is redone
        return None
    if not ended or not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        return None
    return answer


def _reap(pid: int, pipe: int) -> None:
    """Close the pipe and wait for the worker, killing it if it is still at work (this
    process failed or was interrupted)."""
    with contextlib.suppress(OSError):
        os.close(pipe)
    with contextlib.suppress(ChildProcessError, ProcessLookupError):  # reaped by _answer_of
        done, _status = os.waitpid(pid, os.WNOHANG)
        if done == 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
