"""The DVC default remote of a registry, read from `.dvc/config` without importing DVC.

Importing DVC takes most of a second, far above what `steward which` may spend (DESIGN.md:
0.3 s), and telling where a version's artifact lives needs only the default remote's URL. DVC
writes its configuration with configobj, in git-config style:

```
[core]
    remote = storage
['remote "storage"']
    url = /srv/dvc-storage
```

This module reads it the way DVC 3 does (`dvc/config.py`): `.dvc/config.local` overrides
`.dvc/config` key by key, section and key names are case-insensitive, quotes around a section
name or a value are not part of it, and a relative local URL is relative to the `.dvc/`
directory holding the file (`~` is expanded). DVC's global and system configuration levels are
not read: a registry's remote belongs to the repository, so that every clone, CI job and
reviewer resolves the same artifacts.
"""

from __future__ import annotations

import configparser
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from steward.errors import RemoteError

CONFIG_FILE = ".dvc/config"
LOCAL_CONFIG_FILE = ".dvc/config.local"
# `remote "name"`, as DVC matches it (dvc/config.py `_parse_named`).
_NAMED_REMOTE = re.compile(r'^\s*remote\s*"(.*)"\s*$')
_URL_SCHEME = re.compile(r"\w+://")

Sections = dict[str, dict[str, str]]


class DvcConfigError(RemoteError):
    """`.dvc/config` cannot be read, or names a default remote it does not define."""


class RemoteNotConfigured(RemoteError):
    """The repository has no DVC default remote (`dvc remote add -d NAME URL` sets one)."""


@dataclass(frozen=True)
class DefaultRemote:
    """The remote DVC pushes to and pulls from when none is named."""

    name: str
    url: str
    config_file: str  # the file that defines the remote's URL, repo-relative

    def object_url(self, oid: str) -> str:
        """Where DVC 3 keeps the object `oid` on this remote (`files/md5/ab/cdef...`)."""
        return f"{self.url.rstrip('/')}/files/md5/{oid[:2]}/{oid[2:]}"


def read_config(root: Path) -> Sections:
    """`.dvc/config` with `.dvc/config.local` merged over it: section -> key -> value.

    Sections keep DVC's spelling (`core`, `remote "storage"`), lowercased; a missing file is
    an empty one, as for DVC.
    """
    return _merge(_layers(root).values())


def default_remote(root: Path, read: Callable[[str], bytes] | None = None) -> DefaultRemote:
    """The default remote of the repository at `root`, its URL resolved as DVC resolves it.

    Raises RemoteNotConfigured when no default is set, and DvcConfigError when a file cannot
    be parsed or the default it names is not defined with a URL. `read(relative)`: how to read
    the config files, where the caller records what it read.
    """
    return _default_of(_layers(root, read), root / ".dvc")


def cache_directory(root: Path) -> Path | None:
    """Where DVC 3 keeps the cache's objects (`files/md5/` under `cache.dir`, by default
    `.dvc/cache`; a relative `dir` is relative to `.dvc/`, as DVC resolves it); None for a `dir`
    that is a URL. A guess good enough to stage copies in before DVC is imported: the store moves
    them to where DVC says."""
    configured = _merge(_layers(root).values()).get("cache", {}).get("dir")
    config_dir = root / ".dvc"
    if configured and _URL_SCHEME.match(configured):
        return None
    base = Path(_resolve_url(config_dir, configured)) if configured else config_dir / "cache"
    return base / "files" / "md5"


def shared_stores(root: Path) -> set[str]:
    """ "cache" and "remote" (the default remote) where the configuration sets `shared`: DVC
    then gives their directories and objects a group's modes, which only DVC should make."""
    merged = _merge(_layers(root).values())
    found = set()
    if merged.get("cache", {}).get("shared"):
        found.add("cache")
    name = merged.get("core", {}).get("remote", "").lower()
    if name and merged.get(f'remote "{name}"', {}).get("shared"):
        found.add("remote")
    return found


