"""Reading what a projector keeps: status, checkpoint, read models and rows."""

from __future__ import annotations

import time
from collections.abc import Sequence

from domain.projection import Projection, ProjectionState, Row, StateMap, projection_named
from domain.refusals import MergesRefusals
from domain.timeline.refusals import overlay
from store import read_models as rm
from store.projector.base import ProjectorBase
from store.projector.status import (
    ProjectorStatus,
    ReadModels,
    Role,
)


class Reading(ProjectorBase):
    """The projector's readers (any thread)."""

    def checkpoint(self) -> int:
        """The position the persisted read models reflect (0 before the first write)."""
        row = self._checkpoint_row()
        return row.position if row is not None else 0

    def wait_for(self, position: int, timeout: float) -> bool:
        """Wait until the read models reflect `position`; False on timeout or failure.

        Works whoever projects (this thread, another, another process): it polls the
        checkpoint row, and wakes early on this process's own commits. Returns False
        at once when the projector is stopped by a failure at or before `position`.
        """
        deadline = time.monotonic() + timeout
        while True:
            row = self._checkpoint_row()
            if row is not None:
                if row.position >= position:
                    return True
                if row.error_position is not None and row.error_position <= position:
                    return False
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._committed:
                self._committed.wait(min(remaining, 0.02))

    def status(self) -> ProjectorStatus:
        """Checkpoint, head, lag, role, lease holder and the last error, read now."""
        with self._transaction("read the projector status", write=False) as tables:
            checkpoint = tables.checkpoint(self.name)
            head = tables.head()
            lease = tables.lease(self.name)
        now = self._clock()
        owner = lease.owner if lease is not None and lease.expires_at > now else None
        role: Role
        if self.models.read_only:
            role = "reader"
        else:
            role = "leader" if self.lease.held and owner == self.owner_id else "follower"
        error, error_position = self._error, self._error_position
        if checkpoint is not None and checkpoint.error is not None:
            error, error_position = checkpoint.error, checkpoint.error_position
        return ProjectorStatus(
            name=self.name,
            checkpoint=checkpoint.position if checkpoint is not None else 0,
            head=head,
            role=role,
            lease_owner=owner,
            lease_expires_at=lease.expires_at if lease is not None and owner is not None else None,
            error=error,
            error_position=error_position,
            rebuild_needed=(
                checkpoint is not None and checkpoint.fingerprint not in ("", self.fingerprint)
            ),
            rebuilding=self._rebuilding,
        )

    def projection(self, name: str) -> Projection:
        """The projection called `name`; unknown names list the known ones."""
        return projection_named(self._by_name, name)

    def read_models(
        self, names: Sequence[str] | None = None, *, refusals: bool = True
    ) -> ReadModels:
        """The persisted states of `names` (all by default), read in one transaction.

        With `refusals`, a projection that shows refused commands (`MergesRefusals`)
        gets the refusals recorded up to the checkpoint overlaid, as panels show it;
        without, the states are exactly what the folds wrote.
        """
        projections = [self.projection(n) for n in (names or list(self._by_name))]
        states: StateMap = {}
        stale: set[str] = set()
        with self._transaction("read the read models", write=False) as tables:
            checkpoint = tables.checkpoint(self.name)
            present = tables.tables()
            for projection in projections:
                name = projection.name
                current = checkpoint is not None and (
                    checkpoint.definitions.get(name) == self.definitions[name]
                )
                if current and name in present:
                    states[name] = rm.read_state(tables, projection)[0]
                else:
                    if checkpoint is not None and checkpoint.fingerprint:
                        stale.add(name)
                    states[name] = projection.initial()
        position = checkpoint.position if checkpoint is not None else 0
        if refusals:
            states = self._with_refusals(states, position)
        return ReadModels(position, states, frozenset(stale))

    def read_model(self, projection_name: str, *, refusals: bool = True) -> ProjectionState:
        """The persisted state of one projection (see `read_models`)."""
        return self.read_models([projection_name], refusals=refusals).states[projection_name]

    def rows(
        self,
        projection_name: str,
        *,
        after: str | None = None,
        limit: int | None = None,
        keys: Sequence[str] | None = None,
    ) -> dict[str, Row]:
        """Persisted rows of one projection in key order: all, a page, or some keys.

        Rows as the fold wrote them (no refusal overlay): for paging large tables
        and for looking rows up by key.
        """
        self.projection(projection_name)
        with self._transaction("read the read models", write=False) as tables:
            if projection_name not in tables.tables():
                return {}
            return tables.read_rows(projection_name, after=after, limit=limit, keys=keys)

    def _with_refusals(self, states: StateMap, position: int) -> StateMap:
        merging = [
            p for n, p in self._by_name.items() if n in states and isinstance(p, MergesRefusals)
        ]
        if not merging:
            return states
        with self._refusals_lock:
            self._refusals.refresh(self.store)
            tallies = self._refusals.tallies(position)
        return overlay(merging, states, tallies)
