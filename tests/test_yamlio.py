"""The strict YAML loader and writer beyond the examples in tests/examples/.

The examples pin the exact message for each refused file; these tests pin what the loader returns
for accepted input (types, line numbers, the text of numbers as written), the limits that are too
big to commit as files, and that whatever `dumps` writes, `loads` reads back equal.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from steward.entries import yamlio
from steward.entries.layout import Kind
from steward.entries.validate import parse_file
from steward.entries.yamlio import (
    FORBIDDEN_CHARACTERS,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    Loaded,
    dumps,
    loads,
    resolve_plain,
    schema_comment,
)
from steward.errors import YamlError


def load(text: str) -> Any:
    return loads(text.encode("utf-8"), "test.yaml").data


def refusal(text: str | bytes) -> YamlError:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    with pytest.raises(YamlError) as caught:
        loads(raw, "test.yaml")
    return caught.value


# --- size and depth limits ------------------------------------------------------------------


def _file_of_size(size: int) -> bytes:
    head = b"description: "
    return head + b"x" * (size - len(head) - 1) + b"\n"


def test_a_file_of_exactly_the_size_limit_is_read() -> None:
    raw = _file_of_size(MAX_FILE_BYTES)
    assert len(raw) == MAX_FILE_BYTES
    assert len(loads(raw, "big.yaml").data["description"]) == MAX_FILE_BYTES - 14


def test_a_file_over_the_size_limit_is_refused_before_it_is_parsed() -> None:
    raw = _file_of_size(MAX_FILE_BYTES + 1)
    error = refusal(raw)
    assert (error.path, error.line) == ("test.yaml", None)
    assert error.problem == (
        f"file is {MAX_FILE_BYTES + 1} bytes; the limit is {MAX_FILE_BYTES} bytes"
    )


def test_an_oversized_file_is_one_problem_of_parse_file() -> None:
    # Even bytes YAML could not parse: the size is checked first, so a huge file costs nothing.
    raw = b"[" * (MAX_FILE_BYTES * 2)
    parsed = parse_file(Kind.VERSION, raw, "huge.yaml")
    assert parsed.entry is None
    assert [p.render() for p in parsed.problems] == [
        f"huge.yaml: file is {2 * MAX_FILE_BYTES} bytes; the limit is {MAX_FILE_BYTES} bytes"
    ]


def _nested_lists(containers: int) -> str:
    """A flow sequence with `containers` levels of brackets around one scalar."""
    return "key: " + "[" * containers + "x" + "]" * containers + "\n"


def test_nesting_below_the_cap_is_read() -> None:
    data = load(_nested_lists(MAX_DEPTH - 2))
    depth = 0
    value = data["key"]
    while isinstance(value, list):
        (value,) = value
        depth += 1
    assert (depth, value) == (MAX_DEPTH - 2, "x")


def test_a_value_nested_exactly_max_depth_levels_is_read() -> None:
    # 32 nested block mappings: the last key is indented 31 times and its value is 32 levels in.
    lines = [f"{'  ' * level}k{level}:" for level in range(MAX_DEPTH)]
    lines[-1] += " leaf"
    data = load("\n".join(lines) + "\n")
    for level in range(MAX_DEPTH):
        data = data[f"k{level}"]
    assert data == "leaf"


@pytest.mark.parametrize("containers", [MAX_DEPTH + 1, MAX_DEPTH * 100, MAX_DEPTH * 10_000])
def test_nesting_deeper_than_the_cap_is_refused_on_its_line(containers: int) -> None:
    # Compact block sequences (`- - - x`) nest one level per `- ` on a single line.
    error = refusal("name: deep\nkey:\n" + "- " * containers + "x\n")
    assert (error.line, error.problem) == (3, f"nested deeper than {MAX_DEPTH} levels")


def test_deeply_nested_flow_collections_are_refused_on_their_line() -> None:
    # libyaml's scanner stops these itself (it looks ahead through a flow collection).
    containers = MAX_DEPTH * 100
    error = refusal("name: deep\nkey: " + "[" * containers + "]" * containers + "\n")
    assert error.line == 2
    assert "nest" in error.problem


# --- line numbers ---------------------------------------------------------------------------

VERSION_TEXT = """\
# a comment takes a line too
model: fraud-detector
version: 1.3.0
artifact:
  dvc: 1.3.0.dvc
  files:
    - path: model.pkl
      size: 46001
    -   path: config.yaml

        size: 2212
