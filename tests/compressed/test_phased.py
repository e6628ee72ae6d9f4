"""Training by parts and phases (cclib.engine.phased): each instance on its own step
implementation and only to its own horizon gives the numbers of one batched run, costs
only the instances' own steps, and resumes mid-plan from its checkpoint."""

from __future__ import annotations

import dataclasses
import functools
import math

import pytest
import torch

from cclib.compressed import experiments as ex
from cclib.engine import phased
from cclib.engine.cache import Cache
from cclib.engine.phased import phase_ends, train_phased
from cclib.engine.training import TrainConfig, train


def sweep() -> ex.MLPSweep:
    """Three horizons (non-empty accounting at three p), sparse and dense inputs (p = 0.6);
    one instance learns its label scale."""
    instances = (
        ex.CCInstance(seed=0, p=0.6, mixing="gaussian", sigma=0.02),
        ex.CCInstance(seed=1, p=0.02, mixing="symmetric", sigma=0.03, learn_sigma=True),
        ex.CCInstance(seed=2, p=0.05, mixing="embedding"),
        ex.CCInstance(seed=3, p=0.02, mixing="clean"),
        ex.CCInstance(seed=4, p=0.6, mixing="gaussian", sigma=0.01),
    )
    return ex.MLPSweep(
        instances, TrainConfig(steps=40, batch_size=64, lr=1e-2), n=20, d=8, nonempty_steps=True
    )


def build(s: ex.MLPSweep):
    return functools.partial(ex._build_mlp_shard, s, None)


def test_phase_ends_merge_close_horizons():
    assert phase_ends([100, 300, 200, 100]) == [100, 200, 300]
    assert phase_ends([100, 101, 102, 150], slack=0.02) == [102, 150]
    assert phase_ends([1000, 1019, 1021], slack=0.02) == [1019, 1021]


def test_phased_equals_one_batched_run_and_steps_each_instance_to_its_horizon(monkeypatch):
    """Parts by step (here the dense inputs on the autograd step, the others on the
    hand-written one) and phases by horizon give the numbers of one batched run."""
    s = sweep()
    seeds, horizons = [i.seed for i in s.instances], s.horizons()
    assert len(set(horizons)) == 3
    dense = {0, 4}
    monkeypatch.setattr(
        phased,
        "instance_paths",
        lambda build, count, path, device: [
            "dense" if i in dense else "sparse" for i in range(count)
        ],
    )
    calls = []

    def counting(model, task, config, seeds, horizons, *args, **kwargs):
        result = train(model, task, config, seeds, horizons, *args, **kwargs)
        calls.append((len(seeds), result.losses.shape[0], kwargs["path"]))
        return result

    monkeypatch.setattr(phased, "train", counting)
    payload = train_phased(build(s), s.train, seeds, horizons, device="cpu", progress=False)
    # the whole sweep in one call of ``train`` (every instance to the longest horizon)
    model, task = build(s)(list(range(len(seeds))))
    whole = train(model, task, s.train, seeds, horizons, device="cpu", progress=False, path="dense")
    for name, value in model.state_dict().items():
        torch.testing.assert_close(payload["model"][name], value, rtol=1e-4, atol=2e-5)
    torch.testing.assert_close(payload["task"]["scale"], task.scale.detach(), rtol=1e-4, atol=1e-5)
    for k, horizon in enumerate(horizons):
        torch.testing.assert_close(
            payload["losses"][:horizon, k], whole.losses[:horizon, k], rtol=1e-3, atol=1e-6
        )
        assert bool(payload["losses"][horizon:, k].isnan().all())
    # each part on its own step, each instance only to its own horizon
    assert {path for _, _, path in calls} == {"sparse", "dense"}
    stepped = 0
    previous = {}
    for count, rows, path in calls:
        stepped += count * (rows - previous.get(path, 0))
        previous[path] = rows
    assert stepped == sum(horizons)


class _StopAfterSaves:
    """A checkpointer that stops the run (an exception) after ``saves`` saves."""

    def __init__(self, inner, saves: int):
        self.inner, self.left = inner, saves

    def load(self):
        return self.inner.load()

    def save(self, state) -> None:
        self.inner.save(state)
        self.left -= 1
        if self.left == 0:
            raise KeyboardInterrupt


@pytest.mark.parametrize("saves", [1, 3, 5])
def test_phased_run_resumes_from_its_checkpoint_bit_for_bit(tmp_path, monkeypatch, saves):
    s = dataclasses.replace(sweep(), train=TrainConfig(steps=60, batch_size=32, lr=1e-2))
    seeds, horizons = [i.seed for i in s.instances], s.horizons()
    monkeypatch.setattr(phased, "train", functools.partial(train, checkpoint_every=20))
    uninterrupted = train_phased(build(s), s.train, seeds, horizons, device="cpu", progress=False)
    checkpointer = Cache(tmp_path).checkpointer({"run": "phased"})
    with pytest.raises(KeyboardInterrupt):
        train_phased(
            build(s),
            s.train,
            seeds,
            horizons,
            _StopAfterSaves(checkpointer, saves),
            device="cpu",
            progress=False,
        )
    assert checkpointer.load() is not None
    resumed = train_phased(
        build(s), s.train, seeds, horizons, checkpointer, device="cpu", progress=False
    )
    for part in ("model", "task"):
        for name, value in uninterrupted[part].items():
            assert torch.equal(resumed[part][name], value), (part, name)
    assert torch.equal(resumed["losses"].nan_to_num(-1.0), uninterrupted["losses"].nan_to_num(-1.0))


def test_equal_horizons_one_step_kind_is_one_plain_run(monkeypatch):
    s = dataclasses.replace(sweep(), nonempty_steps=False)
    s = dataclasses.replace(s, instances=s.instances[1:4])  # sparse step only
    seeds, horizons = [i.seed for i in s.instances], s.horizons()
    calls = []
    monkeypatch.setattr(phased, "train", lambda *a, **k: calls.append(1) or train(*a, **k))
    payload = train_phased(build(s), s.train, seeds, horizons, device="cpu", progress=False)
    assert len(calls) == 1
    assert not bool(payload["losses"].isnan().any())
    assert payload["losses"].shape == (s.train.steps, 3) and math.isfinite(payload["losses"].sum())
