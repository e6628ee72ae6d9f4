"""The CC model's sparse CPU step as it was before issue 15 (commit 396bd37), with the
sampler it used, kept only so that ``benchmarks/speed.py`` can time the old and the new
step side by side in one process. Not used by the library or the chapters."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch.nn.functional import embedding_bag

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


def _starts(index: torch.Tensor, size: int) -> torch.Tensor:
    """Offsets of the ``size`` consecutive groups of a sorted ``index`` (embedding-bag
    offsets; empty groups allowed)."""
    counts = torch.bincount(index, minlength=size)
    return torch.cumsum(counts, 0).sub_(counts)


class SparseStep:
    """Loss ``(K,)`` and gradients of one training step, written into ``.grad``."""

    CHUNK_ROWS = 128  # rows of one dense product
    GROUP = 16  # instances computed together after sampling

    def __init__(self, model, task, batch: int):
        self.model, self.task, self.batch = model, task, batch
        self.instances, self.d, self.n = model.w_in.shape
        # Row k * n + j is column j of M_k: the label contribution of feature j.
        self.mixing_columns = task.mixing.transpose(1, 2).reshape(-1, self.n).contiguous()
        self.eye = torch.eye(self.n, dtype=model.w_in.dtype)
        self.learn_scale = isinstance(task.scale, torch.nn.Parameter)

    def _split(self, generators: Sequence[torch.Generator]):
        """Sample, then split the active entries into single-feature rows (``V±`` sums of
        ``v^2`` per instance, sign and feature) and multi-feature rows (flat slot in the
        ``K * C * CHUNK_ROWS`` rows, flat feature in ``K * n``, local feature, value,
        instance), and ``C``."""
        k, n, batch = self.instances, self.n, self.batch
        batches = [
            sparse_uniform_entries(batch, self.n, p, g)
            for p, g in zip(self.task.p_values, generators, strict=True)
        ]
        sizes = torch.tensor([b.values.numel() for b in batches])
        instance = torch.repeat_interleave(torch.arange(k), sizes)
        columns = torch.cat([b.cols for b in batches])
        values = torch.cat([b.values for b in batches])
        global_rows = torch.cat([b.rows for b in batches]) + instance * batch  # sorted
        unique_rows, row, per_row = torch.unique_consecutive(
            global_rows, return_inverse=True, return_counts=True
        )
        alone = per_row[row] == 1
        single_values = values[alone]
        sign = (single_values < 0).long()  # 0: v > 0 (v = 0 adds nothing), 1: v < 0
        bins = (2 * instance[alone] + sign) * n + columns[alone]
        squares = torch.bincount(bins, single_values.square(), minlength=2 * k * n)
        squares = squares.to(self.model.w_in.dtype).view(k, 2, n)
        # Multi-feature rows: slot = rank among the instance's multi-feature rows.
        shared_row = per_row > 1
        row_instance = torch.div(unique_rows, batch, rounding_mode="floor")
        counts = torch.bincount(row_instance[shared_row], minlength=k)
        rank = torch.cumsum(shared_row, 0) - 1
        first_rank = torch.cumsum(counts, 0) - counts
        shared = ~alone
        entry_row = row[shared]
        slot_local = rank[entry_row] - first_rank[row_instance[entry_row]]
        chunks = max(1, -(-int(counts.max()) // self.CHUNK_ROWS))
        rows = chunks * self.CHUNK_ROWS
        instance = instance[shared]
        slot = slot_local + instance * rows
        local = columns[shared]
        return squares, (slot, local + instance * n, local, values[shared], instance), chunks

    @torch.no_grad()
    def __call__(self, generators: Sequence[torch.Generator]) -> torch.Tensor:
        w_in, w_out, mixing = self.model.w_in, self.model.w_out, self.task.mixing
        squares, multi, chunks = self._split(generators)
        c = 2.0 / (self.batch * self.n)  # dL/dy = c (y - t)
        scale = self.task.scale.detach()
        k, n, rows, group = self.instances, self.n, chunks * self.CHUNK_ROWS, self.GROUP
        slot, column, local, values, instance = multi
        entry_start = torch.cat([_starts(instance, k), torch.tensor([len(instance)])]).tolist()
        losses, grad_out, grad_in = [], torch.empty_like(w_out), torch.empty_like(w_in)
        grad_scale = torch.zeros_like(scale)
        for first in range(0, k, group):  # instance groups whose working set fits the cache
            last = min(k, first + group)
            e0, e1 = entry_start[first], entry_start[last]
            part = slice(first, last)
            group_multi = (
                slot[e0:e1] - first * rows,
                column[e0:e1] - first * n,
                local[e0:e1],
                values[e0:e1],
                instance[e0:e1] - first,
            )
            loss_single, grads_single = self._single_rows(
                w_in[part], w_out[part], mixing[part], squares[part], scale[part]
            )
            loss_multi, grads_multi = self._multi_rows(
                w_in[part],
                w_out[part],
                self.mixing_columns[first * n : last * n],
                group_multi,
                chunks,
                scale[part],
            )
            losses.append(loss_single + loss_multi)
            torch.add(grads_single[0], grads_multi[0], out=grad_out[part])
            torch.add(grads_single[1], grads_multi[1], out=grad_in[part])
            if self.learn_scale:
                grad_scale[part] = grads_single[2] + grads_multi[2]
        w_out.grad, w_in.grad = grad_out.mul_(c), grad_in.mul_(c)
        if self.learn_scale:
            grad_scale.mul_(-c)
            self.task.scale.grad = torch.where(
                self.task.learned, grad_scale, torch.zeros_like(grad_scale)
            )
        return torch.cat(losses).mul_(0.5 * c)

    def _single_rows(self, w_in, w_out, mixing, squares: torch.Tensor, scale: torch.Tensor):
        """Summed squared error and gradient sums (``W_out``, ``W_in``, ``-dL/ds`` up to
        the factor ``c``) of the single-feature rows, from ``V± = squares[:, 0 / 1]``."""
        positive, negative = w_in.clamp(min=0.0), (-w_in).clamp_(min=0.0)
        scaled_mixing = scale[:, None, None] * mixing
        error_pos = torch.bmm(w_out, positive).sub_(self.eye).sub_(scaled_mixing)  # C+
        error_neg = torch.bmm(w_out, negative).add_(scaled_mixing)  # C-
        v_pos, v_neg = squares[:, 0, None, :], squares[:, 1, None, :]  # (K, 1, n)
        loss = (error_pos.square() * v_pos + error_neg.square() * v_neg).sum(dim=(1, 2))
        weighted_pos, weighted_neg = error_pos * v_pos, error_neg * v_neg
        grad_out = torch.bmm(weighted_pos, positive.transpose(1, 2)).add_(
            torch.bmm(weighted_neg, negative.transpose(1, 2))
        )
        w_out_t = w_out.transpose(1, 2)
        grad_in = (
            torch.bmm(w_out_t, weighted_pos)
            .mul_(w_in > 0)
            .sub_(torch.bmm(w_out_t, weighted_neg).mul_(w_in < 0))
        )
        grad_scale = None
        if self.learn_scale:
            grad_scale = (mixing * weighted_pos).sum(dim=(1, 2)) - (mixing * weighted_neg).sum(
                dim=(1, 2)
            )
        return loss, (grad_out, grad_in, grad_scale)

    def _multi_rows(self, w_in, w_out, mixing_columns, multi, chunks: int, scale: torch.Tensor):
        """The same sums for the rows with two or more active features (bags and chunked
        dense products)."""
        slot, column, local, values, instance = multi
        k, d, n, size = w_in.shape[0], self.d, self.n, self.CHUNK_ROWS
        rows = chunks * size
        row_start = _starts(slot, k * rows)
        w_in_columns = w_in.transpose(1, 2).reshape(k * n, d).contiguous()  # K = 1: a view
        pre = embedding_bag(column, w_in_columns, row_start, mode="sum", per_sample_weights=values)
        hidden = pre.clamp_(min=0.0).view(-1, size, d)
        mixed = embedding_bag(
            column, mixing_columns, row_start, mode="sum", per_sample_weights=values
        ).view(k, chunks * size, n)
        w_out_t = w_out.transpose(1, 2)[:, None].expand(k, chunks, d, n).reshape(-1, d, n)
        error = torch.bmm(hidden, w_out_t)  # y, then minus the labels s M x + ReLU(x)
        error.view(k, rows, n).addcmul_(mixed, scale[:, None, None], value=-1.0)
        error.view(-1).index_add_(0, slot * n + local, values.clamp(min=0.0), alpha=-1.0)
        loss = _sum_rows(torch.linalg.vector_norm(error, dim=2).square_().view(k, -1))
        grad_out = _sum_chunks(torch.bmm(error.transpose(1, 2), hidden).view(k, chunks, n, d))
        w_out_chunks = w_out[:, None].expand(k, chunks, n, d).reshape(-1, n, d)
        grad_hidden = torch.bmm(error, w_out_chunks).view(k * rows, d)
        grad_pre = torch.ops.aten.threshold_backward(grad_hidden, hidden.view(k * rows, d), 0.0)
        # grad W_in[:, j] sums grad_pre over the rows where feature j is active: bags over
        # the entries sorted by feature (a stable sort keeps the row order).
        order = torch.argsort(column.int(), stable=True)
        grad_columns = embedding_bag(
            slot[order],
            grad_pre,
            _starts(column, k * n),
            mode="sum",
            per_sample_weights=values[order],
        )
        grad_in = grad_columns.view(k, n, d).transpose(1, 2)
        grad_scale = None
        if self.learn_scale:
            per_row = torch.linalg.vecdot(error.view(k, -1, n), mixed)
            grad_scale = _sum_rows(per_row)
        return loss, (grad_out, grad_in, grad_scale)


def _sum_rows(per_row: torch.Tensor) -> torch.Tensor:
    """``(K,)`` sums of ``(K, rows)`` per-row values, added one row after the other (so
    trailing empty rows, exact zeros, leave the sum unchanged)."""
    return per_row.cumsum(1)[:, -1]


def _sum_chunks(per_chunk: torch.Tensor) -> torch.Tensor:
    """Sum of ``(K, C, ...)`` over the chunks, one after the other."""
    total = per_chunk[:, 0].clone()
    for chunk in range(1, per_chunk.shape[1]):
        total += per_chunk[:, chunk]
    return total
