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
from typing import TYPE_CHECKING

from alerts.channels import registry
from alerts.channels.config import ChannelsSettings
from alerts.channels.kind import BuildContext, ChannelKind, DigestFormat
from alerts.channels.lazy_exports import lazy_exports
from checks.i18n import DEFAULT_LANGUAGE, Language

if TYPE_CHECKING:
    import requests
    from sqlalchemy.engine import Engine

    from alerts.channels.alertmanager import AlertmanagerPusher, AlertmanagerSettings
    from alerts.channels.email import EmailChannel, EmailChannelSettings
    from alerts.channels.file import FileChannel, FileChannelSettings
    from alerts.channels.webhook import WebhookChannel, WebhookChannelSettings
    from alerts.channels.zalo import ZaloChannel, ZaloChannelSettings
    from alerts.channels.zalo_tokens import ZALO_MIGRATIONS, ZaloNeedsHumanError, ZaloTokenManager
    from checks.contracts import Channel

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

# Re-exported names of the channel modules, imported when first asked for (issue 11: start-up
# loads no channel module it does not use).
_LAZY = {
    "AlertmanagerPusher": "alerts.channels.alertmanager",
    "AlertmanagerSettings": "alerts.channels.alertmanager",
    "EmailChannel": "alerts.channels.email",
    "EmailChannelSettings": "alerts.channels.email",
    "FileChannel": "alerts.channels.file",
    "FileChannelSettings": "alerts.channels.file",
    "WebhookChannel": "alerts.channels.webhook",
    "WebhookChannelSettings": "alerts.channels.webhook",
    "ZaloChannel": "alerts.channels.zalo",
    "ZaloChannelSettings": "alerts.channels.zalo",
    "ZALO_MIGRATIONS": "alerts.channels.zalo_tokens",
    "ZaloNeedsHumanError": "alerts.channels.zalo_tokens",
    "ZaloTokenManager": "alerts.channels.zalo_tokens",
}


__getattr__ = lazy_exports(__name__, _LAZY, globals())


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
    if http is None:
        import requests

        http = requests.Session()
    context = BuildContext(engine, now_fn, http)
    channels: dict[str, Channel] = {}
    for kind in registry.kinds():
        channels.update(kind.build(settings.section(kind.section), context))
    return channels


def build_alertmanager(settings: ChannelsSettings, http: requests.Session | None = None,
                       language: Language = DEFAULT_LANGUAGE) -> AlertmanagerPusher | None:
    """The Alertmanager pusher, its annotations in ``language``; None when not configured."""
    from alerts.channels.alertmanager import KIND as ALERTMANAGER_KIND

    return ALERTMANAGER_KIND.pusher(settings.section(ALERTMANAGER_KIND.section), http, language)
