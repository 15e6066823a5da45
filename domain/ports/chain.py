"""The ChainIntegrity role: the hash chain over the events, and checking it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from domain.envelope import Head, RecordedEvent


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of walking the chain from position 1."""

    ok: bool
    checked: int
    """How many events verified before the first problem (all of them when ok)."""
    head: Head
    """The last event that verified: the chain's head when ok, else where trust ends."""
    hash_mode: str
    first_bad_position: int | None = None
    problem: str = ""

    @property
    def message(self) -> str:
        """One line for a person."""
        if self.ok:
            return (
                f"chain ok: {self.checked} events verified ({self.hash_mode}); "
                f"head {self.head.position} {self.head.hash}"
            )
        return (
            f"chain broken at position {self.first_bad_position}: {self.problem}; "
            f"{self.checked} events verified before it"
        )

    def to_json_dict(self) -> dict[str, Any]:
        """The report as JSON (the shape `verify --json` prints)."""
        return {
            "ok": self.ok,
            "checked": self.checked,
            "head": self.head.to_json_dict(),
            "hash_mode": self.hash_mode,
            "first_bad_position": self.first_bad_position,
            "problem": self.problem,
        }


class ChainIntegrity(Protocol):
    """Every event carries a SHA-256 (or HMAC-SHA-256, keyed) hash over its row and the
    hash before it; these methods check that chain."""

    @property
    def hash_mode(self) -> str:
        """`sha256` or `hmac-sha256`."""
        ...

    @property
    def keyed(self) -> bool:
        """True for an HMAC-keyed chain."""
        ...

    @property
    def has_key(self) -> bool:
        """True when the key of a keyed chain is known (needed to write and verify)."""
        ...

    def verify(self) -> VerifyReport:
        """Walk the whole chain and report the first problem, if any."""
        ...

    def verify_event(self, event: RecordedEvent) -> bool:
        """True when the stored row at `event.position` is `event` and still hashes right."""
        ...
