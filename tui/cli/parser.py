"""The argument parser: every command, flag and example lives here (and in the README)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any, NoReturn

from tui.cli import lazy
from tui.cli.arg_types import finite_number, projector_delay, whole_number
from tui.themes import THEMES


class CliUsageError(Exception):
    """Bad usage: reported as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line instead of usage text plus an error."""

    def error(self, message: str) -> NoReturn:
        raise CliUsageError(f"{message} (see `{self.prog} --help`)")

    _printing = False

    def format_help(self) -> str:
        self._printing = True
        return super().format_help()

    def format_usage(self) -> str:
        self._printing = True
        return super().format_usage()

    def _get_formatter(self) -> argparse.HelpFormatter:
        formatter = self.formatter_class
        if self._printing or not (
            isinstance(formatter, type) and issubclass(formatter, argparse.HelpFormatter)
        ):
            return super()._get_formatter()
        # Building the parser asks for a formatter per option, only to check its metavar:
        # the terminal's width is read for text to print alone (reading it imports
        # shutil and the compression modules, 2 ms of `exec`'s start-up: issue 14).
        return formatter(prog=self.prog, width=_BUILDING_WIDTH)


_BUILDING_WIDTH = 1_000
"""The width of the formatters argparse asks for while building (nothing is printed)."""


GLOBAL_HELP = """\
eventscope: audit and time-travel through event-sourced state.

With no COMMAND it opens the app on the database.

examples:
  eventscope demo                                  demo data, then the app
  eventscope --db bank.db init
  eventscope --db bank.db exec open_account account_id=a1 owner=Ada currency=EUR
  eventscope --db bank.db exec deposit account_id=a1 amount=100.00
  eventscope --db bank.db log --json
  eventscope --db bank.db verify --json > head.json
  eventscope --db bank.db verify --anchor head.json
  eventscope --db bank.db verify --deep             snapshots, read models, commands too
  eventscope --db bank.db --theme light-contrast serve   the app in a browser tab
  eventscope --db bank.db --projector-delay 3000   read models arrive 3 s after events

