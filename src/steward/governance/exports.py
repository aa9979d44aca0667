"""`steward export`'s text for a snapshot, kept like `list`'s answer: under the snapshot's state,
the format, the namespace and the revision's label, so that an export asked again with nothing
changed is printed without parsing the registry."""

from __future__ import annotations

import hashlib
import json

from steward.entries.problems import Problem
from steward.gitio.tree import Snapshot
from steward.governance.export_catalog import export_catalog
from steward.governance.export_openlineage import export_events, render_jsonl
from steward.reading.cache import cache_dir, load_tree_answer, store_tree_answer
from steward.reading.contents import read_contents

# Bump when what an export writes changes without Steward's code changing (never so far: the
# cache's directory is named after the code).
EXPORT_FORMAT = 1


def exported(
    snapshot: Snapshot, output_format: str, namespace: str | None
) -> tuple[str, list[Problem]]:
    """The export's text and the files it could not read. Kept under the snapshot's state (a
    commit's tree id, the working tree's state), the format and the namespace, like `list`'s
    answer: asked again with nothing changed, it is printed without parsing the registry. Not
    kept where a central policy's floor was read (its mirror decides, outside the snapshot)."""
    state = snapshot.key()
    # The label too: the catalog names the revision as asked (`main` and `HEAD` share a tree).
    asked = f"{output_format}\0{namespace}\0{snapshot.label}"
    asked = hashlib.sha256(asked.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    key = f"{EXPORT_FORMAT}-{asked}-{state}"
    directory = cache_dir(snapshot.root, snapshot.git_dir)
    known = load_tree_answer(directory, "export", key)
    if isinstance(known, tuple) and len(known) == 2 and isinstance(known[0], str):
        return known[0], list(known[1])
    # The catalog's `uncovered` labels depend on the policy's classification levels.
    contents = read_contents(snapshot, with_policy=output_format == "json")
    if output_format == "openlineage":
        assert namespace is not None
        text = render_jsonl(export_events(contents, namespace))
    else:
        text = json.dumps(export_catalog(contents), indent=2, ensure_ascii=False) + "\n"
    central = contents.policy is not None and contents.policy.central is not None
    if not central and snapshot.unchanged_since(state):
        store_tree_answer(directory, "export", key, (text, list(contents.problems)))
    return text, list(contents.problems)
