"""The sparse CPU training step of the CC model (paper 000 section 2, appendix B).

At feature probability ``p = 0.01`` an input row of ``n = 100`` features has about one
active feature, and about a third of the rows are empty. A dense step spends its time on
``(B, n) @ (n, n)`` and ``(B, n) @ (n, d)`` products of mostly zeros. This step draws the
same batch in sparse form (``ReluMixingTask.sample_entries``: the same generator draws as
the dense ``sample``), keeps only the non-empty rows, and computes the loss and the
gradients of ``W_in``, ``W_out`` and the label scale by hand:

- first layer and labels: ``W_in x`` and ``M x`` are scatter-adds of the active columns;
- output layer (the only dense work left): ``y = W_out h`` and its two gradient products;
- ``grad W_in = (dL/dpre) x^T`` is again a scatter-add over the active entries.

Empty rows have zero prediction, label, loss and gradient in this bias-free model, so they
are dropped; the loss is still normalised by the full ``B * n``. Instance ``k``'s non-empty
rows fill slots ``0 .. r_k - 1`` of a ``(K, r_max, .)`` block; the unused slots are empty
rows too, so the padding is exact. Every reduction is sequential on the CPU, so a seeded
run is bit-identical from run to run.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.nn.functional import embedding_bag

from .models import MLP
from .tasks import ReluMixingTask

#: Largest mean number of active features per sample for which the sparse step is chosen.
SPARSE_MAX_ACTIVE = 8.0


def sparse_step_applies(model, task, device: torch.device, any_sparsity: bool = False) -> bool:
    """Whether ``train`` takes the sparse step by default: a CPU run of an ``MLP`` on a
    ``ReluMixingTask`` whose inputs have at most ``SPARSE_MAX_ACTIVE`` active features per
    sample on average (GPUs and dense inputs keep the batched dense path). With
    ``any_sparsity`` only whether it can run (any feature probability)."""
    if not (device.type == "cpu" and isinstance(model, MLP) and isinstance(task, ReluMixingTask)):
        return False
    if any_sparsity:
        return True
    # A subclass that changes how inputs are drawn keeps the dense path unless asked.
    standard = type(task).sample is ReluMixingTask.sample
    return standard and max(task.expected_active()) <= SPARSE_MAX_ACTIVE


def _starts(index: torch.Tensor, size: int) -> torch.Tensor:
    """Offsets of the ``size`` consecutive groups of a sorted ``index`` (embedding-bag
    offsets; empty groups allowed)."""
    counts = torch.bincount(index, minlength=size)
    return torch.cumsum(counts, 0).sub_(counts)


class SparseStep:
    """Loss ``(K,)`` and gradients of one training step, written into ``.grad``.

    Non-empty rows are laid out in chunks of ``CHUNK_ROWS`` rows (``(K, C, CHUNK_ROWS, .)``,
    ``C`` chunks per instance, the unused rows empty). Every dense product has the fixed
    shape of one chunk and every sum over rows runs sequentially over chunks, so an
    instance's numbers do not depend on how many rows the other instances have (an
    instance trained alone or in any sweep is bit-identical), and a chunk's working set
    stays in the cache.
    """

    CHUNK_ROWS = 128

    def __init__(self, model: MLP, task: ReluMixingTask, batch: int):
        self.model, self.task, self.batch = model, task, batch
        self.instances, self.d, self.n = model.w_in.shape
        # Row k * n + j is column j of M_k: the label contribution of feature j.
        self.mixing_columns = task.mixing.transpose(1, 2).reshape(-1, self.n).contiguous()
        self.learn_scale = isinstance(task.scale, torch.nn.Parameter)

    def _compact(self, generators: Sequence[torch.Generator]):
        """Active entries of every instance: flat slot in the ``K * C * CHUNK_ROWS`` rows,
        flat column in ``K * n``, local column, value, instance index, and ``C``."""
        batches = self.task.sample_entries(generators, self.batch)
        slots, counts = [], []
        for entries in batches:
            slot = torch.unique_consecutive(entries.rows, return_inverse=True)[1]
            slots.append(slot)
            counts.append(int(slot[-1]) + 1 if slot.numel() else 0)
        chunks = max(1, -(-max(counts) // self.CHUNK_ROWS))
        rows = chunks * self.CHUNK_ROWS
        sizes = torch.tensor([b.values.numel() for b in batches])
        instance = torch.repeat_interleave(torch.arange(self.instances), sizes)
        slot = torch.cat(slots) + instance * rows
        local = torch.cat([b.cols for b in batches])
        values = torch.cat([b.values for b in batches])
        return slot, local + instance * self.n, local, values, instance, chunks

    @torch.no_grad()
    def __call__(self, generators: Sequence[torch.Generator]) -> torch.Tensor:
        k, d, n, size = self.instances, self.d, self.n, self.CHUNK_ROWS
        w_in, w_out = self.model.w_in, self.model.w_out
        slot, column, local, values, instance, chunks = self._compact(generators)
        rows = chunks * size
        # Sums over each row's active entries are embedding bags (sorted by slot; the
        # padding rows are empty bags, i.e. zero rows).
        row_start = _starts(slot, k * rows)
        w_in_columns = w_in.transpose(1, 2).reshape(k * n, d).contiguous()  # K = 1: a view
        pre = embedding_bag(column, w_in_columns, row_start, mode="sum", per_sample_weights=values)
        hidden = pre.clamp_(min=0.0).view(k, chunks, size, d)
        scale = self.task.scale.detach()
        if self.learn_scale:  # keep M x for the scale's gradient
            mixed = embedding_bag(
                column, self.mixing_columns, row_start, mode="sum", per_sample_weights=values
            ).view(k, chunks, size, n)
            negative_label = mixed * (-scale)[:, None, None, None]
        else:  # -scale M x directly
            negative_label = embedding_bag(
                column,
                self.mixing_columns,
                row_start,
                mode="sum",
                per_sample_weights=values * -scale[instance],
            ).view(k, chunks, size, n)
        w_out_t = w_out.transpose(1, 2)[:, None].expand(k, chunks, d, n)
        error = torch.baddbmm(
            negative_label.view(-1, size, n), hidden.view(-1, size, d), w_out_t.reshape(-1, d, n)
        )
        error.view(-1).index_add_(0, slot * n + local, values.clamp(min=0.0), alpha=-1.0)
        error = error.view(k, chunks, size, n)
        scale_all = 1.0 / (self.batch * n)
        loss = _sum_rows(torch.linalg.vecdot(error, error)).mul_(scale_all)
        # Backward by hand: dL/dy = c (y - t) with c = 2 / (B n), applied to the small results.
        c = 2.0 * scale_all
        grad_out_chunks = torch.bmm(
            error.view(-1, size, n).transpose(1, 2), hidden.view(-1, size, d)
        ).view(k, chunks, n, d)
        w_out.grad = _sum_chunks(grad_out_chunks).mul_(c)
        w_out_chunks = w_out[:, None].expand(k, chunks, n, d).reshape(-1, n, d)
        grad_hidden = torch.bmm(error.view(-1, size, n), w_out_chunks).view(k * rows, d)
        grad_pre = torch.ops.aten.threshold_backward(grad_hidden, hidden.view(k * rows, d), 0.0)
        grad_pre = grad_pre.mul_(c)
        # grad W_in[:, j] sums grad_pre over the rows where feature j is active: bags again,
        # now over the entries sorted by column (a stable sort keeps the row order).
        order = torch.argsort(column.int(), stable=True)
        column_start = _starts(column, k * n)
        grad_columns = embedding_bag(
            slot[order], grad_pre, column_start, mode="sum", per_sample_weights=values[order]
        )
        w_in.grad = grad_columns.view(k, n, d).transpose(1, 2).contiguous()
        if self.learn_scale:
            grad_scale = -c * _sum_rows(torch.linalg.vecdot(error, mixed))
            self.task.scale.grad = torch.where(
                self.task.learned, grad_scale, torch.zeros_like(grad_scale)
            )
        return loss


def _sum_rows(per_row: torch.Tensor) -> torch.Tensor:
    """``(K,)`` sums of ``(K, C, R)`` per-row values, added one row after the other (so
    trailing empty rows, exact zeros, leave the sum unchanged)."""
    return per_row.flatten(1).cumsum(1)[:, -1]


def _sum_chunks(per_chunk: torch.Tensor) -> torch.Tensor:
    """Sum of ``(K, C, ...)`` over the chunks, one after the other."""
    total = per_chunk[:, 0].clone()
    for chunk in range(1, per_chunk.shape[1]):
        total += per_chunk[:, chunk]
    return total
