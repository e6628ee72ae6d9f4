"""The Claims page's table: every claim of a build, failures first, to filter and sort.

Only the page's HTML lives here (``ClaimsPage``); claims themselves are
:mod:`cclib.book.claims`. The page's script (``book/_static/ccbook.js``, no CDN) reads the
``data-*`` attributes: the ``select[data-filter]`` menus filter rows by chapter, paper and
status, and a click on a ``th[data-sort]`` sorts by that column. Each row's ``id`` is the
claim id (``claims.html#mixing.min_loss_symmetric``), and its last cell links back to the
cell of the chapter that computes it (``<chapter>.html#claim-<id>``, an anchor that
:mod:`cclib.book.html` puts there).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from .claims import Claim, _fmt, _measured


def paper_of(chapter: str) -> str:
    """The paper a chapter reproduces: Part II (``uand_*``) is Newgas's Universal-AND paper,
    Part I Bhagat et al.'s (the filter's "paper" menu)."""
    return "Newgas 2025" if chapter.startswith("uand") else "Bhagat et al. 2025"


def source_anchor(claim_id: str) -> str:
    """The anchor, on the chapter's page, of the cell that records ``claim_id``."""
    return "claim-" + re.sub(r"[^A-Za-z0-9_-]+", "-", claim_id)


def _maths(text: str) -> str:
    """Escape ``text``; ``$...$`` becomes inline maths that MathJax renders."""
    parts = re.split(r"\$([^$]+)\$", text)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            maths = html.escape(part)
            out.append(f'<span class="math notranslate nohighlight">\\({maths}\\)</span>')
        else:
            out.append(html.escape(part))
    return "".join(out)


def failures_first(claims: Iterable[Claim]) -> list[Claim]:
    """Failed claims first, each group in book order."""
    claims = list(claims)
    return [c for c in claims if not c.holds] + [c for c in claims if c.holds]


def summary_line(claims: Sequence[Claim]) -> str:
    """HTML: the counts, and the failed claims named (linked to their rows)."""
    held = sum(c.holds for c in claims)
    failed = [c for c in claims if not c.holds]
    line = f"{len(claims)} claims: {held} held, {len(failed)} failed"
    if failed:
        names = ", ".join(
            f'<a href="#{html.escape(c.id)}"><code>{html.escape(c.id)}</code></a>' for c in failed
        )
        line += f" ({names})"
    return line + "."


def _options(name: str, values: Iterable[str]) -> str:
    options = "".join(f'<option value="{html.escape(v)}">{html.escape(v)}</option>' for v in values)
    return (
        f'<label>{name} <select data-filter="{name}"><option value="">all</option>'
        f"{options}</select></label>"
    )


class ClaimsPage:
    """The Claims page's summary, filters and table (rich HTML display)."""

    COLUMNS = [
        ("id", "claim"),
        ("chapter", "chapter"),
        ("paper", "paper value"),
        ("measured", "measured ± error"),
        ("status", "holds"),
    ]

    def __init__(self, claims: Iterable[Claim]):
        self.claims = failures_first(claims)

    def _row(self, c: Claim) -> str:
        status = "held" if c.holds else "failed"
        source = f"{c.chapter}.html#{source_anchor(c.id)}"
        claim_cell = (
            f'<a class="ccbook-claim-id" href="#{html.escape(c.id)}">'
            f"<code>{html.escape(c.id)}</code></a><br>{_maths(c.statement)} "
            f'<a class="ccbook-claim-source" href="{html.escape(source)}" '
            f'title="where the chapter computes it">computed in {html.escape(c.chapter)} →</a>'
        )
        mark = "\u2713 held" if c.holds else "\u2717 failed"
        cells = [
            f'<td class="ccbook-claim">{claim_cell}</td>',
            f"<td>{html.escape(c.chapter)}</td>",
            f'<td class="num" data-col="paper" data-value="{"" if c.paper is None else c.paper}">'
            f"{html.escape(_fmt(c.paper))}</td>",
            f'<td class="num" data-col="measured" data-value="{c.measured}">'
            f"{html.escape(_measured(c))}</td>",
            f'<td class="ccbook-status-{status}">{mark}</td>',
        ]
        return (
            f'<tr id="{html.escape(c.id)}" data-id="{html.escape(c.id)}" '
            f'data-chapter="{html.escape(c.chapter)}" '
            f'data-paper="{html.escape(paper_of(c.chapter))}" data-status="{status}">'
            f"{''.join(cells)}</tr>"
        )

    def _repr_html_(self) -> str:
        if not self.claims:
            return "<p><em>No claims recorded.</em></p>"
        chapters = list(dict.fromkeys(c.chapter for c in self.claims))
        papers = sorted({paper_of(c) for c in chapters})
        filters = (
            '<div class="ccbook-claims-filters">'
            + _options("chapter", chapters)
            + _options("paper", papers)
            + _options("status", ["failed", "held"])
            + '<span class="ccbook-claims-count"></span></div>'
        )
        head = "".join(
            f'<th data-sort="{key}" title="sort by {label}">{label}</th>'
            for key, label in self.COLUMNS
        )
        body = "".join(self._row(c) for c in self.claims)
        return (
            f'<p class="ccbook-claims-summary">{summary_line(self.claims)}</p>{filters}'
            f'<table class="ccbook-claims ccbook-claims-page"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>"
        )

    def __repr__(self) -> str:
        held = sum(c.holds for c in self.claims)
        return f"{len(self.claims)} claims: {held} held, {len(self.claims) - held} failed"
