"""AdamW with one learning-rate schedule per instance (paper 000 appendix B).

torch's ``AdamW`` takes one learning rate per parameter group. A sweep in which each
instance has its own number of steps (the paper's "10,000 non-empty batches" depends on
``p``) needs a learning rate per instance, so this optimiser applies exactly torch's
AdamW update with ``lr`` a ``(K,)`` tensor read from a precomputed ``(T, K)`` schedule on
the device (no host sync; ``CosineSchedule`` computes it in blocks of steps, so long runs
need no ``(T, K)`` table). With one shared schedule it matches ``torch.optim.AdamW``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch


def cosine_schedule(
    lr: float,
    horizons: Sequence[int],
    device: torch.device | str = "cpu",
    first: int = 0,
    last: int | None = None,
) -> torch.Tensor:
    """``(max(horizons), K)`` learning rates: cosine from ``lr`` to 0 over each instance's
    horizon, no warm-up, then 0 (the instance stops changing). ``first`` and ``last``
    select steps ``[first, last)`` only (the same values)."""
    last = max(horizons) if last is None else last
    step = torch.arange(first, last, dtype=torch.float64)[:, None]
    horizon = torch.tensor(horizons, dtype=torch.float64)[None, :]
    rate = 0.5 * lr * (1.0 + torch.cos(math.pi * step / horizon))
    return torch.where(step < horizon, rate, torch.zeros(())).float().to(device)


class CosineSchedule:
    """The rows of :func:`cosine_schedule`, computed ``block`` steps at a time when first
    read, so memory stays ``O(block * K)`` however long the run (bit-identical values)."""

    def __init__(
        self,
        lr: float,
        horizons: Sequence[int],
        device: torch.device | str = "cpu",
        block: int = 4096,
        steps: int | None = None,
    ):
        self.lr, self.horizons, self.device, self.block = lr, list(horizons), device, block
        self.steps = max(self.horizons) if steps is None else int(steps)  # rows past: rate 0
        self._start, self._rows = -1, None

    def __len__(self) -> int:
        return self.steps

    def __getitem__(self, step: int) -> torch.Tensor:
        start = step - step % self.block
        if start != self._start:
            last = min(start + self.block, len(self))
            self._rows = cosine_schedule(self.lr, self.horizons, self.device, start, last)
            self._start = start
        return self._rows[step - start]


@dataclass
class ParamGroup:
    """Parameters (each with a leading instance dimension) sharing one weight decay."""

    params: list[torch.nn.Parameter]
    weight_decay: float


class InstanceAdamW:
    """AdamW whose learning rate at step ``t`` is ``schedule[t]``, one value per instance."""

    def __init__(
        self,
        groups: Sequence[ParamGroup],
        schedule: torch.Tensor | CosineSchedule,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ):
        self.groups = list(groups)
        self.schedule = schedule
        self.betas = betas
        self.eps = eps
        # sqrt(tiny) / sqrt(1 - beta2^t) <= eps 2^-27, under half a float32 ulp of eps
        self.tiny = (eps * math.sqrt(1.0 - betas[1]) * 2.0**-27) ** 2
        self.step_count = 0
        self.exp_avg = [torch.zeros_like(p) for g in self.groups for p in g.params]
        self.exp_avg_sq = [torch.zeros_like(p) for g in self.groups for p in g.params]

    def zero_grad(self) -> None:
        for group in self.groups:
            for param in group.params:
                param.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """One AdamW update with the learning rates of the current step."""
        beta1, beta2 = self.betas
        lr = self.schedule[self.step_count]  # (K,)
        self.step_count += 1
        correction1 = 1.0 - beta1**self.step_count
        correction2_sqrt = math.sqrt(1.0 - beta2**self.step_count)
        index = 0
        for group in self.groups:
            for param in group.params:
                exp_avg, exp_avg_sq = self.exp_avg[index], self.exp_avg_sq[index]
                index += 1
                if param.grad is None:
                    continue
                rate = lr.view(-1, *([1] * (param.dim() - 1)))
                param.mul_(1.0 - rate * group.weight_decay)
                exp_avg.lerp_(param.grad, 1.0 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(param.grad, param.grad, value=1.0 - beta2)
                # sqrt of subnormal floats is some 100x slower on x86 CPUs, and second
                # moments of rarely active weights go subnormal; below self.tiny the root
                # is far under eps's rounding, so the clamp leaves every bit of denom as is
                root = exp_avg_sq.clamp(min=self.tiny).sqrt_()
                denom = root.div_(correction2_sqrt).add_(self.eps)
                param.sub_(rate / correction1 * exp_avg / denom)

    def state_dict(self) -> dict:
        return {
            "step_count": self.step_count,
            "exp_avg": list(self.exp_avg),
            "exp_avg_sq": list(self.exp_avg_sq),
        }

    def load_state_dict(self, state: dict) -> None:
        self.step_count = int(state["step_count"])
        for mine, saved in zip(
            self.exp_avg + self.exp_avg_sq,
            list(state["exp_avg"]) + list(state["exp_avg_sq"]),
            strict=True,
        ):
            mine.copy_(saved)
