"""Domain errors: each carries a message a person can act on.

The CLI maps them to exit codes: `RuleRefused`/`NotFound` -> 1 (refused by a rule),
`InvalidInput` -> 2 (bad usage or input). `ConcurrencyConflict` is retried by the bus
and only reaches a user when retries are exhausted.
"""

from __future__ import annotations

from domain.text import escape


def one_line(text: str) -> str:
    """`text` with line breaks and other unsafe characters escaped (`\\x0a`, `\\x1b`).

    Errors often echo what a person or a file supplied (a field name, a stream id); a
    newline in it must not break the one-line error, nor an escape sequence drive the
    terminal. The rule is `domain.text.escape`, the one used for every output.
    """
    return escape(text)


class DomainError(Exception):
    """Base of every error the domain raises on purpose; its message is one line."""

    code = "error"
    exit_code = 1

    def __init__(self, message: str) -> None:
        message = one_line(message)
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInput(DomainError):
    """The input is malformed: fix it and try again."""

    code = "invalid_input"
    exit_code = 2


class RuleRefused(DomainError):
    """A well-formed command that a business rule refuses."""

    code = "refused"


class NotFound(RuleRefused):
    """The command names something that does not exist."""

    code = "not_found"


class ConcurrencyConflict(DomainError):
    """A stream moved on between load and append."""

    code = "conflict"

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"stream {stream_id} is at version {actual}, expected {expected}: "
            "someone else changed it, retry the command"
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class StoreError(DomainError):
    """The store cannot do what was asked (locked, unreadable, newer schema...)."""

    code = "store"
    exit_code = 2


class IntegrityError(DomainError):
    """Stored history does not verify (broken hash chain, gap, bad anchor)."""

    code = "integrity"
