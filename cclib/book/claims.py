"""Claims: what a chapter asserts, the number that backs it, and whether it held.

A chapter records each claim with :class:`ClaimRecorder`::

    claims = cclib.ClaimRecorder("naive_baseline", cfg.profile)
    claims.record(id="naive.loss", statement="...", measured=loss, error=se,
                  paper=0.0833, holds=bool(abs(loss - 0.0833) < 3 * se))
    claims.table()          # last cell of the chapter

``measured`` and ``holds`` are computed, never typed in. After every ``record`` the
recorder rewrites ``$CCBOOK_CLAIMS_FILE`` atomically (the runner points it at
``<executed notebook>.claims.json``). The JSON format is stable; other tools read it::

    {"chapter": "naive_baseline", "profile": "quick",
     "claims": [{"id": ..., "chapter": ..., "statement": ..., "paper": 0.0833 | null,
                 "measured": 0.0831, "error": 0.0004 | null, "holds": true,
                 "profile": "quick", "state": "held", "rule": "|gap| + 2 s.e. <= 0.03",
                 "source": {"paper": "000", "where": "Fig. 2"} | null, "note": ""}, ...]}

``state`` is one of ``held``, ``failed``, ``undetermined`` and ``not applicable``
(:mod:`cclib.book.rules`); ``holds`` is true exactly when the state is ``held``. Chapters
do not call ``record`` themselves: they check claims declared in advance
(:func:`claims_for` and :class:`ClaimChecker`), which fills ``rule`` and ``source``.

``python -m cclib claims [--json] [--by-source]`` prints all claims of the latest build.
"""

from __future__ import annotations

import html
import json
import math
import numbers
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .rules import FAILED, HELD, NOT_APPLICABLE, PAPERS, STATES, UNDETERMINED, ClaimSpec, claims_of

BASE_KEYS = ("id", "chapter", "statement", "paper", "measured", "error", "holds", "profile")
CLAIM_KEYS = (*BASE_KEYS, "state", "rule", "source", "note")
CLAIMS_SUFFIX = ".claims.json"
MANIFEST = "build.json"
STATUS_MARKS = {HELD: "\u2713", FAILED: "\u2717", UNDETERMINED: "?", NOT_APPLICABLE: "n/a"}
#: Order in which the Claims page lists states: what needs attention first.
STATE_ORDER = {FAILED: 0, UNDETERMINED: 1, HELD: 2, NOT_APPLICABLE: 3}


@dataclass(frozen=True)
class Claim:
    """One recorded claim (see the module docstring for the JSON form)."""

    id: str
    chapter: str
    statement: str
    paper: float | None
    measured: float
    error: float | None
    holds: bool
    profile: str
    state: str = ""
    rule: str = ""
    source: dict[str, str] | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if not self.state:
            object.__setattr__(self, "state", HELD if self.holds else FAILED)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Claim:
        missing = [k for k in BASE_KEYS if k not in data]
        if missing:
            raise ValueError(f"claim {data.get('id')!r} lacks keys {missing}")
        return cls(**{k: data[k] for k in CLAIM_KEYS if k in data})

    @property
    def status(self) -> str:
        return STATUS_MARKS[self.state]

    @property
    def source_text(self) -> str:
        if not self.source:
            return "no source declared"
        return f"paper {self.source['paper']}, {self.source['where']}"


