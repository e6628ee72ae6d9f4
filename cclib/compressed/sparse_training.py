"""The sparse CPU training step of the CC model (paper 000 section 2, appendix B).

At feature probability ``p = 0.01`` an input row of ``n = 100`` features has about one
active feature, and about a third of the rows are empty. A dense step spends its time on
``(B, n) @ (n, n)`` and ``(B, n) @ (n, d)`` products of mostly zeros. This step draws the
same batch in sparse form (``ReluMixingTask.sample_entries``: the same generator draws as
the dense ``sample``) and computes the loss and the gradients of ``W_in``, ``W_out`` and
the label scale by hand. Per instance, with ``U = W_out (n x d)``, ``W = W_in (d x n)``,
label scale ``s``, ``G = U^T U`` and ``A = U^T M`` (both ``d x d`` / ``d x n``, once per
step), a row with hidden activity ``h`` and label ``t = ReLU(x) + s M x`` has error
``e = U h - t`` and

- ``U^T e = G h - U^T t`` with ``U^T t = U^T ReLU(x) + s A x``: a ``d``-vector from the
  active entries alone (embedding bags), so no row ever forms an ``n``-vector product;
- ``|e|^2 = h.(G h) - 2 h.(U^T t) + |t|^2``;
- ``sum_rows e h^T = U (H^T H) - R - s M S`` with ``R = sum ReLU(x) h^T`` and
  ``S = sum x h^T`` (bags over the entries sorted by feature), so the ``n``-sized work is
  two ``n x n x d`` products per instance per step, whatever the batch.

Rows fall in three groups:

- empty rows: zero prediction, label, loss and gradient in this bias-free model; dropped
  (the loss is still normalised by the full ``B * n``);
- rows with exactly one active feature ``j`` of value ``v`` (most non-empty rows at small
  ``p``): ``h = |v| P_j`` with ``P = ReLU(W)`` (``v > 0``) or ``N = ReLU(-W)`` (``v < 0``), so
  every sum over them needs only ``V+-[j]``, the sum of ``v^2`` over such rows: the loss is
  ``sum_j V+_j (P_j.G P_j - 2 P_j.(U^T + s A)_j + 1 + 2 s M_jj + s^2 |M_j|^2)`` plus the
  like term of ``N``, and the gradients follow from ``G P``, ``G N`` and ``P diag(V+) P^T``;
- rows with two or more active features: ``h = ReLU(W x)`` by a bag, then ``G h`` and
  ``H^T H`` are the only products over rows (``d x d``: a quarter of the old ``n x d`` ones).

The multi-feature rows of instance ``k`` fill chunks of ``CHUNK_ROWS`` rows (unused rows
are empty, which is exact). Sums over rows run per instance in a fixed order (chunk after
chunk, row after row), so an instance's numbers do not depend on the other instances of
the sweep, and seeded runs are bit-identical from run to run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from torch.nn.functional import embedding_bag

from ..engine.sampling import PackedEntries
from .models import MLP, ResidualCC
from .tasks import ReluMixingTask

#: Largest mean number of active features per sample for which the sparse step is chosen.
SPARSE_MAX_ACTIVE = 8.0


def sparse_step_applies(model, task, device: torch.device, any_sparsity: bool = False) -> bool:
    """Whether ``train`` takes this module's hand-written step by default: a CPU run of an
    ``MLP`` (or a ``ResidualCC``, through its equivalent MLP) on a ``ReluMixingTask``
    (sparse arithmetic for instances with at most ``SPARSE_MAX_ACTIVE`` active features per
    sample on average, dense products by hand for the others). GPUs keep the batched
    autograd path. With ``any_sparsity`` only whether it can run."""
    models = (MLP, ResidualCC)
    if not (
        device.type == "cpu" and isinstance(model, models) and isinstance(task, ReluMixingTask)
    ):
        return False
    if any_sparsity:
        return True
    # A subclass that changes how inputs are drawn keeps the autograd path unless asked.
    return type(task).sample is ReluMixingTask.sample


def _starts(index: torch.Tensor, size: int) -> torch.Tensor:
    """Offsets of the ``size`` consecutive groups of a sorted ``index`` (embedding-bag
    offsets; empty groups allowed)."""
    counts = torch.bincount(index, minlength=size)
    return torch.cumsum(counts, 0).sub_(counts)


def _take(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``values[index]`` for 1-d tensors (``index_select``: several times faster on the CPU
    than advanced indexing)."""
    return torch.index_select(values, 0, index)


