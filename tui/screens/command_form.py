"""`c`: a form generated from the chosen command's pydantic model.

Fields come from `model_fields` (title from the name, help from the description,
placeholder from the examples, default prefilled), choices (`Literal`, `Enum`) become
selects. The form opens on the command used last, and fields named like the selected
row's key columns (its account, its sku) start with the row's values. Enter moves to
the next field; on the last field, or with ctrl+s anywhere, it runs the command. The
model itself validates, once: each pydantic error is shown right under its field as
you type (once the field was touched) and all of them on submit. A refusal by a
business rule is shown at the bottom: no event is appended, the refusal is logged.
"""

from __future__ import annotations

import asyncio
import enum
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.markup import escape
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Select, Static

from domain.envelope import AppendResult
from domain.errors import DomainError, InvalidInput, RuleRefused
from domain.messages import Command, field_errors
from tui.format import markup_safe
from tui.session import Session

FIX_FIELDS = "Fix the fields marked ✗, then run again."
"""The form's line when it was run with invalid fields."""


def field_choices(info: FieldInfo) -> list[str] | None:
    """The allowed values of a choice field (Literal or Enum), else None."""
    annotation = info.annotation
    if typing.get_origin(annotation) is typing.Literal:
        return [str(v) for v in typing.get_args(annotation)]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [str(m.value) for m in annotation]
    return None


def field_label(name: str) -> str:
    """`from_account` -> `From account`."""
    return name.replace("_", " ").capitalize()


