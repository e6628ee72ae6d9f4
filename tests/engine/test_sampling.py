"""Statistical tests of the input samplers (cclib.engine.sampling).

Every statistical check uses a fixed seed and a tolerance of 5 standard errors derived
from the distribution under test, so a correct sampler fails with probability < 1e-6.
"""

from __future__ import annotations

import math
import time

import pytest
import torch

from cclib.engine.sampling import (
    SPARSE_PATH_MAX_P,
    exactly_k_uniform,
    exactly_s_boolean,
    random_subsets,
    sparse_uniform,
)

Z = 5.0  # tolerance in standard errors


def gen(seed: int = 0, device: str = "cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


def chi2_bound(dof: int) -> float:
    """Upper 5-sigma bound of a chi-square statistic with ``dof`` degrees of freedom."""
    return dof + Z * math.sqrt(2 * dof)


def check_uniform_pm1(values: torch.Tensor) -> None:
    """Active values are U[-1, 1]: range, mean, second moment and a 10-bin histogram."""
    v = values.double()
    a = v.numel()
    assert a > 1000
    assert v.min() >= -1.0 and v.max() <= 1.0
    assert v.min() < -0.99 and v.max() > 0.99
    assert abs(float(v.mean())) < Z * math.sqrt(1 / 3 / a)
    # E[x^2] = 1/3, Var[x^2] = E[x^4] - 1/9 = 1/5 - 1/9 = 4/45
    assert abs(float(v.square().mean()) - 1 / 3) < Z * math.sqrt(4 / 45 / a)
    bins = torch.histc(v, bins=10, min=-1.0, max=1.0)
    expected = a / 10
    stat = float(((bins - expected) ** 2 / expected).sum())
    assert stat < chi2_bound(9)


# --------------------------------------------------------------------------- sparse_uniform

# (p, batch): p = 0.001 and 0.01 take the geometric-gap path, 0.2 and 1.0 the dense one.
CASES = [(0.001, 100_000), (0.01, 40_000), (0.2, 10_000), (1.0, 4_000)]


def test_both_code_paths_are_covered():
    ps = [p for p, _ in CASES]
    assert any(p < SPARSE_PATH_MAX_P for p in ps) and any(p >= SPARSE_PATH_MAX_P for p in ps)


@pytest.mark.parametrize("p,batch", CASES)
def test_sparse_uniform_statistics(p, batch):
    n = 100
    x = sparse_uniform(batch, n, p, gen(1))
    assert x.shape == (batch, n) and x.dtype == torch.float32
    active = x != 0
    total = batch * n

    # overall active fraction ~ Binomial(total, p) / total
    frac = float(active.double().mean())
    assert abs(frac - p) <= Z * math.sqrt(p * (1 - p) / total) + 1e-12

    # per-feature activation counts uniform: chi-square over features
    if p < 1.0:
        counts = active.sum(dim=0).double()
        var = batch * p * (1 - p)
        stat = float(((counts - batch * p) ** 2 / var).sum())
        assert stat < chi2_bound(n)
    else:
        assert bool(active.all())

    check_uniform_pm1(x[active])

    # actives per row ~ Binomial(n, p): mean and variance
    row = active.sum(dim=1).double()
    mu, var = n * p, n * p * (1 - p)
    assert abs(float(row.mean()) - mu) <= Z * math.sqrt(var / batch) + 1e-12
    mu4 = var * (1 + 3 * (n - 2) * p * (1 - p))  # 4th central moment of the binomial
    assert abs(float(row.var()) - var) <= Z * math.sqrt(max(mu4 - var**2, 0.0) / batch) + 1e-12

    # no serial correlation of the activity indicator in the flattened stream
    if p < 1.0:
        flat = active.flatten().double()
        centred = flat - p
        lag1 = float((centred[1:] * centred[:-1]).mean()) / (p * (1 - p))
        assert abs(lag1) < Z / math.sqrt(total)


@pytest.mark.parametrize("p", [0.001, 0.2])
def test_sparse_uniform_reproducible_and_seed_dependent(p):
    a = sparse_uniform(5000, 50, p, gen(7))
    b = sparse_uniform(5000, 50, p, gen(7))
    c = sparse_uniform(5000, 50, p, gen(8))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("p", [0.0, -0.1, 1.0000001, 1.5, float("nan")])
def test_sparse_uniform_rejects_bad_p(p):
    with pytest.raises(ValueError):
        sparse_uniform(10, 10, p, gen())


@pytest.mark.parametrize("p", [0.001, 0.2])
def test_sparse_uniform_dtype(p):
    x = sparse_uniform(1000, 20, p, gen(), dtype=torch.float64)
    assert x.dtype == torch.float64


def test_sparse_uniform_small_totals_exact():
    """The CPU sparse path tops up its gaps until they cover the whole output: tiny
    outputs and p just below the threshold still give the right statistics."""
    p = SPARSE_PATH_MAX_P / 2
    g = gen(3)
    counts = torch.stack([(sparse_uniform(1, 7, p, g) != 0).sum() for _ in range(8_000)]).double()
    assert abs(float(counts.mean()) - 7 * p) <= Z * math.sqrt(7 * p * (1 - p) / 8_000)


def test_sparse_path_cost_is_proportional_to_actives():
    """Smoke check: 2^20 x 100 inputs at p = 0.001 (about 1e5 actives) take well under
    the time of drawing 1e8 uniforms (the output itself still has to be zeroed)."""
    g = gen(0)
    sparse_uniform(1024, 100, 0.001, g)  # warm-up
    best = math.inf
    for _ in range(2):
        start = time.perf_counter()
        x = sparse_uniform(2**20, 100, 0.001, g)
        best = min(best, time.perf_counter() - start)
        del x
    assert best < 2.0, f"sparse path took {best:.2f} s"


# --------------------------------------------------------------------------- exactly-k / exactly-s


def test_exactly_k_uniform():
    batch, n, k = 40_000, 20, 3
    x = exactly_k_uniform(batch, n, k, gen(2))
    active = x != 0
    assert bool((active.sum(dim=1) == k).all())
    counts = active.sum(dim=0).double()
    q = k / n
    stat = float(((counts - batch * q) ** 2 / (batch * q * (1 - q))).sum())
    assert stat < chi2_bound(n)
    check_uniform_pm1(x[active])


def test_exactly_k_subsets_uniform_over_pairs():
    """For k = 2 every one of the C(n, 2) pairs is equally likely."""
    batch, n = 30_000, 6
    idx = random_subsets(batch, n, 2, gen(4)).sort(dim=1).values
    codes = idx[:, 0] * n + idx[:, 1]
    counts = torch.bincount(codes, minlength=n * n).double()
    pairs = [i * n + j for i in range(n) for j in range(i + 1, n)]
    assert counts.sum() == counts[pairs].sum() == batch
    expected = batch / len(pairs)
    stat = float(((counts[pairs] - expected) ** 2 / expected).sum())
    assert stat < chi2_bound(len(pairs) - 1)


def test_exactly_k_edge_cases_and_errors():
    assert torch.equal(exactly_k_uniform(5, 4, 0, gen()), torch.zeros(5, 4))
    full = exactly_k_uniform(5, 4, 4, gen())
    assert bool((full != 0).all())
    for k in (-1, 5):
        with pytest.raises(ValueError):
            exactly_k_uniform(5, 4, k, gen())
    assert torch.equal(exactly_k_uniform(100, 10, 3, gen(5)), exactly_k_uniform(100, 10, 3, gen(5)))


def test_exactly_s_boolean():
    batch, m, s = 30_000, 12, 4
    v = exactly_s_boolean(batch, m, s, gen(6))
    assert v.shape == (batch, m)
    assert bool(((v == 0) | (v == 1)).all())
    assert bool((v.sum(dim=1) == s).all())
    counts = v.sum(dim=0).double()
    q = s / m
    stat = float(((counts - batch * q) ** 2 / (batch * q * (1 - q))).sum())
    assert stat < chi2_bound(m)
    for bad in (-1, m + 1):
        with pytest.raises(ValueError):
            exactly_s_boolean(10, m, bad, gen())
    assert torch.equal(exactly_s_boolean(50, m, s, gen(9)), exactly_s_boolean(50, m, s, gen(9)))


# --------------------------------------------------------------------------- devices


def devices() -> list[str]:
    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", devices())
def test_draws_on_generator_device(device):
    g = gen(0, device)
    for p in (0.001, 0.5):
        assert sparse_uniform(64, 10, p, g).device.type == device
    assert exactly_k_uniform(8, 10, 3, g).device.type == device
    assert exactly_s_boolean(8, 10, 3, g).device.type == device
