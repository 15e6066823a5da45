"""The decider an import's replay runs commands with (`domain.history_check`).

A handler that draws an id (`ctx.new_id()`: a transfer's id) cannot draw the one the
file recorded. The replay hands it a stand-in instead, which the comparison binds to
the recorded value; or, once it knows where this command type's handler puts the ids
it draws (`id_places`), it hands it the recorded ids themselves, so that the handler
emits exactly the recorded events and nothing is left to decode and compare. A guess
that does not give the recorded events is undone (`ReplayDecider.rewind`) and the
command decided again with stand-ins. Pure: no IO.
"""

from __future__ import annotations

import random
from typing import Any

from domain.decider import InMemoryDecider
from domain.envelope import PendingEvent
from domain.model import DomainModel


class ReplayDecider(InMemoryDecider):
    """The decider, handing out ids that stand for "whatever the file recorded".

    `guessed` ids are handed out first: the ids the file recorded where this command
    type's handler put its ids before (`HistoryCheck._guess`). While `undo` is a dict,
    the first change of each stream keeps its state and version before the command.
    """

    def __init__(self, model: DomainModel) -> None:
        super().__init__(model, random.Random(0))
        self.minted: list[str] = []
        self.guessed: list[str] = []
        self.undo: dict[str, tuple[Any, int]] | None = None

    def new_id(self) -> str:
        if self.guessed:
            return self.guessed.pop(0)
        token = f"\0replay-id-{len(self.minted)}"
        self.minted.append(token)
        return token

    def _keep(self, stream_id: str, state: Any) -> None:
        undo = self.undo
        if undo is not None and stream_id not in undo:
            # `execute` has already moved the version on: the one before is one less.
            undo[stream_id] = (self.states.get(stream_id), self.versions[stream_id] - 1)
        self.states[stream_id] = state

    def rewind(self, position: int) -> None:
        """Undo the command decided since `undo` was set (states, versions, position)."""
        for stream_id, (state, version) in (self.undo or {}).items():
            if state is None:
                self.states.pop(stream_id, None)
            else:
                self.states[stream_id] = state
            self.versions[stream_id] = version
        self.undo = None
        self.position = position
        self.guessed.clear()
        self.minted.clear()
        self.out.clear()

    def record_id(self) -> str:
        # The replay compares the recorded command and event ids, never these: none drawn.
        return ""


def id_places(minted: list[str], emitted: list[PendingEvent]) -> tuple[tuple[int, str], ...]:
    """Where each stand-in id first appears in `emitted` (event index, data field); ()
    when one does not appear as a field's whole value (nothing to guess then)."""
    places: list[tuple[int, str]] = []
    for token in minted:
        found = next(
            (
                (at, name)
                for at, event in enumerate(emitted)
                for name, value in event.data.items()
                if value == token
            ),
            None,
        )
        if found is None:
            return ()
        places.append(found)
    return tuple(places)
