"""How well trained Universal-AND models compute every pairwise AND (paper 004 section 5).

One pass over fresh exactly-``s`` samples gives, per instance: the case-balanced loss the
model was trained on, the mean squared error of each case of a pair (neither input on,
one on, both on), and the share of outputs on the right side of the threshold 0.5 in
each case. ``and_accuracy`` is the mean of the three case accuracies: every case counts
equally, as in the loss, so the rare "both on" outputs are not drowned by the many
"neither on" ones (an all-zero readout would otherwise score above 0.99 at small s).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .models import UniversalAND
from .tasks import UniversalANDTask

#: Samples per evaluation chunk: bounds memory at ``K x CHUNK x P`` outputs.
CHUNK = 1024

THRESHOLD = 0.5


@dataclass(frozen=True)
class Evaluation:
    """Per-instance results over ``samples`` fresh inputs: ``loss (K,)`` case-balanced MSE,
    ``case_error (K, 3)`` MSE of the outputs of pairs with 0, 1, 2 inputs on,
    ``case_accuracy (K, 3)`` share of those outputs on the right side of 0.5."""

    loss: torch.Tensor
    case_error: torch.Tensor
    case_accuracy: torch.Tensor
    samples: int

    @property
    def and_accuracy(self) -> torch.Tensor:
        """``(K,)`` case-balanced accuracy: the mean of the possible cases' accuracies."""
        return self.case_accuracy.nanmean(dim=1)


def _generators(
    generator: torch.Generator | Sequence[torch.Generator], instances: int
) -> list[torch.Generator]:
    if isinstance(generator, torch.Generator):
        return [generator] * instances
    generators = list(generator)
    if len(generators) != instances:
        raise ValueError(f"need one generator per instance ({instances}), got {len(generators)}")
    return generators


@torch.no_grad()
def evaluate(
    model: UniversalAND,
    task: UniversalANDTask,
    samples: int,
    generator: torch.Generator | Sequence[torch.Generator],
    chunk: int = CHUNK,
) -> Evaluation:
    """Evaluate every instance on ``samples`` fresh inputs (one generator for all instances
    or one per instance), in chunks of ``chunk`` samples, on the model's device."""
    k = model.w.shape[0]
    generators = _generators(generator, k)
    device = model.w.device
    task = task.to(device)
    loss = torch.zeros(k, dtype=torch.float64, device=device)
    squared = torch.zeros(k, 3, dtype=torch.float64, device=device)
    right = torch.zeros(k, 3, dtype=torch.float64, device=device)
    counts = torch.zeros(k, 3, dtype=torch.float64, device=device)
    done = 0
    while done < samples:
        batch = min(chunk, samples - done)
        v = task.sample(generators, batch).to(device)
        y = model(v)  # (K, B, P)
        labels = task.labels(v)
        cases = task.cases(v)
        loss += task.sample_losses(y, v).double().sum(dim=1)
        error = (y - labels).square().double()
        correct = ((y > THRESHOLD) == (labels > THRESHOLD)).double()
        for case in range(3):
            mask = (cases == case).double()
            squared[:, case] += (error * mask).sum(dim=(1, 2))
            right[:, case] += (correct * mask).sum(dim=(1, 2))
            counts[:, case] += mask.sum(dim=(1, 2))
        done += batch
    seen = counts.clamp(min=1.0)
    nan = torch.full_like(counts, float("nan"))
    return Evaluation(
        loss=(loss / samples).float().cpu(),
        case_error=torch.where(counts > 0, squared / seen, nan).float().cpu(),
        case_accuracy=torch.where(counts > 0, right / seen, nan).float().cpu(),
        samples=samples,
    )


@torch.no_grad()
def case_counts(
    task: UniversalANDTask, samples: int, generator: torch.Generator | Sequence[torch.Generator]
) -> torch.Tensor:
    """``(K, samples, 3)`` number of pairs with 0, 1, 2 inputs on in each fresh sample (with
    exactly ``s`` on these are ``C(m-s, 2)``, ``s (m-s)``, ``C(s, 2)`` in every sample)."""
    k = len(task.s_values)
    cases = task.cases(task.sample(_generators(generator, k), samples))
    return torch.stack([(cases == case).sum(dim=2) for case in range(3)], dim=2)


def and_accuracy(
    model: UniversalAND,
    task: UniversalANDTask,
    samples: int,
    generator: torch.Generator | Sequence[torch.Generator],
) -> torch.Tensor:
    """``(K,)`` case-balanced share of pair outputs read correctly at threshold 0.5."""
    return evaluate(model, task, samples, generator).and_accuracy


def case_errors(
    model: UniversalAND,
    task: UniversalANDTask,
    samples: int,
    generator: torch.Generator | Sequence[torch.Generator],
) -> torch.Tensor:
    """``(K, 3)`` mean squared error of pairs with 0, 1 and 2 inputs on."""
    return evaluate(model, task, samples, generator).case_error