# What a configuration may hold for Steward to write the stores itself: the default remote's
# name, the cache's directory, each remote's URL, and DVC's yes-or-no core settings, each as DVC's
# schema takes it. Anything else (`shared`, a remote's own options, `verify`, other sections, a
# value DVC would refuse) is left to DVC, which reads and validates it.
_PLAIN_KEYS = {"core": {"remote"}, "cache": {"dir"}, "remote": {"url"}}
_YES_OR_NO_CORE_KEYS = {"analytics", "autostage", "check_update", "hardlink_lock", "no_scm"}


@dataclass(frozen=True)
class PlainStores:
    """A local cache and a default remote that is an existing local directory, each configured
    with nothing DVC would write differently from its defaults."""

    cache_dir: Path  # the cache's objects: `files/md5/` under `cache.dir`
    remote: DefaultRemote
    remote_dir: Path  # the remote's objects: `files/md5/` under its URL


def plain_stores(root: Path) -> PlainStores | None:
    """Where the registry at `root` keeps its cache and remote objects, when Steward may write
    them itself (`steward.artifacts.local_stores`); None when DVC must: a configuration that
    does not read or names no default remote, a remote that is not an existing local directory,
    a cache or remote with options beyond the plain ones, or a DVC configuration outside the
    repository (the global or system level, which DVC merges in and this module does not read)."""
    try:
        layers = _layers(root)
        remote = _default_of(layers, root / ".dvc")
        cache_dir = cache_directory(root)
    except RemoteError:
        return None
    if (
        cache_dir is None
        or not all(_plain_layer(layer) for layer in layers.values())
        or not _read_alike(root, layers)
        or _URL_SCHEME.match(remote.url)
        or not Path(remote.url).is_dir()
        or any((directory / "config").exists() for directory in outer_config_dirs())
    ):
        return None
    return PlainStores(cache_dir, remote, Path(remote.url) / "files" / "md5")


def _plain_layer(sections: Sections) -> bool:
    for section, values in sections.items():
        kind = "remote" if _NAMED_REMOTE.match(section) else section
        plain = _PLAIN_KEYS.get(kind, set())
        for key, value in values.items():
            yes_or_no = kind == "core" and key in _YES_OR_NO_CORE_KEYS
            if key not in plain and not (yes_or_no and value.lower() in ("true", "false")):
                return False
    return True


def _read_alike(root: Path, layers: dict[str, Sections]) -> bool:
    """Whether DVC's own parser (configobj, as `dvc/config.py` uses it: every key lowercased, a
    later section replacing an earlier one of the same name) reads each file as this module does.
    They differ on hand-written corners (an unquoted `#` or `,` in a value, a `:` delimiter, a
    section repeated in another case); where they do, DVC decides where objects go."""
    from configobj import ConfigObj

    for relative, ours in layers.items():
        path = root / relative
        if not path.exists():
            continue
        try:
            with path.open(encoding="utf-8") as stream:
                theirs = ConfigObj(stream).dict()
        except Exception:  # configobj's errors, or a file that went away: DVC would fail too
            return False
        lowered: Sections = {}
        for section, values in theirs.items():
            if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
                return False
            lowered[_normalize_section(section)] = {k.lower(): v for k, v in values.items()}
        if lowered != ours:
            return False
    return True


def outer_config_dirs() -> list[Path]:
    """The directories of DVC's global and system configuration, found as DVC 3 finds them
    (`dvc/dirs.py`: its environment variables, else platformdirs' user and site directories;
    platformdirs is installed with DVC, as its way of finding them)."""
    import platformdirs

    return [
        Path(
            os.environ.get("DVC_GLOBAL_CONFIG_DIR")
            or platformdirs.user_config_dir("dvc", "iterative")
        ),
        Path(
            os.environ.get("DVC_SYSTEM_CONFIG_DIR")
            or platformdirs.site_config_dir("dvc", "iterative")
        ),
    ]


