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

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

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


def describe_validation_error(name: str, error: ValidationError) -> str:
    """One line saying which field was wrong and why, for any pydantic error."""
    parts = []
    for err in error.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "input"
        kind = err["type"]
        if kind == "missing":
            parts.append(f"{loc} is required")
        elif kind == "extra_forbidden":
            parts.append(f"{loc} is not a field of {name}")
        else:
            msg = str(err["msg"])
            msg = msg.removeprefix("Value error, ")
            parts.append(f"{loc}: {msg}")
    return f"invalid {name}: " + "; ".join(parts)


M = TypeVar("M", bound=Message)


def parse_message(model: type[M], data: dict[str, Any]) -> M:
    """Validate `data` as `model`, turning pydantic's errors into one InvalidInput line."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(
            describe_validation_error(model.type_name or model.__name__, exc)
        ) from None
