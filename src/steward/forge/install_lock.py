"""The lock the gate and apply workflows install the judge from: every distribution pinned to one
version and one sha256, so that what runs with the workflows' tokens is exactly what was
reviewed when the lock was committed (the lock is under `.github/`, a governed path).

`steward github lock` resolves the requirements with pip (`pip install --dry-run --report`, for
the interpreter that runs it, which must be the workflows' Python on Linux x86_64) and writes
`.github/steward/requirements.txt`; the workflows run `pip install --require-hashes --no-deps
-r` on it. A registry locks `model-steward` itself; Steward's own repository (`--project`) locks
the dependencies and build requirements of its `pyproject.toml` and installs itself from the
checked-out base. `--check` tells, offline, whether the lock still answers its inputs.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from steward.errors import StewardError, UsageError

LOCK_PATH = ".github/steward/requirements.txt"
RUNNER_PYTHON = "3.11"  # actions/setup-python's python-version in the workflows Steward writes
RUNNER_PLATFORM = "Linux x86_64"  # ubuntu-24.04
_INPUTS = "# inputs: sha256:"


class LockError(StewardError):
    """The lock could not be made, or does not answer its inputs."""


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    sha256: str

    def render(self) -> str:
        return f"{self.name}=={self.version} \\\n    --hash=sha256:{self.sha256}"


def project_inputs(root: Path) -> list[str]:
    """What installing the project from a checkout needs: its dependencies and its build
    requirements (it is then built with --no-build-isolation from the lock's setuptools)."""
    path = root / "pyproject.toml"
    try:
        config = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LockError(f"{path}: {exc}") from exc
    dependencies = list(config.get("project", {}).get("dependencies", []))
    build = list(config.get("build-system", {}).get("requires", []))
    return sorted({*dependencies, *build})


def inputs_digest(inputs: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(sorted(inputs)).encode()).hexdigest()


def _check_interpreter() -> None:
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    where = f"{platform.system()} {platform.machine()}"
    if here != RUNNER_PYTHON or where != RUNNER_PLATFORM:
        raise UsageError(
            f"the lock is for the workflows' Python {RUNNER_PYTHON} on {RUNNER_PLATFORM}; this "
            f"is Python {here} on {where}: run `steward github lock` with that Python"
        )


def resolve(
    inputs: Sequence[str], index_url: str | None = None, find_links: Path | None = None
) -> list[Pin]:
    """Every distribution installing `inputs` takes, as pip resolves them for this interpreter,
    each with the sha256 of the file pip would download."""
    _check_interpreter()
    for text in inputs:
        try:
            Requirement(text)
        except InvalidRequirement as exc:
            raise UsageError(f"{text!r} is not a requirement: {exc}") from exc
    source: list[str] = []
    if find_links is not None:
        source = ["--no-index", "--find-links", str(find_links)]
    elif index_url is not None:
        source = ["--index-url", index_url]
    with tempfile.TemporaryDirectory(prefix="steward-lock-") as scratch:
        report = Path(scratch) / "report.json"
        command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed"]
        command += ["--quiet", "--disable-pip-version-check", "--report", str(report)]
        done = subprocess.run(
            [*command, *source, *inputs], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise LockError(f"pip could not resolve {', '.join(inputs)}:\n{done.stderr.strip()}")
        data = json.loads(report.read_text("utf-8"))
    return sorted((_pin(item) for item in data.get("install", [])), key=lambda p: p.name)


def _pin(item: dict[str, object]) -> Pin:
    metadata = item.get("metadata")
    download = item.get("download_info")
    if not isinstance(metadata, dict) or not isinstance(download, dict):
        raise LockError(f"pip's report has an entry it did not describe: {item!r}")
    name = str(canonicalize_name(str(metadata["name"])))
    archive = download.get("archive_info")
    if not isinstance(archive, dict):
        raise LockError(f"{name} is not from a package index (a directory or VCS): cannot pin")
    hashes = archive.get("hashes")
    sha256 = hashes.get("sha256") if isinstance(hashes, dict) else None
    if sha256 is None:
        algorithm, _, value = str(archive.get("hash", "")).partition("=")
        sha256 = value if algorithm == "sha256" else None
    if not sha256:
        raise LockError(f"the index gave no sha256 for {name}: cannot pin it")
    return Pin(name, str(metadata["version"]), str(sha256))


def render(pins: Sequence[Pin], inputs: Sequence[str]) -> str:
    """The lock file: the same inputs resolved to the same pins give the same bytes."""
    lines = [
        "# Generated by `steward github lock`: what the gate and apply workflows install, each",
        f"# distribution pinned and hash-checked, for Python {RUNNER_PYTHON} on {RUNNER_PLATFORM}.",
        "# Installed with `pip install --require-hashes --no-deps -r`. Do not edit: run",
        "# `steward github lock` again when the inputs change (`steward github lock --check`).",
        *(f"#   {text}" for text in sorted(inputs)),
        f"{_INPUTS}{inputs_digest(inputs)}",
        *(pin.render() for pin in pins),
    ]
    return "\n".join(lines) + "\n"


def parse(text: str) -> tuple[str | None, list[Pin], list[str]]:
    """(the inputs' digest, the pins, problems) of a lock file."""
    digest = None
    pins: list[Pin] = []
    problems: list[str] = []
    joined = text.replace("\\\n", " ")
    for number, line in enumerate(joined.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith(_INPUTS):
            digest = stripped[len(_INPUTS) :]
            continue
        if not stripped or stripped.startswith("#"):
            continue
        requirement, _, rest = stripped.partition(" ")
        name, sep, version = requirement.partition("==")
        parts = rest.split()
        hashes = [part.removeprefix("--hash=sha256:") for part in parts]
        well_formed = all(part.startswith("--hash=sha256:") for part in parts)
        if not sep or not hashes or not well_formed or any(len(h) != 64 for h in hashes):
            problems.append(
                f"line {number}: {stripped[:80]!r} is not NAME==VERSION --hash=sha256:…"
            )
            continue
        pins.append(Pin(str(canonicalize_name(name)), version, hashes[0]))
    return digest, pins, problems


def check(lock_text: str | None, inputs: Sequence[str]) -> list[str]:
    """Why the lock does not answer `inputs` (empty: it does): missing, stale (its inputs
    changed), a line that is not a hash-checked pin, or an input no pin satisfies."""
    if lock_text is None:
        return [f"{LOCK_PATH} does not exist: run `steward github lock`"]
    digest, pins, problems = parse(lock_text)
    if digest != inputs_digest(inputs):
        problems.append(
            f"{LOCK_PATH} is stale: it was made for other inputs; run `steward github lock`"
        )
    by_name = {pin.name: pin for pin in pins}
    for text in inputs:
        requirement = Requirement(text)
        pin = by_name.get(str(canonicalize_name(requirement.name)))
        if pin is None:
            problems.append(f"{text}: not in {LOCK_PATH}")
        elif not requirement.specifier.contains(pin.version, prereleases=True):
            problems.append(f"{text}: {LOCK_PATH} pins {pin.version}")
    return problems
