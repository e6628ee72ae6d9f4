"""Cached, batched Universal-AND runs and their evaluation (paper 004 sections 4-5)."""

from __future__ import annotations

import itertools

import pytest
import torch

from cclib.book.specs import get_spec
from cclib.book.specs_universal_and import UAND_EVAL_CHUNK
from cclib.engine import executor
from cclib.engine.cache import Cache
from cclib.engine.training import TrainConfig
from cclib.universal_and import evaluation
from cclib.universal_and.baselines import ZERO_LOSS, additive_model, additive_readout
from cclib.universal_and.experiments import (
    UANDRun,
    _merge_seeds,
    _train_seeds,
    chapter_runs,
    eval_generators,
    evaluate,
    train_run,
)
from cclib.universal_and.grid import parse_grid
from cclib.universal_and.models import UniversalAND
from cclib.universal_and.tasks import UniversalANDTask, pair_indices

TRAIN = TrainConfig(steps=20, batch_size=16, lr=1e-2, weight_decay=0.1)


def test_instances_are_s_major():
    run = UANDRun(m=6, d=4, s_values=(2, 3), seeds=(0, 5), train=TRAIN)
    assert run.instances() == [(2, 0), (2, 5), (3, 0), (3, 5)]
    assert [run.index(s, seed) for s, seed in run.instances()] == [0, 1, 2, 3]
    assert run.indices(3) == [2, 3]
    assert run.task().s_values == [2, 2, 3, 3]
    assert run.part(3).config()["s_values"] == (3,)


@pytest.mark.parametrize(
    "fields",
    [dict(s_values=(7,)), dict(s_values=()), dict(seeds=(0, 0)), dict(m=1), dict(s_values=(0,))],
)
def test_bad_runs_are_refused(fields):
    base = dict(m=6, d=4, s_values=(2,), seeds=(0,), train=TRAIN)
    with pytest.raises(ValueError):
        UANDRun(**{**base, **fields})


def test_train_run_caches_each_s_and_reuses_it(tmp_path, monkeypatch):
    monkeypatch.setenv("CCBOOK_PROGRESS", "0")
    cache = Cache(tmp_path)
    run = UANDRun(m=6, d=4, s_values=(2, 3), seeds=(0, 1), train=TRAIN)
    result = train_run(run, cache)
    assert result.model.w.shape == (4, 4, 6)
    assert result.model.r.shape == (4, 15, 4)
    assert result.losses.shape == (20, 4)
    assert result.task.s_values == [2, 2, 3, 3]
    # one entry per s; the single-s run reads the same entry (no training: same weights)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == sorted(
        cache.path(run.part(s).config()).name for s in (2, 3)
    )
    part = train_run(run.part(3), cache)
    assert torch.equal(part.model.w, result.model.w[run.indices(3)])
    assert torch.equal(part.losses, result.losses[:, run.indices(3)])
    again = train_run(run, cache)
    assert torch.equal(again.model.r, result.model.r)


def test_training_lowers_the_loss(monkeypatch):
    monkeypatch.setenv("CCBOOK_PROGRESS", "0")
    train = TrainConfig(steps=200, batch_size=64, lr=1e-2, weight_decay=0.1)
    run = UANDRun(m=6, d=8, s_values=(2,), seeds=(0, 1), train=train)
    result = train_run(run, None)
    before = evaluate(UniversalAND.init([0, 1], 6, 8), run.task(), 512, eval_generators(run))
    after = evaluate(result.model, result.task, 512, eval_generators(run))
    assert bool((after.loss < 0.5 * before.loss).all())


def _exact_and_model(m: int) -> UniversalAND:
    """One neuron per pair, ``ReLU(v_i + v_j - 1) = v_i v_j``, read out one to one."""
    pairs = pair_indices(m)
    p = len(pairs)
    w = torch.zeros(1, p, m)
    w[0, torch.arange(p), pairs[:, 0]] = 1.0
    w[0, torch.arange(p), pairs[:, 1]] = 1.0
    return UniversalAND(w, -torch.ones(1, p), torch.eye(p)[None], torch.zeros(1, p))


def test_evaluation_of_an_exact_and_model_and_of_the_zero_model():
    m, s = 7, 3
    task = UniversalANDTask(m, s, 1)
    generator = torch.Generator().manual_seed(0)
    exact = evaluate(_exact_and_model(m), task, 700, generator, chunk=128)
    assert float(exact.loss) == 0.0
    assert exact.case_error.abs().max() == 0.0
    assert torch.equal(exact.case_accuracy, torch.ones(1, 3))
    zero = UniversalAND(
        torch.zeros(1, 2, m), torch.zeros(1, 2), torch.zeros(1, 21, 2), torch.zeros(1, 21)
    )
    result = evaluate(zero, task, 300, generator)
    # y = 0: only the s(s-1)/2 "both on" pairs err, each by 1 with weight 1/(3 P(both)),
    # and P(both) = s(s-1)/(m(m-1)); the mean over the P pairs is exactly 1/3.
    torch.testing.assert_close(result.loss, torch.tensor([1 / 3]))
    torch.testing.assert_close(result.case_error, torch.tensor([[0.0, 0.0, 1.0]]))
    torch.testing.assert_close(result.case_accuracy, torch.tensor([[1.0, 1.0, 0.0]]))
    torch.testing.assert_close(result.and_accuracy, torch.tensor([2 / 3]))


