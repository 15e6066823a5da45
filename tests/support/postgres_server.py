"""A throwaway PostgreSQL server for the tests: initdb into a temporary folder, start it
on a free port (its unix socket in that folder too), one fresh database per test, and
stop it and remove the folder at the end.

PostgreSQL refuses to run as root, so under root the server programs run as the
`postgres` user (`runuser -u postgres --`), and the folder is handed to that user.

A test run killed by SIGKILL cannot stop its servers, so each server's folder records
its owner (the process that started it: pid and start time, in `owner`), and:
- a watchdog process (`python postgres_server.py watch FOLDER`, in its own session)
  stops the server and removes its folder as soon as its owner is gone;
- `start_server` first reaps the servers of dead owners under the same parent folder
  (`reap_stale_servers`), in case a watchdog was killed too.
Folders without an `owner` file (other tools, older runs) are never touched.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REQUIRE_ENV = "EVENTSCOPE_REQUIRE_POSTGRES"
ENABLE_HINT = (
    "PostgreSQL's server programs (initdb, pg_ctl) were not found on PATH, in "
    "/usr/lib/postgresql/*/bin or /usr/local/bin; install them (Debian: apt-get install "
    "postgresql) to run the PostgreSQL tests"
)
SERVER_USER = "postgres"
FOLDER_PREFIX = "eventscope-pg-"
OWNER_FILE = "owner"
"""In a server's folder: `PID START_TIME` of the process that owns the server."""
WATCH_INTERVAL_S = 1.0


def process_start_time(pid: int) -> str | None:
    """The start time of process `pid` (field 22 of /proc/PID/stat), None when it is
    gone or a zombie: with the pid it names one process, even after pid reuse."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    if not fields or fields[0] in ("Z", "X"):  # fields[0] is the state
        return None
    return fields[19]


def owner_alive(folder: Path) -> bool | None:
    """Whether the owner recorded in `folder` still runs (None: no owner recorded)."""
    try:
        pid_text, _, started = (folder / OWNER_FILE).read_text().strip().partition(" ")
        pid = int(pid_text)
    except (OSError, ValueError):
        return None
    return process_start_time(pid) == started


def reap_stale_servers(parent: Path) -> list[Path]:
    """Stop the throwaway servers under `parent` whose owner is dead, and remove their
    folders; returns those folders."""
    bin_dir = find_server_programs()
    reaped: list[Path] = []
    for folder in sorted(parent.glob(f"{FOLDER_PREFIX}*")):
        if owner_alive(folder) is not False:
            continue
        if bin_dir is not None:
            PostgresServer(bin_dir, folder).stop()
        else:
            shutil.rmtree(folder, ignore_errors=True)
        reaped.append(folder)
    return reaped


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
    _watchdog: subprocess.Popen[bytes] | None = None

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

    def record_owner(self, pid: int) -> None:
        """Record process `pid` as this server's owner, and start the watchdog that stops
        the server when that process is gone."""
        started = process_start_time(pid)
        (self.folder / OWNER_FILE).write_text(f"{pid} {started}\n")
        self._watchdog = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "watch", str(self.folder)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C or kill of the test's group spares it
        )

    def stop(self) -> None:
        """Stop the server (fast, no checkpoint needed) and remove its folder."""
        if self._watchdog is not None:
            self._watchdog.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._watchdog.wait(timeout=10)
            self._watchdog = None
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


def start_server(*, durable: bool = False, parent: Path | None = None) -> PostgresServer:
    """Start a throwaway server owned by this process, in a new folder under `parent`
    (the temporary folder by default), after reaping the servers there whose owner
    died; raises ServerUnavailable with a reason if it cannot.

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
    parent = parent or Path(tempfile.gettempdir())
    reap_stale_servers(parent)
    folder = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX, dir=parent))
    folder.chmod(0o755)
    server = PostgresServer(bin_dir, folder, durable=durable)
    try:
        server.record_owner(os.getpid())
        server.start()
    except BaseException:
        server.stop()
        raise
    return server


def _watch(folder: Path) -> None:
    """The watchdog: wait while the owner lives (or until told to stop), then stop the
    server and remove its folder."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # the owner stops the server
    while owner_alive(folder):
        time.sleep(WATCH_INTERVAL_S)
    bin_dir = find_server_programs()
    if bin_dir is not None and folder.exists():
        PostgresServer(bin_dir, folder).stop()


if __name__ == "__main__":
    if sys.argv[1:2] != ["watch"] or len(sys.argv) != 3:
        raise SystemExit("usage: postgres_server.py watch FOLDER")
    _watch(Path(sys.argv[2]))
