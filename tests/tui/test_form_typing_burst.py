"""Keys typed faster than the app handles them (a fast typist on a busy app, a
terminal delivering a burst) land where they would land typed slowly: after `enter` or
`tab`, in the next field; and `ctrl+s` runs the command with every key typed before it."""

from __future__ import annotations

import asyncio
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_command_form_flow import _form
from textual import events
from textual.app import App
from textual.widgets import Input
from tui_support import make_app, open_test_workspace, settle, wait_for

SIZE = (120, 36)
ACCOUNT = "burst-1"
NAMES = ("account_id", "amount", "reference")


def burst(app: App[object], keys: list[str]) -> None:
    """Queue every key at once, as a terminal delivers a burst: none is handled before
    the last is queued."""
    for key in keys:
        app.post_message(events.Key(key, key if len(key) == 1 else None))


async def _fill(db: Path, keys: list[str], start: str) -> tuple[str, str, str, int]:
    """Open the withdraw form (account id, amount, reference: all inputs) with the
    account id filled in, empty `start` and focus it, then type `keys` in one burst;
    (account, amount, reference) as the form holds them and how many events the run
    appended (ctrl+s runs it)."""
    workspace = open_test_workspace(db)
    try:
        head = workspace.store.head().position
        app = make_app(workspace, verify=False)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            form = await _form(pilot, "withdraw")
            fields = {n: form.query_one(f"#input-{n}", Input) for n in NAMES}
            fields["account_id"].value = ACCOUNT
            fields[start].value = ""
            fields[start].focus()
            await wait_for(pilot, lambda: fields[start].has_focus, what="the focus")
            burst(app, keys)
            if keys[-1] == "ctrl+s":
                await wait_for(pilot, lambda: app.screen is not form, what="the run")
            else:
                typed = sum(len(f.value) for f in fields.values()) + sum(len(k) == 1 for k in keys)
                await wait_for(pilot, lambda: sum(len(f.value) for f in fields.values()) == typed,
                               what="every key typed")  # fmt: skip
            values = tuple(fields[n].value for n in NAMES)
        return (*values, workspace.store.head().position - head)
    finally:
        workspace.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, demo_template: Path) -> Path:
    path = tmp_path_factory.mktemp("burst") / "demo.db"
    shutil.copyfile(demo_template, path)
    workspace = open_test_workspace(path, ids="setup")
    try:
        fields = {"account_id": ACCOUNT, "owner": "Burst", "currency": "EUR"}
        workspace.bus.execute_fields("open_account", fields, actor="ann")
        fields = {"account_id": ACCOUNT, "amount": "10000.00"}
        workspace.bus.execute_fields("deposit", fields, actor="ann")
    finally:
        workspace.close()
    return path


def test_a_burst_of_keys_lands_in_the_fields_in_order(template: Path, tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    shutil.copyfile(template, db)
    keys = [*ACCOUNT, "enter", *"12.50", "tab", *"rents"]
    assert asyncio.run(_fill(db, keys, "account_id")) == (ACCOUNT, "12.50", "rents", 0)


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(amount=st.from_regex(r"[1-9][0-9]{0,3}\.[0-9]{2}", fullmatch=True))
def test_ctrl_s_runs_with_every_key_typed_before_it(
    amount: str, template: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    db = tmp_path_factory.mktemp("run") / "app.db"
    shutil.copyfile(template, db)
    keys = [*ACCOUNT, "enter", *amount, "tab", *"rent", "ctrl+s"]
    assert asyncio.run(_fill(db, keys, "account_id")) == (ACCOUNT, amount, "rent", 1)
    workspace = open_test_workspace(db)
    try:
        event = workspace.store.read_all(after=workspace.store.head().position - 1)[-1]
    finally:
        workspace.close()
    assert (event.type, event.data["reference"]) == ("MoneyWithdrawn", "rent")
    assert event.data["account_id"] == ACCOUNT
    assert event.data["amount"] == int(Decimal(amount) * 100)


def test_ctrl_s_right_after_the_amount_runs_with_the_whole_amount(
    template: Path, tmp_path: Path
) -> None:
    db = tmp_path / "app.db"
    shutil.copyfile(template, db)
    result = asyncio.run(_fill(db, [*"1234.56", "ctrl+s"], "amount"))
    assert result == (ACCOUNT, "1234.56", "", 1)
