"""`tthc-monitor alerts explain`, `silence …` and `outbox …`: who was told what, and the tools to
hold or resend alerts. What they print is in the configured language (checks/locale catalogs).

The main CLI sets ``args.settings`` (monitor.settings.Settings) and ``args.engine`` before the handler.
"""

from __future__ import annotations

import argparse
import getpass
import json
from datetime import UTC, datetime
from pathlib import Path

from checks.i18n import Language, translator
from checks.timeutil import VN_TZ, format_vn_datetime, parse_cli_time, to_vn_aware
from monitor.cli.table import format_table
from monitor.cli.tree import DEMO_DIR, CommandGroup, ConfigUse, complete_paths

MATCH_LABELS = "check, rule, stage, severity, unit, subject"


def register(root: CommandGroup) -> None:
    """Add `alerts explain|zalo-key`, `silence add|list|expire` and `outbox list|show|retry`."""
    alerts = root.group(
        "alerts", help="alerting: explain when (and why not) a finding was announced",
        examples=["tthc-monitor alerts explain --unit BCVT"],
    )
    explain = alerts.command(
        "explain",
        help="for each open finding of a unit: the messages that showed it, and what the next cycle would do, and why",
        examples=["tthc-monitor alerts explain --unit BCVT",
                  "tthc-monitor alerts explain --unit BCVT --at 2026-08-21T07:30",
                  "tthc-monitor alerts explain --unit QLKH --finding deadlines/dossier_upcoming/dossier/H48-1",
                  "tthc-monitor alerts explain --config /etc/tthc-monitor/config.yaml --unit QLKH"],
        handler=cmd_explain, needs_engine=True,
    )
    complete_paths(explain.add_argument("--demo-dir", type=Path, default=DEMO_DIR, metavar="DIR",
                                        help="demo only (without --config): the demo's folder (default: ./tthc-demo)"),
                   directory=True)
    explain.add_argument("--unit", required=True, help="receiving unit code, e.g. BCVT")
    explain.add_argument("--finding", metavar="KEY", help="only this finding key (as `findings --format json` shows it)")
    explain.add_argument("--at", metavar="ISO", help="when the next cycle runs (ISO 8601; naive = Vietnam time; "
                                                     "default now); messages created after it are not listed")
    alerts.command(
        "zalo-key",
        help="print a new random key for TTHC_MONITOR_TOKEN_KEY (the Zalo tokens are stored encrypted with it)",
        examples=["tthc-monitor alerts zalo-key     # put it in the service's EnvironmentFile:",
                  "    # TTHC_MONITOR_TOKEN_KEY=<the key>  (keys separated by commas rotate: the first encrypts)"],
        handler=cmd_zalo_key, config=ConfigUse.UNUSED,
    )

    silence = root.group(
        "silence", help="tạm ngừng cảnh báo (silence): add, list, expire / hold alerts for a while",
        examples=["tthc-monitor silence add --match unit=QLKH,check=deadlines --until 2026-05-05T17:00 "
                  "--reason \"nâng cấp phần mềm\"",
                  "tthc-monitor silence list --all"],
    )
    add = silence.command(
        "add", help="thêm một silence / add a silence", handler=cmd_silence_add, needs_engine=True,
        examples=["tthc-monitor silence add --match unit=QLKH,check=deadlines --until 2026-05-05T17:00 "
                  "--reason \"nâng cấp phần mềm\"",
                  "tthc-monitor silence add --config /etc/tthc-monitor/config.yaml --match subject=H48-1 "
                  "--from 2026-05-04T07:00 --until 2026-05-05T17:00 --reason \"sửa dữ liệu\" --author vp.le"],
    )
    add.add_argument("--match", required=True, metavar="LABEL=VALUE,…", help=f"label=value,… ({MATCH_LABELS})")
    add.add_argument("--until", required=True, metavar="ISO",
                     help="hết hiệu lực lúc (ISO 8601; không múi giờ = giờ Việt Nam) / ends at")
    add.add_argument("--from", dest="start", metavar="ISO", help="bắt đầu lúc (mặc định: bây giờ) / starts at (default: now)")
    add.add_argument("--reason", required=True, help="lý do (bắt buộc, lưu vĩnh viễn) / reason (required, kept forever)")
    add.add_argument("--author", default=None,
                     help="người tạo (mặc định: tài khoản hệ điều hành) / author (default: the OS user)")
    listing = silence.command(
        "list", help="liệt kê silence (kể cả đã hết hạn với --all) / list silences", handler=cmd_silence_list,
        needs_engine=True, examples=["tthc-monitor silence list", "tthc-monitor silence list --all"],
    )
    listing.add_argument("--all", action="store_true", help="cả lịch sử / also expired and ended ones")
    expire = silence.command(
        "expire", help="kết thúc một silence ngay / end a silence now", handler=cmd_silence_expire,
        needs_engine=True, examples=["tthc-monitor silence expire 3"],
    )
    expire.add_argument("id", type=int, help="số của silence (xem `silence list`) / silence number")

    box = root.group(
        "outbox", help="hàng đợi thông báo: list, show, retry / the notification queue",
        examples=["tthc-monitor outbox list --status dead", "tthc-monitor outbox retry --all-dead"],
    )
    blist = box.command(
        "list", help="liệt kê thông báo / list notifications", handler=cmd_outbox_list, needs_engine=True,
        examples=["tthc-monitor outbox list", "tthc-monitor outbox list --status pending --limit 20"],
    )
    blist.add_argument("--status", choices=["pending", "sending", "sent", "dead"],
                       help="chỉ trạng thái này / only this status")
    blist.add_argument("--limit", type=int, default=50, metavar="N", help="tối đa N dòng (mặc định 50) / at most N rows")
    show = box.command(
        "show", help="xem một thông báo và các lần gửi / a message and its delivery attempts", handler=cmd_outbox_show,
        needs_engine=True, examples=["tthc-monitor outbox show 12"],
    )
    show.add_argument("id", type=int, help="số của thông báo (xem `outbox list`) / message number")
    again = box.command(
        "retry", help="gửi lại thông báo lỗi vĩnh viễn (dead) / send dead messages again", handler=cmd_outbox_retry,
        needs_engine=True, examples=["tthc-monitor outbox retry 12", "tthc-monitor outbox retry --all-dead"],
    )
    target = again.add_mutually_exclusive_group(required=True)
    target.add_argument("id", nargs="?", type=int, help="số của thông báo / message number")
    target.add_argument("--all-dead", action="store_true", help="mọi thông báo dead / every dead message")


