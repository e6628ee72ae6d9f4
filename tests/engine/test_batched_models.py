"""Tests of the batched models (cclib.compressed.models): per-seed initialisation independent of the
batch, PyTorch-default init bounds, and the exact residual <-> MLP equivalence."""

from __future__ import annotations

import math

import pytest
import torch

from cclib.compressed.mixing import embedding_induced, random_embedding
from cclib.compressed.models import MLP, ResidualCC
from cclib.compressed.tasks import ReluMixingTask
from cclib.engine.batching import linear_init
from cclib.engine.seeding import Stream, make_generator
from cclib.universal_and.models import UniversalAND

Z = 5.0


def embeddings(seeds, n, width) -> torch.Tensor:
    return torch.stack(
        [random_embedding(n, width, make_generator(s, Stream.EMBEDDING)) for s in seeds]
    )


def inputs(instances: int, batch: int, n: int, seed: int = 0, dtype=torch.float32) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(instances, batch, n, generator=g, dtype=dtype)


def assert_params_equal(batched: torch.nn.Module, single: torch.nn.Module, index: int) -> None:
    b, s = batched.state_dict(), single.state_dict()
    assert b.keys() == s.keys()
    for name in b:
        assert torch.equal(b[name][index], s[name][0]), name


def build(kind: str, seeds):
    if kind == "mlp":
        return MLP.init(seeds, 30, 12)
    if kind == "residual":
        return ResidualCC.init(seeds, embeddings(seeds, 30, 40), 12)
    return UniversalAND.init(seeds, 8, 16)


N_IN = {"mlp": 30, "residual": 30, "and": 8}


@pytest.mark.parametrize("kind", ["mlp", "residual", "and"])
def test_batched_equals_one_at_a_time(kind):
    batched, single = build(kind, [3, 4, 5]), build(kind, [4])
    assert_params_equal(batched, single, 1)
    x = inputs(3, 64, N_IN[kind])
    with torch.no_grad():
        yb, ys = batched(x), single(x[1:2])
    torch.testing.assert_close(yb[1], ys[0], rtol=1e-6, atol=1e-6)
    # different seeds give different weights
    params = dict(batched.named_parameters())
    for name, value in params.items():
        assert not torch.equal(value[0], value[1]), name


def test_parts_are_independent_streams():
    """``w_in`` and ``w_out`` of one seed come from different streams (not one reused)."""
    model = MLP.init([0], 10, 10)
    assert not torch.allclose(model.w_in[0], model.w_out[0]) and not torch.allclose(
        model.w_in[0], model.w_out[0].T
    )
    a = linear_init([0], (10, 10), 10, part=0)
    b = linear_init([0], (10, 10), 10, part=1)
    assert not torch.equal(a, b)
    assert torch.equal(a, model.w_in.detach())


@pytest.mark.parametrize(
    "kind,expected",
    [
        ("mlp", {"w_in": 30, "w_out": 12}),
        ("residual", {"w_in": 40, "w_out": 12}),
        ("and", {"w": 8, "b": 8, "r": 16, "c": 16}),
    ],
)
def test_init_bounds(kind, expected):
    model = build(kind, list(range(20)))
    for name, param in model.named_parameters():
        bound = 1 / math.sqrt(expected[name])
        values = param.detach().double().flatten()
        count = values.numel()
        assert float(values.abs().max()) <= bound
        assert float(values.abs().max()) > bound * (1 - 10 / count)  # fills the interval
        # uniform on [-b, b]: mean 0 (var b^2/3), second moment b^2/3 (var 4 b^4/45)
        assert abs(float(values.mean())) < Z * bound / math.sqrt(3 * count), name
        assert abs(float(values.square().mean()) - bound**2 / 3) < Z * bound**2 * math.sqrt(
            4 / 45 / count
        ), name


