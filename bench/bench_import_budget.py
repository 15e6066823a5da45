"""Where a PostgreSQL import's time goes, and the best share of `COPY` this machine allows.

    .venv/bin/pip install -e '.[bench,postgres]'
    nice -n -15 .venv/bin/python bench/bench_import_budget.py --events 50000 --rounds 3

Issue 11 asks an import (a replay through the rules, then `COPY`) for >= 50% of a raw
`COPY` of the same rows. Both run on this machine's processors, the server's and the
client's work alike, so an import can be no faster than its CPU per event (the client's
and the server's) divided by the processors, whatever runs in parallel. This measures,
on one throwaway durable server (as `bench_postgres.py`), in alternating rounds on fresh
databases, for the very rows of one demo history:

1. raw `COPY` of the rows (the goal's baseline): wall, the client's CPU, the server's;
   and, for reference, the same `COPY` with the metadata's two indexes built after it,
   as a load into an empty store does (`store/postgres/bulk_indexes.py`);
2. `append_bulk` of the same history (`demo`'s path): the same rows (events, commands,
   refusals, Merkle nodes) with no replay, so its server CPU is the import's;
3. the import as shipped (`import_history` of the history's export): wall, the client's
   CPU (every thread, and the second process a large import replays the rules in), the
   server's; and the same import kept in one process (`replay_process=False`);
4. the import's client stages on the export, with no server: reading and line shapes,
   then the replay through the rules, then the hash chain (each stage includes the ones
   before it; `store.transfer.importer._Import`, the import's own loop).

The server backend's CPU is its process's (`/proc/PID/stat`, the connection's
`backend_pid`: utime + stime); "all but the client" is every processor's busy time
(`/proc/stat`) less the client's: the backend, the server's WAL writer and checkpointer,
the kernel's loopback network work (and anything else running: watch the load). Linux
only, on the server's machine (the throwaway server here). The last lines print the
bound: on N processors the import takes at least (the client's CPU + the backend's) / N
an event (the server's other processes left out: the most generous bound), so its share
of `COPY` is at most `COPY`'s wall over that, for any split of its work into threads or
processes that costs nothing.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests" / "support"))

from bench_postgres import client_cpu  # noqa: E402
from postgres_server import PostgresServer, start_server  # noqa: E402

from domain.envelope import GENESIS_HASH, Head  # noqa: E402
from domain.history_check import HistoryCheck  # noqa: E402
from domain.ledger.demo import generate_demo  # noqa: E402
from domain.ledger.description import LEDGER_DOMAIN  # noqa: E402
from store.hashchain import ChainExtender, recording  # noqa: E402
from store.jsonl import EventLines  # noqa: E402
from store.postgres.base import CHAIN_COLUMNS  # noqa: E402
from store.postgres.bulk_indexes import restore, set_aside  # noqa: E402
from store.postgres.store import PostgresEventStore  # noqa: E402
from store.transfer.export import export_history  # noqa: E402
from store.transfer.importer import _Import, import_history  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def machine_busy() -> float:
    """Seconds of CPU every processor of the machine has been busy (`/proc/stat`)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq = map(int, fields[:7])
    return (user + nice + system + irq + softirq) / TICK


def backend_cpu(pid: int) -> float:
    """Seconds of CPU (user + system) the server backend `pid` has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class Figures:
    """µs an event: wall, the client's CPU, the server backend's CPU, and the CPU of
    everything else on the machine (the server's other processes, the kernel's network
    work, anything else running) in one case's rounds."""

    def __init__(self) -> None:
        self.rounds: list[tuple[float, float, float, float]] = []

    def add(self, events: int, wall: float, client: float, server: float, busy: float) -> None:
        scale = 1e6 / events
        others = busy - client
        self.rounds.append((wall * scale, client * scale, server * scale, others * scale))

    def median(self, at: int) -> float:
        return statistics.median(r[at] for r in self.rounds)

    def line(self, name: str) -> str:
        walls = [r[0] for r in self.rounds]
        return (
            f"{name:<34} wall {self.median(0):6.1f} [{min(walls):.1f}-{max(walls):.1f}]"
            f" | client CPU {self.median(1):5.1f} | server backend {self.median(2):5.1f}"
            f" | all but the client {self.median(3):5.1f} µs an event"
        )


def timed(figures: Figures, events: int, backend: int, work: Callable[[], Any]) -> None:
    server, busy = backend_cpu(backend), machine_busy()
    start, cpu = time.perf_counter(), client_cpu()
    work()
    wall, client = time.perf_counter() - start, client_cpu() - cpu
    figures.add(events, wall, client, backend_cpu(backend) - server, machine_busy() - busy)


def store_backend(store: PostgresEventStore) -> int:
    return int(store._pg.info.backend_pid)


