"""Bad input across the CLI, command payloads, import files and database files.

A table of `BadInput` cases, each run through the real CLI entry point against a
`Lab` (a small ledger, a half-imported copy of it, a small inventory, and whatever
files the case makes).
Each must end with one line on stderr, the expected exit code and message, no
traceback, and every database as it was: heads read with plain sqlite3, and files a
case made compared byte for byte. Shared by `test_reliability_bad_input.py` and
`bench/reliability/run.py`. These are in addition to the 23 of `test_cli.py`.

Read-only file systems without `mount`: the tests run as root, and root writes
through any permission bits. So the read-only cases put the database (and the import
file) in a folder and files with every write bit removed, and run the CLI in a child
process whose capability bounding set lacks CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and
CAP_FOWNER (dropped with prctl before exec): root then honours permission bits like
any user, and SQLite cannot write there, just as on a read-only mount. As any other
user, the permission bits alone do it.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from cli_support import CliResult, head_of
from reliability_support import create_inventory, create_ledger, run_cli, subprocess_env

from domain.bus import CommandBus
from domain.clock import SequentialIds
from domain.ledger import LEDGER
from store.jsonl import export_events, import_events
from store.sqlite import SqliteEventStore
from store.sqlite.schema import latest_version

_NULL_SIDECARS = ("/dev/null-journal", "/dev/null-wal", "/dev/null-shm")
"""What SQLite used to leave beside a character device given as --db."""
CHILD_TIMEOUT = 60
"""Seconds a case run in a child process may take: a hang fails it, not the suite."""
SPLIT = 12
"""The target database holds the bank's first SPLIT events; imports continue it."""
_PR_CAPBSET_DROP = 24
_DAC_CAPABILITIES = (1, 2, 3)
"""CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER: what lets root ignore permissions."""


# -- the lab every case runs in -------------------------------------------------------------


def build_bank(path: Path) -> None:
    """The shared ledger, plus a frozen account (fz) and a closed one (cl): 20 events."""
    create_ledger(path, synchronous="OFF")
    with SqliteEventStore(path, synchronous="OFF") as store:
        bus = CommandBus(store, LEDGER, ids=SequentialIds("bank"))
        for account in ("fz", "cl"):
            fields = {"account_id": account, "owner": "Zed", "currency": "EUR"}
            bus.execute_fields("open_account", fields, actor="setup")
        bus.execute_fields("freeze_account", {"account_id": "fz", "reason": "check"}, actor="a")
        bus.execute_fields("close_account", {"account_id": "cl", "reason": "gone"}, actor="a")
        for source, target in (("e1", "e2"), ("y1", "y2")):
            fields = {"from_account": source, "to_account": target, "amount": "5"}
            bus.execute_fields("transfer", fields, actor="clerk")


def build_lab_template(folder: Path) -> Path:
    """bank.db, its export, target.db (the export's first SPLIT events imported), and
    stock.db (the shared inventory of `reliability_support.create_inventory`)."""
    folder.mkdir(parents=True, exist_ok=True)
    bank = folder / "bank.db"
    build_bank(bank)
    create_inventory(folder / "stock.db", synchronous="OFF")
    export = folder / "bank.jsonl"
    with SqliteEventStore(bank, read_only=True) as store, export.open("wb") as out:
        export_events(store.iter_all(), out)
    lines = export.read_bytes().splitlines()
    first = folder / "first.jsonl"
    first.write_bytes(b"\n".join(lines[:SPLIT]) + b"\n")
    target = SqliteEventStore.init(folder / "target.db", synchronous="OFF")
    with target, first.open("rb") as source:
        import_events(target, source)
    return folder


