"""Demo databases of each bundled domain for the app's tests (read side built, fixed
seed); `domain_workspace` in conftest gives a fresh copy of each in turn."""

from __future__ import annotations

from pathlib import Path

from tui_support import DEMO_EVENTS, DEMO_SEED, build_read_side, load_demo

from store.sqlite import SqliteEventStore
from tui.domains import load_domain

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
    build_read_side(path)
    return path