def _now(args: argparse.Namespace) -> datetime:
    """The edge of the program: the real clock, unless a test or the main CLI injected ``args.now``."""
    given = getattr(args, "now", None)
    if isinstance(given, datetime):
        return given
    if isinstance(given, str):
        return parse_cli_time(given)
    return datetime.now(UTC)


def _language(args: argparse.Namespace) -> Language:
    return "en" if getattr(args.settings, "language", "vi") == "en" else "vi"


def cmd_silence_add(args: argparse.Namespace) -> int:
    from alerts.silences import add_silence, parse_matchers

    _ = translator(_language(args))
    now = _now(args)
    try:
        matchers = parse_matchers(args.match)
        start = parse_cli_time(args.start) if args.start else now
        until = parse_cli_time(args.until)
        author = args.author or getpass.getuser()
        silence_id = add_silence(args.engine, matchers, start, until, author, args.reason, now)
    except ValueError as error:
        print(_("Error: {message}").format(message=error))
        return 2
    print(_("Silence #{id} created: {match} until {until} (author: {author})").format(
        id=silence_id, match=args.match, until=format_vn_datetime(until), author=author))
    return 0


def cmd_silence_list(args: argparse.Namespace) -> int:
    from alerts.silences import load_silences

    _ = translator(_language(args))
    now = _now(args)
    silences = load_silences(args.engine, active_at=None if args.all else now)
    if not silences:
        print(_("No silence is in effect.") if not args.all else _("There are no silences yet."))
        return 0
    rows = []
    for s in silences:
        state = _("in effect") if s.is_active(now) else (_("ended early") if s.expired_at else
                                                        (_("not started") if s.starts_at > now else _("expired")))
        rows.append([str(s.id), ",".join(f"{k}={v}" for k, v in s.matchers.items()), format_vn_datetime(s.starts_at),
                     format_vn_datetime(s.ends_at), s.author, s.reason, state])
    print(format_table(["ID", _("Conditions"), _("Starts"), _("Ends"), _("Author"), _("Reason"), _("State")], rows))
    return 0