@dataclass
class Lab:
    """A private copy of the template, and the files one case makes."""

    folder: Path
    bank: Path
    target: Path
    lines: list[bytes]
    own: list[Path] = field(default_factory=list)
    """Files a case made that must not change (byte for byte)."""
    _locked_folders: list[Path] = field(default_factory=list)

    @classmethod
    def copy(cls, template: Path, folder: Path) -> Lab:
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("bank.db", "target.db", "stock.db"):
            shutil.copyfile(template / name, folder / name)
        lines = (template / "bank.jsonl").read_bytes().splitlines()
        return cls(folder, folder / "bank.db", folder / "target.db", lines)

    @property
    def stock(self) -> Path:
        """The inventory database."""
        return self.folder / "stock.db"

    @property
    def rest(self) -> list[bytes]:
        """The export lines that continue the target (its next events)."""
        return list(self.lines[SPLIT:])

    def file(self, name: str, content: bytes | str) -> str:
        """A file in the lab (an anchor, a key, an import file); returns its path."""
        path = self.folder / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return str(path)

    def jsonl(self, lines: list[bytes], name: str = "bad.jsonl") -> str:
        """An import file of `lines`."""
        return self.file(name, b"".join(line + b"\n" for line in lines))

    def fifo(self, name: str) -> str:
        """A named pipe in the lab (opening it for reading blocks until a writer comes)."""
        path = self.folder / name
        os.mkfifo(path)
        return str(path)

    def own_file(self, name: str, content: bytes) -> str:
        """A database file the case made; it must be left exactly as it is."""
        path = self.folder / name
        path.write_bytes(content)
        self.own.append(path)
        return str(path)

    def own_copy(self, name: str, edit: Callable[[Path], None] | None = None) -> str:
        """A copy of the bank (edited by `edit`) that must be left as it is."""
        path = self.folder / name
        shutil.copyfile(self.bank, path)
        if edit is not None:
            edit(path)
        self.own.append(path)
        return str(path)

    def read_only_folder(self, *files: tuple[str, bytes]) -> Path:
        """A folder holding a copy of the bank and `files`, every write permission removed."""
        folder = self.folder / "read-only"
        folder.mkdir()
        shutil.copyfile(self.bank, folder / "bank.db")
        for name, content in files:
            (folder / name).write_bytes(content)
        for path in folder.iterdir():
            path.chmod(0o444)
            self.own.append(path)
        folder.chmod(0o555)
        self._locked_folders.append(folder)
        return folder

    def fingerprint(self) -> dict[str, object]:
        """Heads of the three databases (plain sqlite3) and the bytes of the case's files."""
        seen: dict[str, object] = {"bank": head_of(self.bank), "target": head_of(self.target)}
        seen["stock"] = head_of(self.stock)
        for path in self.own:
            if path.exists():
                seen[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
            for suffix in ("-wal", "-journal"):
                side = Path(f"{path}{suffix}")
                seen[str(side)] = side.exists() and side.stat().st_size
        # No leftover files: no new database, no -wal/-shm/-journal, no temporary file
        # (the databases' own sizes may change: a rule's refusal is recorded).
        seen["files"] = sorted(
            (p.name, 0 if p.suffix == ".db" else p.lstat().st_size) for p in self.folder.iterdir()
        )
        seen["beside /dev/null"] = [s for s in _NULL_SIDECARS if os.path.lexists(s)]
        return seen

    def close(self) -> None:
        """Give the read-only folders their write permission back (for cleaning up)."""
        for folder in self._locked_folders:
            folder.chmod(0o755)
            for path in folder.iterdir():
                path.chmod(0o644)


# -- the cases ----------------------------------------------------------------------------

Argv = Callable[[Lab], list[str]]


@dataclass(frozen=True)
class BadInput:
    """One bad input: the CLI arguments (given the lab), the exit code and message."""

    kind: str
    """cli, payload, rule, import or database."""
    name: str
    argv: Argv
    code: int
    message: str
    unprivileged: bool = False
    """Run in a child process that honours permission bits (read-only file system)."""
    locked: bool = False
    """Another connection holds the write lock on the named database meanwhile."""
    isolated: bool = False
    """Run in a child process with a timeout (an input that used to hang)."""


def _on_bank(args: str) -> Argv:
    """`--db BANK --actor tester ARGS` (ARGS split as a shell would)."""
    return lambda lab: ["--db", str(lab.bank), "--actor", "tester", *shlex.split(args)]


def _on_stock(args: str) -> Argv:
    """`--db STOCK --actor tester ARGS` on the inventory (ARGS split as a shell would)."""
    return lambda lab: ["--db", str(lab.stock), "--actor", "tester", *shlex.split(args)]


def _with_file(args: str, name: str, content: bytes | str) -> Argv:
    """On the bank, with `{file}` in ARGS replaced by a lab file holding `content`."""
    return lambda lab: _on_bank(args.replace("{file}", lab.file(name, content)))(lab)


def _import_into_target(make: Callable[[Lab], str]) -> Argv:
    return lambda lab: ["--db", str(lab.target), "import", make(lab)]


def _lines(edit: Callable[[list[bytes]], list[bytes]]) -> Argv:
    """Import into the target the lines that continue it, edited."""
    return _import_into_target(lambda lab: lab.jsonl(edit(lab.rest)))


def _file(name: str, content: Callable[[Lab], bytes] | bytes) -> Argv:
    """Import into the target a file of `content`."""
    return _import_into_target(
        lambda lab: lab.file(name, content(lab) if callable(content) else content)
    )


def _own(name: str, edit: Callable[[Path], None], args: str) -> Argv:
    """ARGS on a damaged copy of the bank, which must stay as damaged as it was."""
    return lambda lab: ["--db", lab.own_copy(name, edit), *shlex.split(args)]


def _text_file(args: str) -> Argv:
    return lambda lab: ["--db", lab.own_file("notes.db", b"meeting notes\n" * 40), *args.split()]


def _second(edit: Callable[[bytes], bytes]) -> Callable[[list[bytes]], list[bytes]]:
    """Edit the second line of the continuation (line 2 of the file: position 14)."""
    return lambda ls: [ls[0], edit(ls[1]), *ls[2:]]


def _edited(change: Callable[[dict[str, Any]], object]) -> Callable[[bytes], bytes]:
    """Edit one line as JSON (keys stay in their order)."""

    def edit(line: bytes) -> bytes:
        event = orjson.loads(line)
        change(event)
        return orjson.dumps(event)

    return edit


def _command_record(line: bytes, **texts: str) -> bytes:
    """The command record of the event on `line` (its ids, no payload), with `texts`."""
    event = orjson.loads(line)
    meta = event["metadata"]
    record = {
        "record": "command",
        "command_id": meta["command_id"],
        "command_type": meta["command_type"],
        "payload": None,
        "actor": meta["actor"],
        "recorded_at": event["recorded_at"],
    }
    return orjson.dumps({**record, **texts})


def _flipped(digest: str) -> str:
    return ("1" if digest[0] == "0" else "0") + digest[1:]


def _newer_schema(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute(f"PRAGMA user_version = {latest_version() + 1}")


def _other_application(path: Path) -> None:
    path.unlink()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, taken TEXT)")
        conn.commit()


def _truncated(fraction: float) -> Callable[[Path], None]:
    def cut(path: Path) -> None:
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * fraction)])

    return cut


