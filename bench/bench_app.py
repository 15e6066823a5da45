"""The app at scale: first paint, scrub and jump latency, peak RSS (brief §9).

    .venv/bin/python bench/bench_app.py --large /tmp/app1m/d.db       # the goal run
    .venv/bin/python bench/bench_app.py --large /tmp/app1m/d.db --steps 100 --jumps 30
    .venv/bin/python bench/bench_app.py --large /mnt/ro/ledger-10m.db --read-only

Runs the real app (`EventscopeApp` on a `Session`, projector, watcher and chain check
all on, as `eventscope` opens it) headless under Textual's `run_test`, once on the
`--large` database (a 1M-event demo: build it with `eventscope --db X demo --events
1000000 --no-open`) and once on a 10k-event demo written into a temporary folder in
this run. Each database is measured in its own child process, so each peak RSS is one
app's. The large database is opened writable, as the app would open it: its projector
takes the lease (and writes nothing when the read models are current). With
`--read-only` both are opened as `eventscope --read-only` opens them (no projector: the
present is the timeline's state at the head); on a read-only mount nothing at all is
written, not even SQLite's `-shm` (the way to measure a file that must stay untouched).

What is timed (wall clock, `time.perf_counter`):

- first paint: from just before `open_workspace` to the first screen update drawn
  after the panels received their first frame. Python's start and the imports are
  before that and reported apart (`imports`);
- scrub: a key (`right`, `left`) sent the way a terminal sends it (the driver's
  message queue), to the first screen update drawn after the panels show the
  frame at the new position. One key at a time, each waiting for the last to land;
- jump: `MainScreen.go(P)` for uniform random P (what `g`, a scrubber click or a
  palette entry calls) to the first screen update after the panels show P;
- peak RSS: `ru_maxrss` of the child at the end.

"Screen update drawn" is the compositor's update handed to `App._display` (wrapped to
note the time): every widget has rendered its lines by then; headless, only the write
to a terminal is skipped.

On PostgreSQL (issue 11), `--large postgresql://user@host:port/dbname` opens that
database (build it with `eventscope --db URL demo --events 1000000 --no-open`), and
`--large postgresql:` starts a throwaway server (tests/support/postgres_server.py) and
builds both databases there with `eventscope demo` (the COPY path, timed):

    .venv/bin/python bench/bench_app.py --large postgresql: --runs 2

The small database is then on the same server, so the baseline shares the store; with
a URL it is a SQLite file, as without PostgreSQL.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL_FIRST_PAINT_S = 1.0
GOAL_SCRUB_P95_MS = 50.0
GOAL_JUMP_P95_MS = 100.0
GOAL_RSS_MB = 300.0


# -- the child: one app on one database ------------------------------------------------


class Probe:
    """Notes when the panels get a frame and when the screen is next drawn."""

    def __init__(self) -> None:
        self.shown_position: int | None = None
        self.shown_at = 0.0
        self.painted_at = 0.0
        self.expected: int | None = None
        self.arrived = asyncio.Event()

    def shown(self, position: int) -> None:
        self.shown_position = position
        self.shown_at = time.perf_counter()

    def painted(self) -> None:
        self.painted_at = time.perf_counter()
        if self.expected is not None and self.landed(self.expected):
            self.arrived.set()

    async def wait(self, position: int, timeout: float) -> None:
        """Until the screen is drawn with the panels at `position` (no polling: the
        measuring must not take the CPU from what it measures)."""
        self.expected = position
        self.arrived.clear()
        if not self.landed(position):
            await asyncio.wait_for(self.arrived.wait(), timeout)
        self.expected = None

    def landed(self, position: int) -> bool:
        """True once the panels showed `position` and the screen was drawn after that."""
        return self.shown_position == position and self.painted_at > self.shown_at


def _cpu_ms() -> float:
    """CPU time of this process so far (every thread, user and system), in ms."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return (usage.ru_utime + usage.ru_stime) * 1000


