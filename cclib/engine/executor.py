"""Where sweeps train: in this process (the default) or sharded over a Dask cluster (issue 11).

One setting for the whole library, read from ``$CCBOOK_EXECUTOR`` (the command line's
``--executor`` sets it for every chapter it runs):

- ``inprocess`` (or unset): every sweep trains as one batched run in the process that asks
  for it, exactly as before this module existed (same cache keys, same numbers);
- ``local:N``: a Dask ``LocalCluster`` of ``N`` single-threaded worker processes, started
  on the first sharded sweep (``python -m cclib run/build`` start one for all chapters and
  hand its address to them);
- ``tcp://host:port`` (any Dask scheduler address): a running scheduler, checked to answer
  before any work (:func:`check_executor`).

A sweep of ``K`` instances is split into shards of consecutive instances
(:func:`shard_ranges`); each shard trains as one task wherever the cluster puts it and is
cached under its own key (:func:`shard_config`: the sweep's configuration plus the shard's
instance range), so a rerun, a crash or a second build reuses every finished shard. The
merged result is stored under the whole sweep's own key as well, so in-process and
distributed runs reuse each other's work. Every instance keeps its own seeds and data
stream, so a shard's instances equal the same instances of the whole batched run (float
tolerance). Workers that advertise a ``GPU`` resource take GPU work, one shard per GPU.

:func:`cached_compute` is ``Cache.get_or_compute`` under a per-entry compute lock: two
processes (two builds, two chapters, two workers) asking for one entry never train it at
once; the second waits and then loads the first one's result.

The engine imports nothing above it: a caller hands :func:`run_sharded` a picklable
``train_shard(start, stop, checkpointer) -> payload`` and a ``merge(payloads) -> payload``.
Dask is imported only when a cluster is used.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from . import progress
from .cache import Cache, Checkpointer, _locked, config_key
from .errors import SettingError

__all__ = [
    "ENV",
    "LABEL_ENV",
    "SHARD_ENV",
    "ExecutorError",
    "ExecutorSetting",
    "cached_compute",
    "check_executor",
    "close_client",
    "executor_label",
    "executor_setting",
    "get_client",
    "parse_executor",
    "run_sharded",
    "run_sharded_many",
    "shard_config",
    "shard_ranges",
    "start_local_cluster",
]

ENV = "CCBOOK_EXECUTOR"
"""The executor setting: ``inprocess`` (default), ``local:N`` or a scheduler address."""
LABEL_ENV = "CCBOOK_EXECUTOR_LABEL"
"""How chapters name the executor when the runner replaced ``local:N`` by its address."""
SHARD_ENV = "CCBOOK_SHARD_SIZE"
"""Instances per shard (default: the sweep split evenly over the workers or GPUs)."""

IN_PROCESS = "inprocess"
CONNECT_TIMEOUT_S = 5.0
_COMPUTE_LOCK = ".compute.lock"


class ExecutorError(SettingError):
    """The executor setting is malformed, or its scheduler does not answer."""


@dataclass(frozen=True)
class ExecutorSetting:
    """A parsed executor setting: ``kind`` is ``inprocess``, ``local`` or ``address``."""

    kind: str = IN_PROCESS
    workers: int = 0  # local: worker processes
    address: str = ""  # address: the scheduler

    @property
    def in_process(self) -> bool:
        return self.kind == IN_PROCESS

    def __str__(self) -> str:
        if self.kind == "local":
            return f"local:{self.workers}"
        return self.address if self.kind == "address" else IN_PROCESS


def parse_executor(text: str | None, source: str = ENV) -> ExecutorSetting:
    """``inprocess`` / ``local:N`` / ``scheme://host:port`` as an :class:`ExecutorSetting`;
    anything else is an :class:`ExecutorError` naming ``source`` and the accepted forms."""
    value = (text or "").strip()
    if value in ("", IN_PROCESS, "in-process", "none"):
        return ExecutorSetting()
    if value.startswith("local"):
        _, _, count = value.partition(":")
        if count.isdigit() and int(count) >= 1:
            return ExecutorSetting("local", workers=int(count))
        raise ExecutorError(
            f"{source}={value!r}: a local cluster is local:N with N >= 1 workers (e.g. local:2)"
        )
    parsed = urlparse(value)
    if parsed.scheme and parsed.netloc:
        return ExecutorSetting("address", address=value)
    raise ExecutorError(
        f"{source}={value!r} is not an executor; use inprocess, local:N (a local Dask "
        "cluster of N workers) or a Dask scheduler address such as tcp://host:8786"
    )


def executor_setting() -> ExecutorSetting:
    """The setting ``$CCBOOK_EXECUTOR`` names (default: in-process)."""
    return parse_executor(os.environ.get(ENV))


def executor_label() -> str:
    """The executor as chapters show it in their header line."""
    return os.environ.get(LABEL_ENV) or str(executor_setting())


def check_executor(
    setting: ExecutorSetting | None = None, timeout: float = CONNECT_TIMEOUT_S
) -> ExecutorSetting:
    """The setting (default: ``$CCBOOK_EXECUTOR``) after checking that a scheduler address
    accepts connections; raises :class:`ExecutorError` naming the address. Cheap: a plain
    TCP connection, no Dask import (``inprocess`` and ``local:N`` need no check)."""
    setting = executor_setting() if setting is None else setting
    if setting.kind != "address":
        return setting
    parsed = urlparse(setting.address)
    if parsed.scheme not in ("tcp", "tls"):
        return setting  # other Dask transports (ucx, inproc): the client reports problems
    try:
        host, port = parsed.hostname, parsed.port
    except ValueError:
        host, port = None, None
    if not host or port is None:
        raise ExecutorError(f"executor {setting.address!r}: the address needs a host and a port")
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ExecutorError(
            f"executor {setting.address!r}: no Dask scheduler answers there ({reason}); "
            "start one (dask scheduler) or choose --executor local:N or inprocess"
        ) from None
    return setting


# --------------------------------------------------------------------------- clusters

_client_lock = threading.Lock()
_client: Any = None
_client_setting: ExecutorSetting | None = None
_cluster: Any = None


def start_local_cluster(workers: int) -> Any:
    """A Dask ``LocalCluster`` of ``workers`` single-threaded processes (no dashboard).
    Each worker advertises one ``GPU`` resource when torch sees a CUDA device."""
    import logging

    import torch
    from distributed import LocalCluster

    resources = {"GPU": 1} if torch.cuda.is_available() else None
    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
        resources=resources,
    )


def get_client(setting: ExecutorSetting | None = None) -> Any:
    """The process's Dask client for ``setting`` (default: ``$CCBOOK_EXECUTOR``), made on
    first use (starting a ``LocalCluster`` for ``local:N``) and closed at exit."""
    global _client, _client_setting, _cluster
    setting = executor_setting() if setting is None else setting
    if setting.in_process:
        raise ValueError("the in-process executor has no Dask client")
    with _client_lock:
        if _client is not None and _client_setting == setting:
            return _client
        close_client()
        from distributed import Client

        if setting.kind == "local":
            _cluster = start_local_cluster(setting.workers)
            _client = Client(_cluster)
        else:
            check_executor(setting)
            try:
                _client = Client(setting.address, timeout=CONNECT_TIMEOUT_S)
            except OSError as exc:
                raise ExecutorError(
                    f"executor {setting.address!r}: no Dask scheduler answers there ({exc})"
                ) from None
        _client_setting = setting
        return _client


def close_client() -> None:
    """Close the process's client and the local cluster it started, if any."""
    global _client, _client_setting, _cluster
    if _client is not None:
        with contextlib.suppress(Exception):
            _client.close()
    if _cluster is not None:
        with contextlib.suppress(Exception):
            _cluster.close()
    _client, _client_setting, _cluster = None, None, None


