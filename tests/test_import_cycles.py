"""No module imports (even lazily or for type checking only) a module that imports it back.

`make lint` keeps the floors (monitor -> alerts -> checks) with import-linter; this keeps each
floor free of circles, with the same import graph (grimp, import-linter's own library).
"""

from __future__ import annotations

import grimp


def test_no_import_cycles() -> None:
    graph = grimp.build_graph("monitor", "alerts", "checks")  # TYPE_CHECKING imports included
    cycles = set()
    for importer in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(importer):
            if imported != importer and graph.chain_exists(importer=imported, imported=importer):
                cycles.add(tuple(sorted((importer, imported))))
    assert sorted(cycles) == []
