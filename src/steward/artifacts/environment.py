"""What a registration records about where it ran: Python, platform, ML packages, code, CI run."""

from __future__ import annotations

import getpass
import os
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path

from steward.entries.names import COMMIT_PATTERN, LOGIN_PATTERN

# Distributions worth recording when installed, the first found naming the framework.
FRAMEWORKS = (
    "torch",
    "tensorflow",
    "jax",
    "keras",
    "scikit-learn",
    "xgboost",
    "lightgbm",
    "catboost",
    "transformers",
    "onnx",
    "onnxruntime",
    "statsmodels",
    "numpy",
    "pandas",
    "scipy",
)


def installed_packages(names: tuple[str, ...] = FRAMEWORKS) -> dict[str, str]:
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def capture_environment() -> dict[str, object]:
    """The `environment` section of a version entry, as far as this process can tell."""
    packages = installed_packages()
    environment: dict[str, object] = {
        "python": platform.python_version(),
        "platform": f"{platform.system()}-{platform.machine()}",
        "packages": packages,
        "hardware": "cpu",
    }
    if packages:
        name = next(iter(packages))
        environment["framework"] = f"{name}=={packages[name]}"
    image = os.environ.get("STEWARD_IMAGE")
    if image:
        environment["image"] = image
    return environment


def ci_run_url() -> str | None:
    """The URL of the GitHub Actions run this process is part of, if it is part of one."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return None
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
    repository = os.environ.get("GITHUB_REPOSITORY")
    run_id = os.environ.get("GITHUB_RUN_ID")
    if not repository or not run_id:
        return None
    return f"{server}/{repository}/actions/runs/{run_id}"


def code_reference(directory: Path, registry_root: Path) -> dict[str, str] | None:
    """The git commit (and origin) of the training code, when `directory` is inside a repo other
    than the registry itself (the registry's own commit says nothing about the code)."""
    try:
        top = Path(_git(directory, "rev-parse", "--show-toplevel"))
        commit = _git(directory, "rev-parse", "HEAD")
    except (OSError, subprocess.CalledProcessError):
        return None
    if top.resolve() == registry_root.resolve():
        return None
    if not re.fullmatch(COMMIT_PATTERN, commit):
        return None
    reference = {"commit": commit}
    try:
        origin = _git(directory, "remote", "get-url", "origin")
    except (OSError, subprocess.CalledProcessError):
        origin = ""
    if origin:
        reference["repo"] = _without_credentials(origin)
    return reference


def _without_credentials(url: str) -> str:
    """Never record a token that a CI checkout put into the remote URL."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        rest = rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}" if sep else url


def _git(directory: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(directory), *args], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def current_login() -> str:
    """Who is registering: STEWARD_LOGIN, the Actions actor, or the local user."""
    for candidate in (
        os.environ.get("STEWARD_LOGIN"),
        os.environ.get("GITHUB_ACTOR"),
        getpass.getuser(),
    ):
        if candidate and re.fullmatch(LOGIN_PATTERN, candidate):
            return candidate
    return "unknown"
