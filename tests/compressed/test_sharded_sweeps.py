"""Sweeps through the executor (issue 11): unchanged cache keys, shards equal the whole
batched run, a 2-worker LocalCluster gives the in-process result, and a worker killed in
the middle of a shard is retried elsewhere with the same result."""

from __future__ import annotations

import dataclasses
import functools
import os
import signal
import sys
from pathlib import Path

import cloudpickle
import pytest
import torch

from cclib.book.specs import get_spec
from cclib.compressed import experiments as ex
from cclib.engine import executor
from cclib.engine.cache import Cache, config_key
from cclib.engine.executor import ExecutorSetting, parse_executor, run_sharded, shard_config
from cclib.engine.training import TrainConfig

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests


def mlp_sweep(steps: int = 60) -> ex.MLPSweep:
    """Mixed horizons (nonempty_steps, two p), a learned and a fixed scale, an exactly-k
    instance: every way instances of one sweep differ."""
    instances = (
        ex.CCInstance(seed=0, p=0.05, mixing="gaussian", sigma=0.02),
        ex.CCInstance(seed=1, p=0.1, mixing="symmetric", sigma=0.03, learn_sigma=True),
        ex.CCInstance(seed=2, p=0.05, mixing="clean", active=1),
        ex.CCInstance(seed=3, p=0.1, mixing="embedding"),
        ex.CCInstance(seed=4, p=0.05, mixing="gaussian", sigma=0.01, sign=-1),
    )
    return ex.MLPSweep(
        instances, TrainConfig(steps=steps, batch_size=64), n=20, d=10, nonempty_steps=True
    )


def residual_sweep() -> ex.ResidualSweep:
    return ex.ResidualSweep(
        seeds=(0, 1, 2), embedding_seeds=(3, 4, 5), p=0.05, train=TrainConfig(40, 32), n=20, d=10
    )


def assert_close(a, b, atol: float = 1e-6) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].shape == b[k].shape, k
        torch.testing.assert_close(a[k], b[k], atol=atol, rtol=1e-5, msg=k)


def assert_same_result(a: ex.SweepResult, b: ex.SweepResult, atol: float = 1e-6) -> None:
    assert_close(a.state, b.state, atol)
    assert_close(a.task_state, b.task_state, atol)
    torch.testing.assert_close(a.losses, b.losses, atol=atol, rtol=1e-5, equal_nan=True)
    assert a.horizons == b.horizons and a.loss_window == b.loss_window


@pytest.fixture(autouse=True)
def in_process_default(monkeypatch):
    monkeypatch.delenv(executor.ENV, raising=False)
    monkeypatch.delenv(executor.SHARD_ENV, raising=False)


# --------------------------------------------------------------------------- keys


def test_cache_keys_of_existing_sweeps_are_unchanged():
    """Keys recorded under ``CACHE_SCHEMA`` 4 (issue 15's sampler; the executor of issue 11
    kept the keys of schema 3): sharding, refactoring or moving code never changes a key,
    so a reader's cache stays valid; only a schema bump, on purpose, does."""
    assert config_key(
        ex.MLPSweep(
            (
                ex.CCInstance(seed=0, p=0.05, mixing="gaussian", sigma=0.02),
                ex.CCInstance(seed=1, p=0.02, mixing="clean", active=1),
            ),
            TrainConfig(steps=50, batch_size=64),
            n=20,
            d=10,
            nonempty_steps=True,
        ).config()
    ) == ("e91fbb1c46d6721956b5")
    residual = ex.ResidualSweep((0, 1), (3, 4), 0.05, TrainConfig(40, 32), n=20, d=10, width=30)
    assert config_key(residual.config()) == "91cd0d2fad927d016241"
    for profile, key in [("smoke", "862ee93c0bb8d97da910"), ("quick", "beb02e8ffce1a857db7a")]:
        cfg = get_spec("mixing").resolve(profile)
        assert config_key(ex.mixing_conditions_sweep(cfg).config()) == key, profile


# --------------------------------------------------------------------------- shards


def _shards(sweep_result_args, ranges) -> dict:
    build, train, seeds, horizons = sweep_result_args
    parts = [
        ex._train_shard(build, train, seeds, horizons, "cpu", "t", False, a, b, None)
        for a, b in ranges
    ]
    return ex.merge_shards(parts)


def test_shards_equal_the_whole_batched_run():
    """Each instance keeps its seeds and data stream: instances trained in shards of 2, 1
    and 2 equal the same instances of the one batched run (float tolerance)."""
    sweep = mlp_sweep()
    whole = ex.run_mlp_sweep(sweep, None, "cpu")
    assert len(set(whole.horizons)) == 2  # the shards have shorter runs than the sweep
    args = (
        functools.partial(ex._build_mlp_shard, sweep, None),
        sweep.train,
        [i.seed for i in sweep.instances],
        sweep.horizons(),
    )
    merged = _shards(args, [(0, 2), (2, 3), (3, 5)])
    result = ex.SweepResult(
        whole.config, merged["model"], merged["task"], merged["losses"], merged["horizons"]
    )
    assert_same_result(whole, result)