def cmd_silence_expire(args: argparse.Namespace) -> int:
    from alerts.silences import expire_silence

    _ = translator(_language(args))
    if expire_silence(args.engine, args.id, _now(args)):
        print(_("Silence #{id} ended (it stays in the history).").format(id=args.id))
        return 0
    print(_("No silence #{id} in effect.").format(id=args.id))
    return 1


def cmd_outbox_list(args: argparse.Namespace) -> int:
    from alerts.outbox import list_outbox

    _ = translator(_language(args))
    rows = list_outbox(args.engine, args.status, args.limit)
    if not rows:
        print(_("The queue is empty."))
        return 0
    print(format_table(
        ["ID", _("Created at"), _("Channel"), _("Receiver"), _("For unit"), _("Delivery status"), _("Tries"),
         _("Title")],
        [[str(r.id), format_vn_datetime(r.created_at), r.channel, r.receiver, r.unit, r.status, str(r.attempts),
          r.subject[:60]] for r in rows],
    ))
    return 0


def cmd_outbox_show(args: argparse.Namespace) -> int:
    from alerts.outbox import delivery_history, get_outbox

    _ = translator(_language(args))
    row = get_outbox(args.engine, args.id)
    if row is None:
        print(_("No message #{id}.").format(id=args.id))
        return 1
    fields = [
        ("ID", str(row.id)), (_("Channel"), row.channel), (_("Receiver"), row.receiver), (_("For unit"), row.unit),
        (_("Delivery status"), row.status), (_("Attempts"), str(row.attempts)),
        (_("Created at"), format_vn_datetime(row.created_at)),
        (_("Not before"), format_vn_datetime(row.not_before)),
        (_("Next attempt"), format_vn_datetime(row.next_attempt_at)), (_("Delivered at"), format_vn_datetime(row.sent_at)),
        (_("Last error"), row.last_error or ""), (_("Idempotency key"), row.idempotency_key),
        (_("Findings"), ", ".join(row.finding_keys)), (_("Title"), row.subject),
    ]
    print("\n".join(f"{name}: {value}" for name, value in fields))
    print("\n" + row.text)
    if row.payload:
        print("\nPayload: " + json.dumps(row.payload, ensure_ascii=False))
    history = delivery_history(args.engine, row.id)
    if history:
        print("\n" + _("Delivery history:"))
        for at, outcome, error in history:
            print(f"  {format_vn_datetime(at)}  {outcome}" + (f"  {error}" if error else ""))
    return 0


def cmd_outbox_retry(args: argparse.Namespace) -> int:
    from alerts.outbox import retry

    _ = translator(_language(args))
    count = retry(args.engine, _now(args), outbox_id=args.id, all_dead=args.all_dead)
    if count == 0:
        print(_("No failed (dead) message matches; nothing to send again."))
        return 1
    print(_("Messages put back in the queue: {count}").format(count=count))
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from alerts.channels import channel_names
    from alerts.explain import explain, texts
    from checks.calendar import WorkingCalendar
    from monitor.store.history import HistoryStore

    settings = args.settings
    _ = translator(_language(args))
    at = parse_cli_time(args.at) if args.at else to_vn_aware(datetime.now(VN_TZ))
    findings = HistoryStore(args.engine).open_findings()
    channels = channel_names(settings.alerts.channels)
    explanations = explain(args.engine, findings, settings.units, settings.alerts, WorkingCalendar(settings.calendar),
                           args.unit, at, channels, only_key=args.finding)
    if not explanations:
        print(texts(settings.language)["none"].format(unit=args.unit))
        return 1 if args.finding else 0
    for item in explanations:
        print(f"{item.subject} – {item.problem}{' – ' + item.due if item.due else ''}  [{item.key}]")
        for line in [*item.history, *item.next]:
            print(f"    {line}")
    return 0


def cmd_zalo_key(args: argparse.Namespace) -> int:
    """Print a new Fernet key (the key only, on stdout, for a script or an EnvironmentFile)."""
    from alerts.channels.token_crypto import generate_key

    print(generate_key())
    return 0
