"""Tests of the per-instance AdamW (cclib.engine.optim) against torch.optim.AdamW and of the
cosine schedule against torch's CosineAnnealingLR."""

from __future__ import annotations

import math

import pytest
import torch

from cclib.engine.optim import CosineSchedule, InstanceAdamW, ParamGroup, cosine_schedule

LR, BETAS, EPS = 3e-3, (0.9, 0.999), 1e-8


def grads(shape, steps: int, seed: int) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    # varying scales so that the second moment and eps matter
    return [torch.randn(shape, generator=g) * (0.1 + t % 7) for t in range(steps)]


def test_constant_schedule_matches_torch_adamw():
    steps, k = 60, 3
    g = torch.Generator().manual_seed(0)
    a0 = torch.randn(k, 5, 4, generator=g)
    b0 = torch.randn(k, 6, generator=g)
    ga, gb = grads(a0.shape, steps, 1), grads(b0.shape, steps, 2)

    a, b = torch.nn.Parameter(a0.clone()), torch.nn.Parameter(b0.clone())
    mine = InstanceAdamW(
        [ParamGroup([a], 0.01), ParamGroup([b], 0.0)],
        torch.full((steps, k), LR),
        betas=BETAS,
        eps=EPS,
    )
    ta, tb = torch.nn.Parameter(a0.clone()), torch.nn.Parameter(b0.clone())
    ref = torch.optim.AdamW(
        [{"params": [ta], "weight_decay": 0.01}, {"params": [tb], "weight_decay": 0.0}],
        lr=LR,
        betas=BETAS,
        eps=EPS,
        foreach=False,
    )
    for t in range(steps):
        mine.zero_grad()
        a.grad, b.grad = ga[t].clone(), gb[t].clone()
        mine.step()
        ref.zero_grad()
        ta.grad, tb.grad = ga[t].clone(), gb[t].clone()
        ref.step()
        torch.testing.assert_close(a.detach(), ta.detach(), rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(b.detach(), tb.detach(), rtol=1e-6, atol=1e-6)
    assert not torch.allclose(a.detach(), a0)  # it did move
    assert mine.step_count == steps


def test_per_instance_schedules_match_separate_torch_runs():
    steps, horizons, wd = 50, [20, 50], 0.05
    schedule = cosine_schedule(LR, horizons)
    g = torch.Generator().manual_seed(3)
    w0 = torch.randn(2, 4, 3, generator=g)
    gw = grads(w0.shape, steps, 4)
    w = torch.nn.Parameter(w0.clone())
    mine = InstanceAdamW([ParamGroup([w], wd)], schedule, betas=BETAS, eps=EPS)
    refs = []
    for k in range(2):
        p = torch.nn.Parameter(w0[k].clone())
        refs.append(
            (p, torch.optim.AdamW([p], lr=LR, betas=BETAS, eps=EPS, weight_decay=wd, foreach=False))
        )
    for t in range(steps):
        w.grad = gw[t].clone()
        mine.step()
        for k, (p, opt) in enumerate(refs):
            opt.param_groups[0]["lr"] = float(schedule[t, k])
            p.grad = gw[t][k].clone()
            opt.step()
            torch.testing.assert_close(w.detach()[k], p.detach(), rtol=1e-6, atol=1e-6)
        if t == horizons[0] - 1:
            frozen = w.detach()[0].clone()
    assert torch.equal(w.detach()[0], frozen)  # instance 0 stopped at its horizon
    assert not torch.equal(w.detach()[1], w0[1])


def test_param_without_grad_is_untouched():
    w = torch.nn.Parameter(torch.ones(2, 3))
    v = torch.nn.Parameter(torch.ones(2, 3))
    opt = InstanceAdamW([ParamGroup([w, v], 0.5)], torch.full((3, 2), 0.1))
    w.grad = torch.ones(2, 3)
    opt.step()
    assert torch.equal(v.detach(), torch.ones(2, 3))  # no decay either
    assert not torch.equal(w.detach(), torch.ones(2, 3))


def test_state_dict_roundtrip_continues_identically():
    steps = 20
    gw = grads((2, 3), steps, 5)
    schedule = cosine_schedule(LR, [steps, steps // 2])

    def run(split: int | None):
        w = torch.nn.Parameter(torch.zeros(2, 3))
        opt = InstanceAdamW([ParamGroup([w], 0.01)], schedule)
        for t in range(steps):
            if t == split:
                state = {
                    k: ([x.clone() for x in v] if isinstance(v, list) else v)
                    for k, v in opt.state_dict().items()
                }
                saved = w.detach().clone()
                w = torch.nn.Parameter(saved)
                opt = InstanceAdamW([ParamGroup([w], 0.01)], schedule)
                opt.load_state_dict(state)
            w.grad = gw[t].clone()
            opt.step()
        return w.detach()

    assert torch.equal(run(None), run(7))


@pytest.mark.parametrize("horizons", [[10], [10, 25, 1], [100, 37]])
def test_cosine_schedule_matches_torch(horizons):
    lr = 0.01
    schedule = cosine_schedule(lr, horizons)
    assert schedule.shape == (max(horizons), len(horizons)) and schedule.dtype == torch.float32
    for k, horizon in enumerate(horizons):
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=horizon, eta_min=0.0)
        expected = []
        for _ in range(horizon):
            expected.append(sched.get_last_lr()[0])
            opt.step()
            sched.step()
        torch.testing.assert_close(
            schedule[:horizon, k].double(),
            torch.tensor(expected, dtype=torch.float64),
            rtol=1e-6,
            atol=1e-9,
        )
        assert schedule[0, k] == pytest.approx(lr)
        assert bool((schedule[horizon:, k] == 0).all())
        assert bool(
            (schedule[:horizon, k] > 0).all()
        )  # still learning on the last step of the horizon
        closed = [0.5 * lr * (1 + math.cos(math.pi * t / horizon)) for t in range(horizon)]
        torch.testing.assert_close(
            schedule[:horizon, k].double(),
            torch.tensor(closed, dtype=torch.float64),
            rtol=1e-6,
            atol=0,
        )


def test_blockwise_schedule_equals_the_table():
    horizons = [37, 100, 64]
    table = cosine_schedule(LR, horizons)
    lazy = CosineSchedule(LR, horizons, block=16)
    assert len(lazy) == 100
    assert all(torch.equal(lazy[t], table[t]) for t in [*range(100), 5, 99, 0])


def test_subnormal_second_moments_are_clamped_without_changing_a_bit():
    """The clamp that keeps sqrt off subnormal moments leaves the update bit-identical."""
    torch.manual_seed(0)
    grads = torch.randn(40, 3, 64) * torch.logspace(-25, 0, 64)  # some columns' v subnormal
    grads[::3] = 0.0  # steps with no gradient: the moments decay
    start, updates = torch.randn(3, 64), []
    for tiny in (None, 0.0):
        param = torch.nn.Parameter(start.clone())
        optimizer = InstanceAdamW([ParamGroup([param], 0.01)], torch.full((40, 3), 1e-3))
        if tiny is not None:
            optimizer.tiny = tiny  # no clamp: the plain formula
        for grad in grads:
            param.grad = grad.clone()
            optimizer.step()
        updates.append(param.detach().clone())
        assert bool((optimizer.exp_avg_sq[0] < optimizer.tiny).any()) or tiny == 0.0
    assert torch.equal(updates[0], updates[1])
