"""Summarizing the files a cold read will need on every core, before it asks for them.

A `list` or `check` with nothing in the record cache is mostly parsing: at 100,000 versions,
200,000 files, one after another on one core, while CI runners have two to four. When enough
records are missing, `summarize_ahead` forks workers (`os.fork`: they share the snapshot and the
code already imported, and nothing is pickled on the way in). Each worker reads and summarizes a
share of the files and sends back `(index, content id, record)` through a pipe; this process does
the first share meanwhile. The records go into the `RecordStore` under the id of what was read,
where the read that follows finds them as if they had been cached before.

The workers are an optimisation, never a condition. A worker that fails, dies or sends back what
is not a whole answer for its share, leaves that share to be read one file at a time as before,
by the caller. No fork happens where it could copy a lock another thread holds (any thread but
this one running), where the platform has no `fork`, or for fewer than `PARALLEL_FROM` files.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from steward import progress
from steward.entries.layout import Kind
from steward.gitio.tree import TreeFile
from steward.reading.cache import RecordStore
from steward.reading.summaries import FileRecord, summarize

# Fewer missing records than this are summarized where they are asked for: a fork and the
# records' way back cost about as much as 1,000 files.
PARALLEL_FROM = 4000
MOST_WORKERS = 4  # processes in all, this one included

Job = tuple[TreeFile, Kind]
Answer = list[tuple[int, str | None, FileRecord]]


@dataclass(frozen=True)
class Reading:
    """How the files are read, in this process and in a forked one: `read` and `content_id` as
    the snapshot's, and `release`, what a worker lets go of before it exits (the `git cat-file`
    it started: left running, it would outlive the worker)."""

    read: Callable[[TreeFile], bytes]
    content_id: Callable[[TreeFile, bytes], str | None]
    release: Callable[[], object] = lambda: None


def summarize_ahead(records: RecordStore, jobs: Sequence[Job], reading: Reading) -> None:
    """Summarize `jobs` (files whose records `records` lacks) on every core, into `records`."""
    processes = min(_cores(), MOST_WORKERS)
    if not worthwhile(len(jobs)) or processes < 2 or not _may_fork():
        return
    shares = [jobs[i::processes] for i in range(processes)]  # every n-th: model and version
    workers: list[tuple[int, int, int]] = []  # (share, pid, read end)
    try:
        for share in range(1, processes):
            _fork(share, shares[share], reading, workers)
        # The shares are even: this one's progress, times the processes, is the whole's.
        with progress.files_read(len(jobs)) as advance:
            own = _summarized(shares[0], reading, lambda: advance(1 + len(workers)))
        _put(records, shares[0], own)
        for share, pid, pipe in workers:
            answer = _answer_of(pid, pipe, len(shares[share]))
            if answer is not None:
                _put(records, shares[share], answer)
    finally:
        for _share, pid, pipe in workers:
            _reap(pid, pipe)


def worthwhile(files: int) -> bool:
    """Whether a read of `files` files may have enough missing records to fork for."""
    return files >= PARALLEL_FROM


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _may_fork() -> bool:
    return (
        hasattr(os, "fork") and hasattr(signal, "pthread_sigmask") and threading.active_count() == 1
    )


class _Orphaned(Exception):
    """The process that forked this worker is gone: no one will read its answer."""


def _summarized(
    share: Sequence[Job],
    reading: Reading,
    advance: Callable[[], object] | None = None,
    parent: int | None = None,
) -> Answer:
    answer: Answer = []
    for index, (file, kind) in enumerate(share):
        if parent is not None and os.getppid() != parent:  # a system call: 1 us of 100
            raise _Orphaned
        raw = reading.read(file)
        answer.append((index, reading.content_id(file, raw), summarize(kind, raw, file.path)))
        if advance is not None:
            advance()
    return answer


# Signals that would raise in Python: blocked from before a fork until the worker has the
# default actions (it then dies of them) or, in this process, until the worker is known to
# `summarize_ahead`'s clean-up. A worker can so never run this process's code past the fork.
_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _fork(
    share_number: int,
    share: Sequence[Job],
    reading: Reading,
    workers: list[tuple[int, int, int]],
) -> None:
    """Start a worker summarizing `share`, and add it to `workers`; none is added if it could
    not be started (this process's caller then reads the share itself)."""
    try:
        read_end, write_end = os.pipe()
    except OSError:
        return
    parent = os.getpid()
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
                for number in _SIGNALS:
                    signal.signal(number, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
                os.close(read_end)
                answer = _summarized(share, reading, parent=parent)
                reading.release()
                with os.fdopen(write_end, "wb") as pipe:  # pickled as it is sent: no copy
                    pickle.dump(answer, pipe, pickle.HIGHEST_PROTOCOL)
                code = 0
            finally:
                os._exit(code)
        os.close(write_end)
        workers.append((share_number, pid, read_end))
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def _answer_of(pid: int, pipe: int, expected: int) -> Answer | None:
    """The worker's answer if it is whole: one record for each of its `expected` files.
    Unpickled as it arrives (the pickled bytes are never held whole beside the records)."""
    try:
        with os.fdopen(pipe, "rb", closefd=False) as stream:
            answer = pickle.load(stream)
            ended = stream.read(1) == b""  # nothing after the answer, and the worker is done
        _pid, status = os.waitpid(pid, 0)
    except Exception:  # a truncated or damaged answer, or a failed read: the share is read here
        return None
    if not ended or not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        return None
    if not isinstance(answer, list) or len(answer) != expected:
        return None
    for index, item in enumerate(answer):
        if not (
            isinstance(item, tuple)
            and len(item) == 3
            and item[0] == index
            and isinstance(item[1], str | None)
            and isinstance(item[2], FileRecord)
        ):
            return None
    return answer


def _put(records: RecordStore, share: Sequence[Job], answer: Answer) -> None:
    for index, content, record in answer:
        records.put(share[index][1], content, record)


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