def _scalar(value: Any, what: str) -> Any:
    """Python scalar from numpy / torch scalars (0-d arrays and tensors included)."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if hasattr(value, "item"):
        try:
            return value.item()
        except (ValueError, RuntimeError) as exc:
            raise ValueError(f"{what} must be a single number, got {value!r}") from exc
    return value


def _real(value: Any, what: str, allow_none: bool) -> float | None:
    value = _scalar(value, what)
    if value is None:
        if allow_none:
            return None
        raise ValueError(f"{what} is required (a finite number)")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{what} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return value


class ClaimRecorder:
    """Collects a chapter's claims and keeps its claims JSON file up to date.

    ``path`` defaults to ``$CCBOOK_CLAIMS_FILE``; without either, claims stay in memory
    (handy when a chapter is run by hand). Use one recorder per chapter.
    """

    def __init__(self, chapter: str, profile: str, path: str | os.PathLike | None = None):
        if not chapter or not isinstance(chapter, str):
            raise ValueError("chapter must be a non-empty string")
        if not profile or not isinstance(profile, str):
            raise ValueError("profile must be a non-empty string")
        self.chapter = chapter
        self.profile = profile
        if path is None:
            path = os.environ.get("CCBOOK_CLAIMS_FILE") or None
        self.path = Path(path) if path is not None else None
        self._claims: list[Claim] = []

    @property
    def claims(self) -> tuple[Claim, ...]:
        return tuple(self._claims)

    def __len__(self) -> int:
        return len(self._claims)

    def record(
        self,
        id: str,
        statement: str,
        measured: Any,
        holds: Any = None,
        error: Any = None,
        paper: Any = None,
        state: str | None = None,
        rule: str = "",
        source: dict[str, str] | None = None,
        note: str = "",
    ) -> Claim:
        """Validate and store one claim, then rewrite the claims file. Returns the claim.

        Give ``holds`` (held or failed) or ``state`` (any of :data:`~cclib.book.rules.STATES`).
        """
        if not isinstance(id, str) or not id.strip():
            raise ValueError("claim id must be a non-empty string")
        if any(c.id == id for c in self._claims):
            raise ValueError(f"claim id {id!r} recorded twice in chapter {self.chapter!r}")
        if not isinstance(statement, str) or not statement.strip():
            raise ValueError(f"claim {id!r}: statement must be a non-empty string")
        measured_f = _real(measured, f"claim {id!r}: measured", allow_none=False)
        error_f = _real(error, f"claim {id!r}: error", allow_none=True)
        if error_f is not None and error_f < 0:
            raise ValueError(f"claim {id!r}: error must be >= 0, got {error_f!r}")
        paper_f = _real(paper, f"claim {id!r}: paper", allow_none=True)
        if state is not None:
            if state not in STATES:
                raise ValueError(f"claim {id!r}: state must be one of {STATES}, got {state!r}")
            if holds is not None and bool(holds) != (state == HELD):
                raise ValueError(f"claim {id!r}: holds={holds!r} contradicts state {state!r}")
            holds = state == HELD
        holds_b = _scalar(holds, f"claim {id!r}: holds")
        if not isinstance(holds_b, bool):
            raise ValueError(f"claim {id!r}: holds must be a boolean, got {holds!r}")
        claim = Claim(
            id,
            self.chapter,
            statement.strip(),
            paper_f,
            measured_f,
            error_f,
            holds_b,
            self.profile,
            state or (HELD if holds_b else FAILED),
            rule,
            dict(source) if source else None,
            note,
        )
        self._claims.append(claim)
        self.save()
        return claim

    def as_dict(self) -> dict[str, Any]:
        return {
            "chapter": self.chapter,
            "profile": self.profile,
            "claims": [c.as_dict() for c in self._claims],
        }

    def save(self) -> None:
        """Atomically (re)write the claims file, if there is one."""
        if self.path is not None:
            write_claims_file(self.path, self.as_dict())

    def table(self) -> ClaimsTable:
        """The chapter's claims, for display as the chapter's last output."""
        return ClaimsTable(self._claims, show_chapter=False)


class ClaimChecker(ClaimRecorder):
    """A recorder that decides a chapter's declared claims (:mod:`cclib.book.rules`).

    ``check(id, measured, error)`` looks up the declaration, fills its statement from the
    configuration (and any extra ``fields``), applies its rule with thresholds read from
    the configuration, and records the claim with its rule text, source and state.
    """

    def __init__(
        self,
        cfg: Any,
        specs: Sequence[ClaimSpec] | None = None,
        path: str | os.PathLike | None = None,
    ):
        super().__init__(cfg.chapter, cfg.profile, path)
        self.cfg = cfg
        self.specs = {s.id: s for s in (claims_of(cfg.chapter) if specs is None else specs)}

    def spec(self, id: str) -> ClaimSpec:
        try:
            return self.specs[id]
        except KeyError:
            raise KeyError(
                f"claim {id!r} is not declared for chapter {self.chapter!r}; declared: "
                f"{', '.join(self.specs) or '(none)'}"
            ) from None

    def _statement(self, spec: ClaimSpec, fields: dict[str, Any]) -> str:
        values = {**self.cfg.as_dict(), "profile": self.cfg.profile, **fields}
        try:
            return spec.statement.format_map(values)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"claim {spec.id!r}: statement field {exc} is not set") from None

    def check(
        self,
        id: str,
        measured: Any,
        error: Any = None,
        *,
        seeds: int | None = None,
        **fields: Any,
    ) -> Claim:
        """Decide declared claim ``id`` on ``measured ± error`` and record it."""
        spec = self.spec(id)
        m = _real(measured, f"claim {id!r}: measured", allow_none=False)
        e = _real(error, f"claim {id!r}: error", allow_none=True)
        state, note = spec.decide(m, e, self.cfg, seeds)
        return self.record(
            id=id,
            statement=self._statement(spec, fields),
            measured=m,
            error=e,
            paper=spec.paper_value,
            state=state,
            rule=spec.rule_text(self.cfg),
            source=spec.source.as_dict(),
            note=note,
        )

    def not_applicable(self, id: str, reason: str, measured: Any = 0.0, **fields: Any) -> Claim:
        """Record declared claim ``id`` as void under this configuration, saying why."""
        spec = self.spec(id)
        return self.record(
            id=id,
            statement=self._statement(spec, fields),
            measured=measured,
            paper=spec.paper_value,
            state=NOT_APPLICABLE,
            rule=spec.rule_text(self.cfg),
            source=spec.source.as_dict(),
            note=reason,
        )

    def absent(self, id: str, reason: str, **fields: Any) -> Claim:
        """Record declared claim ``id`` as failed because the quantity it needs does not
        exist in this run (say, a crossover that never happens); ``measured`` is 0 and the
        note says why."""
        spec = self.spec(id)
        return self.record(
            id=id,
            statement=self._statement(spec, fields),
            measured=0.0,
            paper=spec.paper_value,
            state=FAILED,
            rule=spec.rule_text(self.cfg),
            source=spec.source.as_dict(),
            note=f"no measured value: {reason}",
        )

    def unchecked(self) -> list[str]:
        """Declared ids not (yet) recorded."""
        done = {c.id for c in self._claims}
        return [i for i in self.specs if i not in done]

    def table(self) -> ClaimsTable:
        missing = self.unchecked()
        if missing:
            raise RuntimeError(
                f"chapter {self.chapter!r} declared claims it never checked: {', '.join(missing)}"
            )
        return super().table()


def claims_for(cfg: Any) -> ClaimChecker:
    """The claim checker of the chapter ``cfg`` belongs to (see :class:`ClaimChecker`)."""
    return ClaimChecker(cfg)


def write_claims_file(path: str | os.PathLike, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON to ``path`` atomically (temporary file + ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, ensure_ascii=False, allow_nan=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def read_claims_file(path: str | os.PathLike) -> list[Claim]:
    """The claims of one ``*.claims.json`` file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [Claim.from_dict(c) for c in data["claims"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"malformed claims file {path}: {exc}") from exc


def load_claims(directory: str | os.PathLike) -> list[Claim]:
    """All claims recorded in ``directory`` (an executed-build directory).

    Chapters come in book order when the build's manifest (``build.json``) is present,
    else alphabetically; only chapters listed in the manifest are read.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    files = {p.name[: -len(CLAIMS_SUFFIX)]: p for p in directory.glob("*" + CLAIMS_SUFFIX)}
    manifest = directory / MANIFEST
    if manifest.is_file():
        chapters = json.loads(manifest.read_text(encoding="utf-8")).get("chapters", [])
        names = [c for c in chapters if c in files]
    else:
        names = sorted(files)
    claims: list[Claim] = []
    for name in names:
        claims.extend(read_claims_file(files[name]))
    return claims


def _fmt(x: float | None, digits: int = 4) -> str:
    if x is None:
        return ""
    return f"{x:.{digits}g}"


def _measured(c: Claim) -> str:
    return _fmt(c.measured) + (f" \u00b1 {_fmt(c.error, 2)}" if c.error is not None else "")


def summary(claims: Sequence[Claim], name_failures: bool = False) -> str:
    """E.g. ``3 claims: 2 held, 1 failed``; ``name_failures`` lists the failed and
    undetermined ids."""
    n = len(claims)
    if n == 0:
        return "no claims recorded"
    counts = {s: [c.id for c in claims if c.state == s] for s in STATES}
    parts = [f"{len(counts[HELD])} held", f"{len(counts[FAILED])} failed"]
    if name_failures and counts[FAILED]:
        parts[-1] += f" ({', '.join(counts[FAILED])})"
    if counts[UNDETERMINED]:
        parts.append(f"{len(counts[UNDETERMINED])} undetermined")
        if name_failures:
            parts[-1] += f" ({', '.join(counts[UNDETERMINED])})"
    if counts[NOT_APPLICABLE]:
        parts.append(f"{len(counts[NOT_APPLICABLE])} not applicable")
    return f"{n} claim{'s' if n != 1 else ''}: {', '.join(parts)}"


def paper_title(paper: str | None) -> str:
    if not paper:
        return "Claims without a declared source"
    return f"Paper {paper}: {PAPERS.get(paper, 'unknown paper')}"


def by_source(claims: Sequence[Claim]) -> list[tuple[str, list[tuple[str, list[Claim]]]]]:
    """Claims grouped by paper, then by figure / table / section: papers in their key
    order, groups with a failure first (then undetermined, then the rest, each in book
    order), and inside a group failures first."""
    papers: dict[str, dict[str, list[Claim]]] = {}
    for c in claims:
        paper = c.source["paper"] if c.source else ""
        where = c.source["where"] if c.source else "no source declared"
        papers.setdefault(paper, {}).setdefault(where, []).append(c)
    out = []
    for paper in sorted(papers, key=lambda p: (p == "", p)):
        groups = papers[paper]
        order = list(groups)
        ranked = sorted(
            order,
            key=lambda w: (min(STATE_ORDER[c.state] for c in groups[w]), order.index(w)),
        )
        out.append(
            (
                paper,
                [(w, sorted(groups[w], key=lambda c: STATE_ORDER[c.state])) for w in ranked],
            )
        )
    return out


def _rows(claims: Sequence[Claim], show_chapter: bool) -> tuple[list[str], list[list[str]]]:
    header = ["id", "statement", "rule", "paper", "measured", "state", "profile"]
    if show_chapter:
        header.insert(0, "chapter")
    rows = []
    for c in claims:
        row = [c.id, c.statement, c.rule, _fmt(c.paper), _measured(c), c.status, c.profile]
        if show_chapter:
            row.insert(0, c.chapter)
        rows.append(row)
    return header, rows


def _text_table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    widths = [min(w, 60) for w in widths]

    def line(cells: list[str]) -> str:
        out = []
        for cell, w in zip(cells, widths, strict=False):
            cell = cell if len(cell) <= w else cell[: w - 1] + "\u2026"
            out.append(cell.ljust(w))
        return "  ".join(out).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return [line(header), sep, *(line(r) for r in rows)]


def claims_table(claims: Sequence[Claim], show_chapter: bool = True) -> str:
    """Plain-text table of ``claims`` followed by the held/failed count."""
    header, rows = _rows(claims, show_chapter)
    if not rows:
        return "no claims recorded"
    return "\n".join([*_text_table(header, rows), "", summary(claims, name_failures=True)])


def claims_by_source(claims: Sequence[Claim]) -> str:
    """Plain-text view of :func:`by_source`: one table per figure or section."""
    if not claims:
        return "no claims recorded"
    lines = [summary(claims, name_failures=True)]
    for paper, groups in by_source(claims):
        lines += ["", "=" * 8 + " " + paper_title(paper)]
        for where, group in groups:
            lines += ["", f"-- {where}: {summary(group)}"]
            header, rows = _rows(group, show_chapter=False)
            lines += _text_table(header, rows)
    return "\n".join(lines)


_TABLE = "border-collapse: collapse; font-size: 0.9em; width: 100%;"
_CELL = "padding: 0.3em 0.6em; border-bottom: 1px solid #d0d7de; vertical-align: top;"
_ALIGN = {
    "claim": "left",
    "paper": "right",
    "measured": "right",
    "state": "center",
    "profile": "left",
}
_NOWRAP = {c: "" if c == "claim" else " white-space: nowrap;" for c in _ALIGN}
_COLOURS = {HELD: "#1a7f37", FAILED: "#cf222e", UNDETERMINED: "#9a6700", NOT_APPLICABLE: "#57606a"}
_COLUMNS = ["claim", "paper", "measured", "state", "profile"]


def claim_anchor(claim_id: str) -> str:
    """The HTML id of a claim's row (``claim-`` + its id)."""
    return "claim-" + "".join(ch if ch.isalnum() or ch in "._-" else "-" for ch in claim_id)


def _claim_row(claim: Claim, show_chapter: bool) -> str:
    colour = _COLOURS[claim.state]
    detail = [f'<code style="font-size: 0.85em;">{html.escape(claim.id)}</code>']
    if show_chapter:
        detail.append(f"chapter {html.escape(claim.chapter)}")
    if claim.rule:
        detail.append(f"rule: <code>{html.escape(claim.rule)}</code>")
    if claim.source:
        detail.append(html.escape(claim.source_text))
    if claim.note:
        detail.append(f"<em>{html.escape(claim.note)}</em>")
    cells = {
        "claim": f"{html.escape(claim.statement)}<br>"
        f'<span style="font-size: 0.85em;">{" · ".join(detail)}</span>',
        "paper": html.escape(_fmt(claim.paper)),
        "measured": html.escape(_measured(claim)),
        "state": f'<strong style="color: {colour};" title="{claim.state}">{claim.status}</strong>',
        "profile": html.escape(claim.profile),
    }
    row = "".join(
        f'<td style="{_CELL} text-align: {_ALIGN[c]};{_NOWRAP[c]}">{cells[c]}</td>'
        for c in _COLUMNS
    )
    cls = "ccbook-claim-holds" if claim.holds else "ccbook-claim-fails"
    state_cls = "ccbook-claim-" + claim.state.replace(" ", "-")
    return (
        f'<tr id="{claim_anchor(claim.id)}" class="{cls} {state_cls}" '
        f'data-state="{claim.state}" data-chapter="{html.escape(claim.chapter)}" '
        f'data-paper="{html.escape(claim.source["paper"] if claim.source else "")}">{row}</tr>'
    )


def _group_row(text: str, level: int) -> str:
    size = "1.05em" if level == 0 else "0.95em"
    return (
        f'<tr class="ccbook-claims-{"paper" if level == 0 else "source"}">'
        f'<td colspan="{len(_COLUMNS)}" style="{_CELL} font-weight: bold; font-size: {size}; '
        f'padding-top: 0.8em;">{text}</td></tr>'
    )


class ClaimsTable:
    """Rich display of a list of claims: HTML in Jupyter and the book, text elsewhere.

    ``by_source``: grouped by paper and figure / section, failures first (the Claims
    page); otherwise in recorded order (a chapter's table)."""

    def __init__(self, claims: Iterable[Claim], show_chapter: bool = True, by_source=False):
        self.claims = list(claims)
        self.show_chapter = show_chapter
        self.by_source = by_source

    @property
    def summary(self) -> str:
        return summary(self.claims, name_failures=True)

    def _repr_html_(self) -> str:
        if not self.claims:
            return "<p><em>No claims recorded.</em></p>"
        head = "".join(f'<th style="{_CELL} text-align: {_ALIGN[c]};">{c}</th>' for c in _COLUMNS)
        body = []
        if self.by_source:
            for paper, groups in by_source(self.claims):
                body.append(_group_row(html.escape(paper_title(paper)), 0))
                for where, group in groups:
                    body.append(_group_row(f"{html.escape(where)} — {summary(group)}", 1))
                    body += [_claim_row(c, self.show_chapter) for c in group]
        else:
            chapter = None
            for claim in self.claims:
                if self.show_chapter and claim.chapter != chapter:
                    chapter = claim.chapter
                    body.append(_group_row(html.escape(chapter), 1))
                body.append(_claim_row(claim, show_chapter=False))
        return (
            f'<table class="ccbook-claims" style="{_TABLE}">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"<p>{html.escape(self.summary)}</p>"
        )

    def __repr__(self) -> str:
        if self.by_source:
            return claims_by_source(self.claims)
        return claims_table(self.claims, self.show_chapter)

    def __str__(self) -> str:
        return self.__repr__()
