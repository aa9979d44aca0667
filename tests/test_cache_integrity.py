"""The cache is a shortcut, never a source: whatever happens to its files (truncated, a bit
flipped, two swapped, one copied over another), every answer equals the uncached one."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from steward.cli.main import run
from steward.reading.cache import STALE_TEMPORARY_S, cache_dir
from tests.builders import add_model, add_version, run_git, small_registry, write

QUESTIONS = (
    ("check", "--json"),
    ("list", "--json"),
    ("list", "--stage", "production", "--json"),
    ("show", "churn", "--json"),
)


def _answers(root: Path, capsys: pytest.CaptureFixture[str]) -> list[tuple[int, str]]:
    found = []
    for question in QUESTIONS:
        code = run(["-C", str(root), *question])
        found.append((code, capsys.readouterr().out))
    return found


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A registry with a problem in it (so that a check answer has content), its cache warm,
    and a pristine copy of that cache."""
    root = small_registry(tmp_path_factory.mktemp("cache") / "reg")
    add_model(root, "churn")
    add_version(root, "churn", "1.0.0", stage="production")
    add_version(root, "churn", "1.1.0", stage="staging")
    write(root, "registry/models/churn/2.0.0.yaml", "model: churn\nversion: '2.0.0'\n")
    run_git(root, "add", "-A")
    run_git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "registry")
    for question in QUESTIONS:
        run(["-C", str(root), *question])
    directory = cache_dir(root)
    assert directory is not None and any(directory.rglob("*.pickle"))
    pristine = directory.parent / "pristine"
    shutil.copytree(directory, pristine)
    return root, pristine


def _truncate(data: bytes, at: int, other: bytes) -> bytes:
    return data[: at % max(len(data), 1)]


def _flip(data: bytes, at: int, other: bytes) -> bytes:
    if not data:
        return b"\x01"
    index = at % len(data)
    return data[:index] + bytes([data[index] ^ (1 << (at % 8))]) + data[index + 1 :]


def _replace(data: bytes, at: int, other: bytes) -> bytes:
    return other  # another cache file's bytes, whole and well sealed, for another key


CORRUPTIONS: dict[str, Callable[[bytes, int, bytes], bytes]] = {
    "truncate": _truncate,
    "flip": _flip,
    "replace": _replace,
}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    damage=st.lists(
        st.tuples(
            st.integers(min_value=0),
            st.sampled_from(sorted(CORRUPTIONS)),
            st.integers(min_value=0),
            st.integers(min_value=0),
        ),
        min_size=1,
        max_size=3,
    ),
    swap=st.booleans(),
)
def test_a_damaged_cache_gives_the_uncached_answers(
    warm: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    damage: list[tuple[int, str, int, int]],
    swap: bool,
) -> None:
    root, pristine = warm
    directory = cache_dir(root)
    assert directory is not None
    monkeypatch.setenv("STEWARD_NO_CACHE", "1")
    expected = _answers(root, capsys)
    monkeypatch.delenv("STEWARD_NO_CACHE")
    shutil.rmtree(directory)
    shutil.copytree(pristine, directory)
    files = sorted(directory.rglob("*.pickle"))
    for pick, how, at, other in damage:
        target = files[pick % len(files)]
        source = files[other % len(files)]
        target.write_bytes(CORRUPTIONS[how](target.read_bytes(), at, source.read_bytes()))
    if swap and len(files) > 1:
        first, second = files[0].read_bytes(), files[-1].read_bytes()
        files[0].write_bytes(second)
        files[-1].write_bytes(first)
    assert _answers(root, capsys) == expected
    assert _answers(root, capsys) == expected  # and again, from what the first run rewrote


def test_two_swapped_check_answers_are_misses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer for the tree with a broken file and the answer for the tree without it,
    swapped on disk: a check of the clean tree must not report the broken file."""
    root = small_registry(tmp_path / "reg")
    broken = write(root, "registry/models/fraud/9.0.0.yaml", "model: fraud\n")
    assert run(["-C", str(root), "check", "--json"]) == 1
    broken.unlink()
    assert run(["-C", str(root), "check", "--json"]) == 0
    capsys.readouterr()
    directory = cache_dir(root)
    assert directory is not None
    answers = sorted((directory / "trees").glob("check-*.pickle"))
    assert len(answers) == 2
    first, second = (path.read_bytes() for path in answers)
    answers[0].write_bytes(second)
    answers[1].write_bytes(first)
    assert run(["-C", str(root), "check", "--json"]) == 0
    assert "9.0.0.yaml" not in capsys.readouterr().out


def test_a_flipped_letter_in_a_cached_listing_is_a_miss(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = small_registry(tmp_path / "reg")
    assert run(["-C", str(root), "list", "--json"]) == 0
    expected = capsys.readouterr().out
    assert '"production"' in expected
    directory = cache_dir(root)
    assert directory is not None
    (listing,) = (directory / "trees").glob("list-*.pickle")
    data = listing.read_bytes()
    assert b"production" in data
    listing.write_bytes(data.replace(b"production", b"froduction"))  # still a valid pickle
    assert run(["-C", str(root), "list", "--json"]) == 0
    assert capsys.readouterr().out == expected


def test_temporary_files_a_killed_run_left_are_swept(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    assert run(["-C", str(root), "check"]) == 0
    directory = cache_dir(root)
    assert directory is not None
    trees = directory / "trees"
    stale, fresh = trees / ".tmp-killed", trees / ".tmp-writing"
    for path in (stale, fresh):
        path.write_bytes(b"half a pickle")
    old = time.time() - STALE_TEMPORARY_S - 60
    os.utime(stale, (old, old))
    write(root, "registry/README.md", "notes\n")  # a new tree state: its answer is written
    assert run(["-C", str(root), "check"]) == 0
    assert not stale.exists() and fresh.exists()  # another run may be writing that one
