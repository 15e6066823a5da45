"""What is wrong with a stored event, for flagging it where it is shown (the log, the
inspector's provenance): the checks an import applies (`domain.history_check`), told
as text instead of refusing."""

from __future__ import annotations

from typing import Any

from domain.envelope import RecordedEvent
from domain.errors import InvalidInput
from domain.history_check import check_metadata, decode_event
from domain.history_compare import json_kind
from domain.model import DomainModel


def metadata_problem(metadata: Any) -> str:
    """What is wrong with stored metadata ('' when nothing), for flagging it on display."""
    if not isinstance(metadata, dict):
        return f"metadata must be a JSON object, not {json_kind(metadata)}"
    try:
        check_metadata(metadata)
    except InvalidInput as exc:
        return exc.message
    return ""


def event_problem(model: DomainModel, event: RecordedEvent) -> str:
    """What is wrong with a stored event's metadata or data ('' when it validates)."""
    problems = [metadata_problem(event.metadata)]
    try:
        decode_event(model, event)
    except InvalidInput as exc:
        problems.append(exc.message)
    return "; ".join(p for p in problems if p)


def flag_problem(problem: str) -> str:
    """The flag shown before a stored event's summary when it does not validate."""
    return f"[BAD STORED EVENT: {problem}] " if problem else ""
