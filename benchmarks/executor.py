"""The executor's cost and gain (issue 11): the mixing chapter's sigma sweep in-process
against a Dask LocalCluster, and the scheduling overhead of one shard.

    .venv/bin/python benchmarks/executor.py [--profile quick] [--workers 2]

Every run trains into a fresh, private cache (nothing is loaded from ``.cache``). Prints a
table and writes ``benchmarks/executor.json`` (not committed). On a CPU shared with other
jobs the numbers are noisy: the load average before and after is part of the output.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # workers get 1 thread each; match in-process
os.environ.setdefault("CCBOOK_PROGRESS", "0")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from cclib.book.specs import get_spec  # noqa: E402
from cclib.compressed import experiments as ex  # noqa: E402
from cclib.engine import executor  # noqa: E402
from cclib.engine.cache import Cache  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def sigma_sweep(profile: str) -> ex.MLPSweep:
    """The mixing chapter's sigma sweep (book/mixing.py, 'Loss against the size of M')."""
    cfg = get_spec("mixing").resolve(profile)
    sigmas = np.linspace(0, cfg.sigma_max, cfg.sigma_points)
    kinds = ["symmetric", "gaussian"]
    settings = [dict(p=cfg.p, mixing=k, sigma=float(s)) for k in kinds for s in sigmas]
    return ex.grid_sweep(cfg, settings, cfg.sigma_seeds, cfg.vary_matrix)


def _cpu_seconds() -> float:
    return time.process_time()


def cpu_seconds(setting: str) -> float:
    """CPU seconds used so far by the processes that train under ``setting`` (this one, or
    the cluster's workers together)."""
    parsed = executor.parse_executor(setting)
    if parsed.in_process:
        return _cpu_seconds()
    return sum(executor.get_client(parsed).run(_cpu_seconds).values())


def timed_sweep(sweep: ex.MLPSweep, setting: str) -> tuple[float, float, ex.SweepResult]:
    """Wall and CPU seconds to train ``sweep`` from scratch under ``setting`` (a cluster
    already started). The CPU seconds do not depend on other jobs' load; the wall time does."""
    os.environ[executor.ENV] = setting
    with tempfile.TemporaryDirectory(prefix="ccbook-bench-") as root:
        cpu = cpu_seconds(setting)
        start = time.perf_counter()
        result = ex.run_mlp_sweep(sweep, Cache(root), description="sigma sweep")
        wall = time.perf_counter() - start
        return wall, cpu_seconds(setting) - cpu, result


def _nothing(start: int, stop: int, checkpointer) -> dict:
    return {"x": torch.zeros(stop - start)}


def _merge(parts: list[dict]) -> dict:
    return {"x": torch.cat([p["x"] for p in parts])}


def shard_overhead(setting: executor.ExecutorSetting, shards: int, cached: bool) -> float:
    """Seconds per shard of a sweep of ``shards`` one-instance shards that do no work:
    submission, scheduling, the worker call, (the shard's cache entry,) the result's trip
    back and the merge."""
    os.environ[executor.SHARD_ENV] = "1"
    try:
        with tempfile.TemporaryDirectory(prefix="ccbook-bench-") as root:
            cache = Cache(root) if cached else None
            config = {"kind": "overhead", "shards": shards, "cached": cached}
            start = time.perf_counter()
            executor.run_sharded(config, shards, _nothing, _merge, cache, setting)
            return (time.perf_counter() - start) / shards
    finally:
        del os.environ[executor.SHARD_ENV]


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="quick", help="mixing chapter profile")
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster workers")
    parser.add_argument("--overhead-shards", type=int, default=40, help="shards timed")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "executor.json"))
    args = parser.parse_args(argv)
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    sweep = sigma_sweep(args.profile)
    out: dict = {
        "profile": args.profile,
        "instances": len(sweep.instances),
        "steps": sweep.train.steps,
        "cpus": os.cpu_count(),
        "load_before": load(),
    }
    local = executor.parse_executor(f"local:{args.workers}")
    seconds, cpu, whole = timed_sweep(sweep, "inprocess")
    out["in_process_s"], out["in_process_cpu_s"] = seconds, cpu
    start = time.perf_counter()
    executor.get_client(local)
    out["cluster_start_s"] = time.perf_counter() - start
    seconds, cpu, sharded = timed_sweep(sweep, str(local))
    out[f"local_{args.workers}_s"], out[f"local_{args.workers}_cpu_s"] = seconds, cpu
    out["speedup"] = out["in_process_s"] / seconds
    out["max_weight_difference"] = max(
        float((whole.state[k] - sharded.state[k]).abs().max()) for k in whole.state
    )
    for cached in (False, True):
        name = "overhead_per_shard_cached_ms" if cached else "overhead_per_shard_ms"
        out[name] = 1000 * shard_overhead(local, args.overhead_shards, cached)
    executor.close_client()
    out["load_after"] = load()
    Path(args.output).write_text(json.dumps(out, indent=1))
    w = args.workers
    print(
        f"mixing sigma sweep ({args.profile}: {out['instances']} instances x {out['steps']} "
        f"steps), {out['cpus']} CPUs, load average {out['load_before']} -> {out['load_after']}"
    )
    print(
        f"  in-process (one batched run)        {out['in_process_s']:8.1f} s wall "
        f"{out['in_process_cpu_s']:8.1f} s CPU"
    )
    print(
        f"  LocalCluster, {w} workers ({w} shards)  {out[f'local_{w}_s']:8.1f} s wall "
        f"{out[f'local_{w}_cpu_s']:8.1f} s CPU (speed-up {out['speedup']:.2f}x; cluster "
        f"start {out['cluster_start_s']:.1f} s not included)"
    )
    print(f"  largest weight difference           {out['max_weight_difference']:.2e}")
    print(
        f"scheduling overhead per shard ({args.overhead_shards} empty shards): "
        f"{out['overhead_per_shard_ms']:.1f} ms; with its cache entry "
        f"{out['overhead_per_shard_cached_ms']:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
