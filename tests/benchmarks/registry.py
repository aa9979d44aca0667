"""Steward's questions on synthetic registries, against the floor of reading them and against
GTO and MLflow on the same data, in one run.

    python -m tests.benchmarks.registry [--sizes 1000,10000] [--runs 3] [--history versions]
                                        [--versions-per-model 10] [--repeat-under 30] [--keep DIR]
                                        [--gto-max 10000] [--gto-runs 1] [--gto-timeout 60]
                                        [--mlflow-max 10000]

Each size is a number of versions (N models x `--versions-per-model`), generated once by
`tests.benchmarks.synthetic` (a commit on `main`, a branch promoting one version, and a clone with
`--history` more commits: by default as many as the size's versions, so 100,000 at 100,000).
For each size it measures, median of `--runs`:

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
  checkout has it, and `history` on the clone with the extra commits, first without its index
  (`.git/steward/history.sqlite3` removed: as in a fresh clone, the run that builds it) and then
  again;
- the peak resident memory of the cold `list --json` and `check` processes (wait4's ru_maxrss);
- baselines, where installed (`gto` is in the `test` extra, `mlflow` in `bench`): GTO's CLI on a
  clone carrying the tags `steward apply` writes (`gto show MODEL#production` for which,
  `gto show MODEL`, `gto show` for list), at sizes up to `--gto-max`, `--gto-runs` times each,
  killed after `--gto-timeout` seconds (shown `>60s`; GTO's other questions at that size are then
  skipped); MLflow's sqlite model registry filled through its client with the same models and
  versions (aliases `production` and `staging`, a `stage` tag on each version), at sizes up to
  `--mlflow-max`, asked in this process: `get_model_version_by_alias`, a registered model and its
  versions, every version (paged); its import is timed as a process of its own.

Then, unless `--no-fresh-clone`, the "CI on a fresh clone" section (`tests.benchmarks.fresh_clone`:
gate, merge + apply, history and check as a CI job runs them, in a clone carrying the tags
`steward apply` would have written).

A command whose first run takes longer than `--repeat-under` seconds is not run again (its
figure is marked `*`). Then prints a table of seconds per size with the issue's targets, one of
ratios (list and check against the read + parse floor, which and gate against themselves at the
smallest size), the baselines' seconds and how many times faster Steward is. Asserts nothing.
(`STEWARD_NO_CACHE=1` in the environment turns Steward's cache off: every "again" is then cold
too.)

On 2 cores the default run takes about 4 minutes (GTO at 1,000 versions is most of it: about
15 s a question); `--sizes 1000,10000,100000` under 15 (the 100,000-version registry takes 20
to 50 s to generate, writing 210,000 files being most of it, and its 100,000 commits about 60;
MLflow's fill takes about 80 s at 10,000 versions, GTO's which times out there).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import logging
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tests.benchmarks.synthetic import (
    GATE_BRANCH,
    Registries,
    Shape,
    initial_stage,
    model_name,
    target_model,
    version_name,
    version_path,
)

STEWARD = [sys.executable, "-m", "steward"]
VERSION_SUFFIX = b".yaml"


# --- measuring ----------------------------------------------------------------------------------


@dataclass
class Process:
    seconds: float
    peak_mb: float
    code: int
    stderr: str


# Starts the measured command and reports its wall time and peak RSS. A process's peak RSS
# (ru_maxrss) starts at its parent's size when it was forked, and exec keeps it: this process
# grows (MLflow's fill runs in it), so the command is started by a small interpreter instead.
_LAUNCHER = """\
import os, sys, time
started = time.perf_counter()
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ,
                     file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - started, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def run_process(cmd: list[str], cwd: Path) -> Process:
    """Wall time and peak RSS of one process (output discarded: a terminal would be timed too),
    measured by a launcher of its own (`_LAUNCHER`)."""
    errors = cwd.parent / f".{cwd.name}.stderr"
    # Measured as an installed package runs: with its bytecode cached. A shell that sets
    # PYTHONDONTWRITEBYTECODE would make every run compile every module it imports.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with errors.open("wb") as stderr:
        launched = subprocess.run(
            [sys.executable, "-I", "-S", "-c", _LAUNCHER, *cmd],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=stderr,
            check=True,
            env=env,
        )
    seconds, peak_kb, code = launched.stdout.split()
    text = errors.read_text(errors="replace")
    errors.unlink()
    return Process(float(seconds), int(peak_kb) / 1024, int(code), text)


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
    site_kb: dict[str, float] = field(default_factory=dict)  # the index page and search index
    notes: dict[str, str] = field(default_factory=dict)  # a baseline's "skipped", ">60s"
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
    ("impact", "`steward impact --dataset D --json` (first, no cache)", ""),
    ("impact-again", "`steward impact --dataset D --json` (again)", "<= 2x `list` again"),
    ("gate", "`steward gate` (promotion, 2 files, no cache)", "<= 1.5x at 1,000"),
    ("history-cold", "`steward history MODEL` (K commits; first: builds its index)", ""),
    ("history", "`steward history MODEL` (K commits; again)", "< 2 s"),
    ("site", "`steward site` (first: no site, cache or history index)", "<= 2x `list` first"),
    (
        "site-again",
        "`steward site` (again, after a commit changing one version)",
        "<= 2x `list` again",
    ),
]

