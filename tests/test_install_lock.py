"""`steward github lock`: what the workflows install, pinned and hash-checked, reproducibly; and
the distribution's own name. Resolution runs pip against distributions in a local directory:
no test reaches a package index."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from steward.cli.main import run
from steward.forge.install_lock import LOCK_PATH, parse
from tests.builders import run_git

REPO = Path(__file__).resolve().parents[1]


def _wheel(directory: Path, name: str, version: str, requires: tuple[str, ...] = ()) -> Path:
    """A pure-Python wheel holding only its metadata: all a resolver reads."""
    stem = f"{name.replace('-', '_')}-{version}"
    path = directory / f"{stem}-py3-none-any.whl"
    metadata = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    metadata += [f"Requires-Dist: {requirement}" for requirement in requires]
    files = {
        f"{stem}.dist-info/METADATA": "\n".join(metadata) + "\n",
        f"{stem}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    files[f"{stem}.dist-info/RECORD"] = "".join(f"{name},,\n" for name in files) + (
        f"{stem}.dist-info/RECORD,,\n"
    )
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in files.items():
            archive.writestr(member, text)
    return path


@pytest.fixture
def index(tmp_path: Path) -> Path:
    directory = tmp_path / "index"
    directory.mkdir()
    _wheel(directory, "judge-pkg", "1.0", ("helper-pkg>=2",))
    _wheel(directory, "helper-pkg", "2.1")
    _wheel(directory, "helper-pkg", "1.0")
    return directory


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "registry"
    root.mkdir()
    run_git(root, "init", "-q")
    return root


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_lock_pins_every_distribution_with_its_sha256_reproducibly(
    repo: Path, index: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STEWARD_SPEC", "judge-pkg==1.0")
    args = ["-C", str(repo), "github", "lock", "--find-links", str(index)]
    assert run(args) == 0
    text = (repo / LOCK_PATH).read_text()
    _, pins, problems = parse(text)
    assert problems == []
    assert [(p.name, p.version) for p in pins] == [("helper-pkg", "2.1"), ("judge-pkg", "1.0")]
    assert pins[0].sha256 == _sha256(index / "helper_pkg-2.1-py3-none-any.whl")
    assert run(args) == 0
    assert "(unchanged)" in capsys.readouterr().out  # the same inputs, the same bytes
    assert run([*args[:4], "--check"]) == 0


def test_a_stale_or_tampered_lock_is_refused(
    repo: Path, index: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STEWARD_SPEC", "judge-pkg==1.0")
    assert run(["-C", str(repo), "github", "lock", "--find-links", str(index)]) == 0
    check = ["-C", str(repo), "github", "lock", "--check"]
    monkeypatch.setenv("STEWARD_SPEC", "judge-pkg==2.0")  # a new release to judge with
    capsys.readouterr()
    assert run(check) == 1
    out = capsys.readouterr().out
    assert "is stale" in out and "judge-pkg==2.0: .github/steward/requirements.txt pins 1.0" in out
    monkeypatch.setenv("STEWARD_SPEC", "judge-pkg==1.0")
    lock = repo / LOCK_PATH
    lock.write_text(lock.read_text().replace("--hash=sha256:", "", 1))
    assert run(check) == 1
    assert "is not NAME==VERSION --hash=sha256:" in capsys.readouterr().out
    lock.unlink()
    assert run(check) == 1
    assert "does not exist: run `steward github lock`" in capsys.readouterr().out


def test_pip_installs_from_the_lock_only_what_hashes_right(
    repo: Path, index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the workflows run: --require-hashes --no-deps. A distribution swapped on the index
    (same name and version, other bytes) is refused."""
    monkeypatch.setenv("STEWARD_SPEC", "judge-pkg==1.0")
    assert run(["-C", str(repo), "github", "lock", "--find-links", str(index)]) == 0
    install = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--require-hashes", "--no-deps", "--no-index", "--find-links", str(index),
        "-r", str(repo / LOCK_PATH),
    ]  # fmt: skip
    good = subprocess.run([*install, "--target", str(tmp_path / "one")], capture_output=True)
    assert good.returncode == 0, good.stderr
    assert (tmp_path / "one" / "judge_pkg-1.0.dist-info").is_dir()
    swapped = index / "helper_pkg-2.1-py3-none-any.whl"
    swapped.unlink()
    _wheel(index, "helper-pkg", "2.1", ("something-else",))  # other bytes, same name
    bad = subprocess.run([*install, "--target", str(tmp_path / "two")], capture_output=True)
    assert bad.returncode != 0 and b"THESE PACKAGES DO NOT MATCH THE HASHES" in bad.stderr


def test_this_repository_lock_answers_its_pyproject(capsys: pytest.CaptureFixture[str]) -> None:
    """The lock the repository's own gate and apply install from, as CI checks it."""
    assert run(["-C", str(REPO), "github", "lock", "--project", "--check"]) == 0, (
        capsys.readouterr().out
    )


def test_the_distribution_is_model_steward_and_installs_the_steward_command(
    tmp_path: Path,
) -> None:
    """Built offline from this checkout: the name on the index is model-steward (`steward`
    there is somebody else's), the import package and the command are `steward`."""
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index"]
    command += ["--no-build-isolation", "--wheel-dir", str(tmp_path), str(REPO)]
    built = subprocess.run(command, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("*.whl")
    assert wheel.name.startswith("model_steward-")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        assert "Name: model-steward\n" in archive.read(info).decode()
        assert "steward = steward.cli.main:main" in archive.read(entry_points).decode()
    assert "steward/cli/main.py" in names and "steward/templates/workflows/gate.yml" in names
    target = tmp_path / "installed"
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index"]
    installed = subprocess.run([*command, "--target", str(target), str(wheel)], capture_output=True)
    assert installed.returncode == 0, installed.stderr
    version = subprocess.run(
        [str(target / "bin" / "steward"), "--version"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(target)},  # its dependencies: this environment's
    )
    assert version.returncode == 0 and version.stdout.startswith("steward, version ")
