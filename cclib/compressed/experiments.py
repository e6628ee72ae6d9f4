"""Cached, batched training runs that chapters ask for by configuration.

A chapter describes a sweep as a frozen dataclass (one entry per model instance plus the
shared sizes and ``TrainConfig``); ``run_*`` trains every instance in one batched run,
or loads the result from the cache when the same configuration was trained before.
Interrupted runs resume from their last checkpoint. On a Dask cluster
(``cclib.engine.executor``, ``$CCBOOK_EXECUTOR``) the sweep trains in shards of
instances, each cached under its own key, and the merged result is cached under the
sweep's key as well; the key of a sweep is the same either way.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from ..engine.cache import Cache
from ..engine.executor import executor_setting, run_sharded
from ..engine.phased import train_phased
from ..engine.seeding import Stream, make_generator
from ..engine.training import TrainConfig, TrainingDiverged, nonempty_horizon
from .mixing import DEFAULT_WIDTH, MIXING_KINDS, clean, gaussian, mixing_matrix, random_embedding
from .models import MLP, ResidualCC
from .tasks import ReluMixingTask


@dataclass(frozen=True)
class CCInstance:
    """One MLP trained on ``ReLU(x) + scale * M x`` (paper 000).

    ``mixing`` is a kind from ``cclib.compressed.mixing.MIXING_KINDS``; for the Gaussian kinds
    ``M = sigma * U`` with ``U`` a unit-variance matrix drawn from ``mixing_seed`` (so a sweep
    over sigma scales one matrix) and ``learn_sigma`` makes the scale a trained parameter
    initialised at ``sigma``. ``sign = -1`` trains on ``-M``.

    ``active`` chooses the input distribution: ``None`` (default) draws each feature active
    with probability ``p``; an int ``k`` draws exactly ``k`` active features per sample
    (values U[-1, 1]), e.g. ``CCInstance(seed=0, p=0.01, active=1)`` trains on one-hot-
    like inputs next to Bernoulli-``p`` instances of the same sweep. ``p`` then only labels
    the instance and sets its step count under ``nonempty_steps`` (computed from ``p`` as
    for a Bernoulli-``p`` instance, although an exactly-``k`` batch has no empty rows).
    The key of the cache omits ``active`` when it is ``None``.
    """

    seed: int
    p: float
    mixing: str = "clean"
    sigma: float = 0.0
    mixing_seed: int = 0
    learn_sigma: bool = False
    sign: int = 1
    active: int | None = None

    def __post_init__(self) -> None:
        if self.mixing not in MIXING_KINDS:
            raise ValueError(
                f"unknown mixing kind {self.mixing!r}; allowed: {', '.join(MIXING_KINDS)}"
            )
        if not 0.0 < self.p <= 1.0:
            raise ValueError(f"p must be in (0, 1], got {self.p}")
        if self.sigma < 0:
            raise ValueError(f"sigma must be >= 0, got {self.sigma}")
        if self.sign not in (1, -1):
            raise ValueError(f"sign must be 1 or -1, got {self.sign}")
        if self.active is not None and (isinstance(self.active, bool) or self.active < 1):
            raise ValueError(f"active must be None or an int >= 1, got {self.active}")

    def setting(self) -> str:
        """The instance's fields as ``name=value`` pairs (for messages)."""
        return ", ".join(f"{k}={v!r}" for k, v in _instance_fields(self).items())


def _instance_fields(instance: CCInstance) -> dict:
    """The fields of ``instance`` that enter a cache key (``active`` only when set)."""
    fields = dataclasses.asdict(instance)
    if fields["active"] is None:
        del fields["active"]
    return fields


@dataclass(frozen=True)
class MLPSweep:
    """``K`` MLP instances of one shape trained together."""

    instances: tuple[CCInstance, ...]
    train: TrainConfig
    n: int = 100
    d: int = 50
    width: int = DEFAULT_WIDTH  # embedding width for the embedding-induced M
    nonempty_steps: bool = False  # scale each instance's steps by 1 / (1 - (1-p)^n)

    def config(self) -> dict:
        config = {"kind": "mlp_sweep", **dataclasses.asdict(self)}
        config["instances"] = [_instance_fields(i) for i in self.instances]
        return config

    def horizons(self) -> list[int]:
        if not self.nonempty_steps:
            return [self.train.steps] * len(self.instances)
        return [nonempty_horizon(self.train.steps, i.p, self.n) for i in self.instances]


def train_config(cfg) -> TrainConfig:
    """The ``TrainConfig`` of a chapter configuration with ``steps``, ``batch_size``, ``lr``
    and ``weight_decay`` parameters."""
    return TrainConfig(
        steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr, weight_decay=cfg.weight_decay
    )


