"""docs/architecture.md stays true: every module path it names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_path_in_the_architecture_page_exists() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    paths = set(re.findall(r"`((?:domain|store|tui|tests|docs)/[\w/.\-]*)`", text))
    assert len(paths) > 30
    missing = sorted(p for p in paths if not (ROOT / p.rstrip("/")).exists())
    assert missing == []


def test_the_named_functions_exist_where_the_page_says() -> None:
    named = {
        "domain/timeline/lineage.py": "def lineage_steps",
        "store/sqlite/append.py": "def append",
        "domain/bus.py": "def execute",
        "tui/services/stepping.py": "def live_frame",
        "tui/widgets/projection_panels.py": "def show_frame",
        "tui/controllers/cursor.py": "class TimeCursor",
        "tui/controllers/frames.py": "class FrameScheduler",
        "tui/screens/command_form.py": "def validate_form",
    }
    for path, definition in named.items():
        assert definition in (ROOT / path).read_text(encoding="utf-8"), (path, definition)
