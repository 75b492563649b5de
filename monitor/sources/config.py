"""The ``sources:`` entries: each read with the settings model its ``kind`` names (built-in or plug-in).

The shared parts (mapping, common fields) live in ``monitor.sources.base``; re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import PlainValidator, SerializeAsAny, ValidationError

from monitor.sources.base import DEFAULT_DATE_FORMATS, MappingSettings, SourceSettingsBase

if TYPE_CHECKING:
    from monitor.sources.http_json import HttpJsonSourceSettings
    from monitor.sources.tabular import TabularSourceSettings

__all__ = ["DEFAULT_DATE_FORMATS", "HttpJsonSourceSettings", "MappingSettings", "SourceSettings",
           "SourceSettingsBase", "TabularSourceSettings"]

_SourceBase = SourceSettingsBase  # the former private name


def _by_kind(value: Any) -> SourceSettingsBase:
    """A ``sources:`` entry, read with the model its ``kind`` names (built-in or plug-in)."""
    if isinstance(value, SourceSettingsBase):
        return value
    from monitor.sources.registry import kinds

    known = kinds()
    tag = value.get("kind") if isinstance(value, Mapping) else None
    if tag not in known:
        raise ValueError(f"'kind' must be one of {', '.join(repr(k) for k in known)} (got {tag!r})")
    try:
        settings: SourceSettingsBase = known[tag].settings_model.model_validate(value)
    except ValidationError as error:  # name the field, as the former tagged union did
        problems = "; ".join(
            f"{'.'.join(str(part) for part in (tag, *problem['loc']))}: {problem['msg']}"
            for problem in error.errors(include_url=False)
        )
        raise ValueError(problems) from None
    return settings


# One entry of ``sources:``: the ``kind`` discriminator picks the model among the registered kinds.
SourceSettings = Annotated[SerializeAsAny[SourceSettingsBase], PlainValidator(_by_kind)]


def __getattr__(name: str) -> Any:
    # The kinds' models live in their modules, which import this one: re-exported lazily.
    if name == "TabularSourceSettings":
        from monitor.sources import tabular

        return tabular.TabularSourceSettings
    if name == "HttpJsonSourceSettings":
        from monitor.sources import http_json

        return http_json.HttpJsonSourceSettings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
