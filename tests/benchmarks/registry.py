"""Steward's questions on synthetic registries, against the floor of reading them, in one run.

    python -m tests.benchmarks.registry [--sizes 1000,10000] [--runs 3] [--history 10000]
                                        [--versions-per-model 10] [--repeat-under 30] [--keep DIR]

Each size is a number of versions (N models x `--versions-per-model`), generated once by
`tests.benchmarks.synthetic` (a commit on `main`, a branch promoting one version, and a clone with
`--history` more commits). For each size it measures, median of `--runs`:

- the floor of reading the registry, in one Python process (no interpreter start timed):
  `git ls-tree -r` of HEAD and one `git cat-file --batch` reading every version file's blob, then
  those blobs parsed with PyYAML's C loader (`yaml.load(..., Loader=CSafeLoader)`). A process of
  its own: a child's peak memory counts its parent's size when it started, so the process
  starting Steward's commands must stay small;
- the interpreter starting (`python -c pass`) and the CLI doing nothing (`steward --version`);
- whole `python -m steward` processes in the registry's worktree: `which`, `show`, `list --json`
  and `check` each twice (first with Steward's cache in `.git/steward/cache` removed, then again
  with nothing changed: answered from the cache), `gate` on the branch that promotes one version
  (2 files; the verdict fails for want of reviews), with the cache removed as a CI runner's fresh
  checkout has it, and `history` on the clone with the extra commits;
- the peak resident memory of the cold `list --json` and `check` processes (wait4's ru_maxrss).

A command whose first run takes longer than `--repeat-under` seconds is not run again (its
figure is marked `*`): while `gate` takes minutes at 100,000 versions, three runs of it would be
most of the run's time. Then prints a table of seconds per size with the issue's targets, and
one of ratios: list and check against the read + parse floor, which and gate against themselves
at the smallest size. Asserts nothing. (`STEWARD_NO_CACHE=1` in the environment turns Steward's
cache off: every "again" is then cold too.)

On 2 cores the default run takes under 2 minutes; `--sizes 1000,10000,100000` about 8 (the
100,000-version registry takes 20 to 50 s to generate, writing 210,000 files being most of it,
and its 10,000-commit clone 30 s).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tests.benchmarks.synthetic import GATE_BRANCH, Registries, Shape, target_model

STEWARD = [sys.executable, "-m", "steward"]
VERSION_SUFFIX = b".yaml"


# --- measuring ----------------------------------------------------------------------------------


@dataclass
class Process:
    seconds: float
    peak_mb: float
    code: int
    stderr: str


def run_process(cmd: list[str], cwd: Path) -> Process:
    """Wall time and peak RSS of one process (output discarded: a terminal would be timed too)."""
    errors = cwd.parent / f".{cwd.name}.stderr"
    with errors.open("wb") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    text = errors.read_text(errors="replace")
    errors.unlink()
    return Process(seconds, usage.ru_maxrss / 1024, process.returncode, text)


def read_version_blobs(repo: Path) -> list[bytes]:
    """The floor's reading: every version file's blob at HEAD, by two git processes."""
    listing = subprocess.run(
        ["git", "-C", str(repo), "ls-tree", "-r", "-z", "HEAD"],
        check=True,
        capture_output=True,
    ).stdout
    oids = []
    for record in listing.split(b"\0"):
        if not record:
            continue
        meta, _, path = record.partition(b"\t")
        parts = path.split(b"/")
        # registry/models/<model>/<version>.yaml, not model.yaml
        if (
            len(parts) == 4
            and parts[:2] == [b"registry", b"models"]
            and parts[3].endswith(VERSION_SUFFIX)
            and parts[3] != b"model.yaml"
        ):
            oids.append(meta.split()[2])
    out = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "--batch"],
        input=b"\n".join(oids) + b"\n",
        check=True,
        capture_output=True,
    ).stdout
    blobs = []
    at = 0
    for _ in oids:
        header_end = out.index(b"\n", at)
        size = int(out[at:header_end].rsplit(b" ", 1)[1])
        start = header_end + 1
        blobs.append(out[start : start + size])
        at = start + size + 1
    return blobs


def read_and_parse(repo: Path) -> int:
    loader = yaml.CSafeLoader
    return len([yaml.load(blob, Loader=loader) for blob in read_version_blobs(repo)])


def floors(repo: Path, runs: int) -> dict[str, float]:
    """The floors, measured in a process of their own: parsing 100,000 files leaves this one
    large, and a child's peak memory (ru_maxrss) counts its parent's size when it was started."""
    command = [sys.executable, "-m", "tests.benchmarks.registry", "--floors-of", str(repo)]
    out = subprocess.run(
        [*command, "--runs", str(runs)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(out)
    return result


def measure_floors(repo: Path, runs: int) -> dict[str, float]:
    read_version_blobs(repo)  # warm the page cache for the floor's objects
    return {
        "read": statistics.median(timed(lambda: read_version_blobs(repo)) for _ in range(runs)),
        "parse": statistics.median(timed(lambda: read_and_parse(repo)) for _ in range(runs)),
    }


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


@dataclass
class Figures:
    """One size's medians: seconds by row key, peak MB by row key."""

    shape: Shape
    seconds: dict[str, float] = field(default_factory=dict)
    peak_mb: dict[str, float] = field(default_factory=dict)
    runs: dict[str, int] = field(default_factory=dict)  # how many runs a median is of
    failures: list[str] = field(default_factory=list)
    generated: float = 0.0
    history_generated: float = 0.0
    files: int = 0


