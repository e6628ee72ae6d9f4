"""Semi-NMF baseline (cclib.compressed.snmf): algorithms on planted factorisations, monotone
objectives, the orientation of the hand-coded model, its exact sparse-limit loss, the
reuse of the mixing chapter's sweeps, and a smoke run of the chapter."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cclib.book import runner
from cclib.book.specs import get_spec, profile_value
from cclib.compressed import experiments, mechanism, snmf
from cclib.compressed.models import MLP
from cclib.compressed.tasks import ReluMixingTask

PROFILES = ("smoke", "quick", "paper")


def planted(k: int = 2, n: int = 30, m: int = 40, rank: int = 5, seed: int = 0):
    """``X = F G^T`` with ``F`` Gaussian and ``G >= 0`` sparse (a known factorisation)."""
    gen = torch.Generator().manual_seed(seed)
    f = torch.randn(k, n, rank, generator=gen, dtype=torch.float64)
    g = torch.rand(k, m, rank, generator=gen, dtype=torch.float64)
    g = g * (torch.rand(k, m, rank, generator=gen, dtype=torch.float64) < 0.5)
    return f @ g.transpose(1, 2), f, g


@pytest.mark.parametrize("method", snmf.METHODS)
def test_recovers_planted_factorisation(method):
    x, _, g_true = planted()
    result = snmf.semi_nmf(x, 5, method, "random", iterations=1500, seed=1)
    relative = result.objective.sqrt() / x.square().sum(dim=(1, 2)).sqrt()
    assert (relative < 2e-2).all(), relative
    assert (result.g >= 0).all()
    # the non-negative factor spans the planted one: each planted column is (nearly) a
    # non-negative combination of the recovered columns
    projection = result.g @ torch.linalg.lstsq(result.g, g_true).solution
    assert ((projection - g_true).norm(dim=(1, 2)) / g_true.norm(dim=(1, 2)) < 0.05).all()


def test_als_reaches_exact_zero_on_planted():
    x, _, _ = planted(seed=3)
    result = snmf.semi_nmf(x, 5, "als", "svd", iterations=3000)
    assert (result.objective / x.square().sum(dim=(1, 2)) < 1e-6).all()


@pytest.mark.parametrize("method", snmf.METHODS)
@pytest.mark.parametrize("init", snmf.INITS)
def test_objective_never_increases(method, init):
    gen = torch.Generator().manual_seed(5)
    x = torch.eye(20, dtype=torch.float64) + 0.1 * torch.randn(3, 20, 20, generator=gen)
    history = snmf.semi_nmf(x, 8, method, init, iterations=60).history
    steps = history.diff(dim=0)
    assert (steps <= 1e-10 * history[0]).all(), steps.max()
    assert (history[-1] < history[0]).all()


def test_multiplicative_update_is_the_published_rule():
    """Ding, Li and Jordan (2010), eq. (12), written out entry by entry."""
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(1, 6, 7, generator=gen, dtype=torch.float64)
    g = torch.rand(1, 7, 3, generator=gen, dtype=torch.float64)
    f = snmf.solve_f(x, g)
    a, b = (x.transpose(1, 2) @ f)[0], (f.transpose(1, 2) @ f)[0]
    pos, neg = (a.abs() + a) / 2, (a.abs() - a) / 2
    bpos, bneg = (b.abs() + b) / 2, (b.abs() - b) / 2
    expected = torch.empty(7, 3, dtype=torch.float64)
    for i in range(7):
        for k in range(3):
            num = pos[i, k] + sum(g[0, i, j] * bneg[j, k] for j in range(3))
            den = neg[i, k] + sum(g[0, i, j] * bpos[j, k] for j in range(3))
            expected[i, k] = g[0, i, k] * torch.sqrt(num / den)
    assert torch.allclose(snmf.multiplicative_step(x, f, g)[0], expected)


def test_solve_f_is_least_squares():
    x, _, _ = planted(k=1, seed=4)
    g = torch.rand(1, 40, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    f = snmf.solve_f(x, g)
    ls = torch.linalg.lstsq(g[0], x[0].T).solution.T
    assert torch.allclose(f[0], ls, atol=1e-8)


def test_initial_factors_are_nonnegative_and_shaped():
    x = torch.eye(12, dtype=torch.float64).expand(2, 12, 12) + 0.05
    for init in snmf.INITS:
        g = snmf.initial_factor(x, 4, init)
        assert g.shape == (2, 12, 4) and (g >= 0).all() and g.abs().sum() > 0
    with pytest.raises(ValueError, match="unknown init"):
        snmf.initial_factor(x, 4, "kmeans")


def test_nmf_fits_nonnegative_matrix():
    gen = torch.Generator().manual_seed(0)
    w, h = torch.rand(1, 15, 3, generator=gen), torch.rand(1, 12, 3, generator=gen)
    x = (w @ h.transpose(1, 2)).double()
    w_fit, h_fit = snmf.nmf(x, 3, 500, gen)
    assert (w_fit >= 0).all() and (h_fit >= 0).all()
    assert ((x - w_fit @ h_fit.transpose(1, 2)).norm() / x.norm()) < 1e-2


def random_mixing(n: int = 8, sigma: float = 0.2, k: int = 2, seed: int = 0) -> torch.Tensor:
    return sigma * torch.randn(k, n, n, generator=torch.Generator().manual_seed(seed))


def test_orientation_one_hot_reproduces_identity_plus_m():
    """At full rank the factorisation is exact: the right orientation answers e_j with
    column j of I + M, the transposed one with row j."""
    m = random_mixing()
    model, _ = snmf.fit_mlp(m, 8, "als", "nmf", iterations=50)
    wrong, _ = snmf.fit_mlp(m, 8, "als", "nmf", iterations=50, transpose=True)
    target = snmf.target(m)
    assert (model.w_in >= 0).all()
    assert torch.allclose(snmf.one_hot_response(model), target, atol=1e-4)
    assert torch.allclose(snmf.one_hot_response(wrong), target.transpose(1, 2), atol=1e-4)
    gap = (snmf.one_hot_response(wrong) - target).abs().max()
    assert gap > 0.1


def test_wrong_orientation_costs_the_antisymmetric_part():
    """Sparse limit of the transposed model: ||M^T - M||^2 / 6n more than the exact one."""
    m = random_mixing()
    right, _ = snmf.fit_mlp(m, 8, "als", "nmf", iterations=50)
    wrong, _ = snmf.fit_mlp(m, 8, "als", "nmf", iterations=50, transpose=True)
    extra = (m - m.transpose(1, 2)).double().square().sum(dim=(1, 2)) / (6 * 8)
    cost = snmf.sparse_limit_loss(wrong, m) - snmf.sparse_limit_loss(right, m)
    assert torch.allclose(cost, extra, rtol=1e-3)


def test_sparse_limit_formula_for_nonnegative_reads():
    """(1/6n)(||I + M - W_out W_in||^2 + ||M||^2) when W_in >= 0."""
    m = random_mixing(n=10, sigma=0.1)
    model, factors = snmf.fit_mlp(m, 4, "multiplicative", "nmf", iterations=30)
    formula = (factors.objective + m.double().square().sum(dim=(1, 2))) / 60
    assert torch.allclose(snmf.sparse_limit_loss(model, m), formula, rtol=1e-5)


def test_identity_gives_the_naive_loss():
    """M = 0: the best rank-d semi-NMF of I keeps d features, loss 1/12 at d = n/2."""
    m = torch.zeros(1, 20, 20)
    model, _ = snmf.fit_mlp(m, 10, "als", "nmf", iterations=200)
    assert snmf.sparse_limit_loss(model, m).item() == pytest.approx(1 / 12, rel=1e-4)


@pytest.mark.parametrize("nonnegative", [True, False])
def test_sparse_limit_matches_the_k1_stratum(nonnegative):
    """The exact sparse limit (any signs) against n x the k = 1 Monte Carlo stratum."""
    n, d, k = 12, 5, 2
    m = random_mixing(n=n, sigma=0.1, k=k)
    gen = torch.Generator().manual_seed(1)
    w_in = torch.randn(k, d, n, generator=gen)
    w_in = w_in.abs() if nonnegative else w_in
    model = MLP(w_in, torch.randn(k, n, d, generator=gen) / 3)
    task = ReluMixingTask(m, 0.01, 1.0)
    estimate = snmf.stratum_one(model, task, 200_000)
    exact = snmf.sparse_limit_loss(model, m)
    z = (estimate.mean - exact) / estimate.stderr
    assert (z.abs() < 4).all(), z


def test_balancing_keeps_the_function():
    gen = torch.Generator().manual_seed(0)
    w_in, w_out = torch.rand(2, 5, 9, generator=gen), torch.randn(2, 9, 5, generator=gen)
    balanced = snmf.balanced_mlp(w_in * 7.0, w_out / 7.0)
    x = torch.randn(2, 30, 9, generator=gen)
    assert torch.allclose(balanced(x), MLP(w_in, w_out)(x), atol=1e-5)
    assert torch.allclose(balanced.w_in.norm(dim=2), balanced.w_out.norm(dim=1), rtol=1e-5)


def test_crossing():
    x = np.array([0.0, 1, 2, 3, 4])
    assert snmf.crossing(x, [1.0, 0.5, 0.2, 0.6, 1.4], 1.0) == pytest.approx(3.5)
    assert snmf.crossing(x, [1.0, 0.5, 0.2, 0.3, 0.4], 1.0) == 4.0
    assert np.isnan(snmf.crossing(x, [1.0, 1.1, 1.2, 1.3, 1.4], 1.0))
    values = np.array([[1.0, 0.5, 0.2, 0.6, 1.4], [1.0, 0.5, 0.2, 0.3, 0.4]]).T
    assert snmf.crossings(x, values, 1.0) == pytest.approx([3.5, 4.0])


# --------------------------------------------------------------------------- cache reuse
def mixing_chapter_sigma_sweep(cfg):
    """The sigma sweep exactly as book/mixing.py builds it."""
    sigmas = np.linspace(0, cfg.sigma_max, cfg.sigma_points)
    return experiments.grid_sweep(
        cfg,
        [
            dict(p=cfg.p, mixing=k, sigma=float(s))
            for k in ["symmetric", "gaussian"]
            for s in sigmas
        ],
        cfg.sigma_seeds,
        cfg.vary_matrix,
    )


def mixing_chapter_conditions_sweep(cfg):
    """The conditions sweep exactly as book/mixing.py builds it."""
    conditions = {
        "clean": dict(mixing="clean"),
        "embedding": dict(mixing="embedding"),
        "gaussian": dict(mixing="gaussian", sigma=cfg.sigma),
        "gaussian, learned σ": dict(mixing="gaussian", sigma=cfg.sigma, learn_sigma=True),
        "symmetric": dict(mixing="symmetric", sigma=cfg.sigma),
        "symmetric, learned σ": dict(mixing="symmetric", sigma=cfg.sigma, learn_sigma=True),
    }
    return experiments.grid_sweep(
        cfg, [dict(p=cfg.p, **c) for c in conditions.values()], cfg.seeds, cfg.vary_matrix
    )


@pytest.mark.parametrize("profile", PROFILES)
def test_sigma_sweep_is_the_mixing_chapters(profile):
    ours = get_spec("semi_nmf").resolve(profile)
    theirs = get_spec("mixing").resolve(profile)
    assert snmf.sigma_sweep(ours).config() == mixing_chapter_sigma_sweep(theirs).config()


@pytest.mark.parametrize("profile", PROFILES)
def test_fixed_sigma_models_come_from_the_mixing_chapter(profile):
    cfg = get_spec("semi_nmf").resolve(profile)
    theirs = get_spec("mixing").resolve(profile)
    sweep, rows, source = snmf.fixed_sigma_sweep(cfg, theirs.sigma)
    step = cfg.sigma_max / (cfg.sigma_points - 1)
    on_grid = abs(cfg.sigma / step - round(cfg.sigma / step)) < 1e-9
    assert snmf.on_grid(cfg) == on_grid
    expected = mixing_chapter_sigma_sweep if on_grid else mixing_chapter_conditions_sweep
    assert sweep.config() == expected(theirs).config()
    assert source == ("sigma sweep" if on_grid else "conditions sweep")
    picked = [sweep.instances[i] for i in rows]
    assert len(picked) == (cfg.sigma_seeds if on_grid else cfg.seeds)
    for instance in picked:
        assert instance.mixing == cfg.mixing and not instance.learn_sigma
        assert instance.sigma == pytest.approx(cfg.sigma)
    assert len({i.mixing_seed for i in picked}) == len(picked)  # several M draws


def test_sigma_rows_pick_kind_and_sigma():
    cfg = get_spec("semi_nmf").resolve("quick")
    sweep = snmf.sigma_sweep(cfg)
    rows = snmf.sigma_rows(cfg, "gaussian")
    assert rows.shape == (cfg.sigma_points, cfg.sigma_seeds)
    for g, sigma in enumerate(snmf.sigma_grid(cfg)):
        for i in rows[g]:
            assert sweep.instances[i].mixing == "gaussian"
            assert sweep.instances[i].sigma == pytest.approx(sigma)


def test_conditions_rows_match_mechanism():
    cfg = get_spec("semi_nmf").resolve("quick")
    _, rows, _ = snmf.fixed_sigma_sweep(cfg, profile_value("mixing", "sigma", "quick"))
    sl = mechanism.condition_rows(cfg.mixing, cfg.seeds, cfg.sigma)
    assert list(rows) == list(range(sl.start, sl.stop))


# --------------------------------------------------------------------------- chapter
def test_chapter_runs_under_smoke(cli, tmp_path):
    out = tmp_path / "semi_nmf.ipynb"
    proc = cli("run", "semi_nmf", "--profile", "smoke", "--output", str(out), timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    recorded = json.loads(runner.claims_path_for(out).read_text())
    ids = {c["id"] for c in recorded["claims"]}
    for claim_id in (
        "snmf.beats_naive",
        "snmf.loss_sigma_0_02",
        "snmf.loss_sigma_0_02_p0_01",
        "snmf.gap_to_trained",
        "snmf.denser_than_trained",
    ):
        assert claim_id in ids


@pytest.mark.parametrize("profile", PROFILES)
def test_long_sweep_uses_the_same_matrices(profile):
    default = get_spec("semi_nmf").resolve(profile).long_steps
    cfg = get_spec("semi_nmf").resolve(profile, long_steps=default or 100)  # paper: 0, unused
    sweep, rows, _ = snmf.fixed_sigma_sweep(cfg, profile_value("mixing", "sigma", profile))
    long = snmf.long_sweep(cfg, len(rows))
    assert long.train.batch_size == snmf.PAPER_BATCH
    assert long.train.steps == cfg.long_steps
    picked = [sweep.instances[i] for i in rows]
    assert [(i.mixing, i.sigma, i.mixing_seed) for i in long.instances] == [
        (i.mixing, i.sigma, i.mixing_seed) for i in picked
    ]


def test_longer_training_without_steps_measures_the_given_models():
    cfg = get_spec("semi_nmf").resolve("smoke", long_steps=0)
    m = random_mixing(n=100, sigma=0.02, k=2)
    task = ReluMixingTask(m, 0.01, 1.0)
    trained = MLP.init([0, 1], 100, 50)
    hand, _ = snmf.fit_mlp(m, 50, "als", "nmf", iterations=5)
    result = snmf.longer_training(cfg, trained, hand, task, 64, None, 123, 45)
    assert (result.steps, result.batch) == (123, 45)
    expected = mechanism.weight_sparsity(trained.w_in.detach()).numpy()
    assert np.allclose(result.sparsity_in, expected)
    assert np.allclose(result.sparsity, np.minimum(result.sparsity_in, result.sparsity_out))