def _stable_order(keys: torch.Tensor, size: int) -> torch.Tensor:
    """The permutation that sorts ``keys`` in ``[0, size)`` stably. Below 2^16 keys this is
    numpy's radix sort, about ten times faster than torch's CPU sort."""
    if size <= 1 << 16:
        order = np.argsort(keys.numpy().astype(np.uint16), kind="stable")
        return torch.from_numpy(order)
    return torch.argsort(keys, stable=True)


def _bag(index, table, offsets, weights) -> torch.Tensor:
    """Weighted sums of ``table`` rows, one per group of ``offsets`` (in entry order)."""
    return embedding_bag(index, table, offsets, mode="sum", per_sample_weights=weights)


class SparseStep:
    """Loss ``(K,)`` and gradients of one training step, written into ``.grad``.

    Instances with sparse inputs (at most ``SPARSE_MAX_ACTIVE`` active features on
    average) take the sparse arithmetic of this module; the others the plain dense
    products, written by hand too (:class:`_DenseBlock`). Each kind is cut into
    ``workers`` blocks (default: torch's thread count) that run side by side, one thread
    each with one intra-op thread: an instance's numbers do not depend on its batch-mates,
    so this is exact, and on a few cores it beats spreading each of the step's many small
    operations over the threads. A task subclass with its own ``sample_entries`` is drawn
    from as it is, in one sparse block."""

    def __init__(self, model: MLP, task: ReluMixingTask, batch: int, workers: int | None = None):
        self.model, self.task, self.batch = model, task, batch
        workers = torch.get_num_threads() if workers is None else workers
        d = model.w_in.shape[1]
        sparse = [a <= SPARSE_MAX_ACTIVE for a in task.expected_active()]
        self.blocks: list[_Block | _DenseBlock] = []
        if type(task).sample_entries is not ReluMixingTask.sample_entries:
            # a subclass with its own draws: one sparse block that draws through it
            self.blocks.append(_Block(task, 0, len(sparse), batch, d, draws=task))
            sparse = []
        for start, stop in _runs(sparse):
            count = max(1, min(workers, stop - start))
            bounds = [start + round(i * (stop - start) / count) for i in range(count + 1)]
            kind = _Block if sparse[start] else _DenseBlock
            for a, b in zip(bounds[:-1], bounds[1:], strict=True):
                self.blocks.append(kind(task, a, b, batch, d))
        workers = min(workers, len(self.blocks))
        self.pool = ThreadPoolExecutor(workers) if workers > 1 else None
        self.learn_scale = isinstance(task.scale, torch.nn.Parameter)

    def map_instances(self, work: Callable[[slice], object]) -> None:
        """Run ``work(part)`` on ``workers`` slices of the instances, side by side (one
        intra-op thread each), for per-instance products outside the step."""
        count = self.model.w_in.shape[0]
        workers = 1 if self.pool is None else min(self.pool._max_workers, count)
        bounds = [round(i * count / workers) for i in range(workers + 1)]
        parts = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        work = torch.no_grad()(work)  # grad mode is per thread
        if self.pool is None:
            work(parts[0])
            return
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            list(self.pool.map(work, parts))
        finally:
            torch.set_num_threads(threads)

    @torch.no_grad()
    def __call__(self, generators: Sequence[torch.Generator]) -> torch.Tensor:
        w_in, w_out = self.model.w_in.detach(), self.model.w_out.detach()
        scale = self.task.scale.detach()

        def run(block: _Block | _DenseBlock):
            part = slice(block.start, block.stop)
            return block(w_in[part], w_out[part], scale[part], generators[part])

        if self.pool is None:
            results = [run(block) for block in self.blocks]
        else:
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                results = list(self.pool.map(run, self.blocks))
            finally:
                torch.set_num_threads(threads)
        losses, grad_in, grad_out, grad_scale = (list(r) for r in zip(*results, strict=True))
        self.model.w_out.grad = torch.cat(grad_out)
        self.model.w_in.grad = torch.cat(grad_in)
        if self.learn_scale:
            self.task.scale.grad = torch.where(
                self.task.learned, torch.cat(grad_scale), torch.zeros_like(scale)
            )
        return torch.cat(losses)


def _runs(flags: Sequence[bool]) -> list[tuple[int, int]]:
    """``[start, stop)`` of the runs of equal consecutive ``flags``."""
    runs, start = [], 0
    for index in range(1, len(flags) + 1):
        if index == len(flags) or flags[index] != flags[start]:
            runs.append((start, index))
            start = index
    return runs