def chapter_sweep(cfg, instances) -> MLPSweep:
    """An ``MLPSweep`` of ``instances`` with the sizes (``n_features``, ``n_neurons``) and
    training settings of chapter configuration ``cfg``."""
    return MLPSweep(
        instances=tuple(instances),
        train=train_config(cfg),
        n=cfg.n_features,
        d=cfg.n_neurons,
        nonempty_steps=cfg.nonempty_steps,
    )


def seed_sweep(cfg, seeds: int, **instance) -> MLPSweep:
    """``seeds`` instances (seeds 0, 1, ...) of one ``CCInstance`` setting (see
    ``chapter_sweep``)."""
    return chapter_sweep(cfg, (CCInstance(seed=s, **instance) for s in range(seeds)))


def unit_mixing(instance: CCInstance, n: int, width: int) -> tuple[torch.Tensor, float]:
    """The instance's matrix and scale such that its labels use ``scale * matrix``."""
    generator = make_generator(instance.mixing_seed, Stream.MIXING)
    if instance.mixing in ("gaussian", "symmetric"):
        return gaussian(
            n, 1.0, generator, symmetric=instance.mixing == "symmetric"
        ), instance.sign * instance.sigma
    if instance.mixing == "clean":
        return clean(n), 0.0
    return mixing_matrix(instance.mixing, n, generator, width=width), float(instance.sign)


def build_mlp_task(sweep: MLPSweep, p: float | list[float] | None = None) -> ReluMixingTask:
    """The sweep's task; ``p`` replaces the training feature probabilities."""
    pairs = [unit_mixing(i, sweep.n, sweep.width) for i in sweep.instances]
    mixing = torch.stack([matrix for matrix, _ in pairs])
    learn = [i.learn_sigma for i in sweep.instances]  # per instance: the others keep their sigma
    ps = [i.p for i in sweep.instances] if p is None else p
    active = [i.active for i in sweep.instances]
    return ReluMixingTask(
        mixing, ps, [scale for _, scale in pairs], learn_scale=learn, active=active
    )


class SweepDiverged(TrainingDiverged):
    """``TrainingDiverged`` in a sweep; the message names the diverged instance's setting."""

    def __init__(self, error: TrainingDiverged, sweep: str, setting: str):
        super().__init__(error.instance, error.step, error.value)
        self.args = (
            f"{sweep}: training diverged at step {error.step} (loss {error.value}) in "
            f"instance {error.instance} ({setting}); try a smaller learning rate",
        )


@dataclass
class SweepResult:
    """A trained sweep: final weights, learned label scales and per-step training losses."""

    config: dict
    state: dict[str, torch.Tensor]
    task_state: dict[str, torch.Tensor]
    losses: torch.Tensor  # (rows, K): one row per step, or per window of loss_window steps
    horizons: list[int]
    loss_window: int = 1


def _train_shard(
    build: Callable[[list[int]], tuple[nn.Module, nn.Module]],
    train_config: TrainConfig,
    seeds: list[int],
    horizons: list[int],
    device: torch.device | str | None,
    description: str,
    progress: bool,
    start: int,
    stop: int,
    checkpointer,
) -> dict:
    """Train instances ``[start, stop)`` of a sweep (all of them in-process) by parts and
    phases (``cclib.engine.phased``: each instance on its own step implementation and only
    to its own horizon), with the whole sweep's loss-history length, so the shard's loss
    rows match the whole run's."""
    try:
        return train_phased(
            lambda indices: build([start + i for i in indices]),
            train_config,
            seeds[start:stop],
            horizons[start:stop],
            checkpointer,
            device=device,
            progress=progress,
            description=description,
            history_steps=max(horizons),
        )
    except TrainingDiverged as error:  # name the instance by its index in the whole sweep
        raise TrainingDiverged(start + error.instance, error.step, error.value) from None


def merge_shards(parts: list[dict]) -> dict:
    """One sweep payload from its shards' payloads, in instance order: weights and label
    state along the instance dimension (0), losses along theirs (1)."""
    return {
        "model": {k: torch.cat([p["model"][k] for p in parts]) for k in parts[0]["model"]},
        "task": {k: torch.cat([p["task"][k] for p in parts]) for k in parts[0]["task"]},
        "losses": torch.cat([p["losses"] for p in parts], dim=1),
        "horizons": [h for p in parts for h in p["horizons"]],
        "loss_window": parts[0]["loss_window"],
    }


