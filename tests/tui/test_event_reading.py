"""How an event reads: money by the one rule with its unit, in the inspector (readable,
and as stored one key, `r`, away), and an overdraft change in its account's currency."""

from __future__ import annotations

from tui_support import make_app, settle, wait_for

from domain.envelope import RecordedEvent
from domain.errors import DomainError
from tui.bootstrap import Workspace
from tui.services.event_context import EventReading
from tui.widgets.inspector import EventInspector


def _limit_change(workspace: Workspace) -> RecordedEvent:
    """Record an overdraft change on an account that accepts one; the event."""
    command = workspace.domain.model.command_model("set_overdraft_limit")
    for stream in workspace.store.streams():
        if not stream.stream_id.startswith("account-"):
            continue
        account = stream.stream_id.removeprefix("account-")
        try:
            result = workspace.bus.execute(
                command(account_id=account, limit="9876.50"), actor="tester"
            )
        except DomainError:
            continue
        return result.events[0]
    raise AssertionError("no account accepted a new overdraft limit")


def _currency(workspace: Workspace, event: RecordedEvent) -> str:
    opened = workspace.store.read_stream(event.stream_id, to_version=1)[0]
    return str(opened.data["currency"])


def test_an_overdraft_change_reads_in_its_account_s_currency(workspace: Workspace) -> None:
    event = _limit_change(workspace)
    assert "currency" not in event.data
    currency = _currency(workspace, event)
    reading = EventReading(workspace.timeline, workspace.domain)
    summary = reading.summary(event)
    assert summary.endswith(f"→ 9,876.50 {currency}") or currency == "JPY", summary
    assert "minor units" not in summary
    readable = reading.readable_payload(event)
    assert readable["new_limit"].endswith(f" {currency}")
    # The domain alone, without the stream's context, says what it knows: minor units.
    assert "minor units" in workspace.domain.summary(event)


async def test_the_inspector_shows_readable_money_and_r_the_stored_json(
    workspace: Workspace,
) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await settle(pilot)
        head = workspace.store.head().position
        event = next(
            e
            for e in reversed(workspace.store.read_all(after=head - 50, to=head))
            if isinstance(e.data.get("amount"), int)
        )
        screen.go(event.position)
        inspector = screen.query_one(EventInspector)
        await wait_for(pilot, lambda: inspector.event is not None and inspector.settled)
        await wait_for(
            pilot, lambda: inspector.event.position == event.position and inspector.settled
        )

        def text() -> str:
            return "\n".join(strip.text for strip in inspector._strips)

        currency = str(event.data["currency"])
        stored = f'"amount": {event.data["amount"]},'
        await wait_for(pilot, lambda: f' {currency}",' in text())
        assert stored not in text() and "r: as stored" in text()
        await pilot.press("r")
        await wait_for(pilot, lambda: stored in text(), what="the payload as stored")
        assert "r: readable" in text()
        await pilot.press("r")
        await wait_for(pilot, lambda: stored not in text(), what="readable again")
