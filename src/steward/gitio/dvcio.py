"""Importing DVC without letting it rewire the process.

`import dvc` calls `colorama.init()`, which replaces `sys.stdout`/`sys.stderr` with wrappers when
they are not terminals, registers an exit hook that writes a colour reset (`ESC[0m`) after our
output on a terminal, and attaches logging handlers bound to the streams of that moment. In a
library that is wrong (and in tests, where streams are swapped, it breaks later writes), so the
import goes through here: the streams are restored and DVC's loggers write warnings to whatever
`sys.stderr` is when they emit.
"""

from __future__ import annotations

import logging
import sys
from types import ModuleType
from typing import TextIO

_DVC_LOGGERS = ("dvc", "dvc_objects", "dvc_data")


class _CurrentStderr(logging.StreamHandler[TextIO]):
    """A handler that writes to the current `sys.stderr`, not the one at creation time."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        """The stream is always the current sys.stderr; assignments are ignored."""


def import_dvc_repo() -> ModuleType:
    """Import `dvc.repo` once, undoing what the import does to the process's streams and logging."""
    loaded: ModuleType | None = sys.modules.get("dvc.repo")
    if loaded is not None:
        return loaded
    stdout, stderr = sys.stdout, sys.stderr
    try:
        import dvc.repo
    finally:
        sys.stdout, sys.stderr = stdout, stderr
    colorama = sys.modules.get("colorama.initialise")
    if colorama is not None:  # its exit hook writes ESC[0m after our output on a terminal
        import atexit

        atexit.unregister(colorama.reset_all)
    handler = _CurrentStderr()
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("dvc: %(message)s"))
    for name in _DVC_LOGGERS:
        logger = logging.getLogger(name)
        for old in list(logger.handlers):
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.setLevel(logging.WARNING)
        logger.propagate = False
    module: ModuleType = dvc.repo
    return module
