"""Input distributions of both papers (paper 000 section 2; paper 004 section 4).

- ``sparse_uniform``: each of ``n`` features active independently with probability ``p``,
  active values uniform in [-1, 1]. At low ``p`` the active positions are drawn as a
  Bernoulli process (geometric gaps between successes), so the cost is proportional to
  the number of active entries, not to ``batch * n``.
- ``exactly_k_uniform``: exactly ``k`` of ``n`` features active (a uniformly random subset),
  values uniform in [-1, 1]. Conditioned on ``k`` actives, ``sparse_uniform`` is exactly this.
- ``exactly_s_boolean``: exactly ``s`` of ``m`` boolean inputs on (Universal-AND).

``bernoulli_entries`` draws the batches of ``K`` instances at once, each from its own
generator, and returns their active entries packed (``PackedEntries``). Each instance
makes one or two calls to its generator per batch and every later operation is elementwise or
per instance, so an instance's entries are the same bits whether it is drawn alone or
with others (``sparse_uniform_entries`` is the one-instance case). ``sparse_uniform``
and ``sparse_uniform_entries`` describe the same batch for one generator state
(``SparseBatch.dense()`` rebuilds it bit for bit).

How a batch is drawn from the generator (changing this changes every data stream, so
``cclib.engine.cache.CACHE_SCHEMA`` moves with it):

- ``p < SPARSE_PATH_MAX_P``: ``c`` float64 uniforms, ``c`` = the mean number of actives
  plus an 8-sigma margin, give the geometric gaps by inversion,
  ``G = floor(log(1 - u) / log(1 - p)) + 1``; then ``c`` float32 uniforms the values
  ``2u - 1`` of the successes in order. On the CPU a run that falls short of the batch
  draws more (exact).
- ``p >= SPARSE_PATH_MAX_P``: one float32 uniform ``u`` per entry: active when ``u < p``,
  with value ``2u/p - 1`` (given ``u < p``, ``u/p`` is uniform on [0, 1)).

Every function takes an explicit ``torch.Generator`` and draws on the generator's device.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
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


def gap_draws(total: int, p: float) -> int:
    """Successes drawn per batch of ``total`` Bernoulli(p) trials: the mean plus an
    8-sigma margin (a shortfall has probability below 1e-15 and is topped up on the CPU)."""
    mean = total * p
    return int(math.ceil(mean + 8.0 * math.sqrt(mean * (1.0 - p)) + 16.0))


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


@dataclass
class PackedEntries:
    """The active entries of ``K`` input batches of shape ``(batch, n)``: entry ``i`` is
    ``x[instance[i], rows[i], cols[i]] = values[i]``, sorted by instance, row and column."""

    instance: torch.Tensor  # (nnz,) int64
    rows: torch.Tensor  # (nnz,) int64
    cols: torch.Tensor  # (nnz,) int64
    values: torch.Tensor  # (nnz,)
    instances: int
    batch: int
    n: int

    def dense(self) -> torch.Tensor:
        """The ``(K, batch, n)`` dense batches."""
        shape = (self.instances, self.batch, self.n)
        x = torch.zeros(shape, dtype=self.values.dtype, device=self.values.device)
        x[self.instance, self.rows, self.cols] = self.values
        return x

    def split(self) -> list[SparseBatch]:
        """One ``SparseBatch`` per instance."""
        counts = torch.bincount(self.instance, minlength=self.instances).tolist()
        parts = zip(
            self.rows.split(counts), self.cols.split(counts), self.values.split(counts), strict=True
        )
        return [SparseBatch(r, c, v, self.batch, self.n) for r, c, v in parts]

    @classmethod
    def single(cls, batch: SparseBatch) -> PackedEntries:
        """The packing of one instance's ``SparseBatch``."""
        instance = torch.zeros_like(batch.rows)
        return cls(instance, batch.rows, batch.cols, batch.values, 1, batch.batch, batch.n)

    @classmethod
    def join(cls, parts: Sequence[PackedEntries], order: Sequence[int]) -> PackedEntries:
        """One packing of several, whose instances are ``order`` (a permutation of the
        instances of all parts together, part after part) in the joined packing."""
        first = parts[0]
        target = torch.tensor(list(order), dtype=torch.int64, device=first.instance.device)
        offsets, instance = 0, []
        for part in parts:
            instance.append(target[part.instance + offsets])
            offsets += part.instances
        instance = torch.cat(instance)
        sort = torch.argsort(instance, stable=True)  # each part is already sorted by row
        return cls(
            instance[sort],
            torch.cat([p.rows for p in parts])[sort],
            torch.cat([p.cols for p in parts])[sort],
            torch.cat([p.values for p in parts])[sort],
            len(order),
            first.batch,
            first.n,
        )


