"""Batched toy models of compressed computation (paper 000 section 2 and appendix A.1).

Every parameter has a leading instance dimension ``K``: one module holds ``K``
independent models of the same shape, and a forward pass maps ``(K, B, n_in)`` to
``(K, B, n_out)``. Instance ``k`` is initialised from its own seed, on the CPU, so a
model's initial weights do not depend on the device or on the other instances.

- ``MLP``: ``y = W_out ReLU(W_in x)``, no biases (the simplified CC model).
- ``ResidualCC``: Braun et al.'s residual model, ``W_E^T (r + W_out' ReLU(W_in' r))`` with
  ``r = W_E x`` and a frozen embedding ``W_E``.

Initialisation follows ``torch.nn.Linear``'s default: weights and biases uniform in
``[-1/sqrt(fan_in), 1/sqrt(fan_in)]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..engine.batching import bmm_t, linear_init
from .mixing import embedding_induced


class MLP(nn.Module):
    """``K`` bias-free one-layer MLPs ``y = W_out ReLU(W_in x)``.

    ``w_in: (K, d, n)``, ``w_out: (K, n, d)``.
    """

    def __init__(self, w_in: torch.Tensor, w_out: torch.Tensor):
        super().__init__()
        self.w_in = nn.Parameter(w_in)
        self.w_out = nn.Parameter(w_out)

    @classmethod
    def init(cls, seeds: Sequence[int], n: int, d: int) -> MLP:
        """Default PyTorch initialisation, instance ``k`` from ``seeds[k]``."""
        return cls(linear_init(seeds, (d, n), n, part=0), linear_init(seeds, (n, d), d, part=1))

    @property
    def instances(self) -> int:
        return self.w_in.shape[0]

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        """Neuron activations ``(K, B, d)``."""
        return torch.relu(bmm_t(x, self.w_in))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return bmm_t(self.hidden(x), self.w_out)


class ResidualCC(nn.Module):
    """``K`` residual CC models of Braun et al. with frozen embeddings.

    ``w_e: (K, width, n)`` (buffer, never trained), ``w_in: (K, d, width)``,
    ``w_out: (K, width, d)``; output ``W_E^T (W_E x + W_out ReLU(W_in W_E x))``.
    """

    def __init__(self, w_e: torch.Tensor, w_in: torch.Tensor, w_out: torch.Tensor):
        super().__init__()
        self.register_buffer("w_e", w_e)
        self.w_in = nn.Parameter(w_in)
        self.w_out = nn.Parameter(w_out)

    @classmethod
    def init(cls, seeds: Sequence[int], w_e: torch.Tensor, d: int) -> ResidualCC:
        """Default PyTorch initialisation of the MLP around embeddings ``w_e (K, width, n)``."""
        width = w_e.shape[1]
        return cls(
            w_e,
            linear_init(seeds, (d, width), width, part=0),
            linear_init(seeds, (width, d), d, part=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w_e_t = self.w_e.transpose(1, 2)  # (K, n, width)
        residual = bmm_t(x, self.w_e)  # (K, B, width)
        residual = residual + bmm_t(torch.relu(bmm_t(residual, self.w_in)), self.w_out)
        return bmm_t(residual, w_e_t)

    def equivalent_mlp(self) -> MLP:
        """The MLP with ``W_in = W_in' W_E`` and ``W_out = W_E^T W_out'`` (appendix A.1)."""
        w_in = torch.bmm(self.w_in.detach(), self.w_e)
        w_out = torch.bmm(self.w_e.transpose(1, 2), self.w_out.detach())
        return MLP(w_in.clone(), w_out.clone())

    def equivalent_mixing(self) -> torch.Tensor:
        """``(K, n, n)`` mixing matrices ``I - W_E^T W_E`` of the equivalent MLP task.

        Computed instance by instance with ``mixing.embedding_induced``, the function the
        tasks use, so both give bit-identical matrices whatever the BLAS thread count."""
        return torch.stack([embedding_induced(w_e) for w_e in self.w_e])
