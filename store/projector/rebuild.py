"""Rebuilding read models from zero: fold in memory, fill `__new` tables while the live
ones stay readable, swap them in with the checkpoint in one transaction.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from domain.errors import DomainError, InvalidInput, StoreError
from domain.projection import Projection, StateMap, combined_reads, initial_states
from store import read_models as rm
from store.collector import collector_paused
from store.lease import LeaseLost
from store.projector.base import _WRITE_CHUNK
from store.projector.reads import Reading
from store.projector.status import (
    Progress,
    ProjectorBusy,
    ProjectorStatus,
    _now,
)
from store.replay import FoldFailure, fold_rows


class Rebuilding(Reading):
    """The projector's rebuild."""

    def rebuild(
        self, progress: Progress | None = None, *, only: Sequence[str] = ()
    ) -> ProjectorStatus:
        """Fold all events from zero into fresh tables, then swap them in at once.

        The live tables stay readable (and unchanged) until the swap, one short
        transaction that also moves the checkpoint. Raises `ProjectorBusy` when
        another projector holds the lease, `ProjectionFailed` when a projection
        raises (the live tables are left as they were). `progress(position, head)`
        is called after every batch.

        `only` names the projections to rebuild (say, the one whose definition
        changed): they are folded up to the checkpoint and swapped in beside the
        others, whose tables must already match their definitions (InvalidInput
        otherwise, naming them).
        """
        if self.models.read_only:
            raise StoreError(f"{self.models.location} is open read-only: cannot rebuild")
        with self._fold_lock:
            if not self._hold_lease():
                raise ProjectorBusy(
                    f"projector {self.lease.holder} is writing the read models of "
                    f"{self.models.location}; stop it first (or let it rebuild)"
                )
            try:
                if only:
                    self._rebuild_some_locked(only, progress)
                else:
                    self._rebuild_locked(progress)
            except LeaseLost:
                self._lost_lease()
                raise ProjectorBusy(
                    "another projector took the lease during the rebuild; nothing was swapped"
                ) from None
            except BaseException:
                self._states = None
                raise
        return self.status()

    def _rebuild_locked(self, progress: Progress | None) -> None:
        self._rebuild_of(self.projections, None, progress)

    def _rebuild_some_locked(self, names: Sequence[str], progress: Progress | None) -> None:
        chosen = [self.projection(n) for n in dict.fromkeys(names)]
        with self._transaction("read the projector checkpoint", write=False) as tables:
            checkpoint = tables.checkpoint(self.name)
            present = tables.tables()
        if checkpoint is None or not checkpoint.fingerprint:
            raise InvalidInput("there are no read models to rebuild in part: run `rebuild`")
        stale = [
            p.name
            for p in self.projections
            if p not in chosen
            and (checkpoint.definitions.get(p.name) != self.definitions[p.name]
                 or p.name not in present)
        ]  # fmt: skip
        if stale:
            raise InvalidInput(
                f"the read models of {', '.join(stale)} are out of date too: add them "
                "(--projection NAME, repeated) or rebuild everything (`rebuild`)"
            )
        self._rebuild_of(chosen, checkpoint.position, progress)
        self._states = None  # the others' fold state is reloaded from their tables

    def _rebuild_of(
        self, projections: Sequence[Projection], to: int | None, progress: Progress | None
    ) -> None:
        self._rebuilding = True
        try:
            states = initial_states(projections)
            with collector_paused():  # millions of dicts, no cyclic garbage
                position = self._fold_all(projections, states, to, progress)
                self._fill_new_tables(projections, states)
            self._swap(projections, states, position)
        except LeaseLost:
            raise  # the `__new` tables may be the new lease holder's now
        except BaseException:
            with (  # if even this fails, the next projector to prepare drops them
                contextlib.suppress(DomainError),
                self._write("drop the unfinished rebuild") as tables,
            ):
                tables.drop_rebuild_leftovers()
            raise
        finally:
            self._rebuilding = False

    def _fold_all(
        self,
        projections: Sequence[Projection],
        states: StateMap,
        to: int | None,
        progress: Progress | None,
    ) -> int:
        """Fold every event (up to `to`) into `states`, renewing the lease as it goes;
        the last position."""
        position = 0
        reads = combined_reads(projections, self.event_reads)
        selected = self._selected(reads)
        while True:
            limit = self.batch if to is None else min(self.batch, to - position)
            rows = self._rows(position, limit, selected) if limit > 0 else []
            if not rows:
                return position
            try:
                fold_rows(rows, projections, states, self.catalog, reads=reads, selected=selected)
            except FoldFailure as failure:
                error = failure.error
                with self._write("record a projection failure") as tables:
                    tables.record_failure(self.name, str(error), error.position, _now())
                self._failed(error)
                raise error from failure.__cause__
            position = rows[-1][0]
            self.lease.renew_if_due()
            if progress is not None:
                progress(position, self._head())

    def _fill_new_tables(self, projections: Sequence[Projection], states: StateMap) -> None:
        """Write the rebuilt states into `__new` tables, a chunk per transaction."""
        with self._write("create the rebuilt tables") as tables:
            for projection in projections:
                tables.create_tables(projection.name, new=True)
        encode = rm.encode_row
        for projection in projections:
            name = projection.name
            items = sorted(states[name].rows.items())  # key order fills fastest
            for start in range(0, len(items), _WRITE_CHUNK):
                chunk = items[start : start + _WRITE_CHUNK]
                with self._write("write the rebuilt tables") as tables:
                    tables.put_rows(name, ((k, encode(r)) for k, r in chunk), new=True)

    def _swap(self, projections: Sequence[Projection], states: StateMap, position: int) -> None:
        """Swap the `__new` tables in, with aux and checkpoint, in one transaction."""
        written: dict[str, dict[str, bytes]] = {}
        with self._write("swap in the rebuilt read models") as tables:
            old = tables.checkpoint(self.name)
            for projection in projections:
                name = projection.name
                parts, _ = rm.changed_aux(states[name].aux, {})
                tables.put_aux(name, ((p, blob.decode()) for p, blob in parts.items()), new=True)
                written[name] = parts
                tables.swap_in(name)
            for gone in set(old.definitions if old else ()) - set(self.definitions):
                with contextlib.suppress(InvalidInput):
                    rm.check_projection_name(gone)
                    tables.drop_tables(gone)  # a projection this domain no longer has
            tables.write_checkpoint(self.name, position, self.fingerprint, self.definitions, _now())
        self._states, self._aux_written = states, written
        self._committed_at(position)
