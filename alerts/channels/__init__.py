"""Alert channels: one module each, all implementing ``checks.contracts.Channel``.

``build_channels`` turns ``ChannelsSettings`` into ``{"email", "zalo", "webhook:<name>", "file"}``.
The Alertmanager pusher is not a Channel (it takes findings, not messages): ``build_alertmanager``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import requests
from sqlalchemy.engine import Engine

from alerts.channels.alertmanager import AlertmanagerPusher
from alerts.channels.config import (
    AlertmanagerSettings,
    ChannelsSettings,
    EmailChannelSettings,
    FileChannelSettings,
    WebhookChannelSettings,
    ZaloChannelSettings,
)
from alerts.channels.email import EmailChannel
from alerts.channels.file import FileChannel
from alerts.channels.webhook import WebhookChannel
from alerts.channels.zalo import ZaloChannel
from alerts.channels.zalo_tokens import ZALO_MIGRATIONS, ZaloNeedsHumanError, ZaloTokenManager
from checks.contracts import Channel

__all__ = [
    "ZALO_MIGRATIONS",
    "AlertmanagerPusher",
    "AlertmanagerSettings",
    "ChannelsSettings",
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
]


def channel_names(settings: ChannelsSettings) -> list[str]:
    """The names ``build_channels`` would return, without building anything (no I/O)."""
    names = ["email"] if settings.email is not None and settings.email.enabled else []
    names += ["zalo"] if settings.zalo is not None and settings.zalo.enabled else []
    names += [f"webhook:{hook.name}" for hook in settings.webhooks]
    names += ["file"] if settings.file is not None and settings.file.enabled else []
    return names


def build_channels(
    settings: ChannelsSettings,
    engine: Engine,
    now_fn: Callable[[], datetime],
    http: requests.Session | None = None,
) -> dict[str, Channel]:
    """The enabled channels by name. Zalo needs ``engine`` (migrated with ZALO_MIGRATIONS)."""
    session = http if http is not None else requests.Session()
    channels: dict[str, Channel] = {}
    if settings.email is not None and settings.email.enabled:
        channels["email"] = EmailChannel(settings.email, now_fn)
    if settings.zalo is not None and settings.zalo.enabled:
        tokens = ZaloTokenManager(engine, settings.zalo, session, now_fn)
        channels["zalo"] = ZaloChannel(settings.zalo, tokens, session, now_fn)
    for hook in settings.webhooks:
        channel = WebhookChannel(hook, session)
        channels[channel.name] = channel
    if settings.file is not None and settings.file.enabled:
        channels["file"] = FileChannel(settings.file, now_fn)
    return channels


def build_alertmanager(settings: ChannelsSettings, http: requests.Session | None = None) -> AlertmanagerPusher | None:
    if settings.alertmanager is None or not settings.alertmanager.enabled:
        return None
    return AlertmanagerPusher(settings.alertmanager, http)
