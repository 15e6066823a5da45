"""The CLI parser builds only the command the arguments run (start-up, issue 14), and
parses every command line exactly as the full parser does."""

from __future__ import annotations

import argparse
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.cli.parser import CliUsageError, build_parser, parse_arguments


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(action.choices)


ALL_COMMANDS = _commands(build_parser())


def test_exec_builds_only_exec() -> None:
    argv = ["--db", "x.db", "--actor", "ann", "exec", "deposit", "account_id=a1", "amount=1"]
    assert _commands(build_parser(argv)) == {"exec"}


def test_help_and_unclear_command_lines_build_every_command() -> None:
    for argv in (
        ["--help"],
        ["exec", "-h"],
        ["--act", "ann", "exec"],  # an abbreviation: argparse's business
        ["--db", "x.db"],  # no command: the app
        ["--read-only=yes", "exec"],
        [],
    ):
        assert _commands(build_parser(argv)) == ALL_COMMANDS, argv


def test_an_option_value_is_not_taken_for_the_command() -> None:
    assert _commands(build_parser(["--actor", "log", "exec", "deposit"])) == {"exec"}
    assert _commands(build_parser(["--actor=log", "exec", "deposit"])) == {"exec"}


def test_usage_is_wrapped_to_the_terminal_width(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building uses a formatter of a fixed width; what is printed, the terminal's."""
    lines = {}
    for columns in (50, 200):
        monkeypatch.setenv("COLUMNS", str(columns))
        lines[columns] = build_parser(["exec", "deposit"]).format_usage().splitlines()
    assert len(lines[50]) > len(lines[200])
    assert max(len(line) for line in lines[50]) < 60 < max(len(line) for line in lines[200])


def _parsed(parse: Any, argv: list[str]) -> dict[str, Any] | str:
    """What a parse gives, comparable across parsers: the namespace with the handler by
    name, or the usage error's text."""
    try:
        values = dict(vars(parse(argv)))
    except CliUsageError as exc:
        return str(exc)
    values["handler"] = values["handler"].__qualname__
    return values


WORDS = st.sampled_from(
    [
        *sorted(ALL_COMMANDS),
        "deposit",
        "a=1",
        "x.db",
        "--db",
        "--db=x.db",
        "--actor",
        "--act",
        "--read-only",
        "--read-only=1",
        "--busy-timeout",
        "--busy-timeout=9",
        "--synchronous",
        "normal",
        "--json",
        "--stream",
        "--at",
        "12",
        "--",
        "-",
        "",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(WORDS, max_size=7))
def test_the_one_command_parser_parses_as_the_full_parser(argv: list[str]) -> None:
    assert _parsed(parse_arguments, argv) == _parsed(build_parser().parse_args, argv)
