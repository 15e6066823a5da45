"""The app's session: the application services (`tui.services`), held together.

`tui.bootstrap.app_session` builds one (the composition root builds every service);
every blocking call the app makes goes through it, from worker threads only.
The session knows no Textual and adds no behaviour: each concern is its own service,
called by name: queries and view models (`session.queries`), frames and stepping
(`session.frames`), the chain check (`session.chain`), bookmarks (`session.marks`),
CQRS flows (`session.flows`) and in-flight tracking (`session.calls`). What is left
here is the workspace's identity (actor, read-only, name), running a command, and
starting and stopping the in-app projector.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from domain.description import DomainDescription
from domain.envelope import AppendResult
from domain.messages import Command
from domain.projection import Projection
from tui.read_side import ReadSide, StatusListener
from tui.services.bookmarks import Bookmarks
from tui.services.calls import CLOSE_SECONDS, InFlight, blocking
from tui.services.chain import ChainCheck
from tui.services.flow import Flows
from tui.services.queries import Queries
from tui.services.stepping import Frames

if TYPE_CHECKING:
    from tui.bootstrap import Workspace


class Session:
    """Everything the app asks of the database and the domain. Blocking; call from workers."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        queries: Queries,
        frames: Frames,
        chain: ChainCheck,
        marks: Bookmarks,
        calls: InFlight,
        read_side: ReadSide | None,
        flows: Flows,
    ) -> None:
        """The services `tui.bootstrap.app_session` built, over `workspace`."""
        self.workspace = workspace
        self.store = workspace.store
        self.domain: DomainDescription = workspace.domain
        self.projections: list[Projection] = list(workspace.domain.projections)
        self.read_side = read_side
        self.calls = calls
        self.queries = queries
        self.frames = frames
        self.chain = chain
        self.marks = marks
        self.flows = flows

    @property
    def position(self) -> int | None:
        """Where the app is: the position of the last frame built (None before the first)."""
        return self.frames.position

    @property
    def db_name(self) -> str:
        """The database file's name, as the header shows it."""
        return self.workspace.name

    @property
    def read_only(self) -> bool:
        return self.workspace.read_only

    @property
    def actor(self) -> str:
        return self.workspace.actor

    @property
    def commands(self) -> Sequence[type[Command]]:
        """The domain's commands, in menu order."""
        return self.domain.model.commands

    @blocking
    def execute(self, type_name: str, fields: Mapping[str, Any]) -> AppendResult:
        """Run a command as the workspace's actor. Raises the domain's errors."""
        return self.workspace.bus.execute_fields(type_name, dict(fields), actor=self.actor)

    def start_read_side(self, on_status: StatusListener) -> None:
        """Start the projector's thread (writable databases only); `on_status` hears it."""
        if self.read_side is not None:
            self.read_side.start(on_status)

    def close(self, timeout: float = CLOSE_SECONDS) -> None:
        """Stop the projector (giving its lease up), any chain check still running, and
        wait for the calls still running in worker threads (up to `timeout` seconds).

        The workspace stays open: whoever opened it closes it, after this; if a call is
        still running after `timeout`, closing the workspace leaves its connections open.
        """
        self.chain.close()
        if self.read_side is not None:
            self.read_side.halt()
        # The calls first: one may be reading the read models (a live frame) through a
        # connection that stopping the read side would close under it.
        calls_ended = self.calls.close(timeout)
        if self.read_side is not None:
            self.read_side.stop(close=calls_ended)
        if not calls_ended:
            self.workspace.leave_open()


__all__ = ["Session"]
