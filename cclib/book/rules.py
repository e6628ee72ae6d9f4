"""Declared claims: what a chapter asserts, fixed before any run, and the rule that decides it.

A chapter's claims are declared once, in ``cclib.book.claims_compressed`` (paper 000) or
``cclib.book.claims_universal_and`` (paper 004), as :class:`ClaimSpec` entries: the id, the
paper's statement with its :class:`Source`, the quantity measured, a :class:`Rule` whose
thresholds are numbers or chapter parameters (:class:`Ref`, resolved from the chapter's
configuration at check time, never from the run's own numbers) and the paper's value. The
chapter then computes the quantity and its standard error and calls one line::

    claims = cclib.claims_for(cfg)
    claims.check("mixing.clean_matches_naive", gap, gap_err, seeds=cfg.seeds)

Every rule has four outcomes (:data:`STATES`). With ``k = z * error``:

- ``held``: the whole interval ``measured ± k`` satisfies the rule;
- ``failed``: the whole interval violates it;
- ``undetermined``: the interval straddles the threshold (for ``within``: the error is
  larger than the tolerance allows), or the claim rests on fewer seeds than it needs;
- ``not applicable``: the chapter's configuration makes the statement void (say, an
  orientation claim for a symmetric M); the chapter says why.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

HELD, FAILED, UNDETERMINED, NOT_APPLICABLE = "held", "failed", "undetermined", "not applicable"
STATES = (HELD, FAILED, UNDETERMINED, NOT_APPLICABLE)

#: Short names of the papers the claims come from, and how the book names them.
PAPERS = {
    "000": "Bhagat et al. (2025), Compressed computation is (probably) not computation in "
    "superposition",
    "004": "Newgas (2025), Dense circuits in a toy model of the Universal-AND problem",
}


@dataclass(frozen=True)
class Source:
    """Where a statement comes from: a paper (a key of :data:`PAPERS`) and a figure,
    table or section of it."""

    paper: str
    where: str

    def __post_init__(self) -> None:
        if self.paper not in PAPERS:
            raise ValueError(f"unknown paper {self.paper!r}; known: {', '.join(PAPERS)}")
        if not self.where.strip():
            raise ValueError("a source needs a figure, table or section")

    def as_dict(self) -> dict[str, str]:
        return {"paper": self.paper, "where": self.where}

    def text(self) -> str:
        return f"paper {self.paper}, {self.where}"


def _num(x: float) -> str:
    return f"{x:.4g}"


@dataclass(frozen=True)
class Ref:
    """A threshold read from a chapter parameter: ``scale * cfg[name] + offset``.

    ``-Ref("tolerance")`` and ``1 + Ref("tolerance")`` build such thresholds."""

    name: str
    scale: float = 1.0
    offset: float = 0.0

    def value(self, cfg: Any) -> float:
        try:
            raw = cfg[self.name]
        except (KeyError, TypeError):
            raise KeyError(
                f"rule threshold names parameter {self.name!r}, absent from cfg"
            ) from None
        return self.scale * float(raw) + self.offset

    def __neg__(self) -> Ref:
        return Ref(self.name, -self.scale, -self.offset)

    def __add__(self, other: float) -> Ref:
        return Ref(self.name, self.scale, self.offset + float(other))

    __radd__ = __add__

    def __mul__(self, other: float) -> Ref:
        return Ref(self.name, self.scale * float(other), self.offset * float(other))

    __rmul__ = __mul__

    def text(self) -> str:
        out = self.name
        if self.scale == -1:
            out = f"-{out}"
        elif self.scale != 1:
            out = f"{_num(self.scale)}·{out}"
        if self.offset:
            out = f"{_num(self.offset)} {'-' if self.scale < 0 else '+'} {out.lstrip('-')}"
        return out


Threshold = float | int | Ref | str


def _ref(x: Threshold | None) -> float | Ref | None:
    if isinstance(x, str):
        return Ref(x)
    return x


def _value(x: float | Ref | None, cfg: Any) -> float | None:
    if x is None:
        return None
    return x.value(cfg) if isinstance(x, Ref) else float(x)


def _show(x: float | Ref | None, cfg: Any) -> str:
    """A threshold as text: its value, and the parameter it comes from."""
    if isinstance(x, Ref):
        if cfg is None:
            return x.text()
        return f"{_num(x.value(cfg))} ({x.text()})"
    return _num(float(x))


def _minus(x: float | Ref | None, cfg: Any) -> str:
    """`` - x`` as text, with a negative number in parentheses."""
    text = _show(x, cfg)
    return f" - ({text})" if text.startswith("-") else f" - {text}"


@dataclass(frozen=True)
class Rule:
    """A comparator with its thresholds (numbers or parameters) and the number ``z`` of
    standard errors the measured value must clear. Build one with :func:`above`,
    :func:`below`, :func:`within`, :func:`outside`, :func:`between` or :func:`consistent`."""

    kind: str
    a: float | Ref | None = None
    b: float | Ref | None = None
    z: float | Ref = 0.0

    def parameters(self) -> tuple[str, ...]:
        """The chapter parameters this rule reads."""
        return tuple(x.name for x in (self.a, self.b, self.z) if isinstance(x, Ref))

    def decide(self, measured: float, error: float | None, cfg: Any = None) -> str:
        """``held``, ``failed`` or ``undetermined`` for this measured value ± error."""
        z = _value(self.z, cfg) or 0.0
        k = z * (error or 0.0)
        m = measured
        a, b = _value(self.a, cfg), _value(self.b, cfg)
        if self.kind == "above":
            return HELD if m - k > a else FAILED if m + k <= a else UNDETERMINED
        if self.kind == "below":
            return HELD if m + k < a else FAILED if m - k >= a else UNDETERMINED
        if self.kind == "within":
            d = abs(m - a)
            return HELD if d + k <= b else FAILED if d - k > b else UNDETERMINED
        if self.kind == "outside":
            d = abs(m - a)
            return HELD if d - k > b else FAILED if d + k <= b else UNDETERMINED
        if self.kind == "between":
            if m - k >= a and m + k <= b:
                return HELD
            return FAILED if (m + k < a or m - k > b) else UNDETERMINED
        if self.kind == "consistent":
            if b is not None and k > b:
                return UNDETERMINED
            return HELD if abs(m - a) <= k else FAILED
        raise ValueError(f"unknown rule kind {self.kind!r}")

    def text(self, quantity: str = "x", cfg: Any = None) -> str:
        """The rule as one line, e.g. ``margin - 2 s.e. > 0.03 (tolerance)``."""
        z = _value(self.z, cfg) if cfg is not None or not isinstance(self.z, Ref) else None
        if z is None:
            zs = self.z.text() if isinstance(self.z, Ref) else "0"
        else:
            zs = _num(z)
        se = "" if z == 0 else f" {zs} s.e."
        q, a, b = quantity, _show(self.a, cfg), None if self.b is None else _show(self.b, cfg)
        dist = f"|{q}|" if self.a == 0 else f"|{q}{_minus(self.a, cfg)}|"
        if self.kind == "above":
            return f"{q}{' -' + se if se else ''} > {a}"
        if self.kind == "below":
            return f"{q}{' +' + se if se else ''} < {a}"
        if self.kind == "within":
            return f"{dist}{' +' + se if se else ''} <= {b}"
        if self.kind == "outside":
            return f"{dist}{' -' + se if se else ''} > {b}"
        if self.kind == "between":
            return f"{a} <= {q}{' ±' + se if se else ''} <= {b}"
        if self.kind == "consistent":
            extra = f", with{se} <= {b}" if b is not None else ""
            return f"{dist} <={se or ' 0'}{extra}"
        raise ValueError(f"unknown rule kind {self.kind!r}")


def above(threshold: Threshold, z: Threshold = 0.0) -> Rule:
    """Held when ``measured - z s.e. > threshold``; failed when
    ``measured + z s.e. <= threshold``."""
    return Rule("above", _ref(threshold), None, _ref(z))


def below(threshold: Threshold, z: Threshold = 0.0) -> Rule:
    """Held when ``measured + z s.e. < threshold``; failed when
    ``measured - z s.e. >= threshold``."""
    return Rule("below", _ref(threshold), None, _ref(z))


def within(target: Threshold, tolerance: Threshold, z: Threshold = 0.0) -> Rule:
    """Held when ``|measured - target| + z s.e. <= tolerance``; failed when even
    ``|measured - target| - z s.e.`` exceeds it; undetermined between (an error too large
    for the tolerance never holds)."""
    return Rule("within", _ref(target), _ref(tolerance), _ref(z))


def outside(target: Threshold, tolerance: Threshold, z: Threshold = 0.0) -> Rule:
    """The negation of :func:`within`: held when ``|measured - target| - z s.e. > tolerance``."""
    return Rule("outside", _ref(target), _ref(tolerance), _ref(z))


def between(low: Threshold, high: Threshold, z: Threshold = 0.0) -> Rule:
    """Held when ``measured ± z s.e.`` lies inside ``[low, high]``."""
    return Rule("between", _ref(low), _ref(high), _ref(z))


def consistent(target: Threshold, z: Threshold, max_error: Threshold | None = None) -> Rule:
    """Held when ``|measured - target| <= z s.e.`` (a test of agreement); undetermined when
    ``z s.e.`` exceeds ``max_error`` (a large error would make agreement empty)."""
    return Rule("consistent", _ref(target), _ref(max_error), _ref(z))


@dataclass(frozen=True)
class ClaimSpec:
    """One declared claim.

    ``statement`` may name chapter parameters and check-time fields in braces
    (``"at p = {p}"``); they are filled in when the claim is checked. ``min_seeds``: a claim
    checked with fewer seeds is undetermined."""

    id: str
    statement: str
    source: Source
    quantity: str
    rule: Rule
    paper_value: float | None = None
    min_seeds: int = 1
    chapter: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.id or "." not in self.id:
            raise ValueError(f"claim id {self.id!r} must read '<chapter>.<name>'")
        if not self.statement.strip() or not self.quantity.strip():
            raise ValueError(f"claim {self.id!r} needs a statement and a quantity")

    def rule_text(self, cfg: Any = None) -> str:
        return self.rule.text(self.quantity, cfg)

    def decide(
        self, measured: float, error: float | None, cfg: Any = None, seeds: int | None = None
    ) -> tuple[str, str]:
        """``(state, note)`` for a measured value."""
        if seeds is not None and seeds < self.min_seeds:
            return UNDETERMINED, f"rests on {seeds} seed(s); needs at least {self.min_seeds}"
        if error is not None and not math.isfinite(error):
            return UNDETERMINED, "no finite error"
        return self.rule.decide(measured, error, cfg), ""


def declare(chapter: str, *specs: ClaimSpec) -> tuple[ClaimSpec, ...]:
    """A chapter's declared claims (ids unique; each spec learns its chapter)."""
    seen: set[str] = set()
    out = []
    for spec in specs:
        if spec.id in seen:
            raise ValueError(f"claim {spec.id!r} declared twice in {chapter!r}")
        seen.add(spec.id)
        object.__setattr__(spec, "chapter", chapter)
        out.append(spec)
    return tuple(out)


def declared_claims() -> Mapping[str, tuple[ClaimSpec, ...]]:
    """Every chapter's declared claims, by chapter name."""
    from .claims_compressed import CLAIMS as part_one
    from .claims_universal_and import CLAIMS as part_two

    return {**part_one, **part_two}


def claims_of(chapter: str) -> tuple[ClaimSpec, ...]:
    return declared_claims().get(chapter, ())