def test_shapes():
    mlp = MLP.init([0, 1], 30, 12)
    assert mlp.w_in.shape == (2, 12, 30) and mlp.w_out.shape == (2, 30, 12) and mlp.instances == 2
    assert mlp(inputs(2, 5, 30)).shape == (2, 5, 30) and mlp.hidden(inputs(2, 5, 30)).shape == (
        2,
        5,
        12,
    )
    res = build("residual", [0, 1])
    assert res.w_in.shape == (2, 12, 40) and res.w_out.shape == (2, 40, 12)
    assert [name for name, _ in res.named_parameters()] == ["w_in", "w_out"]  # W_E is frozen
    assert "w_e" in dict(res.named_buffers())
    uand = UniversalAND.init([0], 8, 16)
    assert uand.r.shape == (1, 28, 16) and uand.c.shape == (1, 28)
    assert UniversalAND.init([0], 8, 16, outputs=5)(inputs(1, 3, 8)).shape == (1, 3, 5)


def test_mlp_forward_formula():
    mlp = MLP.init([0, 1], 10, 4).double()
    x = inputs(2, 7, 10, dtype=torch.float64)
    expected = torch.stack([torch.relu(x[k] @ mlp.w_in[k].T) @ mlp.w_out[k].T for k in range(2)])
    torch.testing.assert_close(mlp(x), expected, rtol=1e-12, atol=1e-12)


def test_residual_equivalent_mlp_and_mixing_exact():
    """Residual output ``W_E^T W_E x + W_E^T W_out' ReLU(W_in' W_E x)`` equals
    ``mlp(x) + (I - M) x`` with the equivalent MLP and ``M = I - W_E^T W_E``, so the
    residual model's error on ``ReLU(x) + x`` is the MLP's error on ``ReLU(x) + M x``."""
    n, width, d, seeds = 30, 50, 12, [0, 1]
    w_e = embeddings(seeds, n, width).double()
    res = ResidualCC.init(seeds, w_e, d).double()
    mlp = res.equivalent_mlp()
    m = res.equivalent_mixing()
    assert mlp.w_in.dtype == torch.float64 and m.shape == (2, n, n)
    torch.testing.assert_close(
        m, torch.stack([embedding_induced(w) for w in w_e]), rtol=0, atol=1e-15
    )
    x = inputs(2, 100, n, dtype=torch.float64)
    with torch.no_grad():
        residual_out, mlp_out = res(x), mlp(x)
    mx = torch.bmm(x, m.transpose(1, 2))
    # direct formula of the residual model
    direct = torch.stack(
        [
            (x[k] @ w_e[k].T + torch.relu(x[k] @ w_e[k].T @ res.w_in[k].T) @ res.w_out[k].T)
            @ w_e[k]
            for k in range(2)
        ]
    ).detach()
    torch.testing.assert_close(residual_out, direct, rtol=0, atol=1e-12)
    torch.testing.assert_close(
        residual_out - (torch.relu(x) + x), mlp_out - (torch.relu(x) + mx), rtol=0, atol=1e-12
    )
    torch.testing.assert_close(residual_out, mlp_out + x - mx, rtol=0, atol=1e-12)
    # the equivalent MLP does not share storage with the residual model
    with torch.no_grad():
        mlp.w_in.add_(1.0)
    assert not torch.allclose(res.equivalent_mlp().w_in, mlp.w_in)


def test_residual_loss_equals_mlp_loss_on_mixed_labels():
    n, width, d, seeds = 20, 40, 8, [2, 3]
    res = ResidualCC.init(seeds, embeddings(seeds, n, width).double(), d).double()
    x = inputs(2, 256, n, seed=4, dtype=torch.float64)
    residual_task = ReluMixingTask(torch.eye(n, dtype=torch.float64).expand(2, n, n).clone(), 0.1)
    mlp_task = ReluMixingTask(res.equivalent_mixing(), 0.1)
    with torch.no_grad():
        a = residual_task.sample_losses(res(x), x)
        b = mlp_task.sample_losses(res.equivalent_mlp()(x), x)
    torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-13)
