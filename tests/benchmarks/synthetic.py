"""Synthetic registries for the benchmarks: N models x M versions, written with `git fast-import`,
and a history of K commits on top, written straight into a pack.

Entries have the sizes and shape of `tests/test_check_scale.py` (about 900 bytes a version file,
a DVC pointer beside each), and every model has one version in production and one in staging, the
upper half of the rest in development and the lower half archived. The YAML text is written
directly, not through Steward's writer: making 100,000 entries must cost seconds, not minutes.

A registry is one commit on `main` (the worktree checked out), plus a branch `bench-promote` that
promotes one version of `target_model()` (staging to production, the production holder archived:
two files changed). With `history=K`, a clone gets K more commits on `main`'s first-parent chain:
one in a hundred is a promotion, merged as `steward merge` does (a side commit swapping a model's
staging and production versions, and a merge commit with `Steward-*` trailers; every fifth one
promotes `target_model()`), the others edit one version's description. That is what
`steward history` walks. Those commits are not written by `git fast-import`, which took 5 minutes
for 100,000 of them on 10,000 models (see `PackWriter`), but as a pack with its index: about
1 minute on 2 cores, to the same trees as `fast-import` made.

    python -m tests.benchmarks.synthetic DIRECTORY [--models 1000] [--versions 10] [--history 0]

makes one for a look by hand.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import struct
import subprocess
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

MODELS_DIR = "registry/models"
START = 1_767_225_600  # 2026-01-01T00:00:00Z: the registry's commit; history follows a minute apart
IDENT = b"ci-bot <ci-bot@example.com>"
PROMOTION_EVERY = 100  # one commit of the history in this many is a merged promotion
TARGET_EVERY = 5  # one promotion in this many promotes target_model()
GATE_BRANCH = "bench-promote"

MODEL_YAML = """\
name: {model}
owner: carol
team: team-{team}
risk: limited
classification: [internal]
description: synthetic model {model}
card: {{intended_use: benchmarking, limitations: synthetic}}
"""

VERSION_YAML = """\
model: {model}
version: {version}
stage: {stage}
created_at: '2026-11-20T10:00:00Z'
created_by: ci-bot
{description}artifact:
  dvc: {version}.dvc
  md5: {md5}.dir
  size: 2048
  format: pickle
  files:
  - path: model.pkl
    sha256: {sha}
    size: 2048
training:
  datasets:
  - id: transactions
    version: '2026-10-31'
  features: [amount, merchant_id, hour]
  hyperparameters: {{max_depth: 6, learning_rate: 0.05}}
  duration_s: 812.0
  code: {{repo: acme/training, commit: {commit}}}
metrics: {{auc: 0.9{minor}, f1: 0.8, latency_p95_ms: 11.5}}
environment: {{python: '3.11.7', framework: scikit-learn==1.5.2, hardware: cpu}}
"""

POINTER = """\
outs:
- md5: {md5}.dir
  size: 2048
  nfiles: 1
  hash: md5
  path: {version}
"""

# Every transition the synthetic changes make is listed, so the gate judges them rather than
# refusing them as unknown; no gate asks the DVC remote (a benchmark reaches no network).
POLICY = """\
roles:
  ml-engineer: [carol, dave]
  governance: [erin]
  registrars: [ci-bot]
create_models: [ml-engineer]
register_versions: [registrars, ml-engineer]
stages:
  production: {single: true}
transitions:
  - from: development
    to: staging
    gates: {metrics: {auc: {min: 0.85}}, model_card: [intended_use]}
    approvals: [{role: ml-engineer, count: 1}]
  - from: staging
    to: production
    gates: {metrics: {auc: {min: 0.85}}, model_card: [intended_use, limitations]}
    approvals:
      - {role: ml-engineer, count: 1}
      - {role: governance, count: 1, when: {risk: [high]}}
  - {from: staging, to: archived, approvals: [{role: ml-engineer, count: 1}]}
  - {from: production, to: archived, approvals: [{role: ml-engineer, count: 1}]}
  - {from: production, to: staging, approvals: [{role: ml-engineer, count: 1}]}
  - {from: development, to: archived, approvals: [{role: ml-engineer, count: 1}]}
rollback:
  approvals: [{role: ml-engineer, count: 1}]
governance:
  paths: [policies/, .dvc/]
  approvals: [{role: governance, count: 1}]
