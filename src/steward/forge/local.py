"""The local forge: proposals, reviews, comments and statuses kept inside the repository's `.git`.

This is the embedded default, so that the whole promote → review → gate → merge story runs on one
machine with nothing configured. It behaves like a small GitHub where it matters to the gate:

- a proposal's head and base commits are read live from the branch refs, so a new commit on the
  head branch makes earlier approvals stale, exactly as a push does on GitHub;
- a review records the head commit it was given on, and reviews are kept in submission order
  (which review wins is the gate's decision, not the forge's);
- merging always makes a true merge commit, so the promotion is one commit with two parents.

State lives under the git *common* dir (shared by linked work trees, never committed, never
pushed) in `steward/forge/`: one JSON document per proposal, one per commit with statuses, and a
counter. Every read-modify-write holds an exclusive `flock` on `steward/forge/lock`, and every file
is replaced atomically, so two processes writing at once lose nothing and a reader never sees a
half-written file.
"""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from steward.entries.names import LOGIN_PATTERN
from steward.errors import GitCommandError
from steward.forge.protocol import (
    Forge,
    ForgeError,
    Proposal,
    ProposalState,
    Review,
    ReviewState,
    Status,
    StatusState,
    TeamResolver,
)
from steward.gitio.gitcmd import identity_args, run_git

_SUBMITTABLE_REVIEW_STATES: frozenset[str] = frozenset(
    {"APPROVED", "CHANGES_REQUESTED", "COMMENTED"}
)
_DISMISSABLE_REVIEW_STATES: frozenset[str] = frozenset({"APPROVED", "CHANGES_REQUESTED"})
_STATUS_STATES: frozenset[str] = frozenset(get_args(StatusState))
_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_PROPOSAL_FILE = re.compile(r"([1-9][0-9]*)\.json")
# What may never appear in a branch name we pass to git: besides git's own refname rules, this
# shuts out every piece of revision syntax (`..`, `@{`, `^`, `~`, `:`), so `refs/heads/<name>`
# can only ever name that one branch.
_BAD_BRANCH_CHARACTERS = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _is_login(value: str) -> bool:
    return re.fullmatch(LOGIN_PATTERN, value, re.ASCII) is not None


def _is_branch_name(name: str) -> bool:
    """git's refname rules for a branch, kept strict enough that no revision syntax gets through."""
    if not name or name.startswith(("-", "/")) or name.endswith(("/", ".")) or name == "@":
        return False
    if "//" in name or ".." in name or "@{" in name or _BAD_BRANCH_CHARACTERS.search(name):
        return False
    return all(
        part and not part.startswith(".") and not part.endswith(".lock") for part in name.split("/")
    )


# --- the stored records ---------------------------------------------------------------------------
# Strict pydantic models: a hand-edited or truncated state file is refused with the field that is
# wrong, never half-read. `format` lets a later version migrate old files instead of guessing.


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _ReviewRecord(_Record):
    reviewer: str
    state: ReviewState
    commit: str
    submitted_at: datetime
    body: str = ""


class _CommentRecord(_Record):
    body: str
    created_at: datetime


class _ProposalRecord(_Record):
    format: Literal[1] = 1
    number: int = Field(ge=1)
    title: str
    body: str
    author: str
    head_branch: str
    base_branch: str
    state: ProposalState
    created_at: datetime
    # Set when the proposal stops being open: the commits it ended on, so that a merged proposal
    # keeps answering with what was merged even after its branches move on or are deleted.
    final_head_sha: str | None = None
    final_base_sha: str | None = None
    merge_commit: str | None = None
    merged_by: str | None = None
    ended_at: datetime | None = None
    reviews: list[_ReviewRecord] = Field(default_factory=list)
    comments: list[_CommentRecord] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> _ProposalRecord:
        if not (_is_branch_name(self.head_branch) and _is_branch_name(self.base_branch)):
            raise ValueError("head_branch/base_branch: not a valid branch name")
        if self.state != "open" and (self.final_head_sha is None or self.final_base_sha is None):
            raise ValueError(f"a {self.state} proposal must record final_head_sha/final_base_sha")
        if self.state == "merged" and (self.merge_commit is None or self.merged_by is None):
            raise ValueError("a merged proposal must record merge_commit and merged_by")
        return self


class _StatusRecord(_Record):
    context: str
    state: StatusState
    description: str


_RecordT = TypeVar("_RecordT", bound=_Record)


