"""One view across registries, measured: a federation of N registries of M versions each against
one registry of N x M versions, in one run.

    python -m tests.benchmarks.federation [--registries 20] [--versions 5000]
                                          [--versions-per-model 10] [--runs 3] [--small]
                                          [--keep DIR]

`--small` is 4 registries of 500 versions (a minute). The registries are `tests.benchmarks.
synthetic` registries (every version trained on `transactions`, so impact affects them all: the
worst case), one generated and cloned N times (bare, hard-linked), and a federation file naming
them by path. Whole `python -m steward` processes, median of `--runs`, each against a baseline
measured in the same run:

- `federation sync` after one new version pushed to one registry, against a sync with nothing
  new; which registries fetched objects (`git count-objects` of every mirror before and after);
- federated `list --json` warm (its caches filled by a first run) against `list --json` warm in
  the worktree of the one registry of N x M versions (target: at most 2x);
- federated `impact --dataset transactions` warm, text and `--json` (target: at most 2 s), against
  the single registry's `impact` (which parses every entry each time);
- for information: the first sync (every registry fetched) and the cold federated list and
  impact (the mirrors' caches empty).

Asserts nothing; prints a table.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.benchmarks.registry import machine, run_process
from tests.benchmarks.synthetic import (
    Shape,
    make_registry,
    model_name,
    pointer_text,
    version_text,
)

STEWARD = [sys.executable, "-m", "steward"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def objects(repo: Path) -> tuple[str, ...]:
    """What `git count-objects -v` says of a mirror: changes when a fetch stores anything."""
    return tuple(git(repo, "count-objects", "-v").split())


def make_federation(base: Path, registries: int, shape: Shape) -> Path:
    """`registries` bare clones of one synthetic registry, and `central/federation.yaml` naming
    them; returns the file."""
    source = make_registry(base / "source", shape)
    lines = ["registries:"]
    for index in range(registries):
        name = f"team-{index:02d}"
        git(base, "clone", "--quiet", "--bare", str(source), str(base / f"{name}.git"))
        lines += [f"  - name: {name}", f"    url: ../{name}.git"]
    central = base / "central"
    central.mkdir()
    git(central, "init", "--quiet", "--initial-branch=main")
    path = central / "federation.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def push_one_version(base: Path, registry: str, shape: Shape) -> None:
    """A new version of the first model, committed in a clone of `registry` and pushed."""
    work = base / f"{registry}-work"
    if not work.exists():
        git(base, "clone", "--quiet", str(base / f"{registry}.git"), str(work))
        git(work, "config", "user.name", "ci-bot")
        git(work, "config", "user.email", "ci-bot@example.com")
    model = model_name(0)
    minor = shape.versions + len(list((work / "registry/models" / model).glob("*.yaml")))
    version = f"1.{minor}.0"
    folder = work / "registry/models" / model
    (folder / f"{version}.yaml").write_bytes(version_text(model, minor, "development"))
    (folder / f"{version}.dvc").write_bytes(pointer_text(model, minor))
    git(work, "add", "-A")
    git(work, "commit", "--quiet", "-m", f"{model} {version}")
    git(work, "push", "--quiet", "origin", "main")


def seconds(cmd: list[str], cwd: Path, runs: int, codes: tuple[int, ...] = (0,)) -> float:
    times = []
    for _ in range(runs):
        done = run_process(cmd, cwd)
        if done.code not in codes:
            raise SystemExit(f"{' '.join(cmd)}: exit {done.code}\n{done.stderr}")
        times.append(done.seconds)
    return statistics.median(times)


def mirror_objects(mirrors: Path) -> dict[str, tuple[str, ...]]:
    return {path.name.removesuffix(".git"): objects(path) for path in sorted(mirrors.glob("*.git"))}


def measure(base: Path, registries: int, versions: int, per_model: int, runs: int) -> list[str]:
    shape = Shape(models=max(1, versions // per_model), versions=per_model)
    whole = Shape(models=max(1, registries * versions // per_model), versions=per_model)
    path = make_federation(base, registries, shape)
    central = path.parent
    single = make_registry(base / "single", whole)
    fed = ["--federation", str(path)]
    rows: list[tuple[str, float, float | None, str]] = []

    first_sync = seconds([*STEWARD, "federation", "sync", str(path)], central, 1)
    mirrors = central / ".git" / "steward" / "federation"
    rows.append(("first sync (every registry fetched)", first_sync, None, ""))

    # Cold answers: the mirrors' caches are empty after the first sync.
    cold_list = seconds([*STEWARD, "list", "--json", *fed], central, 1)
    cold_impact = seconds(
        [*STEWARD, "impact", "--dataset", "transactions", *fed], central, 1, codes=(1,)
    )

    nothing_new = seconds([*STEWARD, "federation", "sync", str(path)], central, runs)
    before = mirror_objects(mirrors)
    changed = f"team-{registries // 2:02d}"
    push_one_version(base, changed, shape)
    one_new = seconds([*STEWARD, "federation", "sync", str(path)], central, 1)
    after = mirror_objects(mirrors)
    fetched = [name for name in after if after[name] != before.get(name)]
    rows.append(
        (
            "sync after one new version",
            one_new,
            nothing_new,
            f"vs a sync with nothing new; objects fetched by: {', '.join(fetched) or 'none'} "
            f"(pushed to {changed})",
        )
    )

    seconds([*STEWARD, "list", "--json"], single, 1)  # fills the single registry's cache
    single_list = seconds([*STEWARD, "list", "--json"], single, runs)
    seconds([*STEWARD, "list", "--json", *fed], central, 1)  # the changed registry, re-cached
    warm_list = seconds([*STEWARD, "list", "--json", *fed], central, runs)
    rows.append(
        (
            f"federated list --json, warm ({registries} x {versions})",
            warm_list,
            single_list,
            f"vs list --json warm in one registry of {whole.total} versions (target <= 2x)",
        )
    )
    rows.append(("federated list --json, cold", cold_list, single_list, "caches empty"))

    impact = [*STEWARD, "impact", "--dataset", "transactions", *fed]
    seconds(impact, central, 1, codes=(1,))
    warm_impact = seconds(impact, central, runs, codes=(1,))
    warm_impact_json = seconds([*impact, "--json"], central, runs, codes=(1,))
    single_impact = seconds(
        [*STEWARD, "impact", "--dataset", "transactions"], single, 1, codes=(1,)
    )
    note = f"vs impact in one registry of {whole.total} versions (target: warm <= 2 s)"
    rows.append(("federated impact, warm", warm_impact, single_impact, note))
    rows.append(("federated impact --json, warm", warm_impact_json, single_impact, note))
    rows.append(("federated impact, cold", cold_impact, single_impact, "caches empty"))

    out = [
        f"federation of {registries} registries x {versions} versions "
        f"({per_model} per model); median of {runs} run(s); {machine()}",
        "",
        f"{'measure':<46} {'seconds':>8} {'baseline':>9} {'ratio':>7}  note",
    ]
    for name, value, baseline, text in rows:
        base_text = f"{baseline:9.2f}" if baseline is not None else f"{'-':>9}"
        ratio = f"{value / baseline:6.2f}x" if baseline else f"{'-':>7}"
        out.append(f"{name:<46} {value:8.2f} {base_text} {ratio}  {text}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registries", type=int, default=20)
    parser.add_argument("--versions", type=int, default=5000, help="versions per registry")
    parser.add_argument("--versions-per-model", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--small", action="store_true", help="4 registries x 500 versions")
    parser.add_argument("--keep", type=Path, help="generate into (and keep) this directory")
    args = parser.parse_args()
    registries, versions = (4, 500) if args.small else (args.registries, args.versions)
    base = args.keep or Path(tempfile.mkdtemp(prefix="steward-federation-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    try:
        lines = measure(base, registries, versions, args.versions_per_model, args.runs)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
