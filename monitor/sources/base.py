"""What every source kind's settings stand on: the column and value mapping, and the fields every
``sources:`` entry has. The kinds' modules import this; ``monitor.sources.config`` assembles the
entries by kind (through the registry), so no module imports its own importer.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ByteSize,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from checks.schema import SCHEMAS, TableName
from monitor.sources.deadline import (
    DEFAULT_MAX_DOWNLOAD_BYTES,
    DEFAULT_POLL_DEADLINE_SECONDS,
    DEFAULT_REQUEST_DEADLINE_SECONDS,
)
from monitor.sources.limits import SourceLimits
from monitor.sources.plausibility import QuarantineSettings

DEFAULT_DATE_FORMATS: tuple[str, ...] = (
    "%Y%m%d%H%M%S",  # yyyyMMddHHmmss (national portal)
    "%Y-%m-%dT%H:%M:%S%.f%:z",  # ISO 8601 with offset
    "%Y-%m-%dT%H:%M:%S%.f",  # ISO 8601 naive
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d",
    "%d/%m/%Y %H:%M:%S",  # dd/MM/yyyy HH:mm:ss
    "%d/%m/%Y %H:%M",  # dd/MM/yyyy HH:mm
    "%d/%m/%Y",
)


Scalar = str | int | float | bool
# "auto": the part the target field names (…_unit -> unit, online_… -> the online limit; has_fee -> has_fee).
TimeLimitPart = Literal["auto", "value", "unit", "online_value", "online_unit"]
MoneyPart = Literal["auto", "amount", "has_fee"]


class TransformStep(BaseModel):
    """One step of a field's transform chain; exactly one key is set.

    YAML accepts a bare name for the steps without arguments (``transform: money``,
    ``transform: [time_limit, non_empty]``) and a one-key mapping for the others
    (``{greater_than: 0}``, ``{time_limit: online_value}``). Steps run in order; each has a
    clear rejection reason for the values it cannot read (docs/SOURCES.md, "Transforms").
    """

    model_config = ConfigDict(extra="forbid")

    time_limit: TimeLimitPart | None = None  # Vietnamese time-limit phrase -> value / unit (per channel)
    money: MoneyPart | None = None  # Vietnamese amount -> number, or has_fee (amount > 0)
    non_empty: bool | None = None  # text present -> true, absent -> false
    greater_than: float | None = None  # number > N
    one_of: list[Scalar] | None = None  # value (normalised) is one of these
    matches: str | None = None  # regular expression matches somewhere in the value
    extract: str | None = None  # first capture group of a regular expression
    replace: dict[str, str] | None = None  # regular expression -> replacement, in order

    @model_validator(mode="before")
    @classmethod
    def _bare_name(cls, data: Any) -> Any:
        if isinstance(data, str):
            defaults: dict[str, Any] = {"time_limit": "auto", "money": "auto", "non_empty": True}
            if data not in defaults:
                raise ValueError(f"unknown transform {data!r}; bare names: {', '.join(defaults)}")
            return {data: defaults[data]}
        return data

    @model_validator(mode="after")
    def _exactly_one(self) -> TransformStep:
        given = [name for name, value in self if value is not None]
        if len(given) != 1:
            raise ValueError(f"a transform step sets exactly one of {', '.join(type(self).model_fields)}; got {given}")
        return self

    @field_validator("matches", "extract")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        return None if value is None else checked_pattern(value)

    @field_validator("replace")
    @classmethod
    def _patterns(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        return None if value is None else {checked_pattern(k): v for k, v in value.items()}

    @property
    def name(self) -> str:
        return next(name for name, value in self if value is not None)


def checked_pattern(pattern: str) -> str:
    """``pattern`` if Polars' regular-expression engine (Rust ``regex``) accepts it; else a clear error.

    (No look-around or back-references: the engine guarantees linear time on any input.)
    """
    import polars as pl

    try:
        pl.select(pl.lit("").str.contains(pattern))
    except pl.exceptions.PolarsError as error:
        lines = [line.strip() for line in str(error).splitlines()]
        detail = next((line[len("error:"):].strip() for line in lines if line.startswith("error:")), lines[0] if lines else "")
        raise ValueError(f"not a valid regular expression {pattern!r}: {detail}") from None
    return pattern


class SplitSpec(BaseModel):
    """Take part ``index`` (0-based) of the value split on ``separator`` (literal text)."""

    model_config = ConfigDict(extra="forbid")

    separator: str = Field(min_length=1)
    index: int = Field(default=0, ge=0)


class FieldMapping(BaseModel):
    """How one canonical field is fed: from which header(s), through which steps.

    The steps run in this order: read (``from`` / ``coalesce`` / ``constant``) -> text
    normalisation (NFC, whitespace) -> ``split`` -> ``extract`` -> value map (``values`` here and
    ``mapping.values[field]``) -> ``transform`` steps -> parse to the field's type (with
    ``date_format`` for dates). Several fields may read the same header.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str | None = Field(default=None, validation_alias=AliasChoices("from", "from_"), serialization_alias="from")
    coalesce: list[str] | None = Field(default=None, min_length=1)  # first non-empty of these headers
    constant: Scalar | None = None
    split: SplitSpec | None = None
    extract: str | None = None  # regular expression; its first group (or the whole match) is kept
    values: dict[str, Scalar] = Field(default_factory=dict)
    transform: list[TransformStep] = Field(default_factory=list)
    date_format: list[str] | None = None  # this column's formats, instead of mapping.date_formats
    required: bool | None = None  # None: the table's default (checks.schema.REQUIRED_COLUMNS)

    @field_validator("transform", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str | dict) else value

    @field_validator("extract")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        return None if value is None else checked_pattern(value)

    @field_validator("date_format", mode="before")
    @classmethod
    def _format_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_input(self) -> FieldMapping:
        given = [name for name in ("from_", "coalesce", "constant") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("set exactly one of 'from', 'coalesce' or 'constant'")
        return self

    @property
    def headers(self) -> list[str]:
        """The export headers this field reads (none for a constant)."""
        if self.from_ is not None:
            return [self.from_]
        return list(self.coalesce or [])


class MappingSettings(BaseModel):
    """How an export's columns and values become canonical fields.

    ``columns`` maps the export's header (e.g. "Mã hồ sơ", or a JSON field such as "MaHoSo") to
    a canonical field name (docs/SCHEMA.md). ``fields`` declares a field with transforms
    (``FieldMapping``) and wins over ``columns`` for that field; one header may feed several
    fields. ``values`` maps, per canonical field, the export's words to canonical values (e.g.
    status "Đã trả kết quả" -> 10). ``constants`` sets a field for every row (e.g. catalog:
    national). Unit names are also resolved through ``settings.units`` (name and aliases) when no
    value map matches. Headers and words are compared after NFC normalisation, case folding and
    whitespace collapsing; ``ignore_diacritics`` also drops the accents ("Ma ho so" = "Mã hồ sơ").

    A bad value in a required field (``required``, default the table's, see docs/SCHEMA.md)
    rejects the row; a bad value in any other field is set to null and counted per field.
    """

    model_config = ConfigDict(extra="forbid")

    preset: Literal["none", "dvcqg_dossier", "canonical"] = "none"
    columns: dict[str, str] = Field(default_factory=dict)
    fields: dict[str, FieldMapping] = Field(default_factory=dict)
    values: dict[str, dict[str, Scalar]] = Field(default_factory=dict)
    constants: dict[str, Scalar] = Field(default_factory=dict)
    required: list[str] | None = None  # None: checks.schema.REQUIRED_COLUMNS of the table
    ignore_diacritics: bool = False
    date_formats: list[str] = Field(default_factory=lambda: list(DEFAULT_DATE_FORMATS))
    excel_serial_dates: bool = True  # numbers in date columns are Excel serial dates
    true_words: list[str] = Field(
        default_factory=lambda: ["1", "true", "x", "có", "co", "yes", "đã", "da", "y", "2"]
    )
    false_words: list[str] = Field(default_factory=lambda: ["0", "false", "", "không", "khong", "no", "chưa", "n"])


class SourceSettingsBase(BaseModel):
    """The fields every source entry has; a kind's model adds ``kind: Literal[<kind>]`` and its own."""

    model_config = ConfigDict(extra="forbid")

    kind: str  # the discriminator: a kind's model narrows it to Literal["<kind>"]
    name: str = Field(pattern=r"^[a-z0-9_]+$", description="metric label: lowercase, digits, underscore")
    table: TableName
    interval_seconds: float = Field(default=300.0, gt=0)
    timeout_seconds: float = Field(default=30.0, gt=0)  # HTTP: connect, and each read of the socket
    # HTTP: wall clock for one request (connect + headers + whole body); a retry starts a new one
    request_deadline_seconds: float = Field(default=DEFAULT_REQUEST_DEADLINE_SECONDS, gt=0)
    # wall clock for one poll: every page and retry; past it the poll fails (the daemon's backstop
    # marks a poll still running at this + schedule.poll_overrun_grace_seconds failed, whatever kind)
    poll_deadline_seconds: float = Field(default=DEFAULT_POLL_DEADLINE_SECONDS, gt=0)
    # HTTP: largest body of one response, decoded ("200MiB", "50MB" or bytes); refused beyond
    max_download_bytes: ByteSize = Field(default=ByteSize(DEFAULT_MAX_DOWNLOAD_BYTES), gt=0)
    retries: int = Field(default=3, ge=0, le=10)
    backoff_seconds: float = Field(default=1.0, ge=0)
    headers: dict[str, SecretStr] = Field(default_factory=dict)  # extra HTTP headers (auth)
    mapping: MappingSettings = Field(default_factory=MappingSettings)
    # when a full snapshot is held back as suspect instead of put in force (monitor.sources.plausibility)
    quarantine: QuarantineSettings = Field(default_factory=QuarantineSettings)

    # Sizes, rows, characters per cell, plausible dates (docs/SOURCES.md "Limits"); safe defaults.
    limits: SourceLimits = Field(default_factory=SourceLimits)

    @model_validator(mode="after")
    def _mapping_targets_exist(self) -> SourceSettingsBase:
        known = set(SCHEMAS[self.table])
        for header, field in self.mapping.columns.items():
            if field not in known:
                raise ValueError(
                    f"mapping.columns[{header!r}] -> {field!r} is not a field of table {self.table.value}; "
                    f"allowed: {', '.join(sorted(known))}"
                )
        for field in [*self.mapping.values, *self.mapping.constants, *self.mapping.fields, *(self.mapping.required or [])]:
            if field not in known:
                raise ValueError(
                    f"mapping field {field!r} is not a field of table {self.table.value}; "
                    f"allowed: {', '.join(sorted(known))}"
                )
        return self
