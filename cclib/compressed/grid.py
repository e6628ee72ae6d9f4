"""Comma-separated grids of feature probabilities (``"0.005,0.01,0.5"``) of paper-000
chapter parameters.

Torch-free, so the book's parameter specs can check a grid before any work starts.
"""

from __future__ import annotations

import math


def parse_probabilities(text: str) -> tuple[float, ...]:
    """``"0.01, 0.1,1"`` -> ``(0.01, 0.1, 1.0)``: distinct probabilities in (0, 1],
    increasing. Raises ``ValueError`` saying what is wrong (the caller names the
    parameter and value)."""
    parts = [part.strip() for part in str(text).split(",")]
    if not parts or any(part == "" for part in parts):
        raise ValueError("expects comma-separated probabilities such as '0.01,0.1,1'")
    try:
        values = tuple(float(part) for part in parts)
    except ValueError:
        raise ValueError("expects comma-separated probabilities such as '0.01,0.1,1'") from None
    if any(not (math.isfinite(v) and 0.0 < v <= 1.0) for v in values):
        raise ValueError("every value must lie in (0, 1]")
    if list(values) != sorted(set(values)):
        raise ValueError("values must be distinct and increasing")
    return values


def format_probabilities(values) -> str:
    """The grid ``values`` as the comma-separated text ``parse_probabilities`` reads."""
    return ",".join(f"{v:g}" for v in values)
