"""Getting artifacts back: `steward pull` (verified download), `steward verify` (remote audit)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from steward.artifacts.store import ArtifactStore, ObjectProblem
from steward.entries import layout
from steward.progress import byte_progress
from steward.reading.catalog import NotFound, find_version, versions


@dataclass(frozen=True)
class Pulled:
    model: str
    version: str
    destination: Path
    files: list[Path]


def pull_version(
    root: Path,
    model: str,
    version: str | None = None,
    stage: str | None = None,
    output: Path | None = None,
    show_progress: bool = False,
) -> Pulled:
    entry = find_version(root, model, version=version, stage=stage)
    if entry.stage == "retired":
        raise NotFound(
            f"{model} {entry.version} is retired ({entry.retired_reason}); its artifact may be gone"
        )
    destination = output or root / layout.MODELS_DIR / entry.model / entry.version
    with ArtifactStore(root) as store:
        files = store.fetch(entry, destination, show_progress)
    return Pulled(entry.model, entry.version, destination, files)


@dataclass
class VerifyReport:
    remote: str
    deep: bool
    checked: list[str] = field(default_factory=list)
    problems: dict[str, list[ObjectProblem]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        out = [
            f"{name}: {problem.render()}"
            for name, problems in self.problems.items()
            for problem in problems
        ]
        kind = "present and intact" if self.deep else "present"
        if self.ok:
            out.append(
                f"ok: every object of {len(self.checked)} versions is {kind} on {self.remote}"
            )
        else:
            broken = len(self.problems)
            out.append(f"{broken} of {len(self.checked)} versions have objects missing or corrupt")
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "remote": self.remote,
            "deep": self.deep,
            "checked": self.checked,
            "problems": {
                name: [{"path": p.relpath, "object": p.oid, "problem": p.problem} for p in problems]
                for name, problems in self.problems.items()
            },
        }


def verify_versions(
    root: Path,
    model: str | None = None,
    version: str | None = None,
    deep: bool = False,
    show_progress: bool = False,
) -> VerifyReport:
    entries = (
        [find_version(root, model, version=version)]
        if model is not None and version is not None
        else [e for e in versions(root, model) if e.stage != "retired"]  # gc removed its objects
    )
    # Deep: every byte is read from the remote and hashed; otherwise one check per file.
    total = sum(e.artifact.size if deep else len(e.artifact.files) for e in entries)
    what = "verifying (downloading and hashing)" if deep else "verifying"
    with ArtifactStore(root) as store, byte_progress(total, what, show_progress, deep) as advance:
        report = VerifyReport(store.remote_url(), deep)
        for entry in entries:
            name = f"{entry.model}@{entry.version}"
            report.checked.append(name)
            problems = store.missing_objects(entry, deep=deep, advance=advance)
            if problems:
                report.problems[name] = problems
    return report
