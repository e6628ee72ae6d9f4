"""Tests of the loss-per-feature estimators (cclib.compressed.evaluation): the binomial weights, the
stratified estimator against plain Monte Carlo (5 combined standard errors), and the
naive model's known loss of 1/12."""

from __future__ import annotations

import math

import pytest
import torch

from cclib.compressed.baselines import naive_mlp
from cclib.compressed.evaluation import (
    Estimate,
    binomial_pmf,
    loss_per_feature,
    monte_carlo_loss_per_feature,
    relevant_counts,
    strata_losses,
)
from cclib.compressed.mixing import gaussian
from cclib.compressed.models import MLP
from cclib.compressed.tasks import ReluMixingTask
from cclib.engine.seeding import Stream, make_generator

Z = 5.0


def test_binomial_pmf_sums_to_one_and_matches_comb():
    ps = torch.tensor([0.0, 1e-4, 0.01, 0.3, 0.5, 0.999, 1.0], dtype=torch.float64)
    pmf = binomial_pmf(100, ps)
    assert pmf.shape == (7, 101) and pmf.dtype == torch.float64
    torch.testing.assert_close(
        pmf.sum(dim=1), torch.ones(7, dtype=torch.float64), rtol=0, atol=1e-12
    )
    assert bool((pmf >= 0).all())
    n = 30
    for p in (0.01, 0.3, 0.77):
        exact = torch.tensor(
            [math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)], dtype=torch.float64
        )
        torch.testing.assert_close(
            binomial_pmf(n, torch.tensor([p], dtype=torch.float64))[0],
            exact,
            rtol=1e-10,
            atol=1e-300,
        )


def test_binomial_pmf_edges():
    one = binomial_pmf(10, torch.tensor([1.0]))[0]
    assert torch.equal(one, torch.eye(11, dtype=torch.float64)[10])
    zero = binomial_pmf(10, torch.tensor([0.0]))[0]
    torch.testing.assert_close(zero, torch.eye(11, dtype=torch.float64)[0], rtol=0, atol=1e-250)
    assert binomial_pmf(5, 0.5).shape == (1, 6)  # a plain float works too


@pytest.mark.parametrize("n", [10, 100, 1000])
def test_relevant_counts_cover_the_mass(n):
    ps = [0.001, 0.01, 0.1, 0.5, 1.0]
    counts = relevant_counts(n, ps)
    assert counts == sorted(set(counts))
    covered = binomial_pmf(n, torch.tensor(ps, dtype=torch.float64))[:, counts].sum(dim=1)
    assert bool((covered >= 1 - 1e-9).all()), covered
    assert len(counts) < n + 1 or n == 10  # it prunes something for large n
    assert relevant_counts(n, [1.0]) == [n]


def random_setup(instances: int = 2, n: int = 40, d: int = 20, sigma: float = 0.1):
    model = MLP.init(list(range(10, 10 + instances)), n, d)
    mixing = torch.stack(
        [gaussian(n, 1.0, make_generator(s, Stream.MIXING)) for s in range(instances)]
    )
    task = ReluMixingTask(mixing, 0.1, sigma)
    return model, task


@pytest.mark.parametrize(
    "p,strata_samples,mc_samples", [(0.01, 4000, 400_000), (0.3, 2000, 40_000)]
)
def test_stratified_agrees_with_monte_carlo(p, strata_samples, mc_samples):
    model, task = random_setup()
    strat = loss_per_feature(model, task, p, samples=strata_samples, seed=1, device="cpu")
    mc = monte_carlo_loss_per_feature(model, task, p, samples=mc_samples, seed=2, device="cpu")
    assert strat.mean.shape == mc.mean.shape == (2,)
    # the comparison is informative: both standard errors are small relative to the value
    assert bool((strat.stderr < 0.02 * strat.mean).all()) and bool(
        (mc.stderr < 0.05 * mc.mean).all()
    )
    combined = torch.sqrt(strat.stderr**2 + mc.stderr**2)
    assert bool(((strat.mean - mc.mean).abs() < Z * combined).all()), (strat, mc)


def test_stratified_stderr_is_calibrated():
    """Independent replicates of the stratified estimate scatter as their standard error says."""
    model, task = random_setup(instances=1, n=20, d=10)
    counts = relevant_counts(20, [0.1])
    reps = [
        strata_losses(model, task, counts, samples=200, seed=s, device="cpu").loss_per_feature(0.1)
        for s in range(40)
    ]
    means = torch.stack([r.mean[0] for r in reps])
    reported = torch.stack([r.stderr[0] for r in reps]).mean()
    ratio = float(means.std() / reported)
    # the sample std of 40 replicates has relative standard error ~ 1/sqrt(78) ~ 0.11
    assert 1 - Z * 0.12 < ratio < 1 + Z * 0.12, ratio


def test_grid_of_p_shapes_and_consistency():
    model, task = random_setup()
    grid = [0.01, 0.1, 0.5]
    est = loss_per_feature(model, task, grid, samples=500, seed=3, device="cpu")
    assert isinstance(est, Estimate) and est.mean.shape == est.stderr.shape == (2, 3)
    assert est[0].mean.shape == (3,)
    strata = strata_losses(
        model, task, relevant_counts(40, grid), samples=500, seed=3, device="cpu"
    )
    single = strata.loss_per_feature(0.1)
    torch.testing.assert_close(single.mean, est.mean[:, 1], rtol=1e-12, atol=0)
    assert strata.mean.shape == (2, len(strata.counts)) and strata.mean.dtype == torch.float64
    assert strata.counts[0] == 0 or 0 not in strata.counts


def test_strata_losses_reproducible_and_zero_at_zero_actives():
    model, task = random_setup()
    a = strata_losses(model, task, [0, 1, 5], samples=300, seed=4, device="cpu")
    b = strata_losses(model, task, [0, 1, 5], samples=300, seed=4, device="cpu")
    assert torch.equal(a.mean, b.mean) and torch.equal(a.var, b.var)
    assert bool((a.mean[:, 0] == 0).all()) and bool(
        (a.var[:, 0] == 0).all()
    )  # bias-free MLP on x = 0


@pytest.mark.parametrize("p", [0.001, 0.01, 0.1, 0.5, 1.0])
def test_naive_model_on_clean_labels_is_one_twelfth(p):
    n, d = 40, 20
    model = naive_mlp(n, d)
    task = ReluMixingTask(torch.zeros(1, n, n), p)
    est = loss_per_feature(model, task, p, samples=3000, seed=5, device="cpu")
    assert abs(float(est.mean[0]) - 1 / 12) < Z * float(est.stderr[0]), est
    assert float(est.stderr[0]) < 0.01  # informative
    mc = monte_carlo_loss_per_feature(model, task, p, samples=20_000, seed=6, device="cpu")
    assert abs(float(mc.mean[0]) - 1 / 12) < Z * float(mc.stderr[0]), mc
