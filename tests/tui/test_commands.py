"""The command form: success, refusal, validation, the past, read-only."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Select, Static
from tui_support import make_app, open_test_workspace, settle, wait_for

from tui.bootstrap import Workspace, app_session
from tui.screens.command_form import CommandFormScreen
from tui.screens.confirm import ConfirmScreen

SIZE = (120, 36)


def _open_account(workspace: Workspace) -> str:
    """An open account of the demo history whose currency has cents."""
    frame = app_session(workspace).frames.frame_at(workspace.store.head().position)
    for key, row in frame.rows["account_balances"].items():
        if row.get("status") == "open" and row.get("currency") != "JPY":
            return key
    raise AssertionError("the demo has no open account with cents")


async def _open_form(pilot, command: str) -> CommandFormScreen:  # type: ignore[no-untyped-def]
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


async def _fill(pilot, form: CommandFormScreen, **values: str) -> None:  # type: ignore[no-untyped-def]
    """Type into the form's fields, as a person would before pressing ctrl+s."""
    for name, value in values.items():
        form.query_one(f"#input-{name}", Input).value = value
    await pilot.pause()


async def test_a_deposit_is_recorded_and_the_panels_catch_up(workspace: Workspace) -> None:
    account = _open_account(workspace)
    head = workspace.store.head().position
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = await _open_form(pilot, "deposit")
        await _fill(pilot, form, account_id=account, amount="12.34", reference="test deposit")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, CommandFormScreen))
        screen = await settle(pilot)
        assert workspace.store.head().position == head + 1
        assert screen.live and screen.frame is not None and screen.frame.position == head + 1
        assert screen.live_watch.awaiting is None  # the read side reached the command's position
        event = screen.frame.event
        assert event is not None and event.type == "MoneyDeposited"
        assert event.actor == "tester" and event.data["reference"] == "test deposit"
        assert account in screen.frame.changes_for("account_balances").changed


async def test_a_refusal_is_shown_in_the_form_and_nothing_is_appended(
    workspace: Workspace,
) -> None:
    account = _open_account(workspace)
    head = workspace.store.head().position
    refusals = len(workspace.store.refusals())
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = await _open_form(pilot, "withdraw")
        await _fill(pilot, form, account_id=account, amount="99999999.00")
        await pilot.press("ctrl+s")
        error = form.query_one("#form-error", Static)
        await wait_for(pilot, lambda: "Refused" in str(error.render()))
        assert "No event was recorded" in str(error.render())
        assert "the refusal was logged" in str(error.render())
        assert isinstance(app.screen, CommandFormScreen)
        assert workspace.store.head().position == head
        assert len(workspace.store.refusals()) == refusals + 1
        await pilot.press("escape")
        screen = await settle(pilot)
        # The refusals panel of the live frame lists the new refusal.
        rows = screen.frame.rows["__refusals__"]  # type: ignore[union-attr]
        assert any(
            r["actor"] == "tester" and r["command_type"] == "withdraw" for r in rows.values()
        )


