"""The source kinds this process knows: the built-in ones plus those installed as plug-ins.

A plug-in distribution declares, in its packaging metadata::

    [project.entry-points."tthc_monitor.sources"]
    sharepoint = "tthc_sharepoint.source:KIND"

where ``KIND`` is a ``SourceKind`` instance (or subclass). Entry points are read once, on first
use; ``register`` adds a kind from code, ``reset`` forgets the discovered ones (tests).

The built-in kinds are known by module path and imported on first use too: importing this module
(or the settings) loads no adapter, nor the HTTP client (issue 11: start-up).
"""

from __future__ import annotations

import importlib

import structlog

from checks.plugins import load_plugins
from monitor.sources.kind import SourceKind

log = structlog.get_logger(__name__)

ENTRY_POINT_GROUP = "tthc_monitor.sources"
# The modules whose ``KIND`` is a built-in kind, in this order.
BUILTIN_MODULES: tuple[str, ...] = ("monitor.sources.tabular", "monitor.sources.http_json")

_kinds: dict[str, SourceKind] | None = None


def builtin_kinds() -> tuple[SourceKind, ...]:
    """The built-in kinds (importing their modules)."""
    kinds: list[SourceKind] = [importlib.import_module(module).KIND for module in BUILTIN_MODULES]
    return tuple(kinds)


def _discover() -> dict[str, SourceKind]:
    found = {kind.kind: kind for kind in builtin_kinds()}
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
