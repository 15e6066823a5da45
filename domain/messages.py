"""Commands (orders) and events (facts), both plain frozen pydantic data.

Every message type has a stable `type_name` (never an import path, so renaming a class
never breaks stored data). Events also carry a `schema_version`; old stored versions
are lifted to the current model by the upcasters in `domain.upcasting`.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from domain.errors import InvalidInput


class Message(BaseModel):
    """Base of commands and events: frozen, unknown fields refused."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", str_strip_whitespace=True, defer_build=True
    )

    type_name: ClassVar[str] = ""
    """The stable name stored and shown (e.g. `deposit`, `MoneyDeposited`)."""

    def payload(self) -> dict[str, Any]:
        """The message's fields as JSON-ready data."""
        return self.model_dump(mode="json")


class Command(Message):
    """An order to the domain. `title` is what a form or help shows."""

    title: ClassVar[str] = ""


class Event(Message):
    """A fact that happened. Its payload is a public contract."""

    schema_version: ClassVar[int] = 1


def validation_problems(error: ValidationError) -> list[tuple[tuple[str, ...], str, str]]:
    """Pydantic's errors as (field location, error kind, message without its
    "Value error, " prefix): what both the one-line and the per-field reports say."""
    return [
        (
            tuple(str(part) for part in err["loc"]),
            err["type"],
            str(err["msg"]).removeprefix("Value error, "),
        )
        for err in error.errors()
    ]


def describe_validation_error(name: str, error: ValidationError) -> str:
    """One line saying which field was wrong and why, for any pydantic error."""
    parts = []
    for loc, kind, message in validation_problems(error):
        where = ".".join(loc) or "input"
        if kind == "missing":
            parts.append(f"{where} is required")
        elif kind == "extra_forbidden":
            parts.append(f"{where} is not a field of {name}")
        else:
            parts.append(f"{where}: {message}")
    return f"invalid {name}: " + "; ".join(parts)


def field_errors(error: ValidationError) -> dict[str, str]:
    """Pydantic's errors as one message per top-level field ("" for the whole form)."""
    found: dict[str, str] = {}
    for loc, kind, message in validation_problems(error):
        found.setdefault(loc[0] if loc else "", "required" if kind == "missing" else message)
    return found


M = TypeVar("M", bound=Message)


def parse_message(model: type[M], data: dict[str, Any]) -> M:
    """Validate `data` as `model`, turning pydantic's errors into one InvalidInput line."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(
            describe_validation_error(model.type_name or model.__name__, exc)
        ) from None
