"""What every source kind's settings stand on: the column and value mapping, and the fields every
``sources:`` entry has. The kinds' modules import this; ``monitor.sources.config`` assembles the
entries by kind (through the registry), so no module imports its own importer.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from checks.schema import SCHEMAS, TableName

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


class MappingSettings(BaseModel):
    """How an export's columns and values become canonical fields.

    ``columns`` maps the export's header (e.g. "Mã hồ sơ", or a JSON field such as "MaHoSo") to
    a canonical field name (docs/SCHEMA.md). ``values`` maps, per canonical field, the export's
    words to canonical values (e.g. status "Đã trả kết quả" -> 10). ``constants`` sets a field for
    every row (e.g. catalog: national). Unit names are also resolved through ``settings.units``
    (name and aliases) when no value map matches.
    """

    model_config = ConfigDict(extra="forbid")

    preset: Literal["none", "dvcqg_dossier", "canonical"] = "none"
    columns: dict[str, str] = Field(default_factory=dict)
    values: dict[str, dict[str, str | int | float | bool]] = Field(default_factory=dict)
    constants: dict[str, str | int | float | bool] = Field(default_factory=dict)
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
    timeout_seconds: float = Field(default=30.0, gt=0)
    retries: int = Field(default=3, ge=0, le=10)
    backoff_seconds: float = Field(default=1.0, ge=0)
    headers: dict[str, SecretStr] = Field(default_factory=dict)  # extra HTTP headers (auth)
    mapping: MappingSettings = Field(default_factory=MappingSettings)

    @model_validator(mode="after")
    def _mapping_targets_exist(self) -> SourceSettingsBase:
        known = set(SCHEMAS[self.table])
        for header, field in self.mapping.columns.items():
            if field not in known:
                raise ValueError(
                    f"mapping.columns[{header!r}] -> {field!r} is not a field of table {self.table.value}; "
                    f"allowed: {', '.join(sorted(known))}"
                )
        for field in [*self.mapping.values, *self.mapping.constants]:
            if field not in known:
                raise ValueError(f"mapping field {field!r} is not a field of table {self.table.value}")
        return self
