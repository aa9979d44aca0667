"""Example-driven tests of the strict loader and the entry models (STYLE.md item 11).

tests/examples/valid/<kind>/*.yaml must parse with no problem and meet the shipped JSON Schema.
tests/examples/invalid/<kind>/<case>.yaml must be refused with exactly the lines in <case>.expected:
the rendered problems, one per line, in the order `parse_file` returns them, with the file name as
the displayed path. <kind> is a `steward.entries.layout.Kind` value. To add a case, add both files,
and write the .expected as the message a user should read, not as a copy of whatever Steward prints.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from steward.entries.jsonschemas import SCHEMA_MODELS, shipped_schema_text
from steward.entries.layout import Kind
from steward.entries.validate import parse_file
from steward.entries.yamlio import MAX_FILE_BYTES, loads
from steward.errors import YamlError

EXAMPLES = Path(__file__).parent / "examples"
VALID = EXAMPLES / "valid"
INVALID = EXAMPLES / "invalid"
ENTRY_KINDS = sorted(SCHEMA_MODELS)  # the kinds a person writes as YAML and that have a schema

# Cases where Steward's answer is wrong today: the .expected file holds the answer it should give.
# Each entry is a finding; when it is fixed the test passes, strict xfail fails, and the entry goes.
KNOWN_WRONG: dict[str, str] = {}

# Invalid examples whose data loads but that the exported JSON Schema accepts: rules it cannot
# express. Everything else that loads must be refused by the schema too, so that editors using
# the schema flag what `steward check` refuses.
SCHEMA_CANNOT_EXPRESS = {
    "version/path-duplicate": "uniqueness of one property across array items",
    "dataset/duplicate-column": "uniqueness of one property across array items",
    "version/naive-timestamp": "'format: date-time' is an annotation unless a format checker runs",
    "version/naive-timestamp-production-metrics": "'format: date-time' is an annotation",
    "version/timestamp-space-separator": "'format: date-time' is an annotation",
    "version/timestamp-impossible-date": "'format: date-time' is an annotation",
    "version/created-at-date": "'format: date-time' is an annotation",
    "version/timestamp-before-year-one-in-utc": "'format: date-time' is an annotation",
    "version/size-float": "JSON Schema counts 48213.0 as an integer",
    "version/size-exponent": "JSON Schema counts 4.8e4 as an integer",
}

# Invalid examples the JSON Schema could refuse but the exported one does not: findings.
SCHEMA_GAPS: dict[str, str] = {}


def _case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def _examples(root: Path) -> list[Path]:
    return sorted(root.glob("*/*.yaml"))


def _params(root: Path) -> list[Any]:
    params = []
    for path in _examples(root):
        case = _case_id(path)
        marks = []
        if case in KNOWN_WRONG:
            marks.append(pytest.mark.xfail(reason=KNOWN_WRONG[case], strict=True))
        params.append(pytest.param(path, id=case, marks=marks))
    return params


@cache
def _validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(shipped_schema_text(kind)))


def _rendered_bytes(kind: Kind, raw: bytes, name: str) -> list[str]:
    parsed = parse_file(kind, raw, name)
    if parsed.problems:
        assert parsed.entry is None
    return [problem.render() for problem in parsed.problems]


def _rendered(path: Path) -> list[str]:
    return _rendered_bytes(Kind(path.parent.name), path.read_bytes(), path.name)


# --- the examples themselves ----------------------------------------------------------------


@pytest.mark.parametrize("path", _params(VALID))
def test_valid_example_has_no_problem(path: Path) -> None:
    parsed = parse_file(Kind(path.parent.name), path.read_bytes(), path.name)
    assert [problem.render() for problem in parsed.problems] == []
    assert parsed.entry is not None


@pytest.mark.parametrize("path", _params(VALID))
def test_valid_example_meets_the_shipped_json_schema(path: Path) -> None:
    data = loads(path.read_bytes(), path.name).data
    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in _validator(path.parent.name).iter_errors(data)
    ]
    assert errors == []


@pytest.mark.parametrize("path", _params(INVALID))
def test_invalid_example_gives_exactly_the_expected_problems(path: Path) -> None:
    expected = path.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    assert _rendered(path) == expected


def _schema_params() -> list[Any]:
    params = []
    for path in _examples(INVALID):
        case = _case_id(path)
        if case in SCHEMA_CANNOT_EXPRESS:
            continue
        marks = []
        if case in SCHEMA_GAPS:
            marks.append(pytest.mark.xfail(reason=SCHEMA_GAPS[case], strict=True))
        params.append(pytest.param(path, id=case, marks=marks))
    return params


@pytest.mark.parametrize("path", _schema_params())
def test_invalid_entry_data_is_refused_by_the_json_schema_too(path: Path) -> None:
    try:
        data = loads(path.read_bytes(), path.name).data
    except YamlError:
        pytest.skip("refused by the YAML loader: no data for the schema to judge")
    assert not _validator(path.parent.name).is_valid(data)


@pytest.mark.parametrize("case", sorted(SCHEMA_CANNOT_EXPRESS), ids=sorted(SCHEMA_CANNOT_EXPRESS))
def test_cases_the_json_schema_cannot_express_are_accepted_by_it(case: str) -> None:
    # Keeps SCHEMA_CANNOT_EXPRESS honest: a case the schema learns to refuse leaves the list.
    path = INVALID / f"{case}.yaml"
    data = loads(path.read_bytes(), path.name).data
    assert _validator(path.parent.name).is_valid(data)


# --- the examples directory stays consistent ------------------------------------------------


def test_every_invalid_example_has_an_expected_file_and_every_expected_file_an_example() -> None:
    examples = {path.with_suffix("") for path in INVALID.glob("*/*.yaml")}
    expectations = {path.with_suffix("") for path in INVALID.glob("*/*.expected")}
    assert sorted(map(str, examples - expectations)) == [], "examples without .expected"
    assert sorted(map(str, expectations - examples)) == [], ".expected without an example"


def test_every_expected_file_names_its_own_example_on_every_line() -> None:
    for expected in INVALID.glob("*/*.expected"):
        lines = expected.read_text(encoding="utf-8").splitlines()
        assert lines, f"{expected} is empty: an invalid example must have a problem"
        own = expected.with_suffix(".yaml").name
        assert all(line.startswith(f"{own}:") for line in lines), expected


def test_example_directories_are_entry_kinds_and_hold_only_examples() -> None:
    assert sorted(path.name for path in VALID.iterdir()) == ENTRY_KINDS
    assert sorted(path.name for path in INVALID.iterdir() if path.is_dir()) == ENTRY_KINDS
    for root, suffixes in ((VALID, {".yaml"}), (INVALID, {".yaml", ".expected"})):
        for kind_dir in root.iterdir():
            Kind(kind_dir.name)
            stray = [p.name for p in kind_dir.iterdir() if p.suffix not in suffixes]
            assert stray == [], f"unexpected files in {kind_dir}"


def test_every_known_wrong_and_schema_exception_names_an_existing_example() -> None:
    cases = {_case_id(path) for path in _examples(INVALID)}
    assert set(KNOWN_WRONG) - cases == set()
    assert set(SCHEMA_CANNOT_EXPRESS) - cases == set()
    assert set(SCHEMA_GAPS) - cases == set()


@pytest.mark.parametrize("kind", ENTRY_KINDS)
def test_each_kind_has_valid_and_invalid_examples(kind: str) -> None:
    assert list((VALID / kind).glob("*.yaml"))
    assert list((INVALID / kind).glob("*.yaml"))


def test_an_oversized_file_is_refused_and_generated_here_not_committed() -> None:
    valid = (VALID / "version" / "fraud-detector-1.3.0.yaml").read_bytes()
    padding = b"#" * (MAX_FILE_BYTES - len(valid)) + b"\n"
    raw = padding + valid
    assert len(raw) == MAX_FILE_BYTES + 1
    assert _rendered_bytes(Kind.VERSION, raw, "oversized.yaml") == [
        f"oversized.yaml: file is {MAX_FILE_BYTES + 1} bytes; the limit is {MAX_FILE_BYTES} bytes"
    ]
    assert _rendered_bytes(Kind.VERSION, raw[1:], "at-the-limit.yaml") == []
    committed = max(path.stat().st_size for path in EXAMPLES.rglob("*.yaml"))
    assert committed < MAX_FILE_BYTES // 100
