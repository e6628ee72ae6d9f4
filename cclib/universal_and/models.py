"""The Universal-AND model (paper 004 section 3), batched over ``K`` instances.

``y = R ReLU(W v + b) + c``: a compute layer of ``d`` neurons with bias over ``m`` boolean
inputs, and a wide linear readout with bias, one output per unordered pair of inputs.
Initialisation follows ``torch.nn.Linear``'s default (``cclib.engine.batching``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..engine.batching import bmm_t, linear_init


class UniversalAND(nn.Module):
    """``K`` Universal-AND models: compute layer ``a = ReLU(W v + b)``, readout ``R a + c``.

    ``w: (K, d, m)``, ``b: (K, d)``, ``r: (K, P, d)``, ``c: (K, P)`` with ``P`` outputs
    (one per unordered pair of inputs by default).
    """

    def __init__(self, w: torch.Tensor, b: torch.Tensor, r: torch.Tensor, c: torch.Tensor):
        super().__init__()
        self.w = nn.Parameter(w)
        self.b = nn.Parameter(b)
        self.r = nn.Parameter(r)
        self.c = nn.Parameter(c)

    @classmethod
    def init(cls, seeds: Sequence[int], m: int, d: int, outputs: int | None = None) -> UniversalAND:
        """Default PyTorch initialisation; ``outputs`` defaults to ``m (m - 1) / 2`` pairs."""
        outputs = m * (m - 1) // 2 if outputs is None else outputs
        return cls(
            linear_init(seeds, (d, m), m, part=0),
            linear_init(seeds, (d,), m, part=1),
            linear_init(seeds, (outputs, d), d, part=2),
            linear_init(seeds, (outputs,), d, part=3),
        )

    def hidden(self, v: torch.Tensor) -> torch.Tensor:
        """Neuron activations ``(K, B, d)``."""
        return torch.relu(bmm_t(v, self.w) + self.b[:, None, :])

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        return bmm_t(self.hidden(v), self.r) + self.c[:, None, :]
