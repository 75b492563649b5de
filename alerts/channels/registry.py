"""The channel kinds this process knows: the built-in ones plus those installed as plug-ins.

A plug-in distribution declares, in its packaging metadata::

    [project.entry-points."tthc_monitor.channels"]
    matrix = "tthc_matrix.channel:KIND"

where ``KIND`` is a ``ChannelKind`` instance (or subclass). Entry points are read once, on first
use (``importlib.metadata.entry_points``); ``register`` adds a kind from code, ``reset`` forgets
the discovered ones (tests).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

import structlog

from alerts.channels.kind import ChannelKind
from checks.plugins import load_plugins

if TYPE_CHECKING:
    from checks.contracts import Unit

log = structlog.get_logger(__name__)

ENTRY_POINT_GROUP = "tthc_monitor.channels"
# The modules whose ``KIND`` is a built-in kind. Order matters: it is the order of build_channels,
# of the default route's receivers and of the default quiet channels.
BUILTIN_MODULES: tuple[str, ...] = (
    "alerts.channels.email",
    "alerts.channels.zalo",
    "alerts.channels.webhook",
    "alerts.channels.file",
    "alerts.channels.alertmanager",
)

_kinds: tuple[ChannelKind, ...] | None = None
_by_channel: dict[str, ChannelKind | None] = {}  # kind_for answers: asked per finding and receiver


def builtin_kinds() -> tuple[ChannelKind, ...]:
    """The built-in kinds (importing their modules)."""
    kinds: list[ChannelKind] = [importlib.import_module(module).KIND for module in BUILTIN_MODULES]
    return tuple(kinds)


def _discover() -> list[ChannelKind]:
    found = list(builtin_kinds())
    for origin, kind in load_plugins(ENTRY_POINT_GROUP, ChannelKind, "channel"):
        _add(found, kind, origin=origin)
    return found


def _add(kinds: list[ChannelKind], kind: ChannelKind, origin: str) -> None:
    clash = next((k for k in kinds if k.name == kind.name or k.section == kind.section), None)
    if clash is not None:
        log.error("channel_plugin_clash", origin=origin, name=kind.name, section=kind.section)
        return
    kinds.append(kind)


def kinds() -> tuple[ChannelKind, ...]:
    """Every known kind, built-ins first."""
    global _kinds
    if _kinds is None:
        _kinds = tuple(_discover())
    return _kinds


def register(kind: ChannelKind) -> None:
    """Add a kind from code (the entry point is the usual way)."""
    current = list(kinds())
    _add(current, kind, origin=type(kind).__module__)
    global _kinds
    _kinds = tuple(current)
    _by_channel.clear()


def reset() -> None:
    """Forget registered and discovered kinds: the next ``kinds()`` reads the entry points again."""
    global _kinds
    _kinds = None
    _by_channel.clear()


def kind_for(channel: str) -> ChannelKind | None:
    """The kind serving a receiver's channel name ("email", "webhook:vp"), or None."""
    if channel not in _by_channel:
        _by_channel[channel] = next((kind for kind in kinds() if kind.owns(channel)), None)
    return _by_channel[channel]


def by_section() -> dict[str, ChannelKind]:
    """Kinds by the YAML key of their section under ``alerts.channels``."""
    return {kind.section: kind for kind in kinds()}


def channel_hint() -> str:
    """How receivers may name a channel: "'email', 'zalo', 'webhook:<name>' or 'file'"."""
    hints = [kind.hint() for kind in kinds() if kind.receivable]
    return hints[0] if len(hints) == 1 else f"{', '.join(hints[:-1])} or {hints[-1]}"


def unused_contact_keys(units: Iterable[Unit]) -> dict[str, list[str]]:
    """Per unit code, the contact keys no known channel reads (a typo such as ``email:``)."""
    known = {key for kind in kinds() for key in kind.contacts}
    unused = {unit.code: sorted(set(unit.contacts) - known) for unit in units}
    return {code: keys for code, keys in unused.items() if keys}