def _run_cached(
    config: dict,
    build: Callable[[list[int]], tuple[nn.Module, nn.Module]],
    train_config: TrainConfig,
    seeds: list[int],
    horizons: list[int],
    cache: Cache | None,
    device: torch.device | str | None,
    description: str,
    describe: Callable[[int], str] = lambda k: f"instance {k}",
) -> SweepResult:
    """Train (or load) a sweep through the executor (``cclib.engine.executor``):
    in-process one batched run, on a cluster in shards of instances ``build(indices)``."""
    setting = executor_setting()
    shard = functools.partial(
        _train_shard,
        build,
        train_config,
        seeds,
        horizons,
        device,
        description,
        setting.in_process,  # workers' progress bars would interleave in the runner's stderr
    )
    try:  # a diverged run raises inside the computation, so nothing is cached
        gpu = None if device is None else torch.device(device).type == "cuda"
        payload = run_sharded(config, len(seeds), shard, merge_shards, cache, setting, gpu)
    except TrainingDiverged as error:
        raise SweepDiverged(error, description, describe(error.instance)) from error
    return SweepResult(
        config,
        payload["model"],
        payload["task"],
        payload["losses"],
        list(payload["horizons"]),
        int(payload.get("loss_window", 1)),
    )


def run_mlp_sweep(
    sweep: MLPSweep,
    cache: Cache | None = None,
    device: torch.device | str | None = None,
    initial: MLP | None = None,
    description: str = "MLP sweep",
) -> SweepResult:
    """Train (or load) every instance of ``sweep``; ``initial`` overrides the default init
    (its weights then become part of the cache key via a checksum)."""
    config = mlp_sweep_config(sweep, initial)
    start_weights = (
        None if initial is None else (initial.w_in.detach().cpu(), initial.w_out.detach().cpu())
    )
    build = functools.partial(_build_mlp_shard, sweep, start_weights)

    seeds = [i.seed for i in sweep.instances]
    return _run_cached(
        config,
        build,
        sweep.train,
        seeds,
        sweep.horizons(),
        cache,
        device,
        description,
        lambda k: sweep.instances[k].setting(),
    )


def mlp_sweep_config(sweep: MLPSweep, initial: MLP | None = None) -> dict:
    """The cache key configuration of ``sweep`` trained from ``initial`` (default init:
    None), as :func:`run_mlp_sweep` uses it (the book's plans read it without training)."""
    config = sweep.config()
    if initial is not None:
        config["initial_checksum"] = _checksum(initial)
    return config


def mlp_builder(sweep: MLPSweep) -> Callable[[list[int]], tuple[MLP, ReluMixingTask]]:
    """``build(indices) -> (model, task)`` of instances of ``sweep`` at their default init."""
    return functools.partial(_build_mlp_shard, sweep, None)


def residual_builder(
    sweep: ResidualSweep,
) -> Callable[[list[int]], tuple[ResidualCC, ReluMixingTask]]:
    """``build(indices) -> (model, task)`` of instances of the residual ``sweep``."""
    return functools.partial(_build_residual_shard, sweep)


def _build_mlp_shard(
    sweep: MLPSweep,
    start_weights: tuple[torch.Tensor, torch.Tensor] | None,
    indices: list[int],
) -> tuple[MLP, ReluMixingTask]:
    """Model and task of instances ``indices`` of ``sweep`` (each from its own seeds;
    ``start_weights``: ``(w_in, w_out)`` of the whole sweep replacing the default init)."""
    part = dataclasses.replace(sweep, instances=tuple(sweep.instances[i] for i in indices))
    if start_weights is None:
        model = MLP.init([i.seed for i in part.instances], sweep.n, sweep.d)
    else:
        w_in, w_out = start_weights
        model = MLP(w_in[indices].clone(), w_out[indices].clone())
    return model, build_mlp_task(part)


def load_mlp(result: SweepResult) -> MLP:
    """The trained MLPs of a sweep result (on the CPU)."""
    return MLP(result.state["w_in"].clone(), result.state["w_out"].clone())


def trained_task(
    sweep: MLPSweep, result: SweepResult, p: float | list[float] | None = None
) -> ReluMixingTask:
    """The sweep's task with the trained label scales; ``p`` replaces the feature probabilities."""
    task = build_mlp_task(sweep, p)
    task.load_state_dict(result.task_state)
    return task


def _checksum(module: nn.Module) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:20]


@dataclass(frozen=True)
class ResidualSweep:
    """``K`` residual CC models of Braun et al. (labels ``ReLU(x) + x``), one per seed.

    Each instance's embedding is drawn from its ``embedding_seeds`` entry.
    """

    seeds: tuple[int, ...]
    embedding_seeds: tuple[int, ...]
    p: float
    train: TrainConfig
    n: int = 100
    d: int = 50
    width: int = DEFAULT_WIDTH
    nonempty_steps: bool = False

    def config(self) -> dict:
        return {"kind": "residual_sweep", **dataclasses.asdict(self)}

    def embeddings(self) -> torch.Tensor:
        """``(K, width, n)`` embeddings."""
        return torch.stack(
            [
                random_embedding(self.n, self.width, make_generator(s, Stream.MIXING))
                for s in self.embedding_seeds
            ]
        )

    def horizons(self) -> list[int]:
        steps = (
            nonempty_horizon(self.train.steps, self.p, self.n)
            if self.nonempty_steps
            else self.train.steps
        )
        return [steps] * len(self.seeds)


