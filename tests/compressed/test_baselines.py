"""Tests of the naive baseline (cclib.compressed.baselines): the closed form against the stratified
estimate of the hand-coded model (5 standard errors), and the choice of features."""

from __future__ import annotations

import pytest
import torch

from cclib.compressed.baselines import naive_features, naive_loss_per_feature, naive_mlp
from cclib.compressed.evaluation import loss_per_feature
from cclib.compressed.mixing import gaussian, mixing_matrix
from cclib.compressed.tasks import ReluMixingTask
from cclib.engine.seeding import Stream, make_generator

Z = 5.0


@pytest.mark.parametrize("n", [2, 10, 100])
def test_clean_closed_form_is_one_twelfth(n):
    assert naive_loss_per_feature(None, n, range(n // 2)) == pytest.approx(1 / 12, rel=1e-12)
    assert naive_loss_per_feature(torch.zeros(n, n), n, range(n // 2)) == pytest.approx(
        1 / 12, rel=1e-12
    )
    assert naive_loss_per_feature(None, n, range(n)) == 0
    assert naive_loss_per_feature(None, n, []) == pytest.approx(1 / 6)


def test_naive_mlp_structure():
    model = naive_mlp(5, 3, [4, 0], instances=2)
    assert model.w_in.shape == (2, 3, 5)
    x = torch.tensor([[0.5, -0.3, 0.2, 0.1, -0.7], [-0.5, 0.3, 0.2, 0.1, 0.9]]).expand(2, 2, 5)
    expected = torch.zeros(2, 2, 5)
    expected[:, :, [0, 4]] = torch.relu(x[:, :, [0, 4]])
    assert torch.equal(model(x), expected)
    assert torch.equal(naive_mlp(4, 2).w_in[0], torch.eye(4)[:2])
    with pytest.raises(ValueError):
        naive_mlp(5, 1, [0, 1])


def closed_vs_estimate(m: torch.Tensor, represented, p: float, samples: int):
    n = m.shape[0]
    model = naive_mlp(n, n // 2, represented)
    task = ReluMixingTask(m[None], p)
    est = loss_per_feature(model, task, p, samples=samples, seed=11, device="cpu")
    return naive_loss_per_feature(m, n, represented), float(est.mean[0]), float(est.stderr[0])


@pytest.mark.parametrize("p", [0.01, 0.2])
@pytest.mark.parametrize("kind", ["gaussian", "embedding"])
def test_closed_form_matches_stratified_estimate(kind, p):
    n = 40
    g = make_generator(1, Stream.MIXING)
    m = gaussian(n, 0.05, g) if kind == "gaussian" else mixing_matrix("embedding", n, g, width=100)
    for represented in (list(range(n // 2)), naive_features(m, n, n // 2)):
        closed, mean, stderr = closed_vs_estimate(
            m, represented, p, samples=10_000 if p < 0.1 else 4000
        )
        assert stderr < 0.02 * closed  # informative
        assert abs(mean - closed) < Z * stderr, (represented, closed, mean, stderr)


def test_naive_features_picks_largest_diagonal_and_lowers_the_loss():
    n, d = 40, 20
    m = gaussian(n, 0.05, make_generator(2, Stream.MIXING))
    chosen = naive_features(m, n, d)
    assert chosen == sorted(chosen) and len(set(chosen)) == d
    diag = torch.diagonal(m)
    others = sorted(set(range(n)) - set(chosen))
    assert float(diag[chosen].min()) >= float(diag[others].max())
    best = naive_loss_per_feature(m, n, chosen)
    first = naive_loss_per_feature(m, n, range(d))
    assert best < first
    # it is the optimum over represented sets: the closed form only depends on the missing diagonal
    assert best == pytest.approx(
        (n - d) / 6 / n
        + float(m.double().square().sum()) / 3 / n
        + float(diag[others].double().sum()) / 3 / n
    )
    # without M (or with a constant diagonal) the first d features
    assert naive_features(None, n, d) == list(range(d))
    assert naive_features(torch.eye(n) * 0.3, n, d) == list(range(d))


def test_closed_form_depends_on_the_diagonal_sign():
    """Missing features with negative M_ii lower the loss.

    The cross term is 2 M_ii E[ReLU(x) x] / p = M_ii / 3.
    """
    n = 4
    m = torch.diag(torch.tensor([0.0, 0.0, -0.3, 0.3]))
    base = (n - 2) / 6 / n + 0.18 / 3 / n
    assert naive_loss_per_feature(m, n, [0, 1]) == pytest.approx(base)
    assert naive_loss_per_feature(m, n, [0, 3]) == pytest.approx(base - 0.3 / 3 / n)
    assert naive_loss_per_feature(m, n, [0, 2]) == pytest.approx(base + 0.3 / 3 / n)
