"""Hypothesis fuzzing of the import parser and the command path, for tests and the bench.

- Import: random bytes, random lines, and mutations of a valid export (bytes flipped,
  cut or inserted; lines dropped, doubled, swapped or cut; JSON fields set to random
  values or removed) are imported into an empty store and into one that the export
  continues. Only `DomainError`s may escape, with one-line messages; a refused import
  leaves the store exactly as it was; an accepted one can only hold the export's own
  events (a prefix of it) and must verify.
- Commands: random fields for every command type (and unknown ones), given as
  `key=value` pairs, as `--json`, or both, go through the CLI's `parse_fields`,
  `LEDGER.parse_command` and the command bus on a SQLite store. Only `DomainError`s
  may escape; an invalid or refused command appends nothing (a refusal is kept in the
  audit table, nothing else); an accepted one appends exactly its events.

`run_import_fuzz` and `run_command_fuzz` return counts by outcome; the tests run a
few hundred examples each (derandomized, so CI is stable), the bench thousands.
"""

from __future__ import annotations

import io
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
from bad_input_support import SPLIT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_support import check_ledger_invariants

from domain.bus import CommandBus
from domain.clock import SequentialIds
from domain.envelope import RecordedEvent
from domain.errors import DomainError, RuleRefused
from domain.ledger import LEDGER
from domain.ledger.projections import LEDGER_PROJECTIONS
from domain.projection import fold
from store.jsonl import import_events
from store.sqlite import SqliteEventStore
from tui.cli.commands import parse_fields

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _settings(examples: int, derandomize: bool) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=derandomize,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


# -- the import parser ----------------------------------------------------------------------


@st.composite
def mutated_lines(draw: st.DrawFn, lines: list[bytes]) -> bytes:
    """A valid export with one to three mutations."""
    lines = list(lines)
    for _ in range(draw(st.integers(1, 3))):
        op = draw(
            st.sampled_from(
                ["flip", "cut", "insert", "drop", "double", "swap", "truncate", "set", "remove"]
            )
        )
        i = draw(st.integers(0, len(lines) - 1)) if lines else 0
        if not lines:
            lines = [draw(st.binary(max_size=50))]
        elif op == "flip":
            line = bytearray(lines[i] or b" ")
            at = draw(st.integers(0, len(line) - 1))
            line[at] ^= draw(st.integers(1, 255))
            lines[i] = bytes(line)
        elif op == "cut":
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + lines[i][at + draw(st.integers(1, 20)) :]
        elif op == "insert":
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(st.binary(min_size=1, max_size=10)) + lines[i][at:]
        elif op == "drop":
            del lines[i]
        elif op == "double":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "truncate":
            del lines[i:]
        else:
            lines[i] = _json_edit(draw, lines[i], remove=op == "remove")
    return b"".join(line + b"\n" for line in lines)


def _json_edit(draw: st.DrawFn, line: bytes, *, remove: bool) -> bytes:
    """Set (or remove) a top-level, data or metadata field of a line to a random value."""
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        return line
    if not isinstance(event, dict) or not event:
        return line
    target: dict[str, Any] = event
    part = draw(st.sampled_from(["top", "data", "metadata"]))
    if part != "top" and isinstance(event.get(part), dict) and event[part]:
        target = event[part]
    key = draw(st.sampled_from(sorted(target)) | st.text(max_size=8))
    if remove:
        target.pop(key, None)
    else:
        target[key] = draw(JSON_VALUES)
    try:
        return orjson.dumps(event)
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits
        return line


def import_inputs(lines: list[bytes]) -> st.SearchStrategy[tuple[str, bytes]]:
    """(which target, file bytes): random bytes, random text lines, or a mutated export."""
    rest = lines[SPLIT:]
    text_lines = st.lists(st.text(max_size=120), max_size=8).map(
        lambda ls: "\n".join(ls).encode("utf-8", "surrogatepass")
    )
    return st.one_of(
        st.tuples(st.sampled_from(["empty", "continuing"]), st.binary(max_size=2000)),
        st.tuples(st.sampled_from(["empty", "continuing"]), text_lines),
        st.tuples(st.just("empty"), mutated_lines(lines)),
        st.tuples(st.just("continuing"), mutated_lines(rest)),
    )


