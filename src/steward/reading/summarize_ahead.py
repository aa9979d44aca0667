"""Summarizing the files a cold read will need on every core, before it asks for them.

A `list` or `check` with nothing in the record cache is mostly parsing: at 100,000 versions,
200,000 files, one after another on one core, while CI runners have two to four. When enough
records are missing, `summarize_ahead` splits the files over forked workers (`forked.split`).
Each reads and summarizes a share and sends back `(index, content id, record)`; this process does
the first share meanwhile. The records go into the `RecordStore` under the id of what was read,
where the read that follows finds them as if they had been cached before. A share whose worker
did not send back a whole answer is read one file at a time as before, by the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from steward import progress
from steward.entries.layout import Kind
from steward.gitio.tree import TreeFile
from steward.reading import forked
from steward.reading.cache import RecordStore
from steward.reading.summaries import FileRecord, summarize

# Fewer files than this are summarized where they are asked for. Measured on 2 cores (a cold
# `list --json`, median of 11, alternated with a run without workers): 0.87x the time at 1,055
# files, 0.85x at 2,105, 0.78x at 4,205; below 1,000 the saving is under 0.1 s.
PARALLEL_FROM = 1000

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
    processes = forked.processes()
    if not worthwhile(len(jobs)) or processes < 2:
        return
    shares = [jobs[i::processes] for i in range(processes)]  # every n-th: model and version

    def own(share: Sequence[Job], workers: int) -> Answer:
        # The shares are even: this one's progress, times the processes, is the whole's.
        with progress.files_read(len(jobs)) as advance:
            return _summarized(share, reading, lambda: advance(1 + workers))

    answers = forked.split(
        shares,
        lambda share, still_wanted: _summarized(share, reading, still_wanted=still_wanted),
        own,
        _checked,
        reading.release,
    )
    for share, answer in zip(shares, answers, strict=True):
        if answer is not None:
            for index, content, record in answer:
                records.put(share[index][1], content, record)


def worthwhile(files: int) -> bool:
    """Whether a read of `files` files may have enough missing records to fork for."""
    return files >= PARALLEL_FROM


def _summarized(
    share: Sequence[Job],
    reading: Reading,
    advance: Callable[[], object] | None = None,
    still_wanted: Callable[[], None] | None = None,
) -> Answer:
    answer: Answer = []
    for index, (file, kind) in enumerate(share):
        if still_wanted is not None:
            still_wanted()
        raw = reading.read(file)
        answer.append((index, reading.content_id(file, raw), summarize(kind, raw, file.path)))
        if advance is not None:
            advance()
    return answer


def _checked(share: Sequence[Job], answer: object) -> Answer | None:
    """A worker's answer if it is one record for each file of its share, in order."""
    if not isinstance(answer, list) or len(answer) != len(share):
        return None
    whole = all(
        isinstance(item, tuple)
        and len(item) == 3
        and item[0] == index
        and isinstance(item[1], str | None)
        and isinstance(item[2], FileRecord)
        for index, item in enumerate(answer)
    )
    return answer if whole else None