def _header_only(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:100])


def _garbage_after_magic(path: Path) -> None:
    path.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 32)


def _read_only(*args: str, files: Callable[[Lab], list[tuple[str, bytes]]] | None = None) -> Argv:
    def argv(lab: Lab) -> list[str]:
        folder = lab.read_only_folder(*(files(lab) if files else []))
        resolved = [str(folder / a[len("RO/") :]) if a.startswith("RO/") else a for a in args]
        return ["--db", str(folder / "bank.db"), "--actor", "tester", *resolved]

    return argv


_HOLD_TRANSFER = "exec transfer from_account=e1 to_account=e2 amount=1"

_CLI: list[tuple[str, str, str]] = [  # name, arguments on the bank, message (exit 2)
    ("exec without a type", "exec", "required: TYPE"),
    ("log --from not a number", "log --from abc", "invalid int"),
    ("log --limit negative", "log --limit -3", "--limit must be >= 0"),
    ("log --to negative", "log --to -1", "--to must be >= 0"),
    ("state beyond the head", "state --at 99999", "beyond the head"),
    ("state at a negative position", "state --at -1", "0 or more"),
    ("state at a position and a time", "state --at 1 --at-time 2026-01-01", "not both"),
    ("state at no time", "state --at-time yesterday", "not an ISO time"),
    ("state of an unknown projection", "state --projection nope", "unknown projection"),
    ("diff backwards", "diff 5 2", "after B"),
    ("diff beyond the head", "diff 1 99999", "beyond the head"),
    ("diff of a word", "diff x 2", "invalid int"),
    ("unknown synchronous mode", "--synchronous SOMETIMES log", "invalid choice"),
    ("negative busy timeout", "--busy-timeout -5 log", "busy_timeout"),
    ("unknown domain", "--domain martian log", "unknown domain"),
    ("missing key file", "--key-file /nonexistent/k.key log", "does not exist"),
    ("export into a missing folder", "export /nonexistent/out.jsonl", "cannot write"),
    ("simulate at rate 0", "simulate --rate 0 --duration 0", "more than 0"),
    ("demo of no events", "demo --events 0", "at least 1"),
    ("a blank actor", "--actor '   ' exec deposit account_id=e1 amount=1", "actor must not"),
    # Untrusted text where it enters: control, bidi and invisible characters, length.
    (
        "an actor with an OSC 52 sequence",
        "--actor 'evil\x1b]52;c;aGk=\x07' exec deposit account_id=e1 amount=1",
        "actor contains control, bidi or invisible characters (U+001B, U+0007)",
    ),
    ("an actor with a bidi override", "--actor 'ann\u202e' log", "actor contains control"),
    ("an actor with a newline", "--actor 'ann\nfake' log", "(U+000A)"),
    ("an actor of 101 characters", f"--actor {'a' * 101} log", "at most 100"),
    (
        "a command id with a carriage return",
        "exec deposit account_id=e1 amount=1 --command-id 'c1\rchain ok'",
        "command id contains control",
    ),
    (
        "a command id with a zero-width space",
        "exec deposit account_id=e1 amount=1 --command-id 'c\u200b1'",
        "(U+200B)",
    ),
    (
        "a command id of 201 characters",
        f"exec deposit account_id=e1 amount=1 --command-id {'c' * 201}",
        "at most 200",
    ),
]
_CLI_FILES: list[tuple[str, Argv, str]] = [  # name, arguments, message (exit 2)
    ("empty key file", _with_file("--key-file {file} log", "k", b"\n"), "is empty"),
    ("a key for a plain chain", _with_file("--key-file {file} log", "k", b"s3"), "not keyed"),
    ("an anchor not JSON", _with_file("verify --anchor {file}", "a", "head 7"), "not JSON"),
    (
        "an anchor with a bad hash",
        _with_file("verify --anchor {file}", "a", '{"position": 3, "hash": "xyz"}'),
        "64 lowercase hex",
    ),
    ("a binary anchor", _with_file("verify --anchor {file}", "a", b"\xff\xfe"), "not a text"),
    ("import a folder", _import_into_target(lambda lab: str(lab.folder)), "is a folder"),
    (
        "import a missing file",
        _import_into_target(lambda lab: str(lab.folder / "none.jsonl")),
        "does not exist",
    ),
]
_PAYLOADS: list[tuple[str, str, str]] = [  # name, exec arguments on the bank, message (exit 2)
    ("amount in exponent form", "deposit account_id=e1 amount=1e3", "not a decimal number"),
    ("amount NaN", "deposit account_id=e1 amount=NaN", "not a decimal number"),
    ("amount Infinity", "withdraw account_id=e1 amount=Infinity", "not a decimal number"),
    ("amount blank", "deposit account_id=e1 'amount=  '", "must not be empty"),
    ("amount in hex", "deposit account_id=e1 amount=0x10", "not a decimal number"),
    ("amount with a decimal comma", "deposit account_id=e1 amount=1,50", "not a decimal"),
    ("amount in Arabic digits", "deposit account_id=e1 amount=\u0661\u0662", "not a decimal"),
    ("amount beyond any cap", "deposit account_id=e1 amount=1" + "0" * 30, "too"),
    ("decimals on a JPY account", "deposit account_id=y1 amount=1.5", "whole numbers"),
    ("unknown currency", "open_account account_id=n1 owner=N currency=XYZ", "currency"),
    ("account id in capitals", "open_account account_id=ACC owner=N currency=EUR", "not an acc"),
    ("account id of 41 characters", f"deposit account_id={'a' * 41} amount=1", "not an account"),
    ("empty owner", "open_account account_id=n1 owner= currency=EUR", "owner: is empty"),
    (
        "owner over two lines",
        """open_account --json '{"account_id": "n1", "owner": "A\\nB", "currency": "EUR"}'""",
        "owner: contains control, bidi or invisible characters (U+000A)",
    ),
    (
        "owner with a trailing carriage return",
        """open_account --json '{"account_id": "n1", "owner": "Ann\\r", "currency": "EUR"}'""",
        "(U+000D)",
    ),
    (
        "owner with an escape sequence",
        "open_account account_id=n1 'owner=evil\x1b[2J' currency=EUR",
        "owner: contains control",
    ),
    (
        "reference with a bidi override",
        "deposit account_id=e1 amount=1 'reference=abc\u202edcb'",
        "reference: contains control, bidi or invisible characters (U+202E)",
    ),
    (
        "freeze reason with an invisible character",
        "freeze_account account_id=e1 'reason=fraud\u2066check'",
        "reason: contains control",
    ),
    (
        "negative overdraft limit",
        "open_account account_id=n1 owner=N currency=EUR overdraft_limit=-1",
        "0 or more",
    ),
    ("null account id", """deposit --json '{"account_id": null, "amount": "1"}'""", "account_id"),
    ("account id as a list", """deposit --json '{"account_id": ["e1"]}'""", "account_id"),
    ("amount as a boolean", """deposit --json '{"amount": true}'""", "written as text"),
    ("amount as an object", """deposit --json '{"amount": {"units": 1}}'""", "amount"),
    (
        "reference too long",
        f"deposit account_id=e1 amount=1 reference={'x' * 141}",
        "141 characters long",
    ),
    ("transfer without a target", "transfer from_account=e1 amount=1", "to_account is required"),
    ("overdraft limit in words", "set_overdraft_limit account_id=e1 limit=lots", "not a decimal"),
    (
        "freeze reason too long",
        f"freeze_account account_id=e1 reason={'r' * 201}",
        "201 characters long",
    ),
    (
        "an extra field in JSON",
        """deposit --json '{"account_id": "e1", "amount": "1", "extra": 1}'""",
        "extra is not a field",
    ),
    ("JSON that is a string", """deposit --json '"e1 1.00"'""", "JSON object"),
    ("a pair without a key", "deposit account_id=e1 =5", "not key=value"),
]
_RULES: list[tuple[str, str, str]] = [  # name, exec arguments on the bank, message (exit 1)
    ("unfreeze an open account", "unfreeze_account account_id=e1 reason=why", "not frozen"),
    ("freeze a frozen account", "freeze_account account_id=fz reason=again", "already frozen"),
    ("reuse a closed account's id", "open_account account_id=cl owner=N currency=EUR", "reused"),
    ("set the same overdraft limit", "set_overdraft_limit account_id=e1 limit=0", "nothing to"),
    ("withdraw from a frozen account", "withdraw account_id=fz amount=1", "frozen"),
    ("transfer from a closed account", "transfer from_account=cl to_account=e1 amount=1", "closed"),
    ("transfer beyond the funds", "transfer from_account=e1 to_account=e2 amount=9999", "beyond"),
]
_RECEIVE = "receive_stock sku=BOLT-M8 warehouse=ams supplier_ref=DN-9"
_INVENTORY_PAYLOADS: list[tuple[str, str, str]] = [  # name, exec arguments on stock (exit 2)
    ("negative quantity", f"{_RECEIVE} quantity=-5", "quantity: '-5' is not a whole number"),
    ("zero quantity", f"{_RECEIVE} quantity=0", "quantity: must be 1 or more"),
    ("fractional quantity", "ship_stock sku=BOLT-M8 warehouse=ams quantity=1.5 order_ref=S", "1.5"),
    (
        "sku not matching the pattern",
        "ship_stock sku=bolt_m8 warehouse=ams quantity=1",
        "not a SKU",
    ),
    (
        "shipment without a warehouse",
        "ship_stock sku=BOLT-M8 quantity=1 order_ref=S",
        "is required",
    ),
    (
        "an extra field in a shipment",
        """ship_stock --json '{"sku": "BOLT-M8", "warehouse": "ams", "quantity": 1, """
        """"order_ref": "S", "priority": "high"}'""",
        "priority is not a field",
    ),
    ("an unknown unit", "register_product sku=NEW-1 name=New unit=dozen", "unit"),
    (
        "a product name with an escape sequence",
        "register_product sku=NEW-1 'name=Bolt\x1b[2J' unit=each",
        "name: contains control, bidi or invisible characters (U+001B)",
    ),
    (
        "a stock-take reason with a bidi isolate",
        "adjust_stock sku=BOLT-M8 warehouse=ams counted=1 'reason=c\u2067'",
        "reason: contains control",
    ),
    ("a negative count", "adjust_stock sku=BOLT-M8 warehouse=ams counted=-1 reason=c", "counted"),
]
_INVENTORY_RULES: list[tuple[str, str, str]] = [  # name, exec arguments on stock (exit 1)
    (
        "ship an unknown sku",
        "ship_stock sku=NOPE-1 warehouse=ams quantity=1 order_ref=S",
        "not reg",
    ),
    (
        "ship more than on hand",
        "ship_stock sku=BOLT-M8 warehouse=ams quantity=9999 order_ref=S",
        "only 500 each on hand",
    ),
    (
        "move to the same warehouse",
        "move_stock sku=BOLT-M8 from_warehouse=ams to_warehouse=ams quantity=1",
        "to itself",
    ),
    ("discontinue with stock", "discontinue_product sku=BOLT-M8 reason=gone", "still holds stock"),
    ("register a sku again", "register_product sku=NUT-M8 name=Again unit=each", "already regis"),
    (
        "count 0 where never stocked",
        "adjust_stock sku=GLV-M warehouse=ber counted=0 reason=c",
        "ber",
    ),
]
_IMPORTS: list[tuple[str, Argv, str]] = [  # name, import into the target, message (exit 2)
    ("a truncated JSON line", _lines(_second(lambda b: b[: len(b) // 2])), "2: is not valid JSON"),
    ("a JSON array line", _lines(_second(lambda b: b"[" + b + b"]")), "2: is a JSON list"),
    ("a null line", _lines(_second(lambda b: b"null")), "2: is a JSON NoneType"),
    ("trailing text after the JSON", _lines(_second(lambda b: b + b" x")), "2: is not valid"),
    ("a missing field", _lines(_second(_edited(lambda e: e.pop("hash")))), "2: missing hash"),
    (
        "an unexpected field",
        _lines(_second(_edited(lambda e: e.update(note="hi")))),
        "2: unexpected note",
    ),
    (
        "a position as text",
        _lines(_second(_edited(lambda e: e.update(position=str(e["position"]))))),
        "2: position must be a whole number",
    ),
    (
        "position 0",
        _lines(_second(_edited(lambda e: e.update(position=0)))),
        "2: position must be a whole number >= 1",
    ),
    (
        "a version as a float",
        _lines(_second(_edited(lambda e: e.update(version=1.0)))),
        "2: version must be a whole number",
    ),
    (
        "data as a list",
        _lines(_second(_edited(lambda e: e.update(data=[e["data"]])))),
        "2: data must be a JSON object",
    ),
    (
        "an event id with a bidi override",
        _lines(_second(_edited(lambda e: e.update(event_id="\u202e" + e["event_id"])))),
        "2: event_id contains control, bidi or invisible characters (U+202E)",
    ),
    (
        "an event id holding NUL (PostgreSQL text cannot)",
        _lines(_second(_edited(lambda e: e.update(event_id=e["event_id"] + "\u0000")))),
        "2: event_id contains control, bidi or invisible characters (U+0000)",
    ),
    (
        "a command record whose actor holds a bidi override",
        _lines(lambda ls: [ls[0], _command_record(ls[1], actor="\u202eann"), *ls[1:]]),
        "line 2: command record: actor contains control, bidi or invisible characters (U+202E)",
    ),
    (
        "a command record whose time holds NUL (PostgreSQL text cannot)",
        _lines(lambda ls: [ls[0], _command_record(ls[1], recorded_at="\u0000"), *ls[1:]]),
        "line 2: command record: recorded_at contains control",
    ),
    (
        "a time in another format",
        _lines(_second(_edited(lambda e: e.update(recorded_at=e["recorded_at"][:19])))),
        "2: recorded_at must look like",
    ),
    (
        "an unknown event type",
        _lines(_second(_edited(lambda e: e.update(type="MoneyPrinted")))),
        "2: unknown event type",
    ),
    (
        "a payload wrong for its type",
        _lines(_second(_edited(lambda e: e["data"].update(owner=5)))),
        "2: invalid AccountOpened",
    ),
    (
        "a broken hash",
        _lines(_second(_edited(lambda e: e.update(hash=_flipped(e["hash"]))))),
        "2: position 14: hash does not match",
    ),
    (
        "a broken prev_hash",
        _lines(_second(_edited(lambda e: e.update(prev_hash=_flipped(e["prev_hash"]))))),
        "2: position 14: prev_hash does not match",
    ),
    ("reordered lines", _lines(lambda ls: [ls[0], ls[2], ls[1], *ls[3:]]), "2: expected posi"),
    ("a missing line", _lines(lambda ls: [ls[0], *ls[2:]]), "line 2: expected position 14"),
    (
        "lines from the start again",
        _import_into_target(lambda lab: lab.jsonl(lab.lines)),
        "must start at position 13",
    ),
    (
        "a huge line",
        _lines(lambda ls: [ls[0], b'{"data":"' + b"x" * (1 << 20) + b'"}', *ls[1:]]),
        "line 2: is longer than",
    ),
    ("binary data", _file("bin", b"\x00\x01garbage\x00" * 50), "line 1: contains binary"),
    ("bytes that are not UTF-8", _file("latin", b'{"id": "caf\xe9"}\n'), "1: is not valid"),
    (
        "a UTF-16 export",
        _file("utf16", lambda lab: b"\n".join(lab.rest).decode().encode("utf-16")),
        "line 1: contains binary data",
    ),
    ("an empty file", _file("empty", b""), "the file is empty"),
    ("only blank lines", _file("blank", b"\n  \n\t\n"), "the file is empty"),
    ("a blank line inside", _lines(lambda ls: [ls[0], b"", *ls[1:]]), "line 2: is empty"),
]
_DATABASES: list[BadInput] = [  # exit 2; every file must stay as it was
    BadInput(
        "database",
        "exec on a text file",
        _text_file("exec deposit account_id=e1 amount=1"),
        2,
        "not a SQLite database",
    ),
    BadInput("database", "init over a text file", _text_file("init"), 2, "not a SQLite database"),
    BadInput(
        "database", "log on a truncated file", _own("half.db", _truncated(0.5), "log"), 2, "damaged"
    ),
    BadInput(
        "database",
        "verify a truncated file",
        _own("half.db", _truncated(0.5), "verify"),
        2,
        "damaged",
    ),
    BadInput(
        "database",
        "exec on a file cut short",
        _own("cut.db", _truncated(0.8), "exec deposit account_id=e1 amount=1"),
        2,
        "damaged",
    ),
    BadInput(
        "database",
        "init over a file cut after its header",
        _own("header.db", _header_only, "init"),
        2,
        "damaged",
    ),
    BadInput(
        "database",
        "state on garbage after the SQLite magic",
        _own("junk.db", _garbage_after_magic, "state"),
        2,
        "damaged",
    ),
    BadInput(
        "database",
        "exec on a newer schema",
        _own("newer.db", _newer_schema, "exec deposit account_id=e1 amount=1"),
        2,
        "newer eventscope",
    ),
    BadInput(
        "database",
        "init over a newer schema",
        _own("newer.db", _newer_schema, "init"),
        2,
        "newer eventscope",
    ),
    BadInput(
        "database",
        "init over another application's file",
        _own("photos.db", _other_application, "init"),
        2,
        "not an eventscope database",
    ),
    BadInput(
        "database",
        "a folder as the database",
        lambda lab: ["--db", str(lab.folder), "log"],
        2,
        "is a folder",
    ),
    BadInput(
        "database",
        "exec on a read-only file system",
        _read_only("exec", "deposit", "account_id=e1", "amount=1"),
        2,
        "not writable",
        unprivileged=True,
    ),
    BadInput(
        "database",
        "import on a read-only file system",
        _read_only(
            "import", "RO/rest.jsonl", files=lambda lab: [("rest.jsonl", b"\n".join(lab.rest))]
        ),
        2,
        "not writable",
        unprivileged=True,
    ),
    BadInput(
        "database",
        "exec while another writer holds the lock",
        _on_bank("--busy-timeout 100 " + _HOLD_TRANSFER),
        2,
        "locked by another writer",
        locked=True,
    ),
    BadInput(
        "database",
        "import while another writer holds the lock",
        lambda lab: [
            "--db",
            str(lab.target),
            "--busy-timeout",
            "100",
            "import",
            lab.jsonl(lab.rest),
        ],
        2,
        "locked by another writer",
        locked=True,
    ),
]

_BEYOND_64_BITS = "99999999999999999999"
_EDGES_CLI: list[tuple[str, str, str]] = [  # name, arguments on the bank, message (exit 2)
    ("log --from beyond 64 bits", f"log --from {_BEYOND_64_BITS}", "out of range"),
    ("log --to beyond 64 bits", f"log --to {_BEYOND_64_BITS}", "out of range"),
    ("log --limit below -2**63", f"log --limit -{_BEYOND_64_BITS}", "out of range"),
    ("state --at beyond 64 bits", f"state --at {_BEYOND_64_BITS}", "out of range"),
    ("diff B beyond 64 bits", f"diff 1 {_BEYOND_64_BITS}", "out of range"),
    ("demo --seed beyond 64 bits", f"demo --events 5 --seed {_BEYOND_64_BITS}", "out of range"),
    ("simulate --seed beyond 64 bits", f"simulate --seed {_BEYOND_64_BITS}", "out of range"),
    ("busy timeout beyond 64 bits", f"--busy-timeout {_BEYOND_64_BITS} log", "out of range"),
    ("a domain that is a function", "--domain os:system log", "not an eventscope Domain"),
    ("a domain that is the CLI itself", "--domain tui.cli:main log", "not an eventscope Domain"),
    ("a domain attribute that is missing", "--domain os:nope log", "not an eventscope Domain"),
    ("simulate for an infinite duration", "simulate --duration inf", "not a finite number"),
    ("simulate for NaN seconds", "simulate --duration nan", "not a finite number"),
    ("simulate at an infinite rate", "simulate --rate inf --duration 1", "not a finite"),
    ("project polling every 1e300 s", "project --follow --interval 1e300", "at most 3600"),
    ("project polling every -1 s", "project --follow --interval -1", "more than 0"),
    ("a time before year 1 in UTC", "state --at-time 0001-01-01T00:00+01:00", "out of range"),
    ("a time after year 9999 in UTC", "state --at-time 9999-12-31T23:59-01:00", "out of range"),
    ("a time with an impossible zone", "state --at-time 2026-01-01T10:00+25:00", "not an ISO"),
    ("a time of day beyond 24h", "state --at-time 2026-01-01T25:00", "not an ISO time"),
    ("export onto the database", "export {bank}", "is the database"),
    ("export onto the database with --force", "export {bank} --force", "is the database"),
    ("export onto the database read-only", "--read-only export {bank}", "is the database"),
    ("export onto its -wal", "export {bank}-wal --force", "is the database"),
    ("export onto a hard link to it", "export {hardlink} --force", "is the database"),
    ("export onto a symlink to it", "export {symlink} --force", "is the database"),
    ("export onto an existing file", "export {existing}", "give --force"),
    ("export onto a device", "export /dev/null --force", "not a regular file"),
]


def _on_bank_with_links(args: str) -> Argv:
    """On the bank, with {bank}, {hardlink}, {symlink} and {existing} made in the lab."""

    def argv(lab: Lab) -> list[str]:
        hard, sym = lab.folder / "hard.db", lab.folder / "sym.db"
        if "{hardlink}" in args:
            os.link(lab.bank, hard)
        if "{symlink}" in args:
            sym.symlink_to(lab.bank)
        existing = (
            lab.file("existing.jsonl", "yesterday's export\n") if "{existing}" in args else ""
        )
        text = args.replace("{bank}", str(lab.bank)).replace("{existing}", existing)
        return _on_bank(text.replace("{hardlink}", str(hard)).replace("{symlink}", str(sym)))(lab)

    return argv


_EDGES: list[BadInput] = [  # inputs that used to hang, crash or leave files behind
    *(BadInput("cli", n, _on_bank_with_links(a), 2, m) for n, a, m in _EDGES_CLI),
    BadInput(
        "cli",
        "an anchor over 1 MiB",
        _with_file("verify --anchor {file}", "big", b" " * (2 << 20)),
        2,
        "over 1024 KiB",
    ),
    BadInput(
        "cli",
        "an anchor that never ends",
        _on_bank("verify --anchor /dev/zero"),
        2,
        "character device",
        isolated=True,
    ),
    BadInput(
        "cli",
        "an anchor that is a FIFO",
        lambda lab: _on_bank(f"verify --anchor {lab.fifo('anchor')}")(lab),
        2,
        "FIFO",
        isolated=True,
    ),
    BadInput(
        "cli",
        "a proof that never ends",
        _on_bank("verify-proof /dev/zero"),
        2,
        "character device",
        isolated=True,
    ),
    BadInput(
        "cli",
        "a signing key that is a FIFO",
        lambda lab: _on_bank(f"--signing-key {lab.fifo('signing.key')} checkpoint")(lab),
        2,
        "FIFO",
        isolated=True,
    ),
    BadInput(
        "cli",
        "a key file that never ends",
        _on_bank("--key-file /dev/zero log"),
        2,
        "character device",
        isolated=True,
    ),
    BadInput(
        "database",
        "a FIFO as the database",
        lambda lab: ["--db", lab.fifo("pipe.db"), "log"],
        2,
        "FIFO",
        isolated=True,
    ),
    BadInput(
        "database",
        "init on a FIFO",
        lambda lab: ["--db", lab.fifo("pipe.db"), "init"],
        2,
        "FIFO",
        isolated=True,
    ),
    BadInput(
        "database",
        "init on a character device",
        lambda lab: ["--db", "/dev/null", "init"],
        2,
        "character device",
    ),
    BadInput(
        "database",
        "exec on a character device",
        lambda lab: ["--db", "/dev/null", "exec", "deposit", "account_id=e1", "amount=1"],
        2,
        "character device",
    ),
    BadInput(
        "import",
        "a refused import into a new path",
        lambda lab: ["--db", str(lab.folder / "new.db"), "import", lab.jsonl(lab.rest)],
        2,
        "must start at position 1",
    ),
    BadInput(
        "import",
        "a refused import into a new path, of a broken line",
        lambda lab: [
            "--db",
            str(lab.folder / "new.db"),
            "import",
            lab.jsonl([lab.lines[0], b"{"]),
        ],
        2,
        "line 2",
    ),
]

BAD_INPUTS: tuple[BadInput, ...] = (
    *(BadInput("cli", name, _on_bank(args), 2, message) for name, args, message in _CLI),
    *(BadInput("cli", name, argv, 2, message) for name, argv, message in _CLI_FILES),
    *(
        BadInput("payload", name, _on_bank("exec " + args), 2, message)
        for name, args, message in _PAYLOADS
    ),
    *(
        BadInput("rule", name, _on_bank("exec " + args), 1, message)
        for name, args, message in _RULES
    ),
    *(
        BadInput("payload", f"inventory: {name}", _on_stock("exec " + args), 2, message)
        for name, args, message in _INVENTORY_PAYLOADS
    ),
    *(
        BadInput("rule", f"inventory: {name}", _on_stock("exec " + args), 1, message)
        for name, args, message in _INVENTORY_RULES
    ),
    *(BadInput("import", name, argv, 2, message) for name, argv, message in _IMPORTS),
    *_DATABASES,
    *_EDGES,
)
"""Every bad input the suite and the bench try."""


# -- running one case -----------------------------------------------------------------------


def _honour_permissions() -> None:
    """In the child before exec: drop what lets root ignore permission bits."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in _DAC_CAPABILITIES:
        if libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def run_honouring_permissions(argv: list[str]) -> CliResult:
    """`eventscope ARGV...` in a child process that cannot write through permission bits."""
    return run_in_child(argv, honour_permissions=True, timeout=120)


def run_in_child(
    argv: list[str], *, honour_permissions: bool = False, timeout: float = CHILD_TIMEOUT
) -> CliResult:
    """`eventscope ARGV...` in a child process, killed (TimeoutExpired) after `timeout` s."""
    drop = honour_permissions and os.geteuid() == 0
    done = subprocess.run(
        [sys.executable, "-m", "tui", *argv],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_honour_permissions if drop else None,
    )
    return CliResult(done.returncode, done.stdout, done.stderr)


def permissions_can_be_honoured() -> bool:
    """False when this process is root but may not drop capabilities (then the
    read-only file system cases cannot be simulated without `mount`)."""
    if os.geteuid() != 0:
        return True
    try:
        subprocess.run(["true"], preexec_fn=_honour_permissions, check=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return True


@contextlib.contextmanager
def _write_lock(db: Path) -> Iterator[None]:
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
        holder.execute("ROLLBACK")
    finally:
        holder.close()


def run_bad_input(case: BadInput, lab: Lab) -> CliResult:
    """Run `case` in `lab` and check the outcome (AssertionError naming the case if not)."""
    argv = case.argv(lab)
    before = lab.fingerprint()
    if case.unprivileged:
        r = run_honouring_permissions(argv)
    elif case.isolated:
        try:
            r = run_in_child(argv)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{case.kind}: {case.name}: hung ({CHILD_TIMEOUT} s)") from None
    elif case.locked:
        with _write_lock(Path(argv[argv.index("--db") + 1])):
            r = run_cli(*argv)
    else:
        r = run_cli(*argv)
    label = f"{case.kind}: {case.name}"
    assert r.code == case.code, f"{label}: exit {r.code}, stderr {r.err!r}"
    assert case.message.lower() in r.err.lower(), f"{label}: {r.err!r}"
    assert len(r.err.strip().splitlines()) == 1, f"{label}: not one line: {r.err!r}"
    assert "Traceback" not in r.err, f"{label}: {r.err}"
    assert r.err.startswith("eventscope: "), f"{label}: {r.err!r}"
    assert lab.fingerprint() == before, f"{label}: a database changed"
    return r