exit codes: 0 ok; 1 refused by a rule or verification failed; 2 bad usage or input;
3 an unexpected error (a bug): one line names the crash log holding the traceback.
"""


def _add_globals(parser: argparse.ArgumentParser, *, top: bool, actor: bool = True) -> None:
    """Options accepted before or after the command (`--db x init` == `init --db x`)."""
    default = None if top else argparse.SUPPRESS
    group = parser.add_argument_group("database options")
    group.add_argument(
        "--db",
        metavar="PATH",
        default=default,
        help=(
            "database: a file path or sqlite:///PATH (default: $EVENTSCOPE_DB, else "
            "./eventscope.db), postgresql://USER@HOST:PORT/DBNAME for a PostgreSQL "
            "database, or memory: for an in-memory store that lives as long as "
            "the command (e.g. --db memory: demo)"
        ),
    )
    group.add_argument(
        "--domain",
        metavar="NAME",
        default=default,
        help="domain: ledger, inventory, an installed plug-in, or module:attr "
        "(default: the one the database records; ledger for a new one)",
    )
    if actor:
        group.add_argument(
            "--actor",
            metavar="NAME",
            default=default,
            help="who is acting (default: the OS user); at most 100 characters, no control, "
            "bidi or invisible characters",
        )
    group.add_argument(
        "--key-file",
        metavar="FILE",
        default=default,
        help="HMAC key for the hash chain (else $EVENTSCOPE_KEY_FILE or $EVENTSCOPE_KEY)",
    )
    group.add_argument(
        "--signing-key",
        metavar="FILE",
        default=default,
        help="Ed25519 key that signs checkpoints, from `keygen` "
        "(else $EVENTSCOPE_SIGNING_KEY_FILE; none: unsigned)",
    )
    group.add_argument(
        "--synchronous",
        choices=["FULL", "NORMAL", "EXTRA", "OFF"],
        type=str.upper,
        default=default,
        help="SQLite durability for writes (default FULL: survives a power cut)",
    )
    group.add_argument(
        "--busy-timeout",
        metavar="MS",
        type=whole_number,
        default=default,
        help="how long to wait for another writer's lock, in ms (default 5000)",
    )
    group.add_argument(
        "--read-only",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="open the database read-only (SQLite mode=ro; PostgreSQL "
        "default_transaction_read_only): no commands",
    )
    app_options = parser.add_argument_group("app options")
    app_options.add_argument(
        "--theme",
        choices=list(THEMES),
        default=default,
        help="the app's colours: dark (default) or light-contrast (high contrast, for projectors)",
    )
    app_options.add_argument(
        "--projector-delay",
        metavar="MS",
        type=projector_delay,
        default=default,
        help="hold the app's projector back MS ms (0-60000) after new events, to show "
        "eventual consistency; the palette changes it while the app runs; never delays "
        "what is recorded",
    )


class _Unbuilt(_Parser):
    """Stands in for a command the arguments do not run: what is added to it is dropped."""

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        return argparse.Action([], argparse.SUPPRESS)

    def set_defaults(self, **kwargs: Any) -> None:
        pass


class Commands:
    """The subcommands being built: all of them, or only `only` (start-up, issue 14:
    the 20 commands and their options are about 9 ms of `exec deposit`)."""

    def __init__(self, action: argparse._SubParsersAction[_Parser], only: str | None) -> None:
        self.action = action
        self.only = only
        self.unbuilt = _Unbuilt(add_help=False)


def _command(
    sub: Commands,
    name: str,
    help_text: str,
    example: str,
    *,
    actor: bool = True,
) -> _Parser:
    if sub.only is not None and name != sub.only:
        return sub.unbuilt
    parser: _Parser = sub.action.add_parser(
        name,
        help=help_text,
        description=help_text,
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_globals(parser, top=False, actor=actor)
    return parser


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    """`argv` parsed by a parser that builds only the command it runs, when that is
    plain to see; a usage error is told by the full parser, so it reads as always."""
    try:
        return build_parser(argv).parse_args(argv)
    except CliUsageError:
        return build_parser().parse_args(argv)


def _command_run_by(parser: _Parser, argv: Sequence[str]) -> str | None:
    """The first word of `argv` after options of `parser` spelled out in full (none for
    help, an abbreviation, an unknown option, or no command word)."""
    if "-h" in argv or "--help" in argv:
        return None
    words = iter(argv)
    for word in words:
        if not word.startswith("-"):
            return word
        name, equals, _ = word.partition("=")
        action = parser._option_string_actions.get(name)
        if action is None or (action.nargs is not None and (equals or action.nargs != 0)):
            return None
        if action.nargs is None and not equals:
            next(words, None)  # its value, even one that looks like a command
    return None


def build_parser(argv: Sequence[str] | None = None) -> _Parser:
    """The `eventscope` parser: every command, or with `argv` only the command it runs
    (when that is plain to see; see `parse_arguments`)."""
    parser = _Parser(
        prog="eventscope",
        description=GLOBAL_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_globals(parser, top=True)
    parser.set_defaults(handler=lazy.handler("commands", "open_app"))
    sub = Commands(
        parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser),
        only=None if argv is None else _command_run_by(parser, argv),
    )

    p = _command(
        sub,
        "init",
        "create the database (idempotent)",
        "eventscope --db bank.db init\n"
        "  eventscope --db postgresql://owner@db.example/books init "
        "--writer-role books_writer --reader-role books_auditor",
    )
    p.add_argument(
        "--writer-role",
        metavar="ROLE",
        help="PostgreSQL: let ROLE (an existing role) append and project, never UPDATE, "
        "DELETE or TRUNCATE the audit tables (see docs/postgres.md)",
    )
    p.add_argument(
        "--reader-role",
        metavar="ROLE",
        help="PostgreSQL: let ROLE (an existing role) only read (SELECT), for --read-only use",
    )
    p.set_defaults(handler=lazy.handler("commands", "init"))

    p = _command(
        sub,
        "exec",
        "run one command and print the result as JSON",
        "eventscope exec transfer from_account=a1 to_account=a2 amount=25.00 reference=rent",
    )
    p.add_argument("type", metavar="TYPE", help="command type, e.g. deposit (see `commands`)")
    p.add_argument("fields", metavar="key=value", nargs="*", help="the command's fields")
    p.add_argument(
        "--json", dest="json_data", metavar="DATA", help="fields as a JSON object (merged first)"
    )
    p.add_argument(
        "--command-id",
        metavar="ID",
        help="idempotency key: a second exec with the same id appends nothing "
        "(at most 200 characters, no control, bidi or invisible characters)",
    )
    p.set_defaults(handler=lazy.handler("commands", "exec_command"), own_start_up=True)

    p = _command(
        sub,
        "commands",
        "list the domain's commands and their fields",
        "eventscope commands",
    )
    p.set_defaults(handler=lazy.handler("commands", "list_commands"))

    p = _command(
        sub,
        "log",
        "list events (JSON Lines with --json)",
        "eventscope log --stream account-a1 --from 10 --to 20 --json",
        actor=False,  # here --actor filters by actor
    )
    p.add_argument("--stream", metavar="S", help="only this stream (e.g. account-a1)")
    p.add_argument("--type", metavar="T", help="only this event type (e.g. MoneyDeposited)")
    p.add_argument("--actor", dest="filter_actor", metavar="A", help="only events by this actor")
    p.add_argument(
        "--from", dest="from_", metavar="P", type=whole_number, help="first position (incl.)"
    )
    p.add_argument("--to", metavar="P", type=whole_number, help="last position (inclusive)")
    p.add_argument("--limit", metavar="N", type=whole_number, help="at most N events")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(handler=lazy.handler("commands", "log"))

    p = _command(
        sub,
        "verify",
        "check the hash chain and the schema; --anchor: against a kept head; --deep: every "
        "snapshot, read model, checkpoint and commands row against a replay",
        "eventscope verify --json > head.json; eventscope verify --anchor head.json; "
        "eventscope verify --anchor c1 --key x.pub; eventscope verify --deep",
    )
    p.add_argument(
        "--anchor",
        metavar="FILE",
        help="a checkpoint from `checkpoint --out` (checked in O(log n) by a consistency "
        "proof, without walking the chain; add --deep to walk it too), or a head saved from "
        "`verify --json`",
    )
    p.add_argument(
        "--key",
        metavar="VERIFIER_KEY",
        help="with --anchor CHECKPOINT: the log's verifier key (keygen's PREFIX.pub) whose "
        "signature the checkpoint must carry (default: the --signing-key's, if any)",
    )
    p.add_argument(
        "--deep",
        action="store_true",
        help="also replay every event and compare the snapshots, read models, projector "
        "checkpoint and commands rows (names the first mismatch)",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(handler=lazy.handler("commands", "verify"))

    p = _command(
        sub,
        "export",
        "write every event as JSON Lines (to FILE or stdout), with command payloads, "
        "refusals, bookmarks and import records",
        "eventscope export backup.jsonl",
    )
    p.add_argument("file", metavar="FILE", nargs="?", default="-", help="output file (- = stdout)")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")
    p.set_defaults(handler=lazy.handler("commands", "export"))

    p = _command(
        sub,
        "import",
        "append events from JSON Lines, all or nothing, checking the hash chain and "
        "replaying each command through the domain's rules (for 4 MiB or more, read and "
        "replayed in a second process that feeds the load); the import is recorded (on a "
        "terminal, stderr shows the events read so far)",
        "eventscope --db copy.db import backup.jsonl",
    )
    p.add_argument("file", metavar="FILE", help="input file (- = stdin)")
    p.set_defaults(handler=lazy.handler("commands", "import_events"))

    p = _command(
        sub,
        "state",
        "projection state at a point (the head by default)",
        "eventscope state --at 1200 --projection account_balances --json",
    )
    p.add_argument("--at", metavar="P", type=whole_number, help="the state right after position P")
    p.add_argument(
        "--at-time",
        metavar="ISO",
        help="the books as they stood at a time, e.g. 2026-02-03T14:02 (clock-skewed events "
        "do not count)",
    )
    p.add_argument("--projection", metavar="NAME", help="only this projection")
    p.add_argument("--json", action="store_true", help="rows keyed by row key, as JSON")
    p.set_defaults(handler=lazy.handler("readside", "state"))

    p = _command(
        sub,
        "diff",
        "what changed between positions A and B, field by field",
        "eventscope diff 1000 2000 --projection account_balances",
    )
    p.add_argument("a", metavar="A", type=whole_number, help="the earlier position")
    p.add_argument("b", metavar="B", type=whole_number, help="the later position")
    p.add_argument("--projection", metavar="NAME", help="only this projection")
    p.add_argument("--json", action="store_true", help="added, removed and changed rows as JSON")
    p.set_defaults(handler=lazy.handler("readside", "diff"))

    p = _command(
        sub,
        "blame",
        "the events that changed one field of a row: value before → after, who and which command",
        "eventscope blame account_balances acc-00042 balance --from 1000 --to 2000",
    )
    p.add_argument("projection", metavar="PROJECTION", help="the projection, e.g. account_balances")
    p.add_argument("key", metavar="KEY", help="the row key, e.g. acc-00042")
    p.add_argument(
        "field", metavar="FIELD", help="the field, by name or column title, e.g. balance"
    )
    p.add_argument("--from", dest="since", metavar="A", type=whole_number, help="only after A")
    p.add_argument("--to", metavar="B", type=whole_number, help="only up to B (the head)")
    p.add_argument("--json", action="store_true", help="one object per change, values as stored")
    p.set_defaults(handler=lazy.handler("blame", "blame"))

    p = _command(
        sub,
        "rebuild",
        "rebuild the read models from zero (the old ones stay readable until the swap)",
        "eventscope rebuild\n  eventscope rebuild --projection account_balances",
    )
    p.add_argument(
        "--projection",
        metavar="NAME",
        action="append",
        default=[],
        help=(
            "rebuild only this read model (repeatable), e.g. after changing its definition; "
            "the others stay as they are, and snapshots are not rebuilt"
        ),
    )
    p.set_defaults(handler=lazy.handler("readside", "rebuild"))

    p = _command(
        sub,
        "project",
        "bring the read models up to the head; --follow keeps them there (a daemon)",
        "eventscope project --follow",
    )
    p.add_argument("--follow", action="store_true", help="keep following new events (Ctrl-C)")
    p.add_argument(
        "--interval", metavar="S", type=finite_number, default=0.1, help="poll interval in seconds"
    )
    p.set_defaults(handler=lazy.handler("readside", "project"))

    p = _command(
        sub,
        "demo",
        "write deterministic demo data into an empty database, then open the app",
        "eventscope --db demo.db demo --events 200000 --seed 7 --no-open",
    )
    p.add_argument(
        "--events", metavar="N", type=whole_number, default=100_000, help="events (100000)"
    )
    p.add_argument("--seed", metavar="S", type=whole_number, default=7, help="random seed (7)")
    p.add_argument(
        "--end",
        metavar="ISO",
        help="when the history ends, an ISO date/time in UTC (default: now); "
        "e.g. 2026-03-01T18:00Z for the same history on every run",
    )
    p.add_argument("--no-open", action="store_true", help="write the data; do not open the app")
    p.set_defaults(handler=lazy.handler("readside", "demo"))

    p = _command(
        sub,
        "simulate",
        "live traffic from several actors through the command bus, refusals included",
        "eventscope simulate --rate 20 --duration 60",
    )
    p.add_argument(
        "--rate", metavar="R", type=finite_number, default=10.0, help="commands a second (10)"
    )
    p.add_argument(
        "--duration", metavar="S", type=finite_number, help="seconds to run (default: until Ctrl-C)"
    )
    p.add_argument("--seed", metavar="S", type=whole_number, default=1, help="random seed (1)")
    p.add_argument("--json", action="store_true", help="one JSON object per command")
    p.add_argument("--quiet", action="store_true", help="print only the summary")
    p.set_defaults(handler=lazy.handler("readside", "simulate"))

    from tui.cli.parser_extra import proof_commands, serve_command

    serve_command(sub)
    proof_commands(sub)
    return parser
