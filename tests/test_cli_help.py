"""Every command documents itself: ``--help`` exits 0, names every option with its help text and
shows examples; ``completion bash|zsh`` prints a script that knows every command."""

from __future__ import annotations

import argparse
import re
import subprocess
from pathlib import Path

import pytest

from monitor.cli import build_cli, main
from monitor.cli.completion import completion_script

pytestmark = pytest.mark.usefixtures("restore_logging")

COMMANDS = [command.path for command in build_cli().commands]
GROUPS = sorted({path[:-1] for path in COMMANDS if len(path) > 1})
EXPECTED = {
    ("run",), ("check",), ("validate",), ("findings",), ("report",), ("completion",),
    ("calendar", "due"), ("calendar", "between"), ("calendar", "days"), ("rules", "show"), ("alerts", "explain"),
    ("alerts", "zalo-key"), ("mapping", "suggest"), ("metrics", "hash-password"), ("source", "list"),
    ("source", "accept"),
    ("silence", "add"), ("silence", "list"), ("silence", "expire"),
    ("outbox", "list"), ("outbox", "show"), ("outbox", "retry"),
}


def help_of(words: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        main([*words, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def flat(text: str) -> str:
    """Without any whitespace: argparse wraps help lines (also after a hyphen)."""
    return "".join(text.split())


def test_the_tree_has_every_command() -> None:
    assert set(COMMANDS) == EXPECTED


@pytest.mark.parametrize("words", COMMANDS, ids=" ".join)
def test_every_command_help_lists_its_options_with_help_and_examples(
    words: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    (command,) = [c for c in build_cli().commands if c.path == words]
    text = help_of(words, capsys)
    assert text.startswith(f"usage: tthc-monitor {' '.join(words)} ")
    assert "\nexamples:\n  tthc-monitor " + " ".join(words) in text
    options = [action for action in command.parser._actions if not isinstance(action, argparse._HelpAction)]
    assert any("--config" in action.option_strings for action in options)
    for action in options:
        assert action.help and action.help != argparse.SUPPRESS, f"{words} {action.dest}: no help text"
        shown = action.option_strings or [action.metavar or action.dest]
        assert all(name in text for name in shown), (words, shown)
        assert flat(action.help % {"default": action.default}) in flat(text), (words, action.dest)


@pytest.mark.parametrize("words", [(), *GROUPS], ids=lambda w: " ".join(w) or "tthc-monitor")
def test_every_group_help_lists_its_commands_and_examples(
    words: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    text = help_of(words, capsys)
    children = {path[len(words)] for path in COMMANDS if path[: len(words)] == words}
    assert all(re.search(rf"^\s+{child}\b", text, re.M) for child in children), (words, children)
    assert "\nexamples:\n  tthc-monitor " in text


def test_config_is_taken_after_the_command_words_everywhere(tmp_path: Path) -> None:
    parser = build_cli().parser
    config = tmp_path / "x.yaml"
    args = parser.parse_args(["silence", "add", "--config", str(config), "--match", "unit=QLKH", "--until",
                              "2099-01-01T00:00", "--reason", "bảo trì"])
    assert (args.config, args.match, args.reason) == (config, "unit=QLKH", "bảo trì")
    assert parser.parse_args(["outbox", "retry", "--config", str(config), "--all-dead"]).config == config
    assert parser.parse_args(["calendar", "days", "--year", "2026", "--config", str(config)]).config == config
    assert parser.parse_args(["completion", "bash", "--config", str(config)]).shell == "bash"


def test_a_missing_config_file_is_refused_by_any_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    absent = tmp_path / "absent.yaml"
    assert main(["outbox", "list", "--config", str(absent)]) == 2
    assert main(["calendar", "days", "--year", "2026", "--config", str(absent)]) == 2
    assert capsys.readouterr().err.count(f"configuration file not found: {absent}") == 2


def _bash_complete(script: Path, *words: str) -> list[str]:
    line = " ".join(words)
    program = (f"source {script}; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; "
               f"COMP_LINE='{line}'; COMP_POINT={len(line)}; _shtab_tthc_monitor; printf '%s\\n' \"${{COMPREPLY[@]}}\"")
    done = subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=30, check=True)
    return done.stdout.split()


def test_bash_completion_is_valid_and_completes_commands_and_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["completion", "bash"]) == 0
    script = tmp_path / "tthc-monitor.bash"
    script.write_text(capsys.readouterr().out, encoding="utf-8")
    syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, timeout=30)
    assert syntax.returncode == 0, syntax.stderr
    assert "complete -o bashdefault -F _shtab_tthc_monitor tthc-monitor" in script.read_text(encoding="utf-8")
    assert _bash_complete(script, "tthc-monitor", "sil") == ["silence"]
    top = set(_bash_complete(script, "tthc-monitor", ""))
    assert {path[0] for path in COMMANDS} <= top
    assert set(_bash_complete(script, "tthc-monitor", "outbox", "")) >= {"list", "show", "retry"}
    options = _bash_complete(script, "tthc-monitor", "silence", "add", "--")
    assert {"--config", "--match", "--until", "--from", "--reason", "--author"} <= set(options)


def test_zsh_completion_names_every_command() -> None:
    script = completion_script(build_cli().parser, "zsh")
    assert script.startswith("#compdef tthc-monitor")
    for path in COMMANDS:
        assert re.search(rf"\b{path[-1]}:", script), path
    assert "--config" in script and "_files" in script  # --config completes file names
