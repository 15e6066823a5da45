"""Setting the in-app projector's delay while the app runs (the palette's entries)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.screens.main import MainScreen

PRESETS_MS = (0, 1000, 3000, 10_000)
"""The delays the palette offers (`--projector-delay` takes any from 0 to 60000)."""


def delay_label(ms: int) -> str:
    """`off`, `3 s`, `1.5 s`: a delay as the palette and toasts say it."""
    if ms == 0:
        return "off"
    return f"{ms / 1000:g} s"


def set_projector_delay(screen: MainScreen, ms: int) -> None:
    """Hold the app's projector back `ms` ms after new events (0: catch up at once)."""
    read_side = screen.session.read_side
    if read_side is None:
        screen.notify("No projector runs here: the database is open read-only.", severity="warning")
        return
    read_side.delay.set(ms)
    if ms:
        screen.notify(
            f"Projector delay {delay_label(ms)}: the read models follow new events "
            f"{delay_label(ms)} late (what is recorded never waits).",
            timeout=4,
        )
    else:
        screen.notify("Projector delay off: the read models catch up at once.", timeout=3)
