"""What each CLI command does. Each handler takes the parsed args and returns an exit code."""

from __future__ import annotations

import argparse
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import orjson

from domain.errors import InvalidInput, StoreError
from domain.text import escape
from store.files import loose_permissions, read_small_file
from store.hashchain import KEY_FILE_ENV
from store.sidecars import existing_sidecars, remove_new_database
from tui.bootstrap import Workspace, database_path, is_fileless, open_workspace
from tui.cli import start_up
from tui.cli.output import say
from tui.themes import DEFAULT_THEME

if TYPE_CHECKING:
    from domain.envelope import RecordedEvent
    from tui.cli import trust  # imported by `verify` (it runs the deep check's child)

# What only reading, verifying or exporting needs is imported in those commands:
# `exec` loads none of it (start-up, issue 14).


def _option(args: argparse.Namespace, name: str, default: Any = None) -> Any:
    value = getattr(args, name, None)
    return default if value is None else value


@contextmanager
def workspace(
    args: argparse.Namespace, *, create: bool = False, writing: bool = False
) -> Iterator[Workspace]:
    """Open the database the global options name, and close it afterwards."""
    read_only = bool(_option(args, "read_only", False))
    if writing and read_only:
        raise InvalidInput("this command writes; drop --read-only")
    db = _option(args, "db")
    if is_fileless(db):  # nothing on disk to create or clean up
        with _opened(args, db, read_only=read_only, create=create) as ws:
            yield ws
        return
    path = database_path(db)
    new = create and not path.exists()
    sidecars_before = existing_sidecars(path)
    try:
        with _opened(args, path, read_only=read_only, create=create) as ws:
            yield ws
    except BaseException:
        if new:  # a refused import into a new path leaves no database behind
            remove_new_database(path, sidecars_before)
        raise


@contextmanager
def _opened(
    args: argparse.Namespace, path: Path | str, *, read_only: bool, create: bool
) -> Iterator[Workspace]:
    ws = open_workspace(
        path,
        domain=_option(args, "domain"),
        actor=_option(args, "actor"),
        read_only=read_only,
        create=create,
        key_file=_option(args, "key_file"),
        synchronous=_option(args, "synchronous", "FULL"),
        busy_timeout_ms=_option(args, "busy_timeout", 5000),
    )
    _warn_if_key_file_is_shared(_option(args, "key_file") or os.environ.get(KEY_FILE_ENV))
    try:
        yield ws
    finally:
        ws.close()


def _warn_if_key_file_is_shared(key_file: str | None) -> None:
    """Warn, as ssh does, when the HMAC key is readable by group or others (and go on)."""
    mode = loose_permissions(key_file) if key_file else None
    if mode is not None:
        print(
            f"eventscope: warning: key file {key_file} is readable by others "
            f"(mode {mode:04o}): chmod 600 {key_file}",
            file=sys.stderr,
        )


def _dump(value: Any, out: TextIO | None = None) -> None:
    """JSON to stdout: indented for a person at a terminal, one line for a pipe."""
    out = out or sys.stdout
    option = orjson.OPT_INDENT_2 if out.isatty() else 0
    out.write(orjson.dumps(value, option=option).decode() + "\n")


# -- the app -------------------------------------------------------------------------------


def open_app(args: argparse.Namespace) -> int:
    """`eventscope` with no command: open the app on the database."""
    from tui.app import run_app

    delay = _option(args, "projector_delay", 0)  # checked by the parser
    with workspace(args) as ws:
        return run_app(ws, theme=_option(args, "theme", DEFAULT_THEME), projector_delay=delay)


# -- writing -------------------------------------------------------------------------------


def init(args: argparse.Namespace) -> int:
    """`init`: create the database, or confirm an existing one (on PostgreSQL, with
    `--writer-role`/`--reader-role`, also grant those roles their privileges)."""
    from tui.cli import postgres_roles

    writer, reader = postgres_roles.requested_roles(args)
    with workspace(args, create=True, writing=True) as ws:
        head = ws.store.head()
        say(
            f"{ws.location}: eventscope database ({ws.domain.name}, {ws.store.hash_mode}), "
            f"{head.position} events"
        )
        if writer is not None or reader is not None:
            for line in postgres_roles.grant(ws, writer, reader):
                say(f"granted {line}")
    return 0


