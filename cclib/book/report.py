"""Putting computed results into the rendered book.

``number`` and ``figure`` store a value or a figure in the executed notebook with
myst-nb's ``glue``, so the chapter's prose and captions show computed values
(``{glue:text}`name:.4f` `` and ``{glue:figure}`` in markdown) instead of retyped ones.
Outside Jupyter Book (a plain Python session) they simply display.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt


def _glue(name: str, value: Any) -> bool:
    try:
        from myst_nb import glue
    except ImportError:
        return False
    glue(name, value, display=False)
    return True


def number(name: str, value: float) -> None:
    """Glue a number under ``name`` (as a Python float)."""
    _glue(name, float(value))


def means(prefix: str, values: Mapping[str, tuple[float, float]]) -> None:
    """Glue each ``name: (mean, error)`` as ``<prefix>_<name>`` and ``<prefix>_<name>_err``."""
    for name, (mean, error) in values.items():
        number(f"{prefix}_{name}", mean)
        number(f"{prefix}_{name}_err", error)


def text(name: str, value: str) -> None:
    """Glue a piece of text under ``name``."""
    _glue(name, value)


def figure(name: str, fig) -> None:
    """Glue a matplotlib figure under ``name`` (for a ``{glue:figure}`` directive); close it."""
    if not _glue(name, fig):
        fig.show()
    plt.close(fig)