def residual_task(sweep: ResidualSweep, p: float | None = None) -> ReluMixingTask:
    """Labels ``ReLU(x) + x``: identity mixing with scale 1."""
    eye = torch.eye(sweep.n).expand(len(sweep.seeds), sweep.n, sweep.n).clone()
    return ReluMixingTask(eye, sweep.p if p is None else p, 1.0)


def init_residual(sweep: ResidualSweep) -> ResidualCC:
    return ResidualCC.init(list(sweep.seeds), sweep.embeddings(), sweep.d)


def run_residual_sweep(
    sweep: ResidualSweep, cache: Cache | None = None, device: torch.device | str | None = None
) -> SweepResult:
    """Train (or load) the residual models of ``sweep``."""
    return _run_cached(
        sweep.config(),
        functools.partial(_build_residual_shard, sweep),
        sweep.train,
        list(sweep.seeds),
        sweep.horizons(),
        cache,
        device,
        "residual sweep",
        lambda k: f"seed={sweep.seeds[k]}, embedding_seed={sweep.embedding_seeds[k]}, p={sweep.p}",
    )


def _build_residual_shard(
    sweep: ResidualSweep, indices: list[int]
) -> tuple[ResidualCC, ReluMixingTask]:
    """Model and task of instances ``indices`` of ``sweep``."""
    part = dataclasses.replace(
        sweep,
        seeds=tuple(sweep.seeds[i] for i in indices),
        embedding_seeds=tuple(sweep.embedding_seeds[i] for i in indices),
    )
    return init_residual(part), residual_task(part)


def load_residual(sweep: ResidualSweep, result: SweepResult) -> ResidualCC:
    return ResidualCC(
        sweep.embeddings(), result.state["w_in"].clone(), result.state["w_out"].clone()
    )


def grid_sweep(
    cfg,
    settings: list[dict],
    seeds: int,
    vary_matrix: bool = True,
    seed_offset: int = 0,
    steps: int | None = None,
) -> MLPSweep:
    """One sweep holding ``seeds`` instances of every setting (a dict of ``CCInstance``
    fields other than ``seed``), setting-major: instance ``i * seeds + s`` is setting ``i``
    with seed ``seed_offset + s``. With ``vary_matrix`` that instance also draws its own
    mixing matrix (``mixing_seed = seed_offset + s``), else every instance uses matrix 0.
    Sizes and training settings come from chapter configuration ``cfg``; ``steps`` replaces
    its number of training steps."""
    instances = tuple(
        CCInstance(
            **{
                "seed": seed_offset + s,
                "mixing_seed": seed_offset + s if vary_matrix else 0,
                **setting,
            }
        )
        for setting in settings
        for s in range(seeds)
    )
    sweep = chapter_sweep(cfg, instances)
    return (
        sweep
        if steps is None
        else dataclasses.replace(sweep, train=dataclasses.replace(sweep.train, steps=steps))
    )


def mixing_conditions(sigma: float) -> dict[str, dict]:
    """The label conditions of the mixing chapter's first sweep (paper 000 figure 2 left),
    in order. The mixing, mechanism and semi-NMF chapters all build that sweep with
    ``mixing_conditions_sweep``, so a built book trains it once."""
    return {
        "clean": dict(mixing="clean"),
        "embedding": dict(mixing="embedding"),
        "gaussian": dict(mixing="gaussian", sigma=sigma),
        "gaussian, learned σ": dict(mixing="gaussian", sigma=sigma, learn_sigma=True),
        "symmetric": dict(mixing="symmetric", sigma=sigma),
        "symmetric, learned σ": dict(mixing="symmetric", sigma=sigma, learn_sigma=True),
    }


def equivalence_residual_sweep(cfg) -> ResidualSweep:
    """The equivalence chapter's residual models for chapter configuration ``cfg``: one
    per training seed, all on the embedding of ``cfg.embedding_seed``."""
    return ResidualSweep(
        seeds=tuple(range(cfg.seeds)),
        embedding_seeds=(cfg.embedding_seed,) * cfg.seeds,
        p=cfg.p,
        train=train_config(cfg),
        n=cfg.n_features,
        d=cfg.n_neurons,
        width=cfg.width,
        nonempty_steps=cfg.nonempty_steps,
    )


def mixing_conditions_sweep(cfg) -> MLPSweep:
    """The mixing chapter's condition sweep for chapter configuration ``cfg`` (which needs
    ``p``, ``sigma``, ``seeds``, ``vary_matrix`` and the sizes and training settings)."""
    settings = [dict(p=cfg.p, **c) for c in mixing_conditions(cfg.sigma).values()]
    return grid_sweep(cfg, settings, cfg.seeds, cfg.vary_matrix)
