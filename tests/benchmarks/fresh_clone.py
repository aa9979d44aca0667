"""CI on a fresh clone: what a job costs when it starts from `git clone`, as every CI job does.

    python -m tests.benchmarks.fresh_clone [--sizes 1000,10000] [--runs 1] [--keep DIR]

(and as the "CI on a fresh clone" section of `python -m tests.benchmarks.registry`). For each size
(N versions and as many commits, `tests.benchmarks.synthetic`), the registry carries the tags
`steward apply` would have written for its whole history (`Registries.applied`). Each run then:

- `git clone --no-local` of it (every object copied, the worktree checked out: what
  `actions/checkout` with `fetch-depth: 0` gets; no Steward cache, no history index), once:
  each run works in a local copy of that clone (`git clone --local`, the same objects);
- `steward gate` of a proposal on it promoting one version from development to staging (the
  gate asks whether that version ever held staging: the rollback rule);
- the proposal merged (`git merge --no-ff`) and `steward apply` of the merge;
- `steward history MODEL` (first: no index in a fresh clone; then warm, with the index built as
  a walk builds it, which `actions/cache` keeps for the next job);
- `steward check` (first: no cache; then again).

Prints seconds (median of `--runs`) and the issue's ratios: apply against the gate, the first
history against the warm one. Asserts nothing.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.benchmarks.registry import STEWARD, Process, run_process, table, timed
from tests.benchmarks.synthetic import (
    Registries,
    Shape,
    initial_stage,
    target_model,
    version_name,
)

PROPOSAL = "bench-fresh-proposal"
STEWARD_PYTHON = STEWARD[:1]
BUILD_INDEX = (
    "import sys; from pathlib import Path; from steward.aftermerge.history import model_history; "
    "model_history(Path(sys.argv[1]), sys.argv[2], use_records=False)"
)
# Every object copied and the worktree checked out, in parallel: what `actions/checkout` gets.
CLONE = ["git", "-c", "checkout.workers=0", "clone", "--quiet", "--no-local"]
IDENTITY = ("-c", "user.name=ci-bot", "-c", "user.email=ci-bot@example.com")

# Rows: key, label, target.
ROWS = [
    ("clone", "`git clone --no-local` (once; context)", ""),
    ("gate", "`steward gate` (promotion to staging, no cache)", ""),
    ("apply", "merge + `steward apply` (the merge only)", "<= 3x gate"),
    ("history-first", "`steward history MODEL` (first: no index)", "<= 3x warm"),
    ("history", "`steward history MODEL` (warm: its index built)", ""),
    ("check-first", "`steward check` (first: no cache)", ""),
    ("check", "`steward check` (again, nothing changed)", ""),
]


@dataclass
class FreshFigures:
    shape: Shape
    seconds: dict[str, list[float]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    prepared: float = 0.0  # writing the apply records (context)

    def median(self, key: str) -> float | None:
        values = self.seconds.get(key)
        return statistics.median(values) if values else None


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *IDENTITY, *args], capture_output=True, text=True, check=True
    )
    return done.stdout


def propose(repo: Path, shape: Shape) -> tuple[str, str]:
    """A branch moving the target model's newest development version to staging; (model,
    version)."""
    model = target_model(shape)
    minor = max(
        m for m in range(shape.versions) if initial_stage(m, shape.versions) == "development"
    )
    path = repo / "registry" / "models" / model / f"{version_name(minor)}.yaml"
    _git(repo, "checkout", "-q", "-b", PROPOSAL)
    path.write_text(path.read_text().replace("stage: development", "stage: staging", 1))
    _git(repo, "commit", "-q", "-am", f"Promote {model} {version_name(minor)} to staging")
    _git(repo, "checkout", "-q", "main")
    return model, version_name(minor)


def measure_fresh_clone(registries: Registries, shape: Shape, runs: int) -> FreshFigures:
    figures = FreshFigures(shape)
    source = registries.applied(shape)
    figures.prepared = registries.applied_seconds.get(shape, 0.0)
    pristine = registries.base / f"{shape.label()}+clone"
    if not pristine.exists():
        seconds = timed(lambda: subprocess.run([*CLONE, str(source), str(pristine)], check=True))
        figures.seconds["clone"] = [seconds]
    fresh = registries.base / f"{shape.label()}+fresh"

    def sample(key: str, cmd: list[str], expected: tuple[int, ...] = (0,)) -> Process:
        result = run_process(cmd, fresh)
        figures.seconds.setdefault(key, []).append(result.seconds)
        if result.code not in expected:
            tail = " / ".join(result.stderr.strip().splitlines()[-3:])
            figures.failures.append(f"{shape.total:,} {key} exited {result.code}: {tail}")
        return result

    for _ in range(runs):
        # Each run on a copy of the one clone, as it came: no Steward cache, no history index,
        # no commit-graph (copying the objects again would take minutes at 100,000 commits).
        shutil.rmtree(fresh, ignore_errors=True)
        subprocess.run(
            ["git", "clone", "--quiet", "--local", str(pristine), str(fresh)], check=True
        )
        model, _ = propose(fresh, shape)
        # Its verdict fails for want of reviews (no forge is asked): the judging is what is timed.
        sample("gate", [*STEWARD, "gate", "--base", "main", "--head", PROPOSAL], (0, 1))
        _git(fresh, "merge", "-q", "--no-ff", "-m", f"Merge proposal {PROPOSAL}", PROPOSAL)
        sample("apply", [*STEWARD, "apply", "--after", "HEAD"])
        # The gate may have built the history index: the first history of a fresh clone has none.
        (fresh / ".git" / "steward" / "history.sqlite3").unlink(missing_ok=True)
        sample("history-first", [*STEWARD, "history", model])
        # The warm figure: with the history index built (what `actions/cache` restores).
        subprocess.run([*STEWARD_PYTHON, "-c", BUILD_INDEX, str(fresh), model], check=True)
        sample("history", [*STEWARD, "history", model])
        sample("check-first", [*STEWARD, "check"])
        sample("check", [*STEWARD, "check"])
    shutil.rmtree(fresh, ignore_errors=True)
    return figures


def _cell(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}"


def _ratio(value: float | None, base: float | None) -> str:
    return "-" if value is None or not base else f"{value / base:.2f}x"


def section(all_figures: list[FreshFigures], runs: int) -> str:
    """The "CI on a fresh clone" tables: seconds per size, then the ratios."""
    sizes = [f"{f.shape.total:,} v / {f.shape.history:,} c" for f in all_figures]
    rows = [
        [label, target, *(_cell(f.median(key)) for f in all_figures)] for key, label, target in ROWS
    ]
    ratios = [
        [
            "apply / gate",
            "<= 3x",
            *(_ratio(f.median("apply"), f.median("gate")) for f in all_figures),
        ],
        [
            "history first / warm",
            "<= 3x",
            *(_ratio(f.median("history-first"), f.median("history")) for f in all_figures),
        ],
        [
            "check first / again",
            "",
            *(_ratio(f.median("check-first"), f.median("check")) for f in all_figures),
        ],
    ]
    lines = [
        f"CI on a fresh clone (seconds, median of {runs}; records written in "
        + ", ".join(f"{f.prepared:.1f} s" for f in all_figures)
        + ")",
        table(["", "target", *sizes], rows),
        "",
        table(["ratio", "target", *sizes], ratios),
    ]
    failures = [failure for f in all_figures for failure in f.failures]
    if failures:
        lines += ["", "unexpected exit codes:", *failures]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="versions, comma-separated")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--versions-per-model", type=int, default=10)
    parser.add_argument("--keep", type=Path, help="generate into (and keep) this directory")
    args = parser.parse_args()
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
    registries = Registries(args.keep)
    per_model = args.versions_per_model
    all_figures = []
    try:
        for size in args.sizes.split(","):
            models = max(1, int(size) // per_model)
            shape = Shape(models, per_model, models * per_model)
            all_figures.append(measure_fresh_clone(registries, shape, args.runs))
    finally:
        if args.keep is None:
            registries.cleanup()
    print(section(all_figures, args.runs))


if __name__ == "__main__":
    main()
