"""Time travel at scale: state_at, cursor steps, full replay, snapshot size, peak RSS.

    .venv/bin/python bench/bench_timeline.py --events 1000000            # the goal run
    .venv/bin/python bench/bench_timeline.py --events 20000 --samples 50  # a quick look

The ledger history comes from the demo generator (`domain.ledger.demo`) and is kept in
`--db` (default: a file under the system temp folder named after the event count and
seed), so later runs reuse it; it is built in a child process, so this process's peak
RSS is the timeline's alone. Snapshots are written into the same file (in their own
table) the first time, and their build time is reported.

Every figure is measured in this run, beside its baseline (brief §9):

- raw floor: `sqlite3` select of (type, data, metadata) + orjson decode of both + an
  inline balance fold, over every event;
- store read: `SqliteEventStore.iter_all` alone (select, decode, RecordedEvent);
- timeline replay: `Timeline.advance` of all five ledger projections from 0 to the
  head (no snapshots written), reading through the `EventStore` port;
- rebuild path: the same five projections through `store.replay.fold_rows`, the
  projector's rebuild loop, judged against the goal (>= 50% of the raw floor);
- state_at(random P): `--samples` uniform random positions, every projection,
  refusals overlaid; wall p50/p99/max, and CPU time (less sensitive to neighbours);
  A/B in this run: the tail after the snapshot folded from narrow rows
  (`store.timeline_tail`, what the app does) and from full events (the old path),
  alternating at the same positions;
- cursor steps: at `--step-points` random positions, 25 steps back then 25 forward
  (each timed), plus one long run of steps back across snapshot boundaries;
- snapshot bytes (sum of blobs) over event bytes (the `events` table and its indexes,
  from SQLite's dbstat);
- peak RSS (`ru_maxrss`) of this process.

On PostgreSQL (issue 11), `--db postgresql://user@host:port/dbname` measures that
database (built with `eventscope demo` when empty), and `--db postgresql:` starts a
throwaway server for the run (tests/support/postgres_server.py) and builds it there:

    .venv/bin/python bench/bench_timeline.py --db postgresql: --events 1000000

The history is written by `eventscope --db URL demo --events N --no-open` in a child
process (the bulk path: `COPY`), timed. The timeline is the composition root's
(`tui.bootstrap.open_workspace(URL).timeline`, with its snapshot store), its snapshots
built once (timed), then `state_at(random P)` and the cursor steps as above; the
SQLite-only rows (raw floor, dbstat sizes) are left out.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from domain.ledger import CATALOG  # noqa: E402
from domain.ledger.fold_reads import LEDGER_EVENT_READS  # noqa: E402
from domain.ledger.projections import LEDGER_PROJECTIONS  # noqa: E402
from domain.projection import initial_states  # noqa: E402
from domain.timeline import DEFAULT_CADENCE, Timeline  # noqa: E402
from domain.timeline.replay import pause_collector_with  # noqa: E402
from store.chunk_cache import NearCursorChunks  # noqa: E402
from store.collector import collector_paused  # noqa: E402
from store.replay import SELECT_EVENTS, fold_rows  # noqa: E402
from store.snapshot_format import ZLIB, stored_snapshot_key  # noqa: E402
from store.snapshots import SqliteSnapshotStore  # noqa: E402
from store.sqlite import SqliteEventStore  # noqa: E402
from store.timeline_tail import lean_tail  # noqa: E402

GOAL_STATE_AT_P99_MS = 50.0
STRETCH_STATE_AT_P99_MS = 20.0
GOAL_STEP_P99_MS = 10.0
GOAL_SNAPSHOT_RATIO = 0.25
GOAL_REPLAY_OF_FLOOR = 0.5


def _build(path: Path, events: int, seed: int) -> None:
    """Create the demo ledger in a child process (its memory is not ours)."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from domain.ledger.demo import generate_demo\n"
        "from store.sqlite import SqliteEventStore\n"
        "store = SqliteEventStore.init(sys.argv[2], synchronous='NORMAL')\n"
        "head = store.append_bulk(generate_demo(int(sys.argv[3]), int(sys.argv[4])))\n"
        "print(head.position, len(store.refusals()))\n"
    )
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code, str(ROOT), str(path), str(events), str(seed)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    print(
        f"built {path} with {int(out[0]):,} events and {int(out[1]):,} refusals "
        f"in {time.perf_counter() - started:.0f} s (demo generator, synchronous=NORMAL)"
    )


