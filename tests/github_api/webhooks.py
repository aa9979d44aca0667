"""Real GitHub webhook payloads (`@octokit/webhooks-examples`), adjusted only where a scenario
needs it.

`steward gate` in Actions reads the event payload GitHub writes to `GITHUB_EVENT_PATH`. A payload a
test invents would carry the test author's idea of GitHub's shape (say, review states in upper
case, as in the REST API -- webhooks send them in lower case); starting from GitHub's own
examples and overriding a few fields keeps the rest real.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import TYPE_CHECKING, Any

from tests.github_api.node import ensure_node_packages, node_modules

if TYPE_CHECKING:
    from tests.github_api.server import FakeGitHub

INDEX_RELATIVE_PATH = "@octokit/webhooks-examples/api.github.com/index.json"


@functools.cache
def _definitions() -> dict[str, dict[str, Any]]:
    """index.json is a list of `{name, description, actions, properties, examples}`, one per
    event; examples of one event may have different actions (and none, for `push`)."""
    ensure_node_packages()
    with (node_modules() / INDEX_RELATIVE_PATH).open("rb") as handle:
        definitions: list[dict[str, Any]] = json.load(handle)
    return {definition["name"]: definition for definition in definitions}


def events() -> list[str]:
    return sorted(_definitions())


def examples(event: str, action: str | None = None) -> list[dict[str, Any]]:
    """All of GitHub's examples of `event` (with `action`), unmodified -- do not mutate them."""
    definition = _definitions().get(event)
    if definition is None:
        raise KeyError(f"no webhook event {event!r}; known: {', '.join(events())}")
    if action is None and definition["actions"]:
        raise ValueError(
            f"{event} events carry an action; pass one of: {', '.join(definition['actions'])}"
        )
    found = [item for item in definition["examples"] if item.get("action") == action]
    if not found:
        available = sorted({str(item.get("action")) for item in definition["examples"]})
        raise KeyError(f"no example of {event}/{action}; examples exist for: {available}")
    return found


def example(
    event: str,
    action: str | None = None,
    *,
    index: int = 0,
    allow_new_keys: bool = False,
    **overrides: Any,
) -> dict[str, Any]:
    """A deep copy of GitHub's example payload for `event`/`action`, with `overrides` merged in.

    Overrides merge recursively into objects (`pull_request={"head": {"sha": sha}}` changes only
    the head SHA); any other value, lists included, replaces what was there. A key the example
    does not have is refused unless `allow_new_keys`: a typo must not silently add a field that
    the code under test then never reads.
    """
    payload = copy.deepcopy(examples(event, action)[index])
    merge(payload, overrides, allow_new_keys=allow_new_keys, where=event)
    return payload


def merge(
    target: dict[str, Any], changes: dict[str, Any], *, allow_new_keys: bool, where: str
) -> None:
    for key, value in changes.items():
        path = f"{where}.{key}"
        if key not in target and not allow_new_keys:
            known = ", ".join(sorted(target))
            raise KeyError(f"{path} is not in GitHub's example (it has: {known})")
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            merge(current, value, allow_new_keys=allow_new_keys, where=path)
        else:
            target[key] = copy.deepcopy(value)


def event_for_pull(
    server: FakeGitHub,
    full_name: str,
    number: int,
    event: str = "pull_request",
    action: str = "opened",
    *,
    review_id: int | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """GitHub's example of `event`/`action` about pull request `number` of the fake `server`:
    the repository, the pull request's number, title, author, refs and SHAs (and, with
    `review_id`, the review) are taken from the server's state; `overrides` go on top."""
    repo = server.repo(full_name)
    pull = server.pull(full_name, number)
    repo_names = {"name": repo.name, "full_name": repo.full_name}
    facts: dict[str, Any] = {
        "repository": {
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": {"login": repo.owner},
            "default_branch": repo.default_branch,
        },
        "pull_request": {
            "number": pull.number,
            "title": pull.title,
            "body": pull.body,
            "state": pull.state,
            "user": {"login": pull.user},
            "head": {
                "label": f"{repo.owner}:{pull.head_ref}",
                "ref": pull.head_ref,
                "sha": pull.head_sha,
                "repo": repo_names,
            },
            "base": {
                "label": f"{repo.owner}:{pull.base_ref}",
                "ref": pull.base_ref,
                "sha": pull.base_sha,
                "repo": repo_names,
            },
        },
        "sender": {"login": pull.user},
    }
    if review_id is not None:
        review = next(r for r in pull.reviews if r.id == review_id)
        facts["review"] = {
            "id": review.id,
            "user": {"login": review.user},
            "state": review.state.lower(),  # webhooks spell review states in lower case
            "commit_id": review.commit_id,
            "body": review.body or None,
        }
        facts["sender"] = {"login": review.user}
    payload = example(event, action, **facts)
    merge(payload, overrides, allow_new_keys=False, where=event)
    return payload
