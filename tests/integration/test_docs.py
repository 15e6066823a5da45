"""The README tells the truth: two commands first, every CLI command, flag and key documented."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from tui.cli.parser import build_parser

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _first_code_block() -> list[str]:
    match = re.search(r"```\w*\n(.*?)```", README, re.S)
    assert match, "README has no code block"
    return [line for line in match.group(1).splitlines() if line.strip()]


def test_readme_starts_with_exactly_two_commands() -> None:
    before = README[: README.index("```")]
    assert before.strip().startswith("# eventscope") and before.count("\n") <= 3
    lines = _first_code_block()
    assert len(lines) == 2
    assert "eventscope demo" in lines[0]
    assert "pytest" in lines[1]


def test_ci_runs_the_readme_test_command() -> None:
    test_command = _first_code_block()[1].split("#")[0].split("&&")[-1].strip()
    ci = (ROOT / ".ci" / "run").read_text()
    assert f".venv/bin/{test_command}" in ci


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("command", sorted(_subparsers()))
def test_every_command_is_in_the_readme_with_an_example(command: str) -> None:
    assert re.search(rf"eventscope [^\n]*\b{command}\b", README), command


@pytest.mark.parametrize(
    "option",
    sorted(
        {
            option
            for sub in _subparsers().values()
            for action in sub._actions
            for option in action.option_strings
            if option.startswith("--") and option != "--help"
        }
    ),
)
def test_every_flag_is_in_the_readme(option: str) -> None:
    assert option in README, option


def test_every_key_of_the_main_screen_is_in_the_readme() -> None:
    from tui.app import EventscopeApp
    from tui.screens.help import key_text
    from tui.screens.main import MainScreen

    bindings = [*MainScreen.BINDINGS, *EventscopeApp.BINDINGS]
    for binding in bindings:
        key = binding.key if hasattr(binding, "key") else binding[0]  # type: ignore[index]
        if key.isdigit():
            continue  # the panel digits are documented as one row
        for shown in key_text(key).split():
            assert f"`{shown}`" in README, f"key {shown} ({key}) is not in the README"
