"""Tests of the batched trainer (cclib.engine.training): reproducibility, learning, batched ==
one-at-a-time, per-instance horizons, bit-exact checkpoint/resume with the real cache,
and the learnable label scale."""

from __future__ import annotations

import pytest
import torch

import cclib.engine.training as training
from cclib.compressed.mixing import gaussian
from cclib.compressed.models import MLP
from cclib.compressed.tasks import ReluMixingTask
from cclib.engine.cache import Cache
from cclib.engine.seeding import Stream, make_generator
from cclib.engine.training import TrainConfig, TrainingDiverged, nonempty_horizon, train

N, D = 20, 10
CONFIG = TrainConfig(steps=200, batch_size=128, lr=3e-3, weight_decay=0.01)


def mixings(seeds) -> torch.Tensor:
    return torch.stack([gaussian(N, 1.0, make_generator(s, Stream.MIXING)) for s in seeds])


def setup(seeds, p=0.1, scale=0.05, learn_scale=False, task_cls=ReluMixingTask):
    model = MLP.init(seeds, N, D)
    ps = p if isinstance(p, float) else list(p)
    task = task_cls(mixings(seeds), ps, scale, learn_scale=learn_scale)
    return model, task


def run(seeds, config=CONFIG, horizons=None, **kwargs):
    model, task = setup(seeds, **kwargs)
    result = train(model, task, config, seeds, horizons, device="cpu", progress=False)
    return model, task, result


def test_reproducible():
    m1, _, r1 = run([0, 1])
    m2, _, r2 = run([0, 1])
    assert torch.equal(r1.losses, r2.losses)
    assert torch.equal(m1.w_in, m2.w_in) and torch.equal(m1.w_out, m2.w_out)
    m3, _, r3 = run([0, 2])
    assert torch.equal(r1.losses[:, 0], r3.losses[:, 0])  # instance 0 does not see instance 1
    assert not torch.equal(r1.losses[:, 1], r3.losses[:, 1])


def test_loss_goes_down_and_shapes():
    model, _, result = run([0, 1, 2])
    assert result.losses.shape == (CONFIG.steps, 3) and result.losses.device.type == "cpu"
    assert result.horizons == [CONFIG.steps] * 3
    first, last = result.losses[:20].mean(dim=0), result.losses[-20:].mean(dim=0)
    assert bool((last < 0.8 * first).all()), (first, last)
    assert model.w_in.device.type == "cpu"