async def _until(condition: Any, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the app did not get there in time")
        await asyncio.sleep(0.0005)


def child(args: argparse.Namespace) -> dict[str, Any]:
    """Open the app on `args.child`, measure, and return the figures."""
    from textual import events

    from tui.app import open_app
    from tui.bootstrap import open_workspace
    from tui.widgets.projection_panels import ProjectionPanels

    imports = time.perf_counter() - STARTED
    probe = Probe()
    show_frame = ProjectionPanels.show_frame

    def timed_show_frame(self: ProjectionPanels, frame: Any, *, follow: bool = True) -> None:
        show_frame(self, frame, follow=follow)
        probe.shown(frame.position)

    ProjectionPanels.show_frame = timed_show_frame  # type: ignore[method-assign]
    width, height = (int(v) for v in args.size.split("x"))
    rng = random.Random(args.seed)
    result: dict[str, Any] = {"imports_s": imports}

    async def run() -> None:
        opened = time.perf_counter()
        workspace = open_workspace(args.child, read_only=args.read_only)
        app = open_app(workspace)
        app.cursor_blink = False
        display = app._display

        def timed_display(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if renderable is not None:
                probe.painted()

        app._display = timed_display  # type: ignore[method-assign]
        try:
            async with app.run_test(size=(width, height)) as pilot:
                await _until(lambda: probe.shown_position is not None, 60)
                await _until(lambda: probe.painted_at > probe.shown_at, 60)
                result["first_paint_s"] = probe.painted_at - opened
                screen = app.main
                result["first_source"] = screen.frame.source if screen.frame else None
                await _until(lambda: screen.head > 0 and screen.frame is not None, 60)
                head = screen.head
                result["head"] = head
                # Scrubbing is measured once the chain check (a child process on large
                # stores) is done: on a machine shared with other work it takes a core.
                await _until(lambda: screen.checks.chain.state not in ("unknown", "checking"), 600)
                result["chain_s"] = time.perf_counter() - opened

                async def move(expected: int, action: Any) -> float:
                    await asyncio.sleep(args.pause)
                    start = time.perf_counter()
                    action()
                    await probe.wait(expected, 30)
                    return (probe.painted_at - start) * 1000

                def key(name: str) -> Any:
                    driver = app._driver
                    assert driver is not None
                    return lambda: driver.send_message(events.Key(name, None))

                # Step away from live to the middle, then scrub from there.
                middle = head // 2
                await move(middle, lambda: screen.go(middle))
                scrub: list[float] = []
                cpu = _cpu_ms()
                for i in range(args.steps):
                    name = "right" if (i // 25) % 2 == 0 else "left"
                    expected = screen.target + (1 if name == "right" else -1)
                    scrub.append(await move(expected, key(name)))
                result["scrub_cpu_ms"] = (_cpu_ms() - cpu) / max(1, args.steps)
                pages: list[float] = []
                for i in range(max(4, args.steps // 10)):
                    name = "pagedown" if i % 2 == 0 else "pageup"
                    # A page moves 1,000 events, or to the first or last one.
                    moved = screen.target + (1000 if name == "pagedown" else -1000)
                    expected = min(head, max(1, moved))
                    pages.append(await move(expected, key(name)))
                jumps: list[float] = []
                cpu = _cpu_ms()
                for _ in range(args.jumps):
                    target = rng.randint(1, head)
                    jumps.append(await move(target, lambda t=target: screen.go(t)))
                result["jump_cpu_ms"] = (_cpu_ms() - cpu) / max(1, args.jumps)
                result["scrub_ms"] = scrub
                result["page_ms"] = pages
                result["jump_ms"] = jumps
                result["chain"] = screen.checks.chain.state
                result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                # The figures, before the app and the workspace close (a crash while
                # closing must not lose them; the parent reads the last line).
                print(json.dumps(result), flush=True)
                await pilot.pause(0.05)
        finally:
            workspace.close()

    asyncio.run(run())
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


# -- the parent: build the small database, run both, print the table --------------------


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def _run_child(db: Path | str, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        str(db),
        "--size",
        args.size,
        "--steps",
        str(args.steps),
        "--jumps",
        str(args.jumps),
        "--seed",
        str(args.seed),
        "--pause",
        str(args.pause),
        *(["--read-only"] if args.read_only else []),
    ]
    out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _build_small(folder: Path, events: int) -> Path:
    path = folder / f"demo-{events}.db"
    _demo(str(path), events)
    return path


def _demo(db: str, events: int) -> float:
    """`eventscope --db DB demo --events N --no-open`; returns its seconds."""
    eventscope = Path(sys.executable).with_name("eventscope")
    started = time.perf_counter()
    subprocess.run(
        [str(eventscope), "--db", db, "demo", "--events", str(events), "--no-open"],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    return time.perf_counter() - started


def _postgres_databases(args: argparse.Namespace, server: Any) -> list[tuple[str, str]]:
    """The small and large databases on PostgreSQL, built on a throwaway `server`."""
    small, large = server.database(), server.database()
    for url, events in ((small, args.small_events), (large, args.large_events)):
        seconds = _demo(url, events)
        print(f"built {events:,} demo events on PostgreSQL in {seconds:.0f} s (eventscope demo)")
    return [(f"{args.small_events:,} events, PostgreSQL", small), ("large, PostgreSQL", large)]


def _row(name: str, value: float, goal: str, ok: bool | None, unit: str) -> str:
    verdict = "" if ok is None else ("PASS" if ok else "MISS")
    return f"  {name:<34} {value:>10.1f} {unit:<3} {goal:<10} {verdict:<4}"


STATS = (
    ("first paint", "first", "< 1000 ms", GOAL_FIRST_PAINT_S * 1000),
    ("scrub ←/→ p50", "scrub50", "", None),
    ("scrub ←/→ p95", "scrub95", "< 50 ms", GOAL_SCRUB_P95_MS),
    ("scrub ←/→ max", "scrubmax", "", None),
    ("scrub CPU per key (info)", "scrubcpu", "", None),
    ("PgUp/PgDn (±1000) p95 (info)", "page95", "", None),
    ("jump to random P p50", "jump50", "", None),
    ("jump to random P p95", "jump95", "< 100 ms", GOAL_JUMP_P95_MS),
    ("jump CPU per jump (info)", "jumpcpu", "", None),
    ("peak RSS", "rss", "< 300 MB", GOAL_RSS_MB),
    ("imports, before open (info)", "imports", "", None),
)


def _summary(figures: dict[str, Any]) -> dict[str, float]:
    """One run's figures as the table's statistics (ms, MB)."""
    scrub, pages, jumps = figures["scrub_ms"], figures["page_ms"], figures["jump_ms"]
    return {
        "first": figures["first_paint_s"] * 1000,
        "scrub50": statistics.median(scrub),
        "scrub95": _percentile(scrub, 95),
        "scrubmax": max(scrub),
        "scrubcpu": figures["scrub_cpu_ms"],
        "page95": _percentile(pages, 95),
        "jump50": statistics.median(jumps) if jumps else float("nan"),
        "jump95": _percentile(jumps, 95),
        "jumpcpu": figures["jump_cpu_ms"],
        "rss": figures["peak_rss_mb"],
        "imports": figures["imports_s"] * 1000,
    }


def parent(args: argparse.Namespace) -> None:
    if args.large.startswith("postgresql:"):
        sys.path.insert(0, str(ROOT / "tests" / "support"))
        from postgres_server import start_server

        server = start_server() if args.large == "postgresql:" else None
        try:
            if server is not None:
                _measure(args, _postgres_databases(args, server))
            else:  # the baseline: the small demo on SQLite
                with tempfile.TemporaryDirectory(prefix="bench-app-") as folder:
                    small = _build_small(Path(folder), args.small_events)
                    databases = [(f"{args.small_events:,} events, SQLite", small)]
                    _measure(args, [*databases, ("large, PostgreSQL", args.large)])
        finally:
            if server is not None:
                server.stop()
        return
    large = Path(args.large)
    if not large.exists():
        sys.exit(
            f"{large} does not exist; build it first (2-4 min):\n"
            f"  .venv/bin/eventscope --db {large} demo --events 1000000 --no-open"
        )
    with tempfile.TemporaryDirectory(prefix="bench-app-") as folder:
        small = _build_small(Path(folder), args.small_events)
        _measure(args, [(f"{args.small_events:,} events", small), (f"large: {large}", large)])


def _measure(args: argparse.Namespace, databases: list[tuple[str, Path | str]]) -> None:
    print(
        f"bench_app: {args.size} terminal, {args.steps} scrub keys and {args.jumps} jumps "
        f"per run, {args.runs} runs per database, {args.pause * 1000:.0f} ms between moves"
    )
    print(f"load average (1 min) at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    results: dict[str, list[dict[str, float]]] = {label: [] for label, _ in databases}
    heads: dict[str, int] = {}
    loads: list[float] = []
    for _ in range(args.runs):  # alternate, so a busy spell hits both alike
        for label, db in databases:
            loads.append(os.getloadavg()[0])
            figures = _run_child(db, args)
            heads[label] = figures["head"]
            results[label].append(_summary(figures))
    for label, _ in databases:
        runs = results[label]
        print(f"\n{label} (head #{heads[label]:,}): median of {len(runs)} runs")
        print(f"  {'':<34} {'median':>10} {'':<3} {'goal':<10} {'':<4}  runs")
        for name, key, goal, limit in STATS:
            values = [run[key] for run in runs]
            median = statistics.median(values)
            unit = "MB" if key == "rss" else "ms"
            ok = None if limit is None else median < limit
            each = " ".join(f"{v:.0f}" for v in values)
            print(f"{_row(name, median, goal, ok, unit):<66}  {each}")
    print(
        f"\nload average (1 min) before each run: {' '.join(f'{v:.1f}' for v in loads)}; "
        f"at the end: {os.getloadavg()[0]:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--large", default="/tmp/app1m/d.db", help="the 1M-event demo db, or postgresql:…"
    )
    parser.add_argument("--small-events", type=int, default=10_000)
    parser.add_argument(
        "--large-events", type=int, default=1_000_000, help="events of --large postgresql:"
    )
    parser.add_argument("--steps", type=int, default=200, help="scrub keys per database")
    parser.add_argument("--jumps", type=int, default=50, help="random jumps per database")
    parser.add_argument("--size", default="120x36", help="terminal size, WxH")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3, help="app runs per database")
    parser.add_argument(
        "--pause", type=float, default=0.05, help="seconds between one move landing and the next"
    )
    parser.add_argument(
        "--read-only", action="store_true", help="open both databases as `--read-only` does"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args)))
    else:
        parent(args)


if __name__ == "__main__":
    main()
