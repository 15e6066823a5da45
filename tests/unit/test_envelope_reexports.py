"""`domain.envelope` still names the records that moved to `domain.store_records`.

They are defined on first use (start-up, issue 14), and every import of them through
`domain.envelope` gets the same class.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

import domain.envelope
import domain.store_records


@pytest.mark.parametrize("name", ["Bookmark", "PendingEvent", "StreamSummary"])
def test_envelope_hands_out_the_store_records_class(name: str) -> None:
    assert getattr(domain.envelope, name) is getattr(domain.store_records, name)


def test_a_name_envelope_never_had_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Bookmarks'"):
        _ = domain.envelope.Bookmarks  # type: ignore[attr-defined]


def test_importing_the_envelope_defines_none_of_them() -> None:
    code = (
        "import sys, domain.envelope\n"
        "print('domain.store_records' in sys.modules)\n"
        "from domain.envelope import Bookmark\n"
        "print('domain.store_records' in sys.modules, Bookmark.__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True", "Bookmark"]
