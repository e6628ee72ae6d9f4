"""The uand_training chapter (paper 004 sections 3-5): smoke run through the command line,
its parameter checks, and the sweep summary it is built on."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cclib.book import runner
from cclib.book.params import ParameterError
from cclib.book.specs import get_spec
from cclib.engine.training import TrainConfig
from cclib.universal_and import sweep
from cclib.universal_and.experiments import UANDRun, decay_variant, size_variant, train_run
from cclib.universal_and.models import UniversalAND

CLAIM_IDS = (
    "uand.solves_low_s",
    "uand.binary_similarity_low_s",
    "uand.u_positive",
    "uand.w_negative",
    "uand.b_positive",
    "uand.ratio_u_w",
    "uand.even_split",
    "uand.values_stable_in_d",
    "uand.degenerate_high_s",
    "uand.high_s_stays_at_init",
    "uand.binary_robust_decay",
    "uand.binary_other_m",
)


def test_chapter_runs_under_smoke(cli, tmp_path):
    out = tmp_path / "uand_training.ipynb"
    proc = cli("run", "uand_training", "--profile", "smoke", "--output", str(out), timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    recorded = json.loads(runner.claims_path_for(out).read_text())
    ids = [c["id"] for c in recorded["claims"]]
    assert sorted(ids) == sorted(CLAIM_IDS)


@pytest.mark.parametrize(
    ("overrides", "names"),
    [
        ({"s_values": "2,40"}, "s_values"),
        ({"s_low": 4}, "s_low"),
        ({"s_high": 7}, "s_high"),
        ({"d_values": "30,10"}, "d_values"),
        ({"d_values": "10,,30"}, "d_values"),
        ({"seeds": 1}, "seeds"),
        ({"check_m": 4, "s_low": 5, "s_values": "2,5"}, "s_low"),
    ],
)
def test_bad_parameters_give_one_clear_error(overrides, names):
    with pytest.raises(ParameterError, match=names):
        get_spec("uand_training").resolve("quick", **overrides)


def test_paper_profile_on_a_small_machine_is_refused_with_its_memory():
    with pytest.raises(ParameterError, match="max_memory_gb.*GB.*d = 10000"):
        get_spec("uand_training").resolve("paper", max_memory_gb=2.0)


def test_summary_shapes_and_seed_statistics(monkeypatch):
    monkeypatch.setenv("CCBOOK_PROGRESS", "0")
    train = TrainConfig(steps=20, batch_size=16, lr=1e-2, weight_decay=0.1)
    results = [
        train_run(UANDRun(m=6, d=d, s_values=(2, 3), seeds=(0, 1, 2), train=train), None)
        for d in (4, 8)
    ]
    summary = sweep.summarise(results, 64)
    assert summary.loss.shape == (2, 2, 3)
    assert summary.case_error.shape == (2, 2, 3, 3)
    assert summary.d_values == (4, 8) and summary.s_values == (2, 3)
    histories = sweep.loss_histories(results)
    assert histories.shape == (2, 20, 2, 3)
    np.testing.assert_allclose(histories[1, :, 1, 2], results[1].losses[:, 5].double().numpy())
    assert sweep.late_change(histories).shape == (2, 2, 3)
    neurons = sweep.circuit_neurons(summary, 3, seed_index=1)
    np.testing.assert_allclose(neurons[1]["u"], summary.fits[1].u[4].double().numpy())
    weights = sweep.weights_at(results, 8, (2, 3), seed_index=2)
    assert torch.equal(weights["s = 3"], results[1].model.w[5])
    # the untrained layer: init similarity for every (d, s) of one seed is the same matrix
    np.testing.assert_allclose(summary.init_similarity[:, 0], summary.init_similarity[:, 1])
    assert len(sweep.describe_solution(summary, 3, 6, 1 / 18)) == 2
    assert summary.close_share.shape == (2, 2, 3)
    assert isinstance(sweep.signs_hold(summary, 0.0), bool) and sweep.signs_hold(summary, 0.0)
    table = sweep.compare_models(summary, summary, 1, 3, other_row=1)
    assert "similarity" in table and len(table.splitlines()) == 12
    assert "b > 0 in a share" in sweep.circuit_verdict(summary, 0, 2)


def test_size_variant_changes_only_the_size_and_s():
    run = UANDRun(m=6, d=4, s_values=(2, 3), seeds=(0, 1), train=TrainConfig(weight_decay=0.1))
    variant = size_variant(run, 3, 10, 8)
    assert (variant.m, variant.d, variant.s_values) == (10, 8, (3,))
    assert variant.seeds == run.seeds and variant.train == run.train


def test_decay_variant_changes_only_the_decay_and_s():
    run = UANDRun(m=6, d=4, s_values=(2, 3), seeds=(0, 1), train=TrainConfig(weight_decay=0.1))
    variant = decay_variant(run, 3, 0.01)
    assert variant.s_values == (3,) and variant.seeds == run.seeds and variant.d == run.d
    assert variant.train.weight_decay == 0.01
    assert variant.train.lr == run.train.lr and variant.train.steps == run.train.steps


def test_pooled_and_relative_spread():
    values = np.array([[1.0, 2.0, 3.0], [3.0, 4.0, 5.0]])  # (D, seeds)
    mean, error = sweep.pooled(values)
    assert mean == pytest.approx(3.0)
    assert error == pytest.approx(np.std([2.0, 3.0, 4.0], ddof=1) / np.sqrt(3))
    spread, _ = sweep.relative_spread(values)
    assert spread == pytest.approx((4.0 - 2.0) / 3.0)


def test_initial_weights_are_those_of_the_model_init():
    run = UANDRun(m=6, d=4, s_values=(2, 3), seeds=(0, 1), train=TrainConfig(steps=1))
    result = train_run(run, None)
    init = UniversalAND.init([seed for _, seed in run.instances()], 6, 4)
    assert torch.equal(sweep.initial_weights(result), init.w.detach())
