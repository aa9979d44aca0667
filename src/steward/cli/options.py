"""Parsing command-line values shared by several commands: NAME=VALUE pairs, JSON and YAML files."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from steward.entries.yamlio import loads, resolve_plain
from steward.errors import UsageError, YamlError

AS_HELP = "Act as this GitHub login [default: STEWARD_LOGIN, the Actions actor, or the user]."


def parse_pairs(pairs: tuple[str, ...], what: str) -> dict[str, str]:
    """`NAME=VALUE` strings into a dict, refusing malformed or repeated names."""
    result: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"{what} '{pair}' is not NAME=VALUE")
        if name in result:
            raise UsageError(f"{what} '{name}' is given twice")
        result[name] = value
    return result


def parse_metric_value(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"metric {name}: '{text}' is not a number") from None
    if not math.isfinite(value):
        raise UsageError(f"metric {name}: {text} is not a finite number")
    return value


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number a registry can hold")


def read_metrics_file(path: Path) -> dict[str, float]:
    """A JSON object of numbers; nested objects are flattened with '.' (as dvclive writes them)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_constant=_refuse_constant)
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a JSON object of metric names to numbers")
    metrics: dict[str, float] = {}
    _flatten(data, "", metrics, path)
    return metrics


def _flatten(data: dict[str, Any], prefix: str, out: dict[str, float], path: Path) -> None:
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            _flatten(value, f"{name}.", out, path)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            if not math.isfinite(float(value)):
                raise UsageError(f"{path}: metric {name}: {value} is not a finite number")
            out[name] = float(value)
        else:
            raise UsageError(f"{path}: metric {name}: expected a number, got {value!r}")


def parse_param_value(text: str) -> Any:
    """A parameter's value as YAML would read it, strictly: 6 -> 6, 0.1 -> 0.1, gini -> 'gini'."""
    try:
        return resolve_plain(text)
    except ValueError as exc:
        raise UsageError(f"parameter value '{text}': {exc}") from None


def read_params_file(path: Path) -> dict[str, Any]:
    """Hyperparameters from a YAML or JSON file (DVC's params.yaml, for instance)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None
    try:
        data = loads(raw, str(path)).data
    except YamlError as exc:
        raise UsageError(str(exc)) from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a mapping of parameter names to values")
    return data


def parse_target(target: str) -> tuple[str, str | None]:
    """`MODEL` or `MODEL@VERSION` as given on the command line."""
    model, at, version = target.partition("@")
    if at and not version:
        raise UsageError(f"'{target}': give a version after '@', or leave the '@' out")
    return model, version or None


def split_version(target: str, version: str | None, where: str) -> tuple[str, str | None]:
    """MODEL@VERSION (the one way to name a version) or MODEL with the version given apart (the
    older spelling, still accepted); both at once must agree."""
    model, named = parse_target(target)
    if named is None:
        return target, version
    if not model:
        raise UsageError(f"{where}: {target!r} is not MODEL@VERSION")
    if version is not None and version != named:
        raise UsageError(f"{where}: two versions named: {named} and {version}")
    return model, named
