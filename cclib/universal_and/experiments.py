"""Cached, batched Universal-AND training runs that chapters ask for by configuration
(paper 004 sections 4 and 5).

A ``UANDRun`` is one batched run at one ``(m, d)``: every ``(s, seed)`` pair is an instance,
s-major. ``train_run`` trains it, or loads it from the cache. Internally each value of
``s`` is its own cache entry and its own call of the trainer, so that every instance of a
call shares one ``s`` and the task's ``SparseCaseLoss`` computes the loss from the ``s``
active inputs of each row (with several ``s`` in one call the task falls back to the dense
loss over all ``P`` pairs, which at ``m = 100`` costs far more). A run over a subset of the
``s`` values, or another chapter's run with the same settings, reads the same entries:
nothing is trained twice (the executor's per-entry compute lock: a second process asking
for an entry that is being trained waits for it). Interrupted training resumes from the
cache's checkpoint. Training goes through ``cclib.engine.executor``: in-process by default,
or, under ``--executor``, the runs of every ``s`` at once on a Dask cluster, each split
into shards of seeds (cached under their own keys and merged under the same entry).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from ..engine.cache import Cache
from ..engine.executor import run_sharded_many
from ..engine.seeding import Stream, make_generator
from ..engine.training import TrainConfig, train
from .evaluation import Evaluation, and_accuracy, case_errors, evaluate
from .grid import parse_grid
from .models import UniversalAND
from .tasks import UniversalANDTask

__all__ = [
    "Evaluation",
    "UANDResult",
    "UANDRun",
    "and_accuracy",
    "case_errors",
    "chapter_runs",
    "part_builder",
    "decay_variant",
    "eval_generators",
    "evaluate",
    "parse_grid",
    "size_variant",
    "train_config",
    "train_run",
]


@dataclass(frozen=True)
class UANDRun:
    """Universal-AND models at one ``(m, d)``: one instance per ``(s, seed)``, s-major.

    ``weighted`` uses the case-balanced loss (paper 004 section 4); ``False`` the plain MSE.
    """

    m: int
    d: int
    s_values: tuple[int, ...]
    seeds: tuple[int, ...]
    train: TrainConfig
    weighted: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "s_values", tuple(int(s) for s in self.s_values))
        object.__setattr__(self, "seeds", tuple(int(seed) for seed in self.seeds))
        if self.m < 2 or self.d < 1:
            raise ValueError(f"need m >= 2 and d >= 1, got m = {self.m}, d = {self.d}")
        if not self.s_values or not self.seeds:
            raise ValueError("a run needs at least one s and one seed")
        if len(set(self.s_values)) != len(self.s_values) or len(set(self.seeds)) != len(self.seeds):
            raise ValueError("s_values and seeds must not repeat")
        if not all(1 <= s <= self.m for s in self.s_values):
            raise ValueError(f"every s must be in [1, m = {self.m}], got {self.s_values}")

    def instances(self) -> list[tuple[int, int]]:
        """``(s, seed)`` of every instance, s-major."""
        return [(s, seed) for s in self.s_values for seed in self.seeds]

    def index(self, s: int, seed: int) -> int:
        """Instance index of ``(s, seed)``."""
        return self.s_values.index(s) * len(self.seeds) + self.seeds.index(seed)

    def indices(self, s: int) -> list[int]:
        """Instance indices of every seed at ``s``."""
        return [self.index(s, seed) for seed in self.seeds]

    def config(self) -> dict:
        """The full configuration (the cache key of a single-``s`` run)."""
        return {"kind": "uand_run", **dataclasses.asdict(self)}

    def part(self, s: int) -> UANDRun:
        """The single-``s`` run of this run's seeds (one cache entry, one trainer call)."""
        return dataclasses.replace(self, s_values=(s,))

    def task(self) -> UniversalANDTask:
        """The task of every instance (per-instance ``s``)."""
        s = [s for s, _ in self.instances()]
        return UniversalANDTask(self.m, s, len(s), weighted=self.weighted)


@dataclass
class UANDResult:
    """A trained run: ``model`` (all ``K`` instances, on the CPU), its ``task``, the loss
    history ``losses (rows, K)`` (one row per step, or per window of ``loss_window``
    steps) and the ``run`` itself."""

    run: UANDRun
    model: UniversalAND
    task: UniversalANDTask
    losses: torch.Tensor
    loss_window: int = 1


