"""The one error root of Steward and its domain subclasses.

The core raises these; only the CLI's top-level handler turns them into messages and exit codes
(1 expected failure, 2 usage, 3 unexpected, 130 interrupted).
"""

from __future__ import annotations

import errno

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_UNEXPECTED = 3
EXIT_INTERRUPTED = 130

# A full disk or quota, or a file-size limit: the machine's state, not a bug (exit 1, named).
OUT_OF_SPACE = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large (a file-size limit)",
}


class StewardError(Exception):
    """An expected failure: the message is for the user, the stack is not."""

    exit_code = EXIT_FAILURE


class UsageError(StewardError):
    """The command was called wrongly (bad option value, missing argument)."""

    exit_code = EXIT_USAGE


class YamlError(StewardError):
    """A file is not acceptable strict YAML. The message starts with `file:line:`."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.problem = message
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")


class RepoError(StewardError):
    """The registry repository is missing, not a git repository, or in a state we cannot use."""


class RemoteError(StewardError):
    """The DVC remote is not configured, unreachable, or refused an operation."""


class GitCommandError(StewardError):
    """A git command failed; the message carries git's own words."""
