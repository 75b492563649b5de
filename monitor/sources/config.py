"""Settings of the source adapters: where to fetch, how often, and how to map columns and values."""

from __future__ import annotations

from typing import Annotated, Literal

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


class _SourceBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9_]+$", description="metric label: lowercase, digits, underscore")
    table: TableName
    interval_seconds: float = Field(default=300.0, gt=0)
    timeout_seconds: float = Field(default=30.0, gt=0)
    retries: int = Field(default=3, ge=0, le=10)
    backoff_seconds: float = Field(default=1.0, ge=0)
    headers: dict[str, SecretStr] = Field(default_factory=dict)  # extra HTTP headers (auth)
    mapping: MappingSettings = Field(default_factory=MappingSettings)

    @model_validator(mode="after")
    def _mapping_targets_exist(self) -> _SourceBase:
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


class TabularSourceSettings(_SourceBase):
    """A CSV or XLSX export, from a local path/glob or an HTTP(S) URL."""

    kind: Literal["tabular"] = "tabular"
    path: str | None = None  # file path or glob; newest match wins unless combine_files
    url: str | None = None
    combine_files: bool = False  # glob: concatenate every match instead of taking the newest
    format: Literal["auto", "csv", "xlsx"] = "auto"
    sheet: str | int | None = None  # XLSX sheet name or 0-based index; default the first
    header_row: int = Field(default=0, ge=0)  # 0-based row index of the header in the file
    encoding: str = "utf-8"
    delimiter: str = ","

    @model_validator(mode="after")
    def _one_location(self) -> TabularSourceSettings:
        if (self.path is None) == (self.url is None):
            raise ValueError("set exactly one of 'path' or 'url'")
        return self


class HttpJsonSourceSettings(_SourceBase):
    """A paged HTTP JSON API shaped like the national portal's dossier sync records."""

    kind: Literal["http_json"] = "http_json"
    url: str
    token: SecretStr | None = None  # sent as  <auth_header>: <token_prefix><token>
    auth_header: str = "Authorization"
    token_prefix: str = "Bearer "
    items_path: str = "data"  # dotted path to the list of records in a page
    page_param: str = "page"
    page_size_param: str = "pageSize"
    page_size: int = Field(default=500, gt=0)
    first_page: int = 1
    total_pages_path: str | None = "totalPages"  # dotted path; else stop on a short/empty page
    max_pages: int = Field(default=100_000, gt=0)
    updated_since_param: str | None = None  # e.g. "updatedSince": incremental polls by cursor
    updated_at_field: str = "NgayCapNhat"  # record field that feeds the cursor
    conditional: bool = True  # send If-None-Match / If-Modified-Since


SourceSettings = Annotated[TabularSourceSettings | HttpJsonSourceSettings, Field(discriminator="kind")]