class ImportTargets:
    """An empty store and a store the export continues, reset when an import changed one."""

    def __init__(self, template: Path, folder: Path) -> None:
        self.template = template
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        empty = template / "empty.db"
        if not empty.exists():
            SqliteEventStore.init(empty, synchronous="OFF").close()
        self.stores: dict[str, SqliteEventStore] = {}
        for name in ("empty", "continuing"):
            self.reset(name)

    def reset(self, name: str) -> SqliteEventStore:
        if name in self.stores:
            self.stores[name].close()
        source = self.template / ("empty.db" if name == "empty" else "target.db")
        path = self.folder / f"{name}.db"
        shutil.copyfile(source, path)
        self.stores[name] = SqliteEventStore(path, synchronous="OFF")
        return self.stores[name]

    def close(self) -> None:
        for store in self.stores.values():
            store.close()


def _validate(event: RecordedEvent) -> None:
    """What `eventscope import` checks besides the chain: the payload decodes."""
    LEDGER.catalog.decode(event.type, event.schema_version, event.data)


def _rows(store: SqliteEventStore) -> tuple[int, ...]:
    conn = store._conn()
    return tuple(
        conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("events", "commands", "refusals")
    )


def check_import(
    targets: ImportTargets, which: str, data: bytes, original: dict[int, dict[str, Any]]
) -> str:
    """Import `data` into target `which`; returns "refused" or "imported" (checked)."""
    store = targets.stores[which]
    before, rows = store.head(), _rows(store)
    try:
        head = import_events(store, io.BytesIO(data), validate=_validate, name="fuzz")
    except DomainError as exc:
        assert "\n" not in exc.message, f"not one line: {exc.message!r}"
        assert store.head() == before and _rows(store) == rows, "a refused import wrote"
        return "refused"
    imported = store.read_all(after=before.position)
    assert imported and head.position == imported[-1].position
    for event in imported:
        assert event.to_json_dict() == original[event.position], (
            f"an import accepted a changed event at {event.position}"
        )
    assert store.verify().ok
    targets.reset(which)
    return "imported"


def run_import_fuzz(
    template: Path, folder: Path, examples: int, *, derandomize: bool = False
) -> Counter[str]:
    """Fuzz `import` (see the module docstring); returns outcomes counted."""
    lines = (template / "bank.jsonl").read_bytes().splitlines()
    original = {orjson.loads(line)["position"]: orjson.loads(line) for line in lines}
    targets = ImportTargets(template, folder)
    outcomes: Counter[str] = Counter()

    @_settings(examples, derandomize)
    @given(import_inputs(lines))
    def fuzz(case: tuple[str, bytes]) -> None:
        outcomes[check_import(targets, case[0], case[1], original)] += 1

    try:
        fuzz()
    finally:
        targets.close()
    return outcomes


# -- the command path -----------------------------------------------------------------------

ACCOUNT_IDS = ["e1", "e2", "y1", "y2", "fz", "cl", "nobody", "E1", "", " e1 ", "a" * 41]
AMOUNTS = ["1", "0.01", "12.50", "3", "0", "-1", "1.234", "1e3", "NaN", "9" * 25, " 5 ", "1_000"]
FIELD_VALUES = st.one_of(
    st.sampled_from(ACCOUNT_IDS),
    st.sampled_from(AMOUNTS),
    st.sampled_from(["EUR", "eur", "JPY", "XYZ", "fraud check", ""]),
    JSON_VALUES,
)
_ACCOUNT = st.sampled_from(ACCOUNT_IDS[:7])
_AMOUNT = st.sampled_from(AMOUNTS[:4]) | st.sampled_from(AMOUNTS)
_REASON = st.sampled_from(["fraud check", "cleared", ""])
PLAUSIBLE: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "open_account": {
        "account_id": st.from_regex(r"[a-z0-9-]{1,12}", fullmatch=True),
        "owner": st.sampled_from(["Ann", "Zoë O'Neil"]) | st.text(min_size=1, max_size=20),
        "currency": st.sampled_from(["EUR", "JPY", "usd", "XYZ"]),
        "overdraft_limit": st.sampled_from(["0", "100", "0", "-5"]),
    },
    "deposit": {
        "account_id": _ACCOUNT,
        "amount": _AMOUNT,
        "reference": st.sampled_from(["", "inv-7"]) | st.text(max_size=10),
    },
    "withdraw": {"account_id": _ACCOUNT, "amount": _AMOUNT},
    "transfer": {"from_account": _ACCOUNT, "to_account": _ACCOUNT, "amount": _AMOUNT},
    "freeze_account": {"account_id": _ACCOUNT, "reason": _REASON},
    "unfreeze_account": {"account_id": _ACCOUNT, "reason": _REASON},
    "set_overdraft_limit": {"account_id": _ACCOUNT, "limit": _AMOUNT},
    "close_account": {"account_id": _ACCOUNT, "reason": _REASON},
}
"""Fields that are often valid, so the fuzz reaches the rules and the store too."""