class CommandFormScreen(ModalScreen[AppendResult | None]):
    """Pick a command, fill its fields, run it through the bus in a worker."""

    # The keys that move between fields act at once, before the app hands on the keys
    # typed after them (`priority`): typed faster than the app handles them, those keys
    # land in the next field, as typed slowly. Running waits for the keys before it.
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "Run", priority=True),
        Binding("enter", "next_field", "Next field (runs on the last)", show=False,
                priority=True),
        Binding("tab", "move_focus(1)", "Next field", show=False, priority=True),
        Binding("shift+tab", "move_focus(-1)", "Previous field", show=False, priority=True),
    ]  # fmt: skip

    class Finished(Message):
        def __init__(self, result: AppendResult | None, error: str = "", refused: bool = False):
            super().__init__()
            self.result = result
            self.error = error
            self.refused = refused

    def __init__(
        self,
        session: Session,
        command: str | None = None,
        prefill: Mapping[str, str] | None = None,
    ) -> None:
        """Open on `command` (the first one by default); fields named in `prefill` start
        with its values (the selected row's account or sku), whichever command is chosen."""
        super().__init__()
        self.session = session
        self.prefill = dict(prefill or {})
        commands = list(session.commands)
        self.command: type[Command] = (
            session.domain.model.command_model(command) if command else commands[0]
        )
        self.fields_of = self.command.type_name
        """The command whose fields are mounted: after a switch, `command` changes at once
        and this once the new fields are in place and focused."""
        self._touched: set[str] = set()
        self._submitted = False
        self._executing = False

    # -- layout

    def compose(self) -> ComposeResult:
        blink = bool(getattr(self.app, "cursor_blink", True))
        with Vertical(id="command-form", classes="sheet"):
            with Horizontal(classes="form-head"):
                yield Label("Run a command", classes="dialog-title")
                yield Static(f"as [b]{markup_safe(self.session.actor)}[/b]", classes="form-actor")
            yield Select(
                [(c.title or c.type_name, c.type_name) for c in self.session.commands],
                value=self.command.type_name,
                allow_blank=False,
                id="command-type",
                compact=True,
            )
            yield Static(self.command.__doc__ or "", id="command-doc", classes="dialog-help")
            with VerticalScroll(id="fields", can_focus=False):
                yield from self._field_widgets(blink)
            yield Static("", id="form-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Run", id="run", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        # The form's own keys (ctrl+s Run, esc Cancel), not the main screen's behind it.
        yield Footer()

    def _field_widgets(self, blink: bool) -> ComposeResult:
        for name, info in self.command.model_fields.items():
            required = info.is_required()
            with Horizontal(classes="field", id=f"field-{name}"):
                with Vertical(classes="field-label"):
                    yield Label(field_label(name) + (" *" if required else ""))
                with Vertical(classes="field-input"):
                    choices = field_choices(info)
                    default = None if info.default is PydanticUndefined else info.default
                    if choices is not None:
                        options = [(c, c) for c in choices]
                        yield Select(
                            options,
                            value=str(default) if default is not None else Select.NULL,
                            allow_blank=not required or default is None,
                            prompt="choose…",
                            id=f"input-{name}",
                            compact=True,
                        )
                    else:
                        placeholder = str(info.examples[0]) if info.examples else ""
                        start = self.prefill.get(name, default)
                        widget = Input(
                            value="" if start in (None, "") else str(start),
                            placeholder=placeholder,
                            id=f"input-{name}",
                            compact=True,
                        )
                        widget.cursor_blink = blink
                        yield widget
                    # The error sits right under its input, above the field's help.
                    yield Static("", id=f"error-{name}", classes="field-error")
                    yield Static(info.description or "", classes="field-help")

    def on_mount(self) -> None:
        self._focus_first()

    def _focus_first(self) -> None:
        fields = self.query("#fields Input, #fields Select")
        if fields:
            fields.first().focus()

    # -- switching commands

    @on(Select.Changed, "#command-type")
    async def _command_changed(self, event: Select.Changed) -> None:
        if event.value is Select.NULL or event.value == self.command.type_name:
            return
        self.command = self.session.domain.model.command_model(str(event.value))
        self._touched.clear()
        self._submitted = False
        self.query_one("#command-doc", Static).update(escape(self.command.__doc__ or ""))
        self.query_one("#form-error", Static).update("")
        scroll = self.query_one("#fields", VerticalScroll)
        await scroll.remove_children()
        blink = bool(getattr(self.app, "cursor_blink", True))
        await scroll.mount_compose(self._field_widgets(blink))
        # The new fields are live before this handler resumes: a field focused (or run)
        # meanwhile keeps the focus rather than lose it to the first field.
        if self.focused is None or self.focused not in scroll.query("Input, Select"):
            self._focus_first()
        self.fields_of = self.command.type_name

    # -- values and validation

    def values(self) -> dict[str, Any]:
        """The fields as typed; empty ones are left out (defaults apply, or "required")."""
        values: dict[str, Any] = {}
        for name in self.command.model_fields:
            widget = self.query_one(f"#input-{name}")
            if isinstance(widget, Select):
                value = widget.value
                if value is Select.NULL:
                    continue
                values[name] = value
            elif isinstance(widget, Input):
                text = widget.value
                if text.strip() == "":
                    continue
                values[name] = text
        return values

    def validate_form(self, *, show_all: bool) -> Command | None:
        """Validate with the command's model; show errors (touched fields only, unless all).

        Returns the command when every field is valid: that command is what runs, so
        the fields are validated here once and not parsed again on the way to the bus.
        """
        errors: dict[str, str] = {}
        command: Command | None = None
        try:
            command = self.command.model_validate(self.values())
        except ValidationError as exc:
            errors = field_errors(exc)
        for name in self.command.model_fields:
            message = errors.get(name, "")
            if not show_all and name not in self._touched:
                message = ""
            error = self.query_one(f"#error-{name}", Static)
            # Messages quote what was typed: shown as text, never read as markup.
            error.update(f"✗ {markup_safe(message)}" if message else "")
            error.set_class(bool(message), "-shown")
            self.query_one(f"#field-{name}").set_class(bool(message), "-invalid")
        general = errors.get("", "")
        if show_all and general:
            self.query_one("#form-error", Static).update(markup_safe(general))
        return command

    @on(Input.Changed)
    @on(Select.Changed)
    def _field_changed(self, event: Input.Changed | Select.Changed) -> None:
        widget_id = event.control.id or ""
        if not widget_id.startswith("input-"):
            return
        self._touched.add(widget_id.removeprefix("input-"))
        command = self.validate_form(show_all=self._submitted)
        # An earlier outcome (a refusal, an error) no longer holds; after a run, an
        # invalid form still says so (a change typed just before ctrl+s arrives after it).
        invalid = self._submitted and command is None
        self.query_one("#form-error", Static).update(FIX_FIELDS if invalid else "")

    async def action_next_field(self) -> None:
        """Enter in a field moves to the next; on the last field it runs the command
        (ctrl+s runs it from anywhere). Elsewhere (a select, a button) it does what it
        does there."""
        fields = list(self.query("#fields Input, #fields Select"))
        focused = self.focused
        if not isinstance(focused, Input) or focused not in fields:
            raise SkipAction()
        if focused is fields[-1]:
            await self.action_submit()
        else:
            self.set_focus(fields[fields.index(focused) + 1])  # now, not after a refresh

    def action_move_focus(self, step: int) -> None:
        """Tab / shift+tab: the next / previous control, now."""
        if step > 0:
            self.focus_next()
        else:
            self.focus_previous()

    async def _keys_handled(self) -> None:
        """Until every field has handled the keys already handed to it."""
        handled: list[asyncio.Future[None]] = []
        for widget in self.query("#fields Input"):
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            widget.call_later(done.set_result, None)
            handled.append(done)
        if handled:
            await asyncio.wait(handled, timeout=5)

    # -- running

    @on(Button.Pressed, "#run")
    async def action_submit(self) -> None:
        """Validate every field as typed so far, then run the command through the bus."""
        if self._executing:
            return
        await self._keys_handled()
        if self._executing:
            return
        self._submitted = True
        command = self.validate_form(show_all=True)
        if command is None:
            self.query_one("#form-error", Static).update(FIX_FIELDS)
            # Land on the first field to fix: its error is right under it, scrolled into view.
            for field in self.query(".field.-invalid"):
                inputs = field.query("Input, Select")
                if inputs:
                    inputs.first().focus()
                    break
            return
        self._executing = True
        self.query_one("#run", Button).disabled = True
        self.query_one("#form-error", Static).update("[dim]running…[/dim]")
        self._run(command)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _run(self, command: Command) -> None:
        session = self.session
        try:
            # The validated command itself goes to the bus (not its fields, parsed again).
            result = session.workspace.bus.execute(command, actor=session.actor)
        except RuleRefused as exc:
            self.post_message(self.Finished(None, str(exc), refused=True))
            return
        except (InvalidInput, DomainError) as exc:
            self.post_message(self.Finished(None, str(exc)))
            return
        except Exception as exc:  # the store failed: say so, keep the form
            self.post_message(self.Finished(None, f"could not run the command: {exc}"))
            return
        self.post_message(self.Finished(result))

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        self._executing = False
        self.query_one("#run", Button).disabled = False
        if message.result is not None:
            self.dismiss(message.result)
            return
        error = self.query_one("#form-error", Static)
        if message.refused:
            error.update(
                f"[b]Refused:[/b] {markup_safe(message.error)}\n"
                "[dim]No event was recorded; the refusal was logged (see the Refusals panel).[/dim]"
            )
        else:
            error.update(escape(message.error))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without running anything."""
        self.dismiss(None)
