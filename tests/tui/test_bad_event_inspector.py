"""A stored event that no longer validates never breaks the app (issue 9 §2, item 6).

The database holds an imported history (import record 1), then one event appended
with a valid hash chain but a metadata actor that is a JSON list and an amount that
is text. The app opens, the inspector flags the bad fields, shows which import
brought the earlier events in, and nothing raises.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import orjson
from textual.pilot import Pilot

from domain.decider import InMemoryDecider, event_metadata
from domain.envelope import PendingEvent
from domain.ledger.description import LEDGER_DOMAIN
from store.hashchain import GENESIS_HASH, ChainExtender, event_from_row
from store.transfer.importer import import_history
from tests.tui.tui_support import main_screen, make_app, open_test_workspace, wait_for
from tui.bootstrap import open_workspace
from tui.widgets.inspector import EventInspector

SIZE = (140, 44)


def _database(path: Path) -> None:
    decider = InMemoryDecider(LEDGER_DOMAIN.model, random.Random(3))
    decider.recorded_at = "2026-01-05T09:00:00.000000Z"
    model = LEDGER_DOMAIN.model
    decider.execute(
        "ann",
        model.parse_command(
            "open_account", {"account_id": "a1", "owner": "Ann", "currency": "EUR"}
        ),
    )
    decider.execute("ann", model.parse_command("deposit", {"account_id": "a1", "amount": "5"}))
    extender = ChainExtender(
        type("H", (), {"position": 0, "hash": GENESIS_HASH})(),  # type: ignore[arg-type]
        "",
        None,
        stream_version=lambda _: 0,
    )
    lines = [
        orjson.dumps(event_from_row(extender.pending(e)).to_json_dict())
        for e in decider.out
        if isinstance(e, PendingEvent)
    ]
    created = open_workspace(path, create=True, domain="ledger", synchronous="OFF")
    store = created.store
    try:
        import_history(
            store, io.BytesIO(b"\n".join(lines) + b"\n"), domain=LEDGER_DOMAIN, actor="ann"
        )
        bad = PendingEvent(
            event_id="bad-1",
            stream_id="account-a1",
            stream_type="account",
            version=3,
            type="MoneyDeposited",
            data={"account_id": "a1", "amount": "lots", "currency": "EUR", "reference": ""},
            metadata={**event_metadata("x", "c-bad", "deposit", "", ""), "actor": ["a", "b"]},
            recorded_at="2026-01-05T09:00:01.000000Z",
            schema_version=2,
        )
        store.append_bulk([bad])
    finally:
        created.close()


async def _inspect(pilot: Pilot[None], position: int) -> str:
    """Jump to `position`; the inspector's text once it shows that event, settled."""
    screen = main_screen(pilot)
    screen.action_jump(position)
    inspector = screen.query_one(EventInspector)
    await wait_for(
        pilot,
        lambda: (
            inspector.event is not None
            and inspector.event.position == position
            and inspector.settled
            and bool(inspector._strips)
        ),
        what=f"the inspector at #{position}",
    )
    # One line of words: the inspector wraps long lines at its width.
    return " ".join(" ".join(strip.text for strip in inspector._strips).split())


async def test_the_app_flags_a_bad_stored_event_and_names_its_import(tmp_path: Path) -> None:
    db = tmp_path / "bad.db"
    _database(db)
    workspace = open_test_workspace(db)
    try:
        app = make_app(workspace)
        async with app.run_test(size=SIZE) as pilot:
            shown = await _inspect(pilot, 3)
            assert "bad stored event" in shown
            assert "metadata.actor must be text, not a JSON list" in shown
            assert "amount" in shown
            shown = await _inspect(pilot, 1)
            assert "bad stored event" not in shown
            assert "arrived by import 1" in shown and "by ann" in shown
            # The read side stopped at the bad event, naming it; the app kept running.
            status = main_screen(pilot).query_one("#status").render()
            assert app.is_running and "reading event #3 (MoneyDeposited) failed" in str(status)
    finally:
        workspace.close()
