"""The kill -9 harness: a writer killed at random moments, the file audited after each kill.

Used by `test_reliability_kill.py` (50 kills of ledger writers, 15 of inventory ones)
and `bench/reliability/run.py` (1,000). Run as a script it is the zygote:

    python kill_support.py zygote

The zygote has eventscope imported once and forks each writer, so a kill cycle costs
the random delay plus the audit instead of a Python start-up (~0.5 s).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness_stores import Target, open_store, raw_connection, settle
from reliability_support import (
    HANG_GUARD,
    LEDGER_WORKLOAD,
    WORKLOADS,
    LineReader,
    StoreAudit,
    Workload,
    check_against_raw_events,
    final_states_check,
    start_script,
)

from domain.bus import CommandBus
from domain.clock import SequentialIds
from domain.errors import RuleRefused
from store.projector import Projector


@dataclass
class KillFigures:
    """What a series of kill cycles survived."""

    cycles: int = 0
    killed: int = 0
    """Cycles that ended by SIGKILL (the others finished first: none are expected)."""
    killed_while_opening: int = 0
    """Kills that landed before the writer printed `ready` (opening, WAL recovery)."""
    killed_while_projecting: int = 0
    """Kills that landed inside a projector catch-up (read models in the same file)."""
    acknowledged: int = 0
    refused: int = 0
    committed_unacknowledged: int = 0
    """Commands committed but killed before their acknowledgement was printed."""
    retried_duplicate: int = 0
    """In-flight commands retried with their id that had been committed: the earlier
    result came back, nothing was appended."""
    retried_new: int = 0
    """In-flight commands retried with their id that had not been recorded: recorded once."""
    commands: int = 0
    pairs: int = 0
    """Two-sided commands (transfers, moves) recorded, each with both halves."""
    events: int = 0
    projector_resumed_from: int = 0
    """The checkpoint a killed projector left, from which the final projector resumed."""
    full_verify_every: int = 1
    """How often (in kills) eventscope's own `verify` walked the whole chain."""
    workload: Workload = LEDGER_WORKLOAD

    def line(self, synchronous: str = "FULL") -> str:
        """The bench's one line."""
        return (
            f"kill -9 ({self.workload.name}): {self.killed} kills survived "
            f"(synchronous={synchronous}; "
            f"{self.killed_while_opening} while opening, {self.killed_while_projecting} while "
            f"projecting); {self.acknowledged} acknowledged commands + {self.refused} "
            f"acknowledged refusals, 0 lost; {self.committed_unacknowledged} committed but "
            f"unacknowledged (at most 1 per kill); in-flight commands retried with their "
            f"command id: {self.retried_duplicate} returned the earlier result, "
            f"{self.retried_new} recorded once, 0 twice; {self.commands} commands "
            f"({self.pairs} {self.workload.pairs}), {self.events} events, none half-recorded, "
            "no gaps, "
            f"chain recomputed after every kill (and eventscope verify after every "
            f"{self.full_verify_every}); restarted projector (resumed at "
            f"#{self.projector_resumed_from}) equals a full replay"
        )


@dataclass
class CycleAcks:
    """What one killed writer printed: attempts, acknowledgements, where it was killed."""

    ready: bool = False
    projecting: bool = False
    """Killed between `projecting` and `projected`: inside a projector catch-up."""
    ok: dict[str, list[int]] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    attempt: dict[str, Any] | None = None
    """The last command started (`try`) and not acknowledged: in flight at the kill."""
    retried: tuple[str, list[int]] | None = None
    """How the retry of the previous writer's in-flight command ended: (`duplicate`,
    `new` or `refused`, its positions)."""


def read_acks(path: Path) -> CycleAcks:
    """Parse an ack file; a last line without its newline was not fully printed: ignored."""
    acks = CycleAcks()
    text = path.read_text() if path.exists() else ""
    for line in text.split("\n")[:-1]:
        kind, _, rest = line.partition(" ")
        if kind == "ready":
            acks.ready = True
        elif kind in ("projecting", "projected"):
            acks.projecting = kind == "projecting"
        elif kind == "try":
            acks.attempt = json.loads(rest)
        elif kind == "retried":
            outcome, _, positions = rest.partition(" ")
            acks.retried = (outcome, [int(p) for p in positions.split(",") if p])
        else:
            command_id, _, positions = rest.partition(" ")
            assert acks.attempt is not None and acks.attempt["command_id"] == command_id, line
            acks.attempt = None
            if kind == "ok":
                acks.ok[command_id] = [int(p) for p in positions.split(",")]
            else:
                assert kind == "refused", f"unexpected ack line {line!r}"
                acks.refused.append(command_id)
    return acks


