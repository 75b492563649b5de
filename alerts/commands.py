"""`tthc-monitor silence …` and `tthc-monitor outbox …` (argparse). Staff-facing text in Vietnamese.

The main CLI sets ``args.settings`` (monitor.settings.Settings) and ``args.engine`` before ``func``.
"""

from __future__ import annotations

import argparse
import getpass
import json
from collections.abc import Sequence
from datetime import UTC, datetime

from alerts.outbox import delivery_history, get_outbox, list_outbox, retry
from alerts.render import format_vn_datetime
from alerts.silences import add_silence, expire_silence, load_silences, parse_matchers
from checks.timeutil import parse_cli_time


def register(subparsers: argparse._SubParsersAction) -> None:
    silence = subparsers.add_parser("silence", help="tạm ngừng cảnh báo (silence): add, list, expire")
    silence_cmds = silence.add_subparsers(dest="silence_command", required=True)
    add = silence_cmds.add_parser("add", help="thêm một silence")
    add.add_argument("--match", required=True, help="label=value,… (check, rule, stage, severity, unit, subject)")
    add.add_argument("--until", required=True, help="hết hiệu lực lúc (ISO 8601; không múi giờ = giờ Việt Nam)")
    add.add_argument("--from", dest="start", help="bắt đầu lúc (mặc định: bây giờ)")
    add.add_argument("--reason", required=True, help="lý do (bắt buộc, lưu vĩnh viễn)")
    add.add_argument("--author", default=None, help="người tạo (mặc định: tài khoản hệ điều hành)")
    add.set_defaults(func=cmd_silence_add, needs_engine=True)
    listing = silence_cmds.add_parser("list", help="liệt kê silence (kể cả đã hết hạn với --all)")
    listing.add_argument("--all", action="store_true", help="cả lịch sử")
    listing.set_defaults(func=cmd_silence_list, needs_engine=True)
    expire = silence_cmds.add_parser("expire", help="kết thúc một silence ngay")
    expire.add_argument("id", type=int)
    expire.set_defaults(func=cmd_silence_expire, needs_engine=True)

    box = subparsers.add_parser("outbox", help="hàng đợi thông báo: list, show, retry")
    box_cmds = box.add_subparsers(dest="outbox_command", required=True)
    blist = box_cmds.add_parser("list", help="liệt kê thông báo")
    blist.add_argument("--status", choices=["pending", "sending", "sent", "dead"])
    blist.add_argument("--limit", type=int, default=50)
    blist.set_defaults(func=cmd_outbox_list, needs_engine=True)
    show = box_cmds.add_parser("show", help="xem một thông báo và các lần gửi")
    show.add_argument("id", type=int)
    show.set_defaults(func=cmd_outbox_show, needs_engine=True)
    again = box_cmds.add_parser("retry", help="gửi lại thông báo lỗi vĩnh viễn (dead)")
    target = again.add_mutually_exclusive_group(required=True)
    target.add_argument("id", nargs="?", type=int)
    target.add_argument("--all-dead", action="store_true")
    again.set_defaults(func=cmd_outbox_retry, needs_engine=True)


def _now(args: argparse.Namespace) -> datetime:
    """The edge of the program: the real clock, unless a test or the main CLI injected ``args.now``."""
    given = getattr(args, "now", None)
    if isinstance(given, datetime):
        return given
    if isinstance(given, str):
        return parse_cli_time(given)
    return datetime.now(UTC)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()
    body = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join([line, "  ".join("-" * w for w in widths), *body])


def cmd_silence_add(args: argparse.Namespace) -> int:
    now = _now(args)
    try:
        matchers = parse_matchers(args.match)
        start = parse_cli_time(args.start) if args.start else now
        until = parse_cli_time(args.until)
        author = args.author or getpass.getuser()
        silence_id = add_silence(args.engine, matchers, start, until, author, args.reason, now)
    except ValueError as error:
        print(f"Lỗi: {error}")
        return 2
    print(f"Đã tạo silence #{silence_id}: {args.match} đến {format_vn_datetime(until)} (người tạo: {author})")
    return 0


def cmd_silence_list(args: argparse.Namespace) -> int:
    now = _now(args)
    silences = load_silences(args.engine, active_at=None if args.all else now)
    if not silences:
        print("Không có silence nào đang hiệu lực." if not args.all else "Chưa có silence nào.")
        return 0
    rows = []
    for s in silences:
        state = "đang hiệu lực" if s.is_active(now) else ("đã kết thúc sớm" if s.expired_at else
                                                       ("chưa bắt đầu" if s.starts_at > now else "đã hết hạn"))
        rows.append([str(s.id), ",".join(f"{k}={v}" for k, v in s.matchers.items()), format_vn_datetime(s.starts_at),
                     format_vn_datetime(s.ends_at), s.author, s.reason, state])
    print(_table(["ID", "Điều kiện", "Từ", "Đến", "Người tạo", "Lý do", "Trạng thái"], rows))
    return 0


def cmd_silence_expire(args: argparse.Namespace) -> int:
    if expire_silence(args.engine, args.id, _now(args)):
        print(f"Đã kết thúc silence #{args.id} (vẫn lưu trong lịch sử).")
        return 0
    print(f"Không tìm thấy silence #{args.id} đang hiệu lực.")
    return 1


def cmd_outbox_list(args: argparse.Namespace) -> int:
    rows = list_outbox(args.engine, args.status, args.limit)
    if not rows:
        print("Hàng đợi trống.")
        return 0
    print(_table(
        ["ID", "Tạo lúc", "Kênh", "Người nhận", "Đơn vị", "Trạng thái", "Lần gửi", "Tiêu đề"],
        [[str(r.id), format_vn_datetime(r.created_at), r.channel, r.receiver, r.unit, r.status, str(r.attempts),
          r.subject[:60]] for r in rows],
    ))
    return 0


def cmd_outbox_show(args: argparse.Namespace) -> int:
    row = get_outbox(args.engine, args.id)
    if row is None:
        print(f"Không tìm thấy thông báo #{args.id}.")
        return 1
    fields = [
        ("ID", str(row.id)), ("Kênh", row.channel), ("Người nhận", row.receiver), ("Đơn vị", row.unit),
        ("Trạng thái", row.status), ("Số lần gửi", str(row.attempts)), ("Tạo lúc", format_vn_datetime(row.created_at)),
        ("Không gửi trước", format_vn_datetime(row.not_before)),
        ("Lần thử kế tiếp", format_vn_datetime(row.next_attempt_at)), ("Đã gửi lúc", format_vn_datetime(row.sent_at)),
        ("Lỗi gần nhất", row.last_error or ""), ("Khóa idempotency", row.idempotency_key),
        ("Phát hiện", ", ".join(row.finding_keys)), ("Tiêu đề", row.subject),
    ]
    print("\n".join(f"{name}: {value}" for name, value in fields))
    print("\n" + row.text)
    if row.payload:
        print("\nPayload: " + json.dumps(row.payload, ensure_ascii=False))
    history = delivery_history(args.engine, row.id)
    if history:
        print("\nLịch sử gửi:")
        for at, outcome, error in history:
            print(f"  {format_vn_datetime(at)}  {outcome}" + (f"  {error}" if error else ""))
    return 0


def cmd_outbox_retry(args: argparse.Namespace) -> int:
    count = retry(args.engine, _now(args), outbox_id=args.id, all_dead=args.all_dead)
    if count == 0:
        print("Không có thông báo lỗi (dead) nào phù hợp để gửi lại.")
        return 1
    print(f"Đã đưa {count} thông báo trở lại hàng đợi.")
    return 0
