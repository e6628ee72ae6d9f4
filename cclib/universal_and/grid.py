"""Comma-separated integer grids (``"20,50,200"``) of Universal-AND chapter parameters.

Torch-free, so the book's parameter specs can check a grid before any work starts.
"""

from __future__ import annotations


def parse_grid(text: str, minimum: int = 1) -> tuple[int, ...]:
    """``"20, 50,200"`` -> ``(20, 50, 200)``: distinct integers ``>= minimum``, increasing.

    Raises ``ValueError`` saying what is wrong (the caller names the parameter and value)."""
    parts = [part.strip() for part in str(text).split(",")]
    if not parts or any(part == "" for part in parts):
        raise ValueError("expects comma-separated integers such as '2,3,5'")
    try:
        values = tuple(int(part) for part in parts)
    except ValueError:
        raise ValueError("expects comma-separated integers such as '2,3,5'") from None
    if any(value < minimum for value in values):
        raise ValueError(f"every value must be >= {minimum}")
    if list(values) != sorted(set(values)):
        raise ValueError("values must be distinct and increasing")
    return values