def _train_seeds(
    part: UANDRun,
    device: torch.device | str | None,
    description: str,
    start: int,
    stop: int,
    checkpointer,
) -> dict:
    """Payload ``{"model": state, "losses": (rows, seeds), "loss_window": int}`` of seeds
    ``start:stop`` of one single-``s`` run (all of them in-process; a shard on a cluster).
    Each seed has its own initialisation and data stream, so a shard's instances are those
    of the whole run."""
    seeds = list(part.seeds[start:stop])
    model = UniversalAND.init(seeds, part.m, part.d)
    result = train(
        model,
        dataclasses.replace(part, seeds=tuple(seeds)).task(),
        part.train,
        seeds,
        checkpointer=checkpointer,
        device=device,
        description=description,
    )
    return {
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "losses": result.losses,
        "loss_window": result.loss_window,
    }


def _merge_seeds(parts: Sequence[Mapping]) -> dict:
    """Shards of one single-``s`` run, in seed order, as the whole run's payload."""
    return {
        "model": {k: torch.cat([p["model"][k] for p in parts]) for k in parts[0]["model"]},
        "losses": torch.cat([p["losses"] for p in parts], dim=1),
        "loss_window": parts[0]["loss_window"],
    }


def part_builder(part: UANDRun):
    """``build(indices) -> (model, task)`` of seeds ``indices`` of a single-``s`` run at
    their initialisation (as :func:`train_run` builds them; for timing a few steps)."""

    def build(indices):
        seeds = tuple(part.seeds[i] for i in indices)
        model = UniversalAND.init(list(seeds), part.m, part.d)
        return model, dataclasses.replace(part, seeds=seeds).task()

    return build


def train_run(
    run: UANDRun,
    cache: Cache | None,
    description: str = "Universal-AND",
    device: torch.device | str | None = None,
) -> UANDResult:
    """Train (or load) every instance of ``run``: one cached trainer call per ``s``, through
    the executor (in-process by default; on a Dask cluster the runs of every ``s`` share
    the workers, each split into shards of seeds). Same cache keys either way."""
    sweeps = [
        (
            run.part(s).config(),
            len(run.seeds),
            functools.partial(
                _train_seeds, run.part(s), device, f"{description} (m={run.m}, d={run.d}, s={s})"
            ),
            _merge_seeds,
        )
        for s in run.s_values
    ]
    parts = run_sharded_many(sweeps, cache)
    state = {
        name: torch.cat([part["model"][name] for part in parts]) for name in ("w", "b", "r", "c")
    }
    windows = {int(part["loss_window"]) for part in parts}
    return UANDResult(
        run=run,
        model=UniversalAND(**state),
        task=run.task(),
        losses=torch.cat([part["losses"] for part in parts], dim=1),
        loss_window=windows.pop(),
    )


def decay_variant(run: UANDRun, s: int, weight_decay: float) -> UANDRun:
    """The single-``s`` run of ``run`` with another weight decay (a robustness check)."""
    train = dataclasses.replace(run.train, weight_decay=weight_decay)
    return dataclasses.replace(run.part(s), train=train)


def size_variant(run: UANDRun, s: int, m: int, d: int) -> UANDRun:
    """The single-``s`` run of ``run`` at another size ``(m, d)``, same seeds and training."""
    return dataclasses.replace(run.part(s), m=m, d=d)


def eval_generators(
    run: UANDRun, offset: int = 0, device: torch.device | str = "cpu"
) -> list[torch.Generator]:
    """One evaluation generator per instance on ``device`` (the ``EVAL`` stream of its
    seed, part ``offset``), independent of its training data."""
    return [make_generator(seed, Stream.EVAL, device, part=offset) for _, seed in run.instances()]


def train_config(cfg) -> TrainConfig:
    """The ``TrainConfig`` of a chapter configuration with ``steps``, ``batch_size``, ``lr``
    and ``weight_decay``."""
    return TrainConfig(
        steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr, weight_decay=cfg.weight_decay
    )


def chapter_runs(cfg) -> list[UANDRun]:
    """The ``uand_training`` chapter's sweep: one run per ``d`` of ``cfg.d_values``, each over
    every ``s`` of ``cfg.s_values`` and ``cfg.seeds`` seeds (0, 1, ...), at ``cfg.m``."""
    s_values = parse_grid(cfg.s_values)
    seeds = tuple(range(cfg.seeds))
    return [
        UANDRun(m=cfg.m, d=d, s_values=s_values, seeds=seeds, train=train_config(cfg))
        for d in parse_grid(cfg.d_values)
    ]
