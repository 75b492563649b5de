"""Source adapters: fetch exports (CSV/XLSX files or URLs, paged JSON APIs) into canonical tables.

Each kind's module declares itself with a ``SourceKind`` (``KIND``: its ``kind:`` value, settings
model and how to build the adapter); ``monitor.sources.registry`` knows the built-in kinds plus
plug-ins from the ``tthc_monitor.sources`` entry-point group.
"""

from __future__ import annotations

from collections.abc import Sequence

from checks.contracts import Source, Unit
from monitor.sources import registry
from monitor.sources.config import SourceSettings, SourceSettingsBase
from monitor.sources.kind import SourceKind


def build_source(settings: SourceSettingsBase, units: Sequence[Unit]) -> Source:
    """The adapter for one configured source, built by the kind its ``kind`` names."""
    kind = registry.kind_named(getattr(settings, "kind", None))
    if kind is None or not isinstance(settings, kind.settings_model):
        raise TypeError(f"unknown source settings: {type(settings).__name__}")
    return kind.build(settings, units)


__all__ = ["SourceKind", "SourceSettings", "build_source", "registry"]
