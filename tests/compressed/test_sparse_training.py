"""The sparse CPU training step (cclib.compressed.sparse_training) against the plain dense autograd
step: same data for the same seeds, the same losses and gradients within float tolerance,
the same training trajectory within tolerance, bit-identical seeded runs, and the choice
of path."""

from __future__ import annotations

import pytest
import torch

from cclib.compressed.mixing import gaussian
from cclib.compressed.models import MLP
from cclib.compressed.sparse_training import SparseStep, sparse_step_applies
from cclib.compressed.tasks import ReluMixingTask
from cclib.engine.seeding import Stream, make_generator
from cclib.engine.training import TrainConfig, choose_path, train
from cclib.universal_and.models import UniversalAND
from cclib.universal_and.tasks import UniversalANDTask

N, D, BATCH = 40, 12, 256


def setup(seeds, p, active=None, scale=0.1, learn_scale=False):
    mixing = torch.stack([gaussian(N, 1.0, make_generator(s, Stream.MIXING)) for s in seeds])
    task = ReluMixingTask(mixing, p, scale, learn_scale=learn_scale, active=active)
    return MLP.init(seeds, N, D), task


def generators(seeds):
    return [make_generator(s, Stream.DATA) for s in seeds]


CASES = {
    "p=0.01": dict(p=0.01),
    "p=0.05 (dense-mask sampler)": dict(p=0.05),
    "p=1": dict(p=1.0),
    "mixed p": dict(p=[0.001, 0.02, 0.3]),
    "exactly-k next to Bernoulli": dict(p=[0.02, 0.02, 0.02], active=[None, 1, 3]),
    "learned scale, one instance": dict(p=0.03, learn_scale=[True, False, True], scale=0.2),
    "scale 0": dict(p=0.03, scale=0.0),
}


@pytest.mark.parametrize("case", list(CASES))
def test_sparse_step_matches_dense_autograd(case):
    seeds = [0, 1, 2]
    model, task = setup(seeds, **CASES[case])
    x = task.sample(generators(seeds), BATCH)
    dense_loss = task.loss(model(x), x)
    dense_loss.sum().backward()
    dense = [model.w_in.grad.clone(), model.w_out.grad.clone()]
    if isinstance(task.scale, torch.nn.Parameter):
        dense.append(task.scale.grad.clone())
    model.w_in.grad = model.w_out.grad = None
    loss = SparseStep(model, task, BATCH)(generators(seeds))
    sparse = [model.w_in.grad, model.w_out.grad]
    if isinstance(task.scale, torch.nn.Parameter):
        sparse.append(task.scale.grad)
    torch.testing.assert_close(loss, dense_loss.detach(), rtol=1e-5, atol=1e-9)
    for a, b in zip(sparse, dense, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-9)


def test_sparse_entries_are_the_dense_batch():
    seeds = [4, 5]
    _, task = setup(seeds, p=[0.01, 0.02], active=[None, 2])
    dense = task.sample(generators(seeds), BATCH)
    entries = task.sample_entries(generators(seeds), BATCH)
    assert torch.equal(entries.dense(), dense)
    assert torch.equal(torch.stack([e.dense() for e in entries.split()]), dense)
    assert bool(((dense != 0).sum(dim=2)[1] == 2).all())  # exactly two active


def run(seeds, path, steps=150, **kwargs):
    model, task = setup(seeds, **kwargs)
    config = TrainConfig(steps=steps, batch_size=BATCH, lr=1e-2)
    result = train(model, task, config, seeds, device="cpu", progress=False, path=path)
    return model, task, result


def test_training_trajectory_matches_dense():
    seeds = [0, 1]
    kwargs = dict(p=[0.02, 0.05], learn_scale=True)
    ms, ts, rs = run(seeds, "sparse", **kwargs)
    md, td, rd = run(seeds, "dense", **kwargs)
    torch.testing.assert_close(rs.losses[0], rd.losses[0], rtol=1e-5, atol=0)
    torch.testing.assert_close(rs.losses, rd.losses, rtol=2e-3, atol=1e-7)
    torch.testing.assert_close(ms.w_in, md.w_in, rtol=0, atol=2e-4)
    torch.testing.assert_close(ms.w_out, md.w_out, rtol=0, atol=2e-4)
    torch.testing.assert_close(ts.scale, td.scale, rtol=0, atol=2e-4)


