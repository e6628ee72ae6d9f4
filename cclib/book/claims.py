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
                 "profile": "quick"}, ...]}

``python -m cclib claims [--json]`` prints all claims of the latest build.
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

CLAIM_KEYS = ("id", "chapter", "statement", "paper", "measured", "error", "holds", "profile")
CLAIMS_SUFFIX = ".claims.json"
MANIFEST = "build.json"


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

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Claim:
        missing = [k for k in CLAIM_KEYS if k not in data]
        if missing:
            raise ValueError(f"claim {data.get('id')!r} lacks keys {missing}")
        return cls(**{k: data[k] for k in CLAIM_KEYS})

    @property
    def status(self) -> str:
        return "\u2713" if self.holds else "\u2717"


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
        holds: Any,
        error: Any = None,
        paper: Any = None,
    ) -> Claim:
        """Validate and store one claim, then rewrite the claims file. Returns the claim."""
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
        holds_b = _scalar(holds, f"claim {id!r}: holds")
        if not isinstance(holds_b, bool):
            raise ValueError(f"claim {id!r}: holds must be a boolean, got {holds!r}")
        claim = Claim(
            id, self.chapter, statement.strip(), paper_f, measured_f, error_f, holds_b, self.profile
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


def summary(claims: Sequence[Claim]) -> str:
    """E.g. ``3 claims: 2 held, 1 failed``."""
    n = len(claims)
    if n == 0:
        return "no claims recorded"
    held = sum(c.holds for c in claims)
    return f"{n} claim{'s' if n != 1 else ''}: {held} held, {n - held} failed"


def _rows(claims: Sequence[Claim], show_chapter: bool) -> tuple[list[str], list[list[str]]]:
    header = ["id", "statement", "paper", "measured", "holds", "profile"]
    if show_chapter:
        header.insert(0, "chapter")
    rows = []
    for c in claims:
        row = [c.id, c.statement, _fmt(c.paper), _measured(c), c.status, c.profile]
        if show_chapter:
            row.insert(0, c.chapter)
        rows.append(row)
    return header, rows


def claims_table(claims: Sequence[Claim], show_chapter: bool = True) -> str:
    """Plain-text table of ``claims`` followed by the held/failed count."""
    header, rows = _rows(claims, show_chapter)
    if not rows:
        return "no claims recorded"
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    widths = [min(w, 70) for w in widths]

    def line(cells: list[str]) -> str:
        out = []
        for cell, w in zip(cells, widths, strict=False):
            cell = cell if len(cell) <= w else cell[: w - 1] + "\u2026"
            out.append(cell.ljust(w))
        return "  ".join(out).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), sep, *(line(r) for r in rows), "", summary(claims)])


_TABLE = "border-collapse: collapse; font-size: 0.9em; width: 100%;"
_CELL = "padding: 0.3em 0.6em; border-bottom: 1px solid #d0d7de; vertical-align: top;"
_ALIGN = {
    "claim": "left",
    "paper": "right",
    "measured": "right",
    "holds": "center",
    "profile": "left",
}
_NOWRAP = {c: "" if c == "claim" else " white-space: nowrap;" for c in _ALIGN}


class ClaimsTable:
    """Rich display of a list of claims: HTML in Jupyter and the book, text elsewhere."""

    def __init__(self, claims: Iterable[Claim], show_chapter: bool = True):
        self.claims = list(claims)
        self.show_chapter = show_chapter

    @property
    def summary(self) -> str:
        return summary(self.claims)

    def _repr_html_(self) -> str:
        if not self.claims:
            return "<p><em>No claims recorded.</em></p>"
        columns = ["claim", "paper", "measured", "holds", "profile"]
        head = "".join(f'<th style="{_CELL} text-align: {_ALIGN[c]};">{c}</th>' for c in columns)
        body = []
        chapter = None
        for claim in self.claims:
            if self.show_chapter and claim.chapter != chapter:
                chapter = claim.chapter
                body.append(
                    f'<tr class="ccbook-claims-chapter"><td colspan="{len(columns)}" '
                    f'style="{_CELL} font-weight: bold; padding-top: 0.8em;">'
                    f"{html.escape(chapter)}</td></tr>"
                )
            colour = "#1a7f37" if claim.holds else "#cf222e"
            cells = {
                "claim": f"{html.escape(claim.statement)}<br>"
                f'<code style="font-size: 0.85em;">{html.escape(claim.id)}</code>',
                "paper": html.escape(_fmt(claim.paper)),
                "measured": html.escape(_measured(claim)),
                "holds": f'<strong style="color: {colour};">{claim.status}</strong>',
                "profile": html.escape(claim.profile),
            }
            row = "".join(
                f'<td style="{_CELL} text-align: {_ALIGN[c]};{_NOWRAP[c]}">{cells[c]}</td>'
                for c in columns
            )
            cls = "ccbook-claim-holds" if claim.holds else "ccbook-claim-fails"
            body.append(f'<tr class="{cls}">{row}</tr>')
        return (
            f'<table class="ccbook-claims" style="{_TABLE}">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"<p>{html.escape(self.summary)}</p>"
        )

    def __repr__(self) -> str:
        return claims_table(self.claims, self.show_chapter)

    def __str__(self) -> str:
        return self.__repr__()