# Rows: key, label, target at 100,000 versions (the issue's). The CLI rows' commands follow.
ROWS = [
    ("read", "floor: `git ls-tree -r` + `git cat-file --batch`, version blobs", ""),
    ("parse", "floor: the same + PyYAML CSafeLoader parse", ""),
    ("python", "`python -c pass` (interpreter start)", ""),
    ("version", "`steward --version` (CLI start)", ""),
    ("which", "`steward which MODEL production`", "< 0.3 s, flat"),
    ("show", "`steward show MODEL`", "< 0.5 s"),
    ("list", "`steward list --json` (first, no cache)", "<= 2x floor"),
    ("list-again", "`steward list --json` (again, nothing changed)", "< 1 s"),
    ("check", "`steward check` (first, no cache)", "<= 3x floor"),
    ("check-again", "`steward check` (again, nothing changed)", "< 2 s"),
    ("gate", "`steward gate` (promotion, 2 files, no cache)", "<= 1.5x at 1,000"),
    ("history", "`steward history MODEL` (K commits)", "< 2 s"),
]


def commands(shape: Shape) -> dict[str, list[str]]:
    model = target_model(shape)
    return {
        "version": ["--version"],
        "which": ["which", model, "production"],
        "show": ["show", model],
    }


# Run after forgetting Steward's cache (a first run), each followed by a run with it (again).
COLD_THEN_WARM = {"list": ["list", "--json"], "check": ["check"]}
GATE = ["gate", "--base", "main", "--head", GATE_BRANCH]


EXPECTED_CODES = {"gate": (0, 1)}  # the gate's verdict fails without a forge's reviews


def cache_of(repo: Path) -> Path:
    return repo / ".git" / "steward" / "cache"


def forget_caches(repo: Path) -> None:
    """Make the next Steward command a cold one: remove its cache (`.git/steward/cache`)."""
    shutil.rmtree(cache_of(repo), ignore_errors=True)


def keep_cache(repo: Path, name: str) -> None:
    """Put the cache as a command left it aside, for its next "again" run: other commands
    remove it in between (to run cold), and a slow first run is not repeated."""
    kept = repo.parent / f".{repo.name}.{name}.cache"
    shutil.rmtree(kept, ignore_errors=True)
    if cache_of(repo).exists():
        shutil.copytree(cache_of(repo), kept)


def restore_cache(repo: Path, name: str) -> None:
    kept = repo.parent / f".{repo.name}.{name}.cache"
    forget_caches(repo)
    if kept.exists():
        shutil.copytree(kept, cache_of(repo))


def measure(registries: Registries, shape: Shape, runs: int, repeat_under: float) -> Figures:
    figures = Figures(shape)
    repo = registries.registry(shape)
    figures.generated = registries.seconds.get(Shape(shape.models, shape.versions), 0.0)
    history_repo = registries.history(shape) if shape.history else None
    figures.history_generated = registries.seconds.get(shape, 0.0) if shape.history else 0.0
    figures.files = (
        len(
            subprocess.run(
                ["git", "-C", str(repo), "ls-files", "-z"], check=True, capture_output=True
            ).stdout.split(b"\0")
        )
        - 1
    )
    figures.seconds.update(floors(repo, runs))
    samples: dict[str, list[Process]] = {}

    def wanted(key: str) -> bool:
        """A command slower than `repeat_under` seconds runs once: the figure would not change
        its order of magnitude, and the run would take an hour."""
        done = samples.get(key, [])
        return not done or done[0].seconds <= repeat_under

    def sample(key: str, cmd: list[str], cwd: Path) -> None:
        if not wanted(key):
            return
        result = run_process(cmd, cwd)
        samples.setdefault(key, []).append(result)
        if result.code not in EXPECTED_CODES.get(key, (0,)) and len(samples[key]) == 1:
            tail = result.stderr.strip().splitlines()[-3:]
            figures.failures.append(f"{key} exited {result.code}: {' / '.join(tail)}")

    for _ in range(runs):
        sample("python", [sys.executable, "-c", "pass"], repo)
        for key, args in commands(shape).items():
            sample(key, [*STEWARD, *args], repo)
        for key, args in COLD_THEN_WARM.items():
            if wanted(key):
                forget_caches(repo)
                sample(key, [*STEWARD, *args], repo)
            else:
                restore_cache(repo, key)  # as its last first run, and its again runs, left it
            sample(f"{key}-again", [*STEWARD, *args], repo)
            keep_cache(repo, key)
        if wanted("gate"):
            forget_caches(repo)
            sample("gate", [*STEWARD, *GATE], repo)
        if history_repo is not None:
            sample("history", [*STEWARD, "history", target_model(shape)], history_repo)
    for key, results in samples.items():
        figures.seconds[key] = statistics.median(r.seconds for r in results)
        figures.peak_mb[key] = max(r.peak_mb for r in results)
        figures.runs[key] = len(results)
    return figures