class Zygote:
    """A process with eventscope imported that forks kill-writers and kills them."""

    def __init__(self) -> None:
        self.process = start_script(Path(__file__).name, "zygote")
        assert self.process.stdout is not None
        self.reader = LineReader(self.process.stdout)
        assert self.reader.next("zygote start") == "zygote ready"

    def cycle(
        self,
        db: Target,
        acks: Path,
        cycle: int,
        seed: int,
        delay_ms: int,
        retry: Path | None,
        domain: str = "ledger",
    ) -> str:
        """Fork a `domain` writer on `db` (retrying the command in `retry` first),
        SIGKILL it after `delay_ms`; returns how it ended."""
        assert self.process.stdin is not None
        line = f"run {db} {acks} {cycle} {seed} {delay_ms} {retry or '-'} {domain}\n"
        self.process.stdin.write(line)
        self.process.stdin.flush()
        return self.reader.next(f"end of cycle {cycle}")

    def close(self) -> None:
        """End the zygote (it ends when its stdin closes); it must exit cleanly."""
        assert self.process.stdin is not None and self.process.stderr is not None
        with contextlib.suppress(BrokenPipeError):
            self.process.stdin.close()
        code = self.process.wait(timeout=HANG_GUARD)
        errors = self.process.stderr.read()
        self.process.stderr.close()
        assert code == 0, errors


def kill_cycles(
    db: Target,
    work: Path,
    cycles: int,
    *,
    seed: int = 1,
    delay_ms: tuple[int, int] = (20, 150),
    full_verify_every: int = 1,
    progress: Any = None,
    workload: Workload = LEDGER_WORKLOAD,
) -> KillFigures:
    """Create the workload's setup at `db` (the ledger by default), then kill a writer
    at a random moment `cycles` times.

    After every kill the file is audited: integrity, no gaps, every acknowledged command
    present at the positions it was acknowledged with, every acknowledged refusal kept,
    at most the one in-flight command committed beyond the acknowledgements, nothing
    half-recorded, the chain intact. The next writer first retries the in-flight
    command with its command id, as a client that got no answer would: if it had been
    committed, the earlier result must come back and nothing be appended; if not, it
    is recorded once. At the end a restarted projector must equal a full replay.
    """
    workload.create(db)
    audit = StoreAudit(db, workload)
    audit.check()
    rng = random.Random(seed)
    figures = KillFigures(full_verify_every=full_verify_every, workload=workload)
    pending: dict[str, Any] | None = None
    zygote = Zygote()
    try:
        for cycle in range(1, cycles + 1):
            acks_path = work / f"acks-{cycle}.txt"
            retry_path = work / "retry.json" if pending is not None else None
            if pending is not None and retry_path is not None:
                retry_path.write_text(json.dumps(pending))
            before = _recorded(db, pending["command_id"]) if pending is not None else None
            delay = rng.randint(*delay_ms)
            seed_n = rng.randrange(1 << 30)
            ending = zygote.cycle(db, acks_path, cycle, seed_n, delay, retry_path, workload.name)
            settle(db, HANG_GUARD)  # PostgreSQL: the dead writer's session has ended
            acks = read_acks(acks_path)
            errors = acks_path.with_suffix(".err").read_text()
            assert not errors, f"cycle {cycle}: the writer failed before the kill:\n{errors}"
            figures.cycles += 1
            figures.killed += ending == "killed"
            figures.killed_while_opening += ending == "killed" and not acks.ready
            figures.killed_while_projecting += ending == "killed" and acks.projecting
            acked = dict(acks.ok)
            if pending is not None and acks.retried is not None:
                outcome, positions = acks.retried
                if before is not None:
                    assert (outcome, positions) == ("duplicate", before), (
                        f"retry of committed {pending['command_id']} gave {acks.retried}"
                    )
                    figures.retried_duplicate += 1
                else:
                    assert outcome in ("new", "refused"), acks.retried
                    figures.retried_new += 1
                if outcome != "refused":
                    acked[pending["command_id"]] = positions
                pending = None
            elif pending is not None and before is None and _recorded(db, pending["command_id"]):
                # The retry itself committed and was killed before it could say so:
                # the next writer retries it again (and must get the earlier result).
                figures.committed_unacknowledged += 1
            full = cycle % full_verify_every == 0 or cycle == cycles
            seen = audit.check(acked=acked, refused=acks.refused, full=full)
            in_flight = _check_cycle_commands(db, cycle, acks)
            figures.committed_unacknowledged += in_flight == "committed"
            if pending is None and acks.attempt is not None and in_flight != "refused":
                pending = acks.attempt
            figures.acknowledged += len(acks.ok)
            figures.refused += len(acks.refused)
            figures.commands, figures.pairs = seen.commands, seen.pairs
            figures.events = seen.head
            acks_path.unlink()
            acks_path.with_suffix(".err").unlink()
            if progress is not None:
                progress(cycle, cycles)
    finally:
        zygote.close()
    figures.projector_resumed_from, replay = final_states_check(db, workload)
    check_against_raw_events(db, replay, workload)
    return figures


