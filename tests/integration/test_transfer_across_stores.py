"""Export and import run on the store roles only, so a history moves between stores.

A ledger history is written into the in-memory store through the command bus (with
refusals, a command that recorded no event, bookmarks and an earlier import), exported,
imported into a SQLite file, exported again and imported back into memory: every hop
keeps the head hash, the events, refusals, command payloads and bookmarks, and the
import records (each earlier one restored by the hop's own).
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

import pytest
from cli_support import Cli
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from domain.bus import CommandBus
from domain.envelope import Metadata
from domain.errors import InvalidInput, RuleRefused
from domain.ledger.description import LEDGER_DOMAIN
from domain.ports import EventStore
from store import InMemoryEventStore, SqliteEventStore
from store.transfer.export import export_history
from store.transfer.importer import ImportResult, import_history

COMMANDS = [
    ("open_account", {"account_id": "a1", "owner": "Ann", "currency": "EUR"}),
    ("open_account", {"account_id": "a2", "owner": "Bob", "currency": "EUR"}),
    ("open_account", {"account_id": "u1", "owner": "Uma", "currency": "USD"}),
    ("deposit", {"account_id": "a1", "amount": "100.00"}),
    ("withdraw", {"account_id": "a2", "amount": "5000.00"}),  # refused: beyond the funds
    ("transfer", {"from_account": "a1", "to_account": "a2", "amount": "30.00"}),
    ("transfer", {"from_account": "a1", "to_account": "u1", "amount": "1.00"}),  # refused
    ("deposit", {"account_id": "u1", "amount": "7.00"}),
]


def _run(store: EventStore, commands: list[tuple[str, dict[str, str]]]) -> int:
    """Run `commands` through the bus; returns how many were refused."""
    bus = CommandBus(store, LEDGER_DOMAIN.model)
    refused = 0
    for name, fields in commands:
        try:
            bus.execute_fields(name, fields, actor="teller")
        except RuleRefused:
            refused += 1
    return refused


def _export(store: EventStore) -> bytes:
    out = io.BytesIO()
    export_history(store, out)
    return out.getvalue()


def _import(store: EventStore, data: bytes, name: str) -> ImportResult:
    return import_history(store, io.BytesIO(data), domain=LEDGER_DOMAIN, actor="auditor", name=name)


def _without_imports(export: bytes) -> list[bytes]:
    return [line for line in export.splitlines() if b'"record":"import"' not in line]


@pytest.fixture
def origin() -> InMemoryEventStore:
    """Memory: an import of 3 events, then commands, refusals, an empty command, marks."""
    seed = InMemoryEventStore()
    _run(seed, COMMANDS[:3])
    store = InMemoryEventStore()
    assert _import(store, _export(seed), "seed.jsonl").events == 3
    assert _run(store, COMMANDS[3:]) == 2
    store.append(
        [],
        Metadata(actor="ann", command_id="nothing-1", command_type="deposit", command={"x": 1}),
    )
    store.set_bookmark("before the transfer", 4, actor="ann")
    store.set_bookmark("end", store.head().position, actor="bob")
    return store


def test_a_history_moves_from_memory_to_sqlite_and_back(
    origin: InMemoryEventStore, tmp_path: Path
) -> None:
    first = _export(origin)
    with SqliteEventStore(tmp_path / "copy.db", create=True) as copy:
        result = _import(copy, first, "first.jsonl")
        assert result.events == origin.head().position == 7
        assert result.restored == {"command": 7, "refusal": 2, "bookmark": 2, "import": 1}
        second = _export(copy)
        kept_in_sqlite = (copy.head(), copy.read_all(), copy.refusals(), copy.imports())
        sqlite_bookmarks = copy.bookmarks()
    back = InMemoryEventStore()
    _import(back, second, "second.jsonl")

    sqlite_head, sqlite_events, sqlite_refusals, sqlite_imports = kept_in_sqlite
    assert sqlite_head == origin.head() and sqlite_events == origin.read_all()
    assert sqlite_refusals == origin.refusals()
    assert back.head() == origin.head() and back.read_all() == origin.read_all()
    assert back.refusals() == origin.refusals() and len(origin.refusals()) == 2
    assert sqlite_bookmarks == back.bookmarks() == origin.bookmarks()
    assert back.verify().ok
    assert _without_imports(first) == _without_imports(second) == _without_imports(_export(back))
    commands = [e.metadata["command_id"] for e in origin.read_all()]
    for command_id in [*commands, "nothing-1"]:
        assert back.command_payload(command_id) == origin.command_payload(command_id)
    assert back.empty_commands() == origin.empty_commands() != []

    # Each hop restores the earlier import records and adds its own.
    origin_imports = origin.imports()
    assert [(r.id, r.source, r.restored_by) for r in origin_imports] == [(1, "seed.jsonl", None)]
    assert [(r.id, r.source, r.restored_by) for r in sqlite_imports] == [
        (1, "seed.jsonl", 2),
        (2, "first.jsonl", None),
    ]
    assert [(r.id, r.source, r.restored_by) for r in back.imports()] == [
        (1, "seed.jsonl", 3),
        (2, "first.jsonl", 3),
        (3, "second.jsonl", None),
    ]
    same = ("actor", "imported_at", "sha256", "first_position", "last_position", "events")
    assert [[getattr(r, f) for f in same] for r in back.imports()[:2]] == [
        [getattr(r, f) for f in same] for r in sqlite_imports
    ]
    assert b'"record":"import"' in second


def test_an_import_into_memory_refuses_what_sqlite_refuses(origin: InMemoryEventStore) -> None:
    """A duplicate bookmark: the in-memory store is left as it was."""
    data = _export(origin)
    target = InMemoryEventStore()
    _import(target, data, "once.jsonl")
    before = (target.head(), target.bookmarks(), target.imports(), target.refusals())
    doubled = data + b"".join(
        line + b"\n" for line in data.splitlines() if b'"record":"bookmark"' in line
    )
    fresh = InMemoryEventStore()
    with pytest.raises(InvalidInput, match="bookmark before the transfer already exists"):
        _import(fresh, doubled, "twice.jsonl")
    assert (fresh.head().position, fresh.bookmarks(), fresh.imports()) == (0, [], [])
    assert (target.head(), target.bookmarks(), target.imports(), target.refusals()) == before


def test_an_imported_command_without_events_verifies_deeply_in_a_keyed_file(
    origin: InMemoryEventStore, cli: Cli, tmp_path: Path
) -> None:
    """Its commands row is signed with the key like any other (`verify --deep`)."""
    key = tmp_path / "key"
    key.write_bytes(b"the auditor's HMAC key")
    key.chmod(0o600)
    db = tmp_path / "keyed.db"
    with SqliteEventStore(db, create=True, key=key.read_bytes()) as keyed:
        seed = InMemoryEventStore(key=key.read_bytes())
        _run(seed, COMMANDS)
        seed.append(
            [], Metadata(actor="ann", command_id="nothing-2", command_type="deposit", command={})
        )
        result = _import(keyed, _export(seed), "keyed.jsonl")
        assert result.restored["command"] >= 1
    r = cli("--key-file", str(key), "verify", "--deep", db_path=db)
    assert r.code == 0, r.err
    assert "deep check ok" in r.out


# -- any history: memory -> SQLite -> memory exports the same lines --------------------------

_ACCOUNTS = ("a1", "a2", "u1", "zz")
_OPEN = {"a1": "EUR", "a2": "EUR", "u1": "USD", "zz": "EUR"}
_amount = st.sampled_from(["1.00", "25.50", "400.00", "9999.00"])
_account = st.sampled_from(_ACCOUNTS)
_step = st.one_of(
    st.builds(lambda a: ("open_account", {"account_id": a, "owner": "O", "currency": _OPEN[a]}),
              _account),
    st.builds(lambda a, m: ("deposit", {"account_id": a, "amount": m}), _account, _amount),
    st.builds(lambda a, m: ("withdraw", {"account_id": a, "amount": m}), _account, _amount),
    st.builds(lambda a, b, m: ("transfer", {"from_account": a, "to_account": b, "amount": m}),
              _account, _account, _amount),
    st.builds(lambda n, at: ("bookmark", {"name": n, "at": at}), st.sampled_from("pq"),
              st.floats(0, 1)),
    st.just(("nothing", {})),
)  # fmt: skip


def _write(store: InMemoryEventStore, steps: list[tuple[str, dict[str, object]]]) -> None:
    bus = CommandBus(store, LEDGER_DOMAIN.model)
    for n, (name, fields) in enumerate(steps):
        if name == "bookmark":
            at = int(float(str(fields["at"])) * store.head().position)
            store.set_bookmark(str(fields["name"]), at, actor="ann")
        elif name == "nothing":
            meta = Metadata(actor="ann", command_id=f"none-{n}", command_type="deposit")
            store.append([], meta)
        else:
            with contextlib.suppress(RuleRefused):  # kept as a refusal
                bus.execute_fields(name, dict(fields), actor="teller")


@settings(max_examples=15, deadline=None)
@given(steps=st.lists(_step, min_size=1, max_size=30))
def test_any_history_exports_the_same_lines_from_either_store(
    steps: list[tuple[str, dict[str, object]]],
) -> None:
    origin = InMemoryEventStore()
    _write(origin, steps)
    assume(origin.head().position > 0)  # an export without events does not import
    first = _export(origin)
    with (
        tempfile.TemporaryDirectory() as work,
        SqliteEventStore(Path(work) / "copy.db", create=True, synchronous="OFF") as copy,
    ):
        _import(copy, first, "first.jsonl")
        second = _export(copy)
        assert copy.head() == origin.head()
    back = InMemoryEventStore()
    _import(back, second, "second.jsonl")
    assert back.head() == origin.head()
    assert _without_imports(first) == _without_imports(second) == _without_imports(_export(back))
    assert [(r.id, r.restored_by) for r in back.imports()] == [(1, 2), (2, None)]
