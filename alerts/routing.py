"""Routing: which routes match a finding, and which units a route receiver points at."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from alerts.channels.registry import kind_for
from alerts.settings import Receiver, Route
from checks.contracts import Finding, Unit


def route_matches(route: Route, finding: Finding) -> bool:
    """Every non-empty matcher list must contain the finding's value."""
    return route_matches_values(route, finding.check, finding.rule, finding.stage, finding.severity, finding.unit)


def route_matches_values(route: Route, check: str, rule: str, stage: str, severity: str, unit: str) -> bool:
    """:func:`route_matches` for a finding given by the values routes match on (a table's row)."""
    return (
        (not route.checks or check in route.checks)
        and (not route.rules or rule in route.rules)
        and (not route.stages or stage in route.stages)
        and (not route.severities or severity in route.severities)
        and (not route.units or unit in route.units)
    )


def match_routes(finding: Finding, routes: Sequence[Route]) -> list[Route]:
    """Routes in order; the first match stops the walk unless it has ``continue: true``."""
    return match_routes_values(finding.check, finding.rule, finding.stage, finding.severity, finding.unit, routes)


def match_routes_values(check: str, rule: str, stage: str, severity: str, unit: str,
                        routes: Sequence[Route]) -> list[Route]:
    """:func:`match_routes` for a finding given by the values routes match on (a table's row)."""
    matched: list[Route] = []
    for route in routes:
        if route_matches_values(route, check, rule, stage, severity, unit):
            matched.append(route)
            if not route.continue_matching:
                break
    return matched


def escalation_chain(unit_code: str, units: Mapping[str, Unit]) -> list[str]:
    """The units above ``unit_code`` along ``escalate_to``, nearest first (cycles are cut)."""
    chain: list[str] = []
    seen = {unit_code}
    current = units.get(unit_code)
    while current is not None and current.escalate_to and current.escalate_to not in seen:
        chain.append(current.escalate_to)
        seen.add(current.escalate_to)
        current = units.get(current.escalate_to)
    return chain


def target_units(
    finding: Finding, receiver: Receiver, units: Mapping[str, Unit], escalation_level: int
) -> list[str]:
    """Unit codes a receiver resolves to. ``escalation_level`` = how many chain steps are due (0 = none)."""
    return target_units_of(finding.unit, receiver, units, escalation_level)


def target_units_of(unit: str, receiver: Receiver, units: Mapping[str, Unit], escalation_level: int) -> list[str]:
    """:func:`target_units` for a finding of the responsible unit ``unit``."""
    if receiver.to == "unit":
        return [unit]
    if receiver.to == "escalation":
        return escalation_chain(unit, units)[:escalation_level]
    return list(receiver.to)


def addresses_for(unit: Unit | None, channel: str, unit_code: str) -> list[str]:
    """Where a channel delivers for one unit, as its kind declares (e-mails, Zalo ids/phones, a
    webhook's name, the unit code for files). A channel no kind serves: one logical target."""
    kind = kind_for(channel)
    return kind.addresses(unit, channel, unit_code) if kind is not None else [unit_code]
