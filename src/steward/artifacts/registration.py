"""Registration: turn trained files into an immutable, retrievable version of a model.

The order of work is what makes it safe:

1. everything that can be checked without side effects is checked first (the model exists, the
   metrics are numbers, the datasets are registered, the version number is free, the entries
   it is judged by are committed as they stand);
2. the files are hashed in one streaming pass; identical content to an existing version of the
   model returns that version and changes nothing (idempotent);
3. the objects go into the DVC cache and then to the DVC remote — before any registry file is
   written, so an entry on a branch always names data the remote holds;
4. the entry, the pointer and the `.gitignore` line are built as git objects on top of the
   committed HEAD (the working tree is not read: what is registered and which numbers are taken
   is decided by committed state only), and the commit lands crash-safely
   (`steward.gitio.landing`): a journal, a compare-and-swap of the branch, then the working tree,
   the index and the artifact directory; a kill at any point is finished or undone by the next
   Steward command;
5. with `push`, the branch is pushed (`steward.artifacts.publishing`): a rejection moves the
   unpushed registrations onto the remote's tip (renumbering automatic numbers that were taken,
   dropping content the remote already has) and retries with backoff for a bounded time; a push
   that fails otherwise says the version is committed locally only, and the same registration
   run again (or `steward push`) pushes it.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import JsonValue, TypeAdapter, ValidationError

from steward import faults
from steward.artifacts.environment import (
    capture_environment,
    ci_run_url,
    code_reference,
    current_login,
)
from steward.artifacts.hashing import ArtifactDigest
from steward.artifacts.local_stores import RegistrationStore, open_registration_store
from steward.artifacts.open_registrations import (
    branch_entry,
    open_registrations,
    registration_branch,
)
from steward.artifacts.placement import place_data, recover_landings
from steward.artifacts.publishing import (
    RegistrationError,
    commit_message,
    data_dir,
    identical_version,
    push_registrations,
    push_timeout,
    versions_at,
)
from steward.artifacts.staging import Staging
from steward.entries import classification, layout
from steward.entries.entryfiles import render_entry
from steward.entries.layout import Kind
from steward.entries.markdown_text import code, escape_inline
from steward.entries.models import DatasetEntry, DatasetRef, ModelEntry, VersionEntry
from steward.entries.name_types import MetricName, Name
from steward.entries.policy import (
    Policy,
    TeamExtension,
    compile_team_schemas,
    schema_violations,
)
from steward.entries.problems import field_path, summarize_validation
from steward.entries.semver import Bump, bump, highest, precedence, require_version
from steward.entries.validate import EntryError, read_entry
from steward.errors import GitCommandError, UsageError
from steward.forge.choose import open_forge
from steward.forge.local import LocalForge
from steward.forge.protocol import BranchTaken, Forge, proposer_trailer
from steward.gitio.gitcmd import (
    CatFile,
    commit_blobs,
    current_branch,
    head_commit,
    make_commit,
    run_git,
)
from steward.gitio.landing import BranchMoved, Landing, land
from steward.reading.central_policy import CentralUnavailable, floored_policy, worktree_reader
from steward.reading.registry_root import require_registry
from steward.timings import phase

LOCAL_RETRIES = 5  # another process in this clone moved the branch first: rebuild and retry

_FORMATS = {
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".joblib": "joblib",
    ".onnx": "onnx",
    ".pt": "pytorch",
    ".pth": "pytorch",
    ".safetensors": "safetensors",
    ".h5": "keras",
    ".keras": "keras",
    ".json": "json",
    ".gguf": "gguf",
    ".bst": "xgboost",
    ".cbm": "catboost",
}


@dataclass(frozen=True)
class DatasetCitation:
    id: str
    version: str | None = None
    columns: tuple[str, ...] = ()  # the columns used; none: all of the dataset's

    @classmethod
    def parse(cls, text: str) -> DatasetCitation:
        """`ID`, `ID@VERSION`, either followed by `:COLUMN,COLUMN...`."""
        cited, _, columns = text.partition(":")
        dataset, _, version = cited.partition("@")
        return cls(dataset, version or None, tuple(c for c in columns.split(",") if c))


@dataclass(frozen=True)
class RegistrationRequest:
    model: str
    sources: tuple[Path, ...]
    version: str | None = None
    bump: Bump = "minor"
    metrics: dict[str, float] = field(default_factory=dict)
    datasets: tuple[DatasetCitation, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    features: tuple[str, ...] = ()
    description: str | None = None
    tags: tuple[str, ...] = ()
    format: str | None = None
    duration_s: float | None = None
    created_by: str | None = None
    push: bool = False
    show_progress: bool = False
    # Instead of committing to the current branch: a branch and a proposal (pull request) for it,
    # for registries whose main branch only takes reviewed changes. Nothing in the work tree moves.
    pull_request: bool = False


@dataclass(frozen=True)
class Registration:
    """What a registration did: the version, and whether it is new."""

    model: str
    version: str
    created: bool
    entry_path: str
    md5: str
    commit: str | None
    pushed: bool
    proposal: int | None = None
    branch: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "created": self.created,
            "entry": self.entry_path,
            "md5": self.md5,
            "commit": self.commit,
            "pushed": self.pushed,
            "proposal": self.proposal,
            "branch": self.branch,
        }


Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def register_version(
    root: Path,
    request: RegistrationRequest,
    clock: Clock = _utc_now,
    training_code_dir: Path | None = None,
    forge: Forge | None = None,
    staging: Staging | None = None,
) -> Registration:
    """Register `request.sources` as a new version of `request.model` in the repo at `root`.

    `staging`: the pass over the files, started by the caller (`staging.begin_staging`) so that
    it runs while the registry is read; otherwise it is started here. Either way it is closed:
    copies not moved into place are removed."""
    try:
        with phase("checks"):
            _check_request(request)
            require_registry(root)
            if not request.pull_request:
                current_branch(root)  # a detached HEAD is refused before anything is stored
            recover_landings(root)  # a registration a killed run left half done is finished first
            _require_committed(root, request)
            model = read_entry(root, layout.model_path(request.model), Kind.MODEL)
            datasets = [_cited_dataset(root, citation) for citation in request.datasets]
            _check_classification(root, model, datasets)
            team_validator = _team_version_validator(root, model)
        with phase("opening the stores"):
            store = open_registration_store(root)
        try:
            staging = staging or store.staging(request.sources, request.show_progress)
            with phase("waiting for the pass"):
                digest = staging.result()
            faults.point("register:hashed")
            attempt = _Attempt(root, request, model, datasets, digest, clock, training_code_dir)
            registration = _store_and_commit(attempt, store, team_validator, forge)
        finally:
            store.close()
    finally:
        if staging is not None:
            staging.close()  # removes the copies not moved into place
    if registration.created is False or not request.push:
        return registration
    with phase("git push"):
        return _pushed(root, registration)


def _store_and_commit(
    attempt: _Attempt, store: RegistrationStore, team_validator: Any, forge: Forge | None
) -> Registration:
    """With the artifact hashed and staged: the registration it already is, or a new version
    numbered, its objects put in the cache and on the remote, and its entry committed (or
    proposed)."""
    root, request, digest = attempt.root, attempt.request, attempt.digest
    found = attempt.existing_identical()
    if found is not None:
        attempt.refuse_other_metadata(found)
        if request.push and not request.pull_request:
            return _pushed(root, found)  # a retry after a push that failed
        return found
    if not request.pull_request:
        # Numbers waiting in the local forge's open registration proposals are taken too (a
        # hosted forge's are not read here: that would need its token on every registration).
        local = LocalForge(root)
        attempt.taken |= set(open_registrations(root, local, request.model, current_branch(root)))
    else:
        forge = forge or open_forge(root)
        waiting = open_registrations(root, forge, request.model, current_branch(root))
        for item in sorted(waiting.values(), key=lambda item: precedence(item.version)):
            if item.md5 == digest.md5:  # a retried job: its proposal is open already
                return attempt.proposed_already(item.version, item.branch, item.proposal)
        attempt.taken |= set(waiting)
    attempt.choose_version()
    attempt.check_against_team(team_validator)
    with phase("cache"):
        added = store.add_to_cache(digest)
    faults.point("register:cached")
    try:
        with phase("remote"):
            store.push(digest, show_progress=request.show_progress)
        faults.point("register:remote-has-objects")
        with phase("commit"):
            if request.pull_request:
                assert forge is not None
                return attempt.propose(forge)
            return attempt.commit()
    except BaseException:
        if not attempt.landed:
            store.remove_from_cache(added)
        raise


def _pushed(root: Path, registration: Registration) -> Registration:
    """Push the branch (with everything else this clone has not pushed); the registration
    reports where it ended up: renumbered, or found already registered on the remote."""
    what = f"{registration.model} {registration.version} is"
    result = push_registrations(root, what)
    version, ours = result.version_of(registration.model, registration.md5, registration.version)
    if result.lost:  # an older registration of this clone, whose --version was taken
        raise RegistrationError(
            f"{registration.model} {version} is pushed, but: "
            + "; ".join(item.describe() for item in result.lost)
        )
    return replace(
        registration,
        version=version,
        entry_path=layout.version_path(registration.model, version),
        created=registration.created and ours,
        commit=result.head,
        pushed=True,
    )


def _check_request(request: RegistrationRequest) -> None:
    """Everything about the request that can be wrong, before any file is read or hashed."""
    checks: list[tuple[str, Any, Any]] = [
        ("model", TypeAdapter(Name), request.model),
        ("metrics", TypeAdapter(dict[MetricName, float]), request.metrics),
        ("tags", TypeAdapter(list[Name]), list(request.tags)),
        ("params", TypeAdapter(dict[str, JsonValue]), request.params),
    ]
    if request.format is not None:
        checks.append(("format", TypeAdapter(Name), request.format))
    for citation in request.datasets:
        checks.append(("dataset", TypeAdapter(Name), citation.id))
    for label, adapter, value in checks:
        try:
            adapter.validate_python(value, strict=True)
        except ValidationError as exc:
            raise UsageError(summarize_validation(exc, (label,))) from None
    if request.version is not None:
        require_version(request.version)


def _require_committed(root: Path, request: RegistrationRequest) -> None:
    """The entries a registration is judged by (its model, the datasets it cites, the policy and
    team extensions) must be as the commit it makes will hold them: it commits only its own
    files, so an edit that is only in the working tree would be validated and left behind, and
    the branch would fail `steward check --rev`."""
    paths = [
        layout.POLICY_FILE,
        layout.model_path(request.model),
        *(layout.dataset_path(citation.id) for citation in request.datasets),
    ]
    listed = set(run_git(root, "ls-files", "--", layout.TEAMS_DIR).decode().split())
    listed |= {p.relative_to(root).as_posix() for p in (root / layout.TEAMS_DIR).glob("*.yaml")}
    paths += sorted(path for path in listed if path.endswith(".yaml"))
    with CatFile(root) as cat:
        for path in paths:
            committed = cat.read_optional(f"HEAD:{path}")
            try:
                here: bytes | None = (root / path).read_bytes()
            except FileNotFoundError:
                here = None
            except OSError as exc:
                raise RegistrationError(f"{path}: {exc.strerror}") from exc
            if here is not None and here != committed:
                what = "is not committed" if committed is None else "has uncommitted changes"
                raise RegistrationError(
                    f"{path} {what}: a registration commits only its own files and is judged by "
                    "what the commit will hold; commit it first (or undo the change)"
                )


def _cited_dataset(root: Path, citation: DatasetCitation) -> DatasetRef:
    try:
        dataset: DatasetEntry = read_entry(root, layout.dataset_path(citation.id), Kind.DATASET)
    except EntryError as exc:
        raise RegistrationError(
            f"dataset '{citation.id}': {exc}; register it first (`steward dataset add`)"
        ) from None
    ref = DatasetRef(id=dataset.name, version=citation.version, columns=list(citation.columns))
    unknown = classification.unknown_columns(ref, dataset)
    if unknown:
        raise RegistrationError(
            f"dataset '{citation.id}' has no column {', '.join(map(repr, unknown))} "
            f"({layout.dataset_path(citation.id)} columns)"
        )
    return ref


def _check_classification(root: Path, model: ModelEntry, refs: list[DatasetRef]) -> None:
    """Refuse a version its model's declared classification does not cover, before anything is
    pushed or committed: `steward check` would fail on main the moment it landed."""
    datasets = {ref.id: read_entry(root, layout.dataset_path(ref.id), Kind.DATASET) for ref in refs}
    found = classification.inherited(refs, datasets)
    levels = _classification_levels(root)
    missing = classification.uncovered(model.classification, classification.labels(found), levels)
    if missing:
        sources = "; ".join(
            f"'{item.label}' from {item.source}" for item in found if item.label in missing
        )
        raise RegistrationError(
            f"{layout.model_path(model.name)}: classification: the model declares "
            f"{', '.join(model.classification) or 'nothing'}, but this version would inherit "
            f"{sources}: the model's owner must add {', '.join(missing)} to it first"
        )


def _classification_levels(root: Path) -> list[str]:
    try:
        policy: Policy = read_entry(root, layout.POLICY_FILE, Kind.POLICY)
    except EntryError:
        return []  # `steward check` reports the policy; a version needs no levels to be refused
    with contextlib.suppress(CentralUnavailable):  # the central file's levels, where it sets them
        policy = floored_policy(root, policy, worktree_reader(root))
    return list(policy.classification_levels)


def _team_version_validator(root: Path, model: ModelEntry) -> Any:
    relative = layout.team_path(model.team)
    if not (root / relative).is_file():
        return None
    team: TeamExtension = read_entry(root, relative, Kind.TEAM)
    return compile_team_schemas(team).get("version")


def detect_format(digest: ArtifactDigest) -> str:
    """The artifact's format from its files' extensions (the largest file decides)."""
    if any(f.relpath.endswith("saved_model.pb") for f in digest.files):
        return "tensorflow-savedmodel"
    largest = max(digest.files, key=lambda f: f.size)
    suffix = Path(largest.relpath).suffix.lower()
    return _FORMATS.get(suffix, "files")


class _Attempt:
    """The state of one registration across push retries."""

    def __init__(
        self,
        root: Path,
        request: RegistrationRequest,
        model: ModelEntry,
        datasets: list[DatasetRef],
        digest: ArtifactDigest,
        clock: Clock,
        training_code_dir: Path | None,
    ) -> None:
        self.root = root
        self.request = request
        self.model = model
        self.datasets = datasets
        self.digest = digest
        self.clock = clock
        self.training_code_dir = training_code_dir or Path.cwd()
        self.version = ""
        self.base = head_commit(root)
        self.landed = False
        self.taken: set[str] = set()  # numbers held by open registration proposals

    def _existing(self) -> dict[str, VersionEntry]:
        return versions_at(self.root, self.base, self.request.model)

    def existing_identical(self) -> Registration | None:
        version = identical_version(self._existing(), self.digest.md5)
        if version is None:
            return None
        return Registration(
            model=self.request.model,
            version=version,
            created=False,
            entry_path=layout.version_path(self.request.model, version),
            md5=self.digest.md5,
            commit=None,
            pushed=False,
        )

    def refuse_other_metadata(self, found: Registration) -> None:
        """Identical content is the same version, and a retry of the same registration is
        answered with it; the same content with other metrics, description, tags, parameters,
        datasets or features is not a retry: versions are immutable, so it is refused, naming
        what differs, rather than dropped silently."""
        entry = self._existing()[found.version]
        request = self.request
        ours = {
            "metrics": dict(request.metrics),
            "description": request.description,
            "tags": list(request.tags),
            "hyperparameters": request.params,
            "datasets": [ref.model_dump(exclude_defaults=True) for ref in self.datasets],
            "features": list(request.features),
        }
        theirs = {
            "metrics": dict(entry.metrics),
            "description": entry.description,
            "tags": list(entry.tags),
            "hyperparameters": entry.training.hyperparameters,
            "datasets": [ref.model_dump(exclude_defaults=True) for ref in entry.training.datasets],
            "features": list(entry.training.features),
        }
        differ = [name for name in ours if ours[name] != theirs[name]]
        if differ:
            raise RegistrationError(
                f"{found.model} {found.version} already holds this content ({found.md5}) with "
                f"other {', '.join(differ)}; a version is registered once and never edited. Give "
                "the same metadata to get that version back, or register different files"
            )

    @property
    def numbering(self) -> str:
        return "requested" if self.request.version is not None else self.request.bump

    def choose_version(self, retrying: bool = False) -> None:
        existing = self._existing()
        if self.request.version is None:
            self.version = bump(highest([*existing, *self.taken]), self.request.bump)
            return
        if self.request.version in existing or self.request.version in self.taken:
            when = "meanwhile, by another registration" if retrying else "already"
            how = "registered" if self.request.version in existing else "proposed"
            raise RegistrationError(
                f"{self.request.model} {self.request.version} is {when} {how}; versions are "
                "never reused (leave out --version to take the next free one)"
            )
        self.version = self.request.version

    def proposed_already(self, version: str, branch: str, proposal: int | None) -> Registration:
        """The same content waits in an open registration proposal: that is this version."""
        model = self.request.model
        entry_path = layout.version_path(model, version)
        return Registration(
            model, version, False, entry_path, self.digest.md5, None, False, proposal, branch
        )

    def entry(self) -> VersionEntry:
        training: dict[str, Any] = {
            "datasets": [ref.model_dump(exclude_defaults=True) for ref in self.datasets],
            "features": list(self.request.features),
            "hyperparameters": self.request.params,
        }
        if self.request.duration_s is not None:
            training["duration_s"] = self.request.duration_s
        code = code_reference(self.training_code_dir, registry_root=self.root)
        if code is not None:
            training["code"] = code
        run = ci_run_url()
        if run is not None:
            training["run"] = run
        data = {
            "model": self.request.model,
            "version": self.version,
            "stage": "development",
            "created_at": self.clock(),
            "created_by": self.request.created_by or current_login(),
            "description": self.request.description,
            "tags": list(self.request.tags),
            "artifact": {
                "dvc": f"{self.version}.dvc",
                "md5": self.digest.md5,
                "size": self.digest.size,
                "format": self.request.format or detect_format(self.digest),
                "files": [
                    {"path": f.relpath, "sha256": f.sha256, "size": f.size}
                    for f in self.digest.files
                ],
            },
            "training": training,
            "metrics": self.request.metrics,
            "environment": capture_environment(),
        }
        try:
            return VersionEntry.model_validate({k: v for k, v in data.items() if v is not None})
        except ValidationError as exc:
            details = summarize_validation(exc)
            raise UsageError(f"the version entry would be invalid: {details}") from None

    def check_against_team(self, validator: Any) -> None:
        if validator is None:
            return
        data = self.entry().model_dump(mode="json", by_alias=True, exclude_defaults=True)
        violations = schema_violations(validator, data, self.model.team)
        if violations:
            details = "\n".join(f"{field_path(loc) or '(entry)'}: {msg}" for loc, msg in violations)
            raise RegistrationError(f"the version would not meet its team's extension:\n{details}")

    def _files(self) -> dict[str, bytes | None]:
        """The entry, the pointer and the model's `.gitignore` (ignoring every version's data
        directory), as the commit on `self.base` will hold them."""
        model, version = self.request.model, self.version
        entry_path = layout.version_path(model, version)
        gitignore_path = f"{layout.MODELS_DIR}/{model}/.gitignore"
        with CatFile(self.root) as cat:
            old = (cat.read_optional(f"{self.base}:{gitignore_path}") or b"").decode("utf-8")
        return {
            entry_path: render_entry(Kind.VERSION, entry_path, self.entry()).encode("utf-8"),
            layout.pointer_path(model, version): _pointer_text(self.digest, version).encode(),
            gitignore_path: layout.model_gitignore(old).encode(),
        }

    def commit(self) -> Registration:
        """Commit the version on the current branch and land it (see the module doc). Another
        process of this clone that moved the branch first makes this one rebuild on its commit:
        the content may now be registered, or the number taken."""
        model = self.request.model
        for _ in range(LOCAL_RETRIES):
            message = commit_message(model, self.version, self.digest.md5, self.numbering)
            commit = make_commit(self.root, self.base, self._files(), message)
            landing = Landing(
                current_branch(self.root),
                self.base,
                commit,
                {data_dir(model, self.version): self.digest.md5},
                what=f"registering {model} {self.version}",
            )
            try:
                land(self.root, landing, place_data)
            except BranchMoved:
                self.base = head_commit(self.root)
                found = self.existing_identical()
                if found is not None:
                    return found
                self.choose_version(retrying=True)
                continue
            finally:
                self.landed = self.landed or head_commit(self.root) == commit
            entry_path = layout.version_path(model, self.version)
            return Registration(
                model, self.version, True, entry_path, self.digest.md5, commit, False
            )
        raise RegistrationError(
            f"the branch kept moving while {model} was being registered ({LOCAL_RETRIES} tries); "
            "nothing was registered: run the command again"
        )

    def propose(self, forge: Forge) -> Registration:
        """Commit the entry, pointer and `.gitignore` line on the branch
        `steward/register/MODEL-VERSION` (no work tree change), publish it and open a proposal;
        the gate judges it like any other change. The branch name is the claim on the number:
        when another run published it first, this one takes the next free number (or, for the
        same content, answers with that run's version), retrying with backoff for a bounded
        time."""
        model = self.request.model
        deadline = time.monotonic() + push_timeout()
        attempts = 0
        while True:
            version = self.version
            branch = registration_branch(model, version)
            made = self._commit_on(branch, forge)
            if made is not None:
                try:
                    forge.publish(self.root, branch)
                except BranchTaken:
                    run_git(self.root, "update-ref", "-d", f"refs/heads/{branch}", made)
                except BaseException:
                    run_git(self.root, "update-ref", "-d", f"refs/heads/{branch}", made)
                    raise
                else:
                    return self._open_proposal(forge, branch, made)
            winner = branch_entry(self.root, branch, model, version)
            if winner is not None and winner.artifact.md5 == self.digest.md5:
                number = next(
                    (p.number for p in forge.list_proposals("open") if p.head_branch == branch),
                    None,
                )
                if number is not None:  # the same content, proposed by a run a moment ago
                    return self.proposed_already(version, branch, number)
                # Else its proposal was closed (or never opened): the number stays spent.
            self.taken.add(version)
            attempts += 1
            if self.request.version is not None or time.monotonic() >= deadline:
                self.choose_version(retrying=True)  # an explicit number: says it is taken
                raise RegistrationError(
                    f"gave up proposing {model} after {attempts} numbers were taken by other runs"
                )
            self.choose_version(retrying=True)
            time.sleep(random.uniform(0, min(2.0, 0.05 * 2**attempts)))

    def _commit_on(self, branch: str, forge: Forge) -> str | None:
        """The registration committed as the new branch `branch`; None if this clone has that
        branch already (a number claimed before here)."""
        model, version = self.request.model, self.version
        files = {path: content for path, content in self._files().items() if content is not None}
        proposer = self.request.created_by or current_login()
        message = (
            commit_message(model, version, self.digest.md5, self.numbering)
            + proposer_trailer(proposer)
            + "\n"
        )
        identity = forge.commit_identity()  # the bot that registers authors the commit
        env = (
            {
                "GIT_AUTHOR_NAME": identity[0],
                "GIT_AUTHOR_EMAIL": identity[1],
                "GIT_COMMITTER_NAME": identity[0],
                "GIT_COMMITTER_EMAIL": identity[1],
            }
            if identity is not None
            else None
        )
        try:
            return commit_blobs(self.root, self.base, files, message, branch, env=env)
        except GitCommandError:
            exists = run_git(self.root, "branch", "--list", branch).strip()
            if exists:
                return None
            raise

    def _open_proposal(self, forge: Forge, branch: str, commit: str) -> Registration:
        model, version = self.request.model, self.version
        proposer = self.request.created_by or current_login()
        try:
            proposal = forge.create_proposal(
                f"Register {model} {version}",
                f"Registers **{escape_inline(f'{model} {version}')}** (artifact "
                f"{code(self.digest.md5)}, {len(self.digest.files)} files, {self.digest.size} "
                "bytes) at `development`.\n",
                branch,
                current_branch(self.root),
                proposer,
            )
        except BaseException:
            run_git(self.root, "update-ref", "-d", f"refs/heads/{branch}", commit)
            raise
        entry_path = layout.version_path(model, version)
        return Registration(
            model,
            version,
            True,
            entry_path,
            self.digest.md5,
            commit,
            False,
            proposal.number,
            branch,
        )


def _pointer_text(digest: ArtifactDigest, version: str) -> str:
    from steward.entries.yamlio import dumps

    out = {
        "md5": digest.md5,
        "size": digest.size,
        "nfiles": len(digest.files),
        "hash": "md5",
        "path": version,
    }
    return dumps({"outs": [out]})
