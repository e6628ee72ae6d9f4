"""The Universal-AND model and task (cclib.universal_and): the forward formula, the sparse
case-weighted loss against the dense formula (values and gradients), and seeded training."""

from __future__ import annotations

import pytest
import torch

from cclib.engine.seeding import Stream, make_generator
from cclib.engine.training import TrainConfig, train
from cclib.universal_and.models import UniversalAND
from cclib.universal_and.tasks import UniversalANDTask


def generators(seeds):
    return [make_generator(s, Stream.DATA) for s in seeds]


def test_universal_and_forward_formula():
    model = UniversalAND.init([0, 1], 6, 9).double()
    g = torch.Generator().manual_seed(0)
    v = (torch.randn(2, 5, 6, generator=g, dtype=torch.float64) > 0).double()
    expected = torch.stack(
        [torch.relu(v[k] @ model.w[k].T + model.b[k]) @ model.r[k].T + model.c[k] for k in range(2)]
    )
    torch.testing.assert_close(model(v), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("m", "s", "instances"), [(6, 2, 2), (20, 3, 3), (10, 1, 1), (12, 5, 2)])
def test_universal_and_sparse_loss_matches_dense_formula(m, s, instances):
    seeds = list(range(instances))
    model, task = UniversalAND.init(seeds, m, 8), UniversalANDTask(m, s, instances)
    v = task.sample(generators(seeds), 64)
    dense = task.sample_losses(model(v), v).mean(dim=1)
    dense.sum().backward()
    expected = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    fast = task.loss(model(v), v)
    fast.sum().backward()
    torch.testing.assert_close(fast, dense.detach(), rtol=1e-5, atol=1e-7)
    for a, p in zip(expected, model.parameters(), strict=True):
        torch.testing.assert_close(p.grad, a, rtol=1e-4, atol=1e-8)


def test_universal_and_mixed_s_uses_the_dense_formula():
    model, task = UniversalAND.init([0, 1], 8, 4), UniversalANDTask(8, [2, 3], 2)
    v = task.sample(generators([0, 1]), 32)
    torch.testing.assert_close(
        task.loss(model(v), v), task.sample_losses(model(v), v).mean(dim=1), rtol=0, atol=0
    )


def test_universal_and_training_is_seeded_and_learns():
    def run_ua():
        model, task = UniversalAND.init([0, 1], 8, 16), UniversalANDTask(8, 2, 2)
        config = TrainConfig(steps=120, batch_size=64, lr=1e-2)
        return model, train(model, task, config, [0, 1], device="cpu", progress=False)

    (m1, r1), (m2, r2) = run_ua(), run_ua()
    assert torch.equal(r1.losses, r2.losses) and torch.equal(m1.r, m2.r)
    assert bool((r1.losses[-20:].mean(0) < 0.8 * r1.losses[:20].mean(0)).all())
