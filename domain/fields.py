"""Free-text command fields: one pydantic annotation built on `domain.text.checked_text`.

Every domain's free text (an owner, a reason, a reference, a product name, a to-do)
is declared as `Annotated[str, FreeText(max_length)]`, so all of them are normalised
to NFC and refuse control, bidi and invisible characters with the same one-line message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from domain.text import UnsafeText, checked_text, unsafe_characters


@dataclass(frozen=True)
class FreeText:
    """Annotation for a free-text field: `checked_text`, at most `max_length` characters.

    With `required=False` the empty string is accepted (an optional note).
    """

    max_length: int
    required: bool = True

    def check(self, value: str, info: core_schema.ValidationInfo) -> str:
        """`value` normalised, or a ValueError that pydantic prefixes with the field name."""
        field = info.field_name or "text"
        try:
            return checked_text(
                value, field=field, max_length=self.max_length, required=self.required
            )
        except UnsafeText as exc:
            raise ValueError(str(exc).removeprefix(f"{field} ")) from None

    def check_raw(self, value: Any, info: core_schema.ValidationInfo) -> Any:
        """Refuse unsafe characters before the model strips whitespace: a trailing
        newline or carriage return is refused, not silently cut off."""
        if isinstance(value, str) and unsafe_characters(value):
            self.check(value, info)
        return value

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        checked = core_schema.with_info_after_validator_function(self.check, handler(source))
        return core_schema.with_info_before_validator_function(self.check_raw, checked)

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["maxLength"] = self.max_length
        if self.required:
            json_schema["minLength"] = 1
        return json_schema
