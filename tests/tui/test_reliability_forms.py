"""Bad input in the command form (BRIEF §7, §10): an inline message, nothing recorded.

Part of the bad-input suite (tests/integration/test_reliability_bad_input.py holds the
CLI, import and database cases). One app session tries every case in turn: the form
must show the message inline (under the field, or under the form for what only the
rules or the account's currency can tell), stay open, and leave the head hash, read
with plain sqlite3, as it was.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, Select, Static
from tui_support import make_app, settle, wait_for

from tui.bootstrap import Workspace, app_session
from tui.screens.command_form import CommandFormScreen

SIZE = (120, 36)


def plain_head(db: Path) -> tuple[int, str]:
    """(position, hash) of the last event, read with plain sqlite3."""
    with closing(sqlite3.connect(db)) as conn:
        row = conn.execute("SELECT position, hash FROM events ORDER BY position DESC LIMIT 1")
        found = row.fetchone()
    return (found[0], found[1]) if found else (0, "")


def open_accounts(workspace: Workspace) -> dict[str, str]:
    """An open account id per currency of the demo history."""
    frame = app_session(workspace).frames.frame_at(workspace.store.head().position)
    found: dict[str, str] = {}
    for key, row in sorted(frame.rows["account_balances"].items()):
        if row.get("status") == "open":
            found.setdefault(row["currency"], key)
    return found


def cases(accounts: dict[str, str]) -> list[tuple[str, str, dict[str, str], str, str]]:
    """(name, command, fields, where the message shows, what it says)."""
    eur, jpy = accounts["EUR"], accounts["JPY"]
    return [
        (
            "too many decimals",
            "deposit",
            {"account_id": eur, "amount": "1.234"},
            "form",
            "decimals",
        ),
        ("decimals in JPY", "withdraw", {"account_id": jpy, "amount": "1.5"}, "form", "whole"),
        ("a comma", "deposit", {"account_id": eur, "amount": "12,50"}, "amount", "not a decimal"),
        ("no target", "transfer", {"from_account": eur, "amount": "1"}, "to_account", "required"),
        (
            "unknown account",
            "deposit",
            {"account_id": "nobody-9", "amount": "1"},
            "form",
            "not exist",
        ),
        (
            "to itself",
            "transfer",
            {"from_account": eur, "to_account": eur, "amount": "1"},
            "form",
            "to itself",
        ),
    ]


async def open_form(pilot: Pilot[None], command: str) -> CommandFormScreen:
    """Press `c`, choose `command`, and wait for its fields."""
    await pilot.press("c")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CommandFormScreen))
    form = pilot.app.screen
    assert isinstance(form, CommandFormScreen)
    form.query_one("#command-type", Select).value = command
    await wait_for(pilot, lambda: form.fields_of == command)
    fields = {f"input-{name}" for name in form.command.model_fields}
    await wait_for(
        pilot, lambda: {w.id for w in form.query("#fields Input, #fields Select")} == fields
    )
    return form


def shown(form: CommandFormScreen, where: str) -> str:
    target = "#form-error" if where == "form" else f"#error-{where}"
    return str(form.query_one(target, Static).render())


async def try_cases(
    workspace: Workspace, db: Path, tried: list[tuple[str, str, dict[str, str], str, str]]
) -> None:
    """Each case in one app session: the message inline, the form open, the head as it was."""
    before = plain_head(db)
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for name, command, fields, where, message in tried:
            form = await open_form(pilot, command)
            for field, value in fields.items():
                form.query_one(f"#input-{field}", Input).value = value
            await pilot.pause()
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda f=form, w=where, m=message: m in shown(f, w), what=name)
            assert isinstance(app.screen, CommandFormScreen), name  # the form stays open
            assert plain_head(db) == before, name
            await pilot.press("escape")
            await settle(pilot)
    assert plain_head(db) == before


async def test_bad_input_in_the_form_is_explained_inline_and_changes_nothing(
    workspace: Workspace, demo_db: Path
) -> None:
    await try_cases(workspace, demo_db, cases(open_accounts(workspace)))


async def test_markup_typed_into_a_field_is_shown_not_interpreted(
    workspace: Workspace, demo_db: Path
) -> None:
    """`[/b]` in a field must be echoed in the error, not parsed as Rich markup (which
    raised MarkupError and closed the app: the form's errors are not escaped)."""
    eur = open_accounts(workspace)["EUR"]
    fields = {"account_id": eur, "amount": "[/b]5"}
    await try_cases(workspace, demo_db, [("markup", "deposit", fields, "amount", "[/b]5")])
