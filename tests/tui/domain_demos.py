"""Demo databases of each bundled domain for the app's tests (read side built, fixed seed)."""

from __future__ import annotations

from pathlib import Path

from tui_support import DEMO_EVENTS, DEMO_SEED, load_demo, open_test_workspace

from store.sqlite import SqliteEventStore
from tui.bootstrap import load_domain

DOMAINS = ("ledger", "inventory")


def load_domain_demo(domain: str, path: Path) -> Path:
    """`path` holding `domain`'s demo history, snapshots and read models at the head."""
    if domain == "ledger":
        load_demo(path)
        return path
    description = load_domain(domain)
    assert description.demo is not None
    store = SqliteEventStore.init(path, domain=domain)
    try:
        store.append_bulk(description.demo(DEMO_EVENTS, DEMO_SEED))
    finally:
        store.close()
    workspace = open_test_workspace(path)
    try:
        workspace.timeline.build_snapshots()
        with workspace.projector() as projector:
            projector.catch_up()
    finally:
        workspace.close()
    return path
