"""The entries of a registry repo as strict pydantic models: model, version and dataset files.

Strict means: unknown fields are errors, no type is coerced (a number is not a string, `"yes"` is
not a boolean), NaN and infinity are refused. The JSON Schemas shipped with Steward are exported
from these classes (`steward schema KIND`).
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from steward.entries.name_types import (
    CommitId,
    Login,
    Md5,
    MetricName,
    Name,
    Principal,
    RelativePath,
    Sha256,
    Version,
)
from steward.entries.names import RFC3339_PATTERN, path_identity
from steward.entries.names import format_timestamp as format_timestamp  # where callers import it
from steward.entries.yamlio import FORBIDDEN

# `retired` is where retention (`steward gc`) moves old archived versions: the entry stays forever,
# the artifact may go.
Stage = Literal["development", "staging", "production", "archived", "retired"]
STAGES: tuple[str, ...] = get_args(Stage)
RiskClass = Literal["minimal", "limited", "high", "prohibited"]
RISK_CLASSES: tuple[str, ...] = get_args(RiskClass)


class StrictModel(BaseModel):
    """Base of every entry: unknown fields are errors and nothing is coerced."""

    model_config = ConfigDict(
        extra="forbid", strict=True, allow_inf_nan=False, frozen=True, populate_by_name=False
    )


def _no_control_characters(value: str) -> str:
    """Values built in code (the Python API, command-line options) meet the loader's rule too."""
    forbidden = FORBIDDEN.search(value)
    if forbidden is not None:
        raise PydanticCustomError(
            "control_character",
            "contains the character U+{code} (control or bidirectional override)",
            {"code": f"{ord(forbidden.group()):04X}"},
        )
    return value


Text = Annotated[str, AfterValidator(_no_control_characters)]
NonNegativeInt = Annotated[int, Field(ge=0)]

_RFC3339 = re.compile(RFC3339_PATTERN, re.ASCII)


def _parse_timestamp(value: object) -> object:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise PydanticCustomError("timestamp", "timestamp has no time zone")
        return value.astimezone(UTC)
    if isinstance(value, str) and _RFC3339.fullmatch(value):
        # The shape, but no date (month 13) or none in UTC (year 1 an hour east): reported below.
        with contextlib.suppress(ValueError, OverflowError):
            return datetime.fromisoformat(value).astimezone(UTC)
    raise PydanticCustomError(
        "timestamp",
        "expected a timestamp with time zone such as 2026-11-20T10:00:00Z, got {value}",
        {"value": repr(value)},
    )