def test_chunks_do_not_change_the_evaluation():
    model = UniversalAND.init([0, 1], 6, 5)
    task = UniversalANDTask(6, [2, 3], 2)
    one = evaluate(model, task, 250, [torch.Generator().manual_seed(i) for i in (1, 2)])
    many = evaluate(model, task, 250, [torch.Generator().manual_seed(i) for i in (1, 2)], 64)
    torch.testing.assert_close(one.loss, many.loss)
    torch.testing.assert_close(one.case_error, many.case_error)


def test_chapter_runs_follow_the_spec():
    for profile in ("smoke", "quick", "paper"):
        cfg = get_spec("uand_training").resolve(profile)
        runs = chapter_runs(cfg)
        assert [run.d for run in runs] == list(parse_grid(cfg.d_values))
        for run in runs:
            assert run.m == cfg.m
            assert run.s_values == parse_grid(cfg.s_values)
            assert run.seeds == tuple(range(cfg.seeds))
            assert run.train.steps == cfg.steps


def test_eval_chunk_constant_matches_the_spec():
    assert evaluation.CHUNK == UAND_EVAL_CHUNK


@pytest.mark.parametrize("text", ["", "2,,3", "3,2", "2,2", "0,1", "a"])
def test_bad_grids_are_refused(text):
    with pytest.raises(ValueError):
        parse_grid(text)


def test_grid_parsing():
    assert parse_grid(" 2, 3,10") == (2, 3, 10)
    assert list(itertools.islice(parse_grid("20,200,2000"), 3)) == [20, 200, 2000]


def test_additive_readout_closed_form_and_its_model():
    """The best readout linear in v_i + v_j: alpha = 1/2, beta = -1/6, loss 1/18; a model
    with W = I reaches exactly that loss and reads every AND right at 0.5."""
    readout = additive_readout()
    assert readout.alpha == pytest.approx(0.5)
    assert readout.beta == pytest.approx(-1 / 6)
    assert readout.loss == pytest.approx(1 / 18)
    m = 9
    result = evaluate(additive_model(m), UniversalANDTask(m, 4, 1), 200, torch.Generator())
    torch.testing.assert_close(result.loss, torch.tensor([1 / 18]))
    torch.testing.assert_close(
        result.case_error, torch.tensor([[1 / 36, 1 / 9, 1 / 36]]), rtol=1e-5, atol=1e-6
    )
    assert torch.equal(result.case_accuracy, torch.ones(1, 3))
    assert ZERO_LOSS == pytest.approx(1 / 3)


# --------------------------------------------------------------------------- the executor


def test_seed_shards_equal_the_whole_run(monkeypatch):
    """Each seed keeps its initialisation and data stream: seeds trained in shards equal
    the same seeds of the one batched run (float tolerance), merged in order."""
    monkeypatch.setenv("CCBOOK_PROGRESS", "0")
    part = UANDRun(m=6, d=4, s_values=(2,), seeds=(0, 1, 2), train=TRAIN)
    whole = _train_seeds(part, "cpu", "whole", 0, 3, None)
    shards = [_train_seeds(part, "cpu", "shard", a, b, None) for a, b in ((0, 1), (1, 3))]
    merged = _merge_seeds(shards)
    assert merged.keys() == whole.keys()
    for name, value in whole["model"].items():
        torch.testing.assert_close(merged["model"][name], value, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(merged["losses"], whole["losses"], rtol=1e-5, atol=1e-6)


def test_local_cluster_run_equals_in_process(tmp_path, monkeypatch):
    """Under a 2-worker LocalCluster both s run at once, each in seed shards cached under
    their own keys, and the run equals the in-process one; the merged entries are the
    in-process entries (same keys), so an in-process rerun trains nothing."""
    monkeypatch.setenv("CCBOOK_PROGRESS", "0")
    run = UANDRun(m=6, d=4, s_values=(2, 3), seeds=(0, 1), train=TRAIN)
    reference = train_run(run, None, device="cpu")
    cache = Cache(tmp_path / "cache")
    monkeypatch.setenv(executor.ENV, "local:2")
    try:
        sharded = train_run(run, cache, device="cpu")
    finally:
        executor.close_client()
    for name in ("w", "b", "r", "c"):
        torch.testing.assert_close(
            getattr(sharded.model, name), getattr(reference.model, name), rtol=1e-5, atol=1e-6
        )
    for s in run.s_values:
        assert cache.load(executor.shard_config(run.part(s).config(), 0, 1)) is not None
        assert cache.load(run.part(s).config()) is not None
    monkeypatch.setenv(executor.ENV, "inprocess")
    again = train_run(run, cache, device="cpu")
    assert torch.equal(again.model.r, sharded.model.r)
