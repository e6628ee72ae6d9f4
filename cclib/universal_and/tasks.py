"""The Universal-AND task (paper 004 section 3), batched over ``K`` instances.

Exactly-``s`` boolean inputs over ``m``, labels the AND of every unordered pair, MSE
weighted so that the three cases of a pair (neither, one, both on) contribute equally in
expectation (``case_weights``); ``SparseCaseLoss`` computes that loss from the ``s``
active inputs of each row.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..engine.batching import per_instance
from ..engine.sampling import exactly_s_boolean


def pair_indices(m: int) -> torch.Tensor:
    """``(m (m - 1) / 2, 2)`` index pairs ``(i, j)`` with ``i < j``, in row-major order."""
    return torch.triu_indices(m, m, offset=1).T.contiguous()


def case_probabilities(m: int, s: int) -> torch.Tensor:
    """Probabilities that a fixed pair has 0, 1 or 2 inputs on, for exactly-s sampling."""
    total = m * (m - 1)
    both = s * (s - 1) / total
    one = 2 * s * (m - s) / total
    neither = (m - s) * (m - s - 1) / total
    return torch.tensor([neither, one, both], dtype=torch.float64)


def case_weights(m: int, s: int) -> torch.Tensor:
    """Weights ``1 / (3 P(case))`` (0 for impossible cases): each case contributes equally."""
    probabilities = case_probabilities(m, s)
    possible = probabilities > 0
    weights = torch.zeros(3, dtype=torch.float64)
    weights[possible] = 1.0 / (possible.sum() * probabilities[possible])
    return weights.float()


class UniversalANDTask(nn.Module):
    """Exactly-``s_k`` boolean inputs over ``m``; labels ``v_i v_j`` for every pair ``i < j``."""

    def __init__(self, m: int, s: int | Sequence[int], instances: int, weighted: bool = True):
        super().__init__()
        self.m = m
        self.s_values = [int(v) for v in per_instance(s, instances, "s")]
        for value in self.s_values:
            if not 0 <= value <= m:
                raise ValueError(f"s must be in [0, m={m}], got {value}")
        self.register_buffer("pairs", pair_indices(m))
        weights = torch.stack(
            [case_weights(m, v) if weighted else torch.ones(3) for v in self.s_values]
        )
        self.register_buffer("weights", weights)  # (K, 3)

    def sample(self, generators: Sequence[torch.Generator], batch: int) -> torch.Tensor:
        """``(K, batch, m)`` inputs with exactly ``s_k`` ones."""
        return torch.stack(
            [
                exactly_s_boolean(batch, self.m, s, g)
                for s, g in zip(self.s_values, generators, strict=True)
            ]
        ).to(self.pairs.device)

    def labels(self, v: torch.Tensor) -> torch.Tensor:
        """``(K, B, P)`` pairwise ANDs."""
        return v[..., self.pairs[:, 0]] * v[..., self.pairs[:, 1]]

    def cases(self, v: torch.Tensor) -> torch.Tensor:
        """``(K, B, P)`` number of inputs on in each pair (0, 1 or 2)."""
        return (v[..., self.pairs[:, 0]] + v[..., self.pairs[:, 1]]).long()

    def sample_losses(self, prediction: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """``(K, B)`` case-weighted squared error of each sample, averaged over pairs."""
        k = prediction.shape[0]
        weight = torch.gather(self.weights, 1, self.cases(v).view(k, -1)).view_as(prediction)
        return (weight * (prediction - self.labels(v)).square()).mean(dim=2)

    def loss(self, prediction: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Per-instance case-weighted MSE ``(K,)`` (the mean of :meth:`sample_losses`).

        When every instance has the same ``s`` (and every row exactly ``s`` ones) this is
        computed from the active inputs, without labels, cases or weights of every pair
        (``SparseCaseLoss``); the result and its gradient equal the dense formula's up to
        float rounding."""
        if len(set(self.s_values)) != 1 or self.s_values[0] < 1:
            return self.sample_losses(prediction, v).mean(dim=1)
        k, batch, m = v.shape
        # The s ones of each row in increasing order (topk keeps shapes static: no host sync).
        active = v.topk(self.s_values[0], dim=2).indices.sort(dim=2).values
        return SparseCaseLoss.apply(prediction, active, self.weights, self.pair_table())

    def pair_table(self) -> torch.Tensor:
        """``(m, m)`` index of pair ``{i, j}`` in the output (``-1`` on the diagonal)."""
        if (
            getattr(self, "_pair_table", None) is None
            or self._pair_table.device != self.pairs.device
        ):
            table = torch.full((self.m, self.m), -1, dtype=torch.long, device=self.pairs.device)
            index = torch.arange(len(self.pairs), device=self.pairs.device)
            table[self.pairs[:, 0], self.pairs[:, 1]] = index
            table[self.pairs[:, 1], self.pairs[:, 0]] = index
            self._pair_table = table
        return self._pair_table


