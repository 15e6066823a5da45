"""The command form as a person fills it: Enter moves on, the last command and the
selected row prefill it, a refusal says nothing was recorded (both domains, and the
example plug-in's rows)."""

from __future__ import annotations

import sys
from pathlib import Path

from textual.widgets import Input, Select, Static
from tui_support import make_app, settle, wait_for

from tui.bootstrap import Workspace
from tui.controllers.commands import identity_fields
from tui.screens.command_form import CommandFormScreen
from tui.widgets.projection_panels import ProjectionPanels

SIZE = (120, 36)
ROOT = Path(__file__).resolve().parents[2]


async def _form(pilot, command: str | None = None) -> CommandFormScreen:  # type: ignore[no-untyped-def]
    await pilot.press("c")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CommandFormScreen))
    form = pilot.app.screen
    assert isinstance(form, CommandFormScreen)
    if command is not None and form.command.type_name != command:
        form.query_one("#command-type", Select).value = command
        await wait_for(pilot, lambda: form.fields_of == command)
    fields = {f"input-{name}" for name in form.command.model_fields}
    await wait_for(
        pilot, lambda: {w.id for w in form.query("#fields Input, #fields Select")} == fields
    )
    return form


async def test_enter_moves_to_the_next_field_and_never_submits_half_a_form(
    workspace: Workspace,
) -> None:
    head = workspace.store.head().position
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = await _form(pilot, "withdraw")  # account id, amount, reference: all inputs
        account = form.query_one("#input-account_id", Input)
        account.focus()
        await pilot.press("enter")
        assert form.query_one("#input-amount", Input).has_focus
        assert app.screen is form and not form._submitted
        await pilot.press("enter")
        assert form.query_one("#input-reference", Input).has_focus
        # Enter on the last field runs: the empty amount is refused by validation, beside it.
        await pilot.press("enter")
        error = form.query_one("#error-amount", Static)
        await wait_for(pilot, lambda: "✗" in str(error.render()))
        assert app.screen is form
        assert workspace.store.head().position == head
        # The error sits right under its input, before the field's help.
        column = list(form.query_one("#field-amount").query("Input, Static"))
        assert column.index(error) == column.index(form.query_one("#input-amount")) + 1


async def test_a_refused_run_lands_on_the_first_field_to_fix_with_its_footer_keys(
    workspace: Workspace,
) -> None:
    """At 80x24 the form scrolls: ctrl+s with a bad amount focuses the amount (its error
    under it, in view), and the footer shows the form's own keys."""
    from textual.widgets import Footer

    app = make_app(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        form = await _form(pilot, "deposit")
        account = form.query_one("#input-account_id", Input)
        account.focus()
        form.query_one("#input-amount", Input).value = "-5"
        # As when typed: the focus and the amount's Changed message land before ctrl+s.
        await wait_for(pilot, lambda: account.has_focus, what="the account to take the focus")
        await pilot.pause()
        await pilot.press("ctrl+s")
        amount = form.query_one("#input-amount", Input)
        await wait_for(pilot, lambda: amount.has_focus, what="the amount to take the focus")
        error = form.query_one("#error-amount", Static)
        await wait_for(pilot, lambda: "✗" in str(error.render()))
        scroll = form.query_one("#fields")
        await wait_for(pilot, lambda: scroll.region.contains_region(amount.region))
        keys = {b.binding.description for b in form.active_bindings.values()}
        assert {"Run", "Cancel"} <= keys
        assert form.query(Footer), "the form has its own footer"


async def test_the_form_opens_on_the_last_command_prefilled_from_the_selected_row(
    domain_workspace: Workspace,
) -> None:
    app = make_app(domain_workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        table = screen.query_one(ProjectionPanels).active_table
        assert table is not None and screen.frame is not None
        table.focus()
        await pilot.press("down", "down")
        key = table.selected_key
        assert key is not None
        row = screen.frame.rows[table.projection][key]
        identity = identity_fields(table.columns, key, row)
        assert identity  # the first panel's rows are named by their columns (account, sku)
        # A command with a field of that name starts with the row's value.
        command = next(c for c in screen.session.commands if set(identity) & set(c.model_fields))
        form = await _form(pilot, command.type_name)
        for name in set(identity) & set(command.model_fields):
            assert form.query_one(f"#input-{name}", Input).value == identity[name]
        await pilot.press("escape")
        await settle(pilot)
        # Opened again: the command chosen last, prefilled from the row now selected.
        table.focus()
        await pilot.press("down")
        key = table.selected_key
        assert key is not None
        identity = identity_fields(table.columns, key, screen.frame.rows[table.projection][key])
        form = await _form(pilot)
        assert form.command.type_name == command.type_name
        for name in set(identity) & set(command.model_fields):
            assert form.query_one(f"#input-{name}", Input).value == identity[name]


def test_the_example_plugins_rows_prefill_by_their_own_columns() -> None:
    sys.path.insert(0, str(ROOT / "examples" / "todo_domain"))
    try:
        from todo_domain import TODO_DOMAIN
    finally:
        sys.path.remove(str(ROOT / "examples" / "todo_domain"))
    todos = TODO_DOMAIN.projections[0]
    row = {"todo_id": "milk", "text": "buy milk", "status": "open"}
    assert identity_fields(todos.columns, "milk", row) == {"todo_id": "milk"}
    complete = TODO_DOMAIN.model.command_model("complete_todo")
    assert "todo_id" in complete.model_fields