atexit.register(close_client)


def _gpu_workers(client: Any) -> int:
    """Workers of the cluster that advertise a ``GPU`` resource."""
    workers = client.scheduler_info().get("workers", {}).values()
    return sum(1 for w in workers if w.get("resources", {}).get("GPU", 0) >= 1)


def _workers(client: Any) -> int:
    return max(1, len(client.scheduler_info().get("workers", {})))


# --------------------------------------------------------------------------- shards


def shard_ranges(total: int, size: int) -> list[tuple[int, int]]:
    """Consecutive ``[start, stop)`` instance ranges of at most ``size`` covering ``total``,
    as even as possible (``shard_ranges(10, 4)`` gives sizes 4, 3, 3)."""
    if total < 1 or size < 1:
        raise ValueError(f"need total >= 1 and size >= 1, got {total} and {size}")
    count = math.ceil(total / size)
    bounds = [round(i * total / count) for i in range(count + 1)]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def shard_size(total: int, slots: int) -> int:
    """Instances per shard: ``$CCBOOK_SHARD_SIZE`` if set, else the sweep split evenly over
    ``slots`` (the cluster's workers, or its GPUs for GPU work: on a GPU one big batch per
    device is fastest; on CPUs one shard per worker keeps the batching gain)."""
    if env := os.environ.get(SHARD_ENV):
        if not env.isdigit() or int(env) < 1:
            raise ExecutorError(f"{SHARD_ENV}={env!r} must be a positive integer")
        return int(env)
    return max(1, math.ceil(total / max(1, slots)))


def shard_config(config: Mapping[str, Any], start: int, stop: int) -> dict[str, Any]:
    """The cache configuration of instances ``[start, stop)`` of the sweep ``config``."""
    return {"kind": "shard", "sweep": dict(config), "instances": [int(start), int(stop)]}


