"""The app on PostgreSQL connected as the roles `init --writer-role/--reader-role` set
up, not as the superuser: the writer runs a command from the form and its own projector
keeps the panels current; the reader without --read-only is told, in the header and in
the form, which role may not do what (the header used to show only the database URL).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from itertools import count

import psycopg
import pytest
from flow_support import open_account, run_form
from postgres_server import PostgresServer
from textual.pilot import Pilot
from textual.widgets import Static
from tui_support import main_screen, make_app, open_test_workspace, wait_for

from domain.ledger.demo import write_demo
from tui.bootstrap import Workspace, open_workspace
from tui.screens.command_form import CommandFormScreen
from tui.widgets.status_bar import StatusBar

SIZE = (120, 36)
_names = count()


def _as(url: str, role: str) -> str:
    """`url` connecting as `role` (the throwaway server trusts local connections)."""
    return f"postgresql://{role}@{url.split('@', 1)[1]}"


@pytest.fixture
def role_urls(postgres_server: PostgresServer) -> Iterator[tuple[str, str, str]]:
    """(writer URL, reader URL, reader role) on a demo store the owner set up."""
    n = f"{os.getpid()}_{next(_names)}"
    writer, reader = f"app_writer_{n}", f"app_auditor_{n}"
    with psycopg.connect(postgres_server.url(), autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {writer} LOGIN")
        admin.execute(f"CREATE ROLE {reader} LOGIN")
    owner = postgres_server.database()
    ws = open_workspace(owner, actor="owner", create=True)
    try:
        write_demo(ws.store, 300, 7)
        ws.store.grant_roles(writer=writer, reader=reader)  # type: ignore[attr-defined]
    finally:
        ws.close()
    yield _as(owner, writer), _as(owner, reader), reader


def _workspace(url: str, *, read_only: bool = False) -> Workspace:
    return open_test_workspace(url, read_only=read_only, ids="roles")


def _projected(pilot: Pilot[None], position: int) -> bool:
    """The live panels show `position` from the read models the projector wrote (the
    scrubber's axis is not waited for: hundreds of queries, slow on a loaded server)."""
    screen = main_screen(pilot)
    status = screen.live_watch.read_status
    frame = screen.frame
    return (
        frame is not None
        and frame.position == position
        and status is not None
        and status.checkpoint == position
        and not status.error
    )


def _header(app: object) -> str:
    return str(app.screen.query_one(StatusBar).render())  # type: ignore[attr-defined]


async def test_the_writer_role_runs_a_command_in_the_app(role_urls: tuple[str, str, str]) -> None:
    writer, _, _ = role_urls
    ws = _workspace(writer)
    try:
        head = ws.store.head().position
        account = open_account(ws)
        app = make_app(ws)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: _projected(pilot, head), 60, "the first frame")
            await run_form(pilot, "deposit", account_id=account, amount="5.00")
            await wait_for(pilot, lambda: not isinstance(app.screen, CommandFormScreen))
            await wait_for(pilot, lambda: ws.store.head().position == head + 1, 30, "deposit")
            # The writer's own projector folds it, and the live panels show it.
            await wait_for(pilot, lambda: _projected(pilot, head + 1), 60, "the deposit shown")
            assert "✗" not in _header(app)
    finally:
        ws.close()


async def test_the_reader_role_without_read_only_is_told_what_it_may_not_do(
    role_urls: tuple[str, str, str],
) -> None:
    _, reader, role = role_urls
    ws = _workspace(reader)
    try:
        head = ws.store.head().position
        account = open_account(ws)
        app = make_app(ws, verify=False)
        async with app.run_test(size=SIZE) as pilot:
            lease = f"role {role} may not take the projector lease"
            await wait_for(pilot, lambda: lease in _header(app), 30, "the projector's refusal")
            assert "postgresql://" not in _header(app)
            await run_form(pilot, "deposit", account_id=account, amount="5.00")
            form = app.screen
            assert isinstance(form, CommandFormScreen)
            said = form.query_one("#form-error", Static)
            await wait_for(pilot, lambda: f"role {role} may not append" in str(said.render()), 30)
            assert "--read-only" in str(said.render())
        assert ws.store.head().position == head
    finally:
        ws.close()
