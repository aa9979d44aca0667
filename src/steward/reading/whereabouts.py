"""`steward which`: the version of a model holding a stage, and where its artifact is.

Its own module so that the question imports only what it needs: one model's version entries,
checked by `steward.entries.plain_entries` (pydantic and the entry models are imported only for a
file that check is unsure of, to say what is wrong with it), `.dvc/config` and, only when several
versions share the stage, the policy. `steward.reading.queries` re-exports it beside the other
questions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from steward.entries import dvcconfig, layout
from steward.entries.layout import Kind
from steward.entries.names import is_name
from steward.entries.plain_entries import STAGE_NAMES, PlainEntry
from steward.entries.semver import precedence
from steward.errors import RemoteError, StewardError, UsageError
from steward.reading import catalog
from steward.reading.answers import Reads

if TYPE_CHECKING:
    from steward.entries.models import Artifact, VersionEntry
    from steward.entries.policy import Policy


class StageConflict(StewardError):
    """More versions of a model hold a stage than its policy allows (a `single` stage)."""


@dataclass(frozen=True)
class Whereabouts:
    """The version holding a stage and every place its artifact is named or kept.

    `remote` is None when the DVC default remote cannot be told (`remote_problem` says why):
    the version is still the answer, and the files are still where the pointer says.
    """

    stage: str
    version: VersionEntry | PlainEntry
    remote: dvcconfig.DefaultRemote | None
    remote_problem: str | None
    also_in_stage: list[str]  # other holders of a stage that is not `single`, lower versions

    @property
    def entry_path(self) -> str:
        return layout.version_path(self.version.model, self.version.version)

    @property
    def pointer_path(self) -> str:
        return layout.pointer_path(self.version.model, self.version.version)

    @property
    def data_path(self) -> str:
        """Where `dvc pull` / `steward pull` put the files: the directory the pointer tracks."""
        return f"{layout.MODELS_DIR}/{self.version.model}/{self.version.version}"

    @property
    def artifact(self) -> Artifact | PlainEntry:
        return self.version.artifact

    def as_dict(self) -> dict[str, Any]:
        remote = None
        if self.remote is not None:
            remote = {
                "name": self.remote.name,
                "url": self.remote.url,
                "config_file": self.remote.config_file,
                "listing_object": self.remote.object_url(self.artifact.md5),
            }
        return {
            "model": self.version.model,
            "version": self.version.version,
            "stage": self.stage,
            "entry": self.entry_path,
            "pointer": self.pointer_path,
            "data": self.data_path,
            "md5": self.artifact.md5,
            "size": self.artifact.size,
            "format": self.artifact.format,
            "files": [item.model_dump(mode="json") for item in self.artifact.files],
            "remote": remote,
            "remote_problem": self.remote_problem,
            "also_in_stage": self.also_in_stage,
        }


def which(root: Path, model: str, stage: str, reads: Reads | None = None) -> Whereabouts:
    """The version of `model` holding `stage`, and where its artifact is.

    Reads the model's own directory and `.dvc/config` only (DVC is not imported), and the
    policy only when several versions share the stage. Several holders of a `single` stage is
    an error naming them; of another stage, the highest version answers and the rest are listed
    (as `gto which` answers with the latest). `reads`: records every file read (`answers`).
    """
    require_model_name(model)
    if stage not in STAGE_NAMES:
        raise UsageError(f"'{stage}' is not a stage: use one of {', '.join(STAGE_NAMES)}")
    recorded = reads if reads is not None else Reads(root)
    return whereabouts(
        model,
        stage,
        (_checked(root, path, recorded) for path in catalog.version_paths(root, model, recorded)),
        lambda: _single_stages(root, recorded),
        lambda: dvcconfig.default_remote(root, recorded.read),
    )


def whereabouts(
    model: str,
    stage: str,
    versions: Iterable[VersionEntry | PlainEntry],
    single_stages: Callable[[], set[str]],
    remote_of: Callable[[], dvcconfig.DefaultRemote],
) -> Whereabouts:
    """`which`'s answer from a model's versions, wherever they were read (a working tree, or a
    federation's mirror); the policy's single stages and the remote are asked only if needed."""
    holders = [entry for entry in versions if entry.stage == stage]
    if not holders:
        raise catalog.NotFound(f"no version of {model} is in {stage}")
    holders.sort(key=lambda entry: precedence(entry.version), reverse=True)
    if len(holders) > 1 and stage in single_stages():
        listed = ", ".join(entry.version for entry in reversed(holders))
        raise StageConflict(
            f"{model} has {len(holders)} versions in {stage} ({listed}), but the policy allows "
            f"one; run `steward check` and archive all but one"
        )
    try:
        remote: dvcconfig.DefaultRemote | None = remote_of()
        remote_problem = None
    except RemoteError as exc:
        remote, remote_problem = None, str(exc)
    others = [entry.version for entry in holders[1:]]
    return Whereabouts(stage, holders[0], remote, remote_problem, others)


def _checked(root: Path, relative: str, reads: Reads) -> VersionEntry | PlainEntry:
    """The version entry at `relative`, or EntryError naming its problems (`read_entry`)."""
    plain = catalog.plain_entry_at(relative, Kind.VERSION, reads)
    if plain is not None:
        return plain
    from steward.entries.validate import read_entry  # says what is wrong, or validates it

    entry: VersionEntry = read_entry(root, relative, Kind.VERSION, reads.read)
    return entry


def _single_stages(root: Path, reads: Reads) -> set[str]:
    # Imported here: the policy's classes and jsonschema cost more than the rest of `which`.
    from steward.entries.validate import read_entry
    from steward.reading.central_policy import CentralUnavailable, floored_policy

    policy: Policy = read_entry(root, layout.POLICY_FILE, Kind.POLICY, reads.read)
    if policy.central is not None:
        # The central file is read from a mirror or checked against it, which `reads` does not
        # record, and whether it could be read decides the answer.
        reads.depends_on_more()
    with contextlib.suppress(CentralUnavailable):  # then as the registry's own file says
        policy = floored_policy(root, policy, reads.read_or_none)
    return policy.single_stages()


def require_model_name(model: str) -> None:
    # A name is also a path component: refuse '..' and '/' before touching the file system.
    if not is_name(model):
        raise UsageError(
            f"'{model}' is not a model name: 1 to 64 lowercase letters, digits, '.', '_' or '-'"
        )
