"""Untrusted text in the app: stored strings are drawn escaped and never read as markup.

The history holds an OSC 52 clipboard write, a newline, a bidi override, Rich markup
and a look-alike (mixed-script) actor, written past the command checks. What the app
draws (its screenshot as text) must hold none of those characters raw, show them as
visible escapes, show `[bold red]` literally, and flag the look-alike.
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

from textual.pilot import Pilot
from tui_support import make_app, open_test_workspace, settle, wait_for

# The hostile history is shared with the CLI's tests (tests/ has no packages).
sys.path.insert(0, str(Path(__file__).parents[1] / "integration"))
from hostile_support import MARKUP, build_hostile_ledger

from tui.screens.aggregate import AggregateScreen

SIZE = (160, 40)
RAW = ("\x1b", "\x07", "\u202e", "\r")


def drawn(pilot: Pilot[None]) -> str:
    """The screen as text: the SVG screenshot without its tags; raw characters kept."""
    svg = pilot.app.export_screenshot()
    for char in RAW:
        assert char not in svg, f"{char!r} reached the screen raw"
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


async def test_hostile_text_is_drawn_escaped_in_the_log_inspector_and_panels(
    tmp_path: Path,
) -> None:
    db = tmp_path / "hostile.db"
    build_hostile_ledger(db)
    workspace = open_test_workspace(db)
    try:
        app = make_app(workspace)
        async with app.run_test(size=SIZE) as pilot:
            screen = await settle(pilot)
            screen.go(3)  # the deposit whose actor holds a newline and a forged log line
            screen = await settle(pilot)
            text = drawn(pilot)
            assert "evil\\x1b]52" in text  # the log's actor column
            assert "actor      ann\\x0a" in text  # the inspector's actor
            assert '"reference": "mallory\\u202etxt.exe' in text  # the inspector's payload
            assert "[bold red]PAID[/]" in text  # the balances panel's owner, not markup
            assert "account-x  MoneyDeposited  boss" not in text.split("ann\\x0a")[0]

            screen.go(5)  # the look-alike actor (a Cyrillic "a")
            screen.action_select_tab(2)  # actor_activity
            screen = await settle(pilot)
            text = drawn(pilot)
            assert "look-alike: mixes scripts" in text  # beside the actor, in the inspector
            assert "mixed scripts" in text  # the actor_activity panel's look-alike column
    finally:
        workspace.close()


async def test_dialogs_and_toasts_show_stored_text_literally(tmp_path: Path) -> None:
    db = tmp_path / "hostile.db"
    build_hostile_ledger(db)
    workspace = open_test_workspace(db)
    try:
        app = make_app(workspace)
        async with app.run_test(size=SIZE) as pilot:
            screen = await settle(pilot)
            screen.open_stream("account-acc-2")
            await wait_for(pilot, lambda: isinstance(app.screen, AggregateScreen))
            history = app.screen
            assert isinstance(history, AggregateScreen)
            await wait_for(pilot, lambda: bool(history.steps))
            await pilot.pause(0.05)
            text = drawn(pilot)
            assert "evil\\x1b]52;c;aGk=\\x07\\x1b[2J" in text  # the actor column
            assert "mallory\\u202etxt.exe" in text
            assert "[bold red]PAID" in text  # the owner (cut by the width), not markup
            await pilot.press("escape")

            app.notify(f"toast {MARKUP} \x1b[2J", title="t\u202e")
            await pilot.pause(0.05)
            # Toasts are drawn from these (the app's own record; no screenshot needed).
            shown = list(app._notifications)[-1]
            assert (shown.message, shown.title) == (f"toast {MARKUP} \\x1b[2J", "t\\u202e")
            assert shown.markup is False
    finally:
        workspace.close()