def _recorded(db: Target, command_id: str) -> list[int] | None:
    """The positions a command recorded (None when it recorded nothing)."""
    with raw_connection(db, HANG_GUARD) as conn:
        row = conn.execute(
            "SELECT first_position, last_position FROM commands WHERE command_id = ?",
            (command_id,),
        ).fetchone()
    return None if row is None else list(range(row[0], row[1] + 1))


def _check_cycle_commands(db: Target, cycle: int, acks: CycleAcks) -> str:
    """Only acknowledged commands, plus at most the one in flight, reached the file.

    Returns what became of the command in flight: "committed", "refused" (its
    refusal was recorded), or "" (nothing recorded, or none in flight).
    """
    prefix = f"k{cycle}-"
    with raw_connection(db, HANG_GUARD) as conn:
        committed = {
            row[0]
            for row in conn.execute(
                "SELECT command_id FROM commands WHERE command_id LIKE ?", (prefix + "%",)
            )
        }
        refused = [
            row[0]
            for row in conn.execute(
                "SELECT command_id FROM refusals WHERE command_id LIKE ?", (prefix + "%",)
            )
        ]
    in_flight = {acks.attempt["command_id"]} if acks.attempt is not None else set()
    extra = committed - set(acks.ok)
    assert extra <= in_flight, f"cycle {cycle}: unacknowledged commands recorded: {extra}"
    assert sorted(refused) == sorted(acks.refused + [r for r in refused if r in in_flight]), (
        f"cycle {cycle}: refusals {refused}, acknowledged {acks.refused}"
    )
    if extra:
        return "committed"
    return "refused" if in_flight & set(refused) else ""


def _kill_writer(db: str, cycle: int, seed: int, retry: dict[str, Any] | None, domain: str) -> None:
    """The forked writer: commands through the real bus, each acknowledged once returned.

    Prints `try` (with the command) before each command and `ok`/`refused` after it,
    flushed; first retries the previous writer's in-flight command, if given.
    """
    workload = WORKLOADS[domain]
    store = open_store(db, synchronous="FULL")
    bus = CommandBus(store, workload.model, ids=SequentialIds(f"k{cycle}"))
    catalog = workload.model.catalog
    projector = Projector(store, workload.projections, catalog, lease_seconds=0.5, batch=100)
    rng = random.Random(seed)
    print("ready", flush=True)
    if retry is not None:
        command_id = retry["command_id"]
        try:
            result = bus.execute_fields(
                retry["kind"], retry["fields"], actor="writer", command_id=command_id
            )
        except RuleRefused:
            print("retried refused", flush=True)
        else:
            outcome = "duplicate" if result.duplicate else "new"
            print(f"retried {outcome} {','.join(map(str, result.positions))}", flush=True)
    for n in range(1, 1_000_000):
        kind, fields = workload.random_command(rng)
        command_id = f"k{cycle}-{n}"
        attempt = {"command_id": command_id, "kind": kind, "fields": fields}
        print(f"try {json.dumps(attempt)}", flush=True)
        try:
            result = bus.execute_fields(kind, fields, actor="writer", command_id=command_id)
        except RuleRefused:
            print(f"refused {command_id}", flush=True)
            continue
        print(f"ok {command_id} {','.join(map(str, result.positions))}", flush=True)
        if n % 5 == 0:
            # The read models are written in the same file: kills land in them too.
            print("projecting", flush=True)
            projector.catch_up()
            print("projected", flush=True)


def _zygote() -> None:
    """Fork a writer per `run` line; kill it after the delay; print how it ended."""
    print("zygote ready", flush=True)
    for line in sys.stdin:
        _, db, acks, cycle, seed, delay_ms, retry_path, domain = line.split()
        retry = None if retry_path == "-" else json.loads(Path(retry_path).read_text())
        # Made before the fork, so they exist even if the kill lands at once.
        out = os.open(acks, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        err = os.open(str(Path(acks).with_suffix(".err")), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the writer
            code = 1
            try:
                os.dup2(out, 1)
                os.dup2(err, 2)
                _kill_writer(db, int(cycle), int(seed), retry, domain)
                code = 0
            except BaseException:
                traceback.print_exc()
                sys.stderr.flush()
            finally:
                os._exit(code)
        os.close(out)
        os.close(err)
        time.sleep(int(delay_ms) / 1000)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        print("killed" if killed else f"exited {status}", flush=True)


if __name__ == "__main__":
    if sys.argv[1:] != ["zygote"]:
        raise SystemExit("usage: kill_support.py zygote")
    _zygote()
