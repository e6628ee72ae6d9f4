"""Tests of the mixing matrices (cclib.compressed.mixing): entry statistics (5 standard errors),
structure (symmetry, zero diagonal, unit-norm embeddings) and spectra."""

from __future__ import annotations

import math

import pytest
import torch

from cclib.compressed import mixing
from cclib.compressed.mixing import (
    MIXING_KINDS,
    clean,
    describe,
    embedding_induced,
    gaussian,
    mixing_matrix,
    random_embedding,
)
from cclib.engine.seeding import Stream, make_generator

Z = 5.0


def gen(seed: int = 0) -> torch.Generator:
    return make_generator(seed, Stream.MIXING)


def std_tolerance(sigma: float, count: int) -> float:
    """5 standard errors of a sample standard deviation of ``count`` Gaussian values."""
    return Z * sigma / math.sqrt(2 * count)


def test_clean_is_zero():
    m = clean(7)
    assert m.shape == (7, 7) and not m.any()
    assert torch.equal(mixing_matrix("clean", 7, gen(), sigma=0.3), torch.zeros(7, 7))


def test_gaussian_statistics():
    n, sigma = 200, 0.05
    m = gaussian(n, sigma, gen(1)).double()
    assert m.shape == (n, n) and m.device.type == "cpu"
    assert abs(float(m.std()) - sigma) < std_tolerance(sigma, n * n)
    assert abs(float(m.mean())) < Z * sigma / n
    diag = torch.diagonal(m)
    assert bool((diag != 0).all())  # the diagonal is random too
    assert abs(float(diag.std()) - sigma) < std_tolerance(sigma, n)
    assert not torch.allclose(m, m.T)
    # entries are independent: the correlation between M_ij and M_ji is ~ 0
    off = ~torch.eye(n, dtype=torch.bool)
    corr = torch.corrcoef(torch.stack([m[off], m.T[off]]))[0, 1]
    assert abs(float(corr)) < Z / math.sqrt(n * (n - 1) / 2)


@pytest.mark.parametrize("kind", ["gaussian", "symmetric"])
def test_gaussian_scales_one_matrix(kind):
    a = mixing_matrix(kind, 50, gen(3), sigma=0.02)
    b = mixing_matrix(kind, 50, gen(3), sigma=0.5)
    torch.testing.assert_close(b, a * (0.5 / 0.02), rtol=1e-5, atol=1e-7)
    assert not torch.equal(a, mixing_matrix(kind, 50, gen(4), sigma=0.02))
    assert not mixing_matrix(kind, 50, gen(3), sigma=0.0).any()


def test_gaussian_rejects_negative_sigma():
    with pytest.raises(ValueError):
        gaussian(5, -0.1, gen())


def test_symmetric_statistics():
    n, sigma = 200, 0.1
    m = mixing_matrix("symmetric", n, gen(5), sigma=sigma).double()
    assert torch.equal(m, m.T)
    upper = m[torch.triu(torch.ones(n, n, dtype=torch.bool))]  # independent entries
    assert abs(float(upper.std()) - sigma) < std_tolerance(sigma, upper.numel())
    diag = torch.diagonal(m)
    assert abs(float(diag.std()) - sigma) < std_tolerance(sigma, n)
    assert describe(m).symmetric


def test_embedding_structure_and_statistics():
    n, width = 100, 1000
    w_e = random_embedding(n, width, gen(6))
    assert w_e.shape == (width, n)
    torch.testing.assert_close(w_e.norm(dim=0), torch.ones(n), rtol=0, atol=1e-6)
    m = embedding_induced(w_e.double())
    assert torch.allclose(m, m.T, atol=1e-12)
    assert float(torch.diagonal(m).abs().max()) < 2e-6  # float32 normalisation of W_E
    pairs = m[torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)]
    sigma = 1 / math.sqrt(width)  # inner product of two random unit vectors in R^width
    assert abs(float(pairs.std()) - sigma) < std_tolerance(sigma, pairs.numel())
    assert abs(float(pairs.mean())) < Z * sigma / math.sqrt(pairs.numel())
    # mixing_matrix draws the same embedding from the same generator state
    torch.testing.assert_close(
        mixing_matrix("embedding", n, gen(6), width=width), m.float(), rtol=0, atol=1e-6
    )


def test_unknown_kind_names_allowed_kinds():
    with pytest.raises(ValueError) as info:
        mixing_matrix("gausian", 5, gen())
    message = str(info.value)
    assert "gausian" in message
    for kind in MIXING_KINDS:
        assert kind in message


def test_describe_clean_and_gaussian():
    stats = describe(clean(10))
    assert stats.offdiag_std == 0 and stats.diag_mean == 0 and stats.diag_std == 0
    assert stats.eig_min == stats.eig_max == 0 and stats.n_positive == 0 and stats.symmetric
    n, sigma = 200, 0.05
    stats = describe(gaussian(n, sigma, gen(7)))
    assert not stats.symmetric
    assert abs(stats.offdiag_std - sigma) < std_tolerance(sigma, n * (n - 1))
    assert abs(stats.diag_mean) < Z * sigma / math.sqrt(n)
    assert abs(stats.diag_std - sigma) < std_tolerance(sigma, n)
    # symmetric part (M + M^T)/2 has entry std sigma/sqrt(2): semicircle radius 2 sigma sqrt(n/2)
    radius = 2 * sigma * math.sqrt(n / 2)
    assert -1.1 * radius < stats.eig_min < -0.8 * radius
    assert 0.8 * radius < stats.eig_max < 1.1 * radius
    assert 0.35 * n < stats.n_positive < 0.65 * n


@pytest.mark.parametrize("n,width", [(100, 1000), (200, 400)])
def test_describe_embedding_within_marchenko_pastur(n, width):
    m = mixing_matrix("embedding", n, gen(8), width=width)
    stats = describe(m)
    ratio = math.sqrt(n / width)
    low, high = 1 - (1 + ratio) ** 2, 1 - (1 - ratio) ** 2
    slack = 0.05
    assert low - slack < stats.eig_min < low + 0.2 * (high - low)
    assert high - 0.2 * (high - low) < stats.eig_max < high + slack
    assert stats.symmetric
    assert abs(stats.diag_mean) < 1e-6 and stats.diag_std < 1e-6
    assert abs(stats.offdiag_std - 1 / math.sqrt(width)) < 0.05 / math.sqrt(width)
    # eigenvalues of M = I - G are 1 - eig(G); eig(G) > 0 sums to n, so eig(M) sums to 0
    assert 0 < stats.n_positive < n


def test_default_width():
    assert mixing.DEFAULT_WIDTH == 1000
