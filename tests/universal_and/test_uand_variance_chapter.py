"""The uand_variance chapter (paper 004 section 6.2): smoke run through the command line,
every claim recorded, and its parameters refused before any work."""

from __future__ import annotations

import json

from cclib.book import runner

CLAIM_IDS = (
    "variance.cis_formula",
    "variance.dense_formula",
    "variance.dense_exponent_s",
    "variance.dense_exponent_d",
    "variance.cis_exponent_d",
    "variance.crossover_predicted",
    "variance.crossover_exponent_d",
    "variance.crossover_exponent_m",
    "variance.robust_circuit",
    "variance.crossover_measured",
    "variance.dense_wins_full_error",
    "variance.trained_vs_dense",
)


def test_chapter_runs_under_smoke(cli, tmp_path):
    out = tmp_path / "uand_variance.ipynb"
    proc = cli("run", "uand_variance", "--profile", "smoke", "--output", str(out), timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    recorded = json.loads(runner.claims_path_for(out).read_text())
    assert sorted(c["id"] for c in recorded["claims"]) == sorted(CLAIM_IDS)


def test_bad_parameters_are_refused_before_any_work(cli, tmp_path):
    out = tmp_path / "bad.ipynb"
    proc = cli("run", "uand_variance", "--profile", "smoke", "-p", "crossover_m", "13",
               "--output", str(out))  # fmt: skip
    assert proc.returncode == 2
    assert "crossover_m" in proc.stderr
    assert not out.exists()
