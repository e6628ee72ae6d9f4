"""Small formatted tables for a chapter's outputs (never a Python repr).

``Table`` shows rows of already formatted cells: HTML in the book (narrow, numbers aligned
right; ``book/_static/ccbook.css`` styles it) and aligned text in a terminal.
``ParametersTable`` is what a chapter's parameters cell shows: every parameter with the
value in effect, overridden values in bold.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

_NUMBER = r"[+\-\u2212]?(\d[\d,]*\.?\d*(e[+-]?\d+)?|nan|inf)\s*%?"
NUMBER = re.compile(rf"^{_NUMBER}(\s*\u00b1\s*{_NUMBER})?$")


def _is_number(text: str) -> bool:
    return bool(NUMBER.match(text.strip()))


class Table:
    """Rows of formatted cells under a header (HTML in the book, text elsewhere)."""

    def __init__(self, header: Sequence[str], rows: Sequence[Sequence[Any]], caption: str = ""):
        self.header = [str(h) for h in header]
        self.rows = [[str(cell) for cell in row] for row in rows]
        self.caption = caption

    def _repr_html_(self) -> str:
        def cell(tag: str, text: str) -> str:
            cls = ' class="num"' if _is_number(text) else ""
            return f"<{tag}{cls}>{html.escape(text)}</{tag}>"

        head = "".join(cell("th", h) for h in self.header)
        body = "".join("<tr>" + "".join(cell("td", c) for c in row) + "</tr>" for row in self.rows)
        caption = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        return (
            f'<table class="ccbook-table">{caption}<thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>"
        )

    def show(self) -> None:
        """Display the table now (in a notebook; printed elsewhere), mid-cell."""
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:
            get_ipython = None
        if get_ipython is not None and get_ipython() is not None:
            display(self)
        else:
            print(repr(self))

    def __repr__(self) -> str:
        lines = [self.header, *self.rows]
        widths = [max(len(line[i]) for line in lines) for i in range(len(self.header))]
        text = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
        text.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(([self.caption] if self.caption else []) + [t.rstrip() for t in text])


def listed(values, spec: str = ".4g") -> str:
    """Numbers (an array, a tensor or a list) as ``"0.185, 0.187"``: for printing a few
    values per seed without a Python or numpy repr."""
    flat = values.detach().cpu().numpy() if hasattr(values, "detach") else values
    return ", ".join(format(float(v), spec) for v in np.asarray(flat, dtype=float).ravel())


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


class ParametersTable:
    """A chapter's parameters with the values in effect, two to a row; a value that differs
    from the profile's default is bold; each name's tooltip is its help text."""

    def __init__(self, spec, cfg):
        self.profile = cfg.profile
        self.entries = [
            (
                param.name,
                _value(getattr(cfg, param.name)),
                param.help,
                getattr(cfg, param.name) != param.values[cfg.profile],
            )
            for param in spec.params
        ]

    def _repr_html_(self) -> str:
        cells = [
            f'<td title="{html.escape(help_)}"><code>{html.escape(name)}</code></td>'
            f"<td>{'<strong>' if changed else ''}{html.escape(value)}"
            f"{'</strong>' if changed else ''}</td>"
            for name, value, help_, changed in self.entries
        ]
        if len(cells) % 2:
            cells.append("<td></td><td></td>")
        rows = "".join(f"<tr>{cells[i]}{cells[i + 1]}</tr>" for i in range(0, len(cells), 2))
        return (
            f'<table class="ccbook-params"><caption>Parameters in effect (profile '
            f"<strong>{html.escape(self.profile)}</strong>; bold: changed from the profile's "
            f"value)</caption><tbody>{rows}</tbody></table>"
        )

    def __repr__(self) -> str:
        width = max((len(name) for name, *_ in self.entries), default=0)
        lines = [f"{name.ljust(width)}  {value}" for name, value, *_ in self.entries]
        return "\n".join([f"parameters (profile {self.profile}):", *lines])


def show_parameters(spec, cfg) -> None:
    """Display the parameters table when running in a notebook kernel (and the chapter has
    parameters besides ``profile``); else do nothing."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return
    if get_ipython() is not None and spec.params:
        display(ParametersTable(spec, cfg))