def _compute_lock(directory: Path) -> contextlib.AbstractContextManager[None]:
    """Exclusive lock held while an entry is computed (a file apart from the cache's own
    read/write lock, which the checkpointer takes during the computation)."""
    return _locked(directory, _COMPUTE_LOCK)


def cached_compute(
    cache: Cache | None,
    config: Mapping[str, Any],
    compute: Callable[[Checkpointer], Mapping[str, Any]],
) -> dict[str, Any]:
    """``cache.get_or_compute(config, compute)`` such that no two processes compute one
    entry at once: the first computes under the entry's compute lock, a second waits for
    the lock and then loads the stored entry. Without a cache, just ``compute``."""
    if cache is None:
        return dict(compute(None))  # type: ignore[arg-type]  # train takes None
    key = config_key(config)
    if (payload := cache.load(config)) is not None:
        progress.emit("entry", key=key, kind=config.get("kind"), cached=True)
        return payload
    with _compute_lock(cache.path(config)):
        computed: list[bool] = []

        def counted(checkpointer: Checkpointer) -> Mapping[str, Any]:
            computed.append(True)
            return compute(checkpointer)

        payload = cache.get_or_compute(config, counted)
    progress.emit("entry", key=key, kind=config.get("kind"), cached=not computed)
    return payload


def _run_shard(
    root: str | None,
    config: dict[str, Any],
    train_shard: Callable[[int, int, Checkpointer], Mapping[str, Any]],
    start: int,
    stop: int,
) -> dict[str, Any]:
    """One shard on a worker: cached under its own key in the cache at ``root``."""
    cache = Cache(root) if root is not None else None
    return cached_compute(cache, config, lambda ckpt: train_shard(start, stop, ckpt))


def run_sharded(
    config: Mapping[str, Any],
    instances: int,
    train_shard: Callable[[int, int, Checkpointer], Mapping[str, Any]],
    merge: Callable[[Sequence[Mapping[str, Any]]], Mapping[str, Any]],
    cache: Cache | None = None,
    setting: ExecutorSetting | None = None,
    gpu: bool | None = None,
) -> dict[str, Any]:
    """The payload of the sweep ``config`` of ``instances`` instances.

    In-process (the default): ``cached_compute(cache, config, lambda c: train_shard(0,
    instances, c))``, the whole sweep as one batched run under its own key. On a cluster:
    the cached whole entry if present; else the shards are trained as tasks (each cached
    under :func:`shard_config`), merged in order with ``merge``, stored under ``config``
    (under its compute lock, as in-process) and returned. ``train_shard`` and ``merge``
    must be picklable (module-level functions or ``functools.partial`` of them; Dask's
    cloudpickle also takes closures). ``gpu``
    asks for workers with a ``GPU`` resource (default: whenever the cluster has some).
    """
    setting = executor_setting() if setting is None else setting
    if setting.in_process:
        return cached_compute(cache, config, lambda ckpt: train_shard(0, instances, ckpt))
    root = str(Path(cache.root).resolve()) if cache is not None else None  # workers: other cwd

    def shards(_: Checkpointer) -> Mapping[str, Any]:
        client = get_client(setting)
        gpus = _gpu_workers(client)
        if gpu and not gpus:
            raise ExecutorError(f"executor {setting}: the sweep needs a GPU but no worker has one")
        use_gpu = gpus > 0 if gpu is None else gpu
        size = shard_size(instances, gpus if use_gpu else _workers(client))
        futures = []
        for start, stop in shard_ranges(instances, size):
            part = shard_config(config, start, stop)
            futures.append(
                client.submit(
                    _run_shard,
                    root,
                    part,
                    train_shard,
                    start,
                    stop,
                    key=f"ccbook-shard-{config_key(part)}",
                    resources={"GPU": 1} if use_gpu else None,
                    pure=False,
                )
            )
        return merge(client.gather(futures))

    # the whole entry's compute lock: a second build asking for this sweep waits, then loads
    return cached_compute(cache, config, shards)


def run_sharded_many(
    sweeps: Sequence[tuple[Mapping[str, Any], int, Callable, Callable]],
    cache: Cache | None = None,
    setting: ExecutorSetting | None = None,
) -> list[dict[str, Any]]:
    """:func:`run_sharded` of several independent sweeps, each ``(config, instances,
    train_shard, merge)``, in order. In-process one after the other (as separate calls
    would); on a cluster all at once, so the shards of every sweep share the workers
    (e.g. one Universal-AND run per ``s``)."""
    setting = executor_setting() if setting is None else setting
    if setting.in_process or len(sweeps) < 2:
        return [run_sharded(*sweep, cache=cache, setting=setting) for sweep in sweeps]
    from concurrent.futures import ThreadPoolExecutor

    get_client(setting)  # start the cluster once, before the threads ask for it
    with ThreadPoolExecutor(max_workers=len(sweeps)) as pool:
        futures = [pool.submit(run_sharded, *s, cache=cache, setting=setting) for s in sweeps]
        return [f.result() for f in futures]
