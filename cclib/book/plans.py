"""What each chapter will train, known before anything runs.

:func:`chapter_plan` lists the sweeps a chapter configuration asks for, built by the same
``cclib`` functions the chapter calls (so their cache keys are the chapter's own; a test
checks that a smoke build leaves every planned sweep in the cache). A
:class:`PlannedSweep` carries its cache configuration, each instance's horizon (steps),
a ``build(indices)`` that makes any of its instances (for timing a few steps,
:mod:`cclib.book.estimate`) and each instance's *cost class*: the sizes and settings
that decide what one step of it costs.

Nothing here trains; building the sweep objects is cheap (the equivalence chapter's
mapped initialisation and, when cached, the mixing chapter's trained conditions for its
transplant key are the most it computes).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .params import ChapterConfig

Builder = Callable[[Sequence[int]], tuple[Any, Any]]


@dataclass(frozen=True)
class PlannedSweep:
    """One cache entry a chapter trains (or reads): ``config`` is its cache key
    configuration, or a function of the cache that returns it (None while an input it
    depends on, such as trained weights, is not cached yet: then it counts as uncached)."""

    label: str
    config: dict | Callable[[Any], dict | None]
    horizons: tuple[int, ...]
    build: Builder
    train: Any  # cclib.engine.training.TrainConfig
    cost_classes: tuple[dict, ...]  # per instance: what one step of it costs depends on
    sizes: str  # the sizes in words, e.g. "n=100, d=50, batch 2048"

    @property
    def instances(self) -> int:
        return len(self.horizons)

    @property
    def model_steps(self) -> int:
        return sum(self.horizons)

    def key_config(self, cache: Any) -> dict | None:
        return self.config(cache) if callable(self.config) else self.config


# --------------------------------------------------------------------------- sweeps


def mlp_sweep(label: str, sweep, initial=None, config=None) -> PlannedSweep:
    """A paper-000 ``MLPSweep`` (optionally from ``initial`` weights, or with a ``config``
    function when those weights are only known once something else has trained)."""
    from ..compressed import experiments

    classes = tuple(
        {
            "model": "mlp",
            "n": sweep.n,
            "d": sweep.d,
            "batch": sweep.train.batch_size,
            "p": i.p,
            "active": i.active,
            "clean": i.mixing == "clean",
        }
        for i in sweep.instances
    )
    return PlannedSweep(
        label,
        config if config is not None else experiments.mlp_sweep_config(sweep, initial),
        tuple(sweep.horizons()),
        experiments.mlp_builder(sweep),
        sweep.train,
        classes,
        f"MLP n={sweep.n}, d={sweep.d}, batch {sweep.train.batch_size}",
    )


def residual_sweep(label: str, sweep) -> PlannedSweep:
    from ..compressed import experiments

    cls = {
        "model": "residual",
        "n": sweep.n,
        "d": sweep.d,
        "width": sweep.width,
        "batch": sweep.train.batch_size,
        "p": sweep.p,
    }
    return PlannedSweep(
        label,
        sweep.config(),
        tuple(sweep.horizons()),
        experiments.residual_builder(sweep),
        sweep.train,
        (cls,) * len(sweep.seeds),
        f"residual n={sweep.n}, d={sweep.d}, width={sweep.width}, batch {sweep.train.batch_size}",
    )


def uand_sweeps(label: str, run) -> list[PlannedSweep]:
    """A Universal-AND run: one cache entry (and trainer call) per ``s``."""
    from ..universal_and import experiments

    out = []
    for s in run.s_values:
        part = run.part(s)
        cls = {
            "model": "uand",
            "m": part.m,
            "d": part.d,
            "s": s,
            "batch": part.train.batch_size,
            "weighted": part.weighted,
        }
        out.append(
            PlannedSweep(
                f"{label} (m={part.m}, d={part.d}, s={s})",
                part.config(),
                (part.train.steps,) * len(part.seeds),
                experiments.part_builder(part),
                part.train,
                (cls,) * len(part.seeds),
                f"Universal-AND m={part.m}, d={part.d}, s={s}, batch {part.train.batch_size}",
            )
        )
    return out


# --------------------------------------------------------------------------- chapters


def _naive_baseline(cfg: ChapterConfig) -> list[PlannedSweep]:
    from ..compressed import experiments

    sweep = experiments.seed_sweep(cfg, cfg.seeds, p=cfg.p, mixing=cfg.mixing, sigma=cfg.sigma)
    return [mlp_sweep("naive_baseline", sweep)]


def _equivalence(cfg: ChapterConfig) -> list[PlannedSweep]:
    import numpy as np

    from ..compressed import experiments

    train = experiments.train_config(cfg)
    residual = experiments.equivalence_residual_sweep(cfg)
    initial = experiments.init_residual(residual).equivalent_mlp()

    def embedding_sweep(seeds: int, signs: tuple[int, ...]):
        instances = (
            experiments.CCInstance(
                seed=s, p=cfg.p, mixing="embedding", mixing_seed=cfg.embedding_seed, sign=sign
            )
            for sign in signs
            for s in range(seeds)
        )
        return dataclasses.replace(experiments.chapter_sweep(cfg, instances), width=cfg.width)

    mapped = embedding_sweep(cfg.seeds, (1,))
    boosted = dataclasses.replace(
        mapped,
        train=dataclasses.replace(train, lr=float(cfg.lr * np.sqrt(cfg.width / cfg.n_features))),
    )
    return [
        residual_sweep("residual sweep", residual),
        mlp_sweep("MLP from mapped init", mapped, initial),
        mlp_sweep("MLP, lr x sqrt(w/n)", boosted, initial),
        mlp_sweep("MLP on +M and -M", embedding_sweep(cfg.sign_seeds, (1, -1))),
    ]


def _mixing(cfg: ChapterConfig) -> list[PlannedSweep]:
    import numpy as np

    from ..compressed import experiments
    from ..compressed.models import MLP

    left = experiments.mixing_conditions_sweep(cfg)
    sigmas = np.linspace(0, cfg.sigma_max, cfg.sigma_points)
    right = experiments.grid_sweep(
        cfg,
        [
            dict(p=cfg.p, mixing=k, sigma=float(s))
            for k in ("symmetric", "gaussian")
            for s in sigmas
        ],
        cfg.sigma_seeds,
        cfg.vary_matrix,
    )
    clean = experiments.grid_sweep(
        cfg, [dict(p=cfg.p, mixing="clean")], cfg.seeds, seed_offset=1000, steps=cfg.finetune_steps
    )
    conditions = list(experiments.mixing_conditions(cfg.sigma))
    pick = [conditions.index(cfg.transplant_mixing) * cfg.seeds + s for s in range(cfg.seeds)]

    def transplant_config(cache) -> dict | None:
        """The transplant's key holds a checksum of its start, the trained conditions."""
        if cache is None or not cache.contains(experiments.mlp_sweep_config(left)):
            return None
        payload = cache.load(experiments.mlp_sweep_config(left))
        if payload is None:
            return None
        w_in, w_out = payload["model"]["w_in"], payload["model"]["w_out"]
        start = MLP(w_in[pick].clone(), w_out[pick].clone())
        return experiments.mlp_sweep_config(clean, start)

    return [
        mlp_sweep("mixing: conditions", left),
        mlp_sweep("mixing: sigma sweep", right),
        mlp_sweep("mixing: transplant", clean, config=transplant_config),
    ]


