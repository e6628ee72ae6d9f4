"""Training a sweep whose instances differ in step implementation or in horizon.

``train`` steps every instance of a batched model until the longest horizon (an instance
past its own horizon has learning rate 0 and stops changing, but still costs a step), and
takes one step implementation for all of them (a single dense instance sends the whole
sweep down the dense path). :func:`train_phased` removes both costs:

- instances are first split by the step ``train`` would choose for each alone (the sparse
  CPU step or the dense one), and each part trains on its own;
- within a part, training runs in *phases*: every instance trains until the shortest
  horizon, then the instances with longer horizons carry on alone (weights, AdamW
  moments, data streams and loss history carried over), and so on. Horizons within
  ``slack`` of each other share a phase (an instance then steps at most that fraction of
  its horizon past it, at learning rate 0).

Each instance's numbers do not depend on its batch-mates (tested for both steps), so the
result equals one ``train`` call over the whole sweep, up to float rounding on the dense
path, except that the loss history holds NaN past an instance's own horizon, where it is
no longer trained. Checkpoints cover the whole plan: a resumed run restarts in the phase it
was in.

The caller builds any subset of the sweep with ``build(indices) -> (model, task)``; every
tensor of the model's and the task's state has the instance dimension first.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from .device import resolve_device
from .training import Checkpointer, TrainConfig, choose_path, loss_window, train

Build = Callable[[Sequence[int]], tuple[nn.Module, nn.Module]]

#: Horizons within this fraction of each other share a phase.
PHASE_SLACK = 0.02


def phase_ends(horizons: Sequence[int], slack: float = PHASE_SLACK) -> list[int]:
    """Steps at which phases end: the distinct horizons, those within ``slack`` of the
    first one of a run merged into its longest."""
    ends: list[int] = []
    first = 0  # shortest horizon of the current phase
    for horizon in sorted(set(horizons)):
        if ends and horizon <= math.floor(first * (1.0 + slack)):
            ends[-1] = horizon
        else:
            first = horizon
            ends.append(horizon)
    return ends


def _on_windows(ends: list[int], window: int) -> list[int]:
    """Phase ends moved up to whole loss windows (but the last), so no window of the loss
    history is split between two phases."""
    moved = [math.ceil(end / window) * window for end in ends[:-1]] + ends[-1:]
    return sorted({min(end, ends[-1]) for end in moved})


def instance_paths(build: Build, count: int, path: str, device: torch.device) -> list[str]:
    """The step ``train`` takes for each instance alone (``path`` unless ``"auto"``)."""
    if path != "auto":
        return [path] * count
    paths = []
    for index in range(count):
        model, task = build([index])
        paths.append(choose_path("auto", model, task, device))
    return paths


def _rows(state: dict[str, torch.Tensor], rows: Sequence[int]) -> dict[str, torch.Tensor]:
    """Instances ``rows`` of every tensor of a state dict (instance dimension first)."""
    index = torch.tensor(list(rows), dtype=torch.long)
    return {name: tensor.detach().cpu()[index].clone() for name, tensor in state.items()}


class _StartFrom:
    """A checkpointer for one phase: ``load`` gives the phase's start (the saved state of
    an interrupted phase, else the state carried over from the previous phase); ``save``
    stores the phase's state together with the plan's progress in ``outer``."""

    def __init__(self, outer: Checkpointer | None, progress: dict, start: dict | None):
        self.outer, self.progress, self.start = outer, progress, start

    def load(self) -> dict | None:
        return self.start

    def save(self, state: dict) -> None:
        if self.outer is not None:
            self.outer.save({**self.progress, "step": state["step"], "state": state})


def _parameter_names(model: nn.Module, task: nn.Module) -> list[str]:
    """Names of the trained tensors in the order ``train`` gives them to AdamW."""
    names = [f"model.{name}" for name, _ in model.named_parameters()]
    return names + [f"task.{name}" for name, _ in task.named_parameters()]


def _carry(previous: dict, keep: Sequence[int]) -> dict:
    """The start state of the next phase: ``previous`` (a phase's final state) restricted
    to its instances at positions ``keep``; AdamW's moments by parameter name (a subset
    may lack a parameter, e.g. a label scale no remaining instance learns)."""
    optimizer = previous["optimizer"]
    return {
        "step": previous["step"],
        "model": _rows(previous["model"], keep),
        "task": _rows(previous["task"], keep),
        "optimizer": {
            "step_count": optimizer["step_count"],
            "exp_avg": _rows(optimizer["exp_avg"], keep),
            "exp_avg_sq": _rows(optimizer["exp_avg_sq"], keep),
        },
        "generators": [previous["generators"][i] for i in keep],
        "losses": previous["losses"][:, list(keep)].clone(),
    }


def _for_model(start: dict | None, model: nn.Module, task: nn.Module) -> dict | None:
    """A carried start state with AdamW's moments listed for ``model`` and ``task`` (a
    checkpoint ``train`` saved itself has them listed already)."""
    if start is None or not isinstance(start["optimizer"]["exp_avg"], dict):
        return start
    names = _parameter_names(model, task)
    optimizer = start["optimizer"]
    listed = {
        "step_count": optimizer["step_count"],
        "exp_avg": [optimizer["exp_avg"][name] for name in names],
        "exp_avg_sq": [optimizer["exp_avg_sq"][name] for name in names],
    }
    return {**start, "optimizer": listed}


def _final_state(model, task, capture: dict, losses: torch.Tensor, step: int) -> dict:
    """A phase's final state in ``train``'s checkpoint form (AdamW's moments by name)."""
    names = _parameter_names(model, task)
    optimizer = capture["optimizer"]
    return {
        "step": step,
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "task": {k: v.detach().cpu() for k, v in task.state_dict().items()},
        "optimizer": {
            "step_count": optimizer["step_count"],
            "exp_avg": dict(zip(names, optimizer["exp_avg"], strict=True)),
            "exp_avg_sq": dict(zip(names, optimizer["exp_avg_sq"], strict=True)),
        },
        "generators": capture["generators"],
        "losses": losses,
    }


def train_phased(
    build: Build,
    config: TrainConfig,
    seeds: Sequence[int],
    horizons: Sequence[int],
    checkpointer: Checkpointer | None = None,
    device: torch.device | str | None = None,
    progress: bool = True,
    description: str = "training",
    path: str = "auto",
    history_steps: int | None = None,
    slack: float = PHASE_SLACK,
) -> dict[str, Any]:
    """Train the sweep of ``len(seeds)`` instances (instance ``i`` built by ``build``, with
    data seed ``seeds[i]`` and ``horizons[i]`` steps) by parts and phases (module
    docstring). Returns the payload ``{"model", "task", "losses", "horizons",
    "loss_window"}`` in instance order; ``losses`` has one row per ``loss_window`` steps
    of ``history_steps`` (default: the longest horizon), NaN past an instance's horizon."""
    device = resolve_device(device)
    count = len(seeds)
    horizons = [int(h) for h in horizons]
    history = max(horizons) if history_steps is None else int(history_steps)
    window = loss_window(history)
    saved = checkpointer.load() if checkpointer is not None else None
    done: dict[int, dict] = dict(saved["done"]) if saved else {}
    paths = instance_paths(build, count, path, device)
    parts = [[i for i in range(count) if paths[i] == kind] for kind in dict.fromkeys(paths)]
    for part_index, part in enumerate(parts):
        if all(i in done for i in part):
            continue
        ends = _on_windows(phase_ends([horizons[i] for i in part], slack), window)
        start = None
        first_phase = 0
        if saved and saved.get("part") == part_index:
            first_phase, start = int(saved["phase"]), saved["state"]
        for phase in range(first_phase, len(ends)):
            active = [i for i in part if i not in done]
            if not active:
                break
            model, task = build(active)
            bookmark = {"done": done, "part": part_index, "phase": phase}
            label = description if len(ends) == 1 else f"{description} ({phase + 1}/{len(ends)})"
            capture: dict = {}
            result = train(
                model,
                task,
                config,
                [seeds[i] for i in active],
                [horizons[i] for i in active],
                _StartFrom(checkpointer, bookmark, _for_model(start, model, task)),
                device=device,
                progress=progress,
                description=label,
                path=paths[active[0]],
                total_steps=ends[phase],
                history_steps=history,
                final_state=capture,
            )
            state = _final_state(model, task, capture, result.losses, ends[phase])
            finished = [pos for pos, i in enumerate(active) if horizons[i] <= ends[phase]]
            for pos in finished:
                done[active[pos]] = {
                    "model": _rows(state["model"], [pos]),
                    "task": _rows(state["task"], [pos]),
                    "losses": state["losses"][:, pos].clone(),
                }
            keep = [pos for pos in range(len(active)) if pos not in set(finished)]
            start = _carry(state, keep) if keep else None
            if checkpointer is not None and start is not None:
                # the next phase's start, so that a restart does not redo this phase
                after = {"done": done, "part": part_index, "phase": phase + 1}
                after.update(step=start["step"], state=start)
                checkpointer.save(after)
    return _assemble(done, count, horizons, history, window)


def _assemble(done: dict[int, dict], count: int, horizons, history: int, window: int) -> dict:
    """The sweep's payload from every instance's final state, in instance order."""
    rows = math.ceil(history / window)
    first = done[0]
    model = {k: torch.cat([done[i]["model"][k] for i in range(count)]) for k in first["model"]}
    task = {k: torch.cat([done[i]["task"][k] for i in range(count)]) for k in first["task"]}
    losses = torch.full((rows, count), math.nan)
    for i in range(count):
        trained = math.ceil(horizons[i] / window)
        history_i = done[i]["losses"]
        losses[: min(trained, len(history_i)), i] = history_i[:trained]
    return {
        "model": model,
        "task": task,
        "losses": losses,
        "horizons": list(horizons),
        "loss_window": window,
    }