def test_sparse_runs_bit_identical_and_instances_independent():
    m1, _, r1 = run([0, 1, 2], "sparse", p=[0.01, 0.3, 0.02], steps=40)
    m2, _, r2 = run([0, 1, 2], "sparse", p=[0.01, 0.3, 0.02], steps=40)
    assert torch.equal(r1.losses, r2.losses) and torch.equal(m1.w_in, m2.w_in)
    alone, _, r3 = run([0], "sparse", p=0.01, steps=40)  # fewer rows than its batch-mates
    assert torch.equal(r3.losses[:, 0], r1.losses[:, 0])
    assert torch.equal(alone.w_out[0], m1.w_out[0])


def test_path_choice():
    cpu = torch.device("cpu")
    model, task = setup([0], p=0.01)
    assert (
        sparse_step_applies(model, task, cpu) and choose_path("auto", model, task, cpu) == "sparse"
    )
    # dense inputs take the hand-written step too, with dense products by hand
    _, dense_task = setup([0, 1], p=[1.0, 0.01])
    dense_model = MLP.init([0, 1], N, D)
    assert choose_path("auto", dense_model, dense_task, cpu) == "sparse"
    step = SparseStep(dense_model, dense_task, BATCH)
    assert [type(b).__name__ for b in step.blocks] == ["_DenseBlock", "_Block"]
    assert choose_path("dense", model, dense_task, cpu) == "dense"
    assert not sparse_step_applies(model, task, torch.device("cuda"))
    ua_model, ua_task = UniversalAND.init([0], 6, 4), UniversalANDTask(6, 2, 1)
    assert choose_path("auto", ua_model, ua_task, cpu) == "dense"
    with pytest.raises(ValueError, match="no sparse step"):
        choose_path("sparse", ua_model, ua_task, cpu)
    with pytest.raises(ValueError, match="path must be one of"):
        choose_path("fast", model, task, cpu)


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_instance_blocks_on_threads_give_the_same_bits(workers):
    """Blocks of instances on worker threads (sparse and dense kinds) give the numbers of
    one block."""
    seeds = [0, 1, 2, 3, 4]
    results = []
    for count in (1, workers):
        model, task = setup(seeds, p=[0.01, 0.02, 1.0, 0.3, 0.01], learn_scale=True)
        loss = SparseStep(model, task, BATCH, workers=count)(generators(seeds))
        results.append((loss, model.w_in.grad, model.w_out.grad, task.scale.grad))
    for a, b in zip(*results, strict=True):
        assert torch.equal(a, b)


def test_residual_step_matches_dense_autograd():
    """The residual model (width 30) trained through its equivalent MLP's sparse step has
    the residual model's own loss and gradients (chain rule through W_E)."""
    from cclib.compressed.experiments import ResidualSweep, init_residual, residual_task
    from cclib.compressed.sparse_training import ResidualSparseStep

    sweep = ResidualSweep((0, 1), (3, 4), 0.03, TrainConfig(10, BATCH), n=N, d=D, width=30)
    model, task = init_residual(sweep), residual_task(sweep)
    x = task.sample(generators([0, 1]), BATCH)
    dense_loss = task.loss(model(x), x)
    dense_loss.sum().backward()
    dense = [model.w_in.grad.clone(), model.w_out.grad.clone()]
    model.w_in.grad = model.w_out.grad = None
    assert choose_path("auto", model, task, torch.device("cpu")) == "sparse"
    loss = ResidualSparseStep(model, task, BATCH)(generators([0, 1]))
    torch.testing.assert_close(loss, dense_loss.detach(), rtol=1e-5, atol=1e-9)
    torch.testing.assert_close(model.w_in.grad, dense[0], rtol=1e-4, atol=1e-8)
    torch.testing.assert_close(model.w_out.grad, dense[1], rtol=1e-4, atol=1e-8)
