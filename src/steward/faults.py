"""Named fault points, for the fault tests: a process whose environment has
`STEWARD_FAULT=NAME` (or a comma-separated list of names) kills itself with SIGKILL when it
reaches the point NAME, as `kill -9` would: no `finally`, no cleanup, no flushed buffers.

Points are named `step:moment` (`land:branch-moved`). Nothing else reads the variable, and a name
that no point has does nothing, so production runs never set it and never stop here."""

from __future__ import annotations

import os
import signal


def point(name: str) -> None:
    """Die here if the environment names this point."""
    wanted = os.environ.get("STEWARD_FAULT")
    if wanted and name in wanted.split(","):
        os.kill(os.getpid(), signal.SIGKILL)