class _DenseBlock:
    """The step of the instances ``[start, stop)`` of a task with dense inputs: the plain
    products ``h = ReLU(W x)``, ``e = U h - t`` and their gradients, without autograd."""

    def __init__(self, task: ReluMixingTask, start: int, stop: int, batch: int, d: int):
        self.start, self.stop, self.batch = start, stop, batch
        self.task = ReluMixingTask(
            task.mixing[start:stop],
            task.p_values[start:stop],
            active=task.active_values[start:stop],
        )
        self.learn_scale = isinstance(task.scale, torch.nn.Parameter)

    def __call__(self, w_in, w_out, scale, generators):
        """Loss, ``W_in``, ``W_out`` and scale gradients of the block's instances."""
        x = self.task.sample(generators, self.batch)  # (K, B, n)
        n = x.shape[2]
        pre = torch.bmm(x, w_in.transpose(1, 2))  # (K, B, d)
        hidden = pre.clamp(min=0.0)
        mixed = torch.bmm(x, self.task.mixing.transpose(1, 2))  # M x
        error = torch.baddbmm(x.clamp(min=0.0), hidden, w_out.transpose(1, 2), alpha=-1.0)
        error.addcmul_(mixed, scale[:, None, None]).neg_()  # U h - ReLU(x) - s M x
        c = 2.0 / (self.batch * n)
        loss = torch.linalg.vector_norm(error.view(error.shape[0], -1), dim=1).square_()
        grad_out = torch.bmm(error.transpose(1, 2), hidden).mul_(c)
        grad_hidden = torch.bmm(error, w_out)
        grad_pre = torch.ops.aten.threshold_backward(grad_hidden, hidden, 0.0)
        grad_in = torch.bmm(grad_pre.transpose(1, 2), x).mul_(c)
        grad_scale = None
        if self.learn_scale:
            grad_scale = torch.linalg.vecdot(
                error.view(error.shape[0], -1), mixed.view(error.shape[0], -1)
            ).mul_(-c)
        return loss.mul_(0.5 * c), grad_in, grad_out, grad_scale


