"""The executor (issue 11): settings, shards, the compute lock under load, a Dask cluster.

The cluster tests use one small ``LocalCluster`` (2 single-threaded worker processes) and
toy shard functions, so they take seconds; ``tests/compressed/test_sharded_sweeps.py``
trains real sweeps through it.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import sys
import time
import warnings
from pathlib import Path

import cloudpickle
import pytest
import torch

from cclib.engine import executor
from cclib.engine.cache import Cache, CacheWarning, config_key
from cclib.engine.executor import (
    ExecutorError,
    ExecutorSetting,
    cached_compute,
    check_executor,
    parse_executor,
    run_sharded,
    shard_config,
    shard_ranges,
)

# Dask workers cannot import this test module: ship its functions by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


# --------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    "text,expected",
    [
        (None, ExecutorSetting()),
        ("", ExecutorSetting()),
        ("inprocess", ExecutorSetting()),
        ("local:2", ExecutorSetting("local", workers=2)),
        ("tcp://10.0.0.5:8786", ExecutorSetting("address", address="tcp://10.0.0.5:8786")),
    ],
)
def test_parse_executor(text, expected):
    setting = parse_executor(text)
    assert setting == expected
    assert parse_executor(str(setting)) == setting  # round trip through the env variable


@pytest.mark.parametrize("text", ["local", "local:0", "local:x", "cluster", "8786", "host:8786"])
def test_parse_executor_refuses_malformed(text):
    with pytest.raises(ExecutorError, match="--executor") as info:
        parse_executor(text, "--executor")
    assert "\n" not in str(info.value)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler_is_one_clear_error_at_once():
    address = f"tcp://127.0.0.1:{_free_port()}"
    start = time.perf_counter()
    with pytest.raises(ExecutorError) as info:
        check_executor(parse_executor(address))
    assert time.perf_counter() - start < executor.CONNECT_TIMEOUT_S + 1
    assert address in str(info.value) and "no Dask scheduler answers" in str(info.value)
    assert "\n" not in str(info.value)


def test_in_process_and_local_need_no_check(monkeypatch):
    monkeypatch.delenv(executor.ENV, raising=False)
    assert check_executor() == ExecutorSetting()
    assert check_executor(parse_executor("local:3")).workers == 3


# --------------------------------------------------------------------------- shards


@pytest.mark.parametrize("total,size", [(1, 1), (10, 4), (18, 9), (7, 100), (82, 5)])
def test_shard_ranges_cover_every_instance_once(total, size):
    ranges = shard_ranges(total, size)
    assert [i for a, b in ranges for i in range(a, b)] == list(range(total))
    assert max(b - a for a, b in ranges) <= size
    assert max(b - a for a, b in ranges) - min(b - a for a, b in ranges) <= 1


def test_shard_keys_are_their_own_and_leave_the_sweep_key_alone():
    config = {"kind": "mlp_sweep", "instances": [{"seed": 0}, {"seed": 1}], "n": 100}
    before = config_key(config)
    keys = {config_key(shard_config(config, a, b)) for a, b in [(0, 1), (1, 2), (0, 2)]}
    assert len(keys) == 3 and before not in keys
    assert config_key(config) == before  # shard_config does not touch the sweep's config


def test_shard_size_from_the_environment(monkeypatch):
    monkeypatch.setenv(executor.SHARD_ENV, "3")
    assert executor.shard_size(10, 2) == 3
    monkeypatch.setenv(executor.SHARD_ENV, "0")
    with pytest.raises(ExecutorError, match=executor.SHARD_ENV):
        executor.shard_size(10, 2)
    monkeypatch.delenv(executor.SHARD_ENV)
    assert executor.shard_size(10, 2) == 5 and executor.shard_size(10, 4) == 3


# --------------------------------------------------------------------------- compute lock


def _logged_compute(log: str, name: str, seconds: float):
    """A compute function that appends its start and end to ``log`` (one JSON per line)."""

    def compute(ckpt) -> dict:
        with open(log, "a") as f:
            f.write(json.dumps({"pid": os.getpid(), "config": name, "at": "start"}) + "\n")
        time.sleep(seconds)
        with open(log, "a") as f:
            f.write(json.dumps({"pid": os.getpid(), "config": name, "at": "end"}) + "\n")
        return {"name": name, "values": torch.arange(1000.0) * len(name)}

    return compute


def _contender(root: str, log: str, names: list[str], out: str) -> None:
    """One 'build': asks for every config of ``names`` in its order, records what it got."""
    cache = Cache(root)
    got = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)  # a corrupt entry would fail here
        for name in names:
            payload = cached_compute(cache, {"entry": name}, _logged_compute(log, name, 0.3))
            got[name] = float(payload["values"].sum())
    Path(out).write_text(json.dumps(got))


def test_two_builds_sharing_a_cache_never_train_an_entry_twice(tmp_path):
    """Four processes (two builds' worth of chapters and workers) ask for the same five
    entries in different orders: each entry is computed exactly once, nobody reads a
    partial entry, and everyone gets the same values."""
    root, log = str(tmp_path / "cache"), str(tmp_path / "log.jsonl")
    names = [f"sweep-{i}" for i in range(5)]
    orders = [names, names[::-1], names[2:] + names[:2], names[1::2] + names[::2]]
    context = multiprocessing.get_context("spawn")
    procs = [
        context.Process(target=_contender, args=(root, log, order, str(tmp_path / f"{i}.json")))
        for i, order in enumerate(orders)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    events = [json.loads(line) for line in Path(log).read_text().splitlines()]
    starts = [e["config"] for e in events if e["at"] == "start"]
    assert sorted(starts) == sorted(names), "an entry was computed more than once"
    for name in names:  # the start and end of one entry's computation are adjacent in time
        mine = [i for i, e in enumerate(events) if e["config"] == name]
        assert events[mine[0]]["pid"] == events[mine[1]]["pid"]
    results = [json.loads((tmp_path / f"{i}.json").read_text()) for i in range(len(orders))]
    assert all(r == results[0] for r in results)
    for name in names:
        assert Cache(root).load({"entry": name})["name"] == name


def test_cached_compute_without_cache_just_computes():
    assert cached_compute(None, {"x": 1}, lambda ckpt: {"ckpt": ckpt is None}) == {"ckpt": True}


# --------------------------------------------------------------------------- a Dask cluster


def _toy_shard(log: str, start: int, stop: int, checkpointer) -> dict:
    """Instance k's 'training' is a function of k alone (as a seeded instance is)."""
    with open(log, "a") as f:
        f.write(f"{start} {stop} {os.getpid()}\n")
    k = torch.arange(start, stop, dtype=torch.float64)
    return {"weights": torch.outer(k, torch.ones(3)), "horizons": [int(i) + 1 for i in k]}


def _toy_merge(parts: list[dict]) -> dict:
    return {
        "weights": torch.cat([p["weights"] for p in parts]),
        "horizons": [h for p in parts for h in p["horizons"]],
    }


@pytest.fixture(scope="module")
def local2():
    """``local:2`` for this module's tests: one LocalCluster, closed at the end."""
    setting = parse_executor("local:2")
    yield setting
    executor.close_client()


def test_sharded_run_on_a_local_cluster_equals_in_process(local2, tmp_path):
    import functools

    log = str(tmp_path / "calls.log")
    shard = functools.partial(_toy_shard, log)
    config = {"kind": "toy", "instances": 7}
    whole = run_sharded(config, 7, shard, _toy_merge, None, ExecutorSetting())
    cache = Cache(tmp_path / "cache")
    sharded = run_sharded(config, 7, shard, _toy_merge, cache, local2)
    assert torch.equal(whole["weights"], sharded["weights"])
    assert whole["horizons"] == sharded["horizons"]
    calls = Path(log).read_text().splitlines()
    shards = sorted(tuple(map(int, line.split()[:2])) for line in calls[1:])
    assert shards == [(0, 4), (4, 7)]  # one shard per worker
    assert {line.split()[2] for line in calls[1:]}.isdisjoint({str(os.getpid())})
    for a, b in shards:  # every shard is cached under its own key, the merge under the sweep's
        assert cache.load(shard_config(config, a, b)) is not None
    assert torch.equal(cache.load(config)["weights"], whole["weights"])
    again = run_sharded(config, 7, shard, _toy_merge, cache, local2)  # all cached now
    in_process = run_sharded(config, 7, shard, _toy_merge, cache, ExecutorSetting())
    assert len(Path(log).read_text().splitlines()) == len(calls)  # nothing trained again
    assert torch.equal(again["weights"], whole["weights"])
    assert torch.equal(in_process["weights"], whole["weights"])


def test_finished_shards_are_reused_after_a_crash(local2, tmp_path):
    """A sweep whose merge never happened (the client died) reuses its finished shards."""
    import functools

    log = str(tmp_path / "calls.log")
    shard = functools.partial(_toy_shard, log)
    config = {"kind": "toy", "instances": 6}
    cache = Cache(tmp_path / "cache")
    cache.save(shard_config(config, 0, 3), _toy_shard(str(tmp_path / "pre.log"), 0, 3, None))
    result = run_sharded(config, 6, shard, _toy_merge, cache, local2)
    assert [line.split()[:2] for line in Path(log).read_text().splitlines()] == [["3", "6"]]
    assert result["horizons"] == list(range(1, 7))


def test_several_sweeps_share_the_cluster(local2, tmp_path):
    import functools

    shard = functools.partial(_toy_shard, str(tmp_path / "calls.log"))
    sweeps = [({"kind": "toy", "part": s}, 3 + s, shard, _toy_merge) for s in range(3)]
    cache = Cache(tmp_path / "cache")
    together = executor.run_sharded_many(sweeps, cache, local2)
    alone = executor.run_sharded_many(sweeps, None, ExecutorSetting())
    for a, b in zip(together, alone, strict=True):
        assert torch.equal(a["weights"], b["weights"])
