"""Synthetic registries for the benchmarks: N models x M versions, written with `git fast-import`.

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
`steward history` walks.

    python -m tests.benchmarks.synthetic DIRECTORY [--models 1000] [--versions 10] [--history 0]

makes one for a look by hand.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import tempfile
import time
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


def add_history(repo: Path, shape: Shape) -> None:
    """`shape.history` commits on `main` of `repo` (a copy of a `make_registry`)."""
    stream = FastImport(repo)
    state = _Stages(shape.versions)
    tip = "refs/heads/main^0"
    when = START + 120
    promotions = 0
    for i in range(shape.history):
        when += 60
        if i % PROMOTION_EVERY == PROMOTION_EVERY // 2 and shape.versions >= 2:
            promotions += 1
            if promotions % TARGET_EVERY == 1:
                model = target_model(shape)
            else:
                model = model_name(promotions * 104_729 % shape.models)
            staging, production = state.holder(model, "staging"), state.holder(model, "production")
            state.stages[(model, staging)] = "production"
            state.stages[(model, production)] = "staging"
            files = [state.file(model, staging), state.file(model, production)]
            title = f"promote {model} {version_name(staging)} to production"
            side = stream.commit(
                "refs/heads/bench-proposal", when - 30, title.capitalize(), files, parent=tip
            )
            digest = hashlib.sha256(title.encode()).hexdigest()
            message = (
                f"Merge proposal #{promotions}: {title}\n\n"
                f"Steward-Proposal: {promotions}\n"
                "Steward-Proposed-By: carol\n"
                "Steward-Approved-By: dave\n"
                "Steward-Merged-By: carol\n"
                f"Steward-Head: {stream.sha(side)}\n"
                f"Steward-Verdict: {digest}\n"
            )
            tip = stream.commit("refs/heads/main", when, message, files, parent=tip, merge=side)
        else:
            model = model_name(i * 7_919 % shape.models)
            minor = i * 31 % shape.versions
            state.notes[(model, minor)] = f"annotation {i}"
            tip = stream.commit(
                "refs/heads/main",
                when,
                f"Annotate {model} {version_name(minor)}",
                [state.file(model, minor)],
                parent=tip,
            )
    stream.close()
    if promotions:
        git(repo, "update-ref", "-d", "refs/heads/bench-proposal")


class Registries:
    """Generated registries under one temporary directory, each made once per (N, M, K).

    `registry(shape)` is checked out (K is ignored: the history goes into a separate clone);
    `history(shape)` is a clone of it without a worktree, with K more commits."""

    def __init__(self, base: Path | None = None) -> None:
        self.base = base or Path(tempfile.mkdtemp(prefix="steward-bench-registry-"))
        self.seconds: dict[Shape, float] = {}

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