def _gap_entries(
    batch: int, n: int, ps: Sequence[float], generators: Sequence[torch.Generator], dtype
) -> PackedEntries:
    """Instances with ``p < SPARSE_PATH_MAX_P``: geometric gaps, two draws per instance."""
    total, device = batch * n, generators[0].device
    counts = [gap_draws(total, p) for p in ps]
    width = max(counts)
    # 1.0 (never drawn: uniforms lie in [0, 1)) pads an instance's row: an infinite gap
    gaps = torch.ones((len(ps), width), dtype=torch.float64, device=device)
    values = torch.zeros((len(ps), width), dtype=torch.float32, device=device)
    for row, (count, generator) in enumerate(zip(counts, generators, strict=True)):
        _draw_into(gaps[row, :count], generator)
        _draw_into(values[row, :count], generator)
    rate = torch.log1p(-torch.tensor(ps, dtype=torch.float64, device=device))
    gaps.neg_().log1p_().div_(rate[:, None]).floor_().add_(1.0)  # Geometric(p) by inversion
    positions = torch.cumsum(gaps, 1).sub_(1.0)  # exact: integers below 2^53
    if device.type == "cpu":
        count = torch.tensor(counts)
        last = positions.gather(1, (count - 1)[:, None])[:, 0]
        for row in (last < total).nonzero()[:, 0].tolist():  # a shortfall: about 1e-15
            positions, values = _top_up(
                positions, values, row, counts[row], ps[row], total, generators[row]
            )
    instance, column = (positions < total).nonzero(as_tuple=True)
    flat = positions[instance, column].long()
    value = values[instance, column].mul_(2.0).sub_(1.0).to(dtype)
    return PackedEntries(instance, flat // n, flat % n, value, len(ps), batch, n)


def _draw_into(target: torch.Tensor, generator: torch.Generator) -> None:
    """Fill a contiguous slice with U[0, 1) draws: in place on the CPU; elsewhere from a
    fresh tensor, which draws the same numbers as a one-instance call on every backend."""
    if target.device.type == "cpu":
        target.uniform_(generator=generator)
    else:
        target.copy_(
            torch.rand(target.shape, dtype=target.dtype, device=target.device, generator=generator)
        )


def _top_up(positions, values, row, count, p, total, generator):
    """Continue instance ``row``'s Bernoulli process past its drawn successes until it
    covers ``total`` trials (rare: the draws carry an 8-sigma margin)."""
    row_positions, row_values = [positions[row, :count]], [values[row, :count]]
    last = float(row_positions[0][-1])
    while last < total:
        gaps = torch.rand(count, dtype=torch.float64, generator=generator)
        more = torch.rand(count, dtype=torch.float32, generator=generator)
        gaps.neg_().log1p_().div_(math.log1p(-p)).floor_().add_(1.0)
        row_positions.append(last + torch.cumsum(gaps, 0))
        row_values.append(more)
        last = float(row_positions[-1][-1])
    grown = torch.cat(row_positions), torch.cat(row_values)
    width = max(positions.shape[1], len(grown[0]))
    new_positions = torch.full((positions.shape[0], width), math.inf, dtype=torch.float64)
    new_values = torch.zeros((values.shape[0], width), dtype=values.dtype)
    new_positions[:, : positions.shape[1]] = positions
    new_values[:, : values.shape[1]] = values
    new_positions[row], new_values[row] = math.inf, 0.0
    new_positions[row, : len(grown[0])] = grown[0]
    new_values[row, : len(grown[1])] = grown[1]
    return new_positions, new_values


def _mask_draws(
    batch: int, n: int, ps: Sequence[float], generators: Sequence[torch.Generator], dtype
) -> tuple[torch.Tensor, torch.Tensor]:
    """Instances with ``p >= SPARSE_PATH_MAX_P``: ``(K, batch, n)`` activity mask and the
    value each entry has where active, from one float32 draw per entry and instance."""
    device = generators[0].device
    draws = torch.empty((len(generators), batch, n), dtype=torch.float32, device=device)
    for row, generator in enumerate(generators):
        draws[row].uniform_(generator=generator)
    limit = torch.tensor(ps, dtype=torch.float32, device=device)[:, None, None]
    scale = torch.tensor([2.0 / p for p in ps], dtype=torch.float32, device=device)
    values = (draws * scale[:, None, None]).sub_(1.0).to(dtype)
    return draws < limit, values


def _mask_entries(
    batch: int, n: int, ps: Sequence[float], generators: Sequence[torch.Generator], dtype
) -> PackedEntries:
    active, values = _mask_draws(batch, n, ps, generators, dtype)
    instance, rows, cols = active.nonzero(as_tuple=True)
    return PackedEntries(instance, rows, cols, values[instance, rows, cols], len(ps), batch, n)


def _kinds(ps: Sequence[float]) -> tuple[list[int], list[int]]:
    """Instances drawn by geometric gaps and by a mask."""
    low = [k for k, p in enumerate(ps) if p < SPARSE_PATH_MAX_P]
    return low, [k for k, p in enumerate(ps) if p >= SPARSE_PATH_MAX_P]


def _check(ps: Sequence[float], generators: Sequence[torch.Generator]) -> None:
    for p in ps:
        _check_probability(p)
    if len(ps) != len(generators) or not ps:
        raise ValueError(f"need one generator per p, got {len(generators)} for {len(ps)}")


def bernoulli_entries(
    batch: int,
    n: int,
    ps: Sequence[float],
    generators: Sequence[torch.Generator],
    dtype: torch.dtype = torch.float32,
) -> PackedEntries:
    """The active entries of ``K = len(ps)`` batches of ``(batch, n)`` inputs, instance
    ``k`` with feature probability ``ps[k]`` drawn from ``generators[k]``."""
    _check(ps, generators)
    parts, order = [], []
    for members, draw in zip(_kinds(ps), (_gap_entries, _mask_entries), strict=True):
        if members:
            chosen = [ps[k] for k in members], [generators[k] for k in members]
            parts.append(draw(batch, n, *chosen, dtype))
            order.extend(members)
    return parts[0] if len(parts) == 1 else PackedEntries.join(parts, order)


def bernoulli_dense(
    batch: int,
    n: int,
    ps: Sequence[float],
    generators: Sequence[torch.Generator],
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """The ``(K, batch, n)`` dense form of :func:`bernoulli_entries` (the same draws)."""
    _check(ps, generators)
    low, high = _kinds(ps)
    if low:
        chosen = [ps[k] for k in low], [generators[k] for k in low]
        sparse = _gap_entries(batch, n, *chosen, dtype).dense()
        if not high:
            return sparse
    if high:
        chosen = [ps[k] for k in high], [generators[k] for k in high]
        active, values = _mask_draws(batch, n, *chosen, dtype)
        dense = values.masked_fill_(~active, 0.0)
        if not low:
            return dense
    x = torch.empty((len(ps), batch, n), dtype=dtype, device=generators[0].device)
    x[low], x[high] = sparse, dense
    return x


def sparse_uniform_entries(
    batch: int, n: int, p: float, generator: torch.Generator, dtype: torch.dtype = torch.float32
) -> SparseBatch:
    """The batch of :func:`sparse_uniform` (same generator draws) in sparse form."""
    return bernoulli_entries(batch, n, [p], [generator], dtype).split()[0]


def sparse_uniform(
    batch: int, n: int, p: float, generator: torch.Generator, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """``(batch, n)`` inputs: each entry active with probability ``p``, active values U[-1, 1]."""
    return bernoulli_dense(batch, n, [p], [generator], dtype)[0]


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
