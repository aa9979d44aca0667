"""The string types of the registry's entry models: names, versions, logins, hashes and paths.

Each type checks with a full match of its pattern in `steward.entries.names` (Python's `$` would
let a trailing newline through), says what is wrong in words a user can act on, and exports the
same pattern to JSON Schema for editors.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from steward.entries.names import (
    COMMIT_PATTERN,
    LOGIN_PATTERN,
    MAX_PATH,
    MAX_VERSION_LENGTH,
    MD5_PATTERN,
    METRIC_PATTERN,
    NAME_PATTERN,
    OBJECT_ID_PATTERN,
    PRINCIPAL_PATTERN,
    SHA256_PATTERN,
    VERSION_PATTERN,
    relative_path_problem,
)


def _checker(
    pattern: str, code: str, message: str, max_length: int | None = None
) -> Callable[[str], str]:
    compiled = re.compile(pattern, re.ASCII)

    def check(value: str) -> str:
        too_long = max_length is not None and len(value) > max_length
        if too_long or not compiled.fullmatch(value):
            raise PydanticCustomError(code, message, {"value": value})
        return value

    return check


Name = Annotated[
    str,
    AfterValidator(
        _checker(
            NAME_PATTERN,
            "name",
            "'{value}' is not a valid name: use 1 to 64 lowercase letters, digits, '.', '_' "
            "or '-', "
            "starting with a letter or digit",
        )
    ),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": f"^{NAME_PATTERN}$",
            "description": "lowercase letters, digits, '.', '_', '-'; 1 to 64 characters",
        }
    ),
]

Version = Annotated[
    str,
    AfterValidator(
        _checker(
            VERSION_PATTERN,
            "version",
            "'{value}' is not a semantic version: write MAJOR.MINOR.PATCH such as 1.3.0, "
            "optionally with a pre-release such as 2.0.0-rc.1",
            MAX_VERSION_LENGTH,
        )
    ),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": f"^{VERSION_PATTERN}$",
            "maxLength": MAX_VERSION_LENGTH,
            "description": "semantic version MAJOR.MINOR.PATCH[-PRERELEASE], always a string",
        }
    ),
]

Login = Annotated[
    str,
    AfterValidator(_checker(LOGIN_PATTERN, "login", "'{value}' is not a valid GitHub login")),
    WithJsonSchema(
        {"type": "string", "pattern": f"^{LOGIN_PATTERN}$", "description": "a GitHub login"}
    ),
]

Principal = Annotated[
    str,
    AfterValidator(
        _checker(
            PRINCIPAL_PATTERN,
            "principal",
            "'{value}' is neither a GitHub login nor a team written as @org/team-slug",
        )
    ),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": f"^{PRINCIPAL_PATTERN}$",
            "description": "a GitHub login, or a team as @org/team-slug",
        }
    ),
]

MetricName = Annotated[
    str,
    AfterValidator(
        _checker(
            METRIC_PATTERN,
            "metric_name",
            "'{value}' is not a valid metric name: use letters, digits and _ . : / @ -",
        )
    ),
    WithJsonSchema({"type": "string", "pattern": f"^{METRIC_PATTERN}$"}),
]

Md5 = Annotated[
    str,
    AfterValidator(
        _checker(
            MD5_PATTERN,
            "md5",
            "'{value}' is not a DVC md5: 32 lowercase hex digits, with '.dir' for a directory",
        )
    ),
    WithJsonSchema({"type": "string", "pattern": f"^{MD5_PATTERN}$"}),
]

Sha256 = Annotated[
    str,
    AfterValidator(
        _checker(SHA256_PATTERN, "sha256", "'{value}' is not a sha256: 64 lowercase hex digits")
    ),
    WithJsonSchema({"type": "string", "pattern": f"^{SHA256_PATTERN}$"}),
]

CommitId = Annotated[
    str,
    AfterValidator(
        _checker(
            COMMIT_PATTERN,
            "commit",
            "'{value}' is not a git commit id: 7 to 64 lowercase hex digits",
        )
    ),
    WithJsonSchema({"type": "string", "pattern": f"^{COMMIT_PATTERN}$"}),
]

ObjectId = Annotated[
    str,
    AfterValidator(
        _checker(
            OBJECT_ID_PATTERN,
            "object_id",
            "'{value}' is not a full git object id: 40 (or 64) lowercase hex digits, never "
            "abbreviated, so that it names one object",
        )
    ),
    WithJsonSchema({"type": "string", "pattern": f"^{OBJECT_ID_PATTERN}$"}),
]


def check_relative_path(value: str) -> str:
    """A path inside an artifact: relative, '/'-separated, no '..', nothing that escapes."""
    problem = relative_path_problem(value)
    if problem is not None:
        raise PydanticCustomError(
            "relative_path", "path '{value}' {problem}", {"value": value, "problem": problem}
        )
    return value


RelativePath = Annotated[
    str,
    AfterValidator(check_relative_path),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_PATH,
            "pattern": r"^(?!/)(?!.*(?:^|/)\.\.?(?:/|$))(?!.*//)[^\\\u0000-\u001f\u007f]+$",
            "description": "a relative '/'-separated path without '.' or '..' segments",
        }
    ),
]
