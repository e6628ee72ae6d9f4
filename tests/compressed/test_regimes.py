"""The regimes chapter's library (paper 000 appendices C-D): the naive + offset closed form
against simulation, the weight decomposition, the one-hot response, the crossover, the
exactly-one-active sweep, and a smoke run of the chapter."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch

from cclib.book.budget import nonempty_horizon
from cclib.book.params import ParameterError
from cclib.book.specs import REGIMES_CLEAN_PS, REGIMES_TRAIN_PS, get_spec
from cclib.compressed import evaluation, experiments, regimes
from cclib.compressed.experiments import CCInstance, MLPSweep
from cclib.compressed.models import MLP
from cclib.engine.training import TrainConfig

N, D = 100, 50


def clean_task(p: float, instances: int):
    sweep = MLPSweep(tuple(CCInstance(0, p) for _ in range(instances)), TrainConfig())
    return experiments.build_mlp_task(sweep)


# --------------------------------------------------------------------------- naive + offset


def test_offset_zero_is_the_naive_loss():
    assert np.allclose(regimes.offset_loss_per_feature(0.0, [0.001, 0.1, 1.0]), 1 / 12)


def test_optimal_offset_minimises_the_closed_form():
    for p in (0.001, 0.01, 0.1, 0.5, 1.0):
        c = float(regimes.optimal_offset(p, D))
        grid = np.linspace(0.5 * c, 1.5 * c, 2001)
        best = grid[np.argmin(regimes.offset_loss_per_feature(grid, p, N, D))]
        assert best == pytest.approx(c, rel=1e-3)
    assert float(regimes.optimal_offset(1.0, D)) == pytest.approx(1 / (8 / 3 + 49))


@pytest.mark.parametrize("p", [0.05, 0.3, 1.0])
def test_offset_closed_form_matches_simulation(p):
    offsets = [0.0, float(regimes.optimal_offset(p, D)), 0.04]
    model = regimes.offset_mlp(N, D, offsets)
    estimate = evaluation.monte_carlo_loss_per_feature(model, clean_task(p, 3), p, 200_000)
    closed = regimes.offset_loss_per_feature(offsets, p, N, D)
    z = (estimate.mean.numpy() - closed) / estimate.stderr.numpy()
    assert np.all(np.abs(z) < 4), z


def test_offset_mlp_weights():
    model = regimes.offset_mlp(6, 3, [0.5])
    x = torch.tensor([[[1.0, 2.0, 0.0, -1.0, 3.0, 0.0]]])
    assert torch.allclose(model(x)[0, 0], torch.tensor([1.0, 2.0, 0.0, 1.5, 1.5, 1.5]))


def test_simulated_offset_agrees_with_closed_form():
    for p in (0.1, 1.0):
        value, err = regimes.simulated_offset(p, N, D, 400_000, seed=3)
        assert abs(value - float(regimes.optimal_offset(p, D))) < 4 * err
        assert err < 0.01 * value


def test_grid_optimum_finds_a_parabola_vertex_in_log_space():
    offsets = np.geomspace(0.002, 0.05, 15)
    losses = (np.log(offsets) - np.log(0.013)) ** 2
    assert regimes.grid_optimum(offsets, losses) == pytest.approx(0.013, rel=1e-6)
    assert regimes.grid_optimum(offsets, -offsets) == offsets[-1]  # minimum at the edge


# --------------------------------------------------------------------------- weights, response


def test_contributions_sum_to_the_diagonal_of_wout_win():
    model = MLP.init([0, 1], 8, 4)
    contrib = regimes.contributions(model)
    diag = torch.diagonal(torch.bmm(model.w_out, model.w_in), dim1=1, dim2=2)
    assert torch.allclose(contrib.sum(dim=-1), diag.detach(), atol=1e-6)


def test_naive_model_has_every_represented_feature_alone():
    model = regimes.offset_mlp(N, D, [0.02])
    contrib = regimes.contributions(model)
    share = regimes.largest_share(contrib)
    assert torch.all(share[0, :D] == 1) and torch.all(share[0, D:] == 0)
    assert int(regimes.dominant_features(contrib)[0]) == D
    assert regimes.effective_offset(model)[0] == pytest.approx(0.02)


def test_largest_share_of_a_split_feature():
    contrib = torch.tensor([[[0.6, 0.3, 0.1, -0.2]]])
    assert float(regimes.largest_share(contrib)) == pytest.approx(0.6)
    assert int(regimes.dominant_features(contrib, share=0.5)[0]) == 1
    assert int(regimes.dominant_features(contrib, share=0.7)[0]) == 0


def test_one_hot_response_of_the_naive_model():
    values = torch.linspace(-1, 1, 5)
    response = regimes.one_hot_response(regimes.offset_mlp(N, D, [0.0, 0.1]), values)
    assert response.shape == (2, 5, N)
    assert torch.allclose(response[0, :, :D], torch.relu(values)[:, None].expand(5, D))
    assert torch.all(response[:, :, D:] == 0)  # an unrepresented feature alone reads nothing
    ideal = regimes.ideal_one_hot(values, torch.eye(3)[None])
    assert torch.allclose(ideal[0, :, 0], torch.relu(values) + values)


def test_crossover():
    p = np.array([0.001, 0.01, 0.1, 1.0])
    assert regimes.crossover(p, [1, 1, 3, 3], [2, 2, 2, 2]) == pytest.approx(10**-1.5)
    assert np.isnan(regimes.crossover(p, [1, 1, 1, 1], [2, 2, 2, 2]))


def test_at_own_p_picks_each_instance_at_its_p():
    model = regimes.offset_mlp(N, D, [0.0, 0.02])
    task = clean_task(0.1, 2)
    strata = evaluation.strata_losses(model, task, range(N + 1), 64)
    mean, _ = regimes.at_own_p(strata, [0.1, 1.0])
    assert mean[0] == pytest.approx(float(strata.loss_per_feature(0.1).mean[0]))
    assert mean[1] == pytest.approx(float(strata.loss_per_feature(1.0).mean[1]))


# --------------------------------------------------------------------------- sweeps


def test_figure7_sweep_layout_and_horizons():
    cfg = get_spec("regimes").resolve("smoke", nonempty_steps=True)
    sweep = regimes.figure7_sweep(cfg)
    ps = regimes.train_ps(cfg)
    assert len(sweep.instances) == (len(ps) + 1) * cfg.seeds
    assert [i.active for i in sweep.instances[-cfg.seeds :]] == [1] * cfg.seeds
    assert all(i.active is None for i in sweep.instances[: -cfg.seeds])
    assert [i.p for i in sweep.instances[:: cfg.seeds]] == [*ps, 1 / cfg.n_features]
    horizons = sweep.horizons()
    assert horizons[0] == nonempty_horizon(cfg.steps, min(ps), cfg.n_features)
    assert horizons[-1] == nonempty_horizon(cfg.steps, 0.01, cfg.n_features)
    assert get_spec("regimes").budget(cfg).steps == max(horizons)


def test_one_active_instances_train_on_one_hot_inputs():
    cfg = get_spec("regimes").resolve("smoke", seeds=1)
    task = experiments.build_mlp_task(regimes.figure7_sweep(cfg))
    generators = [torch.Generator().manual_seed(s) for s in range(len(task.p_values))]
    x = task.sample(generators, 256)
    assert torch.all((x[-1] != 0).sum(dim=1) == 1)
    assert (x[-2] != 0).float().mean() == pytest.approx(1.0)  # the p = 1 model


def test_paper_profile_trains_the_papers_grids():
    cfg = get_spec("regimes").resolve("paper")
    assert regimes.train_ps(cfg) == sorted({*REGIMES_TRAIN_PS, cfg.p, cfg.dense_p})
    assert regimes.clean_ps(cfg) == list(REGIMES_CLEAN_PS)


@pytest.mark.parametrize(
    ("grid", "message"),
    [("0.1,0.5", "must contain 1"), ("1,0.1", "distinct and increasing"), ("0,1", "(0, 1]")],
)
def test_bad_clean_grid_is_refused(grid, message):
    with pytest.raises(ParameterError, match="clean_ps"):
        get_spec("regimes").resolve("quick", clean_ps=grid)
    with pytest.raises(ParameterError, match=re.escape(message)):
        get_spec("regimes").resolve("quick", clean_ps=grid)


def test_clean_sweep_matches_the_grid_sweep_config():
    cfg = get_spec("regimes").resolve("quick")
    sweep = regimes.clean_sweep(cfg)
    assert [i.p for i in sweep.instances[:: cfg.seeds]] == regimes.clean_ps(cfg)
    same = experiments.grid_sweep(cfg, [dict(p=p) for p in regimes.clean_ps(cfg)], cfg.seeds, False)
    assert sweep.config() == same.config()


# --------------------------------------------------------------------------- the chapter


def test_chapter_runs_under_smoke(tmp_path, cli):
    out = tmp_path / "regimes.ipynb"
    proc = cli("run", "regimes", "--profile", "smoke", "--output", str(out), timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    claims = json.loads(out.with_suffix(".claims.json").read_text())
    ids = {c["id"] for c in claims["claims"]}
    wanted = {
        "regimes.two_solution_types",
        "regimes.one_hot_like_sparse",
        "regimes.dense_half_features",
        "regimes.sparse_share",
        "regimes.offset_optimum_p0_1",
        "regimes.offset_optimum_p1",
        "regimes.offset_matches_trained",
        "regimes.offset_matches_all_p",
        "regimes.one_hot_response_sparse",
        "regimes.one_hot_response_dense",
        "regimes.curves_cross",
        "regimes.robust_70",
    }
    assert wanted <= ids
