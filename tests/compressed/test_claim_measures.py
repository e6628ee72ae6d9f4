"""Small measures behind the claims of issue 16 (re-crossing sigma, the offset excess over
the dense grid, the null fit of the mechanism chapter, crossover exponents, least share)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from cclib.compressed import mechanism as mech
from cclib.compressed.analysis import recrossing
from cclib.universal_and import variance_analysis as va
from cclib.universal_and.sweep import least_share


def test_recrossing_interpolates_after_the_minimum():
    sigmas = np.arange(5.0)
    curve = np.array([1.1, 0.5, 0.2, 0.5, 1.2])
    # the crossing before the minimum does not count; after it: 3 + 0.5 / 0.7
    assert recrossing(sigmas, curve, 1.0) == pytest.approx(3 + 0.5 / 0.7)
    assert recrossing(sigmas, np.array([1.1, 0.5, 0.2, 0.5, 0.9]), 1.0) == 4.0


def test_null_fit_uses_an_independent_matrix():
    torch.manual_seed(0)
    n, d, seeds = 12, 6, 3
    m = 0.1 * torch.randn(seeds, n, n, dtype=torch.float64)
    # models that copy their own M exactly: A = I + M (rank n, written as W_out W_in)
    w_in = (torch.eye(n, dtype=torch.float64) + m)[:, :d, :]
    w_out = torch.eye(n, dtype=torch.float64)[None, :, :d].repeat(seeds, 1, 1)
    result = mech.analyse(w_in, w_out, m)
    measures = mech.measure(result, w_in, w_out)
    condition = mech.Condition("own", w_in, w_out, m, result, measures)
    null = mech.null_fit(condition)
    own = result.fit.offdiag_slope
    assert torch.all(own > 0.2) and torch.all(null.offdiag_slope.abs() < own)
    shared = mech.Condition("shared", w_in, w_out, m[:1].repeat(seeds, 1, 1), result, measures)
    with pytest.raises(ValueError, match="share one M"):
        mech.null_fit(shared)
    assert mech.null_fit(shared, condition).offdiag_slope.shape == (seeds,)


def test_crossover_exponents_near_the_papers_scale():
    in_d, in_m = va.crossover_exponents(30, 30000, 800, (1.0, -2.0, 1.0))
    assert 0.3 < in_d < 0.6 and -2.5 < in_m < -1.0
    # m = 12, d = 10: the CiS probability reaches 1 or the crossover sits at s = 2
    assert all(np.isnan(va.crossover_exponents(12, 10, 100, (1.0, -2.0, 1.0))))


def test_least_share_is_the_weakest_of_score_and_signs():
    summary = SimpleNamespace(
        u_positive=np.array([[1.0, 0.95]]),
        w_negative=np.array([[0.92, 1.0]]),
        b_positive=np.array([[0.97, 0.99]]),
    )
    assert least_share(summary, 0.96) == pytest.approx(0.92)
    assert least_share(summary, 0.5) == pytest.approx(0.5)
