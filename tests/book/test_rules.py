"""Declared claims: the rules' verdicts, the checker, and the declarations of every chapter."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest

from cclib.book.claims import (
    ClaimChecker,
    ClaimsTable,
    by_source,
    claim_anchor,
    claims_by_source,
    summary,
)
from cclib.book.rules import (
    FAILED,
    HELD,
    NOT_APPLICABLE,
    UNDETERMINED,
    ClaimSpec,
    Ref,
    Source,
    above,
    below,
    between,
    consistent,
    declare,
    declared_claims,
    outside,
    within,
)
from cclib.book.specs import SPECS, get_spec

ROOT = Path(__file__).resolve().parents[2]
CFG = {"tolerance": 0.03, "z": 2.0}


@pytest.mark.parametrize(
    ("rule", "measured", "error", "state"),
    [
        (above("tolerance", "z"), 0.10, 0.01, HELD),  # 0.10 - 0.02 > 0.03
        (above("tolerance", "z"), 0.04, 0.01, UNDETERMINED),  # interval straddles 0.03
        (above("tolerance", "z"), 0.00, 0.01, FAILED),  # 0.00 + 0.02 <= 0.03
        (above(1.0), 1.0, None, FAILED),  # strict, no error
        (below(-Ref("tolerance"), "z"), -0.10, 0.01, HELD),
        (below(-Ref("tolerance"), "z"), 0.0, 0.01, FAILED),
        (within(0.0, "tolerance", "z"), 0.01, 0.005, HELD),  # 0.01 + 0.01 <= 0.03
        (within(0.0, "tolerance", "z"), 0.31, 0.39, UNDETERMINED),  # error too large
        (within(0.0, "tolerance", "z"), -0.2, 0.01, FAILED),  # two-sided
        (outside(0.0, "tolerance", "z"), 0.2, 0.01, HELD),
        (between(-1.0, 0.0, "z"), -0.5, 0.1, HELD),
        (between(-1.0, 0.0, "z"), 0.5, 0.1, FAILED),
        (between(-1.0, 0.0, "z"), -0.05, 0.1, UNDETERMINED),
        (consistent(0.0, "z"), 0.01, 0.01, HELD),
        (consistent(0.0, "z"), 0.05, 0.01, FAILED),
        (consistent(0.0, "z", max_error=0.01), 0.0, 0.1, UNDETERMINED),  # agreement is empty
    ],
)
def test_rule_verdicts(rule, measured, error, state):
    assert rule.decide(measured, error, CFG) == state


def test_rule_text_names_values_and_parameters():
    assert above("tolerance", "z").text("margin", CFG) == "margin - 2 s.e. > 0.03 (tolerance)"
    assert within(0.0, "tolerance", 2.0).text("gap", CFG) == "|gap| + 2 s.e. <= 0.03 (tolerance)"
    assert within(-2, 0.15).text("e") == "|e - (-2)| <= 0.15"
    assert below(-Ref("tolerance")).text("g", CFG) == "g < -0.03 (-tolerance)"
    assert (1 + Ref("tolerance")).value(CFG) == pytest.approx(1.03)
    assert above("tolerance", "z").parameters() == ("tolerance", "z")


def spec(rule=None, min_seeds=1, statement="Margin at p = {p} beats {what}.") -> ClaimSpec:
    return ClaimSpec(
        "mixing.test_claim",
        statement,
        Source("000", "Fig. 2 left"),
        "margin",
        rule or above("tolerance", "z"),
        paper_value=0.1,
        min_seeds=min_seeds,
    )


def test_checker_records_rule_source_and_state(tmp_path):
    cfg = get_spec("mixing").resolve("smoke")
    claims = ClaimChecker(cfg, [spec(min_seeds=3)], path=tmp_path / "mixing.claims.json")
    claim = claims.check("mixing.test_claim", 0.5, 0.01, seeds=5, what="1/12")
    assert claim.state == HELD and claim.holds
    assert claim.statement == f"Margin at p = {cfg.p} beats 1/12."
    assert claim.rule == "margin - 2 s.e. > 0.03 (tolerance)"
    assert claim.source == {"paper": "000", "where": "Fig. 2 left"} and claim.paper == 0.1
    data = json.loads((tmp_path / "mixing.claims.json").read_text())["claims"][0]
    assert data["rule"] == claim.rule and data["source"]["where"] == "Fig. 2 left"


def test_checker_too_few_seeds_is_undetermined():
    cfg = get_spec("mixing").resolve("smoke")
    claims = ClaimChecker(cfg, [spec(min_seeds=3)], path=None)
    claim = claims.check("mixing.test_claim", 0.5, 0.01, seeds=2, what="x")
    assert claim.state == UNDETERMINED and not claim.holds and "3" in claim.note


def test_checker_not_applicable_and_absent():
    cfg = get_spec("mixing").resolve("smoke")
    other = ClaimSpec("mixing.other", "Other.", Source("000", "Fig. 3"), "q", above(0.0))
    claims = ClaimChecker(cfg, [spec(), other], path=None)
    claims.not_applicable("mixing.test_claim", "M is symmetric", what="x")
    claims.absent("mixing.other", "no crossing")
    states = [c.state for c in claims.claims]
    assert states == [NOT_APPLICABLE, FAILED] and claims.claims[1].note.startswith("no measured")


def test_checker_refuses_undeclared_and_unchecked_claims():
    cfg = get_spec("mixing").resolve("smoke")
    claims = ClaimChecker(cfg, [spec()], path=None)
    with pytest.raises(KeyError, match="not declared"):
        claims.check("mixing.nope", 1.0)
    with pytest.raises(RuntimeError, match="never checked: mixing.test_claim"):
        claims.table()
    with pytest.raises(ValueError, match="what"):
        claims.check("mixing.test_claim", 1.0)


def test_declare_refuses_duplicates():
    with pytest.raises(ValueError, match="twice"):
        declare("mixing", spec(), spec())


def test_grouping_failures_first_and_anchors():
    cfg = get_spec("mixing").resolve("smoke")
    specs = [
        ClaimSpec(f"mixing.c{i}", "S.", Source("000", where), "q", above(0.0))
        for i, where in enumerate(["Fig. 2", "Fig. 3", "Fig. 3"])
    ]
    claims = ClaimChecker(cfg, specs, path=None)
    claims.check("mixing.c0", 1.0)
    claims.check("mixing.c1", 1.0)
    claims.check("mixing.c2", -1.0)
    groups = by_source(claims.claims)
    assert [w for w, _ in groups[0][1]] == ["Fig. 3", "Fig. 2"]  # the group with a failure
    assert [c.id for c in groups[0][1][0][1]] == ["mixing.c2", "mixing.c1"]  # failure first
    assert summary(claims.claims, name_failures=True) == "3 claims: 2 held, 1 failed (mixing.c2)"
    html = ClaimsTable(claims.claims, by_source=True)._repr_html_()
    assert f'id="{claim_anchor("mixing.c2")}"' in html and 'data-state="failed"' in html
    assert html.index("Fig. 3") < html.index("Fig. 2")
    text = claims_by_source(claims.claims)
    assert text.index("-- Fig. 3") < text.index("-- Fig. 2")


# --------------------------------------------------------------------------- the declarations


DECLARED = declared_claims()


def test_every_notebook_chapter_declares_claims():
    chapters = {name for name in SPECS if name != "claims"}
    assert set(DECLARED) == chapters


@pytest.mark.parametrize("chapter", sorted(DECLARED))
def test_declarations_use_the_chapters_parameters(chapter):
    cfg = get_spec(chapter).resolve("smoke")
    for claim in DECLARED[chapter]:
        assert claim.chapter == chapter
        assert claim.source.paper in {"000", "004"} and claim.source.where
        for name in claim.rule.parameters():
            assert name in cfg, f"{claim.id}: rule names {name!r}, not a parameter"
        assert claim.rule_text(cfg)
        fields = [f for _, f, _, _ in string.Formatter().parse(claim.statement) if f]
        assert all(isinstance(f, str) for f in fields)


@pytest.mark.parametrize("chapter", sorted(DECLARED))
def test_chapters_check_only_declared_claims(chapter):
    """Chapters go through the checker; ``claims.table()`` refuses a chapter that leaves a
    declared claim unchecked (the smoke build checks that every one is recorded)."""
    source = (ROOT / "book" / f"{chapter}.py").read_text()
    assert "claims.record(" not in source and "ClaimRecorder(" not in source
    assert "claims = cclib.claims_for(cfg)" in source and "claims.table()" in source