"""

DATASET = """\
name: transactions
owner: erin
uri: s3://lake/transactions/
classification: [internal]
columns:
- {name: amount, type: float}
- {name: hour, type: int}
"""

DVC_CONFIG = """\
[core]
    remote = storage
['remote "storage"']
    url = s3://acme-models/registry
"""


@dataclass(frozen=True)
class Shape:
    models: int
    versions: int  # per model
    history: int = 0  # extra commits on main's first-parent chain

    @property
    def total(self) -> int:
        return self.models * self.versions

    def label(self) -> str:
        return f"{self.models}x{self.versions}" + (f"+{self.history}" if self.history else "")


def model_name(index: int) -> str:
    return f"model-{index:05d}"  # one width at every size: entries are the same bytes long


def target_model(shape: Shape) -> str:
    """The model the per-model questions ask about: in the middle, neither first nor last."""
    return model_name(shape.models // 2)


def version_name(minor: int) -> str:
    return f"1.{minor}.0"


def initial_stage(minor: int, versions: int) -> str:
    if minor == versions - 1:
        return "production"
    if minor == versions - 2:
        return "staging"
    return "development" if minor >= versions // 2 else "archived"


def model_text(index: int) -> bytes:
    return MODEL_YAML.format(model=model_name(index), team=index % 20).encode()


def version_text(model: str, minor: int, stage: str, note: str | None = None) -> bytes:
    version = version_name(minor)
    digest = hashlib.sha256(f"{model}{version}".encode()).hexdigest()
    return VERSION_YAML.format(
        model=model,
        version=version,
        stage=stage,
        description=f"description: '{note}'\n" if note else "",
        md5=digest[:32],
        sha=digest,
        commit=digest[:40],
        minor=minor % 10,
    ).encode()


def pointer_text(model: str, minor: int) -> bytes:
    version = version_name(minor)
    digest = hashlib.sha256(f"{model}{version}".encode()).hexdigest()
    return POINTER.format(md5=digest[:32], version=version).encode()


def version_path(model: str, minor: int) -> str:
    return f"{MODELS_DIR}/{model}/{version_name(minor)}.yaml"


# --- git fast-import ----------------------------------------------------------------------------


class FastImport:
    """A `git fast-import` process fed commit by commit; `sha(mark)` asks it a commit's id."""

    def __init__(self, repo: Path) -> None:
        self._process = subprocess.Popen(
            ["git", "-C", str(repo), "fast-import", "--quiet", "--done"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._in: IO[bytes] = self._process.stdin
        self._out: IO[bytes] = self._process.stdout
        self._marks = 0

    def commit(
        self,
        ref: str,
        when: int,
        message: str,
        files: list[tuple[str, bytes]],
        parent: str | None = None,
        merge: str | None = None,
    ) -> str:
        """Write a commit (parents as marks `:N` or ref names) and return its mark."""
        self._marks += 1
        mark = f":{self._marks}"
        text = message.encode()
        out = self._in
        out.write(b"commit %s\nmark %s\n" % (ref.encode(), mark.encode()))
        out.write(b"author %s %d +0000\ncommitter %s %d +0000\n" % (IDENT, when, IDENT, when))
        out.write(b"data %d\n%s\n" % (len(text), text))
        if parent is not None:
            out.write(b"from %s\n" % parent.encode())
        if merge is not None:
            out.write(b"merge %s\n" % merge.encode())
        for path, content in files:
            out.write(b"M 100644 inline %s\ndata %d\n" % (path.encode(), len(content)))
            out.write(content)
            out.write(b"\n")
        out.write(b"\n")
        return mark

    def sha(self, mark: str) -> str:
        self._in.write(b"get-mark %s\n" % mark.encode())
        self._in.flush()
        return self._out.readline().decode().strip()

    def close(self) -> None:
        self._in.write(b"done\n")
        self._in.close()
        if self._process.wait() != 0:
            raise RuntimeError("git fast-import failed")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


# --- registries ---------------------------------------------------------------------------------


@dataclass
class _Stages:
    """The current stage and description of every version, as the history rewrites them."""

    versions: int
    stages: dict[tuple[str, int], str] = field(default_factory=dict)
    notes: dict[tuple[str, int], str] = field(default_factory=dict)

    def stage(self, model: str, minor: int) -> str:
        return self.stages.get((model, minor)) or initial_stage(minor, self.versions)

    def holder(self, model: str, stage: str) -> int:
        return next(m for m in range(self.versions) if self.stage(model, m) == stage)

    def file(self, model: str, minor: int) -> tuple[str, bytes]:
        text = version_text(model, minor, self.stage(model, minor), self.notes.get((model, minor)))
        return version_path(model, minor), text


def registry_files(shape: Shape) -> list[tuple[str, bytes]]:
    files = [
        (".dvc/config", DVC_CONFIG.encode()),
        ("policies/registry.yaml", POLICY.encode()),
        (f"{MODELS_DIR}/.gitkeep", b""),
        ("registry/datasets/.gitkeep", b""),
        ("registry/datasets/transactions.yaml", DATASET.encode()),
    ]
    for index in range(shape.models):
        model = model_name(index)
        files.append((f"{MODELS_DIR}/{model}/model.yaml", model_text(index)))
        for minor in range(shape.versions):
            stage = initial_stage(minor, shape.versions)
            files.append((version_path(model, minor), version_text(model, minor, stage)))
            files.append(
                (f"{MODELS_DIR}/{model}/{version_name(minor)}.dvc", pointer_text(model, minor))
            )
    return files


def make_registry(repo: Path, shape: Shape) -> Path:
    """`repo`: the registry at one commit on `main`, checked out, and the `bench-promote` branch."""
    repo.mkdir(parents=True)
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "config", "user.name", "ci-bot")
    git(repo, "config", "user.email", "ci-bot@example.com")
    stream = FastImport(repo)
    base = stream.commit(
        "refs/heads/main", START, f"Synthetic registry {shape.label()}", registry_files(shape)
    )
    state = _Stages(shape.versions)
    model = target_model(shape)
    if shape.versions >= 2:
        staging, production = state.holder(model, "staging"), state.holder(model, "production")
        state.stages[(model, staging)] = "production"
        state.stages[(model, production)] = "archived"
        stream.commit(
            f"refs/heads/{GATE_BRANCH}",
            START + 60,
            f"Promote {model} {version_name(staging)} to production",
            [state.file(model, staging), state.file(model, production)],
            parent=base,
        )
    stream.close()
    # Parallel checkout: writing 210,000 files is most of the time making the largest registry.
    git(repo, "-c", "checkout.workers=0", "reset", "--hard", "--quiet", "main")
    return repo


# --- history: objects written straight into a pack --------------------------------------------


class PackWriter:
    """Objects written into one pack and its `.idx`, whose ids Python computes.

    `git fast-import` rewrites and re-sorts the whole 10,000-entry `registry/models` tree with a
    printf per entry at every commit: 3 ms a commit, 5 minutes for 100,000. Here that tree is a
    bytearray whose entries never move (the history edits files, it adds none), one 20-byte id
    is patched per commit, and it is stored as a delta of the previous version (a copy, a 20-byte
    insert, a copy), a whole version every `DELTA_DEPTH` commits, as git itself would chain it.
    The index is written here too: `git index-pack` would inflate and hash the 38 GB those trees
    amount to again."""

    DELTA_DEPTH = 100

    def __init__(self, repo: Path) -> None:
        self._dir = repo / ".git" / "objects" / "pack"
        self._temp = self._dir / "tmp_pack_synthetic_history"
        self._file = self._temp.open("wb")
        self._file.write(b"PACK" + struct.pack(">II", 2, 0))
        self._offset = 12
        self.offsets: dict[bytes, int] = {}  # binary id -> offset of the objects in this pack
        self._crcs: dict[bytes, int] = {}

    @staticmethod
    def object_id(kind: bytes, data: bytes | bytearray) -> bytes:
        digest = hashlib.sha1(b"%s %d\0" % (kind, len(data)))
        digest.update(data)
        return digest.digest()

    def _write(self, oid: bytes, header: bytes, body: bytes) -> None:
        packed = header + zlib.compress(body, 1)
        self._file.write(packed)
        self.offsets[oid] = self._offset
        self._crcs[oid] = zlib.crc32(packed)
        self._offset += len(packed)

    def add(self, kind: bytes, data: bytes | bytearray) -> bytes:
        """Store an object whole (once), return its binary id."""
        oid = self.object_id(kind, data)
        if oid not in self.offsets:
            self._write(oid, _object_header(_TYPES[kind], len(data)), bytes(data))
        return oid

    def add_delta(self, oid: bytes, base: bytes, delta: bytes) -> None:
        """Store object `oid` as `delta` against `base`, an object of this pack."""
        if oid in self.offsets:
            return
        distance = self._offset - self.offsets[base]
        self._write(oid, _object_header(6, len(delta)) + _ofs_distance(distance), delta)

    def close(self) -> None:
        """Finish the pack (object count, checksum) and write its version 2 index."""
        self._file.close()
        count = len(self.offsets)
        with self._temp.open("r+b") as pack:
            pack.seek(8)
            pack.write(struct.pack(">I", count))
            pack.seek(0)
            digest = hashlib.sha1()
            while chunk := pack.read(1 << 22):
                digest.update(chunk)
            trailer = digest.digest()
            pack.write(trailer)
        if self._offset >= 1 << 31:
            raise RuntimeError("the synthetic history's pack outgrew 32-bit offsets")
        ids = sorted(self.offsets)
        fanout = [0] * 256
        for oid in ids:
            fanout[oid[0]] += 1
        running = 0
        for i in range(256):
            running += fanout[i]
            fanout[i] = running
        index = b"".join(
            [
                b"\xfftOc",
                struct.pack(">I", 2),
                struct.pack(">256I", *fanout),
                *ids,
                b"".join(struct.pack(">I", self._crcs[oid]) for oid in ids),
                b"".join(struct.pack(">I", self.offsets[oid]) for oid in ids),
                trailer,
            ]
        )
        name = f"pack-{trailer.hex()}"
        (self._dir / f"{name}.idx").write_bytes(index + hashlib.sha1(index).digest())
        self._temp.rename(self._dir / f"{name}.pack")


_TYPES = {b"commit": 1, b"tree": 2, b"blob": 3}


def _object_header(kind: int, size: int) -> bytes:
    out = bytearray([(kind << 4) | (size & 0x0F)])
    size >>= 4
    while size:
        out[-1] |= 0x80
        out.append(size & 0x7F)
        size >>= 7
    return bytes(out)


def _ofs_distance(distance: int) -> bytes:
    out = [distance & 0x7F]
    distance >>= 7
    while distance:
        distance -= 1
        out.append(0x80 | (distance & 0x7F))
        distance >>= 7
    return bytes(reversed(out))


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _copy(offset: int, size: int) -> bytes:
    """A delta instruction copying `size` (< 2**24) bytes of the base from `offset`."""
    flags, args = 0x80, bytearray()
    for i in range(4):
        if (offset >> (8 * i)) & 0xFF:
            flags |= 1 << i
            args.append((offset >> (8 * i)) & 0xFF)
    for i in range(3):
        if (size >> (8 * i)) & 0xFF:
            flags |= 0x10 << i
            args.append((size >> (8 * i)) & 0xFF)
    return bytes([flags]) + bytes(args)


def patch_delta(size: int, at: int, replacement: bytes) -> bytes:
    """A delta turning a `size`-byte object into itself with `replacement` written at `at`."""
    out = [_varint(size), _varint(size), _copy(0, at) if at else b""]
    out.append(bytes([len(replacement)]) + replacement)
    rest = size - at - len(replacement)
    if rest:
        out.append(_copy(at + len(replacement), rest))
    return b"".join(out)


def parse_tree(raw: bytes) -> list[list[bytes]]:
    """[mode, name, binary id] per entry, in the tree's order."""
    entries, at = [], 0
    while at < len(raw):
        space = raw.index(b" ", at)
        nul = raw.index(b"\0", space)
        entries.append([raw[at:space], raw[space + 1 : nul], raw[nul + 1 : nul + 21]])
        at = nul + 21
    return entries


def tree_bytes(entries: list[list[bytes]]) -> bytes:
    return b"".join(b"%s %s\0%s" % (mode, name, oid) for mode, name, oid in entries)


def _set_entry(entries: list[list[bytes]], name: bytes, oid: bytes) -> None:
    for entry in entries:
        if entry[1] == name:
            entry[2] = oid
            return
    raise KeyError(name)


class _Trees:
    """The trees from the root down to each model's directory at the tip of the history, read
    from the registry's commit and updated as the history edits version files."""

    def __init__(self, repo: Path, pack: PackWriter) -> None:
        self._pack = pack
        self._cat = subprocess.Popen(
            ["git", "-C", str(repo), "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.root = parse_tree(self._read("main^{tree}"))
        self.registry = parse_tree(self._read("main:registry"))
        self.models = bytearray(self._read(f"main:{MODELS_DIR}"))
        self._at: dict[bytes, int] = {}  # model name -> offset of its id in self.models
        at = 0
        while at < len(self.models):
            nul = self.models.index(b"\0", at)
            self._at[bytes(self.models[self.models.index(b" ", at) + 1 : nul])] = nul + 1
            at = nul + 21
        self._model_trees: dict[str, list[list[bytes]]] = {}
        self._models_id = self._pack.object_id(b"tree", self.models)
        self._depth = PackWriter.DELTA_DEPTH  # the first version written is whole

    def _read(self, name: str) -> bytes:
        assert self._cat.stdin is not None and self._cat.stdout is not None
        self._cat.stdin.write(name.encode() + b"\n")
        self._cat.stdin.flush()
        size = int(self._cat.stdout.readline().split()[2])
        return self._cat.stdout.read(size + 1)[:-1]

    def commit_tree(self, model: str, files: list[tuple[str, bytes]]) -> bytes:
        """The root tree with `files` (of `model`'s directory) replaced; its binary id."""
        pack = self._pack
        entries = self._model_trees.get(model)
        if entries is None:
            entries = self._model_trees[model] = parse_tree(
                self._read(f"main:{MODELS_DIR}/{model}")
            )
        for path, content in files:
            _set_entry(entries, path.rsplit("/", 1)[1].encode(), pack.add(b"blob", content))
        model_id = pack.add(b"tree", tree_bytes(entries))
        at = self._at[model.encode()]
        self.models[at : at + 20] = model_id
        models_id = pack.object_id(b"tree", self.models)
        if self._depth >= PackWriter.DELTA_DEPTH or self._models_id not in pack.offsets:
            pack.add(b"tree", self.models)
            self._depth = 0
        else:
            pack.add_delta(models_id, self._models_id, patch_delta(len(self.models), at, model_id))
            self._depth += 1
        self._models_id = models_id
        _set_entry(self.registry, b"models", models_id)
        _set_entry(self.root, b"registry", pack.add(b"tree", tree_bytes(self.registry)))
        return pack.add(b"tree", tree_bytes(self.root))

    def close(self) -> None:
        assert self._cat.stdin is not None
        self._cat.stdin.close()
        self._cat.wait()


def _commit_text(tree: bytes, parents: list[bytes], when: int, message: str) -> bytes:
    lines = [b"tree " + tree.hex().encode()]
    lines += [b"parent " + parent.hex().encode() for parent in parents]
    lines.append(b"author %s %d +0000" % (IDENT, when))
    lines.append(b"committer %s %d +0000" % (IDENT, when))
    return b"\n".join(lines) + b"\n\n" + message.encode() + b"\n"


@dataclass(frozen=True)
class Promotion:
    """The `number`th promotion, the history's commit `index`: `model`'s staging version
    `up` enters production and its production version `down` goes back to staging."""

    index: int
    number: int
    model: str
    up: int
    down: int


def promotions(shape: Shape) -> dict[int, Promotion]:
    """The history's promotions by commit index (see `add_history`)."""
    if shape.versions < 2:
        return {}
    state = _Stages(shape.versions)
    found = {}
    indexes = range(PROMOTION_EVERY // 2, shape.history, PROMOTION_EVERY)
    for number, i in enumerate(indexes, start=1):
        model = (
            target_model(shape)
            if number % TARGET_EVERY == 1
            else model_name(number * 104_729 % shape.models)
        )
        up, down = state.holder(model, "staging"), state.holder(model, "production")
        state.stages[(model, up)] = "production"
        state.stages[(model, down)] = "staging"
        found[i] = Promotion(i, number, model, up, down)
    return found


def add_history(repo: Path, shape: Shape) -> None:
    """`shape.history` commits on `main` of `repo` (a copy of a `make_registry`), written
    straight into one pack (see `PackWriter`)."""
    pack = PackWriter(repo)
    trees = _Trees(repo, pack)
    state = _Stages(shape.versions)
    tip = bytes.fromhex(git(repo, "rev-parse", "main^{commit}").strip())
    when = START + 120
    planned = promotions(shape)
    for i in range(shape.history):
        when += 60
        promotion = planned.get(i)
        if promotion is not None:
            promotions_made = promotion.number
            model, staging, production = promotion.model, promotion.up, promotion.down
            state.stages[(model, staging)] = "production"
            state.stages[(model, production)] = "staging"
            tree = trees.commit_tree(
                model, [state.file(model, staging), state.file(model, production)]
            )
            title = f"promote {model} {version_name(staging)} to production"
            side = pack.add(b"commit", _commit_text(tree, [tip], when - 30, title.capitalize()))
            digest = hashlib.sha256(title.encode()).hexdigest()
            message = (
                f"Merge proposal #{promotions_made}: {title}\n\n"
                f"Steward-Proposal: {promotions_made}\n"
                "Steward-Proposed-By: carol\n"
                "Steward-Approved-By: dave\n"
                "Steward-Merged-By: carol\n"
                f"Steward-Head: {side.hex()}\n"
                f"Steward-Verdict: {digest}"
            )
            tip = pack.add(b"commit", _commit_text(tree, [tip, side], when, message))
        else:
            model = model_name(i * 7_919 % shape.models)
            minor = i * 31 % shape.versions
            state.notes[(model, minor)] = f"annotation {i}"
            tree = trees.commit_tree(model, [state.file(model, minor)])
            message = f"Annotate {model} {version_name(minor)}"
            tip = pack.add(b"commit", _commit_text(tree, [tip], when, message))
    trees.close()
    pack.close()
    git(repo, "update-ref", "refs/heads/main", tip.hex())


def add_gto_tags(repo: Path, shape: Shape) -> int:
    """The tags `steward apply` writes, in GTO's format and with its records
    (`steward.aftermerge.records`), through one `git fast-import`: per version a registration tag
    and one assigning the stage it was registered at, numbered per model in apply's order. Returns
    how many.

    GTO refuses two versions of a model on one commit, and in a real registry each version was
    registered by a commit of its own: so each version's tags point at a commit of its own
    (with main's tree, main as parent), not at the one commit that wrote the whole registry."""
    from steward.aftermerge.records import Record, registration_tag, stage_tag

    main = git(repo, "rev-parse", "main^{commit}").strip()
    at = "2026-01-01T00:00:00+00:00"
    chunks: list[bytes] = []
    mark = 0
    for index in range(shape.models):
        model = model_name(index)
        for minor in range(shape.versions):
            version, stage = version_name(minor), initial_stage(minor, shape.versions)
            mark += 1
            title = f"Register {model} {version}".encode()
            chunks.append(
                b"commit refs/heads/gto-registrations\nmark :%d\ncommitter %s %d +0000\n"
                b"data %d\n%s\nfrom %s\n\n" % (mark, IDENT, START, len(title), title, main.encode())
            )
            records = [
                (registration_tag(model, version), "registration", None),
                (stage_tag(model, stage, minor + 1), "assignment", stage),
            ]
            for name, event, assigned in records:
                record = Record(event, model, version, assigned, main, main, at)  # type: ignore[arg-type]
                message = record.tag_message().encode()
                chunks.append(
                    b"tag %s\nfrom :%d\ntagger %s %d +0000\ndata %d\n%s\n"
                    % (name.encode(), mark, IDENT, START, len(message), message)
                )
    subprocess.run(
        ["git", "-C", str(repo), "fast-import", "--quiet"], input=b"".join(chunks), check=True
    )
    git(repo, "update-ref", "-d", "refs/heads/gto-registrations")
    git(repo, "pack-refs", "--all")
    return 2 * mark


def add_apply_records(repo: Path, shape: Shape) -> int:
    """The tags `steward apply` would have written for `repo` (a `Registries.history` clone):
    per version its registration and the stage it was registered at, by the registry's first
    commit, then per promotion of the history the four stage tags of its merge commit (its two
    versions leave their stages and enter the other's), numbered per model as apply numbers them
    and dated as the commits are, through one `git fast-import`. Returns how many."""
    from steward.aftermerge.records import Record, registration_tag, stage_tag

    chain = git(repo, "rev-list", "--first-parent", "main").split()
    base = chain[-1]
    chunks: list[bytes] = []

    def tag(name: str, record: Record, when: int) -> None:
        message = record.tag_message().encode()
        chunks.append(
            b"tag %s\nfrom %s\ntagger %s %d +0000\ndata %d\n%s\n"
            % (name.encode(), base.encode(), IDENT, when, len(message), message)
        )

    numbers: dict[str, int] = {}
    at = "2026-01-01T00:00:00+00:00"
    for index in range(shape.models):
        model = model_name(index)
        for minor in range(shape.versions):
            version, stage = version_name(minor), initial_stage(minor, shape.versions)
            registered = Record("registration", model, version, None, base, base, at)
            tag(registration_tag(model, version), registered, START)
            numbers[model] = minor + 1
            assigned = Record("assignment", model, version, stage, base, base, at)
            tag(stage_tag(model, stage, minor + 1), assigned, START)
    for promotion in promotions(shape).values():
        commit = chain[shape.history - 1 - promotion.index]
        when = START + 120 + 60 * (promotion.index + 1)
        model = promotion.model
        moves = sorted(
            [(promotion.up, "staging", "production"), (promotion.down, "production", "staging")]
        )
        for minor, left, entered in moves:
            version = version_name(minor)
            for event, stage in (("unassignment", left), ("assignment", entered)):
                numbers[model] += 1
                record = Record(event, model, version, stage, commit, base, at)  # type: ignore[arg-type]
                tag(stage_tag(model, stage, numbers[model], event == "unassignment"), record, when)
    subprocess.run(
        ["git", "-C", str(repo), "fast-import", "--quiet"], input=b"".join(chunks), check=True
    )
    git(repo, "pack-refs", "--all")
    return len(chunks)


class Registries:
    """Generated registries under one temporary directory, each made once per (N, M, K).

    `registry(shape)` is checked out (K is ignored: the history goes into a separate clone);
    `history(shape)` is a clone of it without a worktree, with K more commits; `gto(shape)` a
    checked-out clone with GTO's tags (`add_gto_tags`)."""

    def __init__(self, base: Path | None = None) -> None:
        self.base = base or Path(tempfile.mkdtemp(prefix="steward-bench-registry-"))
        self.seconds: dict[Shape, float] = {}
        self.gto_seconds: dict[Shape, float] = {}
        self.applied_seconds: dict[Shape, float] = {}

    def registry(self, shape: Shape) -> Path:
        shape = Shape(shape.models, shape.versions)
        repo = self.base / shape.label()
        if not repo.exists():
            started = time.perf_counter()
            make_registry(repo, shape)
            self.seconds[shape] = time.perf_counter() - started
        return repo

    def history(self, shape: Shape) -> Path:
        repo = self.base / shape.label()
        if not repo.exists():
            source = self.registry(shape)
            started = time.perf_counter()
            subprocess.run(
                ["git", "clone", "--quiet", "--local", "--no-checkout", str(source), str(repo)],
                check=True,
            )
            add_history(repo, shape)
            self.seconds[shape] = time.perf_counter() - started
        return repo

    def applied(self, shape: Shape) -> Path:
        """`history(shape)` with the tags `steward apply` would have written for it
        (`add_apply_records`): what a registry that has been applied all along holds."""
        repo = self.base / f"{shape.label()}+applied"
        if not repo.exists():
            source = self.history(shape)
            started = time.perf_counter()
            subprocess.run(
                ["git", "clone", "--quiet", "--local", "--bare", str(source), str(repo)],
                check=True,
            )
            add_apply_records(repo, shape)
            self.applied_seconds[shape] = time.perf_counter() - started
        return repo

    def gto(self, shape: Shape) -> Path:
        """A clone of `registry(shape)` with the tags `steward apply` would have written."""
        shape = Shape(shape.models, shape.versions)
        repo = self.base / f"{shape.label()}+gto"
        if not repo.exists():
            started = time.perf_counter()
            subprocess.run(
                ["git", "clone", "--quiet", "--local", str(self.registry(shape)), str(repo)],
                check=True,
            )
            add_gto_tags(repo, shape)
            self.gto_seconds[shape] = time.perf_counter() - started
        return repo

    def cleanup(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=10)
    parser.add_argument("--history", type=int, default=0)
    args = parser.parse_args()
    shape = Shape(args.models, args.versions, args.history)
    started = time.perf_counter()
    make_registry(args.directory, Shape(shape.models, shape.versions))
    if shape.history:
        add_history(args.directory, shape)
        git(args.directory, "reset", "--hard", "--quiet", "main")
    print(f"{args.directory}: {shape.label()} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
