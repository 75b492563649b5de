"""Settings of the alert channels: ``ChannelsSettings`` is the ``alerts.channels`` YAML section.

Each channel module declares its own section and model (``ChannelKind.section``,
``section_type``); this model holds one validated value per known kind, so a plug-in channel's
section is read without a field here. Unknown sections are refused, as before. The per-channel
models are re-exported from here for existing imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from alerts.channels.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from alerts.channels.alertmanager import AlertmanagerSettings
    from alerts.channels.email import EmailChannelSettings
    from alerts.channels.file import FileChannelSettings
    from alerts.channels.webhook import WebhookChannelSettings
    from alerts.channels.zalo import ZaloChannelSettings

__all__ = [
    "AlertmanagerSettings",
    "ChannelsSettings",
    "EmailChannelSettings",
    "FileChannelSettings",
    "WebhookChannelSettings",
    "ZaloChannelSettings",
]


_MODELS = {
    "AlertmanagerSettings": "alerts.channels.alertmanager",
    "EmailChannelSettings": "alerts.channels.email",
    "FileChannelSettings": "alerts.channels.file",
    "WebhookChannelSettings": "alerts.channels.webhook",
    "ZaloChannelSettings": "alerts.channels.zalo",
}


# The per-channel models live in their channel modules, imported when a model is first asked
# for: importing the settings loads no channel module (issue 11).
__getattr__ = lazy_exports(__name__, _MODELS)


class ChannelsSettings(BaseModel):
    """All channel sections, by their YAML key. Missing ones take the kind's default: off, except
    the file channel (the embedded default) and an empty webhook list.

    Read a section as an attribute (``settings.email``) or with :meth:`section`.
    """

    model_config = ConfigDict(extra="allow")

    @model_validator(mode="before")
    @classmethod
    def _sections(cls, data: Any) -> Any:
        from alerts.channels.registry import by_section

        if not isinstance(data, Mapping):
            return data
        kinds = by_section()
        unknown = sorted(str(key) for key in data if key not in kinds)
        if unknown:
            raise ValueError(f"unknown channel section(s) {unknown}; known: {sorted(kinds)}")
        sections: dict[str, Any] = {}
        for key, kind in kinds.items():
            try:
                sections[key] = kind.validate_section(data[key]) if key in data else kind.default_section()
            except ValidationError as error:  # name the section and the field, as a typed field would
                problems = "; ".join(
                    f"{'.'.join(str(part) for part in (key, *problem['loc']))}: {problem['msg']}"
                    for problem in error.errors(include_url=False)
                )
                raise ValueError(problems) from None
        return sections

    def section(self, key: str) -> Any:
        """The validated section ``key`` (a kind's ``section``), or None when no kind reads it."""
        return (self.model_extra or {}).get(key)

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any: ...
