"""Alert channels: one module each, all implementing ``checks.contracts.Channel``.

Each module declares itself with a ``ChannelKind`` (``KIND``: its settings section, contact keys,
digest format, quiet-hours defaults, how to build it); ``alerts.channels.registry`` knows the
built-in kinds plus plug-ins from the ``tthc_monitor.channels`` entry-point group.
``build_channels`` turns ``ChannelsSettings`` into ``{"email", "zalo", "webhook:<name>", "file", …}``.
The Alertmanager pusher is not a Channel (it takes findings, not messages): ``build_alertmanager``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import requests
from sqlalchemy.engine import Engine

from alerts.channels import registry
from alerts.channels.alertmanager import KIND as ALERTMANAGER_KIND
from alerts.channels.alertmanager import AlertmanagerPusher, AlertmanagerSettings
from alerts.channels.config import ChannelsSettings
from alerts.channels.email import EmailChannel, EmailChannelSettings
from alerts.channels.file import FileChannel, FileChannelSettings
from alerts.channels.kind import BuildContext, ChannelKind, DigestFormat
from alerts.channels.webhook import WebhookChannel, WebhookChannelSettings
from alerts.channels.zalo import ZaloChannel, ZaloChannelSettings
from alerts.channels.zalo_tokens import ZALO_MIGRATIONS, ZaloNeedsHumanError, ZaloTokenManager
from checks.contracts import Channel
from checks.i18n import DEFAULT_LANGUAGE, Language

__all__ = [
    "ZALO_MIGRATIONS",
    "AlertmanagerPusher",
    "AlertmanagerSettings",
    "BuildContext",
    "ChannelKind",
    "ChannelsSettings",
    "DigestFormat",
    "EmailChannel",
    "EmailChannelSettings",
    "FileChannel",
    "FileChannelSettings",
    "WebhookChannel",
    "WebhookChannelSettings",
    "ZaloChannel",
    "ZaloChannelSettings",
    "ZaloNeedsHumanError",
    "ZaloTokenManager",
    "build_alertmanager",
    "build_channels",
    "channel_names",
    "registry",
]


def channel_names(settings: ChannelsSettings) -> list[str]:
    """The names ``build_channels`` would return, without building anything (no I/O)."""
    return [name for kind in registry.kinds() for name in kind.names(settings.section(kind.section))]


def build_channels(
    settings: ChannelsSettings,
    engine: Engine,
    now_fn: Callable[[], datetime],
    http: requests.Session | None = None,
) -> dict[str, Channel]:
    """The enabled channels by name. Zalo needs ``engine`` (migrated with ZALO_MIGRATIONS)."""
    context = BuildContext(engine, now_fn, http if http is not None else requests.Session())
    channels: dict[str, Channel] = {}
    for kind in registry.kinds():
        channels.update(kind.build(settings.section(kind.section), context))
    return channels


def build_alertmanager(settings: ChannelsSettings, http: requests.Session | None = None,
                       language: Language = DEFAULT_LANGUAGE) -> AlertmanagerPusher | None:
    """The Alertmanager pusher, its annotations in ``language``; None when not configured."""
    return ALERTMANAGER_KIND.pusher(settings.section(ALERTMANAGER_KIND.section), http, language)
