"""Small helpers for writing French: numbers with their nouns."""

from __future__ import annotations


def count(number: int, singular: str, plural: str | None = None) -> str:
    """'1 dossier', '2 dossiers', '0 dossier' (French: 0 and 1 take the singular)."""
    return f"{number} {singular if number < 2 else plural or singular + 's'}"
