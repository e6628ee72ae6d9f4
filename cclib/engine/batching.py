"""Helpers for batched models: every tensor has a leading instance dimension ``K``.

``linear_init`` draws instance ``k``'s weights from its own seed on the CPU (so initial
weights depend neither on the device nor on the other instances), with
``torch.nn.Linear``'s default scale; ``bmm_t`` is the per-instance product ``x W^T``;
``per_instance`` expands a hyperparameter to one value per instance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from .seeding import Stream, make_generator


def linear_init(
    seeds: Sequence[int], shape: tuple[int, ...], fan_in: int, part: int
) -> torch.Tensor:
    """``(K, *shape)`` weights, instance ``k`` uniform in ±1/sqrt(fan_in) from ``seeds[k]``.

    ``part`` numbers the tensors of one model, each drawn from its own random stream.
    """
    bound = 1.0 / math.sqrt(fan_in)
    out = torch.empty((len(seeds), *shape))
    for k, seed in enumerate(seeds):
        out[k].uniform_(-bound, bound, generator=make_generator(seed, Stream.INIT, part=part))
    return out


def bmm_t(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``x @ w^T`` per instance: ``x (K, B, i)``, ``w (K, o, i)`` -> ``(K, B, o)``."""
    return torch.bmm(x, w.transpose(1, 2))


def per_instance(values: float | Sequence[float], k: int, name: str) -> list[float]:
    """One float per instance: a scalar repeated ``k`` times, or a sequence of length ``k``."""
    if isinstance(values, (int, float)):
        return [float(values)] * k
    values = [float(v) for v in values]
    if len(values) != k:
        raise ValueError(f"{name} needs one value per instance ({k}), got {len(values)}")
    return values
