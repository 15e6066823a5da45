"""A throwaway PostgreSQL server for the tests: initdb into a temporary folder, start it
on a free port (its unix socket in that folder too), one fresh database per test, and
stop it and remove the folder at the end.

PostgreSQL refuses to run as root, so under root the server programs run as the
`postgres` user (`runuser -u postgres --`), and the folder is handed to that user.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REQUIRE_ENV = "EVENTSCOPE_REQUIRE_POSTGRES"
ENABLE_HINT = (
    "PostgreSQL's server programs (initdb, pg_ctl) were not found on PATH, in "
    "/usr/lib/postgresql/*/bin or /usr/local/bin; install them (Debian: apt-get install "
    "postgresql) to run the PostgreSQL tests"
)
SERVER_USER = "postgres"


class ServerUnavailable(RuntimeError):
    """No PostgreSQL server programs here, or the server would not start."""


def find_server_programs() -> Path | None:
    """The folder holding `initdb` and `pg_ctl`: PATH first, then Debian's versioned
    folders (newest first), then /usr/local/bin."""
    on_path = shutil.which("initdb")
    candidates: list[Path] = []
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    versioned = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates += [Path(p) for p in versioned]
    candidates.append(Path("/usr/local/bin"))
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
        resolved = (folder / "initdb").resolve()
        if resolved.exists() and (resolved.parent / "pg_ctl").exists():
            return resolved.parent
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    """One running throwaway server; `database()` gives a fresh database's URL."""

    bin_dir: Path
    folder: Path
    port: int = 0
    user: str = SERVER_USER
    durable: bool = False
    """fsync and synchronous_commit on (benchmarks); off for tests, which need no durability."""
    _names: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    def _as_server_user(self, argv: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return argv
        return ["runuser", "-u", SERVER_USER, "--", *argv]

    def _run(self, argv: list[str]) -> None:
        done = subprocess.run(
            self._as_server_user(argv), capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise ServerUnavailable(
                f"{Path(argv[0]).name} failed ({done.returncode}): "
                f"{(done.stderr or done.stdout).strip()[-800:]}"
            )

    def start(self) -> None:
        """initdb, then start on a free port (a few tries: another may take the port)."""
        if os.geteuid() == 0:
            entry = pwd.getpwnam(SERVER_USER)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        else:
            self.user = pwd.getpwuid(os.geteuid()).pw_name
        self._run(
            [
                str(self.bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                self.user,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ]
        )
        last: ServerUnavailable | None = None
        for _ in range(5):
            self.port = _free_port()
            options = (
                f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                "-c max_connections=200"
            )
            if not self.durable:
                options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            try:
                self._run(
                    [
                        str(self.bin_dir / "pg_ctl"),
                        "-D",
                        str(self.data_dir),
                        "-o",
                        options,
                        "-l",
                        str(self.folder / "server.log"),
                        "-w",
                        "-t",
                        "120",
                        "start",
                    ]
                )
                return
            except ServerUnavailable as exc:
                last = exc
        raise last or ServerUnavailable("the server did not start")

    def stop(self) -> None:
        """Stop the server (fast, no checkpoint needed) and remove its folder."""
        with contextlib.suppress(ServerUnavailable):
            self._run(
                [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "stop"]
            )
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def database(self) -> str:
        """Create a fresh, empty database; returns its URL."""
        import psycopg

        name = f"t{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def start_server(*, durable: bool = False) -> PostgresServer:
    """Start a throwaway server; raises ServerUnavailable with a reason if it cannot.

    `durable`: fsync and synchronous_commit on, as a server is shipped (benchmarks).
    """
    bin_dir = find_server_programs()
    if bin_dir is None:
        raise ServerUnavailable(ENABLE_HINT)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise ServerUnavailable(
            "psycopg is not installed; pip install -e '.[test]' (or eventscope[postgres]) "
            "to run the PostgreSQL tests"
        ) from None
    folder = Path(tempfile.mkdtemp(prefix="eventscope-pg-"))
    folder.chmod(0o755)
    server = PostgresServer(bin_dir, folder, durable=durable)
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    return server
