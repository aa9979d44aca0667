"""`steward dataset add`: a dataset registered without hand-written YAML, its columns and types
read from the data file itself when there is one (Parquet or CSV, through pyarrow)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from steward.entries import layout
from steward.entries.entryfiles import render_entry
from steward.entries.layout import Kind
from steward.entries.models import DatasetEntry
from steward.entries.problems import closest, summarize_validation
from steward.errors import StewardError, UsageError
from steward.gitio.gitcmd import CatFile
from steward.gitio.landing import commit_and_land
from steward.reading.registry_root import require_registry


class DatasetError(StewardError):
    """The dataset cannot be added as asked (it exists, or its data file cannot be read)."""


@dataclass(frozen=True)
class ColumnSpec:
    """`NAME[:TYPE][:LABEL,LABEL...]` from the command line."""

    name: str
    type: str | None = None
    labels: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> ColumnSpec:
        name, _, rest = text.partition(":")
        kind, _, labels = rest.partition(":")
        if not name:
            raise UsageError(f"--column {text!r}: give NAME[:TYPE][:LABEL,LABEL...]")
        return cls(name, kind or None, tuple(label for label in labels.split(",") if label))


@dataclass(frozen=True)
class AddedDataset:
    path: str
    commit: str
    entry: DatasetEntry


def columns_from_file(path: Path) -> list[dict[str, Any]]:
    """The columns of a Parquet or CSV file with their types, as a dataset entry lists them.
    Only the schema (and, for CSV, the first block it infers types from) is read."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise DatasetError(
            "reading columns from a data file needs pyarrow: pip install 'model-steward[data]' "
            "(or list them with --column NAME:TYPE)"
        ) from None
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix == ".gz" else path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            schema = pq.read_schema(path)
        elif suffix in (".csv", ".csv.gz", ".tsv"):
            import pyarrow.csv as pcsv

            parse = pcsv.ParseOptions(delimiter="\t" if suffix == ".tsv" else ",")
            with pcsv.open_csv(path, parse_options=parse) as reader:
                schema = reader.schema
        else:
            raise DatasetError(
                f"{path}: --from reads Parquet (.parquet) and CSV (.csv, .csv.gz, .tsv) files"
            )
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except DatasetError:
        raise
    except Exception as exc:  # pyarrow's ArrowInvalid and friends: the file is not what it says
        raise DatasetError(f"{path}: cannot read it as {suffix.lstrip('.')}: {exc}") from None
    return [{"name": field.name, "type": _type_name(field.type)} for field in schema]


def _type_name(arrow_type: Any) -> str:
    import pyarrow.types as t

    checks = [
        (t.is_boolean, "bool"),
        (t.is_integer, "int"),
        (t.is_floating, "float"),
        (t.is_decimal, "decimal"),
        (t.is_string, "string"),
        (t.is_large_string, "string"),
        (t.is_timestamp, "timestamp"),
        (t.is_date, "date"),
        (t.is_time, "time"),
        (t.is_binary, "bytes"),
        (t.is_list, "list"),
        (t.is_struct, "struct"),
        (t.is_null, "null"),
    ]
    for check, name in checks:
        if check(arrow_type):
            return name
    return str(arrow_type)


def merge_columns(from_file: list[dict[str, Any]], specs: list[ColumnSpec]) -> list[dict[str, Any]]:
    """The file's columns, with `--column` adding types and classifications (or columns)."""
    columns = [dict(column) for column in from_file]
    by_name = {column["name"]: column for column in columns}
    for spec in specs:
        column = by_name.get(spec.name)
        if column is None and from_file and spec.type is None:
            # Classifying a column the file does not have is a typo, not a new column.
            guess = closest(spec.name, list(by_name))
            hint = f"; did you mean '{guess}'?" if guess else ""
            raise DatasetError(
                f"--column {spec.name}: the data file has no column '{spec.name}'{hint} (to add "
                f"a column it lacks, give its type: --column {spec.name}:TYPE)"
            )
        if column is None:
            column = {"name": spec.name}
            columns.append(column)
            by_name[spec.name] = column
        if spec.type is not None:
            column["type"] = spec.type
        if spec.labels:
            column["classification"] = list(spec.labels)
    return columns


def dataset_file(root: Path, fields: dict[str, Any]) -> tuple[DatasetEntry, str, bytes]:
    """`fields` validated as a new dataset entry: the entry, its path and its file's content."""
    require_registry(root)
    try:
        entry = DatasetEntry.model_validate(fields)
    except ValidationError as exc:
        raise UsageError(summarize_validation(exc)) from None
    relative = layout.dataset_path(entry.name)
    with CatFile(root) as cat:
        committed = cat.read_optional(f"HEAD:{relative}") is not None
    if committed or (root / relative).exists():
        raise DatasetError(
            f"dataset '{entry.name}' already exists ({relative}); edit it and propose the change "
            "(`steward propose`)"
        )
    return entry, relative, render_entry(Kind.DATASET, relative, entry).encode("utf-8")


def add_dataset(root: Path, fields: dict[str, Any]) -> AddedDataset:
    """Validate `fields` as a dataset entry, write `registry/datasets/<name>.yaml` and commit it."""
    entry, relative, content = dataset_file(root, fields)
    commit = commit_and_land(root, {relative: content}, f"Add dataset {entry.name}")
    return AddedDataset(relative, commit, entry)
