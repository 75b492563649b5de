"""Settings of the source adapters: where to fetch, how often, and how to map columns and values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    SecretStr,
    SerializeAsAny,
    ValidationError,
    model_validator,
)

from checks.schema import SCHEMAS, TableName

if TYPE_CHECKING:
    from monitor.sources.http_json import HttpJsonSourceSettings
    from monitor.sources.tabular import TabularSourceSettings

__all__ = ["DEFAULT_DATE_FORMATS", "HttpJsonSourceSettings", "MappingSettings", "SourceSettings",
           "SourceSettingsBase", "TabularSourceSettings"]

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




_SourceBase = SourceSettingsBase  # the former private name


def _by_kind(value: Any) -> SourceSettingsBase:
    """A ``sources:`` entry, read with the model its ``kind`` names (built-in or plug-in)."""
    if isinstance(value, SourceSettingsBase):
        return value
    from monitor.sources.registry import kinds

    known = kinds()
    tag = value.get("kind") if isinstance(value, Mapping) else None
    if tag not in known:
        raise ValueError(f"'kind' must be one of {', '.join(repr(k) for k in known)} (got {tag!r})")
    try:
        settings: SourceSettingsBase = known[tag].settings_model.model_validate(value)
    except ValidationError as error:  # name the field, as the former tagged union did
        problems = "; ".join(
            f"{'.'.join(str(part) for part in (tag, *problem['loc']))}: {problem['msg']}"
            for problem in error.errors(include_url=False)
        )
        raise ValueError(problems) from None
    return settings


# One entry of ``sources:``: the ``kind`` discriminator picks the model among the registered kinds.
SourceSettings = Annotated[SerializeAsAny[SourceSettingsBase], PlainValidator(_by_kind)]


def __getattr__(name: str) -> Any:
    # The kinds' models live in their modules, which import this one: re-exported lazily.
    if name == "TabularSourceSettings":
        from monitor.sources import tabular

        return tabular.TabularSourceSettings
    if name == "HttpJsonSourceSettings":
        from monitor.sources import http_json

        return http_json.HttpJsonSourceSettings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