Timestamp = Annotated[
    datetime,
    BeforeValidator(_parse_timestamp),
    PlainSerializer(format_timestamp, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


# --- model.yaml -------------------------------------------------------------------------------


class ModelCard(StrictModel):
    """The free-text sections of a model card (Mitchell et al., 2019) that people write."""

    intended_use: Text | None = None
    out_of_scope_use: Text | None = None
    factors: Text | None = None
    limitations: Text | None = None
    ethical_considerations: Text | None = None
    caveats_and_recommendations: Text | None = None
    evaluation_data: Text | None = None


CARD_SECTIONS: tuple[str, ...] = tuple(ModelCard.model_fields)
CardSection = Literal[
    "intended_use",
    "out_of_scope_use",
    "factors",
    "limitations",
    "ethical_considerations",
    "caveats_and_recommendations",
    "evaluation_data",
]


class Consumer(StrictModel):
    """A downstream system that uses the model's predictions."""

    name: Name
    owner: Principal | None = None
    description: Text | None = None


class ModelEntry(StrictModel):
    """`registry/models/<name>/model.yaml`: the registered model, its owners and its card."""

    name: Name
    owner: Principal
    team: Name
    data_steward: Principal | None = None
    description: Text | None = None
    risk: RiskClass
    classification: list[Name] = Field(
        default=[],
        description="what the model's data makes it (e.g. pii, financial): must cover every "
        "classification its versions inherit from their datasets and columns",
    )
    license: Text | None = None
    tags: list[Name] = []
    card: ModelCard = ModelCard()
    downstream: list[Consumer] = []
    custom: dict[str, JsonValue] = Field(
        default={}, description="fields a team extension asks for (policies/teams/<team>.yaml)"
    )


# --- <version>.yaml ---------------------------------------------------------------------------


class ArtifactFile(StrictModel):
    path: RelativePath
    sha256: Sha256
    size: NonNegativeInt


class Artifact(StrictModel):
    """Where the version's files are (a DVC pointer beside the entry) and what they hash to."""

    dvc: Text = Field(description="the DVC pointer file beside this entry: <version>.dvc")
    md5: Md5
    size: NonNegativeInt
    format: Name
    files: list[ArtifactFile] = Field(min_length=1)

    @field_validator("files")
    @classmethod
    def _paths_unique(cls, files: list[ArtifactFile]) -> list[ArtifactFile]:
        seen: dict[str, str] = {}
        for item in files:
            identity = path_identity(item.path)
            if identity in seen:
                first = seen[identity]
                message = (
                    "lists the file '{path}' twice"
                    if first == item.path
                    else "lists '{path}' and '{first}', one file on case-insensitive file systems"
                )
                raise PydanticCustomError(
                    "duplicate_path", message, {"path": item.path, "first": first}
                )
            seen[identity] = item.path
        return files


class DatasetRef(StrictModel):
    id: Name
    version: Text | None = None
    uri: Text | None = None
    columns: list[Annotated[Text, Field(min_length=1, max_length=256)]] = Field(
        default=[],
        description="the dataset's columns the version was trained on; none listed: all of them",
    )


class CodeRef(StrictModel):
    repo: Text | None = None
    commit: CommitId
    path: Text | None = None


class Training(StrictModel):
    """Lineage: what data, features, parameters and code produced the version."""

    datasets: list[DatasetRef] = []
    features: list[Text] = []
    hyperparameters: dict[str, JsonValue] = {}
    duration_s: Annotated[float, Field(ge=0)] | None = None
    code: CodeRef | None = None
    run: Text | None = Field(default=None, description="link to the training run (CI job, tracker)")


class Environment(StrictModel):
    python: Text | None = None
    platform: Text | None = None
    framework: Text | None = None
    packages: dict[str, Text] = {}
    hardware: Text | None = None
    image: Text | None = None


class MetricPoint(StrictModel):
    """One reading of production metrics, written by `steward monitor`."""

    at: Timestamp
    metrics: dict[MetricName, float]
    source: Text | None = None
    breaches: list[Text] = Field(
        default=[], description="thresholds of the policy's monitoring this reading broke"
    )


class VersionEntry(StrictModel):
    """`registry/models/<model>/<version>.yaml`: one registered version of a model."""

    model: Name
    version: Version
    stage: Stage
    created_at: Timestamp
    created_by: Login
    description: Text | None = None
    tags: list[Name] = []
    artifact: Artifact
    training: Training = Training()
    metrics: dict[MetricName, float] = {}
    environment: Environment = Environment()
    dependencies: list[Text] = []
    production_metrics: list[MetricPoint] = Field(
        default=[], description="mutable: appended by monitoring; everything else is immutable"
    )
    retired_at: Timestamp | None = Field(default=None, description="set by retention (steward gc)")
    retired_reason: Text | None = None


# Fields of a version that never change once registered (invariant 4).
IMMUTABLE_VERSION_FIELDS: tuple[str, ...] = (
    "model",
    "version",
    "created_at",
    "created_by",
    "artifact",
    "training",
    "metrics",
    "environment",
    "dependencies",
)


# --- registry/datasets/<name>.yaml ------------------------------------------------------------


class Column(StrictModel):
    name: Annotated[Text, Field(min_length=1, max_length=256)]
    type: Text | None = None
    description: Text | None = None
    classification: list[Name] = []


class DatasetEntry(StrictModel):
    """`registry/datasets/<name>.yaml`: a data asset that versions are trained on."""

    name: Name
    description: Text | None = None
    owner: Principal
    uri: Annotated[Text, Field(min_length=1)]
    classification: list[Name] = []
    columns: list[Column] = []
    tags: list[Name] = []

    @field_validator("columns")
    @classmethod
    def _columns_unique(cls, columns: list[Column]) -> list[Column]:
        seen: set[str] = set()
        for column in columns:
            if column.name in seen:
                raise PydanticCustomError(
                    "duplicate_column", "lists the column '{name}' twice", {"name": column.name}
                )
            seen.add(column.name)
        return columns


def dump_entry(entry: BaseModel) -> dict[str, Any]:
    """The plain data of an entry as Steward writes it: defaults left out, aliases used."""
    return entry.model_dump(mode="json", by_alias=True, exclude_defaults=True)
