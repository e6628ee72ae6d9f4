"""Training K model instances at once (paper 000 appendix B; paper 004 section 4).

``train`` runs one AdamW loop for a batched model and task: instance ``k`` draws its own
data stream from its seed, may have its own number of steps (its cosine schedule ends
there), and its loss is independent of the others (the summed loss has per-instance
gradients). Per-step losses stay on the device; the host reads them only to refresh the
progress bar every few hundred steps. With a checkpointer the loop saves its full state
(weights, optimiser moments, generator states, losses so far) every
``checkpoint_every`` steps and resumes from it bit for bit.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import torch
from torch import nn
from tqdm import tqdm

from .device import resolve_device
from .optim import InstanceAdamW, ParamGroup, cosine_schedule
from .seeding import Stream, make_generator


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings shared by all instances of a run (defaults: paper 000, appendix B)."""

    steps: int = 10_000
    batch_size: int = 2048
    lr: float = 3e-3
    weight_decay: float = 0.01
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay}")


class Task(Protocol):
    def sample(self, generators: Sequence[torch.Generator], batch: int) -> torch.Tensor: ...
    def loss(self, prediction: torch.Tensor, x: torch.Tensor) -> torch.Tensor: ...


class Checkpointer(Protocol):
    def load(self) -> dict | None: ...
    def save(self, state: dict) -> None: ...


def nonempty_horizon(steps: int, p: float, n: int) -> int:
    """Steps that give ``steps`` batches' worth of non-empty samples: ``steps / (1 - (1-p)^n)``."""
    return int(math.ceil(steps / (1.0 - (1.0 - p) ** n)))


@dataclass
class TrainResult:
    """Per-step training losses ``(T, K)`` on the CPU and each instance's horizon."""

    losses: torch.Tensor
    horizons: list[int]


def _progress_enabled(progress: bool) -> bool:
    return progress and os.environ.get("CCBOOK_PROGRESS", "1") != "0"


def train(
    model: nn.Module,
    task: nn.Module,
    config: TrainConfig,
    seeds: Sequence[int],
    horizons: Sequence[int] | None = None,
    checkpointer: Checkpointer | None = None,
    checkpoint_every: int = 1000,
    device: torch.device | str | None = None,
    progress: bool = True,
    description: str = "training",
) -> TrainResult:
    """Train ``model`` on ``task`` in place; instance ``k`` uses ``seeds[k]`` for its data.

    ``horizons[k]`` is instance ``k``'s number of steps (default ``config.steps`` for all).
    """
    device = resolve_device(device)
    model.to(device)
    task.to(device)
    instances = len(seeds)
    horizons = [config.steps] * instances if horizons is None else [int(h) for h in horizons]
    if len(horizons) != instances or min(horizons) < 1:
        raise ValueError("horizons needs one positive step count per instance")
    total = max(horizons)
    generators = [make_generator(seed, Stream.DATA, device) for seed in seeds]
    groups = [ParamGroup(list(model.parameters()), config.weight_decay)]
    if any(True for _ in task.parameters()):
        groups.append(ParamGroup(list(task.parameters()), 0.0))  # label scale: no decay
    optimiser = InstanceAdamW(
        groups, cosine_schedule(config.lr, horizons, device), config.betas, config.eps
    )
    losses = torch.zeros(total, instances, device=device)
    start = 0
    saved = checkpointer.load() if checkpointer is not None else None
    if saved is not None:
        start = int(saved["step"])
        model.load_state_dict(saved["model"])
        task.load_state_dict(saved["task"])
        optimiser.load_state_dict(saved["optimizer"])
        for generator, state in zip(generators, saved["generators"], strict=True):
            generator.set_state(state)
        losses[:start] = saved["losses"].to(device)
    bar = tqdm(
        total=total,
        initial=start,
        desc=description,
        disable=not _progress_enabled(progress),
        mininterval=2.0,
    )
    refresh = max(1, min(250, total // 20))
    for step in range(start, total):
        x = task.sample(generators, config.batch_size)
        loss = task.loss(model(x), x)
        optimiser.zero_grad()
        loss.sum().backward()
        optimiser.step()
        losses[step] = loss.detach()
        if (step + 1) % refresh == 0:
            bar.update(refresh)
            bar.set_postfix(loss=f"{float(loss.detach().mean()):.4g}")
        if checkpointer is not None and (step + 1) % checkpoint_every == 0 and step + 1 < total:
            checkpointer.save(
                {
                    "step": step + 1,
                    "model": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
                    "task": {k: v.detach().cpu().clone() for k, v in task.state_dict().items()},
                    "optimizer": {
                        "step_count": optimiser.step_count,
                        "exp_avg": [t.cpu().clone() for t in optimiser.exp_avg],
                        "exp_avg_sq": [t.cpu().clone() for t in optimiser.exp_avg_sq],
                    },
                    "generators": [g.get_state() for g in generators],
                    "losses": losses[: step + 1].cpu().clone(),
                }
            )
    bar.close()
    return TrainResult(losses=losses.cpu(), horizons=horizons)
