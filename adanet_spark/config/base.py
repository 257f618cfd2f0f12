"""What every config section shares: the model settings, the string type, keyed errors.

A section is a mutable pydantic model that refuses unknown keys and coerces
nothing but numbers to strings: a YAML ``yes`` given for a bool, ``'3'`` for an
int or a scalar for a list is an error naming the key, as a config typo should be.
"""
from __future__ import annotations

from typing import Annotated, Iterable

from pydantic import BaseModel, ConfigDict, Strict

# Strings are the one lax type: ``input.positive: 1`` means the label value '1'.
Text = Annotated[str, Strict(False)]


class Section(BaseModel):
    """Base of every config section (strict types, no unknown keys, mutable)."""

    model_config = ConfigDict(strict=True, extra="forbid", coerce_numbers_to_str=True,
                              validate_by_name=True, validate_by_alias=True)


class ConfigValueError(ValueError):
    """A failed cross-field check; ``key`` is the dotted key at fault, relative to
    the section whose validator raised it, so the loader can name the full key."""

    def __init__(self, key: str, message: str):
        super().__init__(f"'{key}' {message}")
        self.key = key
        self.message = message


def require(cond: bool, key: str, message: str) -> None:
    if not cond:
        raise ConfigValueError(key, message)


def one_of(value: str, names: Iterable[str]) -> str:
    """``value`` if it is in ``names``; for field validators (the field names the key)."""
    names = list(names)
    if value not in names:
        raise ValueError(f"must be one of {', '.join(names)}, got '{value}'")
    return value
