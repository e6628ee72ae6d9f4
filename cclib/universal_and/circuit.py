"""The binary weighted circuit of Universal-AND (paper 004 section 5.1, appendix B).

Each trained neuron's input weights take (nearly) one of two values, ``W_ij in {u_i, w_i}``
with ``u_i > w_i``. ``fit_binary`` finds, for every neuron, the two values that minimise
the squared distance of its ``m`` weights to the nearer value. In one dimension the
optimal two-cluster split is contiguous in sorted order, so the exact fit tries each of
the ``m - 1`` split points of the sorted weights (prefix sums give every split's error at
once) and keeps the best: no iterative k-means, no random start.

``binary_similarity`` scores a whole weight matrix in ``[0, 1]``: the fraction of the
within-neuron weight variance that the per-neuron two-value fit explains,
``1 - sum_i SSE_i(two values) / sum_i SSE_i(one value)``. It is 1 for an exactly binary
matrix; i.i.d. continuous weights score well below 1 (uniform: 3/4, Gaussian: 2/pi, in
the limit of many inputs), which is the baseline an untrained layer shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class BinaryFit:
    """Per-neuron two-value fit of a compute layer ``W (K, d, m)`` with bias ``b (K, d)``.

    ``u (K, d)`` is the larger value, ``w (K, d)`` the smaller, ``b (K, d)`` the bias,
    ``is_u (K, d, m)`` which value each weight is assigned to, ``spread90 (K, d)`` the 90th
    percentile of a weight's distance to its neuron's nearer value, ``explained (K, d)``
    the fraction of the neuron's weight variance the fit explains (1 for a constant row),
    ``distance (K, d, m)`` each weight's distance to its nearer value.
    """

    u: torch.Tensor
    w: torch.Tensor
    b: torch.Tensor
    is_u: torch.Tensor
    spread90: torch.Tensor
    explained: torch.Tensor
    distance: torch.Tensor | None = None

    @property
    def u_fraction(self) -> torch.Tensor:
        """``(K, d)`` share of each neuron's inputs assigned to ``u``."""
        return self.is_u.float().mean(dim=-1)

    def close_share(self, tolerance: float) -> torch.Tensor:
        """``(K, d)`` share of each neuron's weights within ``tolerance (u - w)`` of their
        nearer value."""
        if self.distance is None:
            raise ValueError("this fit was made without the distances of its weights")
        return (self.distance <= tolerance * (self.u - self.w)[..., None]).float().mean(dim=-1)

    @property
    def ratio(self) -> torch.Tensor:
        """``(K, d)`` the ratio ``u / w`` of each neuron (negative when the signs differ)."""
        return self.u / self.w


def _split_errors(sorted_w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Squared error of every contiguous two-value split of sorted rows ``(..., m)``.

    Returns ``(errors (..., m-1), low sums (..., m-1), total error (...))``: split ``k``
    puts the ``k + 1`` smallest weights in the low group."""
    m = sorted_w.shape[-1]
    weights = sorted_w.double()
    first = weights.cumsum(dim=-1)
    second = weights.square().cumsum(dim=-1)
    count = torch.arange(1, m, dtype=torch.float64, device=weights.device)
    low_sum, low_sq = first[..., :-1], second[..., :-1]
    high_sum = first[..., -1:] - low_sum
    high_sq = second[..., -1:] - low_sq
    errors = (low_sq - low_sum.square() / count) + (high_sq - high_sum.square() / (m - count))
    total = second[..., -1] - first[..., -1].square() / m
    return errors.clamp(min=0.0), low_sum, total.clamp(min=0.0)


def fit_binary(w: torch.Tensor, b: torch.Tensor) -> BinaryFit:
    """Exact per-neuron two-value fit of ``w (K, d, m)`` (``m >= 2``); ``b (K, d)`` is kept."""
    w = w.detach()
    m = w.shape[-1]
    if m < 2:
        raise ValueError(f"a two-value fit needs at least 2 inputs per neuron, got m = {m}")
    sorted_w, _ = w.sort(dim=-1)
    errors, low_sum, total = _split_errors(sorted_w)
    best, split = errors.min(dim=-1)  # (K, d)
    low_count = (split + 1).double()
    low_value = low_sum.gather(-1, split[..., None])[..., 0] / low_count
    high_value = (sorted_w.double().sum(dim=-1) - low_value * low_count) / (m - low_count)
    threshold = sorted_w.gather(-1, split[..., None])  # largest weight of the low group
    is_u = w > threshold
    nearer = torch.where(is_u, high_value[..., None], low_value[..., None]).to(w.dtype)
    distance = (w - nearer).abs()
    spread90 = torch.quantile(distance.float(), 0.9, dim=-1)
    explained = torch.where(total > 0, 1.0 - best / total.clamp(min=1e-300), 1.0)
    return BinaryFit(
        u=high_value.to(w.dtype),
        w=low_value.to(w.dtype),
        b=b.detach().clone(),
        is_u=is_u,
        spread90=spread90.to(w.dtype),
        explained=explained.to(w.dtype),
        distance=distance,
    )


def binary_similarity(w: torch.Tensor) -> torch.Tensor:
    """``(K,)`` share of the within-neuron variance of ``w (K, d, m)`` that each neuron's
    two-value fit explains: ``1 - sum SSE(two values) / sum SSE(neuron mean)``."""
    sorted_w, _ = w.detach().sort(dim=-1)
    errors, _, total = _split_errors(sorted_w)
    best = errors.min(dim=-1).values
    return (1.0 - best.sum(dim=-1) / total.sum(dim=-1).clamp(min=1e-300)).to(w.dtype)
