"""`steward register` of a large file against `md5sum` of the same file, in the same run.

    python -m tests.benchmarks.register [--size-mb 1024] [--runs 3] [--with-dvc]

Prints the median wall time of each and the ratio (also of `steward register` with its cache
and remote written by DVC, as for a configuration Steward leaves to DVC), then where `steward
register`'s time goes (its phases, written by `steward.timings` to the file `STEWARD_TIMINGS`
names; start-up is from the process's start to its first phase, "other" what no phase covers);
asserts nothing. Every run
registers into a fresh registry (registration is idempotent, so the same file would not register
twice), with the file already in the page cache for every contender.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from steward.reading.create import create_model
from steward.reading.scaffold import init_registry

STEWARD = [sys.executable, "-m", "steward"]


def make_file(path: Path, size_mb: int) -> None:
    block = os.urandom(1024 * 1024)
    with path.open("wb") as stream:
        for i in range(size_mb):
            stream.write(block[i % 997 :] + block[: i % 997])  # distinct blocks, cheap to make


def timed(action: Callable[[], object]) -> float:
    os.sync()  # earlier runs' dirty pages are written back before the clock starts, not during
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def fresh_registry(base: Path, name: str) -> Path:
    root = init_registry(base / name).root
    create_model(root, {"name": "big", "owner": "carol", "team": "bench", "risk": "minimal"})
    return root


def discard(root: Path) -> None:
    """Each run's copies go before the next: gigabytes of page cache left behind would make the
    kernel reclaim memory during later runs, and the figures would measure that."""
    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(root.with_name(root.name + ".dvc-storage"), ignore_errors=True)


def run(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, env=env)


def register_timed(
    root: Path, artifact: Path, timings: Path, through_dvc: Path | None = None
) -> tuple[float, dict[str, float], dict[str, float]]:
    """Wall time of one `steward register`, and its breakdown: seconds per phase of the command
    (summing to the wall time), and per phase run beside them in a thread of their own.
    `through_dvc`: a directory holding an empty DVC configuration, given as DVC's global one, so
    that DVC writes the cache and the remote (`steward.artifacts.local_stores`)."""
    timings.unlink(missing_ok=True)
    env = {**os.environ, "STEWARD_TIMINGS": str(timings)}
    if through_dvc is not None:
        env["DVC_GLOBAL_CONFIG_DIR"] = str(through_dvc)
    os.sync()
    spawned = time.time()
    started = time.perf_counter()
    run([*STEWARD, "register", "big", str(artifact)], root, env)
    wall = time.perf_counter() - started
    phases = [json.loads(line) for line in timings.read_text("utf-8").splitlines()]
    own = [p for p in phases if not p["beside"]]
    breakdown = {"start-up": min(p["start"] for p in own) - spawned}
    for item in own:
        breakdown[item["phase"]] = breakdown.get(item["phase"], 0.0) + item["seconds"]
    breakdown["other (between phases, exit)"] = wall - sum(breakdown.values())
    beside = {p["phase"]: p["seconds"] for p in phases if p["beside"]}
    return wall, breakdown, beside


def parts_alone(artifact: Path, base: Path, runs: int) -> list[tuple[str, list[float]]]:
    """What the pass's parts cost each on its own, on the same file: sha256 (hashlib, as
    Steward runs it) and one kernel copy to a new file (each of the pass's two copies)."""
    import hashlib

    from steward.artifacts.copying import copy_into_place

    def sha256() -> None:
        digest = hashlib.sha256()
        with artifact.open("rb") as stream:
            while chunk := stream.read(16 * 1024 * 1024):
                digest.update(chunk)

    copies = []
    for i in range(runs):
        target = base / f"copy{i}"
        copies.append(timed(lambda t=target: copy_into_place(artifact, t, 64 * 1024 * 1024)))
        target.unlink()
    return [
        ("sha256 (hashlib)", [timed(sha256) for _ in range(runs)]),
        ("one kernel copy (copy_file_range)", copies),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--with-dvc", action="store_true", help="also time plain `dvc add`")
    args = parser.parse_args()
    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    base = Path(tempfile.mkdtemp(prefix="steward-bench-"))
    try:
        artifact = base / "model.bin"
        make_file(artifact, args.size_mb)
        run(["md5sum", str(artifact)])  # warm the page cache
        md5sum = [timed(lambda: run(["md5sum", str(artifact)])) for _ in range(args.runs)]
        outer = base / "dvc-global"
        outer.mkdir()
        (outer / "config").write_text("")
        steward, through_dvc, breakdowns, besides = [], [], [], []
        for i in range(args.runs):  # alternated, so that a slower minute slows both alike
            root = fresh_registry(base, f"reg{i}")
            wall, breakdown, beside = register_timed(root, artifact, base / "timings.jsonl")
            steward.append(wall)
            breakdowns.append(breakdown)
            besides.append(beside)
            discard(root)
            root = fresh_registry(base, f"via-dvc{i}")
            through_dvc.append(register_timed(root, artifact, base / "timings.jsonl", outer)[0])
            discard(root)
        rows = [
            ("md5sum", md5sum),
            *parts_alone(artifact, base, args.runs),
            ("steward register (CLI, local remote)", steward),
            ("the same, the stores written by DVC", through_dvc),
        ]
        if args.with_dvc:
            dvc = []
            for i in range(args.runs):
                root = fresh_registry(base, f"dvc{i}")
                shutil.copyfile(artifact, root / "model.bin")
                dvc.append(
                    timed(lambda r=root: run([sys.executable, "-m", "dvc", "add", "model.bin"], r))
                )
                discard(root)
            rows.append(("dvc add (copy into cache)", dvc))
        floor = statistics.median(md5sum)
        print(f"\nregister {args.size_mb} MB, median of {args.runs} runs ({os.cpu_count()} cores)")
        print(f"{'what':40} {'seconds':>8} {'x md5sum':>9}")
        for label, times in rows:
            median = statistics.median(times)
            print(f"{label:40} {median:8.2f} {median / floor:9.2f}")
        print("\nwhere `steward register`'s time goes (median of each phase)")
        for name in breakdowns[0]:
            median = statistics.median(b.get(name, 0.0) for b in breakdowns)
            print(f"  {name:38} {median:8.2f} {median / floor:9.2f}")
        print("beside those, in a thread of its own from start-up on")
        for name in besides[0]:
            median = statistics.median(b.get(name, 0.0) for b in besides)
            print(f"  {name:38} {median:8.2f} {median / floor:9.2f}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
