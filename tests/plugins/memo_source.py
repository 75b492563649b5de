"""A third-party-style source kind for the tests: ``kind: memo_rows`` reads canonical rows written
inline in the YAML file. Registered only through the ``tthc_monitor.sources`` entry point that
tests/test_plugins.py installs on ``sys.path``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import polars as pl
from pydantic import Field

from checks.contracts import FetchResult, Source, Unit
from monitor.sources.base import MappingSettings, SourceSettingsBase
from monitor.sources.kind import SourceKind
from monitor.sources.mapping import fetched, map_frame


class MemoRowsSettings(SourceSettingsBase):
    kind: Literal["memo_rows"] = "memo_rows"
    records: list[dict[str, str]] = Field(min_length=1)
    mapping: MappingSettings = Field(default_factory=lambda: MappingSettings(preset="canonical"))


class MemoRowsSource:
    def __init__(self, settings: MemoRowsSettings, units: Sequence[Unit]) -> None:
        self.settings = settings
        self.units = list(units)
        self.name = settings.name
        self.table = settings.table
        self.interval_seconds = settings.interval_seconds
        self.polls = 0

    def fetch(self, cursor: str | None, now: datetime) -> FetchResult:
        self.polls += 1
        raw = pl.DataFrame(self.settings.records)
        mapped = map_frame(raw, self.table, self.settings.mapping, self.units)
        return fetched(self.name, self.table, mapped, json.dumps({"polls": self.polls}))


class MemoRowsKind(SourceKind):
    kind = "memo_rows"
    settings_model = MemoRowsSettings

    def build(self, settings: Any, units: Sequence[Unit]) -> Source:
        return MemoRowsSource(settings, units)


KIND = MemoRowsKind()