training: {datasets: [{id: transactions},
                      {id: chargebacks, version: v3}]}
metrics:
  auc: 0.931
"""


@pytest.mark.parametrize(
    ("loc", "line"),
    [
        (("model",), 2),
        (("artifact",), 4),
        (("artifact", "dvc"), 5),
        (("artifact", "files"), 6),
        (("artifact", "files", 0), 7),
        (("artifact", "files", 0, "path"), 7),
        (("artifact", "files", 0, "size"), 8),
        (("artifact", "files", 1), 9),
        (("artifact", "files", 1, "path"), 9),
        (("artifact", "files", 1, "size"), 11),
        (("training", "datasets", 0, "id"), 12),
        (("training", "datasets", 1), 13),
        (("training", "datasets", 1, "version"), 13),
        (("metrics", "auc"), 15),
    ],
)
def test_every_key_and_item_has_its_line(loc: tuple[str | int, ...], line: int) -> None:
    loaded = loads(VERSION_TEXT.encode(), "v.yaml")
    assert loaded.line_of(loc) == line


def test_line_of_a_missing_field_is_the_line_of_its_nearest_parent() -> None:
    loaded = loads(VERSION_TEXT.encode(), "v.yaml")
    assert loaded.line_of(("artifact", "files", 1, "sha256")) == 9
    assert loaded.line_of(("artifact", "md5")) == 4
    assert loaded.line_of(("training", "code", "commit")) == 12


def test_line_of_a_top_level_field_that_is_missing_is_the_first_line_of_the_document() -> None:
    loaded = loads(VERSION_TEXT.encode(), "v.yaml")
    assert loaded.line_of(("stage",)) == 2


def test_windows_line_endings_count_lines_the_same_way() -> None:
    loaded = loads(VERSION_TEXT.replace("\n", "\r\n").encode(), "v.yaml")
    assert loaded.data == load(VERSION_TEXT)
    assert loaded.line_of(("artifact", "files", 1, "size")) == 11


def test_duplicate_keys_name_both_lines() -> None:
    error = refusal("metrics:\n  auc: 0.9\n  f1: 0.8\n  auc: 0.95\n")
    assert (error.line, error.problem) == (4, "duplicate key 'auc' (first on line 2)")
    assert str(error) == "test.yaml:4: duplicate key 'auc' (first on line 2)"


# --- how plain scalars resolve --------------------------------------------------------------

STRINGS_IN_YAML_1_1_ONLY_NOT_STRINGS = [
    "yes", "no", "on", "off", "Yes", "NO", "On", "OFF", "y", "n",  # YAML 1.1 booleans
    "0755", "0o17", "0x1f", "0b101", "1_000", "+0755",  # YAML 1.1 / 1.2 integers
    "1:30", "190:20:30", "1_000.5", "1.5:10",  # sexagesimal and underscores
    "2026-10-31", "2026-10-31T10:00:00Z", "2026-10-31 10:00:00",  # timestamps
    "1.2.3", "3.11.4", "1e", "e3", ".", "+", "-.", "nan", "inf", "NaN", "Infinity",
    "=", "nULL", "tRUE",
]  # fmt: skip


@pytest.mark.parametrize("text", STRINGS_IN_YAML_1_1_ONLY_NOT_STRINGS)
def test_plain_scalars_that_other_loaders_coerce_stay_strings(text: str) -> None:
    loaded = loads(f"value: {text}\n{text}: as a key\nlist: [{text}]\n".encode(), "t.yaml")
    assert loaded.data == {"value": text, text: "as a key", "list": [text]}
    assert type(loaded.data["value"]) is str
    assert loaded.source_text == {}


def test_the_github_actions_on_key_stays_the_string_on() -> None:
    assert load("on:\n  push: {branches: [main]}\n") == {"on": {"push": {"branches": ["main"]}}}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True), ("True", True), ("TRUE", True),
        ("false", False), ("False", False), ("FALSE", False),
        ("null", None), ("Null", None), ("NULL", None), ("~", None), ("", None),
        ("0", 0), ("-0", 0), ("+7", 7), ("48213", 48213), ("-12", -12),
        ("12345678901234567890123", 12345678901234567890123),
        ("0.931", 0.931), ("-1.5", -1.5), ("1.", 1.0), (".5", 0.5), ("1e3", 1000.0),
        ("6.02E+23", 6.02e23), ("-2.5e-3", -0.0025),
    ],
)  # fmt: skip
def test_plain_scalars_resolve_by_the_narrowed_core_schema(text: str, value: object) -> None:
    loaded = load(f"value: {text}\n")["value"]
    assert loaded == value
    assert type(loaded) is type(value)


def test_1_10_loads_as_the_float_1_1_and_remembers_how_it_was_written() -> None:
    loaded = loads(b"version: 1.10\nenvironment:\n  python: 3.10\nsizes: [0, 1.50]\n", "v.yaml")
    assert loaded.data == {"version": 1.1, "environment": {"python": 3.1}, "sizes": [0, 1.5]}
    assert type(loaded.data["version"]) is float
    assert loaded.source_text == {
        ("version",): "1.10",
        ("environment", "python"): "3.10",
        ("sizes", 0): "0",
        ("sizes", 1): "1.50",
    }


def test_quoted_and_block_scalars_are_always_strings() -> None:
    loaded = loads(
        b"a: '1.10'\nb: \"yes\"\nc: 'null'\nd: |\n  true\ne: >-\n  0755\nf: ''\n", "q.yaml"
    )
    assert loaded.data == {
        "a": "1.10", "b": "yes", "c": "null", "d": "true\n", "e": "0755", "f": "",
    }  # fmt: skip
    assert loaded.source_text == {}


@pytest.mark.parametrize(
    "text", [".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "-.inf", "-.Inf", "-.INF"]
)
def test_nan_and_infinity_are_refused_where_they_are_written(text: str) -> None:
    error = refusal(f"metrics:\n  auc: 0.9\n  loss: {text}\n")
    assert error.line == 3
    assert error.problem == (
        f"{text} is not allowed: NaN and infinity are not numbers a registry can hold"
    )


def test_a_float_too_large_for_a_double_is_refused() -> None:
    error = refusal("loss: 1e309\n")
    assert (error.line, error.problem) == (1, "number 1e309 is out of range")


def test_resolve_plain_is_the_rule_for_one_scalar() -> None:
    assert resolve_plain("1.10") == 1.1
    assert resolve_plain("yes") == "yes"
    assert resolve_plain("~") is None


# --- the strict subset beyond the committed examples ----------------------------------------


def test_a_control_character_is_refused_on_its_line() -> None:
    error = refusal("name: churn\ndescription: |\n  weekly\n  list\x07 of churners\n")
    assert error.line == 4
    assert "U+0007" in error.problem
    assert "\n" not in error.problem
    assert "<unicode string>" not in error.problem


@pytest.mark.parametrize("character", ["\x85", "\u2028", "\u2029"])
def test_a_unicode_line_break_is_refused_on_its_line(character: str) -> None:
    # YAML counts these as line breaks and editors do not: line numbers would disagree.
    error = refusal(f"name: churn\ndescription: weekly{character}churners\n")
    assert error.line == 2


@pytest.mark.parametrize(
    ("escaped", "code"),
    [("\\x07", "U+0007"), ("\\e", "U+001B"), ("\\r", "U+000D"), ("\\x9b", "U+009B"),
     ("\\u202e", "U+202E"), ("\\u2066", "U+2066"), ("\\N", "U+0085"), ("\\L", "U+2028")],
)  # fmt: skip
def test_an_escaped_control_character_is_refused_in_values_and_keys(
    escaped: str, code: str
) -> None:
    for text in (f'description: "weekly{escaped} churners"\n', f'"k{escaped}": 1\n'):
        error = refusal(text)
        assert error.line == 1
        assert error.problem.startswith(f"character {code} (")


def test_a_merge_key_is_refused_and_a_quoted_one_is_a_plain_key() -> None:
    assert refusal("hyperparameters: {<<: {max_depth: 99}}\n").problem == (
        "merge keys (<<) are not allowed; write the keys out"
    )
    assert load('"<<": 1\n') == {"<<": 1}


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("description: fixes a typo.\rdata_steward: mallory\n", 1, "carriage return without"),
        ("a: 1\nb: x\u202ey\n", 2, "bidirectional control U+202E"),
        ("a: 1\n# note \u2067\n", 2, "bidirectional control U+2067"),
    ],
)
def test_characters_that_make_a_diff_lie_are_refused_raw(
    text: str, line: int, problem: str
) -> None:
    error = refusal(text)
    assert (error.line, error.problem.startswith(problem)) == (line, True)


def test_crlf_line_endings_are_read_with_right_line_numbers() -> None:
    loaded = loads(b"a: 1\r\nb:\r\n  c: x\r\n", "t.yaml")
    assert loaded.data == {"a": 1, "b": {"c": "x"}}
    assert loaded.line_of(("b", "c")) == 3


def test_a_tab_between_a_key_and_its_value_is_not_indentation() -> None:
    assert load("name:\tchurn\nlist: [a,\tb]\n") == {"name": "churn", "list": ["a", "b"]}


def test_a_tab_inside_a_quoted_string_is_kept() -> None:
    assert load('name: "a\tb"\n') == {"name": "a\tb"}


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a: 1\n\tb: 2\n", 2),
        ("a:\n  - x\n  -\ty\n", 3),
        ("a:\n \t b: 1\n", 2),
    ],
)
def test_tabs_in_indentation_are_refused(text: str, line: int) -> None:
    error = refusal(text)
    assert (error.line, error.problem) == (line, "tab used for indentation; indent with spaces")


def test_an_empty_key_is_refused_for_being_empty() -> None:
    error = refusal("name: churn\n'': unnamed\n")
    assert error.line == 2
    assert "empty" in error.problem
    assert "quote it" not in error.problem


def test_the_str_tag_is_refused_with_the_advice_to_quote() -> None:
    error = refusal("version: !!str 1.10\n")
    assert error.line == 1
    assert error.problem.startswith("tag !!str is not allowed")
    assert "quote" in error.problem


def test_an_empty_document_is_none_and_comments_are_nothing() -> None:
    assert load("") is None
    assert load("# only a comment\n") is None
    assert load("---\n...\n") is None


def test_an_explicit_document_start_is_fine_once() -> None:
    assert load("---\nname: churn\n...\n") == {"name": "churn"}


def test_yaml_error_carries_path_line_and_problem() -> None:
    with pytest.raises(YamlError) as caught:
        loads(b"a: 1\nb: &x 2\n", "registry/models/m/model.yaml")
    error = caught.value
    assert (error.path, error.line) == ("registry/models/m/model.yaml", 2)
    assert error.problem == "anchor &x is not allowed"
    assert str(error) == "registry/models/m/model.yaml:2: anchor &x is not allowed"


# --- writing: dumps then loads gives the same data ------------------------------------------

TRICKY_STRINGS = [
    "yes", "no", "on", "off", "Yes", "y", "1.10", "3.10", "", "~", "null", "Null", "true",
    "False", "0755", "0x1f", "0o17", "1_000", "1:30", "2026-10-31", "2026-10-31T10:00:00Z",
    "1e3", ".5", "+1", "-0", ".nan", ".inf", "-.inf", "nan", " lead", "trail ", " ", "- x", "-",
    "#x", "a #b", "a: b", "a:b", ":", "?", "? x", "*alias", "&anchor", "!tag", "!!str", "%YAML",
    "@at", "`tick", "|", ">", "---", "...", "'", '"', "'quoted'", '"dq"', "{a: 1}", "[a]", ",",
    "a\nb", "a\n", "\n", "\n\n", "a\n\nb\n", "a \nb", " \n ", "x\n\ty", "\ty", "a\tb", "\t",
    "\ufeff", "\ufffd", "\u200e", "ltr \u200f mark",
    "é", "naïve café", "日本語", "Ελληνικά", "emoji 🚀", "\U0001f600\U0001f600", "x" * 300,
]  # fmt: skip

# Characters no value may hold, however written: kept out of the round-trip property, and
# `dumps` refuses them (test_dumps_refuses_what_loads_would_refuse).
_characters = st.characters(codec="utf-8", exclude_characters=FORBIDDEN_CHARACTERS)
_strings = st.one_of(st.sampled_from(TRICKY_STRINGS), st.text(_characters, max_size=30))
# Keys must be non-empty strings: the loader refuses an empty key.
_keys = st.one_of(
    st.sampled_from([s for s in TRICKY_STRINGS if s]), st.text(_characters, min_size=1, max_size=20)
)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    _strings,
)
json_like = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=25,
)


def _depth(value: Any) -> int:
    """Levels as the loader counts them: every value, scalars included, is one level."""
    if isinstance(value, list):
        return 1 + max((_depth(item) for item in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(item) for item in value.values()), default=0)
    return 1


def same(left: Any, right: Any) -> bool:
    """Equal, and of the same types all the way down (True == 1 and 1 == 1.0 in Python)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return list(left) == list(right) and all(same(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(same, left, right))
    if isinstance(left, float):
        return left == right and math.copysign(1, left) == math.copysign(1, right)
    return bool(left == right)


# No example database: the tests leave nothing behind in the working tree.
@settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(json_like)
def test_what_dumps_writes_loads_reads_back_the_same(data: Any) -> None:
    assume(_depth(data) <= MAX_DEPTH)
    text = dumps(data)
    assert same(loads(text.encode("utf-8"), "written.yaml").data, data), text


@settings(max_examples=50, deadline=None, database=None)
@given(st.dictionaries(_keys, json_like, min_size=1, max_size=5))
def test_a_mapping_written_with_a_header_reads_back_the_same(data: dict[str, Any]) -> None:
    assume(_depth(data) <= MAX_DEPTH)
    header = schema_comment("../../../.steward/schemas/version.schema.json")
    text = dumps(data, header=header)
    assert text.splitlines()[0] == header
    assert same(load(text), data)


@pytest.mark.parametrize("text", TRICKY_STRINGS)
def test_each_tricky_string_round_trips_as_value_key_and_item(text: str) -> None:
    data: dict[str, Any] = {"value": text, "items": [text, [text]]}
    if text:
        data[text] = {"nested": text}
    written = dumps(data)
    assert same(load(written), data), written


def test_numbers_that_look_like_strings_are_written_quoted() -> None:
    text = dumps({"version": "1.10", "python": "3.10", "size": "0755", "flag": "true"})
    assert text == "version: '1.10'\npython: '3.10'\nsize: '0755'\nflag: 'true'\n"


def test_numbers_are_written_so_that_they_read_back_as_numbers() -> None:
    data = {"i": 7, "f": 1.0, "big": 1e300, "tiny": 5e-324, "neg": -0.0, "huge": 2**80}
    assert same(load(dumps(data)), data)


@pytest.mark.parametrize("character", ["\x07", "\r", "\x85", "\u2028", "\u202e"])
def test_dumps_refuses_what_loads_would_refuse(character: str) -> None:
    with pytest.raises(YamlError, match="is not allowed"):
        dumps({"description": f"weekly{character}churners"})


def test_tabs_inside_block_text_and_flow_collections_are_content_not_indentation() -> None:
    loaded = loads(b"notes: |\n  step 1\n  \tindented with a tab\nsizes: [1,\n\t2]\n", "f.yaml")
    assert loaded.data == {"notes": "step 1\n\tindented with a tab\n", "sizes": [1, 2]}


# --- the fast path (libyaml's composer) reads exactly what the builder reads ----------------

# Pieces of YAML lines, many of them what a registry file must not hold: the generated files are
# mostly refused, and the fast path must then leave them to the builder.
_PIECES = [
    "a", "b", "key", "1", "1.10", "true", "null", "~", "<<", "''", "'q'", '"d"', '"\\t"', "x y",
    ":", ": ", "- ", "-", "? ", "[", "]", "{", "}", ",", "#", " #c", "&a ", "*a", "!!str ",
    "! ", "%YAML 1.2", "---", "...", "|", ">-", "\t", " ", "  ", "\n", "\n  ", "\n- ", "é",
    "\x07", ".nan", "1e999", "a: b", "a:b",
]  # fmt: skip
_yaml_texts = st.one_of(
    st.lists(st.sampled_from(_PIECES), max_size=30).map("".join),
    json_like.map(lambda data: yaml.safe_dump(data, allow_unicode=True, default_flow_style=None)),
    json_like.map(lambda data: yaml.safe_dump(data, default_flow_style=True)),
)


def _through_the_builder(text: str) -> Loaded:
    return yamlio._Builder("t.yaml", text).build()


def _locs_of(data: Any) -> list[tuple[Any, ...]]:
    """Every loc in `data`, and one past each end."""
    if isinstance(data, dict):
        inner = [(key, *rest) for key, value in data.items() for rest in _locs_of(value)]
        return [(), ("missing",), *inner]
    if isinstance(data, list):
        inner = [(index, *rest) for index, value in enumerate(data) for rest in _locs_of(value)]
        return [(), (len(data),), (-1,), ("0",), *inner]
    return [(), ("below",)]


def assert_read_alike(text: str) -> None:
    fast = yamlio._composed(text.encode("utf-8"), text)
    try:
        slow = _through_the_builder(text)
    except YamlError:
        assert fast is None, f"the fast path accepted what the builder refuses: {text!r}"
        return
    if fast is None:
        return
    assert same(fast.data, slow.data), text
    for loc in _locs_of(slow.data):
        assert fast.line_of(loc) == slow.line_of(loc), (text, loc)
    assert fast.lines == slow.lines, text
    assert fast.source_text == slow.source_text, text


@settings(max_examples=600, deadline=None, database=None)
@given(_yaml_texts)
def test_the_fast_path_reads_what_the_builder_reads_and_refuses_nothing_it_accepts(
    text: str,
) -> None:
    assert_read_alike(text)


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n", "a: !!str 1\n", "%YAML 1.2\n---\na: 1\n", "a: 1\n---\nb: 2\n",
        "a: 1\na: 2\n", "'a': 1\na: 2\n", "1: one\n", "? [a]\n: 1\n", "<<: {a: 1}\n",
        "'': 1\n", "a: .inf\n", "a: 1e999\n", "a: \"\\x07\"\n", "{a: 1, a: 2}\n",
        _nested_lists(MAX_DEPTH), _nested_lists(MAX_DEPTH - 1), "[" * 200_000,
        "a: 1.10\nb: [1, '2', 3.0]\nc:\n- d: true\n  e: ~\n", "", "# only a comment\n",
    ],
)  # fmt: skip
def test_the_fast_path_on_each_of_the_builders_rules(text: str) -> None:
    assert_read_alike(text)


def test_a_registry_file_takes_the_fast_path() -> None:
    # Were the fast path to leave every file to the builder, nothing would read differently and
    # only the benchmarks would show it: this keeps it taken for what registries hold.
    version = Path(__file__).resolve().parents[1] / "registry/models/churn-predictor/0.1.0.yaml"
    raw = version.read_bytes()
    loaded = yamlio._composed(raw, raw.decode("utf-8"))
    assert loaded is not None
    assert loaded.data == _through_the_builder(raw.decode("utf-8")).data