def _pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _ms(values: Sequence[float]) -> str:
    return (
        f"p50 {_pct(values, 0.5) * 1e3:7.2f} ms   p99 {_pct(values, 0.99) * 1e3:7.2f} ms   "
        f"max {max(values) * 1e3:7.2f} ms   (n={len(values)})"
    )


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _table_bytes(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
    finally:
        conn.close()
    return {name: int(size) for name, size in rows}


def _event_bytes(path: Path) -> int:
    sizes = _table_bytes(path)
    conn = sqlite3.connect(path)
    try:
        indexes = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'"
            )
        ]
    finally:
        conn.close()
    return sizes.get("events", 0) + sum(sizes.get(name, 0) for name in indexes)


def _raw_floor(path: Path) -> tuple[int, float]:
    """sqlite3 select + orjson decode + an inline fold: the fastest honest replay."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    loads = orjson.loads
    balances: dict[str, int] = {}
    count = 0
    started = time.perf_counter()
    for kind, data_text, meta_text in conn.execute(
        "SELECT type, data, metadata FROM events ORDER BY position"
    ):
        data = loads(data_text)
        loads(meta_text)
        count += 1
        if kind == "MoneyDeposited":
            key = data["account_id"]
            balances[key] = balances.get(key, 0) + data["amount"]
        elif kind == "MoneyWithdrawn":
            key = data["account_id"]
            balances[key] = balances.get(key, 0) - data["amount"]
    elapsed = time.perf_counter() - started
    conn.close()
    return count, elapsed


def _projector_path(path: Path) -> tuple[int, float]:
    """The five projections through `store.replay.fold_rows` (the projector's rebuild)."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    states = initial_states(LEDGER_PROJECTIONS)
    count = 0
    started = time.perf_counter()
    position = 0
    while True:
        rows = conn.execute(SELECT_EVENTS, (position, 10_000)).fetchall()
        if not rows:
            break
        fold_rows(rows, LEDGER_PROJECTIONS, states, CATALOG)
        count += len(rows)
        position = rows[-1][0]
    elapsed = time.perf_counter() - started
    conn.close()
    return count, elapsed


def _store_read(store: SqliteEventStore) -> tuple[int, float]:
    count = 0
    started = time.perf_counter()
    for _ in store.iter_all():
        count += 1
    return count, time.perf_counter() - started


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def _near_cursor_seeks(
    timeline: Timeline, rng: random.Random, head: int, cadence: int, samples: int
) -> None:
    """Seeks near the cursor (scrubbing, a jump between two marks, stepping back out of
    a window): `state_at` within two cadences of the last position, on two timelines
    over the same store, alternating: the default chunk cache (shared chunks, admitted
    on a second sighting) and `NearCursorChunks` (what the app uses)."""
    near = _twin(timeline, chunk_cache=NearCursorChunks(grow=True))
    shared = _twin(timeline)
    times: dict[str, list[float]] = {"shared": [], "near": []}
    cpus: dict[str, list[float]] = {"shared": [], "near": []}
    position = rng.randint(0, head)
    for index in range(samples):
        if index % 25 == 0:
            position = rng.randint(0, head)  # a new place to scrub around
        position = max(0, min(head, position + rng.randint(-2 * cadence, 2 * cadence)))
        pair = [("shared", shared), ("near", near)]
        for name, each in pair if index % 2 else reversed(pair):
            wall, cpu = _timed(lambda t=each, p=position: t.state_at(p))
            times[name].append(wall)
            cpus[name].append(cpu)
    print(f"\n== state_at within {2 * cadence} events of the last (scrubbing), A/B ==")
    print(f"shared chunks (default)    {_ms(times['shared'])}")
    print(f"near-cursor chunks (app)   {_ms(times['near'])}")
    print(f"  cpu, shared              {_ms(cpus['shared'])}")
    print(f"  cpu, near-cursor         {_ms(cpus['near'])}")


def _twin(timeline: Timeline, **changes: object) -> Timeline:
    """A timeline over the same store and snapshots, with its own chunk cache."""
    settings: dict[str, object] = {
        "cadence": timeline.cadence, "codec": timeline.codec, "key": timeline.key,
        "tail": timeline.tail,
    }  # fmt: skip
    settings.update(changes)
    return Timeline(
        timeline.store, timeline.projections, timeline.catalog, timeline.snapshots,
        **settings,  # type: ignore[arg-type]
    )  # fmt: skip


def _state_at_and_steps(
    timeline: Timeline, head: int, args: argparse.Namespace, rng: random.Random
) -> None:
    """The state_at(random P) and cursor-step figures, on any store."""
    print("\n== state_at(random P), all five projections, refusals overlaid ==")
    # What set-up built is frozen, as the console script does after start-up and the
    # app at rest (tui/cli/start_up.py, settle_heap): the collector walks what came since.
    gc.collect()
    gc.freeze()
    # The A/B twin folds each tail from full events (the timeline's own loop).
    full = None if timeline.tail is None else _twin(timeline, tail=None)
    for _ in range(5):  # warm the page cache and the refusal index
        position = rng.randint(0, head)
        timeline.state_at(position)
        if full is not None:
            full.state_at(position)
    walls, cpus, full_walls, full_cpus = [], [], [], []
    for index in range(args.samples):
        position = rng.randint(0, head)
        pair = [(timeline, walls, cpus), (full, full_walls, full_cpus)]
        for each, wall_list, cpu_list in pair if index % 2 else reversed(pair):
            if each is not None:
                wall, cpu = _timed(lambda t=each, p=position: t.state_at(p))
                wall_list.append(wall)
                cpu_list.append(cpu)
    p99 = _pct(walls, 0.99) * 1e3
    if full is not None:
        print("tail from narrow rows (store.timeline_tail, the app's):")
    print(f"wall  {_ms(walls)}")
    print(f"cpu   {_ms(cpus)}")
    if full is not None:
        print("tail from full events (A/B baseline, same positions, alternating):")
        print(f"wall  {_ms(full_walls)}")
        print(f"cpu   {_ms(full_cpus)}")
    print(
        f"goal p99 < {GOAL_STATE_AT_P99_MS:.0f} ms: {_verdict(p99 < GOAL_STATE_AT_P99_MS)}; "
        f"stretch < {STRETCH_STATE_AT_P99_MS:.0f} ms: {_verdict(p99 < STRETCH_STATE_AT_P99_MS)}"
    )

    print("\n== cursor steps ==")
    seeks: list[float] = []
    back: list[float] = []
    forward: list[float] = []
    for _ in range(args.step_points):
        position = rng.randint(30, head)
        wall = time.perf_counter()
        cursor = timeline.cursor(position)
        seeks.append(time.perf_counter() - wall)
        for _ in range(25):
            back.append(_timed(lambda c=cursor: c.step(-1))[0])
        for _ in range(25):
            forward.append(_timed(lambda c=cursor: c.step(1))[0])
    long_run: list[float] = []
    cursor = timeline.cursor(rng.randint(head // 2, head))
    for _ in range(min(head, 3 * args.cadence)):
        long_run.append(_timed(lambda: cursor.step(-1))[0])
    steps = back + forward + long_run
    step_p99 = _pct(steps, 0.99) * 1e3
    print(f"open a cursor (a seek)     {_ms(seeks)}")
    print(f"step -1                    {_ms(back)}")
    print(f"step +1                    {_ms(forward)}")
    print(f"step -1 x{len(long_run):<5} in a row     {_ms(long_run)}")
    print(f"all steps                  {_ms(steps)}")
    print(f"goal p99 < {GOAL_STEP_P99_MS:.0f} ms: {_verdict(step_p99 < GOAL_STEP_P99_MS)}")


def _postgres_main(args: argparse.Namespace) -> int:
    """The PostgreSQL run: build (or reuse) the history, then state_at and the steps."""
    sys.path.insert(0, str(ROOT / "tests" / "support"))
    from postgres_server import start_server

    from tui.bootstrap import open_workspace

    server = start_server() if args.db == "postgresql:" else None
    url = server.database() if server is not None else args.db
    try:
        ws = open_workspace(url, create=True, actor="bench")
        empty = ws.store.head().position == 0
        ws.close()
        if empty:
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "tui", "--db", url, "demo", "--events", str(args.events),
                 "--seed", str(args.seed), "--no-open"],
                check=True, capture_output=True, cwd=ROOT,
            )  # fmt: skip
            print(
                f"built {args.events:,} demo events with `eventscope demo` in "
                f"{time.perf_counter() - started:.0f} s (COPY path, snapshots, read models)"
            )
        ws = open_workspace(url, actor="bench")
        timeline = ws.timeline
        head = timeline.head()
        print(f"database: PostgreSQL {url.rsplit('/', 1)[-1]} ({head:,} events)")
        started = time.perf_counter()
        written = timeline.build_snapshots()
        print(
            f"snapshots: {written} built in {time.perf_counter() - started:.1f} s by this "
            f"session (store: {type(ws._snapshots).__name__})"
        )
        _state_at_and_steps(timeline, head, args, random.Random(args.seed))
        ws.close()
    finally:
        if server is not None:
            server.stop()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average now: {load} on {os.cpu_count()} CPUs")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--db", default=None, help="a SQLite file, or postgresql://… (see above)")
    parser.add_argument("--cadence", type=int, default=DEFAULT_CADENCE)
    parser.add_argument("--samples", type=int, default=300, help="random state_at positions")
    parser.add_argument("--step-points", type=int, default=40, help="random cursor positions")
    parser.add_argument("--skip-replay", action="store_true", help="skip the full replays")
    args = parser.parse_args(argv)
    if args.db is not None and args.db.startswith("postgresql:"):
        return _postgres_main(args)

    path = (
        Path(args.db)
        if args.db
        else Path(tempfile.gettempdir()) / f"eventscope-bench-{args.events}-{args.seed}.db"
    )
    if not path.exists():
        _build(path, args.events, args.seed)
    store = SqliteEventStore(path, synchronous="NORMAL")
    snapshots = SqliteSnapshotStore(path)
    pause_collector_with(collector_paused)  # as the composition root does
    timeline = Timeline(
        store, LEDGER_PROJECTIONS, CATALOG, snapshots, cadence=args.cadence,
        codec=ZLIB, key=stored_snapshot_key(LEDGER_PROJECTIONS),
        tail=lean_tail(store, LEDGER_PROJECTIONS, CATALOG, LEDGER_EVENT_READS),
    )  # fmt: skip
    head = timeline.head()
    print(f"database: {path} ({head:,} events, synchronous=NORMAL for snapshot writes)")
    print(f"cadence: a snapshot every {args.cadence} events; Python {sys.version.split()[0]}")

    dropped = timeline.discard_stale_snapshots()
    if dropped:
        print(f"dropped {dropped} snapshots of other projection definitions")
    started = time.perf_counter()
    written = timeline.build_snapshots()
    if written:
        print(f"built {written} snapshots in {time.perf_counter() - started:.1f} s")

    print("\n== replay (events/s; the floor is measured in this run) ==")
    if not args.skip_replay:
        count, floor = _raw_floor(path)
        floor_rate = count / floor
        print(f"raw floor  (select + orjson x2 + inline fold) {floor_rate:>12,.0f} ev/s")
        count, read = _store_read(store)
        print(f"store read (iter_all -> RecordedEvent)       {count / read:>12,.0f} ev/s")
        states = initial_states(LEDGER_PROJECTIONS)
        saving, timeline.save_snapshots = timeline.save_snapshots, False
        wall, _cpu = _timed(lambda: timeline.advance(states, 0, head))
        timeline.save_snapshots = saving
        rate = head / wall
        print(
            f"timeline replay, five projections          {rate:>12,.0f} ev/s "
            f"({rate / floor_rate:.0%} of the floor; reads through EventStore.iter_all)"
        )
        del states
        count, elapsed = _projector_path(path)
        rate = count / elapsed
        ratio = rate / floor_rate
        verdict = _verdict(ratio >= GOAL_REPLAY_OF_FLOOR)
        print(
            f"rebuild path (store.replay.fold_rows), five {rate:>12,.0f} ev/s "
            f"({ratio:.0%} of the floor; goal >= {GOAL_REPLAY_OF_FLOOR:.0%}: {verdict})"
        )

    rng = random.Random(args.seed)
    _state_at_and_steps(timeline, head, args, rng)
    _near_cursor_seeks(timeline, rng, head, args.cadence, args.samples)

    print("\n== storage ==")
    snapshot_bytes = timeline.snapshot_size()
    count = len(snapshots.positions(timeline.key))
    event_bytes = _event_bytes(path)
    ratio = snapshot_bytes / event_bytes if event_bytes else 0.0
    print(f"events table + indexes      {event_bytes / 1e6:10.1f} MB")
    print(
        f"snapshots ({count:>5} blobs)     {snapshot_bytes / 1e6:10.1f} MB  "
        f"avg {snapshot_bytes / max(count, 1) / 1e3:.0f} KB"
    )
    verdict = _verdict(ratio <= GOAL_SNAPSHOT_RATIO)
    print(f"ratio {ratio:.1%}; goal <= {GOAL_SNAPSHOT_RATIO:.0%}: {verdict}")

    gc.collect()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of this process: {rss:.0f} MB")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average now: {load} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
