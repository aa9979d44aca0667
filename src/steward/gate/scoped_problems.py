"""The problems a proposal would bring into the registry, without checking the whole registry.

"New problems" are those `steward check` finds in the tree a merge would produce and not in the
merge base. A check of both whole trees reads every file twice; instead, only what the proposal
changed can have changed a problem:

- a file's own problems depend on its bytes alone, so unchanged files keep theirs;
- every rule across files is either within one model's directory (a version and its pointer,
  the model it belongs to, one holder of a `single` stage, the team's extra fields of the model
  and its versions), or hangs on files that are always read (policy, team extensions, datasets:
  few), or on every model.yaml (CODEOWNERS), or on the list of paths (case collisions).

So both trees are checked within one `Scope`: the directories of the models the change touches,
the files it changed, policies, teams and datasets, and every model.yaml if one of them or
CODEOWNERS changed; a change to a policy, team or dataset file checks both whole trees (they can
change a problem anywhere). Problems outside the scope are the same in both trees, so leaving
them out of both changes no difference. Records are shared by the two checks and cached, so a
2-file promotion costs a few parses and two listings, with or without a warm cache.
"""

from __future__ import annotations

from pathlib import Path

from steward.entries import layout
from steward.entries.layout import CODEOWNERS_PATH, Kind, Misplaced
from steward.entries.problems import Problem
from steward.gitio.changes import malformed_name
from steward.gitio.gitcmd import run_git
from steward.gitio.tree import GitSnapshot
from steward.reading.cache import RecordStore, cache_dir
from steward.reading.check import Scope, check_snapshot

# Changing one of these can change a problem in any file: check both whole trees.
_GLOBAL_KINDS = (Kind.POLICY, Kind.CENTRAL, Kind.TEAM, Kind.DATASET)


def new_problems(root: Path, before: str, after: str) -> list[Problem]:
    """Problems of the tree `after` that the tree `before` does not have."""
    records = RecordStore(cache_dir(root))
    changed = changed_paths(root, before, after)
    scope = scope_of(changed)
    old = {p.render() for p in _check(root, before, records, scope, changed)}
    found = [p for p in _check(root, after, records, scope, changed) if p.render() not in old]
    records.save()
    return found


def changed_paths(root: Path, before: str, after: str) -> list[str]:
    out = run_git(root, "diff-tree", "-r", "-z", "--no-renames", "--name-only", before, after)
    return [path for path in out.decode("utf-8", "surrogateescape").split("\0") if path]


def scope_of(changed: list[str]) -> Scope | None:
    """What a change to `changed` can affect, or None for everything."""
    models: set[str] = set()
    paths: set[str] = set()
    every_model_file = False
    for path in changed:
        if path == CODEOWNERS_PATH:
            every_model_file = True
            continue
        if path.split("/", 1)[0].casefold() not in layout.CHECKED_ROOTS:
            continue  # not a registry file: `check` does not read it, the governance rule judges it
        try:
            place = layout.classify(path)
        except Misplaced:
            paths.add(path)  # its own problem only (or not a registry file at all)
            continue
        if place.kind in _GLOBAL_KINDS:
            return None
        paths.add(path)
        if place.model is not None:
            models.add(place.model)
            every_model_file = every_model_file or place.kind is Kind.MODEL
    return Scope(frozenset(models), frozenset(paths), every_model_file)


def _check(
    root: Path, rev: str, records: RecordStore, scope: Scope | None, changed: list[str]
) -> list[Problem]:
    snapshot = GitSnapshot(root, rev)
    if scope is None:
        return check_snapshot(snapshot, records).problems
    try:
        files = snapshot.files(_pathspecs(scope))
        all_paths = _case_partners(root, snapshot.key(), changed)
    except BaseException:
        snapshot.close()
        raise
    return check_snapshot(snapshot, records, scope, files=files, all_paths=all_paths).problems


def _case_partners(root: Path, tree: str, changed: list[str]) -> list[str]:
    """The paths of `tree` under the checked roots that differ from a changed path at most by
    case, in git's order: a collision of two unchanged paths is in both trees, so only these can
    make a difference. Found level by level, listing only the directories on the way, not
    200,000 paths, and at most as many levels as the deepest changed path has (a crafted entry
    named '..' lists a directory above itself: never again)."""
    wanted = {path.casefold() for path in changed}
    on_the_way = {
        "/".join(parts[:depth])
        for parts in (path.split("/") for path in wanted)
        for depth in range(1, len(parts))
    }
    found: list[str] = []
    directories: list[str] = []
    listing = run_git(root, "ls-tree", "-z", "--name-only", tree)
    deepest = max((path.count("/") + 1 for path in wanted), default=0)
    for _level in range(deepest):
        next_directories = []
        for name in listing.decode("utf-8", "surrogateescape").split("\0"):
            if not name or (not directories and name.casefold() not in layout.CHECKED_ROOTS):
                continue
            if malformed_name(name) is not None:
                continue  # the change set refuses it; it leads nowhere a checkout could go
            folded = name.casefold()
            if folded in wanted:
                found.append(name)
            if folded in on_the_way:
                next_directories.append(name)
        if not next_directories:
            break
        directories = next_directories
        listing = run_git(
            root, "--literal-pathspecs", "ls-tree", "-z", "--name-only", "--full-tree", tree, "--",
            *(f"{directory}/" for directory in directories),
        )  # fmt: skip
    return sorted(found)


def _pathspecs(scope: Scope) -> list[str]:
    """Where in a tree the files of `scope` are (a superset: the check filters again)."""
    if scope.every_model_file:
        models = [layout.MODELS_DIR]
    else:
        models = [f"{layout.MODELS_DIR}/{model}" for model in sorted(scope.models)]
    always = [layout.DATASETS_DIR, layout.POLICIES_DIR]
    return sorted({*models, *always, *scope.paths})