# --- reporting ----------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    git_version = subprocess.run(
        ["git", "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[-1]
    libyaml = "libyaml" if yaml.__with_libyaml__ else "no libyaml"
    return (
        f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, git {git_version}, "
        f"PyYAML {yaml.__version__} ({libyaml})"
    )


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}"


def _ratio(value: float | None, base: float | None) -> str:
    if value is None or not base:
        return "-"
    return f"{value / base:.1f}x" if value / base >= 10 else f"{value / base:.2f}x"


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        padded = [
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join("-" * (w + 2) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths))
        + "|"
    )
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


def report(all_figures: list[Figures], runs: int, history: int) -> str:
    sizes = [f"{f.shape.total:,}" for f in all_figures]
    first = all_figures[0]
    lines = [
        f"Steward registry benchmark, {datetime.date.today().isoformat()}, median of {runs} runs",
        f"machine: {machine()}",
    ]
    for f in all_figures:
        lines.append(
            f"{f.shape.total:,} versions: {f.shape.models:,} models x {f.shape.versions}, "
            f"{f.files:,} files, generated in {f.generated:.1f} s"
            + (f"; {history:,} more commits in {f.history_generated:.1f} s" if history else "")
        )
    rows = []
    for key, label, target in ROWS:
        if key == "history" and not history:
            continue
        label = label.replace("K commits", f"{history:,} commits")
        cells = [
            _seconds(f.seconds.get(key)) + ("*" if f.runs.get(key, runs) < runs else "")
            for f in all_figures
        ]
        rows.append([label, *cells, target])
    rows.append(
        [
            "peak memory of `steward list --json` (first), MB",
            *(f"{f.peak_mb.get('list', 0):.0f}" for f in all_figures),
            "< 500 MB",
        ]
    )
    rows.append(
        [
            "peak memory of `steward check` (first), MB",
            *(f"{f.peak_mb.get('check', 0):.0f}" for f in all_figures),
            "",
        ]
    )
    lines += ["", table(["seconds", *sizes, "target at 100,000"], rows)]
    ratio_rows = [
        [
            "`list --json` (first) / read + parse floor",
            *(_ratio(f.seconds.get("list"), f.seconds["parse"]) for f in all_figures),
        ],
        [
            "`check` (first) / read + parse floor",
            *(_ratio(f.seconds.get("check"), f.seconds["parse"]) for f in all_figures),
        ],
        [
            "`check` (again) / read + parse floor",
            *(_ratio(f.seconds.get("check-again"), f.seconds["parse"]) for f in all_figures),
        ],
        [
            f"`which` / `which` at {sizes[0]}",
            *(_ratio(f.seconds.get("which"), first.seconds.get("which")) for f in all_figures),
        ],
        [
            f"`gate` / `gate` at {sizes[0]}",
            *(_ratio(f.seconds.get("gate"), first.seconds.get("gate")) for f in all_figures),
        ],
        [
            "`which` / CLI start (`--version`)",
            *(_ratio(f.seconds.get("which"), f.seconds.get("version")) for f in all_figures),
        ],
    ]
    if any(n < runs for f in all_figures for n in f.runs.values()):
        lines += ["", f"* run fewer times than {runs}: its first run took over --repeat-under"]
    lines += ["", table(["ratio", *sizes], ratio_rows)]
    failures = [f"{f.shape.total:,}: {failure}" for f in all_figures for failure in f.failures]
    if failures:
        lines += ["", "unexpected exit codes (those figures time an error):", *failures]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="versions, comma-separated")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--history", type=int, default=10_000, help="commits for `history`")
    parser.add_argument("--versions-per-model", type=int, default=10)
    parser.add_argument(
        "--repeat-under",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="a command whose first run takes longer runs only once",
    )
    parser.add_argument("--keep", type=Path, help="generate into (and keep) this directory")
    parser.add_argument("--floors-of", type=Path, help=argparse.SUPPRESS)  # see floors()
    args = parser.parse_args()
    if args.floors_of is not None:
        print(json.dumps(measure_floors(args.floors_of, args.runs)))
        return
    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    started = time.perf_counter()
    per_model = args.versions_per_model
    shapes = [
        Shape(max(1, int(size) // per_model), per_model, args.history)
        for size in args.sizes.split(",")
    ]
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
    registries = Registries(args.keep)
    all_figures = []
    try:
        for shape in shapes:
            print(f"measuring {shape.total:,} versions ...", file=sys.stderr, flush=True)
            all_figures.append(measure(registries, shape, args.runs, args.repeat_under))
    finally:
        if args.keep is None:
            registries.cleanup()
    print(report(all_figures, args.runs, args.history))
    print(f"\n(whole run: {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
