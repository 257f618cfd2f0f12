"""Dataclasses as plain dicts: what crosses process boundaries and lands in JSON.

Readers ignore keys they do not know, so a newer writer (an extra field in a
payload, a result or a saved architecture) never breaks an older reader.
"""
from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any, Mapping, TypeVar

T = TypeVar("T")


def from_plain(cls: type[T], d: Mapping[str, Any]) -> T:
    """Build dataclass ``cls`` from ``d``, ignoring unknown keys."""
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in d.items() if k in names})


class Plain:
    """``to_dict`` / ``from_dict`` for a flat dataclass of plain values."""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]):
        return from_plain(cls, d)