def test_residual_shards_equal_the_whole_batched_run():
    sweep = residual_sweep()
    whole = ex.run_residual_sweep(sweep, None, "cpu")
    args = (
        functools.partial(ex._build_residual_shard, sweep),
        sweep.train,
        list(sweep.seeds),
        sweep.horizons(),
    )
    merged = _shards(args, [(0, 1), (1, 3)])
    assert_close(whole.state, merged["model"])
    torch.testing.assert_close(whole.losses, merged["losses"], atol=1e-6, rtol=1e-5)


def test_initial_weights_are_sliced_per_shard():
    sweep = mlp_sweep(30)
    start = ex.load_mlp(ex.run_mlp_sweep(mlp_sweep(20), None, "cpu"))
    whole = ex.run_mlp_sweep(sweep, None, "cpu", initial=start)
    weights = (start.w_in.detach(), start.w_out.detach())
    args = (
        functools.partial(ex._build_mlp_shard, sweep, weights),
        sweep.train,
        [i.seed for i in sweep.instances],
        sweep.horizons(),
    )
    assert_close(whole.state, _shards(args, [(0, 3), (3, 5)])["model"])


# --------------------------------------------------------------------------- the cluster


@pytest.fixture(scope="module")
def local2():
    yield parse_executor("local:2")
    executor.close_client()


def test_local_cluster_sweep_equals_in_process(local2, tmp_path, monkeypatch):
    sweep = mlp_sweep()
    whole = ex.run_mlp_sweep(sweep, None, "cpu")
    cache = Cache(tmp_path / "cache")
    monkeypatch.setenv(executor.ENV, str(local2))
    sharded = ex.run_mlp_sweep(sweep, cache)
    assert_same_result(whole, sharded)
    assert executor.shard_ranges(5, 3) == [(0, 2), (2, 5)]
    for a, b in [(0, 2), (2, 5)]:  # two workers: two shards, each under its own key
        assert cache.load(shard_config(sweep.config(), a, b)) is not None
    monkeypatch.setenv(executor.ENV, "inprocess")  # the in-process run finds the merged entry
    assert cache.load(sweep.config()) is not None
    assert_same_result(whole, ex.run_mlp_sweep(sweep, cache))


class _KillAfterFirstCheckpoint:
    """A checkpointer that kills its worker process right after the first checkpoint."""

    def __init__(self, inner, marker: str):
        self.inner, self.marker = inner, marker

    def load(self):
        return self.inner.load()

    def save(self, state) -> None:
        self.inner.save(state)
        Path(self.marker).write_text(f"{os.getpid()} at step {state['step']}")
        os.kill(os.getpid(), signal.SIGKILL)


def _faulty_shard(inner, marker: str, start: int, stop: int, checkpointer):
    if start == 0 and not os.path.exists(marker):
        checkpointer = _KillAfterFirstCheckpoint(checkpointer, marker)
    return inner(start, stop, checkpointer)


def test_worker_killed_mid_shard_is_retried_with_the_same_result(local2, tmp_path):
    """The first attempt at shard 0 dies (SIGKILL) right after its step-1000 checkpoint;
    Dask retries the task on a live worker, which resumes from that checkpoint; the sweep
    completes and equals an uninterrupted in-process run."""
    sweep = dataclasses.replace(mlp_sweep(), train=TrainConfig(steps=1100, batch_size=32))
    whole = ex.run_mlp_sweep(sweep, None, "cpu")
    seeds, horizons = [i.seed for i in sweep.instances], sweep.horizons()
    inner = functools.partial(
        ex._train_shard,
        functools.partial(ex._build_mlp_shard, sweep, None),
        sweep.train,
        seeds,
        horizons,
        "cpu",
        "t",
        False,
    )
    marker = str(tmp_path / "killed")
    shard = functools.partial(_faulty_shard, inner, marker)
    cache = Cache(tmp_path / "cache")
    payload = run_sharded(sweep.config(), 5, shard, ex.merge_shards, cache, local2)
    assert Path(marker).exists(), "the fault was not injected"
    assert "at step 1000" in Path(marker).read_text()
    result = ex.SweepResult(
        sweep.config(), payload["model"], payload["task"], payload["losses"], payload["horizons"]
    )
    assert_same_result(whole, result)
    assert not (cache.path(shard_config(sweep.config(), 0, 2)) / "checkpoint.pt").exists()


def test_sharded_divergence_names_the_instance_of_the_whole_sweep(local2, tmp_path, monkeypatch):
    sweep = dataclasses.replace(mlp_sweep(), train=TrainConfig(steps=300, batch_size=64, lr=1e6))
    monkeypatch.setenv(executor.ENV, str(local2))
    with pytest.raises(ex.SweepDiverged, match="instance") as info:
        ex.run_mlp_sweep(sweep, Cache(tmp_path / "cache"))
    assert info.value.instance in range(5)
    assert sweep.instances[info.value.instance].setting() in str(info.value)


def test_in_process_run_is_the_whole_batch_under_the_sweep_key(tmp_path):
    sweep = mlp_sweep(20)
    cache = Cache(tmp_path / "cache")
    calls = []
    result = run_sharded(
        sweep.config(),
        5,
        lambda a, b, ckpt: calls.append((a, b)) or {"x": torch.zeros(b - a)},
        ex.merge_shards,
        cache,
        ExecutorSetting(),
    )
    assert calls == [(0, 5)] and result["x"].shape == (5,)
    assert sorted(p.name for p in Path(cache.root).iterdir()) == [config_key(sweep.config())]
