"""The parameter specifications of Part II's chapters (paper 004, Universal-AND).

Each chapter registers its ``ChapterSpec`` here with ``specs.register``, in its own block;
``cclib.book.specs`` imports this module once its own (Part I) chapters are registered,
so ``get_spec`` and ``SPECS`` see both parts.
"""

from __future__ import annotations

from .specs import register  # noqa: F401  (used by the blocks below)
