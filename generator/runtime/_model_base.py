"""The base classes of every model in `models/`: one configuration, and a repr without secrets."""

from __future__ import annotations

from typing import Any

import pydantic

__all__ = ["Model", "RequestModel"]

# A string field whose wire name contains one of these is shown as `'***'` by repr(): declared or
# unknown, at any depth. Dates, numbers and booleans stay visible (`accessTokenExpiration`).
_SECRET_PARTS = ("password", "secret", "token", "otp")
_HIDDEN = "***"


def _is_secret(name: str) -> bool:
    lowered = name.lower()
    return any(part in lowered for part in _SECRET_PARTS)


def _masked(value: Any) -> Any:
    """`value` with the secret strings of mappings (and of their lists) replaced, for repr only."""
    if isinstance(value, dict):
        return {
            k: (_HIDDEN if isinstance(v, str) and _is_secret(str(k)) else _masked(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value


class Model(pydantic.BaseModel):
    """Unknown fields are kept (a newer server's data survives a round trip); validation errors
    never quote the input (it may be a password). No protected namespaces: the generator renames
    a field that would shadow pydantic (`model_dump` → `model_dump_`), and pydantic's warning about
    the new name, at every import, would only be noise."""

    model_config = pydantic.ConfigDict(
        extra="allow", populate_by_name=True, hide_input_in_errors=True, protected_namespaces=()
    )

    def __repr_args__(self) -> Any:
        fields = type(self).model_fields
        for name, value in super().__repr_args__():
            info = fields.get(name) if name is not None else None
            wire = (info.serialization_alias or info.alias or name) if info is not None else name
            if isinstance(value, str) and wire is not None and _is_secret(wire):
                yield name, _HIDDEN
            else:
                yield name, _masked(value)


class RequestModel(Model):
    """A model only requests use: an unknown field is a typo (`cart_idd=`), refused before sending."""

    model_config = pydantic.ConfigDict(extra="forbid")