# The baselines on the same data: GTO on a clone with the tags `steward apply` writes, MLflow's
# sqlite model registry filled with the same models and versions (aliases for the stages
# production and staging, a `stage` tag on every version) and asked in-process.
BASELINE_ROWS = [
    ("gto-tags", "GTO: clone + write the tags (2 per version, fast-import)"),
    ("gto-which", "`gto show MODEL#production` (which)"),
    ("gto-show", "`gto show MODEL` (show)"),
    ("gto-list", "`gto show` (list)"),
    ("mlflow-start", "MLflow: `python -c 'from mlflow import MlflowClient'` (a process)"),
    ("mlflow-fill", "MLflow: create the registry and fill it (versions, tags, aliases)"),
    ("mlflow-which", "MLflow: `get_model_version_by_alias` (in-process)"),
    ("mlflow-show", "MLflow: `get_registered_model` + its versions (in-process)"),
    ("mlflow-list", "MLflow: `search_model_versions`, every version (in-process)"),
]


def commands(shape: Shape) -> dict[str, list[str]]:
    model = target_model(shape)
    return {
        "version": ["--version"],
        "which": ["which", model, "production"],
        "show": ["show", model],
    }


# Run after forgetting Steward's cache (a first run), each followed by a run with it (again).
# `impact` is asked about the dataset every synthetic version cites: 100,000 rows, as `list`.
COLD_THEN_WARM = {
    "list": ["list", "--json"],
    "check": ["check"],
    "impact": ["impact", "--dataset", "transactions", "--json"],
}
GATE = ["gate", "--base", "main", "--head", GATE_BRANCH]


# The gate's verdict fails without a forge's reviews; impact exits 1 when production depends on
# the dataset, as every synthetic model's production version does.
EXPECTED_CODES = {"gate": (0, 1), "impact": (1,), "impact-again": (1,)}


def cache_of(repo: Path) -> Path:
    return repo / ".git" / "steward" / "cache"


def forget_history_index(repo: Path) -> None:
    """Make the next `steward history` build its index (`steward.gitio.changelog`) from nothing, as
    in a fresh clone."""
    (repo / ".git" / "steward" / "history.sqlite3").unlink(missing_ok=True)


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
        measure_site(repo, shape, sample, wanted, figures)
        if history_repo is not None:
            history = [*STEWARD, "history", target_model(shape)]
            if wanted("history-cold"):
                forget_history_index(history_repo)
                sample("history-cold", history, history_repo)
            sample("history", history, history_repo)
    for key, results in samples.items():
        figures.seconds[key] = statistics.median(r.seconds for r in results)
        figures.peak_mb[key] = max(r.peak_mb for r in results)
        figures.runs[key] = len(results)
    return figures


