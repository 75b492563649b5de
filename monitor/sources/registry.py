"""The source kinds this process knows: the built-in ones plus those installed as plug-ins.

A plug-in distribution declares, in its packaging metadata::

    [project.entry-points."tthc_monitor.sources"]
    sharepoint = "tthc_sharepoint.source:KIND"

where ``KIND`` is a ``SourceKind`` instance (or subclass). Entry points are read once, on first
use; ``register`` adds a kind from code, ``reset`` forgets the discovered ones (tests).
"""

from __future__ import annotations

import structlog

from checks.plugins import load_plugins
from monitor.sources.http_json import KIND as HTTP_JSON
from monitor.sources.kind import SourceKind
from monitor.sources.tabular import KIND as TABULAR

log = structlog.get_logger(__name__)

ENTRY_POINT_GROUP = "tthc_monitor.sources"
BUILTIN_KINDS: tuple[SourceKind, ...] = (TABULAR, HTTP_JSON)

_kinds: dict[str, SourceKind] | None = None


def _discover() -> dict[str, SourceKind]:
    found = {kind.kind: kind for kind in BUILTIN_KINDS}
    for origin, kind in load_plugins(ENTRY_POINT_GROUP, SourceKind, "source"):
        _add(found, kind, origin=origin)
    return found


def _add(kinds: dict[str, SourceKind], kind: SourceKind, origin: str) -> None:
    if kind.kind in kinds:
        log.error("source_plugin_clash", origin=origin, kind=kind.kind)
        return
    kinds[kind.kind] = kind


def kinds() -> dict[str, SourceKind]:
    """Every known kind by its ``kind:`` value, built-ins first."""
    global _kinds
    if _kinds is None:
        _kinds = _discover()
    return dict(_kinds)


def register(kind: SourceKind) -> None:
    """Add a kind from code (the entry point is the usual way)."""
    current = kinds()
    _add(current, kind, origin=type(kind).__module__)
    global _kinds
    _kinds = current


def reset() -> None:
    """Forget registered and discovered kinds: the next ``kinds()`` reads the entry points again."""
    global _kinds
    _kinds = None


def kind_named(name: object) -> SourceKind | None:
    return kinds().get(name) if isinstance(name, str) else None