def _mechanism(cfg: ChapterConfig) -> list[PlannedSweep]:
    from ..compressed import experiments
    from ..compressed import mechanism as mech

    return [
        mlp_sweep("mixing: conditions", experiments.mixing_conditions_sweep(cfg)),
        mlp_sweep("mechanism: σ optimum", mech.optimum_sweep(cfg)),
    ]


def _semi_nmf(cfg: ChapterConfig) -> list[PlannedSweep]:
    from ..compressed import snmf
    from .specs import profile_value

    mixing_sigma = profile_value("mixing", "sigma", cfg.profile)
    fixed, rows, _ = snmf.fixed_sigma_sweep(cfg, mixing_sigma)
    plan = [
        mlp_sweep("semi_nmf: fixed sigma", fixed),
        mlp_sweep("mixing: sigma sweep", snmf.sigma_sweep(cfg)),
    ]
    if cfg.long_steps > 0:
        plan.append(mlp_sweep("semi_nmf: longer training", snmf.long_sweep(cfg, len(rows))))
    return plan


def _regimes(cfg: ChapterConfig) -> list[PlannedSweep]:
    from ..compressed import regimes

    return [
        mlp_sweep("regimes: figure 7", regimes.figure7_sweep(cfg)),
        mlp_sweep("regimes: clean", regimes.clean_sweep(cfg)),
    ]


def _uand_training(cfg: ChapterConfig) -> list[PlannedSweep]:
    from ..universal_and import experiments

    runs = experiments.chapter_runs(cfg)
    plan = [sweep for run in runs for sweep in uand_sweeps("uand_training", run)]
    variant = experiments.decay_variant(runs[len(runs) // 2], cfg.s_low, cfg.alt_weight_decay)
    plan += uand_sweeps("uand_training: weight decay", variant)
    size = experiments.size_variant(runs[0], cfg.s_low, cfg.check_m, cfg.check_d)
    plan += uand_sweeps("uand_training: size check", size)
    return plan


def _uand_readout(cfg: ChapterConfig) -> list[PlannedSweep]:
    from ..universal_and import readout_study

    return uand_sweeps("uand_readout", readout_study.readout_run(cfg))


def _uand_variance(cfg: ChapterConfig) -> list[PlannedSweep]:
    from ..universal_and import experiments
    from .specs import get_spec

    train_cfg = get_spec("uand_training").resolve(cfg.profile)
    return uand_sweeps("uand_variance: trained models", experiments.chapter_runs(train_cfg)[-1])


PLANNERS: dict[str, Callable[[ChapterConfig], list[PlannedSweep]]] = {
    "naive_baseline": _naive_baseline,
    "equivalence": _equivalence,
    "mixing": _mixing,
    "mechanism": _mechanism,
    "semi_nmf": _semi_nmf,
    "regimes": _regimes,
    "uand_training": _uand_training,
    "uand_readout": _uand_readout,
    "uand_variance": _uand_variance,
}
"""Every chapter that trains (a test checks that each chapter with ``max_hours`` has one)."""


def chapter_plan(cfg: ChapterConfig) -> list[PlannedSweep]:
    """The sweeps chapter configuration ``cfg`` trains or reads, in the chapter's order."""
    planner = PLANNERS.get(cfg.chapter)
    return [] if planner is None else planner(cfg)
