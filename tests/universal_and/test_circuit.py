"""The binary weighted circuit fit (paper 004 section 5.1, appendix B)."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from cclib.universal_and.circuit import binary_similarity, fit_binary


def _binary_matrix(k: int, d: int, m: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    u = 0.1 + 0.1 * torch.rand(k, d, generator=g)
    w = -0.5 - 0.2 * torch.rand(k, d, generator=g)
    is_u = torch.rand(k, d, m, generator=g) < 0.5
    is_u[..., 0], is_u[..., 1] = True, False  # both values present in every neuron
    return torch.where(is_u, u[..., None], w[..., None]), u, w, is_u


def _approx(value: float):
    return pytest.approx(value, rel=1e-9, abs=1e-12)


def test_exactly_binary_weights_are_recovered():
    weights, u, w, is_u = _binary_matrix(3, 7, 20)
    b = torch.randn(3, 7)
    fit = fit_binary(weights, b)
    torch.testing.assert_close(fit.u, u)
    torch.testing.assert_close(fit.w, w)
    assert torch.equal(fit.is_u, is_u)
    assert torch.equal(fit.b, b)
    assert float(fit.spread90.abs().max()) < 1e-6
    torch.testing.assert_close(fit.u_fraction, is_u.float().mean(-1))
    torch.testing.assert_close(binary_similarity(weights), torch.ones(3))


def test_fit_is_the_best_of_all_two_group_splits():
    """Brute force over every assignment of 7 weights to two groups: the contiguous split
    of the sorted weights that the fit uses is optimal."""
    g = torch.Generator().manual_seed(1)
    weights = torch.randn(1, 5, 7, generator=g, dtype=torch.float64)
    fit = fit_binary(weights, torch.zeros(1, 5, dtype=torch.float64))
    for neuron in range(5):
        row = weights[0, neuron]
        best = math.inf
        for mask in itertools.product([False, True], repeat=7):
            mask = torch.tensor(mask)
            if mask.all() or not mask.any():
                continue
            sse = (row[mask] - row[mask].mean()).square().sum() + (
                row[~mask] - row[~mask].mean()
            ).square().sum()
            best = min(best, float(sse))
        nearer = torch.where(fit.is_u[0, neuron], fit.u[0, neuron], fit.w[0, neuron])
        assert float((row - nearer).square().sum()) == _approx(best)
        total = float((row - row.mean()).square().sum())
        assert float(fit.explained[0, neuron]) == _approx(1 - best / total)


def test_similarity_of_iid_weights_matches_its_limit():
    """Uniform weights: the best split is at the median, explaining 3/4 of the variance;
    Gaussian weights: 2/pi (the half-normal means are +-sqrt(2/pi))."""
    g = torch.Generator().manual_seed(2)
    uniform = torch.rand(2, 50, 2000, generator=g, dtype=torch.float64)
    gaussian = torch.randn(2, 50, 2000, generator=g, dtype=torch.float64)
    assert torch.allclose(
        binary_similarity(uniform), torch.tensor(0.75, dtype=torch.float64), atol=0.01
    )
    assert torch.allclose(
        binary_similarity(gaussian), torch.tensor(2 / math.pi, dtype=torch.float64), atol=0.01
    )


def test_spread90_is_the_90th_percentile_of_the_distance_to_the_nearer_value():
    weights, _, _, _ = _binary_matrix(2, 4, 200, seed=3)
    noise = 0.01 * torch.randn(weights.shape, generator=torch.Generator().manual_seed(4))
    fit = fit_binary(weights + noise, torch.zeros(2, 4))
    nearer = torch.where(fit.is_u, fit.u[..., None], fit.w[..., None])
    expected = torch.quantile((weights + noise - nearer).abs(), 0.9, dim=-1)
    torch.testing.assert_close(fit.spread90, expected)
    assert float(fit.spread90.max()) < 0.03
    assert float(binary_similarity(weights + noise).min()) > 0.99
    torch.testing.assert_close(fit.distance, (weights + noise - nearer).abs())
    gap = (fit.u - fit.w)[..., None]
    expected_share = (fit.distance <= 0.1 * gap).float().mean(-1)
    torch.testing.assert_close(fit.close_share(0.1), expected_share)
    assert float(fit.close_share(0.1).min()) > 0.9  # noise 0.01 against a gap above 0.6