def parse_fields(pairs: list[str], json_data: str | None) -> dict[str, Any]:
    """Merge `--json DATA` (first) and `key=value` pairs into command fields."""
    fields: dict[str, Any] = {}
    if json_data is not None:
        try:
            loaded = orjson.loads(json_data)
        except orjson.JSONDecodeError as exc:
            raise InvalidInput(f"--json is not valid JSON: {exc}") from None
        if not isinstance(loaded, dict):
            raise InvalidInput('--json must be a JSON object, e.g. \'{"amount": "10.00"}\'')
        fields.update(loaded)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInput(f"field {pair!r} is not key=value, e.g. amount=10.00")
        if key in fields and json_data is None:
            raise InvalidInput(f"field {key} is given twice")
        fields[key] = value
    return fields


def exec_command(args: argparse.Namespace) -> int:
    """`exec TYPE key=value...`: run one command through the bus; print the result."""
    with workspace(args, writing=True) as ws:
        fields = parse_fields(args.fields, args.json_data)
        command = ws.domain.model.parse_command(args.type, fields)
        # The domain and its models are loaded: collect again (and, once the workspace
        # is closed, skip the collector's last pass at exit).
        start_up.start_up_done(one_shot=True)
        result = ws.bus.execute(command, actor=ws.actor, command_id=args.command_id)
        _dump(result.to_json_dict())
    return 0


def list_commands(args: argparse.Namespace) -> int:
    """`commands`: each command with its fields, from the domain's models."""
    with workspace(args) as ws:
        for model in ws.domain.model.commands:
            fields = []
            for name, info in model.model_fields.items():
                fields.append(name if info.is_required() else f"[{name}={info.default!r}]")
            say(f"{model.type_name:<22} {' '.join(fields)}")
            if model.title:
                say(f"{'':<22} {model.title}")
    return 0


def import_events(args: argparse.Namespace) -> int:
    """`import FILE`: all or nothing, replayed through the domain's rules; names the bad line.

    On a terminal, stderr shows how far it got (events read and, for a file, its share
    of the bytes); nothing is drawn in a pipe.
    """
    from store.transfer.importer import import_history
    from tui.cli.progress import ProgressBar

    with workspace(args, create=True, writing=True) as ws, ExitStack() as inputs:
        if args.file == "-":
            stream, name = sys.stdin.buffer, "stdin"
        else:
            stream, name = inputs.enter_context(_open_input(args.file)), args.file
        bar = ProgressBar("importing") if sys.stderr.isatty() else None
        size = _file_size(stream) if bar is not None else 0

        def progress(events: int, read: int) -> None:
            assert bar is not None
            bar(events, 0, read / size if size else None)

        try:
            result = import_history(
                ws.store,
                stream,
                domain=ws.domain,
                actor=ws.actor,
                name=name,
                clock=ws.clock,
                progress=None if bar is None else progress,
            )
        except BaseException:
            if bar is not None:
                bar.clear()
            raise
        if bar is not None:
            bar(result.events, result.events)
            bar.finish(f"{result.events:,} events")
        restored = ", ".join(f"{n} {kind}s" for kind, n in result.restored.items() if n)
        print(
            f"imported {result.events} events; head {result.head.position} {result.head.hash}"
            + (f"; restored {restored}" if restored else "")
            + f"; recorded as import {result.record.id} (sha256 {result.record.sha256})"
        )
    return 0


def _file_size(stream: Any) -> int:
    """The size of a regular file behind `stream` (a redirected stdin too), else 0."""
    try:
        status = os.fstat(stream.fileno())
    except (OSError, AttributeError, ValueError):
        return 0
    return status.st_size if stat.S_ISREG(status.st_mode) else 0


@contextmanager
def _open_input(path: str) -> Iterator[Any]:
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed by the context manager
    except FileNotFoundError:
        raise InvalidInput(f"{path} does not exist") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a folder, not a file") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    with stream:
        yield stream


# -- reading -------------------------------------------------------------------------------


def format_event_line(event: RecordedEvent, summary: str) -> str:
    """One human line for `log`: position, time, stream, type, actor, what happened.

    Every stored part is escaped (`domain.text.escape`) before it is padded: a newline
    in an actor cannot forge a second line, nor an escape sequence drive the terminal.
    """
    from domain.cells import time_cell

    when = escape(time_cell(event.recorded_at, {}))
    return (
        f"{event.position:>9}  {when}  {escape(event.stream_id):<18} {escape(event.type):<22} "
        f"{escape(event.actor):<14} {escape(summary)}"
    )


