"""Names a package re-exports from modules it imports only when a name is first asked for.

A module's ``__getattr__`` (PEP 562) built by :func:`lazy_exports`: importing the package loads
none of the modules behind it (issue 11: start-up loads no channel module it does not use).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, names: Mapping[str, str], cache: dict[str, Any] | None = None) -> Callable[[str], Any]:
    """``__getattr__`` for ``package``: ``names`` maps an exported name to the module holding it.
    With ``cache`` (the package's ``globals()``), a name once loaded is kept there."""

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        if cache is not None:
            cache[name] = value
        return value

    return __getattr__