def measure_site(
    repo: Path,
    shape: Shape,
    sample: Callable[[str, list[str], Path], None],
    wanted: Callable[[str], bool],
    figures: Figures,
) -> None:
    """`steward site` from nothing (as in a fresh clone: no site, no cache, no history index),
    then after a commit that changes one version's stage: the build brings the site up to
    date. The commit is taken back afterwards (the other rows read the registry as generated)."""
    site = repo.parent / f".{repo.name}.site"
    command = [*STEWARD, "site", "-o", str(site), "--no-proposals"]
    if wanted("site"):
        forget_caches(repo)
        forget_history_index(repo)
        shutil.rmtree(site, ignore_errors=True)
        sample("site", command, repo)
        figures.site_kb = {
            name: (site / name).stat().st_size / 1024 for name in ("index.html", "search-index.js")
        }
    else:
        run_process(command, repo)  # the site as of the generated registry, not the last change
    base = _git(repo, "rev-parse", "HEAD")
    model = target_model(shape)
    path = repo / version_path(model, shape.versions // 2)  # a development version
    path.write_text(path.read_text().replace("stage: development", "stage: archived"))
    _git(repo, "commit", "-qam", f"archive one version of {model}")
    try:
        sample("site-again", command, repo)
    finally:
        _git(repo, "reset", "-q", "--hard", base)


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


# --- baselines ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    gto_max: int  # the largest size GTO is asked at
    gto_runs: int
    gto_timeout: float
    mlflow_max: int


def measure_gto(registries: Registries, shape: Shape, figures: Figures, limits: Limits) -> None:
    """GTO's CLI answering which, show and list in a clone with the tags `steward apply` writes.
    Each is run `gto_runs` times (GTO takes seconds); one that passes `gto_timeout` is killed,
    shown as `>Ns`, and GTO's remaining questions at that size are skipped."""
    keys = ("gto-tags", "gto-which", "gto-show", "gto-list")
    gto = Path(sys.executable).with_name("gto")
    if not gto.exists():
        figures.notes.update(dict.fromkeys(keys, "not installed"))
        return
    if shape.total > limits.gto_max:
        figures.notes.update(dict.fromkeys(keys, "skipped"))
        return
    repo = registries.gto(shape)
    figures.seconds["gto-tags"] = registries.gto_seconds.get(Shape(shape.models, shape.versions), 0)
    model = target_model(shape)
    questions = {
        "gto-which": ["show", f"{model}#production"],
        "gto-show": ["show", model],
        "gto-list": ["show"],
    }
    for key, args in questions.items():
        if key in figures.notes:
            continue
        samples = []
        for _ in range(limits.gto_runs):
            started = time.perf_counter()
            try:
                done = subprocess.run(
                    [str(gto), *args], cwd=repo, capture_output=True, timeout=limits.gto_timeout
                )
            except subprocess.TimeoutExpired:
                figures.notes[key] = f">{limits.gto_timeout:.0f}s"
                figures.notes.update({k: "skipped" for k in questions if k not in figures.notes})
                break
            samples.append(time.perf_counter() - started)
            if done.returncode != 0:
                tail = done.stderr.decode(errors="replace").strip().splitlines()[-2:]
                figures.failures.append(f"{key} exited {done.returncode}: {' / '.join(tail)}")
        if samples:
            figures.seconds[key] = statistics.median(samples)  # of --gto-runs, not --runs


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """MLflow logs its schema migrations and warns about its own deprecations: not ours."""
    logging.disable(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            yield
        finally:
            logging.disable(logging.NOTSET)


def measure_mlflow(registries: Registries, shape: Shape, figures: Figures, runs: int) -> None:
    """MLflow's sqlite model registry with the same models and versions, asked in this process
    (its import and start are a row of their own): which is an alias lookup, show a registered
    model and its versions, list every version (paged)."""
    keys = [key for key, _ in BASELINE_ROWS if key.startswith("mlflow-")]
    try:
        with _quiet():
            from mlflow import MlflowClient  # the optional `bench` extra
    except ImportError:
        figures.notes.update(dict.fromkeys(keys, "not installed"))
        return
    figures.seconds["mlflow-start"] = statistics.median(
        run_process(
            [sys.executable, "-c", "from mlflow import MlflowClient"], registries.base
        ).seconds
        for _ in range(runs)
    )
    started = time.perf_counter()
    database = registries.base / f"{shape.models}x{shape.versions}.mlflow.db"
    database.unlink(missing_ok=True)
    uri = f"sqlite:///{database}"
    with _quiet():
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        client.search_registered_models(max_results=1)  # creates the schema: part of the fill
        for index in range(shape.models):
            model = model_name(index)
            client.create_registered_model(model, tags={"team": f"team-{index % 20}"})
            for minor in range(shape.versions):
                stage = initial_stage(minor, shape.versions)
                created = client.create_model_version(
                    model,
                    source=f"s3://acme-models/registry/{model}/{version_name(minor)}",
                    tags={"version": version_name(minor), "stage": stage},
                )
                if stage in ("production", "staging"):
                    client.set_registered_model_alias(model, stage, created.version)
        figures.seconds["mlflow-fill"] = time.perf_counter() - started
        model = target_model(shape)

        def show() -> object:
            return client.get_registered_model(model), client.search_model_versions(
                f"name = '{model}'"
            )

        def every_version() -> int:
            found, token = 0, None
            while True:
                page = client.search_model_versions(max_results=10_000, page_token=token)
                found += len(page)
                token = page.token
                if not token:
                    return found

        calls = {
            "mlflow-which": lambda: client.get_model_version_by_alias(model, "production"),
            "mlflow-show": show,
            "mlflow-list": every_version,
        }
        for key, call in calls.items():
            call()  # warm
            figures.seconds[key] = statistics.median(timed(call) for _ in range(max(runs, 5)))


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


def _cell(f: Figures, key: str, runs: int) -> str:
    if key in f.notes:
        return f.notes[key]
    return _seconds(f.seconds.get(key)) + ("*" if f.runs.get(key, runs) < runs else "")


def _commits(all_figures: list[Figures]) -> str:
    counts = {f.shape.history for f in all_figures}
    if len(counts) == 1:
        return f"{counts.pop():,} commits"
    if all(f.shape.history == f.shape.total for f in all_figures):
        return "as many commits as versions"
    return " / ".join(f"{f.shape.history:,}" for f in all_figures) + " commits"


def _faster(slow: float | None, fast: float | None) -> str:
    """How many times faster `fast` is than `slow`."""
    if slow is None or not fast:
        return "-"
    return _ratio(slow, fast)


def report(all_figures: list[Figures], runs: int) -> str:
    sizes = [f"{f.shape.total:,}" for f in all_figures]
    first = all_figures[0]
    with_history = any(f.shape.history for f in all_figures)
    lines = [
        f"Steward registry benchmark, {datetime.date.today().isoformat()}, median of {runs} runs",
        f"machine: {machine()}",
    ]
    for f in all_figures:
        lines.append(
            f"{f.shape.total:,} versions: {f.shape.models:,} models x {f.shape.versions}, "
            f"{f.files:,} files, generated in {f.generated:.1f} s"
            + (
                f"; {f.shape.history:,} more commits in {f.history_generated:.1f} s"
                if f.shape.history
                else ""
            )
        )
    rows = []
    for key, label, target in ROWS:
        if key.startswith("history") and not with_history:
            continue
        label = label.replace("K commits", _commits(all_figures))
        rows.append([label, *(_cell(f, key, runs) for f in all_figures), target])
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
    rows.append(
        [
            "peak memory of `steward site` (first), MB",
            *(f"{f.peak_mb.get('site', 0):.0f}" for f in all_figures),
            "",
        ]
    )
    rows.append(
        [
            "the site's index page (HTML) / its search index, KB",
            *(
                f"{f.site_kb.get('index.html', 0):.1f} / {f.site_kb.get('search-index.js', 0):.0f}"
                for f in all_figures
            ),
            "page < 200 KB",
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
            "`impact` (again) / `list --json` (again)",
            *(
                _ratio(f.seconds.get("impact-again"), f.seconds.get("list-again"))
                for f in all_figures
            ),
        ],
        [
            "`site` (first) / `list --json` (first)",
            *(_ratio(f.seconds.get("site"), f.seconds.get("list")) for f in all_figures),
        ],
        [
            "`site` (one version changed) / `list --json` (again)",
            *(
                _ratio(f.seconds.get("site-again"), f.seconds.get("list-again"))
                for f in all_figures
            ),
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
        [
            "`show` / CLI start (`--version`)",
            *(_ratio(f.seconds.get("show"), f.seconds.get("version")) for f in all_figures),
        ],
    ]
    if any(n < runs for f in all_figures for n in f.runs.values()):
        lines += ["", f"* run fewer times than {runs}: its first run took over --repeat-under"]
    lines += ["", table(["ratio", *sizes], ratio_rows)]
    baseline_rows = [
        [label, *(_cell(f, key, runs) for f in all_figures)] for key, label in BASELINE_ROWS
    ]
    lines += [
        "",
        "Baselines on the same data: GTO on a clone with the tags `steward apply` writes (CLI "
        "processes, as Steward's; each question run --gto-runs times); MLflow's sqlite model "
        "registry, in this process",
        "",
        table(["seconds", *sizes], baseline_rows),
    ]
    faster_rows = [
        [
            "`steward which` faster than `gto show MODEL#production`",
            *(_faster(f.seconds.get("gto-which"), f.seconds.get("which")) for f in all_figures),
        ],
        [
            "`steward show` faster than `gto show MODEL`",
            *(_faster(f.seconds.get("gto-show"), f.seconds.get("show")) for f in all_figures),
        ],
        [
            "`steward list --json` faster than `gto show`",
            *(_faster(f.seconds.get("gto-list"), f.seconds.get("list")) for f in all_figures),
        ],
        [
            "`steward which` (a process) / MLflow alias lookup (in-process)",
            *(_ratio(f.seconds.get("which"), f.seconds.get("mlflow-which")) for f in all_figures),
        ],
        [
            "`steward which` faster than MLflow's import (a process) + alias lookup",
            *(
                _faster(
                    f.seconds["mlflow-start"] + f.seconds["mlflow-which"]
                    if "mlflow-start" in f.seconds and "mlflow-which" in f.seconds
                    else None,
                    f.seconds.get("which"),
                )
                for f in all_figures
            ),
        ],
    ]
    lines += ["", table(["times", *sizes], faster_rows)]
    failures = [f"{f.shape.total:,}: {failure}" for f in all_figures for failure in f.failures]
    if failures:
        lines += ["", "unexpected exit codes (those figures time an error):", *failures]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="versions, comma-separated")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--history",
        default="versions",
        help="commits for `history`: a number, or `versions` (as many as the size's versions)",
    )
    parser.add_argument("--versions-per-model", type=int, default=10)
    parser.add_argument(
        "--repeat-under",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="a command whose first run takes longer runs only once",
    )
    parser.add_argument("--keep", type=Path, help="generate into (and keep) this directory")
    parser.add_argument(
        "--gto-max", type=int, default=10_000, help="the largest size GTO is asked at"
    )
    parser.add_argument("--gto-runs", type=int, default=1, help="runs of each GTO question")
    parser.add_argument(
        "--gto-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="a GTO question taking longer is killed, and GTO's others at that size skipped",
    )
    parser.add_argument(
        "--mlflow-max", type=int, default=10_000, help="the largest size MLflow is filled at"
    )
    parser.add_argument(
        "--no-fresh-clone",
        action="store_true",
        help="skip the 'CI on a fresh clone' section (tests.benchmarks.fresh_clone)",
    )
    parser.add_argument("--floors-of", type=Path, help=argparse.SUPPRESS)  # see floors()
    args = parser.parse_args()
    if args.floors_of is not None:
        print(json.dumps(measure_floors(args.floors_of, args.runs)))
        return
    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    started = time.perf_counter()
    per_model = args.versions_per_model
    shapes = []
    for size in args.sizes.split(","):
        models = max(1, int(size) // per_model)
        commits = models * per_model if args.history == "versions" else int(args.history)
        shapes.append(Shape(models, per_model, commits))
    limits = Limits(args.gto_max, args.gto_runs, args.gto_timeout, args.mlflow_max)
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
    registries = Registries(args.keep)
    all_figures = []
    try:
        for shape in shapes:
            print(f"measuring {shape.total:,} versions ...", file=sys.stderr, flush=True)
            figures = measure(registries, shape, args.runs, args.repeat_under)
            measure_gto(registries, shape, figures, limits)
            if shape.total <= limits.mlflow_max:
                measure_mlflow(registries, shape, figures, args.runs)
            else:
                figures.notes.update(
                    {key: "skipped" for key, _ in BASELINE_ROWS if key.startswith("mlflow-")}
                )
            all_figures.append(figures)
        fresh = []
        if not args.no_fresh_clone:
            from tests.benchmarks.fresh_clone import measure_fresh_clone, section

            for shape in shapes:
                print(f"on a fresh clone, {shape.total:,} ...", file=sys.stderr, flush=True)
                fresh.append(measure_fresh_clone(registries, shape, args.runs))
    finally:
        if args.keep is None:
            registries.cleanup()
    print(report(all_figures, args.runs))
    if fresh:
        print("\n" + section(fresh, args.runs))
    print(f"\n(whole run: {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
