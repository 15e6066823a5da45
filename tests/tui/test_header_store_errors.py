"""The header says what failed when the in-app projector stops on a store error.

The PostgreSQL store names itself first (`postgresql://u:***@host/db: …`); cutting such
a message at its first `: ` left only the URL in the header, which said nothing.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tui.derived_check import DerivedStatus
from tui.services.types import ChainStatus
from tui.widgets.status_bar import StatusBar, StatusView, short_error

WHERE = "postgresql://bank_auditor:***@127.0.0.1:5432/bank"


def test_a_postgresql_error_shows_what_failed_not_the_database_url() -> None:
    denied = (
        f"{WHERE}: role bank_auditor may not take the projector lease (permission denied "
        "for table projector_lease); connect as the writer role (`init --writer-role`), "
        "or read with --read-only"
    )
    assert short_error(denied) == "role bank_auditor may not take the projector lease"


def test_a_lost_connection_shows_what_was_lost() -> None:
    lost = (
        f"{WHERE}: the connection to the server was lost while trying to project; nothing "
        "was half-recorded, try again (consuming input failed: server closed the connection)"
    )
    assert short_error(lost) == "the connection to the server was lost while trying to project"


def test_a_projection_failure_still_names_the_projection_and_event() -> None:
    failed = "projection audit_flags failed on event #7 (MoneyDeposited): ValueError: bad"
    assert short_error(failed) == "audit_flags failed at #7 (MoneyDeposited)"


@given(
    action=st.sampled_from(["append", "record a refusal", "take the projector lease"]),
    table=st.sampled_from(["events", "refusals", "projector_lease"]),
)
def test_the_header_never_shows_only_the_url(action: str, table: str) -> None:
    bar = StatusBar()
    bar.view = StatusView(
        db_name="bank",
        live=True,
        position=3,
        time="",
        head=3,
        chain=ChainStatus("ok"),
        derived=DerivedStatus("unchecked"),
        actor="root",
        read_error=f"{WHERE}: role r may not {action} (permission denied for table {table})",
    )
    text = bar._content(120).plain
    assert f"✗ role r may not {action}" in text, text
    assert "postgresql://" not in text
