"""Source adapters: fetch exports (CSV/XLSX files or URLs, paged JSON APIs) into canonical tables."""

from __future__ import annotations

from collections.abc import Sequence

from checks.contracts import Source, Unit
from monitor.sources.config import HttpJsonSourceSettings, SourceSettings, TabularSourceSettings


def build_source(settings: SourceSettings, units: Sequence[Unit]) -> Source:
    """The adapter for one configured source."""
    from monitor.sources.http_json import HttpJsonSource
    from monitor.sources.tabular import TabularSource

    if isinstance(settings, TabularSourceSettings):
        return TabularSource(settings, units)
    if isinstance(settings, HttpJsonSourceSettings):
        return HttpJsonSource(settings, units)
    raise TypeError(f"unknown source settings: {type(settings).__name__}")


__all__ = ["build_source"]
