"""Plug-ins: objects that installed distributions register under an entry-point group
(``tthc_monitor.checks``, ``tthc_monitor.channels``, ``tthc_monitor.sources``).

The three registries load them here, the same way: sorted by entry-point name; an entry point may
name an object or a class (instantiated without arguments); one that fails to load, or is not of
the expected type, is logged with its name and skipped, so a broken plug-in never stops the daemon.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import TypeVar

import structlog

log = structlog.get_logger(__name__)

T = TypeVar("T")


def load_plugins(group: str, expected: type[T], what: str) -> list[tuple[str, T]]:
    """``(entry point value, object)`` of every plug-in under ``group`` that is an ``expected``.

    ``what`` names the kind of plug-in in the log events (``<what>_plugin_unloadable``,
    ``<what>_plugin_invalid``).
    """
    found: list[tuple[str, T]] = []
    for point in sorted(entry_points(group=group), key=lambda p: p.name):
        try:
            loaded = point.load()
            plugin = loaded() if isinstance(loaded, type) else loaded
        except Exception as error:  # a broken plug-in must not stop the daemon: say which one
            log.error(f"{what}_plugin_unloadable", entry_point=point.name, error=f"{type(error).__name__}: {error}")
            continue
        if not isinstance(plugin, expected):
            log.error(f"{what}_plugin_invalid", entry_point=point.name, found=type(plugin).__name__,
                      expected=expected.__name__)
            continue
        found.append((point.value, plugin))
    return found
