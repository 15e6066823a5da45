"""Mixed flows: random sequences of panel switches, steps, jumps, dialogs and live refusals.

Each flow alone was tested and passed, yet `6`, `1`, `g 99800 ⏎`, `6` crashed the
Refusals panel (a hidden table drew rows it no longer had). Here hypothesis drives the
keys of both domains' apps in random order, with refusals written by a second writer
in between, and the app must survive every sequence and end showing a consistent frame.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tui_support import make_app, open_test_workspace, settle

from domain.errors import DomainError
from tui.bootstrap import open_workspace
from tui.domains import load_domain
from tui.widgets.projection_table import ProjectionTable

EVENTS = 400
SIZE = (100, 30)

# A command each domain refuses (it names something that does not exist).
REFUSED: dict[str, tuple[str, dict[str, Any]]] = {
    "ledger": ("withdraw", {"account_id": "nobody-here", "amount": "1.00"}),
    "inventory": (
        "ship_stock",
        {"sku": "NO-SUCH-SKU", "warehouse": "ams-central", "quantity": 1, "customer_ref": "x"},
    ),
}

KEYS = [
    *"123456",
    "left_square_bracket",
    "right_square_bracket",
    "left",
    "right",
    "shift+left",
    "shift+right",
    "pageup",
    "pagedown",
    "home",
    "end",
    "up",
    "down",
    "l",
    "m",
    "escape",
    "enter",
    "i",
    "tab",
    "f",
    # The cell cursor (enter on a field then opens its blame) and find in state.
    "comma",
    "full_stop",
    "full_stop",
    "ctrl+f",
]
STEPS = st.lists(
    st.one_of(
        st.sampled_from(KEYS),
        st.integers(min_value=0, max_value=EVENTS + 5).map(lambda p: f"goto:{p}"),
        st.just("refuse"),
    ),
    min_size=1,
    max_size=14,
)


def _build(domain: str, path: Path) -> Path:
    description = load_domain(domain)
    assert description.demo is not None
    created = open_workspace(path, create=True, domain=domain)
    try:
        created.store.append_bulk(description.demo(EVENTS, 3))
    finally:
        created.close()
    return path


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("mixed")
    return {name: _build(name, folder / f"{name}.db") for name in REFUSED}


async def _drive(db: Path, steps: list[str], domain: str) -> None:
    workspace = open_test_workspace(db)
    writer = open_test_workspace(db)
    app = make_app(workspace, verify=False)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, timeout=15)
            for step in steps:
                if step == "refuse":
                    name, fields = REFUSED[domain]
                    with pytest.raises(DomainError):
                        writer.bus.execute_fields(name, fields, actor="other")
                elif step.startswith("goto:"):
                    if app.screen is app.main:
                        await pilot.press("g")
                        await pilot.pause()
                        await pilot.press(*step.removeprefix("goto:"), "enter")
                else:
                    await pilot.press(step)
                await pilot.pause()
            while app.screen is not app.main:
                await pilot.press("escape")
                await pilot.pause()
            screen = await settle(pilot, timeout=15)
            # Every table, shown or hidden, draws only rows it holds.
            for table in screen.query(ProjectionTable):
                assert table.row_count == len(table._rows)
                assert table.selected_key is None or table.selected_key in table._rows
    finally:
        writer.close()
        workspace.close()


@pytest.mark.slow
@pytest.mark.parametrize("domain", sorted(REFUSED))
def test_any_mix_of_panels_steps_jumps_and_refusals_keeps_the_app_alive(
    domain: str, templates: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    @settings(
        max_examples=12,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(steps=STEPS)
    def run(steps: list[str]) -> None:
        db = tmp_path_factory.mktemp("run") / "app.db"
        shutil.copyfile(templates[domain], db)
        asyncio.run(_drive(db, steps, domain))

    run()


@pytest.mark.parametrize(
    "keys",
    [
        ["6", "1", "goto:390", "6"],
        ["6", "home", "1", "end", "6"],
        ["6", "refuse", "left", "1", "6", "right", "6", "refuse", "1", "left", "6"],
    ],
)
async def test_the_refusals_panel_survives_the_reported_sequences(
    keys: list[str], templates: dict[str, Path], tmp_path: Path
) -> None:
    db = tmp_path / "app.db"
    shutil.copyfile(templates["ledger"], db)
    await _drive(db, keys, "ledger")
