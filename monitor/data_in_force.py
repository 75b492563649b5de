"""No resolution because data vanished: which open findings a cycle must keep open.

A finding is resolved when its check no longer reports it. That is only true if the check saw
the data: a check that failed saw nothing, and neither did one reading a table whose sources have
no data in force (never loaded since a restart, or every source of the table down with nothing
restored — an empty table in force after a successful poll is data). Their previously open
findings are kept, as they were, both in history and in what the alert policy is given, so no
"resolved" note is planned and nothing is re-announced when the data comes back. Findings about
sources themselves (``subject_kind == source``) are judged from the sources' status, which is
always known, and are never kept this way.

Pure functions; the cycle (``monitor.cycle``) reads the open findings and calls them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from checks.contracts import Finding, SourceStatus, SubjectKind
from checks.schema import TableName

ALL_TABLES: frozenset[TableName] = frozenset(TableName)


def tables_without_data(sources: Iterable[SourceStatus]) -> frozenset[TableName]:
    """Tables fed by at least one source, none of which has data in force."""
    fed: set[TableName] = set()
    with_data: set[TableName] = set()
    for source in sources:
        fed.add(source.table)
        if source.has_data:
            with_data.add(source.table)
    return frozenset(fed - with_data)


def reads_of(check: object) -> frozenset[TableName]:
    """The tables a check declares it reads (``CheckSpec.reads``); every table when it does not say."""
    reads = getattr(getattr(check, "spec", None), "reads", None)
    return frozenset(reads) if reads else ALL_TABLES


def blind_checks(checks: Iterable[object], missing: Collection[TableName]) -> set[str]:
    """Names of the checks that read a table in ``missing``."""
    if not missing:
        return set()
    return {str(getattr(check, "name", "")) for check in checks if reads_of(check) & set(missing)}


def findings_to_keep(
    stored_open: Sequence[Finding], present: Collection[str], failed: Collection[str], blind: Collection[str]
) -> list[Finding]:
    """Stored open findings whose key is not ``present`` this cycle and whose check failed, or
    read a table without data."""
    if not failed and not blind:
        return []
    return [
        finding
        for finding in stored_open
        if finding.key not in present
        and (finding.check in failed or (finding.check in blind and finding.subject_kind is not SubjectKind.SOURCE))
    ]
