"""An import tells how far it got: events read and the share of the file, on a terminal.

A large import (a minute for a million events) used to print nothing until its end.
`import_history(progress=...)` is told the events and bytes read every
`PROGRESS_EVERY` events; `eventscope import` draws that on stderr when stderr is a
terminal, clears it before a refusal's line, and draws nothing in a pipe.
"""

from __future__ import annotations

import io
import itertools
import re
from pathlib import Path

import pytest
from cli_support import Cli

from domain.ledger.description import LEDGER_DOMAIN
from store.sqlite import SqliteEventStore
from store.transfer.importer import PROGRESS_EVERY, import_history


@pytest.fixture(scope="module")
def export_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger demo's export with a few thousand events (several progress steps)."""
    from tui.cli import main

    folder = tmp_path_factory.mktemp("progress")
    db, dump = folder / "source.db", folder / "source.jsonl"
    assert main(["--db", str(db), "demo", "--events", "5000", "--no-open"]) == 0
    assert main(["--db", str(db), "export", str(dump)]) == 0
    return dump


class _Terminal(io.StringIO):
    """stderr as a terminal sees it (a bar is drawn only on a terminal)."""

    def isatty(self) -> bool:
        return True


def test_import_reports_events_and_bytes_read_as_it_goes(export_file: Path, tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    with SqliteEventStore.open(a, create=True) as store, export_file.open("rb") as f:
        result = import_history(
            store,
            f,
            domain=LEDGER_DOMAIN,
            actor="tester",
            progress=lambda events, read: calls.append((events, read)),
        )
    with SqliteEventStore.open(b, create=True) as store, export_file.open("rb") as f:
        plain = import_history(store, f, domain=LEDGER_DOMAIN, actor="tester")
    assert result.head == plain.head  # told or not, the same import
    assert [events for events, _ in calls] == list(
        range(PROGRESS_EVERY, result.events + 1, PROGRESS_EVERY)
    )
    reads = [read for _, read in calls]
    assert all(a < b for a, b in itertools.pairwise(reads))  # ~1 MB between calls
    assert 0 < reads[-1] <= export_file.stat().st_size


def test_import_draws_its_progress_on_a_terminal(
    cli: Cli, export_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    r = cli("import", str(export_file))
    assert r.code == 0
    drawn = terminal.getvalue()
    assert re.search(r"importing +\[#*\.*\] +\d+% [\d,]+ ", drawn)  # a file: its share
    assert re.search(r"\r\x1b\[Kimporting: [\d,]+ events in \d+\.\ds\n$", drawn)
    assert r.out.startswith("imported ")


def test_a_refused_import_clears_the_bar_before_its_line(
    cli: Cli, export_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = export_file.read_bytes().split(b"\n")
    last_event = max(i for i, line in enumerate(lines) if line.startswith(b'{"position"'))
    lines[last_event] = lines[last_event].replace(b'"position":', b'"positio":', 1)
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"\n".join(lines))
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    r = cli("import", str(bad), db_path=tmp_path / "bad.db")
    assert r.code == 2
    drawn = terminal.getvalue()
    assert "importing" in drawn
    before_error = drawn[: drawn.index("eventscope: error:")]
    assert before_error.endswith("\r\x1b[K")  # the bar's line taken away first
    assert f"line {last_event + 1}:" in drawn
    assert not (tmp_path / "bad.db").exists()


def test_import_in_a_pipe_draws_nothing(cli: Cli, export_file: Path) -> None:
    r = cli("import", str(export_file))
    assert r.code == 0
    assert r.err == ""


def test_the_bar_fits_the_terminal_width(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bar wider than the terminal would wrap, and `\\r` could not redraw it in place."""
    import os

    from tui.cli.progress import ProgressBar

    class Narrow(_Terminal):
        def fileno(self) -> int:
            return 2

    monkeypatch.setattr(os, "get_terminal_size", lambda fd: os.terminal_size((40, 24)))
    out = Narrow()
    bar = ProgressBar("importing", out)
    bar(400_000, 1_000_000)
    drawn = out.getvalue().split("\r")[-1].removesuffix("\x1b[K")
    assert drawn.startswith("importing") and len(drawn) == 39
