"""The uand_readout chapter: its smoke run through the CLI records every claim of issue 9
part 2; its spec reuses uand_training's runs and refuses bad settings before any work."""

from __future__ import annotations

import json

import pytest

from cclib.book import runner
from cclib.book.params import PROFILES, ParameterError
from cclib.book.specs import get_spec
from cclib.universal_and.readout_study import readout_run

CLAIMS = (
    "circuit.and_readout_correlation",
    "circuit.and_readout_signs",
    "circuit.readout_chart_classes",
    "circuit.xor_weight_norm",
    "circuit.xor_weight_norm_l1",
    "circuit.frozen_random",
    "circuit.frozen_random_loss",
    "circuit.binary_vs_random",
    "circuit.binary_vs_random_half",
    "circuit.robust_frozen_share",
    "circuit.class_c_weight_larger",
)


def test_chapter_runs_under_smoke(cli, tmp_path):
    out = tmp_path / "uand_readout.ipynb"
    env = {"CCBOOK_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    proc = cli(
        "run", "uand_readout", "--profile", "smoke", "--output", str(out), env=env, timeout=900
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    recorded = json.loads(runner.claims_path_for(out).read_text())
    ids = {c["id"] for c in recorded["claims"]}
    assert set(CLAIMS) <= ids


@pytest.mark.parametrize("profile", PROFILES)
def test_models_are_the_training_chapters_runs(profile):
    """At a d of uand_training's grid, every s of this chapter is one of that chapter's
    cache entries (same single-s run configuration)."""
    from cclib.universal_and.experiments import chapter_runs
    from cclib.universal_and.grid import parse_grid

    cfg = get_spec("uand_readout").resolve(profile)
    training = get_spec("uand_training").resolve(profile)
    theirs = {run.d: run for run in chapter_runs(training)}
    mine = readout_run(cfg)
    if cfg.d not in theirs:
        pytest.skip(f"d = {cfg.d} is not in uand_training's grid under {profile}")
    for s in mine.s_values:
        if s in parse_grid(training.s_values):
            assert mine.part(s).config() == theirs[cfg.d].part(s).config()


@pytest.mark.parametrize(
    ("overrides", "name"),
    [({"s_low": 2}, "s_low"), ({"s_high": 3}, "s_high"), ({"m": 10, "s_high": 8}, "s_high")],
)
def test_bad_settings_are_refused(overrides, name):
    with pytest.raises(ParameterError, match=name):
        get_spec("uand_readout").resolve("quick", **overrides)