async def test_invalid_fields_are_explained_inline_and_nothing_runs(workspace: Workspace) -> None:
    head = workspace.store.head().position
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = await _open_form(pilot, "deposit")
        await _fill(pilot, form, account_id="Not An Id", amount="-5")
        await pilot.pause()
        account_error = form.query_one("#error-account_id", Static)
        assert "is not an account id" in str(account_error.render())
        assert "must be" in str(form.query_one("#error-amount", Static).render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Fix the fields" in str(form.query_one("#form-error", Static).render())
        assert isinstance(app.screen, CommandFormScreen)
        assert workspace.store.head().position == head


async def test_a_field_focused_while_the_command_switches_keeps_the_focus(
    workspace: Workspace,
) -> None:
    """The new command's fields are live before the switch's handler resumes: typing
    into one (or running the form) in that window must not lose the focus to the first
    field when the handler ends. This is what made the form's error snapshots flaky."""
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandFormScreen))
        form = app.screen
        assert isinstance(form, CommandFormScreen)
        scroll = form.query_one("#fields")
        mount_compose = scroll.mount_compose
        held: list[bool] = []
        switched: list[bool] = []

        async def mount_then_wait(*args: Any, **kwargs: Any) -> None:
            # Hold the handler between the mount and what follows it, as a busy
            # machine may, so the test acts in that window every time.
            await mount_compose(*args, **kwargs)
            held.append(True)
            await asyncio.sleep(1.0)
            switched.append(True)

        scroll.mount_compose = mount_then_wait  # type: ignore[method-assign]
        target = "withdraw" if form.command.type_name == "deposit" else "deposit"
        form.query_one("#command-type", Select).value = target
        while not held:  # not pilot.pause: it would wait for the handler to end
            await asyncio.sleep(0.01)
        assert not switched
        amount = form.query_one("#input-amount", Input)
        amount.focus()
        amount.value = "-5"
        for _ in range(500):  # focus is set through the app's queue, not held
            if amount.has_focus:
                break
            await asyncio.sleep(0.01)
        assert amount.has_focus and not switched
        await form.action_submit()  # ctrl+s, as the app runs it while the handler is held
        await wait_for(pilot, lambda: form.fields_of == target, what="the switch to end")
        await pilot.pause()
        assert switched and amount.has_focus


async def test_after_a_run_the_form_says_to_fix_the_fields_while_any_is_invalid(
    workspace: Workspace,
) -> None:
    """A change that reaches the form after ctrl+s (typed just before it) leaves the
    line in place while a field is still invalid; a valid form clears it."""
    account = _open_account(workspace)
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = await _open_form(pilot, "deposit")
        await _fill(pilot, form, account_id=account, amount="-5")
        await pilot.press("ctrl+s")
        await pilot.pause()
        line = form.query_one("#form-error", Static)
        assert "Fix the fields" in str(line.render())
        await _fill(pilot, form, amount="-6")
        assert "Fix the fields" in str(line.render())
        await _fill(pilot, form, amount="5")
        assert str(line.render()) == ""


async def test_a_required_field_left_empty_is_named(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = await _open_form(pilot, "freeze_account")
        await _fill(pilot, form, account_id="abc")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "required" in str(form.query_one("#error-reason", Static).render())


async def test_a_command_in_the_past_asks_to_return_to_live(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("home")
        await settle(pilot)
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("enter")  # "Return to live" has the focus
        await wait_for(pilot, lambda: isinstance(app.screen, CommandFormScreen))
        assert app.main.live
        await pilot.press("escape")
        await pilot.press("home")
        await settle(pilot)
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("escape")
        screen = await settle(pilot)
        assert not screen.live and screen.target == 0


async def test_read_only_disables_commands(demo_db: Path) -> None:
    workspace = open_test_workspace(demo_db, read_only=True)
    try:
        app = make_app(workspace)
        async with app.run_test(size=SIZE) as pilot:
            screen = await settle(pilot)
            await pilot.press("c")
            await pilot.pause()
            assert app.screen is screen
            assert screen.check_action("command", ()) is False  # not offered: c says why
            assert screen.query_one("StatusBar").view.read_only  # type: ignore[attr-defined]
    finally:
        workspace.close()


async def test_the_form_validates_the_fields_once_and_runs_that_command(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = _open_account(workspace)
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = await _open_form(pilot, "deposit")
        await _fill(pilot, form, account_id=account, amount="1.00", reference="once")
        model = form.command
        seen: list[object] = []
        validate = model.model_validate

        def counted(obj: object, *args: object, **kwargs: object) -> object:
            seen.append(obj)
            return validate(obj, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(model, "model_validate", counted)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, CommandFormScreen))
        assert len(seen) == 1  # the submit's validation; the bus gets the command itself