class _Block:
    """The sparse step of the instances ``[start, stop)`` of a task."""

    CHUNK_ROWS = 128  # rows of one chunk of the multi-feature rows

    def __init__(
        self,
        task: ReluMixingTask,
        start: int,
        stop: int,
        batch: int,
        d: int,
        draws: ReluMixingTask | None = None,
    ):
        self.start, self.stop, self.batch, self.d = start, stop, batch, d
        mixing = task.mixing[start:stop]
        self.instances, self.n = stop - start, task.n_features
        # the block's inputs: the same draws as the task's (one generator per instance),
        # or the given task's own ``sample_entries`` (all its instances)
        self.task = draws or ReluMixingTask(
            mixing, task.p_values[start:stop], active=task.active_values[start:stop]
        )
        # Row k * n + j is column j of M_k: the label contribution of feature j.
        self.mixing_columns = mixing.transpose(1, 2).reshape(-1, self.n).contiguous()
        self.mixing_diagonal = torch.diagonal(mixing, dim1=1, dim2=2).contiguous()  # (K, n)
        self.column_norms = mixing.square().sum(dim=1)  # (K, n): |M_j|^2
        self.mixing_square = torch.bmm(mixing.transpose(1, 2), mixing)  # M^T M
        self.learn_scale = isinstance(task.scale, torch.nn.Parameter)

    def _split(self, entries: PackedEntries):
        """Single-feature rows as ``V+-`` (sums of ``v^2`` per instance, sign and feature,
        ``(K, 2, n)``) and multi-feature rows as (slot among the ``K * C * CHUNK_ROWS`` rows,
        instance, column, value) of their entries, and ``C``."""
        k, n, batch = self.instances, self.n, self.batch
        instance, columns, values = entries.instance, entries.cols, entries.values
        global_rows = instance * batch + entries.rows  # sorted
        row_counts = torch.bincount(global_rows, minlength=k * batch)
        alone = _take(row_counts, global_rows) == 1
        single = alone.nonzero()[:, 0]
        single_values = _take(values, single)
        sign = (single_values < 0).long()  # 0: v > 0 (v = 0 adds nothing), 1: v < 0
        bins = (2 * _take(instance, single) + sign) * n + _take(columns, single)
        squares = torch.bincount(bins, single_values.square(), minlength=2 * k * n)
        squares = squares.to(values.dtype).view(k, 2, n)
        multi_rows = (row_counts > 1).view(k, batch)
        rank = torch.cumsum(multi_rows, 1).view(-1)  # 1 + slot of a multi row in its instance
        chunks = max(1, -(-int(rank.view(k, batch)[:, -1].max()) // self.CHUNK_ROWS))
        shared = (~alone).nonzero()[:, 0]
        shared_instance = _take(instance, shared)
        slot = _take(rank, _take(global_rows, shared)) - 1
        slot += shared_instance * (chunks * self.CHUNK_ROWS)
        multi = (slot, shared_instance, _take(columns, shared), _take(values, shared))
        return squares, multi, chunks

    def __call__(self, w_in, w_out, scale, generators):
        """Loss, ``W_in``, ``W_out`` and scale gradients of the block's instances."""
        entries = self.task.sample_entries(generators, self.batch)
        squares, multi, chunks = self._split(entries)
        mixing = self.task.mixing
        gram = torch.bmm(w_out.transpose(1, 2), w_out)  # G = U^T U: (K, d, d)
        read_mixing = torch.bmm(w_out.transpose(1, 2), mixing)  # A = U^T M
        single = self._single_rows(w_in, w_out, gram, read_mixing, squares, scale)
        many = self._multi_rows(w_in, w_out, gram, read_mixing, multi, chunks, scale)
        c = 2.0 / (self.batch * self.n)  # dL/dy = c (y - t)
        # sum_rows e h^T = U (H^T H) - R - s M S over both groups of rows (module docstring)
        activity_gram, relu_reads, reads = (a + b for a, b in zip(single[1], many[1], strict=True))
        mixed_reads = torch.bmm(mixing, reads).mul_(scale[:, None, None])
        grad_out = torch.bmm(w_out, activity_gram).sub_(relu_reads).sub_(mixed_reads).mul_(c)
        grad_in = single[2].add_(many[2]).mul_(c)
        grad_scale = (single[3] + many[3]).mul_(-c) if self.learn_scale else None
        return (single[0] + many[0]).mul_(0.5 * c), grad_in, grad_out, grad_scale

    def _single_rows(self, w_in, w_out, gram, read_mixing, squares, scale):
        """Squared error, ``(P D+ P^T + N D- N^T, D+ P^T, D+ P^T - D- N^T)`` (the terms of
        ``sum e h^T``), the ``W_in`` gradient and ``sum e.(M x)`` of the single-feature
        rows, each up to the factor ``c``. Both signs at once: ``Z = [P | N]`` with
        targets ``T = [U^T + s A | -s A]`` and weights ``V = [V+ | V-]``."""
        n = self.n
        s = scale[:, None, None]
        scaled_reads = read_mixing * s  # s A: (K, d, n)
        activity = torch.cat([w_in, -w_in], dim=2).clamp_(min=0.0)  # Z: (K, d, 2n)
        targets = torch.cat([scaled_reads + w_out.transpose(1, 2), -scaled_reads], dim=2)
        weights = squares.view(-1, 1, 2 * n)  # V: (K, 1, 2n)
        gram_activity = torch.bmm(gram, activity)
        # |U z - t|^2 = z.G z - 2 z.U^T t + |t|^2, |t|^2 = 1 + 2 s M_jj + s^2 |M_j|^2 (v > 0)
        # or s^2 |M_j|^2 (v < 0)
        norms = self.column_norms * scale[:, None].square()
        constants = torch.cat([norms + 2.0 * scale[:, None] * self.mixing_diagonal + 1.0, norms], 1)
        per_column = torch.linalg.vecdot(activity, gram_activity - 2.0 * targets, dim=1)
        loss = torch.linalg.vecdot(per_column + constants, weights[:, 0])
        error = gram_activity.sub_(targets).mul_(weights)  # U^T e, summed over the rows
        grad_in = error[:, :, :n].mul_(w_in > 0).sub_(error[:, :, n:].mul_(w_in < 0))
        weighted = activity * weights
        activity_gram = torch.bmm(weighted, activity.transpose(1, 2))
        reads_pos = weighted[:, :, :n].transpose(1, 2)  # (K, n, d): D+ P^T
        reads = reads_pos - weighted[:, :, n:].transpose(1, 2)
        grad_scale = None
        if self.learn_scale:
            along = torch.linalg.vecdot(read_mixing.repeat(1, 1, 2), activity, dim=1)  # z.A_j
            minus = torch.cat([self.mixing_diagonal, torch.zeros_like(self.mixing_diagonal)], 1)
            sign = torch.cat([torch.ones(n), -torch.ones(n)]).to(along)
            norms = self.column_norms.repeat(1, 2) * scale[:, None]
            grad_scale = torch.linalg.vecdot(
                (along - minus) * sign - norms, squares.view(-1, 2 * n)
            )
        return loss, (activity_gram, reads_pos, reads), grad_in, grad_scale

    def _multi_rows(self, w_in, w_out, gram, read_mixing, multi, chunks: int, scale):
        """The same sums for the rows with two or more active features: bags, ``d x d``
        products, and the label terms from the pairs of entries of a row. The loss needs
        no per-row sum: ``sum h.G h = tr(G H^T H)`` and ``sum h.U^T t = sum (U * R) +
        s sum (A^T * S)``."""
        slot, instance, columns, values = multi
        k, d, n, size = self.instances, self.d, self.n, self.CHUNK_ROWS
        rows = chunks * size
        feature = columns + instance * n
        signed_feature = feature + (values < 0) * (k * n)
        row_start = _starts(slot, k * rows)
        # contiguous tables: a strided view (K = 1) would take another, differently
        # rounded embedding-bag kernel than a sweep's table
        w_in_columns = w_in.transpose(1, 2).reshape(k * n, d).contiguous()
        hidden = _bag(feature, w_in_columns, row_start, values).clamp_(min=0.0)  # (K*rows, d)
        # U^T t = sum_entries v (1[v > 0] U_j + s A_j): one bag over the tables of v > 0
        # and of v < 0
        mixing_reads = read_mixing.transpose(1, 2)  # A^T: (K, n, d)
        scaled_reads = mixing_reads * scale[:, None, None]
        reads_table = torch.cat([scaled_reads + w_out, scaled_reads]).view(2 * k * n, d)
        target_read = _bag(signed_feature, reads_table, row_start, values)
        # rows of G h (G is symmetric); a row's result does not depend on the others
        error_read = torch.bmm(hidden.view(k, rows, d), gram).view(k * rows, d)
        error_read -= target_read  # U^T e per row
        grad_pre = torch.ops.aten.threshold_backward(error_read, hidden, 0.0)
        # Sums over the rows where feature j is active, split by the sign of v: bags over
        # the entries sorted by (sign, feature) (a stable sort keeps the row order).
        order = _stable_order(signed_feature, 2 * k * n)
        feature_start = _starts(signed_feature, 2 * k * n)
        ordered_slot, ordered_values = _take(slot, order), _take(values, order)
        grad_in = _bag(ordered_slot, grad_pre, feature_start, ordered_values).view(2, k, n, d)
        reads = _bag(ordered_slot, hidden, feature_start, ordered_values).view(2, k, n, d)
        relu_reads, all_reads = reads[0], reads[0] + reads[1]  # R, S
        chunk_view = hidden.view(k * chunks, size, d)
        chunk_grams = torch.bmm(chunk_view.transpose(1, 2), chunk_view).view(k, chunks, d, d)
        activity_gram = _sum_chunks(chunk_grams)
        relu_squares, relu_mixed, mixed_squares = self._label_sums(multi)
        mixed_along = (mixing_reads * all_reads).sum(dim=(1, 2))  # sum h . A x
        along = (w_out * relu_reads).sum(dim=(1, 2)) + scale * mixed_along  # sum h . U^T t
        label_squares = relu_squares + 2.0 * scale * relu_mixed + scale.square() * mixed_squares
        loss = (gram * activity_gram).sum(dim=(1, 2)) - 2.0 * along + label_squares
        grad_scale = None
        if self.learn_scale:  # sum e . M x = sum h . A x - t . M x
            grad_scale = mixed_along - relu_mixed - scale * mixed_squares
        sums = (activity_gram, relu_reads, all_reads)  # (H^T H, R, S)
        return loss, sums, (grad_in[0] + grad_in[1]).transpose(1, 2), grad_scale

    def _label_sums(self, multi) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per instance, over the multi-feature rows: ``sum |ReLU(x)|^2``,
        ``sum ReLU(x).(M x)`` and ``sum |M x|^2 = sum x^T (M^T M) x``, from each entry with
        itself and each pair ``a < b`` of entries of one row."""
        slot, instance, columns, values = multi
        k, n, dtype = self.instances, self.n, values.dtype
        square, mixing = self.mixing_square.view(-1), self.task.mixing.reshape(-1)
        relu_values = values.clamp(min=0.0)
        diagonal = instance * (n * n) + columns * (n + 1)
        relu_squares = torch.bincount(instance, relu_values.square(), minlength=k)
        relu_diagonal = relu_values * values * _take(mixing, diagonal)
        relu_mixed = torch.bincount(instance, relu_diagonal, minlength=k)
        squares = values.square() * _take(square, diagonal)
        mixed_squares = torch.bincount(instance, squares, minlength=k)
        # entry a pairs with the entries after it in its row (consecutive entries)
        after = _row_remainders(slot)
        a = torch.repeat_interleave(torch.arange(len(slot)), after)
        if len(a):
            pair_start = torch.cumsum(after, 0).sub_(after)
            b = torch.arange(1, len(a) + 1).sub_(_take(pair_start, a)).add_(a)
            pair_instance = _take(instance, a)
            column_a, column_b = _take(columns, a), _take(columns, b)
            value_a, value_b = _take(values, a), _take(values, b)
            base = pair_instance * (n * n)
            ab, ba = base + column_a * n + column_b, base + column_b * n + column_a
            cross = value_a.clamp(min=0.0) * value_b * _take(mixing, ab)
            cross += value_b.clamp(min=0.0) * value_a * _take(mixing, ba)
            relu_mixed += torch.bincount(pair_instance, cross, minlength=k)
            pairs = 2.0 * value_a * value_b * _take(square, ab)  # x^T Q x counts each twice
            mixed_squares += torch.bincount(pair_instance, pairs, minlength=k)
        return relu_squares.to(dtype), relu_mixed.to(dtype), mixed_squares.to(dtype)


def _row_remainders(slot: torch.Tensor) -> torch.Tensor:
    """For each entry of a sorted ``slot`` (row) index, how many entries follow it in its
    row."""
    _, inverse, counts = torch.unique_consecutive(slot, return_inverse=True, return_counts=True)
    ends = _take(torch.cumsum(counts, 0), inverse)
    return ends.sub_(torch.arange(len(slot))).sub_(1)


def _sum_chunks(per_chunk: torch.Tensor) -> torch.Tensor:
    """Sum of ``(K, C, ...)`` over the chunks, one after the other."""
    total = per_chunk[:, 0].clone()
    for chunk in range(1, per_chunk.shape[1]):
        total += per_chunk[:, chunk]
    return total


class ResidualSparseStep:
    """The sparse step of a ``ResidualCC`` on its labels ``ReLU(x) + x`` (paper 000
    appendix A.1): the model is the MLP ``W_in = W_in' W_E``, ``W_out = W_E^T W_out'`` on
    ``ReLU(x) + M x`` with ``M = I - W_E^T W_E``, so one step is that MLP's sparse step
    (the same data) and the chain rule, ``dL/dW_in' = dL/dW_in W_E^T`` and
    ``dL/dW_out' = W_E dL/dW_out``: ``n x d x width`` products instead of the residual
    stream's ``B x n x width`` ones."""

    def __init__(self, model: ResidualCC, task: ReluMixingTask, batch: int):
        if not bool((task.mixing == torch.eye(task.n_features, dtype=task.mixing.dtype)).all()):
            raise ValueError("a ResidualCC trains on labels ReLU(x) + x (identity mixing)")
        self.model = model
        equivalent = model.equivalent_mlp()
        self.mlp = MLP(equivalent.w_in.detach(), equivalent.w_out.detach())
        mixing_task = ReluMixingTask(
            model.equivalent_mixing(), task.p_values, 1.0, active=task.active_values
        )
        self.step = SparseStep(self.mlp, mixing_task, batch)

    @torch.no_grad()
    def __call__(self, generators: Sequence[torch.Generator]) -> torch.Tensor:
        model, mlp = self.model, self.mlp
        self.step.map_instances(
            lambda part: (
                torch.bmm(model.w_in[part], model.w_e[part], out=mlp.w_in.data[part]),
                torch.bmm(
                    model.w_e[part].transpose(1, 2), model.w_out[part], out=mlp.w_out.data[part]
                ),
            )
        )
        loss = self.step(generators)
        grad_in = torch.empty_like(model.w_in)
        grad_out = torch.empty_like(model.w_out)
        self.step.map_instances(
            lambda part: (
                torch.bmm(mlp.w_in.grad[part], model.w_e[part].transpose(1, 2), out=grad_in[part]),
                torch.bmm(model.w_e[part], mlp.w_out.grad[part], out=grad_out[part]),
            )
        )
        model.w_in.grad, model.w_out.grad = grad_in, grad_out
        return loss
