"""Progress on long work: on a terminal (a real pseudo-terminal here) `register` and `pull` draw
a bar with bytes and rate on stderr and remove it; with --json, --quiet or off a terminal they
write nothing of the kind; and no stray escape code follows the output."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from tests.dvc_registry import RegistryRepo, make_registry


def on_a_terminal(*args: str) -> bytes:
    """Run steward with stdout and stderr on a pseudo-terminal 100 columns wide."""
    pid, fd = pty.fork()
    if pid == 0:  # the child
        fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
        os.execv(sys.executable, [sys.executable, "-m", "steward", *args])
    out = b""
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        out += data
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, out
    return out


@pytest.fixture
def repo(tmp_path: Path) -> RegistryRepo:
    return make_registry(tmp_path)


def _big(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(os.urandom(16 * 1024 * 1024))
    return path


def test_register_and_pull_show_progress_on_a_terminal_and_nothing_else(
    repo: RegistryRepo, tmp_path: Path
) -> None:
    out = on_a_terminal("-C", str(repo.root), "register", "fraud", str(_big(tmp_path, "a.bin")))
    assert b"hashing:" in out and b"B/s" in out
    assert out.endswith(b"\r\n") and not out.rstrip().endswith(b"\x1b[0m")
    assert b"Registered fraud 0.1.0" in out
    pulled = on_a_terminal("-C", str(repo.root), "pull", "fraud@0.1.0", "-o", str(tmp_path / "o"))
    assert b"pulling:" in pulled and pulled.rstrip().endswith(
        b"written to " + str(tmp_path / "o").encode()
    )
    quiet = on_a_terminal(
        "-C", str(repo.root), "register", "fraud", str(_big(tmp_path, "b.bin")), "--json"
    )
    assert b"hashing" not in quiet and b"\x1b" not in quiet
    quiet = on_a_terminal(
        "-C", str(repo.root), "pull", "fraud@0.1.0", "-o", str(tmp_path / "p"), "-q"
    )
    deep = on_a_terminal("-C", str(repo.root), "verify", "--deep")
    assert b"verifying (downloading and hashing):" in deep and b"ok" in deep.lower()
    assert b"pulling" not in quiet


def test_off_a_terminal_nothing_but_the_answer(repo: RegistryRepo, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "steward",
            "-C",
            str(repo.root),
            "register",
            "fraud",
            str(_big(tmp_path, "c.bin")),
        ],
        capture_output=True,
        check=True,
    )
    assert result.stderr == b"" and b"\x1b" not in result.stdout


def test_a_cold_check_and_list_of_a_large_registry_count_the_files_read(tmp_path: Path) -> None:
    from tests.test_check_scale import build

    root = tmp_path / "big"
    build(root, models=200)  # 2,000 versions (4,000 files): over the threshold
    listed = on_a_terminal("-C", str(root), "list")
    assert b"reading the registry:" in listed and b"2000 versions of 200 models" in listed
    checked = on_a_terminal("-C", str(root), "check")
    assert b"reading the registry:" in checked and b"files" in checked
    again = on_a_terminal("-C", str(root), "check", "--json")
    assert b"reading the registry" not in again
