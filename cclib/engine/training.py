"""Training K model instances at once (paper 000 appendix B; paper 004 section 4).

``train`` runs one AdamW loop for a batched model and task: instance ``k`` draws its own
data stream from its seed, may have its own number of steps (its cosine schedule ends
there), and its loss is independent of the others (the summed loss has per-instance
gradients). Per-step losses stay on the device; the host reads them only to refresh the
progress bar every few hundred steps, and checks them for non-finite values at the same
points (``TrainingDiverged``). With a checkpointer the loop saves its full state
(weights, optimiser moments, generator states, losses so far) every
``checkpoint_every`` steps and resumes from it bit for bit.

Two step implementations (``path``): ``"dense"``, the batched autograd step (any model and
task, any device), and ``"sparse"``, a hand-written step that a task may offer for a
model (the ``SparseStepTask`` protocol; ``cclib.compressed`` gives one for an ``MLP`` on a
``ReluMixingTask`` on the CPU, with the same data and the same loss and gradients within
float tolerance). ``"auto"`` takes the sparse step where the task says it pays and the
dense one elsewhere (GPUs, dense inputs, other models and tasks).

The loss history keeps at most ``MAX_LOSS_ROWS`` rows: longer runs record the mean loss of
consecutive windows of ``loss_window`` steps (the last window may be shorter), so memory
stays bounded whatever the number of steps; every profile of the book records every step.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch
from torch import nn
from tqdm import tqdm

from .device import resolve_device
from .optim import CosineSchedule, InstanceAdamW, ParamGroup
from .seeding import Stream, make_generator

#: Most rows of the recorded loss history (``TrainResult.losses``).
MAX_LOSS_ROWS = 1 << 17

TRAIN_PATHS = ("auto", "dense", "sparse")


class TrainingDiverged(RuntimeError):
    """A training loss became non-finite (NaN or infinite); names the instance and step."""

    def __init__(self, instance: int, step: int, value: float):
        self.instance, self.step, self.value = instance, step, value
        super().__init__(
            f"training diverged: instance {instance} has loss {value} at step {step} "
            "(try a smaller learning rate)"
        )

    def __reduce__(self):  # pickles by its fields (a shard trained on a Dask worker)
        return (type(self), (self.instance, self.step, self.value))


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
    """Training losses ``(rows, K)`` on the CPU and each instance's horizon: row ``i`` is the
    mean loss of steps ``[i * loss_window, (i + 1) * loss_window)`` (``loss_window = 1``,
    one row per step, unless the run has more than ``MAX_LOSS_ROWS`` steps)."""

    losses: torch.Tensor
    horizons: list[int]
    loss_window: int = 1


def loss_window(steps: int) -> int:
    """Steps averaged into one row of the loss history of a ``steps``-step run."""
    return max(1, math.ceil(steps / MAX_LOSS_ROWS))


def _check_finite(losses: torch.Tensor, first_row: int, window: int) -> None:
    """Raise ``TrainingDiverged`` for the first non-finite entry of ``losses[first_row:]``."""
    recent = losses[first_row:]
    bad = ~torch.isfinite(recent)
    if bool(bad.any()):
        row, instance = (int(i) for i in bad.nonzero()[0])
        raise TrainingDiverged(instance, (first_row + row) * window, float(recent[row, instance]))


@runtime_checkable
class SparseStepTask(Protocol):
    """A task that can train some models with a hand-written step instead of autograd."""

    def sparse_step_applies(
        self, model: nn.Module, device: torch.device, any_sparsity: bool = False
    ) -> bool:
        """Whether ``"auto"`` should take the sparse step (``any_sparsity``: whether it can)."""
        ...

    def sparse_step(
        self, model: nn.Module, batch: int
    ) -> Callable[[Sequence[torch.Generator]], torch.Tensor]:
        """A step: draws a batch from the generators, writes ``.grad``, returns losses ``(K,)``."""
        ...


def choose_path(path: str, model: nn.Module, task: nn.Module, device: torch.device) -> str:
    """``"dense"`` or ``"sparse"``: the step implementation ``train`` uses."""
    if path not in TRAIN_PATHS:
        raise ValueError(f"path must be one of {', '.join(TRAIN_PATHS)}, got {path!r}")
    offers = isinstance(task, SparseStepTask)
    if path == "sparse" and not (offers and task.sparse_step_applies(model, device, True)):
        raise ValueError(
            f"no sparse step for a {type(model).__name__} on a {type(task).__name__} on "
            f"{device.type} (the compressed-computation MLP on a ReluMixingTask on the CPU has one)"
        )
    if path == "auto":
        return "sparse" if offers and task.sparse_step_applies(model, device) else "dense"
    return path


def _progress_enabled(progress: bool) -> bool:
    return progress and os.environ.get("CCBOOK_PROGRESS", "1") != "0"


@contextmanager
def intra_op_threads(count: int | None) -> Iterator[None]:
    """Run the block with ``count`` torch intra-op threads (``None``: unchanged)."""
    before = torch.get_num_threads()
    if count is not None:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


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
    path: str = "auto",
    total_steps: int | None = None,
    history_steps: int | None = None,
    final_state: dict | None = None,
) -> TrainResult:
    """Train ``model`` on ``task`` in place; instance ``k`` uses ``seeds[k]`` for its data.

    ``horizons[k]`` is instance ``k``'s number of steps (default ``config.steps`` for all).
    ``path`` chooses the step implementation (see the module docstring). ``total_steps``
    (default ``max(horizons)``) is the step at which the loop stops: fewer ends a phase
    of a longer run (``cclib.engine.phased``; the schedules still follow the horizons); a
    shard of a sweep passes the whole sweep's, so its loss history has the whole run's rows (an
    instance past its horizon has learning rate 0 and stops changing). Raises
    ``TrainingDiverged`` when a loss becomes non-finite (checked every few hundred steps
    and at the end, never once per step).
    """
    device = resolve_device(device)
    model.to(device)
    task.to(device)
    instances = len(seeds)
    horizons = [config.steps] * instances if horizons is None else [int(h) for h in horizons]
    if len(horizons) != instances or min(horizons) < 1:
        raise ValueError("horizons needs one positive step count per instance")
    total = max(horizons) if total_steps is None else int(total_steps)
    if total < 1:
        raise ValueError(f"total_steps must be >= 1, got {total}")
    generators = [make_generator(seed, Stream.DATA, device) for seed in seeds]
    groups = [ParamGroup(list(model.parameters()), config.weight_decay)]
    if any(True for _ in task.parameters()):
        groups.append(ParamGroup(list(task.parameters()), 0.0))  # label scale: no decay
    optimiser = InstanceAdamW(
        groups, CosineSchedule(config.lr, horizons, device, steps=total), config.betas, config.eps
    )
    window = loss_window(total if history_steps is None else max(total, int(history_steps)))
    losses = torch.zeros(math.ceil(total / window), instances, device=device)
    sparse_step = (
        task.sparse_step(model, config.batch_size)
        if choose_path(path, model, task, device) == "sparse"
        else None
    )
    start = 0
    saved = checkpointer.load() if checkpointer is not None else None
    if saved is not None:
        start = int(saved["step"])
        model.load_state_dict(saved["model"])
        task.load_state_dict(saved["task"])
        optimiser.load_state_dict(saved["optimizer"])
        for generator, state in zip(generators, saved["generators"], strict=True):
            generator.set_state(state)
        restored = saved["losses"].to(device)
        losses[: len(restored)] = restored
    bar = tqdm(
        total=total,
        initial=start,
        desc=description,
        disable=not _progress_enabled(progress),
        mininterval=2.0,
    )
    refresh = max(1, min(250, total // 20))
    checked = start // window  # rows before this one were checked before a checkpoint
    # the hand-written step runs its own worker threads; the rest of a step (AdamW, loss
    # sums) is too small for OpenMP, whose barriers stall when another job holds a core
    with intra_op_threads(1 if sparse_step is not None else None):
        for step in range(start, total):
            if sparse_step is not None:
                loss = sparse_step(generators)
            else:
                x = task.sample(generators, config.batch_size)
                loss = task.loss(model(x), x)
                optimiser.zero_grad()
                loss.sum().backward()
            optimiser.step()
            if window == 1:
                losses[step] = loss.detach()
            else:
                losses[step // window] += loss.detach() / min(
                    window, total - step // window * window
                )
            if (step + 1) % refresh == 0:
                _check_finite(losses[: (step + 1 + window - 1) // window], checked, window)
                checked = step // window
                bar.update(refresh)
                bar.set_postfix(loss=f"{float(loss.detach().mean()):.4g}")
            if checkpointer is not None and (step + 1) % checkpoint_every == 0 and step + 1 < total:
                checkpointer.save(
                    {
                        "step": step + 1,
                        "model": {
                            k: v.detach().cpu().clone() for k, v in model.state_dict().items()
                        },
                        "task": {k: v.detach().cpu().clone() for k, v in task.state_dict().items()},
                        "optimizer": {
                            "step_count": optimiser.step_count,
                            "exp_avg": [t.cpu().clone() for t in optimiser.exp_avg],
                            "exp_avg_sq": [t.cpu().clone() for t in optimiser.exp_avg_sq],
                        },
                        "generators": [g.get_state() for g in generators],
                        "losses": losses[: (step + window) // window].cpu().clone(),
                    }
                )
    bar.close()
    _check_finite(losses, checked, window)
    if final_state is not None:
        final_state["optimizer"] = {
            "step_count": optimiser.step_count,
            "exp_avg": [t.detach().cpu().clone() for t in optimiser.exp_avg],
            "exp_avg_sq": [t.detach().cpu().clone() for t in optimiser.exp_avg_sq],
        }
        final_state["generators"] = [g.get_state() for g in generators]
    return TrainResult(losses=losses.cpu(), horizons=horizons, loss_window=window)