class _StatusesRecord(_Record):
    format: Literal[1] = 1
    sha: str
    statuses: list[_StatusRecord] = Field(default_factory=list)


class LocalForge:
    """A `Forge` whose proposals live in `<git common dir>/steward/forge/` of the repo at `root`.

    `clock` is injectable so that tests and the quickstart narrate with stable times; it must
    return timezone-aware datetimes, because audit records are compared across machines."""

    def __init__(self, root: Path, clock: Callable[[], datetime] | None = None) -> None:
        self.root = root
        self._clock = clock or _utc_now
        try:
            answer = run_git(root, "rev-parse", "--git-common-dir", "--show-toplevel").decode()
            common, top = answer.split("\n")[:2]
        except (GitCommandError, OSError, ValueError) as exc:
            raise ForgeError(f"{root}: cannot use as a local forge: {exc}") from exc
        # `--git-common-dir` may be relative; `git -C root` makes it relative to root.
        self.state_dir = (root / common).resolve() / "steward" / "forge"
        self._work_tree = Path(top).resolve()
        self._proposals_dir = self.state_dir / "proposals"
        self._statuses_dir = self.state_dir / "statuses"
        self._counter_path = self.state_dir / "counter"
        self._lock_path = self.state_dir / "lock"

    # --- proposals --------------------------------------------------------------------------------

    def create_proposal(
        self, title: str, body: str, head_branch: str, base_branch: str, author: str
    ) -> Proposal:
        """Open a proposal to merge `head_branch` into `base_branch`, numbered after the last."""
        if not title.strip():
            raise ForgeError("a proposal needs a title")
        self._check_login(author, "author")
        for role, branch in (("head", head_branch), ("base", base_branch)):
            if not _is_branch_name(branch):
                raise ForgeError(f"{role} branch {branch!r} is not a valid branch name")
        if head_branch == base_branch:
            raise ForgeError(f"head and base are the same branch {head_branch!r}")
        head_sha = self._require_branch(head_branch, "head")
        base_sha = self._require_branch(base_branch, "base")
        if self._is_ancestor(head_sha, base_sha):
            raise ForgeError(
                f"nothing to propose: {base_branch!r} already contains {head_branch!r} ({head_sha})"
            )
        created_at = self._now()
        with self._locked():
            for other in self._all_records():
                if other.state == "open" and other.head_branch == head_branch:
                    raise ForgeError(
                        f"proposal #{other.number} is already open for branch {head_branch!r}"
                    )
            number = self._read_counter() + 1
            record = _ProposalRecord(
                number=number,
                title=title,
                body=body,
                author=author,
                head_branch=head_branch,
                base_branch=base_branch,
                state="open",
                created_at=created_at,
            )
            # The counter first: a crash between the two writes leaves a gap in the numbers, never
            # a number that points at nothing while the counter refuses to move past it.
            self._write_atomically(self._counter_path, f"{number}\n".encode())
            self._write_record(record)
        return self._to_proposal(record)

    def get_proposal(self, number: int) -> Proposal:
        """The proposal with its head and base commits as the branches point now (while open)."""
        return self._to_proposal(self._read_record(number))

    def list_proposals(self, state: ProposalState | Literal["all"] = "open") -> list[Proposal]:
        """Proposals in this state (or all of them), newest first. An open proposal whose head
        branch was deleted is listed as closed, as GitHub closes such a pull request (reading it
        alone, or judging it, still fails: there is nothing to judge)."""
        found = [self._listed(record) for record in reversed(list(self._all_records()))]
        return [proposal for proposal in found if state in ("all", proposal.state)]

    def _listed(self, record: _ProposalRecord) -> Proposal:
        if record.state == "open" and self._branch_sha(record.head_branch) is None:
            return self._to_proposal(self._orphan_closed(record))
        return self._to_proposal(record)

    def _orphan_closed(self, record: _ProposalRecord) -> _ProposalRecord:
        """An open record whose head branch is gone, as closed: it ends on the last commit a
        review saw (else the base), and nothing of it can merge."""
        base_sha = self._branch_sha(record.base_branch) or "0" * 40
        closed = record.model_copy(deep=True)
        closed.final_head_sha = record.reviews[-1].commit if record.reviews else base_sha
        closed.final_base_sha = base_sha
        closed.state = "closed"
        closed.ended_at = self._now()
        return closed

    def close_proposal(self, number: int) -> Proposal:
        return self.close(number)

    def close(self, number: int) -> Proposal:
        """Close an open proposal without merging, freeing its head branch for a new proposal."""
        with self._locked():
            record = self._read_open_record(number)
            if self._branch_sha(record.head_branch) is None:  # deleted: close what is left
                record = self._orphan_closed(record)
            else:
                record.final_head_sha = self._require_branch(record.head_branch, "head")
                record.final_base_sha = self._require_branch(record.base_branch, "base")
                record.state = "closed"
                record.ended_at = self._now()
            self._write_record(record)
        return self._to_proposal(record)

    # --- reviews, comments, statuses --------------------------------------------------------------

    def list_reviews(self, number: int) -> list[Review]:
        """Every review in submission order; which one counts is the gate's decision."""
        return [_to_review(review) for review in self._read_record(number).reviews]

    def add_review(self, number: int, reviewer: str, state: ReviewState, body: str = "") -> Review:
        """Record a review on the proposal's current head commit."""
        self._check_login(reviewer, "reviewer")
        if state not in _SUBMITTABLE_REVIEW_STATES:
            raise ForgeError(
                f"review state {state!r} cannot be submitted; use one of "
                f"{', '.join(sorted(_SUBMITTABLE_REVIEW_STATES))}"
            )
        return self._append_review(number, reviewer, state, body, lambda _record: None)

    def dismiss_review(self, number: int, reviewer: str, by: str) -> Review:
        """Dismiss `reviewer`'s approval or change request, as a maintainer does on GitHub.

        It is stored as one more review (state DISMISSED) so that history stays append-only and
        the gate's "latest review wins" rule sees it."""
        self._check_login(reviewer, "reviewer")
        self._check_login(by, "dismissed by")

        def require_dismissable(record: _ProposalRecord) -> None:
            if not any(
                review.reviewer == reviewer and review.state in _DISMISSABLE_REVIEW_STATES
                for review in record.reviews
            ):
                raise ForgeError(
                    f"proposal #{number}: {reviewer} has no approval or change request to dismiss"
                )

        return self._append_review(
            number, reviewer, "DISMISSED", f"dismissed by {by}", require_dismissable
        )

    def comment(self, number: int, body: str, marker: str | None = None) -> None:
        """Append a comment; merged and closed proposals take comments too (post-merge notes).
        With `marker`, the earlier comment holding it is replaced instead (a sticky comment)."""
        if not body.strip():
            raise ForgeError("a comment needs a body")
        created_at = self._now()
        with self._locked():
            record = self._read_record(number)
            new = _CommentRecord(body=body, created_at=created_at)
            sticky = [i for i, c in enumerate(record.comments) if marker and marker in c.body]
            if sticky:
                record.comments[sticky[0]] = new
            else:
                record.comments.append(new)
            self._write_record(record)

    def publish(self, root: Path, branch: str) -> None:
        """Branches of this repository are already where the local forge reads them."""

    def commit_identity(self) -> tuple[str, str] | None:
        return None

    def teams(self) -> TeamResolver | None:
        """The local forge knows no teams: `@org/team` roles cannot be resolved here."""
        return None

    def list_comments(self, number: int) -> list[str]:
        """The comments' bodies in the order they were made."""
        return [comment.body for comment in self._read_record(number).comments]

    def set_status(self, sha: str, context: str, state: StatusState, description: str) -> None:
        """Set the status of `context` on commit `sha`, replacing that context's previous one."""
        self._check_commit(sha)
        if not context.strip():
            raise ForgeError("a status needs a context")
        if state not in _STATUS_STATES:
            raise ForgeError(
                f"status state {state!r} is not one of {', '.join(sorted(_STATUS_STATES))}"
            )
        status = _StatusRecord(context=context, state=state, description=description)
        with self._locked():
            record = self._read_statuses(sha) or _StatusesRecord(sha=sha)
            for index, existing in enumerate(record.statuses):
                if existing.context == context:
                    record.statuses[index] = status
                    break
            else:
                record.statuses.append(status)
            self._write_atomically(
                self._status_path(sha), record.model_dump_json(indent=2).encode()
            )

    def get_statuses(self, sha: str) -> list[Status]:
        """The latest status of each context on `sha`, in the order the contexts first appeared."""
        if not _OBJECT_ID.fullmatch(sha):
            raise ForgeError(f"{sha!r} is not a full commit id")
        record = self._read_statuses(sha)
        if record is None:
            return []
        return [
            Status(sha=sha, context=s.context, state=s.state, description=s.description)
            for s in record.statuses
        ]

    # --- merging ----------------------------------------------------------------------------------

    def merge(
        self,
        number: int,
        merged_by: str,
        message: str,
        expected_base: str | None = None,
        expected_head: str | None = None,
    ) -> str:
        """Merge the proposal with a true merge commit (base tip, head tip) and return its id.

        If the base branch is checked out at `root`, `git merge` runs there so the work tree
        follows; otherwise the commit is built from objects alone and the branch is moved with a
        compare-and-swap, so nothing on disk changes. Either way a failure leaves the branch, the
        index and the work tree as they were."""
        self._check_login(merged_by, "merged by")
        if not message.strip():
            raise ForgeError("a merge needs a commit message")
        with self._locked():
            record = self._read_open_record(number)
            head_sha = self._require_branch(record.head_branch, "head")
            base_sha = self._require_branch(record.base_branch, "base")
            for what, expected, actual in (
                ("base", expected_base, base_sha),
                ("head", expected_head, head_sha),
            ):
                if expected is not None and expected != actual:
                    raise ForgeError(
                        f"proposal #{number}: the {what} branch moved to {actual[:12]} after it "
                        f"was judged at {expected[:12]}; judge it again"
                    )
            if self._is_ancestor(head_sha, base_sha):
                raise ForgeError(
                    f"proposal #{number}: nothing to merge, {record.base_branch!r} already "
                    f"contains {head_sha}"
                )
            # Conflicts are found without touching anything, for both ways of merging below.
            tree = self._merge_tree(number, base_sha, head_sha)
            checked_out_at = self._work_tree_of(record.base_branch)
            if checked_out_at is None:
                merge_commit = self._merge_without_work_tree(
                    record.base_branch, base_sha, head_sha, tree, message
                )
            elif checked_out_at == self._work_tree:
                merge_commit = self._merge_in_work_tree(head_sha, message)
            else:
                raise ForgeError(
                    f"proposal #{number}: {record.base_branch!r} is checked out in another work "
                    f"tree ({checked_out_at}); merge there, or check out another branch in it"
                )
            parents = self._git("rev-list", "--parents", "-n", "1", merge_commit).split()
            record.state = "merged"
            record.merge_commit = merge_commit
            record.merged_by = merged_by
            record.final_head_sha = head_sha
            record.final_base_sha = parents[1] if len(parents) == 3 else base_sha
            record.ended_at = self._now()
            try:
                self._write_record(record)
            except ForgeError as exc:
                raise ForgeError(
                    f"proposal #{number}: merged as {merge_commit}, but the record could not be "
                    f"written: {exc}"
                ) from exc
        return merge_commit

    def _merge_tree(self, number: int, base_sha: str, head_sha: str) -> str:
        result = self._run("merge-tree", "--write-tree", "--name-only", base_sha, head_sha)
        output = result.stdout.decode("utf-8", "replace")
        if result.returncode == 1:
            # Output: tree id, the conflicted paths, a blank line, git's messages.
            _tree, _, rest = output.partition("\n")
            paths, _, _messages = rest.partition("\n\n")
            listed = ", ".join(paths.split("\n")) or "unknown paths"
            raise ForgeError(f"proposal #{number} cannot be merged: conflicts in {listed}")
        if result.returncode != 0:
            raise ForgeError(f"proposal #{number} cannot be merged: {_git_reason(result)}")
        return output.split("\n", 1)[0].strip()

    def _merge_without_work_tree(
        self, base_branch: str, base_sha: str, head_sha: str, tree: str, message: str
    ) -> str:
        commit = self._git(
            *identity_args(self.root),
            "commit-tree",
            tree,
            "-p",
            base_sha,
            "-p",
            head_sha,
            "-m",
            message,
        ).strip()
        # Compare-and-swap: if someone moved the base since we read it, nothing is changed.
        result = self._run(
            "update-ref",
            "-m",
            f"steward: merge {head_sha}",
            f"refs/heads/{base_branch}",
            commit,
            base_sha,
        )
        if result.returncode != 0:
            raise ForgeError(
                f"{base_branch!r} moved while merging; nothing was changed ({_git_reason(result)})"
            )
        return commit

    def _merge_in_work_tree(self, head_sha: str, message: str) -> str:
        # Hooks and merge.log/autostash settings would make this path differ from the one without
        # a work tree; the forge makes the same commit either way, as a server-side merge does.
        result = self._run(
            *identity_args(self.root),
            "merge",
            "--no-ff",
            "--no-edit",
            "--no-log",
            "--no-verify",
            "--no-autostash",
            "--quiet",
            "-m",
            message,
            head_sha,
        )
        if result.returncode != 0:
            reason = _git_reason(result)
            if self._run("rev-parse", "--quiet", "--verify", "MERGE_HEAD").returncode == 0:
                self._run("merge", "--abort")
            raise ForgeError(f"git merge failed, nothing was changed: {reason}")
        return self._git("rev-parse", "HEAD").strip()

    def _work_tree_of(self, branch: str) -> Path | None:
        """The work tree that has `branch` checked out, if any."""
        listing = self._git("worktree", "list", "--porcelain", "-z")
        path: Path | None = None
        for field in listing.split("\0"):
            if field.startswith("worktree "):
                path = Path(field.removeprefix("worktree ")).resolve()
            elif field == f"branch refs/heads/{branch}":
                return path
        return None

    # --- reading git ------------------------------------------------------------------------------

    def _run(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        """A git command whose exit code is an answer; errors are the caller's to interpret."""
        try:
            return subprocess.run(
                ["git", "-C", str(self.root), *args], capture_output=True, check=False
            )
        except OSError as exc:
            raise ForgeError(f"cannot run git: {exc}") from exc

    def _git(self, *args: str) -> str:
        try:
            return run_git(self.root, *args).decode()
        except GitCommandError as exc:
            raise ForgeError(str(exc)) from exc
        except OSError as exc:
            raise ForgeError(f"cannot run git: {exc}") from exc

    def _branch_sha(self, branch: str) -> str | None:
        result = self._run("rev-parse", "--quiet", "--verify", f"refs/heads/{branch}^{{commit}}")
        if result.returncode == 0:
            return result.stdout.decode().strip()
        if result.returncode == 1:
            return None
        raise ForgeError(f"cannot read branch {branch!r}: {_git_reason(result)}")

    def _require_branch(self, branch: str, role: str) -> str:
        sha = self._branch_sha(branch)
        if sha is None:
            raise ForgeError(f"{role} branch {branch!r} does not exist")
        return sha

    def _is_ancestor(self, ancestor: str, descendant: str) -> bool:
        # Not gitcmd.is_ancestor: that one reads any failure as "no", and here "no" lets a
        # proposal or merge go ahead, so an error must stay an error.
        result = self._run("merge-base", "--is-ancestor", ancestor, descendant)
        if result.returncode in (0, 1):
            return result.returncode == 0
        raise ForgeError(f"cannot compare {ancestor} and {descendant}: {_git_reason(result)}")

    def _check_commit(self, sha: str) -> None:
        if not _OBJECT_ID.fullmatch(sha):
            raise ForgeError(f"{sha!r} is not a full commit id")
        if self._run("cat-file", "-e", f"{sha}^{{commit}}").returncode != 0:
            raise ForgeError(f"commit {sha} does not exist in {self.root}")

    # --- state files ------------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the forge's one exclusive lock. Not re-entrant: flock locks per open file, so a
        nested acquire in the same process would wait for itself."""
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ForgeError(f"{self._lock_path}: cannot open the forge lock: {exc}") from exc
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # closing releases the lock

    def _proposal_path(self, number: int) -> Path:
        return self._proposals_dir / f"{number}.json"

    def _status_path(self, sha: str) -> Path:
        return self._statuses_dir / f"{sha}.json"

    def _read_record(self, number: int) -> _ProposalRecord:
        # bool is an int; `True` is not a proposal number.
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise ForgeError(f"no proposal #{number}")
        path = self._proposal_path(number)
        raw = _read_bytes(path)
        if raw is None:
            raise ForgeError(f"no proposal #{number}")
        record = _parse(_ProposalRecord, path, raw)
        if record.number != number:
            raise ForgeError(f"{path}: corrupt forge state: it holds proposal #{record.number}")
        return record

    def _read_open_record(self, number: int) -> _ProposalRecord:
        record = self._read_record(number)
        if record.state != "open":
            raise ForgeError(f"proposal #{number} is {record.state}")
        return record

    def _all_records(self) -> Iterator[_ProposalRecord]:
        try:
            names = [entry.name for entry in self._proposals_dir.iterdir()]
        except FileNotFoundError:
            return
        except OSError as exc:
            raise ForgeError(f"{self._proposals_dir}: cannot list proposals: {exc}") from exc
        # Temporary files of an interrupted write are not proposals.
        matches = (_PROPOSAL_FILE.fullmatch(name) for name in names)
        for number in sorted(int(match.group(1)) for match in matches if match):
            yield self._read_record(number)

    def _write_record(self, record: _ProposalRecord) -> None:
        path = self._proposal_path(record.number)
        self._write_atomically(path, record.model_dump_json(indent=2).encode())

    def _read_counter(self) -> int:
        raw = _read_bytes(self._counter_path)
        if raw is None:
            return 0
        text = raw.decode("ascii", "replace").strip()
        if not text.isdigit():
            raise ForgeError(f"{self._counter_path}: corrupt forge state: not a number: {text!r}")
        return int(text)

    def _read_statuses(self, sha: str) -> _StatusesRecord | None:
        path = self._status_path(sha)
        raw = _read_bytes(path)
        if raw is None:
            return None
        record = _parse(_StatusesRecord, path, raw)
        if record.sha != sha:
            raise ForgeError(f"{path}: corrupt forge state: it holds statuses of {record.sha}")
        return record

    def _write_atomically(self, path: Path, data: bytes) -> None:
        """Write through a temporary file in the same directory and rename it over `path`, so that
        readers (who take no lock) see the old document or the new one, never a mixture."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(descriptor, "wb") as stream:
                    stream.write(data)
                    stream.flush()
                    os.fsync(stream.fileno())
                Path(temporary).replace(path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise ForgeError(f"{path}: cannot write forge state: {exc}") from exc

    # --- small helpers ----------------------------------------------------------------------------

    def _append_review(
        self,
        number: int,
        reviewer: str,
        state: ReviewState,
        body: str,
        check: Callable[[_ProposalRecord], None],
    ) -> Review:
        submitted_at = self._now()
        with self._locked():
            record = self._read_open_record(number)
            check(record)
            review = _ReviewRecord(
                reviewer=reviewer,
                state=state,
                commit=self._require_branch(record.head_branch, "head"),
                submitted_at=submitted_at,
                body=body,
            )
            record.reviews.append(review)
            self._write_record(record)
        return _to_review(review)

    def _to_proposal(self, record: _ProposalRecord) -> Proposal:
        if record.state == "open":
            head_sha = self._branch_sha(record.head_branch)
            base_sha = self._branch_sha(record.base_branch)
            if head_sha is None or base_sha is None:
                missing = record.head_branch if head_sha is None else record.base_branch
                raise ForgeError(f"proposal #{record.number}: branch {missing!r} no longer exists")
        else:
            # Checked by the record's validator.
            assert record.final_head_sha is not None and record.final_base_sha is not None
            head_sha, base_sha = record.final_head_sha, record.final_base_sha
        return Proposal(
            number=record.number,
            title=record.title,
            body=record.body,
            author=record.author,
            base_branch=record.base_branch,
            head_branch=record.head_branch,
            base_sha=base_sha,
            head_sha=head_sha,
            state=record.state,
            created_at=record.created_at,
            merge_commit=record.merge_commit,
        )

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise ForgeError("the forge's clock returned a time without a timezone")
        return now

    @staticmethod
    def _check_login(login: str, role: str) -> None:
        if not _is_login(login):
            raise ForgeError(f"{role}: {login!r} is not a valid login")


if TYPE_CHECKING:

    def _implements_the_protocol(forge: LocalForge) -> Forge:
        """Never called: mypy proves here that LocalForge is a Forge."""
        return forge


def _to_review(record: _ReviewRecord) -> Review:
    return Review(
        reviewer=record.reviewer,
        state=record.state,
        commit=record.commit,
        submitted_at=record.submitted_at,
        body=record.body,
    )


def _read_bytes(path: Path) -> bytes | None:
    """The file's content, or None if it does not exist; any other failure names the file."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ForgeError(f"{path}: cannot read forge state: {exc}") from exc


def _parse(model: type[_RecordT], path: Path, raw: bytes) -> _RecordT:
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(document)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ForgeError(f"{path}: corrupt forge state: {problems}") from None


def _git_reason(result: subprocess.CompletedProcess[bytes]) -> str:
    """git's own words for a failure: stderr, else stdout (`git merge` reports conflicts there)."""
    for stream in (result.stderr, result.stdout):
        text = stream.decode("utf-8", "replace").strip()
        if text:
            return " ".join(text.split("\n"))
    return f"exit {result.returncode}"
