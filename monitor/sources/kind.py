"""What a source module declares about itself: ``SourceKind``.

One object per source module (``KIND``) names the ``kind:`` value of a ``sources:`` entry in the
YAML file, the pydantic model that entry is read with (a subclass of
``monitor.sources.config.SourceSettingsBase`` whose ``kind`` field is ``Literal[<kind>]``) and
how to build the adapter (``build(settings, units) -> Source``). Built-in kinds are listed in
``monitor.sources.registry``; third-party ones come from the ``tthc_monitor.sources``
entry-point group (docs/SOURCES.md, "Adding a source kind").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from checks.contracts import Source, Unit


class SourceKind:
    """The declaration of one source kind. Subclass it, set ``kind`` and ``settings_model``,
    implement ``build``, and expose an instance as ``KIND``."""

    kind: ClassVar[str]  # the YAML ``kind:`` value
    settings_model: ClassVar[type[Any]]  # a SourceSettingsBase subclass with kind: Literal[<kind>]

    def build(self, settings: Any, units: Sequence[Unit]) -> Source:
        raise NotImplementedError
