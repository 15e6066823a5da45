"""`eventscope serve`: the app in web browsers through textual-serve, one app process per tab.

This module imports neither Textual nor textual-serve: the server itself lives in
`tui/cli/web_server.py`, imported only when `serve` runs (textual-serve is an extra).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import shlex
import socket
import sys
from pathlib import Path

from domain.errors import InvalidInput
from domain.text import escape
from store.postgres import is_postgres_url
from tui.cli.commands import workspace

INSTALL_HINT = "pip install 'eventscope[serve]'"

FORWARDED_OPTIONS = (
    ("--domain", "domain", False),
    ("--actor", "actor", False),
    ("--key-file", "key_file", True),
    ("--signing-key", "signing_key", True),
    ("--synchronous", "synchronous", False),
    ("--busy-timeout", "busy_timeout", False),
    ("--theme", "theme", False),
    ("--projector-delay", "projector_delay", False),
)
"""The global options each tab's app process gets, as given to `serve` (flag, attribute,
whether it is a file path, made absolute)."""


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback addresses (127.0.0.0/8, ::1): only this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def app_command(args: argparse.Namespace, db_path: Path | None) -> str:
    """The shell command textual-serve runs for each browser tab: this Python, `-m tui`, on
    the same database with the same global options; every argument quoted, and `exec` so
    the shell leaves no process of its own.

    `db_path` None: a PostgreSQL store, whose URL (it may hold a password) the tabs get
    from `$EVENTSCOPE_DB` in their environment, never on a command line that `ps` shows
    to every user and textual-serve prints."""
    # `--flag=value`: a value starting with "-" must not read as an option.
    argv = [sys.executable, "-m", "tui"]
    if db_path is not None:
        argv.append(f"--db={db_path.absolute()}")
    for flag, name, is_path in FORWARDED_OPTIONS:
        value = getattr(args, name, None)
        if value is not None:
            argv.append(f"{flag}={Path(value).absolute() if is_path else value}")
    if getattr(args, "read_only", False):
        argv.append("--read-only")
    return "exec " + shlex.join(argv)


def public_url(host: str, port: int, given: str | None) -> str:
    """The address the page tells browsers to reach (its websocket included)."""
    if given:
        return given.rstrip("/")
    if host in ("0.0.0.0", "::", ""):
        host = socket.getfqdn()  # a wildcard address is not one a browser can reach
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def check_can_listen(host: str, port: int) -> None:
    """Refuse (exit 2, one line) a host that does not resolve or a port taken or not ours."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        socket.create_server((host, port), family=family).close()
    except OSError as exc:
        raise InvalidInput(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def serve(args: argparse.Namespace) -> int:
    """`serve`: check the options and the database once, then serve until Ctrl-C or SIGTERM."""
    if not 1 <= args.port <= 65535:
        raise InvalidInput(f"--port must be between 1 and 65535, not {args.port}")
    if not is_loopback(args.host) and not args.public:
        raise InvalidInput(
            f"--host {args.host} is reachable from other machines and the page has no "
            "authentication: add --public to serve it anyway"
        )
    try:
        from tui.cli.web_server import AppServer
    except ImportError:
        raise InvalidInput(f"serve needs textual-serve: {INSTALL_HINT}") from None
    with workspace(args) as ws:  # a bad --db, --domain or --actor fails here, not per tab
        # Every tab runs its own app process on the same database: a file, or a server.
        db_path = None if is_postgres_url(ws.location) else ws.file  # memory: refused
        shown, name = ws.location, ws.name  # a URL without its password
        _, tab_env = ws.child_database() or ([], {})
    check_can_listen(args.host, args.port)
    os.environ.update(tab_env)  # textual-serve passes its environment on to each tab
    if args.public and not is_loopback(args.host):
        print(
            f"eventscope: warning: serving on {escape(args.host)}: anyone who reaches "
            f"port {args.port} can use the app as {escape(args.actor or 'the OS user')} "
            "(no authentication)",
            file=sys.stderr,
        )
    url = public_url(args.host, args.port, args.public_url)
    server = AppServer(
        app_command(args, db_path),
        host=args.host,
        port=args.port,
        public_url=url,
        title=f"eventscope · {name}",
        banner=f"eventscope: serving {escape(shown)} on {escape(url)} (Ctrl-C stops)",
    )
    server.serve()
    return 0