def log(args: argparse.Namespace) -> int:
    """`log`: events in order, filtered; JSON Lines with --json."""
    for name, value in (("--from", args.from_), ("--to", args.to), ("--limit", args.limit)):
        if value is not None and value < 0:
            raise InvalidInput(f"{name} must be >= 0, not {value}")
    with workspace(args) as ws:
        after = max((args.from_ or 1) - 1, 0)
        # `--to` is inclusive; at the very top of the 64-bit range it bounds nothing.
        before = None if args.to is None or args.to >= 2**63 - 1 else args.to + 1
        remaining = args.limit
        out = sys.stdout
        # Imported here: `exec` and the other commands load no timeline (start-up).
        from domain.stored_problems import event_problem, flag_problem
        from tui.services.event_context import EventReading

        reading = EventReading(ws.timeline, ws.domain)
        while remaining is None or remaining > 0:
            page_size = 1000 if remaining is None else min(1000, remaining)
            page = ws.store.events_page(
                after=after,
                before=before,
                limit=page_size,
                stream=args.stream,
                type=args.type,
                actor=args.filter_actor,
            )
            for event in page:
                if args.json:
                    out.write(orjson.dumps(event.to_json_dict()).decode() + "\n")
                else:
                    summary = flag_problem(event_problem(ws.domain.model, event))
                    summary += reading.summary(event)
                    out.write(format_event_line(event, summary) + "\n")
            if len(page) < page_size:
                break
            after = page[-1].position
            if remaining is not None:
                remaining -= len(page)
    return 0


def verify(args: argparse.Namespace) -> int:
    """`verify`: walk the chain; with --anchor, also check a kept head is still in it.

    With a checkpoint as the anchor the chain is not walked (unless --deep): the
    checkpoint is checked by a consistency proof, the tree tied to the head in O(log n).
    """
    from store.hashchain import check_anchor, parse_anchor
    from store.transfer.records import describe_imports, store_imports
    from tui.cli import trust
    from tui.cli.proofs import anchor_check, read_anchor  # imports this module

    anchor = kept = None
    if args.anchor:
        try:
            text = read_small_file(args.anchor, "anchor").decode()
        except UnicodeDecodeError:
            raise InvalidInput(f"{args.anchor} is not a text file") from None
        kept = read_anchor(text, args.anchor)
        if kept is None:
            anchor = parse_anchor(text)
    with ExitStack() as stack:
        try:
            ws = stack.enter_context(workspace(args))
        except StoreError:
            # A changed schema version stops every open: report it as a failed check.
            db = _option(args, "db")
            if is_fileless(db):
                raise
            check = trust.schema_check(database_path(db))
            if check.ok:
                raise
            return _verify_failed_schema(args, check)
        ok, output, lines = True, dict[str, Any](), list[str]()
        if kept is None or args.deep:  # a checkpoint anchor alone needs no walk: O(log n)
            report = ws.store.verify()
            ok, output, lines = report.ok, report.to_json_dict(), [report.message]
        if kept is not None:
            anchored_ok, output["anchor"], anchor_lines = anchor_check(args, ws, kept)
            ok, lines = ok and anchored_ok, [*lines, *anchor_lines]
        imports = store_imports(ws.store)
        output["imports"] = [record.to_json_dict() for record in imports]
        if imports:
            lines.append(describe_imports(imports))
        if anchor is not None:
            anchored = check_anchor(ws.store, anchor)
            ok = ok and anchored.ok
            output["anchor"] = anchored.to_json_dict()
            lines.append(anchored.message)
        for name, check in trust.checks(ws, deep=args.deep):
            ok = ok and check.ok
            output[name] = check.json
            lines.append(check.line)
        output["ok"] = ok
        if args.json:
            _dump(output)
        else:
            stream_out = sys.stdout if ok else sys.stderr
            for line in lines:
                say(line, stream_out)
    return 0 if ok else 1


def _verify_failed_schema(args: argparse.Namespace, check: trust.TrustCheck) -> int:
    if args.json:
        _dump({"ok": False, "schema": check.json})
    else:
        print(check.line, file=sys.stderr)
    return 1


def export(args: argparse.Namespace) -> int:
    """`export [FILE]`: every event as JSON Lines, streamed (FILE is replaced only whole)."""
    from store.transfer.export import export_history
    from tui.cli.output_file import refuse_database_files, replacing_file

    if args.file != "-" and not is_fileless(_option(args, "db")):  # before the database opens
        refuse_database_files(Path(args.file), database_path(_option(args, "db")))
    with workspace(args) as ws:
        if args.file == "-":
            export_history(ws.store, sys.stdout.buffer)
            sys.stdout.flush()
        else:
            with replacing_file(args.file, ws.db_path, force=args.force) as out:
                count = export_history(ws.store, out)
            say(f"exported {count} events to {args.file}", sys.stderr)
    return 0