class SparseCaseLoss(torch.autograd.Function):
    """Case-weighted MSE of Universal-AND from the ``s`` active inputs of each row.

    With ``w0, w1, w2`` the weights of pairs with 0, 1, 2 inputs on, and ``S1`` the sum of
    ``y^2`` over the pairs that touch an active input (pairs with both on counted twice),
    a row's summed loss is ``w0 sum y^2 + (w1 - w0)(S1 - 2 sum_both y^2)
    + sum_both (w2 (y - 1)^2 - w0 y^2)``: one dense pass over the outputs plus gathers of
    the ``s (m - 1)`` touched pairs. The gradient is ``2 w0 y`` plus scatter-adds there.
    """

    @staticmethod
    def forward(ctx, prediction, active, weights, table):
        k, batch, outputs = prediction.shape
        s, m = active.shape[2], table.shape[0]
        w0, w1, w2 = (weights[:, i, None] for i in range(3))  # (K, 1)
        flat = prediction.reshape(k, batch * outputs)
        row = (torch.arange(batch, device=active.device) * outputs).view(1, batch, 1)
        touched = table[active].view(k, batch, s * m)  # pair of (active a, every j)
        on_diagonal = touched < 0
        touched = touched.clamp(min=0) + row
        first, second = torch.triu_indices(s, s, offset=1, device=active.device)
        both = table[active[:, :, first], active[:, :, second]] + row  # (K, B, s(s-1)/2)
        y_touched = flat.gather(1, touched.view(k, -1)).masked_fill_(on_diagonal.view(k, -1), 0.0)
        y_both = flat.gather(1, both.view(k, -1))
        total = torch.linalg.vecdot(flat, flat)
        touched_sq = torch.linalg.vecdot(y_touched, y_touched)
        both_sq = torch.linalg.vecdot(y_both, y_both)
        both_err = torch.linalg.vecdot(y_both - 1.0, y_both - 1.0)
        w0, w1, w2 = w0[:, 0], w1[:, 0], w2[:, 0]
        summed = w0 * total + (w1 - w0) * (touched_sq - 2 * both_sq) + w2 * both_err - w0 * both_sq
        ctx.save_for_backward(flat, touched, on_diagonal, both, y_touched, y_both, weights)
        ctx.shape = prediction.shape
        return summed / (batch * outputs)

    @staticmethod
    def backward(ctx, grad_loss):
        flat, touched, on_diagonal, both, y_touched, y_both, weights = ctx.saved_tensors
        k, batch, outputs = ctx.shape
        scale = (2.0 * grad_loss / (batch * outputs))[:, None]  # (K, 1)
        w0, w1, w2 = (weights[:, i, None] for i in range(3))
        grad = flat * (scale * w0)
        grad.scatter_add_(1, touched.view(k, -1), y_touched * (scale * (w1 - w0)))
        both_grad = w2 * (y_both - 1.0) - w0 * y_both - 2.0 * (w1 - w0) * y_both
        grad.scatter_add_(1, both.view(k, -1), both_grad * scale)
        return grad.view(ctx.shape), None, None, None
