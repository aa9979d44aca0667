"""The npm packages the fake GitHub is checked against, installed on demand with `npm ci`.

GitHub publishes its REST description and webhook examples only as npm packages, so the tests
install them with npm (Node is on every machine of this project) from the committed
`package-lock.json`: the same bytes everywhere, and a lock change is a reviewed diff. Installing
lazily from the first test that needs them keeps CI a single `pytest` call.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
"""Where package.json, package-lock.json and (git-ignored) node_modules/ live."""

STAMP_NAME = ".steward-lock.sha256"
"""Written into node_modules/ after a successful `npm ci`: the hash of the manifests it installed.
A hash, not an mtime, because git sets mtimes at checkout time, not when the lock changed."""


class NodePackagesError(RuntimeError):
    """The packages cannot be installed: the tests that depend on them must fail, not skip."""


def node_modules(directory: Path = PACKAGE_DIR) -> Path:
    return directory / "node_modules"


def manifest_digest(directory: Path = PACKAGE_DIR) -> str:
    """The hash of package.json and package-lock.json: what an installed tree must match."""
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        digest.update(name.encode())
        digest.update((directory / name).read_bytes())
    return digest.hexdigest()


def is_installed(directory: Path = PACKAGE_DIR) -> bool:
    stamp = node_modules(directory) / STAMP_NAME
    return stamp.is_file() and stamp.read_text().strip() == manifest_digest(directory)


def _install_lock_path(directory: Path) -> Path:
    """A lock file outside the work tree (nothing more to git-ignore) and outside node_modules/,
    which `npm ci` deletes first thing."""
    key = hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"steward-npm-ci-{key}.lock"


def ensure_node_packages(directory: Path = PACKAGE_DIR) -> bool:
    """Run `npm ci` in `directory` unless node_modules/ already matches the lock; True if it ran.

    A file lock serialises concurrent test processes (pytest-xdist workers) so that one installs
    and the others wait and then find the stamp.
    """
    if is_installed(directory):
        return False
    npm = shutil.which("npm")
    if npm is None:
        raise NodePackagesError(
            "npm is not on PATH: the GitHub API tests need Node.js and npm to install "
            f"@octokit/openapi and @octokit/webhooks-examples into {node_modules(directory)} "
            "(Debian: `apt-get install nodejs npm`)"
        )
    with _install_lock_path(directory).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_installed(directory):
            return False
        env = {**os.environ, "npm_config_update_notifier": "false"}
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=directory,
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if result.returncode != 0:
            raise NodePackagesError(
                f"`npm ci` failed in {directory} (exit {result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )
        (node_modules(directory) / STAMP_NAME).write_text(manifest_digest(directory) + "\n")
    return True
