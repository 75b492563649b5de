"""`tthc-monitor source list` and `source accept NAME`: the sources' state, and the operator's word
on a snapshot the quarantine holds back (docs/SOURCES.md, "Quarantine").

Both read and write the state store only, so they work while the daemon runs in another process:
`source accept` records an acceptance (table ``source_acceptances``) that the daemon applies at
the source's next poll — the held snapshot is put in force without a new download. What they
print is in the configured language (checks/locale catalogs).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from checks.i18n import Language, translator
from checks.timeutil import format_vn_datetime
from monitor.cli.table import format_table
from monitor.cli.tree import CommandGroup


def register(root: CommandGroup) -> None:
    """Add `source list` and `source accept`."""
    source = root.group(
        "source", help="data sources: their state, and accepting a snapshot held back as suspect",
        examples=["tthc-monitor source list", "tthc-monitor source accept igate_report"],
    )
    source.command(
        "list", help="every configured source: up, suspect, rows in force, last poll, snapshot held back",
        handler=cmd_list, needs_engine=True,
        examples=["tthc-monitor source list", "tthc-monitor source list --config /etc/tthc-monitor/config.yaml"],
    )
    accept = source.command(
        "accept",
        help="put the snapshot held back as suspect in force (the running daemon applies it at the next poll)",
        handler=cmd_accept, needs_engine=True,
        examples=["tthc-monitor source accept igate_report --config /etc/tthc-monitor/config.yaml"],
    )
    accept.add_argument("name", metavar="NAME", help="the source's name (as in sources: and `source list`)")


def _language(args: argparse.Namespace) -> Language:
    return "en" if args.settings.language == "en" else "vi"


def _now(args: argparse.Namespace) -> datetime:
    """The edge of the program: the real clock, unless a test injected ``args.now``."""
    given = getattr(args, "now", None)
    return given if isinstance(given, datetime) else datetime.now(UTC)


def _count(value: int | None, language: Language) -> str:
    if value is None:
        return "—"
    text = f"{value:,}"
    return text.replace(",", ".") if language == "vi" else text


def _share(rows: int, last: int | None, language: Language) -> str:
    if not last:
        return "—"
    text = f"{rows / last * 100:.1f}".rstrip("0").rstrip(".") + "%"
    return text.replace(".", ",") if language == "vi" else text


def cmd_list(args: argparse.Namespace) -> int:
    from monitor.store.history import HistoryStore

    language = _language(args)
    _ = translator(language)
    history = HistoryStore(args.engine)
    reasons = {"required_column_missing": _("required column missing"), "empty": _("no rows"),
               "row_share": _("too few rows")}
    rows: list[list[str]] = []
    for source in args.settings.sources:
        last_poll = history.last_poll(source.name)
        good = history.last_good_poll(source.name)
        held = history.held_suspect(source.name)
        if last_poll is None:
            state = _("never polled")
        elif not last_poll.ok:
            state = _("down")
        elif held is not None:
            state = _("suspect")
        else:
            state = _("up")
        held_text = ""
        if held is not None:
            held_text = _("{rows} rows ({share}), {reason}, since {since}").format(
                rows=_count(held.rows, language), share=_share(held.rows, held.last_good_rows, language),
                reason=reasons.get(held.reason, held.reason), since=format_vn_datetime(held.finished_at))
            if history.pending_acceptances(source.name):
                held_text += "; " + _("accepted, applied at the next poll")
        rows.append([
            source.name, source.table.value, state, _count(good.rows if good else None, language),
            format_vn_datetime(last_poll.finished_at) if last_poll else "", held_text,
        ])
    if not rows:
        print(_("No source is configured."))
        return 0
    print(format_table([_("Source"), _("Table"), _("State"), _("Rows in force"), _("Last poll"),
                        _("Held back as suspect")], rows))
    return 0


def cmd_accept(args: argparse.Namespace) -> int:
    from monitor.store.history import HistoryStore

    language = _language(args)
    _ = translator(language)
    names = [source.name for source in args.settings.sources]
    if args.name not in names:
        print(_("Unknown source: {name}. Configured sources: {names}").format(
            name=args.name, names=", ".join(names) or "—"), file=sys.stderr)
        return 2
    history = HistoryStore(args.engine)
    held = history.held_suspect(args.name)
    if held is None:
        print(_("Source {name} holds no snapshot back: nothing to accept.").format(name=args.name), file=sys.stderr)
        return 1
    if not history.pending_acceptances(args.name):
        history.request_acceptance(args.name, _now(args), held.poll_id)
    print(_("Accepted: the snapshot of {name} held back since {since} ({rows} rows; the last good one had {last}) "
            "is put in force at the daemon's next poll of the source.").format(
        name=args.name, since=format_vn_datetime(held.finished_at), rows=_count(held.rows, language),
        last=_count(held.last_good_rows, language)))
    return 0
