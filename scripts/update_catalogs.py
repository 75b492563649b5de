"""Refresh the translation catalogs from the code (``make messages``).

Extracts every marked message (``_``, ``N_``, ``gettext(language, …)``, ``{% trans %}``) with the
mapping in ``babel.cfg``, then updates ``checks/locale/<lang>/LC_MESSAGES/tthc.po``: new messages
are added untranslated, messages the code no longer uses are dropped. The English catalog's empty
texts are filled with the message itself (the code is written in English); the Vietnamese ones
are left empty for a translator — ``tests/test_i18n_catalogs.py`` fails until they are filled.

Usage: python scripts/update_catalogs.py [--check] [--fill LANG FILE.json]
  --check   change nothing; exit 1 when a catalog is stale
  --fill    set texts of LANG from a JSON object {"English message": "text"} (after updating)
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALE_DIR = ROOT / "checks" / "locale"
LANGUAGES = ("vi", "en")
KEYWORDS = {"gettext": (2,), "ngettext": (2, 3), "_": None, "N_": None}


def template() -> Catalog:
    with (ROOT / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config, str(ROOT / "babel.cfg"))
    pot = Catalog(project="tthc-monitor", charset="utf-8")
    for _file, _line, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        pot.add(message, context=context)
    return pot


def updated(language: str, pot: Catalog, fill: dict[str, str] | None = None) -> tuple[Path, bytes]:
    path = LOCALE_DIR / language / "LC_MESSAGES" / "tthc.po"
    if path.exists():
        with path.open("rb") as po:
            catalog = read_po(po, locale=language)
    else:
        catalog = Catalog(locale=language, project="tthc-monitor", charset="utf-8")
    catalog.update(pot, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    for message in catalog:
        if not message.id:
            continue
        if fill and message.id in fill:
            message.string = fill[message.id]
            message.flags.discard("fuzzy")
        if language == "en" and not message.string:
            message.string = message.id
        message.locations = []
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, sort_output=True, omit_header=False, no_location=True, ignore_obsolete=True)
    return path, buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when a catalog is stale")
    parser.add_argument("--fill", nargs=2, metavar=("LANG", "FILE"), help="texts for LANG from a JSON object")
    args = parser.parse_args(argv)
    fills: dict[str, dict[str, str]] = {}
    if args.fill:
        fills[args.fill[0]] = json.loads(Path(args.fill[1]).read_text(encoding="utf-8"))
    stale = []
    for language in LANGUAGES:
        # A fresh template per language: Catalog.update adopts the template's message objects, so a
        # text set in one language's catalog would otherwise leak into the next.
        path, content = updated(language, template(), fills.get(language))
        old = path.read_bytes() if path.exists() else b""
        if _body(old) != _body(content):
            stale.append(path)
            if not args.check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
    for path in stale:
        print(f"{'stale' if args.check else 'updated'}: {path.relative_to(ROOT)}")
    return 1 if args.check and stale else 0


def _body(content: bytes) -> bytes:
    """The catalog without its header dates, which change on every run."""
    return b"\n".join(line for line in content.splitlines()
                      if not line.startswith((b'"POT-Creation-Date', b'"PO-Revision-Date')))


if __name__ == "__main__":
    sys.exit(main())