def default_remote_committed(config_text: str | None) -> DefaultRemote:
    """The default remote `.dvc/config` names, from the file's text as committed (read from a
    commit, with no checkout: `.dvc/config.local` is never committed). A relative local URL
    is relative to a checkout there is none of: it is refused (DvcConfigError)."""
    layers = {CONFIG_FILE: _parse(config_text, CONFIG_FILE) if config_text is not None else {}}
    return _default_of(layers, None)


def _default_of(layers: dict[str, Sections], config_dir: Path | None) -> DefaultRemote:
    merged = _merge(layers.values())
    name = merged.get("core", {}).get("remote", "").lower()
    if not name:
        raise RemoteNotConfigured(
            f"no DVC default remote is configured in {CONFIG_FILE} (`dvc remote add -d NAME URL`)"
        )
    section = f'remote "{name}"'
    url = merged.get(section, {}).get("url")
    if not url:
        problem = "is not defined" if section not in merged else "has no url"
        raise DvcConfigError(
            f"the DVC default remote '{name}' {problem} in {CONFIG_FILE} or {LOCAL_CONFIG_FILE}"
        )
    # Both files live in .dvc/, so a relative URL resolves the same whichever one wrote it; the
    # file is kept for messages (a URL overridden in config.local surprises people).
    writers = [relative for relative, layer in layers.items() if "url" in layer.get(section, {})]
    if config_dir is None:
        if not (_URL_SCHEME.match(url) or Path(url).expanduser().is_absolute()):
            raise DvcConfigError(
                f"the DVC default remote '{name}' is a path relative to a checkout: '{url}'"
            )
        return DefaultRemote(name, url, writers[-1])
    return DefaultRemote(name, _resolve_url(config_dir, url), writers[-1])


def _layers(root: Path, read: Callable[[str], bytes] | None = None) -> dict[str, Sections]:
    """Each config file DVC reads for the repository, lowest precedence first."""
    reader = read if read is not None else lambda relative: (root / relative).read_bytes()
    return {relative: _read_file(reader, relative) for relative in (CONFIG_FILE, LOCAL_CONFIG_FILE)}


def _merge(layers: Iterable[Sections]) -> Sections:
    merged: Sections = {}
    for sections in layers:
        for section, values in sections.items():
            merged.setdefault(section, {}).update(values)
    return merged


def _read_file(read: Callable[[str], bytes], relative: str) -> Sections:
    try:
        # As `read_text` reads it: universal newlines.
        text = read(relative).decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise DvcConfigError(f"cannot read {relative}: {exc}") from None
    return _parse(text, relative)


def _parse(text: str, relative: str) -> Sections:
    # configobj (DVC's parser) has no interpolation and reads `#` as the start of a comment.
    parser = configparser.ConfigParser(
        interpolation=None, inline_comment_prefixes=("#",), default_section="\0no-defaults"
    )
    try:
        parser.read_string(text, source=relative)
    except configparser.Error as exc:
        raise DvcConfigError(f"{relative} is not a valid DVC config: {exc}") from None
    sections: Sections = {}
    for raw_section in parser.sections():
        section = _normalize_section(_unquote(raw_section.strip()))
        values = {
            key.lower(): _unquote(value.strip()) for key, value in parser[raw_section].items()
        }
        sections.setdefault(section, {}).update(values)
    return sections


def _normalize_section(name: str) -> str:
    """`Remote "Storage"` -> `remote "storage"`: DVC lowercases every key, names included."""
    match = _NAMED_REMOTE.match(name.lower())
    return f'remote "{match.group(1)}"' if match else name.lower()


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _resolve_url(config_dir: Path, url: str) -> str:
    """A URL with a scheme as written; a local path made absolute against `config_dir`.

    Normalized without resolving symbolic links, as DVC's `os.path.abspath` does, so the answer
    is the path DVC itself would use.
    """
    if _URL_SCHEME.match(url) or Path(url).is_absolute():
        return url
    expanded = Path(url).expanduser()
    if expanded.is_absolute():
        return str(expanded)
    return os.path.normpath(config_dir.absolute() / url)