def raw_copy(
    server: PostgresServer,
    rows: list[tuple[Any, ...]],
    figures: Figures,
    *,
    indexes_after: bool = False,
) -> None:
    import psycopg

    url = server.database()
    PostgresEventStore(url, create=True).close()
    with psycopg.connect(url) as conn:

        def work() -> None:
            statement = f"COPY events ({CHAIN_COLUMNS}) FROM STDIN"
            aside = set_aside(conn) if indexes_after else None
            with conn.cursor() as cur, cur.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
            if aside is not None:
                restore(conn, aside)
            conn.commit()

        timed(figures, len(rows), conn.info.backend_pid, work)


def client_stages(exported: bytes, rounds: int) -> dict[str, float]:
    """µs an event of the import's client loop with no server, stage by stage (medians)."""

    def run(stage: str) -> float:
        lines = EventLines(io.BytesIO(exported))
        check = HistoryCheck(LEDGER_DOMAIN.model, LEDGER_DOMAIN.command_fields)
        if stage == "reading and line shapes":
            count, start = 0, time.process_time()
            for raw in lines.raw_lines():
                value = lines.object_of(raw)
                if "record" not in value:
                    lines.event_of(value)
                    count += 1
            return (time.process_time() - start) / count * 1e6
        state = _Import(lines, check, 0, "")
        chain = ChainExtender(Head(0, GENESIS_HASH), "", None, stream_version=lambda _: 0)
        count, start = 0, time.process_time()
        for item in state.items():
            if type(item) is tuple:
                if stage.endswith("chain"):
                    recording(chain, item)
                count += 1
        return (time.process_time() - start) / count * 1e6

    stages = ("reading and line shapes", "+ replay through the rules", "+ hash chain")
    return {s: statistics.median(run(s) for _ in range(rounds)) for s in stages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000, help="events in the history")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    options = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f}", flush=True)
    items = list(generate_demo(options.events, 7))
    cases = {
        "raw COPY": Figures(),
        "raw COPY, metadata indexes after": Figures(),
        "append_bulk (no replay)": Figures(),
        "import": Figures(),
        "import in one process": Figures(),
    }
    server = start_server(durable=True)
    try:
        source = PostgresEventStore(server.database(), create=True, domain="ledger")
        source.append_bulk(items)
        rows = [tuple(row) for row in source.iter_chain_rows()]
        buffer = io.BytesIO()
        export_history(source, buffer)
        source.close()
        exported = buffer.getvalue()
        events = len(rows)

        def into_fresh_store(case: str, work: Callable[[PostgresEventStore], Any]) -> None:
            store = PostgresEventStore(server.database(), create=True, domain="ledger")
            timed(cases[case], events, store_backend(store), lambda: work(store))
            store.close()

        steps: list[Callable[[], None]] = [
            lambda: raw_copy(server, rows, cases["raw COPY"]),
            lambda: raw_copy(
                server, rows, cases["raw COPY, metadata indexes after"], indexes_after=True
            ),
            lambda: into_fresh_store("append_bulk (no replay)", lambda s: s.append_bulk(items)),
            lambda: into_fresh_store(
                "import",
                lambda s: import_history(
                    s, io.BytesIO(exported), domain=LEDGER_DOMAIN, actor="bench"
                ),
            ),
            lambda: into_fresh_store(
                "import in one process",
                lambda s: import_history(
                    s,
                    io.BytesIO(exported),
                    domain=LEDGER_DOMAIN,
                    actor="bench",
                    replay_process=False,
                ),
            ),
        ]
        for round_ in range(options.rounds):
            for step in steps if round_ % 2 == 0 else steps[::-1]:
                step()
    finally:
        server.stop()
    stages = client_stages(exported, options.rounds)
    print(f"{events:,} events, {options.rounds} rounds (medians, [range] of the wall):")
    for name, figures in cases.items():
        print(figures.line(name))
    print("the import's client loop alone (no server, process CPU):")
    for name, value in stages.items():
        print(f"  {name:<32} {value:5.1f} µs an event")
    copy_wall = cases["raw COPY"].median(0)
    target = 2 * copy_wall
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    # The backend's CPU only (not the rest of the machine, which other work may share):
    # the bound is then the most generous one, and still a bound.
    client, server_cpu = cases["import"].median(1), cases["import"].median(2)
    replay = stages["+ replay through the rules"] - stages["reading and line shapes"]
    bound = max((client + server_cpu) / cores, server_cpu)
    print(
        f"50% of COPY needs the import at <= {target:.1f} µs an event; it takes "
        f"{cases['import'].median(0):.1f} ({copy_wall / cases['import'].median(0):.0%} of COPY)"
    )
    print(
        f"bound on {cores} processors: (client {client:.1f} + server backend {server_cpu:.1f}) / "
        f"{cores} = {bound:.1f} µs an event, so at most {copy_wall / bound:.0%} of COPY "
        "with a perfect split of the client's work and no cost to split it"
    )
    budget = target * cores - server_cpu
    print(
        f"for 50% on {cores} processors the client's CPU must be <= {budget:.1f} µs an event "
        f"in all (it is {client:.1f}; the replay through the rules alone is {replay:.1f}); "
        f"in one process (its threads share one interpreter), <= {target:.1f}"
    )
    print(f"load average at end: {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
