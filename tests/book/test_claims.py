"""The claims API and its JSON format."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
import torch

from cclib.book.claims import (
    CLAIM_KEYS,
    Claim,
    ClaimRecorder,
    ClaimsTable,
    claims_table,
    load_claims,
    read_claims_file,
    summary,
)


@pytest.fixture
def recorder(tmp_path):
    return ClaimRecorder("chap", "smoke", path=tmp_path / "chap.claims.json")


def test_record_writes_stable_json(recorder):
    claim = recorder.record(
        id="a", statement="A holds.", measured=0.5, holds=True, error=0.01, paper=0.5
    )
    assert claim == Claim("a", "chap", "A holds.", 0.5, 0.5, 0.01, True, "smoke")
    data = json.loads(recorder.path.read_text())
    assert data == {
        "chapter": "chap",
        "profile": "smoke",
        "claims": [
            {
                "id": "a",
                "chapter": "chap",
                "statement": "A holds.",
                "paper": 0.5,
                "measured": 0.5,
                "error": 0.01,
                "holds": True,
                "profile": "smoke",
                "state": "held",
                "rule": "",
                "source": None,
                "note": "",
            }
        ],
    }
    assert tuple(data["claims"][0]) == CLAIM_KEYS


def test_round_trip(recorder, tmp_path):
    recorder.record(id="a", statement="s", measured=1, holds=True)
    recorder.record(id="b", statement="t", measured=2.5, holds=False, error=0.1, paper=3)
    assert read_claims_file(recorder.path) == list(recorder.claims)
    assert load_claims(tmp_path) == list(recorder.claims)
    b = recorder.claims[1]
    assert b.paper == 3.0 and isinstance(b.paper, float) and b.holds is False


def test_rewritten_after_each_record_atomically(recorder, tmp_path):
    recorder.record(id="a", statement="s", measured=1, holds=True)
    first_inode = os.stat(recorder.path).st_ino
    recorder.record(id="b", statement="t", measured=2, holds=True)
    assert len(json.loads(recorder.path.read_text())["claims"]) == 2
    # os.replace of a fresh temporary file: a new inode, and no temporary left behind
    assert os.stat(recorder.path).st_ino != first_inode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chap.claims.json"]


def test_numpy_and_torch_scalars(recorder):
    c = recorder.record(
        id="np",
        statement="s",
        measured=np.float32(0.25),
        holds=np.bool_(True),
        error=np.float64(0.5),
        paper=np.int64(1),
    )
    assert (type(c.measured), type(c.holds), type(c.error), type(c.paper)) == (
        float,
        bool,
        float,
        float,
    )
    t = recorder.record(
        id="torch", statement="s", measured=torch.tensor(1.5), holds=torch.tensor(True)
    )
    assert t.measured == 1.5 and t.holds is True
    json.loads(recorder.path.read_text())


def test_env_path_default(tmp_path, monkeypatch):
    path = tmp_path / "env.claims.json"
    monkeypatch.setenv("CCBOOK_CLAIMS_FILE", str(path))
    rec = ClaimRecorder("c", "quick")
    rec.record(id="x", statement="s", measured=1.0, holds=True)
    assert json.loads(path.read_text())["claims"][0]["id"] == "x"


def test_in_memory_without_path(tmp_path, monkeypatch):
    monkeypatch.delenv("CCBOOK_CLAIMS_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    rec = ClaimRecorder("c", "quick")
    rec.record(id="x", statement="s", measured=1.0, holds=True)
    assert rec.path is None and len(rec) == 1 and list(tmp_path.iterdir()) == []


def test_duplicate_id_rejected(recorder):
    recorder.record(id="a", statement="s", measured=1, holds=True)
    with pytest.raises(ValueError, match="'a' recorded twice"):
        recorder.record(id="a", statement="s", measured=2, holds=True)
    assert len(json.loads(recorder.path.read_text())["claims"]) == 1


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(id="", statement="s", measured=1, holds=True), "id"),
        (dict(id="x", statement="", measured=1, holds=True), "statement"),
        (dict(id="x", statement="s", measured=math.nan, holds=True), "finite"),
        (dict(id="x", statement="s", measured=math.inf, holds=True), "finite"),
        (dict(id="x", statement="s", measured="1", holds=True), "real number"),
        (dict(id="x", statement="s", measured=None, holds=True), "required"),
        (dict(id="x", statement="s", measured=True, holds=True), "real number"),
        (dict(id="x", statement="s", measured=np.array([1.0, 2.0]), holds=True), "single number"),
        (dict(id="x", statement="s", measured=1, holds=1), "boolean"),
        (dict(id="x", statement="s", measured=1, holds="yes"), "boolean"),
        (dict(id="x", statement="s", measured=1, holds=True, error=-0.1), ">= 0"),
        (dict(id="x", statement="s", measured=1, holds=True, error=math.nan), "finite"),
        (dict(id="x", statement="s", measured=1, holds=True, paper="0.1"), "real number"),
    ],
)
def test_validation(recorder, kwargs, match):
    with pytest.raises(ValueError, match=match):
        recorder.record(**kwargs)
    assert len(recorder) == 0 and not recorder.path.exists()


def test_table_rendering(recorder):
    recorder.record(
        id="ok",
        statement="It <holds> & is fine.",
        measured=0.08331,
        holds=True,
        error=0.00021,
        paper=0.0833,
    )
    recorder.record(id="bad", statement="It fails.", measured=2.0, holds=False)
    table = recorder.table()
    html = table._repr_html_()
    assert "<table" in html and "&lt;holds&gt; &amp;" in html
    assert "\u2713" in html and "\u2717" in html and "0.08331 \u00b1 0.00021" in html
    assert "2 claims: 1 held, 1 failed" in html
    text = repr(table)
    assert "ok" in text and "bad" in text and "0.0833" in text
    assert text.splitlines()[0].split()[:2] == ["id", "statement"]
    full = claims_table(recorder.claims)
    assert full.splitlines()[0].split()[0] == "chapter"
    assert full.endswith("2 claims: 1 held, 1 failed (bad)")


def test_empty_table():
    assert "No claims" in ClaimsTable([])._repr_html_()
    assert claims_table([]) == "no claims recorded" == summary([])


def test_load_claims_uses_manifest_order(tmp_path):
    for chapter in ("b_chapter", "a_chapter", "stale"):
        rec = ClaimRecorder(chapter, "quick", path=tmp_path / f"{chapter}.claims.json")
        rec.record(id=f"{chapter}.x", statement="s", measured=1, holds=True)
    assert [c.chapter for c in load_claims(tmp_path)] == ["a_chapter", "b_chapter", "stale"]
    (tmp_path / "build.json").write_text(
        json.dumps({"profile": "quick", "chapters": ["b_chapter", "a_chapter", "missing"]})
    )
    assert [c.chapter for c in load_claims(tmp_path)] == ["b_chapter", "a_chapter"]


def test_load_claims_missing_dir_and_malformed(tmp_path):
    assert load_claims(tmp_path / "nope") == []
    (tmp_path / "x.claims.json").write_text("{not json")
    with pytest.raises(ValueError, match="malformed claims file"):
        load_claims(tmp_path)
