"""Input distributions of both papers (paper 000 section 2; paper 004 section 4).

- ``sparse_uniform``: each of ``n`` features active independently with probability ``p``,
  active values uniform in [-1, 1]. At low ``p`` the active positions are drawn as a
  Bernoulli process (geometric gaps between successes), so the cost is proportional to
  the number of active entries, not to ``batch * n``.
- ``exactly_k_uniform``: exactly ``k`` of ``n`` features active (a uniformly random subset),
  values uniform in [-1, 1]. Conditioned on ``k`` actives, ``sparse_uniform`` is exactly this.
- ``exactly_s_boolean``: exactly ``s`` of ``m`` boolean inputs on (Universal-AND).

``sparse_uniform_entries`` and ``exactly_k_entries`` return the same inputs in sparse form
(``SparseBatch``: row, column and value of every active entry), drawn from the SAME random
numbers as their dense counterparts: for one generator state the dense and the sparse
form describe the same batch (``SparseBatch.dense()`` rebuilds it bit for bit).

Every function takes an explicit ``torch.Generator`` and draws on the generator's device.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

#: Below this feature probability the sparse (geometric-gap) path is used.
SPARSE_PATH_MAX_P = 0.05


def _check_probability(p: float) -> None:
    if not 0.0 < p <= 1.0:
        raise ValueError(f"p must be in (0, 1], got {p}")


def _uniform_pm1(
    shape: tuple[int, ...] | int, generator: torch.Generator, dtype: torch.dtype
) -> torch.Tensor:
    values = torch.rand(shape, generator=generator, device=generator.device, dtype=dtype)
    return values.mul_(2.0).sub_(1.0)


def _bernoulli_positions(total: int, p: float, generator: torch.Generator) -> torch.Tensor:
    """Sorted positions in ``[0, total)`` of a Bernoulli(p) process; entries ``>= total``
    mark padding.

    Gaps between successes are Geometric(p). We draw the mean number of gaps plus an
    8-sigma margin; on the CPU we verify that the gaps cover ``total`` and draw more if
    not (exact). On an accelerator the check is skipped to avoid a host sync; the margin
    leaves a probability below 1e-15 of missing successes at the very end.
    """
    mean = total * p
    count = int(math.ceil(mean + 8.0 * math.sqrt(mean * (1.0 - p)) + 16.0))
    device = generator.device
    gaps = torch.empty(count, device=device, dtype=torch.float64).geometric_(p, generator=generator)
    positions = torch.cumsum(gaps.to(torch.int64), 0) - 1
    if device.type == "cpu":
        while positions[-1] < total:
            more = torch.empty(count, dtype=torch.float64).geometric_(p, generator=generator)
            positions = torch.cat(
                [positions, positions[-1] + torch.cumsum(more.to(torch.int64), 0)]
            )
    return positions


@dataclass
class SparseBatch:
    """A ``(batch, n)`` input batch in sparse form: entry ``i`` is ``x[rows[i], cols[i]] =
    values[i]``; positions are distinct and sorted by row."""

    rows: torch.Tensor  # (nnz,) int64
    cols: torch.Tensor  # (nnz,) int64
    values: torch.Tensor  # (nnz,)
    batch: int
    n: int

    def dense(self) -> torch.Tensor:
        """The ``(batch, n)`` dense batch."""
        x = torch.zeros((self.batch, self.n), dtype=self.values.dtype, device=self.values.device)
        x[self.rows, self.cols] = self.values
        return x


def sparse_uniform_entries(
    batch: int, n: int, p: float, generator: torch.Generator, dtype: torch.dtype = torch.float32
) -> SparseBatch:
    """The batch of :func:`sparse_uniform` (same generator draws) in sparse form."""
    _check_probability(p)
    device = generator.device
    if p >= SPARSE_PATH_MAX_P:
        active = torch.rand((batch, n), generator=generator, device=device) < p
        values = _uniform_pm1((batch, n), generator, dtype)
        rows, cols = active.nonzero(as_tuple=True)
        return SparseBatch(rows, cols, values[rows, cols], batch, n)
    total = batch * n
    positions = _bernoulli_positions(total, p, generator)
    values = _uniform_pm1(positions.numel(), generator, dtype)
    count = int(torch.searchsorted(positions, total))  # sorted: padding (>= total) at the end
    positions, values = positions[:count], values[:count]
    return SparseBatch(positions // n, positions % n, values, batch, n)


def sparse_uniform(
    batch: int, n: int, p: float, generator: torch.Generator, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """``(batch, n)`` inputs: each entry active with probability ``p``, active values U[-1, 1]."""
    _check_probability(p)
    device = generator.device
    if p >= SPARSE_PATH_MAX_P:
        active = torch.rand((batch, n), generator=generator, device=device) < p
        return torch.where(
            active,
            _uniform_pm1((batch, n), generator, dtype),
            torch.zeros((), dtype=dtype, device=device),
        )
    total = batch * n
    positions = _bernoulli_positions(total, p, generator).clamp_(max=total)  # padding -> dummy slot
    flat = torch.zeros(total + 1, dtype=dtype, device=device)
    flat[positions] = _uniform_pm1(positions.numel(), generator, dtype)
    return flat[:total].view(batch, n)


def random_subsets(batch: int, n: int, k: int, generator: torch.Generator) -> torch.Tensor:
    """``(batch, k)`` indices: for each row a uniformly random k-subset of ``range(n)``."""
    if not 0 <= k <= n:
        raise ValueError(f"k must be in [0, n={n}], got {k}")
    keys = torch.rand((batch, n), generator=generator, device=generator.device)
    return keys.topk(k, dim=1).indices


def exactly_k_uniform(
    batch: int, n: int, k: int, generator: torch.Generator, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """``(batch, n)`` inputs with exactly ``k`` active features, values U[-1, 1]."""
    index = random_subsets(batch, n, k, generator)
    x = torch.zeros((batch, n), dtype=dtype, device=generator.device)
    return x.scatter_(1, index, _uniform_pm1((batch, k), generator, dtype))


def exactly_k_entries(
    batch: int, n: int, k: int, generator: torch.Generator, dtype: torch.dtype = torch.float32
) -> SparseBatch:
    """The batch of :func:`exactly_k_uniform` (same generator draws) in sparse form."""
    index = random_subsets(batch, n, k, generator)
    values = _uniform_pm1((batch, k), generator, dtype)
    rows = torch.arange(batch, device=generator.device).repeat_interleave(k)
    order = index.argsort(dim=1)  # sort each row's columns (distinct, so any order is exact)
    return SparseBatch(
        rows, index.gather(1, order).reshape(-1), values.gather(1, order).reshape(-1), batch, n
    )


def exactly_s_boolean(
    batch: int, m: int, s: int, generator: torch.Generator, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """``(batch, m)`` boolean vectors (as 0./1.) with exactly ``s`` ones."""
    index = random_subsets(batch, m, s, generator)
    v = torch.zeros((batch, m), dtype=dtype, device=generator.device)
    return v.scatter_(1, index, 1.0)
