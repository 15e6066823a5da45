"""Time travel: the state of every projection at any position, diffs, lineage, a cursor.

The one engine behind the CLI and the app, split by idea:

- `seek`: `Timeline`, the state at any position (a snapshot plus the tail);
- `cursor`: stepping, one event at a time either way;
- `diff`: rows added, removed and changed between two points;
- `lineage`: the events that changed one row;
- `blame`: the events that changed one field of a row (lineage narrowed to it);
- `aggregate`: one stream folded by its aggregate, event by event;
- `refusals`: the refused commands recorded up to a point;
- `replay`: the one upcast-then-fold loop they all use.

The timeline depends only on ports: an `EventStore` (the events), a `SnapshotStore`
(encoded states at some positions) and the projections, which are pure folds.

Seeking (`state_at(P)`)
    Decode the latest snapshot at or before P, then replay the events after it up to
    P. Measured on the 1M-event demo ledger (`bench/bench_timeline.py`, 2 cores, CPU
    time): a replayed event costs ~12 us, of which ~8 us is the store reading and
    decoding it (`EventStore.iter_all`) and ~4 us folding it into the five ledger
    projections; decoding a late snapshot (~3,300 accounts, ~5,400 audit flags)
    costs ~15-18 ms cold and ~9 ms once its shared chunks are cached (see
    `domain.snapshots`). The worst seek is "decode + replay a whole cadence".

    Cadence 1,024: the tail then costs at most ~13 ms. Measured over 300 random
    positions of the 1M-event demo (with other jobs loading both cores): CPU p50
    ~16 ms, p99 ~28 ms; wall p99 ~43 ms, inside the 50 ms goal. The chunked encoding
    (content-addressed chunks shared between snapshots, `domain.snapshots`) stores
    about half of what whole-state blobs did: 976 snapshots take ~121 MB, 15% of the
    events table and its indexes (goal: <= 25%), where whole-state orjson+zlib blobs
    took 31% at the same cadence. Halving the cadence would cut the tail by ~6 ms
    but double the storage (~30%); delta chains would save storage but add decodes
    to every seek. The 20 ms stretch is out of reach on this hardware: decoding a
    late state alone takes ~10 ms, and the store's per-event read cost bounds the
    tail.

    Snapshots sit on a fixed grid (multiples of `cadence`), so every process agrees
    on where they belong. Any replay that passes a grid point without a snapshot
    writes one (`save_snapshots=True`), and `build_snapshots()` fills the whole grid
    in one pass after a bulk load. A snapshot also records the hash of the event at
    its position and is ignored if the history there differs. Decoding and replaying
    run with the cyclic garbage collector paused (it tripled decode p99 otherwise).

Stepping (`Cursor`)
    A cursor keeps a working state and a journal of the rows each event changed,
    with their values before and after (the "images"), for a window of positions
    around it. +1 past the window's end folds one event; any move inside the window
    just writes the journaled images back, so -1 is as cheap as +1 (microseconds)
    without copying whole states per step, which at thousands of rows would cost
    milliseconds each (the Elm debugger keeps every state; that does not scale to a
    million events). A jump rebuilds the window from the nearest snapshot (one
    `state_at`, plus journaling the last `SEEK_JOURNAL` events so the first steps
    back are free); stepping back past the window's start rebuilds it with
    `BACK_JOURNAL` events, so that cost comes once per 512 steps back. Measured at
    1M events: p50 ~0.05 ms, p99 ~0.2 ms (goal: 10 ms); the rare rebuild costs about
    one `state_at`. Inside the
    window only rows are exact: `aux` bookkeeping stays at the window's furthest
    point, which is all folding forward needs, and `aux` is never displayed.

Refused commands are not events: projections implementing `merge_refusals`
(`domain.refusals`) get them overlaid at read time, by `state_at`, `diff` and the
cursor alike. Events stored at an older `schema_version` are upcast on read.
"""

from domain.timeline.aggregate import AggregateAt
from domain.timeline.blame import BlameEntry, field_blame
from domain.timeline.cursor import Cursor, Move
from domain.timeline.diff import ABSENT, Diff, FieldChange, ProjectionDiff, changed_keys, diff_rows
from domain.timeline.lineage import LineageStep, changed_fields
from domain.timeline.seek import DEFAULT_CADENCE, Timeline, build_snapshots

__all__ = [
    "ABSENT",
    "DEFAULT_CADENCE",
    "AggregateAt",
    "BlameEntry",
    "Cursor",
    "Diff",
    "FieldChange",
    "LineageStep",
    "Move",
    "ProjectionDiff",
    "Timeline",
    "build_snapshots",
    "changed_fields",
    "changed_keys",
    "diff_rows",
    "field_blame",
]
