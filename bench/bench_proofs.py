"""The verifiable log at scale: proof latency, command path and bulk load with and without
the Merkle tree, tree storage against event storage (brief §9, "Proofs").

    .venv/bin/python bench/bench_proofs.py                 # 100,000 events
    .venv/bin/python bench/bench_proofs.py --events 1000000 --appends 2000

All in one run, against baselines in the same run:

- prove: an inclusion proof as `eventscope prove` builds it (read the event, the tree's
  root at the head and the inclusion path), for uniform random positions; p50 / p99;
- anchor: a consistency proof from a random old size to the head plus the new root;
  p50 / p99;
- verify --anchor: the whole O(log n) check `verify --anchor CHECKPOINT` runs
  (`store.proofs.anchor.check_anchor_fast`: signature, tree tied to the head, consistency
  proof, inclusion of the event at the checkpoint's size) for signed checkpoints of random
  sizes; p50 / p99, beside one full chain walk (`verify` without --anchor, what
  `verify --anchor` did before) in the same run;
- command path: one-event appends through `SqliteEventStore.append` on a copy of the
  demo database, with the tree kept (as shipped) and with the tree hook switched off,
  interleaved in rounds so drift hits both alike; mean per append, at the given
  `--synchronous` (FULL by default, as commands run);
- bulk load: `append_bulk` of the demo history into an empty file, with and without
  the tree;
- storage: bytes of `merkle_nodes` against `events` and its indexes (SQLite dbstat).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from domain.clock import StepClock  # noqa: E402
from domain.envelope import Metadata, NewEvent, StreamAppend  # noqa: E402
from domain.ledger.demo import generate_demo  # noqa: E402
from store.proofs.anchor import check_anchor_fast  # noqa: E402
from store.proofs.bundles import issue_checkpoint  # noqa: E402
from store.proofs.keys import generate  # noqa: E402
from store.proofs.sqlite_log import SqliteProofStore  # noqa: E402
from store.proofs.verifier import (  # noqa: E402
    leaf_hash,
    parse_checkpoint,
    verify_consistency,
    verify_inclusion,
)
from store.sqlite import SqliteEventStore  # noqa: E402
from store.sqlite import append as append_module  # noqa: E402
from store.sqlite import bulk as bulk_module  # noqa: E402

GOAL_PROVE_P99_MS = 5.0
GOAL_ANCHOR_MS = 50.0
GOAL_TREE_SHARE = 0.10
GOAL_COMMAND_OVERHEAD = 0.10


def _set_tree_hook(hook: Any) -> None:
    """Where appends and bulk loads grow the tree (`extend_tree`), swapped for `hook`."""
    append_module.extend_tree = bulk_module.extend_tree = hook


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@contextmanager
def _tree_off() -> Iterator[None]:
    """The store without its tree hook (the baseline)."""
    original = append_module.extend_tree
    _set_tree_hook(lambda conn, rows: None)
    try:
        yield
    finally:
        _set_tree_hook(original)


def _load(path: Path, history: list[Any]) -> float:
    """Bulk-load the demo history (generated beforehand) into a new file; returns seconds."""
    store = SqliteEventStore(path, create=True, synchronous="NORMAL")
    started = time.perf_counter()
    store.append_bulk(history)
    elapsed = time.perf_counter() - started
    store.close()
    return elapsed


def _timed(action: Callable[[], Any], count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return times


def _appends(path: Path, count: int, synchronous: str, tag: str) -> float:
    """Mean ms of `count` one-event appends on `path`."""
    store = SqliteEventStore(
        path, clock=StepClock(start="2030-01-01T00:00:00Z"), synchronous=synchronous
    )
    try:
        started = time.perf_counter()
        for i in range(count):
            store.append(
                [
                    StreamAppend(
                        f"bench-{tag}-{i}",
                        "bench",
                        0,
                        (NewEvent("Benched", {"i": i}, event_id=f"{tag}-{i}"),),
                    )
                ],
                Metadata("bench", f"cmd-{tag}-{i}", "bench"),
            )
        return (time.perf_counter() - started) * 1000 / count
    finally:
        store.close()


def _bytes(path: Path, names: list[str]) -> int:
    with sqlite3.connect(path) as conn:
        marks = ",".join("?" * len(names))
        row = conn.execute(f"SELECT sum(pgsize) FROM dbstat WHERE name IN ({marks})", names)
        return int(row.fetchone()[0] or 0)


def _fast_anchor(
    store: SqliteEventStore, proofs: SqliteProofStore, rng: random.Random, count: int
) -> None:
    """`verify --anchor CHECKPOINT`'s whole check, against the full chain walk."""
    head = store.head().position
    signer = generate("bench/log")
    kept = [
        parse_checkpoint(
            issue_checkpoint(
                proofs, rng.randint(1, head), origin="bench/log", signer=signer,
                issued_at="2026-12-06T00:00:00Z", keep=False,
            ).text
        )
        for _ in range(count)
    ]  # fmt: skip
    checks = iter(kept)

    cpu_ms: list[float] = []

    def fast() -> None:
        started = time.process_time()
        report = check_anchor_fast(proofs, store, next(checks), signer.verifier)
        cpu_ms.append((time.process_time() - started) * 1000)
        assert report.ok, report.problem

    fast_ms = _timed(fast, count)
    started = time.perf_counter()
    walked = store.verify()
    walk_ms = (time.perf_counter() - started) * 1000
    assert walked.ok, walked.problem
    f99 = _percentile(fast_ms, 0.99)
    print(
        f"verify --anchor CHECKPOINT (signature + tree tie + consistency + inclusion): "
        f"p50 {statistics.median(fast_ms):.3f} ms, p99 {f99:.3f} ms (goal < {GOAL_ANCHOR_MS} ms; "
        f"CPU p50 {statistics.median(cpu_ms):.3f} ms, p99 {_percentile(cpu_ms, 0.99):.3f} ms); "
        f"the full chain walk in this run: {walk_ms:,.0f} ms ({walk_ms / f99:,.0f}x the p99)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--proofs", type=int, default=2000, help="proofs timed")
    parser.add_argument("--appends", type=int, default=500, help="appends per round and side")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--synchronous", default="FULL")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-proofs-"))
    try:
        return _run(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run(args: argparse.Namespace, folder: Path) -> int:
    print(
        f"events: {args.events:,}; SQLite {sqlite3.sqlite_version}; python {sys.version.split()[0]}"
    )
    with_tree, without = folder / "tree.db", folder / "plain.db"
    history = list(generate_demo(args.events, args.seed))
    bulk_tree = _load(with_tree, history)
    with _tree_off():
        bulk_plain = _load(without, history)
    del history
    print(
        f"bulk load: {args.events / bulk_tree:,.0f} ev/s with the tree, "
        f"{args.events / bulk_plain:,.0f} ev/s without (time {bulk_tree / bulk_plain - 1:+.1%})"
    )

    store = SqliteEventStore(with_tree, read_only=True)
    proofs = SqliteProofStore(with_tree, read_only=True)
    head = store.head().position
    rng = random.Random(args.seed)

    def prove() -> None:
        position = rng.randint(1, head)
        event = store.read_all(after=position - 1, to=position)[0]
        root = proofs.root(head)
        path = proofs.inclusion_path(position - 1, head)
        verify_inclusion(leaf_hash(event.hash), position - 1, head, path, root)

    def anchor() -> None:
        old = rng.randint(1, head)
        old_root = proofs.root(old)
        path = proofs.consistency_path(old, head)
        verify_consistency(old, head, old_root, proofs.root(head), path)

    prove_ms = _timed(prove, args.proofs)
    anchor_ms = _timed(anchor, max(1, args.proofs // 4))
    p99 = _percentile(prove_ms, 0.99)
    a99 = _percentile(anchor_ms, 0.99)
    print(
        f"prove (event + root + path + verify): p50 {statistics.median(prove_ms):.3f} ms, "
        f"p99 {p99:.3f} ms (goal < {GOAL_PROVE_P99_MS} ms)"
    )
    print(
        f"anchor (consistency + roots + verify): p50 {statistics.median(anchor_ms):.3f} ms, "
        f"p99 {a99:.3f} ms (goal < {GOAL_ANCHOR_MS} ms)"
    )
    _fast_anchor(store, proofs, rng, max(1, args.proofs // 4))
    store.close()
    proofs.close()

    tree_bytes = _bytes(with_tree, ["merkle_nodes"])
    with sqlite3.connect(with_tree) as conn:
        indexes = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'"
            )
        ]
    event_bytes = _bytes(with_tree, ["events", *indexes])
    share = tree_bytes / event_bytes
    print(
        f"storage: tree {tree_bytes / 1e6:.1f} MB, events with indexes {event_bytes / 1e6:.1f} MB "
        f"({share:.1%}; goal <= {GOAL_TREE_SHARE:.0%})"
    )

    on, off = [], []
    hook = append_module.extend_tree
    in_hook: list[float] = []

    def timed_hook(conn: sqlite3.Connection, rows: Any) -> None:
        started = time.perf_counter()
        hook(conn, rows)
        in_hook.append((time.perf_counter() - started) * 1000)

    for round_ in range(args.rounds):
        _set_tree_hook(timed_hook)
        try:
            on.append(_appends(with_tree, args.appends, args.synchronous, f"on{round_}"))
        finally:
            _set_tree_hook(hook)
        with _tree_off():
            off.append(_appends(without, args.appends, args.synchronous, f"off{round_}"))
    mean_on, mean_off = statistics.median(on), statistics.median(off)
    hook_ms = statistics.mean(in_hook)
    print(
        f"command path ({args.synchronous}, {args.rounds}x{args.appends} one-event appends, "
        f"median of rounds): {mean_on:.3f} ms with the tree, {mean_off:.3f} ms without "
        f"({mean_on / mean_off - 1:+.1%}); time inside the tree hook {hook_ms * 1000:.0f} us "
        f"per append = {hook_ms / mean_off:.1%} of an append "
        f"(goal <= {GOAL_COMMAND_OVERHEAD:.0%})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