def test_batched_equals_one_at_a_time():
    seeds = [3, 4, 5]
    mb, _, rb = run(seeds, p=[0.05, 0.1, 0.2])
    ms, _, rs = run([4], p=0.1)
    torch.testing.assert_close(rb.losses[:, 1], rs.losses[:, 0], rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(mb.w_in[1], ms.w_in[0], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(mb.w_out[1], ms.w_out[0], rtol=1e-5, atol=1e-6)


def test_shorter_horizon_stops_changing():
    seeds = [0, 1]
    mb, _, rb = run(seeds, horizons=[60, 150])
    assert rb.losses.shape == (150, 2) and rb.horizons == [60, 150]
    alone, _, _ = run([0], horizons=[60])
    longer, _, _ = run([0], horizons=[150])
    torch.testing.assert_close(mb.w_in[0], alone.w_in[0], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(mb.w_out[0], alone.w_out[0], rtol=1e-5, atol=1e-6)
    assert not torch.allclose(mb.w_in[0], longer.w_in[0], rtol=1e-3, atol=1e-4)
    # the second instance ran its full cosine schedule
    torch.testing.assert_close(
        mb.w_in[1], run([1], horizons=[150])[0].w_in[0], rtol=1e-5, atol=1e-6
    )


def test_frozen_instance_weights_constant_after_horizon():
    """Check directly: weights of the short instance are identical at every step after its
    horizon."""
    snapshots = []

    class Recording(ReluMixingTask):
        def sample(self, generators, batch):
            snapshots.append(model.w_in.detach()[0].clone())
            return super().sample(generators, batch)

    model, task = setup([0, 1], task_cls=Recording)
    train(
        model,
        task,
        TrainConfig(steps=80, batch_size=64),
        [0, 1],
        [30, 80],
        device="cpu",
        progress=False,
    )
    snapshots.append(model.w_in.detach()[0].clone())
    assert not torch.equal(snapshots[29], snapshots[30])  # step 29 (the last) still updates
    for s in snapshots[31:]:
        assert torch.equal(s, snapshots[30])


class Interrupt(Exception):
    pass


def make_interrupting(at_step: int):
    class Interrupting(ReluMixingTask):
        calls = 0

        def _count(self):
            if type(self).calls == at_step:
                raise KeyboardInterrupt
            type(self).calls += 1

        def sample(self, generators, batch):
            self._count()
            return super().sample(generators, batch)

        def sample_entries(self, generators, batch):
            self._count()
            return super().sample_entries(generators, batch)

    return Interrupting


@pytest.mark.parametrize("path", ["dense", "sparse"])
def test_checkpoint_resume_bit_identical(tmp_path, path):
    config = TrainConfig(steps=100, batch_size=64, lr=1e-2, weight_decay=0.05)
    seeds, horizons = [0, 1], [70, 100]
    kwargs = dict(p=[0.1, 0.3], scale=[0.05, 0.2], learn_scale=True)

    ref_model, ref_task = setup(seeds, **kwargs)
    ref = train(
        ref_model, ref_task, config, seeds, horizons, device="cpu", progress=False, path=path
    )

    cache = Cache(tmp_path)
    key = {"test": "resume", "seeds": seeds}
    ckpt = cache.checkpointer(key)
    model, task = setup(seeds, task_cls=make_interrupting(63), **kwargs)
    with pytest.raises(KeyboardInterrupt):
        train(
            model,
            task,
            config,
            seeds,
            horizons,
            checkpointer=ckpt,
            checkpoint_every=25,
            device="cpu",
            progress=False,
            path=path,
        )
    saved = cache.checkpointer(key).load()
    assert saved is not None and saved["step"] == 50

    counting = make_interrupting(-1)
    model, task = setup(seeds, task_cls=counting, **kwargs)  # fresh init, as after a crash
    result = train(
        model,
        task,
        config,
        seeds,
        horizons,
        checkpointer=cache.checkpointer(key),
        checkpoint_every=25,
        device="cpu",
        progress=False,
        path=path,
    )
    assert counting.calls == 50  # resumed at step 50, not from scratch
    assert torch.equal(result.losses, ref.losses)
    assert torch.equal(model.w_in, ref_model.w_in) and torch.equal(model.w_out, ref_model.w_out)
    assert torch.equal(task.scale, ref_task.scale)


def test_learnable_scale_changes_without_weight_decay():
    # with a nonzero mixing matrix the scale is trained
    _, task, _ = run([0, 1], scale=[0.05, 0.3], learn_scale=True)
    assert isinstance(task.scale, torch.nn.Parameter)
    assert bool((task.scale.detach() != torch.tensor([0.05, 0.3])).all())
    # with M = 0 the scale gets no gradient; under weight decay it would shrink, so it must stay put
    model = MLP.init([0], N, D)
    task = ReluMixingTask(torch.zeros(1, N, N), 0.2, 0.7, learn_scale=True)
    before = model.w_in.detach().clone()
    train(
        model,
        task,
        TrainConfig(steps=50, batch_size=64, lr=0.05, weight_decay=1.0),
        [0],
        device="cpu",
        progress=False,
    )
    assert torch.equal(task.scale.detach(), torch.tensor([0.7]))
    assert not torch.equal(model.w_in.detach(), before)
    # a fixed scale is a buffer and never changes
    _, task, _ = run([0], scale=0.3)
    assert not isinstance(task.scale, torch.nn.Parameter) and task.scale.item() == pytest.approx(
        0.3
    )


def test_learn_scale_per_instance():
    """Only the instances that learn their scale change it; the others keep theirs exactly."""
    model, task = setup([0, 1, 2], scale=[0.05, 0.3, 0.2], learn_scale=[True, False, True])
    assert "learned" not in task.state_dict()  # the mask is not part of saved state
    train(
        model,
        task,
        TrainConfig(steps=60, batch_size=64, lr=1e-2),
        [0, 1, 2],
        device="cpu",
        progress=False,
    )
    scale = task.scale.detach()
    assert scale[0] != torch.tensor(0.05) and scale[2] != torch.tensor(0.2)
    assert scale[1] == torch.tensor(0.3)
    # instance 0 trains exactly as if every instance learned its scale
    model_all, task_all = setup([0, 1, 2], scale=[0.05, 0.3, 0.2], learn_scale=True)
    train(
        model_all,
        task_all,
        TrainConfig(steps=60, batch_size=64, lr=1e-2),
        [0, 1, 2],
        device="cpu",
        progress=False,
    )
    torch.testing.assert_close(task_all.scale.detach()[[0, 2]], scale[[0, 2]], rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(model_all.w_in[0], model.w_in[0], rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError):
        setup([0, 1], learn_scale=[True])


def test_nonempty_horizon_and_validation():
    assert nonempty_horizon(100, 1.0, 10) == 100
    assert nonempty_horizon(100, 0.01, 100) == 158  # 100 / (1 - 0.99^100) = 157.8
    with pytest.raises(ValueError):
        TrainConfig(steps=0)
    with pytest.raises(ValueError):
        TrainConfig(lr=0.0)
    model, task = setup([0, 1])
    with pytest.raises(ValueError):
        train(model, task, CONFIG, [0, 1], horizons=[10], device="cpu", progress=False)
    with pytest.raises(ValueError):
        train(model, task, CONFIG, [0, 1], horizons=[10, 0], device="cpu", progress=False)


# --------------------------------------------------------------------------- divergence


@pytest.mark.parametrize("path", ["dense", "sparse"])
def test_divergence_raises_naming_instance_and_step(path):
    model, task = setup([0, 1])
    config = TrainConfig(steps=400, batch_size=64, lr=1e6)
    with pytest.raises(TrainingDiverged, match=r"instance \d+ has loss .* at step \d+") as info:
        train(model, task, config, [0, 1], device="cpu", progress=False, path=path)
    assert info.value.instance in (0, 1) and 0 <= info.value.step < 400
    assert isinstance(info.value, RuntimeError)


def test_divergence_in_last_steps_is_caught():
    model, task = setup([0])
    config = TrainConfig(steps=3, batch_size=64, lr=1e6)  # fewer steps than a refresh period
    with pytest.raises(TrainingDiverged):
        train(model, task, config, [0], device="cpu", progress=False)


# --------------------------------------------------------------------------- loss history


def test_loss_history_is_window_averaged_beyond_the_row_limit(monkeypatch):
    _, _, full = run([0, 1], config=TrainConfig(steps=50, batch_size=64))
    assert full.loss_window == 1 and full.losses.shape == (50, 2)
    monkeypatch.setattr(training, "MAX_LOSS_ROWS", 8)
    _, _, windowed = run([0, 1], config=TrainConfig(steps=50, batch_size=64))
    assert windowed.loss_window == 7 and windowed.losses.shape == (8, 2)  # ceil(50 / 8) = 7
    expected = torch.stack([full.losses[i : i + 7].mean(dim=0) for i in range(0, 50, 7)])
    torch.testing.assert_close(windowed.losses, expected, rtol=1e-5, atol=0)


def test_exactly_k_task_samples_k_active():
    model, _ = setup([0, 1])
    task = ReluMixingTask(mixings([0, 1]), 0.01, 0.05, active=[1, None])
    x = task.sample([make_generator(s, Stream.DATA) for s in (0, 1)], 500)
    assert bool(((x[0] != 0).sum(dim=1) == 1).all())
    assert task.expected_active() == [1.0, N * 0.01]
    with pytest.raises(ValueError, match="active must be in"):
        ReluMixingTask(mixings([0]), 0.01, active=N + 1)


def test_windowed_loss_history_resumes_bit_identical(tmp_path, monkeypatch):
    monkeypatch.setattr(training, "MAX_LOSS_ROWS", 8)  # 100 steps: windows of 13
    config = TrainConfig(steps=100, batch_size=64, lr=1e-2)
    ref_model, ref_task = setup([0, 1])
    ref = train(ref_model, ref_task, config, [0, 1], device="cpu", progress=False, path="sparse")
    assert ref.loss_window == 13 and ref.losses.shape == (8, 2)
    cache = Cache(tmp_path)
    model, task = setup([0, 1], task_cls=make_interrupting(63))
    with pytest.raises(KeyboardInterrupt):
        train(
            model,
            task,
            config,
            [0, 1],
            checkpointer=cache.checkpointer("windowed"),
            checkpoint_every=25,
            device="cpu",
            progress=False,
            path="sparse",
        )
    model, task = setup([0, 1], task_cls=make_interrupting(-1))
    result = train(
        model,
        task,
        config,
        [0, 1],
        checkpointer=cache.checkpointer("windowed"),
        checkpoint_every=25,
        device="cpu",
        progress=False,
        path="sparse",
    )
    assert torch.equal(result.losses, ref.losses) and torch.equal(model.w_in, ref_model.w_in)


def test_huge_step_count_needs_bounded_memory():
    model, task = setup([0], task_cls=make_interrupting(3))  # stop after three steps
    config = TrainConfig(steps=4 * 10**11, batch_size=16)
    with pytest.raises(KeyboardInterrupt):  # got past the set-up without allocating (T, K)
        train(model, task, config, [0], device="cpu", progress=False)
