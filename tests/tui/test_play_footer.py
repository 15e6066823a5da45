"""The footer says what space does now: Play, or Pause while history plays."""

from __future__ import annotations

from tui_support import make_app, settle, wait_for

from tui.bootstrap import Workspace


def space_label(screen: object) -> set[str]:
    bindings = screen.active_bindings.values()  # type: ignore[attr-defined]
    return {b.binding.description for b in bindings if b.binding.key == "space" and b.enabled}


async def test_space_reads_pause_while_playing_and_play_once_paused(
    workspace: Workspace,
) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        await pilot.press("home")
        await settle(pilot)
        assert space_label(screen) == {"Play"}
        await pilot.press("space")
        await wait_for(pilot, lambda: screen.autoplay.playing, what="autoplay to start")
        await wait_for(pilot, lambda: space_label(screen) == {"Pause"}, what="Pause")
        await pilot.press("space")
        await wait_for(pilot, lambda: not screen.autoplay.playing, what="autoplay to pause")
        await wait_for(pilot, lambda: space_label(screen) == {"Play"}, what="Play")