@st.composite
def command_inputs(draw: st.DrawFn) -> tuple[str, list[str], str | None]:
    """(command type, key=value pairs, --json text) as a user could type them:
    plausible fields for a command (or an unknown one), then 0-3 mutations."""
    type_name = draw(st.sampled_from([*PLAUSIBLE, "teleport", "Deposit"]))
    plausible = PLAUSIBLE.get(type_name, PLAUSIBLE["deposit"])
    fields: dict[str, Any] = {name: draw(values) for name, values in plausible.items()}
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2, 3]))):
        key = draw(st.sampled_from(sorted(plausible)) | st.text(max_size=8))
        if draw(st.booleans()):
            fields.pop(key, None)
        else:
            fields[key] = draw(FIELD_VALUES)
    style = draw(st.sampled_from(["pairs", "json", "both", "pairs", "json", "raw"]))
    pairs: list[str] = []
    json_text: str | None = None
    if style in ("pairs", "both"):
        pairs = [f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in fields.items()]
    if style in ("json", "both"):
        # The standard library writes what orjson refuses (NaN, integers beyond 64 bits).
        json_text = json.dumps(fields)
    if style == "raw":
        pairs = draw(st.lists(st.text(max_size=20), max_size=4))
        json_text = draw(st.none() | st.text(max_size=40))
    return type_name, pairs, json_text


def check_command(
    bus: CommandBus,
    store: SqliteEventStore,
    type_name: str,
    pairs: list[str],
    json_text: str | None,
) -> str:
    """Run one fuzzed command; returns "ok", "refused" or "invalid" (checked)."""
    before = store.head()
    events, commands, refusals = _rows(store)
    try:
        fields = parse_fields(pairs, json_text)
        command = LEDGER.parse_command(type_name, fields)
        result = bus.execute(command, actor="fuzz")
    except RuleRefused as exc:
        assert "\n" not in exc.message
        assert store.head() == before and _rows(store) == (events, commands, refusals + 1)
        return "refused"
    except DomainError as exc:
        assert "\n" not in exc.message
        assert store.head() == before and _rows(store) == (events, commands, refusals)
        return "invalid"
    head = store.head().position
    assert result.positions == tuple(range(before.position + 1, head + 1)) and result.positions
    assert _rows(store) == (head, commands + 1, refusals)
    return "ok"


def run_command_fuzz(
    template: Path, folder: Path, examples: int, *, derandomize: bool = False
) -> Counter[str]:
    """Fuzz the command path (see the module docstring); returns outcomes counted.

    At the end the chain must verify and the ledger's invariants hold.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "commands.db"
    shutil.copyfile(template / "bank.db", path)
    outcomes: Counter[str] = Counter()
    with SqliteEventStore(path, synchronous="OFF") as store:
        bus = CommandBus(store, LEDGER, ids=SequentialIds("fuzz"))

        @_settings(examples, derandomize)
        @given(command_inputs())
        def fuzz(case: tuple[str, list[str], str | None]) -> None:
            outcomes[check_command(bus, store, *case)] += 1

        fuzz()
        assert store.verify().ok
        states = fold(LEDGER_PROJECTIONS, store.iter_all())
    check_ledger_invariants(states)
    return outcomes
