"""Reading Boolean functions out of a Universal-AND compute layer (paper 004, sections 5.2
and 6.1, appendices A.1 and A.2).

For a group of ``k`` inputs (a pair for AND, a triple for the 3-input AND) each neuron of a
binary weighted circuit falls into one of ``2^k`` *classes* by which of its two values it
gives each input: for a pair ``A (u, u)``, ``B1 (u, w)``, ``B2 (w, u)``, ``C (w, w)``.
This module gives

- the classes' truth tables, ideal (``ReLU(b + sum of the weights of the inputs on)``,
  interference ignored: the paper's Table 1) and the class combination that turns them
  into a gate, with the readout bias fixed by a rule (the system has one unknown more than
  equations);
- readouts trained on a *frozen* compute layer. The case-weighted MSE of one output is a
  weighted least-squares problem in that output's readout row and bias, separate for every
  output, so training only the readout has an exact optimum, which ``fit_readouts``
  computes from inputs sampled conditionally on each state of the group (every state gets
  the same number of samples, however rare it is) and weighted by its share of the loss;
- the evaluation of any readout on fresh conditional samples (``readout_errors``), the
  per-class statistics of readout weights, and frozen random compute layers (appendix A.1).

Shapes: ``K`` instances, ``d`` neurons, ``m`` inputs, ``G`` groups (pairs or triples),
``S = 2^k`` states of a group (binary order, first input the high bit: ``00, 01, 10, 11``),
``C = 2^k`` classes in the same order (bit 1 = the neuron's *w* value), ``F`` gates.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..engine.seeding import Stream, make_generator

CLASSES = ("A", "B1", "B2", "C")
"""Neuron classes of a pair ``(i, j)``: weights ``(u, u)``, ``(u, w)``, ``(w, u)``, ``(w, w)``."""

EXPECTED_SIGNS = (1.0, -1.0, -1.0, 1.0)
"""Signs of the AND readout of classes A, B1, B2, C (paper 004, section 5.2)."""

GATES: dict[str, tuple[float, ...]] = {
    "and": (0.0, 0.0, 0.0, 1.0),
    "or": (0.0, 1.0, 1.0, 1.0),
    "xor": (0.0, 1.0, 1.0, 0.0),
    "first": (0.0, 0.0, 1.0, 1.0),
    "and3": (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0),
}
"""Target truth tables over the states of a group (``first``: the group's first input)."""


def gate_inputs(name: str) -> int:
    """Number of inputs ``k`` of gate ``name`` (its table has ``2^k`` entries)."""
    return int(math.log2(len(GATES[name])))


def states(k: int) -> torch.Tensor:
    """``(2^k, k)`` all on/off patterns of ``k`` inputs, binary order (first input high bit)."""
    return torch.tensor(list(itertools.product((0.0, 1.0), repeat=k)))


# --------------------------------------------------------------------------- truth tables


def ideal_truth_tables(
    u: torch.Tensor, w: torch.Tensor, b: torch.Tensor, k: int = 2
) -> torch.Tensor:
    """``(..., S, C)`` output of a neuron of each class in each state, interference ignored:
    ``ReLU(b + sum over the inputs on of the class's weight)`` (paper 004, Table 1)."""
    on = states(k).to(u.dtype)  # (S, k)
    uses_w = states(k).bool()  # (C, k): class c gives input t its w value where True
    weights = torch.where(uses_w, w[..., None, None], u[..., None, None])  # (..., C, k)
    return torch.relu(b[..., None, None] + on @ weights.transpose(-1, -2))


def combination(tables: torch.Tensor, target: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``(..., C)`` class totals ``alpha`` with ``tables @ alpha + bias = target``."""
    rhs = target.to(tables.dtype) - bias[..., None]
    return torch.linalg.solve(tables, rhs[..., None])[..., 0]


def min_norm_combination(
    tables: torch.Tensor, target: torch.Tensor, counts: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The class totals and bias with ``tables @ alpha + bias = target`` that give the
    smallest squared readout norm ``sum_X N_X (alpha_X / N_X)^2`` when class ``X``'s
    ``N_X = counts`` neurons share its total equally (the bias unpenalised).

    All solutions are ``alpha(c) = a0 - c a1`` with ``a0 = T^-1 target`` and ``a1 = T^-1 1``,
    so the optimum is ``c = sum(a0 a1 / N) / sum(a1^2 / N)``. Returns ``(alpha, bias)``."""
    ones = torch.ones_like(target, dtype=tables.dtype)
    a0 = combination(tables, target, torch.zeros(tables.shape[:-2], dtype=tables.dtype))
    a1 = combination(tables, ones, torch.zeros(tables.shape[:-2], dtype=tables.dtype))
    inverse = 1.0 / counts.to(tables.dtype).clamp(min=1)
    bias = (a0 * a1 * inverse).sum(-1) / (a1 * a1 * inverse).sum(-1)
    return a0 - bias[..., None] * a1, bias


BIAS_RULES = ("learned", "min_norm")


def predicted_class_weights(
    tables: torch.Tensor,
    counts: torch.Tensor,
    gate: str = "and",
    bias_rule: str = "learned",
    learned_bias: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-neuron readout weight ``alpha_X / N_X`` that each class needs for ``gate``
    (``(..., C)``, NaN where a class is empty or the tables are singular) and the readout
    bias used (``(...)``). ``tables (..., S, C)`` are the class truth tables, ``counts
    (..., C)`` the class sizes; ``bias_rule`` fixes the one free direction of the system:
    ``learned`` takes the trained readout's bias ``learned_bias (...)``, ``min_norm`` the
    bias of the smallest readout norm (``min_norm_combination``)."""
    if bias_rule not in BIAS_RULES:
        raise ValueError(f"bias_rule must be one of {', '.join(BIAS_RULES)}, got {bias_rule!r}")
    tables = tables.double()
    valid = (counts > 0).all(-1) & torch.isfinite(tables).flatten(-2).all(-1)
    eye = torch.eye(tables.shape[-1], dtype=tables.dtype)
    safe = torch.where(valid[..., None, None], tables, eye)
    valid = valid & (torch.linalg.matrix_rank(safe) == tables.shape[-1])
    safe = torch.where(valid[..., None, None], safe, eye)
    target = torch.tensor(GATES[gate], dtype=tables.dtype)
    if bias_rule == "learned":
        if learned_bias is None:
            raise ValueError("bias_rule 'learned' needs the trained readout's bias")
        bias = learned_bias.double()
        alpha = combination(safe, target, bias)
    else:
        alpha, bias = min_norm_combination(safe, target, counts)
    per_neuron = alpha / counts.double().clamp(min=1)
    nan = torch.tensor(float("nan"), dtype=per_neuron.dtype)
    return torch.where(valid[..., None], per_neuron, nan), bias


def neuron_truth_tables(
    u: torch.Tensor, w: torch.Tensor, b: torch.Tensor, classes: torch.Tensor, k: int = 2
) -> torch.Tensor:
    """``(K, G, S, d)`` ideal truth table of every neuron for every group, each neuron with
    its own fitted ``u, w, b (K, d)`` and its class ``classes (K, G, d)`` in that group."""
    tables = ideal_truth_tables(u, w, b, k)  # (K, d, S, C)
    n_groups = classes.shape[1]
    expanded = tables[:, None].expand(-1, n_groups, -1, -1, -1)  # (K, G, d, S, C)
    index = classes[..., None, None].expand(-1, -1, -1, tables.shape[-2], 1)
    return expanded.gather(-1, index)[..., 0].transpose(2, 3)


def pearson(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Correlation of ``x`` and ``y (K, ...)`` over all finite entries, per instance ``(K,)``."""
    out = []
    for a, b in zip(x.flatten(1).double(), y.flatten(1).double(), strict=True):
        keep = torch.isfinite(a) & torch.isfinite(b)
        if int(keep.sum()) < 3:
            out.append(torch.tensor(float("nan"), dtype=torch.float64))
            continue
        out.append(torch.corrcoef(torch.stack([a[keep], b[keep]]))[0, 1])
    return torch.stack(out)


# --------------------------------------------------------------------------- classes


def group_classes(is_u: torch.Tensor, groups: torch.Tensor) -> torch.Tensor:
    """``(K, G, d)`` class index of every neuron for every group, from ``is_u (K, d, m)``
    (``True`` where a weight takes the neuron's larger value ``u``) and ``groups (G, k)``."""
    k = groups.shape[1]
    uses_w = (~is_u[:, :, groups]).long()  # (K, d, G, k)
    powers = 2 ** torch.arange(k - 1, -1, -1)
    return (uses_w * powers).sum(-1).transpose(1, 2)


def class_means(
    values: torch.Tensor, classes: torch.Tensor, n_classes: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean of ``values (..., d)`` over the neurons of each class (``classes (..., d)``):
    ``(..., C)`` means (NaN for an empty class) and ``(..., C)`` counts."""
    onehot = torch.nn.functional.one_hot(classes, n_classes).to(values.dtype)  # (..., d, C)
    counts = onehot.sum(-2)
    sums = (values[..., None] * onehot).sum(-2)
    return sums / counts, counts


def expected_sign_share(
    r: torch.Tensor, classes: torch.Tensor, signs: Sequence[float] = EXPECTED_SIGNS
) -> tuple[torch.Tensor, torch.Tensor]:
    """Share of readout weight mass with its class's expected sign: overall ``(...)`` (mass
    of the expected sign in every class over the total ``sum |r|``) and per class
    ``(..., C)`` (NaN for an empty class). ``r, classes: (..., d)``."""
    expected = torch.tensor(signs, dtype=r.dtype)[classes]  # (..., d)
    agreeing = torch.relu(r * expected)
    overall = agreeing.sum(-1) / r.abs().sum(-1)
    onehot = torch.nn.functional.one_hot(classes, len(signs)).to(r.dtype)
    per_class = (agreeing[..., None] * onehot).sum(-2) / (r.abs()[..., None] * onehot).sum(-2)
    return overall, per_class


# --------------------------------------------------------------------------- sampling


def state_weights(m: int, s: int, k: int, weighted: bool = True) -> torch.Tensor:
    """``(S,)`` share of the training loss that one output puts on each state of its group.

    With exactly ``s`` of ``m`` inputs on, a given state with ``j`` of the group's ``k``
    inputs on has probability ``C(m-k, s-j) / C(m, s)``. The case-balanced loss weights a
    case (``j`` on) by ``1 / ((k+1) P(case))``, so each state gets ``1 / ((k+1) C(k, j))``;
    unweighted, each state its probability."""
    on = states(k).sum(1).long()
    if weighted:
        return torch.tensor([1.0 / ((k + 1) * math.comb(k, int(j))) for j in on])
    total = math.comb(m, s)
    return torch.tensor([math.comb(m - k, s - int(j)) / total for j in on])


def check_group_setting(m: int, s: int, k: int) -> None:
    """Every state of a ``k``-group must be possible: ``k <= s <= m - k``."""
    if not k <= s <= m - k:
        raise ValueError(f"need {k} <= s <= m - {k} for every state of a {k}-group; got s = {s}")


def conditional_inputs(
    m: int, s: int, groups: torch.Tensor, batch: int, generator: torch.Generator
) -> torch.Tensor:
    """``(G, S, batch, m)`` exactly-``s`` inputs with group ``g``'s inputs fixed at state
    ``st`` and the other ``s - |st|`` ones chosen uniformly among the other ``m - k`` inputs."""
    n_groups, k = groups.shape
    check_group_setting(m, s, k)
    device = generator.device
    pattern = states(k).to(device)
    out = torch.empty(n_groups, len(pattern), batch, m, device=device)
    columns = groups.to(device)[:, None, :].expand(n_groups, batch, k)
    for index, state in enumerate(pattern):
        scores = torch.rand(n_groups, batch, m, generator=generator, device=device)
        scores.scatter_(2, columns, 2.0)  # the group's inputs are never among the others
        v = torch.zeros(n_groups, batch, m, device=device)
        others = s - int(state.sum())
        if others > 0:
            v.scatter_(2, scores.topk(others, dim=2, largest=False).indices, 1.0)
        v.scatter_(2, columns, state.expand(n_groups, batch, k).contiguous())
        out[:, index] = v
    return out


#: Numbers held at once by the sampled activations of one chunk of groups (bounds memory).
CHUNK_NUMBERS = 1 << 24


def _chunks(total: int, states_: int, samples: int, width: int, size: int | None):
    """Slices of the groups, each small enough that ``size x S x B x width`` numbers fit in
    ``CHUNK_NUMBERS`` (``size`` given: that many groups at a time)."""
    size = size or max(1, CHUNK_NUMBERS // (states_ * samples * width))
    for start in range(0, total, size):
        yield slice(start, min(total, start + size))


# --------------------------------------------------------------------------- readouts


@dataclass(frozen=True)
class ReadoutFit:
    """Readouts trained in closed form on frozen compute layers: ``r (K, G, F, d)``,
    ``c (K, G, F)`` for each gate of ``gates``; ``state_means (K, G, S, d)``, each neuron's
    mean activation in each state of the group (the truth tables with interference)."""

    gates: tuple[str, ...]
    r: torch.Tensor
    c: torch.Tensor
    state_means: torch.Tensor


def _activations(w: torch.Tensor, b: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``(..., d + 1)`` activations of one compute layer ``w (d, m)``, ``b (d,)`` with a 1
    appended (the readout bias)."""
    a = torch.relu(v @ w.T + b)
    return torch.cat([a, torch.ones_like(a[..., :1])], dim=-1)


def fit_readouts(
    w: torch.Tensor,
    b: torch.Tensor,
    groups: torch.Tensor,
    gates: Sequence[str],
    s: int,
    samples: int,
    seed: int,
    ridge: float = 0.0,
    weighted: bool = True,
    chunk: int | None = None,
) -> ReadoutFit:
    """The readouts that minimise each group's case-weighted MSE on the frozen compute
    layers ``w (K, d, m)``, ``b (K, d)``: per instance and group, the weighted least-squares
    solution ``(sum_st pi_st E[a a^T | st] + lambda) r = sum_st pi_st t_st E[a | st]`` with
    ``a`` the activations plus a 1 (the bias), ``pi`` from ``state_weights`` and the
    expectations over ``samples`` conditional inputs per state (seeded by ``seed``).
    ``ridge`` is ``lambda`` relative to the mean diagonal of the neurons' block (the bias
    is not penalised; a floor of ``1e-9`` keeps dead neurons solvable). All gates must take
    as many inputs as ``groups`` has columns. Computes on ``w``'s device in float64;
    returns CPU tensors."""
    k = groups.shape[1]
    if any(gate_inputs(g) != k for g in gates):
        raise ValueError(f"gates {list(gates)} do not all take {k} inputs")
    n_inst, d, m = w.shape
    device = w.device
    pi = state_weights(m, s, k, weighted).to(device, torch.float64)
    targets = torch.tensor([GATES[g] for g in gates], dtype=torch.float64, device=device).T
    penalty = torch.ones(d + 1, dtype=torch.float64, device=device)
    penalty[d] = 0.0
    generator = make_generator(seed, Stream.EVAL, device, part=k)
    r = torch.zeros(n_inst, len(groups), len(gates), d)
    c = torch.zeros(n_inst, len(groups), len(gates))
    state_means = torch.zeros(n_inst, len(groups), len(pi), d)
    for part in _chunks(len(groups), len(pi), samples, m + d, chunk):
        v = conditional_inputs(m, s, groups[part], samples, generator)  # (g, S, B, m)
        for inst in range(n_inst):
            a = _activations(w[inst], b[inst], v).double()  # (g, S, B, d + 1)
            means = a.mean(2)  # (g, S, d + 1)
            flat = (a * (pi / samples).sqrt()[None, :, None, None]).flatten(1, 2)
            gram = flat.transpose(1, 2) @ flat  # (g, d + 1, d + 1)
            rhs = torch.einsum("s,sf,gsi->gif", pi, targets, means)
            scale = gram[:, :d, :d].diagonal(dim1=1, dim2=2).mean(1).clamp(min=1e-12)
            gram = gram + (max(ridge, 1e-9) * scale)[:, None, None] * torch.diag(penalty)
            solution = torch.linalg.solve(gram, rhs)  # (g, d + 1, F)
            r[inst, part] = solution[:, :d].transpose(1, 2).float().cpu()
            c[inst, part] = solution[:, d].float().cpu()
            state_means[inst, part] = means[..., :d].float().cpu()
    return ReadoutFit(tuple(gates), r, c, state_means)


@dataclass(frozen=True)
class ReadoutErrors:
    """Errors of readouts on fresh conditional samples: ``loss (K, G, F)``, the case-weighted
    MSE (the training loss of that output), and ``accuracy (K, G, F)``, the state-weighted
    share of outputs on the right side of 0.5 (for a pair: the mean of the three cases'
    accuracies, as ``cclib.universal_and.evaluation.and_accuracy``)."""

    loss: torch.Tensor
    accuracy: torch.Tensor


def readout_errors(
    w: torch.Tensor,
    b: torch.Tensor,
    r: torch.Tensor,
    c: torch.Tensor,
    groups: torch.Tensor,
    gates: Sequence[str],
    s: int,
    samples: int,
    seed: int,
    weighted: bool = True,
    chunk: int | None = None,
) -> ReadoutErrors:
    """Evaluate readouts ``r (K, G, F, d)``, ``c (K, G, F)`` of the compute layers ``w, b``
    on ``samples`` fresh conditional inputs per state (stream ``seed``, not the fit's)."""
    n_inst, d, m = w.shape
    k = groups.shape[1]
    device = w.device
    pi = state_weights(m, s, k, weighted).to(device)
    targets = torch.tensor([GATES[g] for g in gates], device=device).T  # (S, F)
    generator = make_generator(seed, Stream.EVAL, device, part=100 + k)
    loss = torch.zeros(n_inst, len(groups), len(gates))
    accuracy = torch.zeros_like(loss)
    for part in _chunks(len(groups), len(pi), samples, m + d, chunk):
        v = conditional_inputs(m, s, groups[part], samples, generator)
        for inst in range(n_inst):
            a = _activations(w[inst], b[inst], v)[..., :d]  # (g, S, B, d)
            weights, bias = r[inst, part].to(device), c[inst, part].to(device)
            y = torch.einsum("gsbi,gfi->gsbf", a, weights) + bias[:, None, None]
            error = (y - targets[None, :, None, :]).square().mean(2)  # (g, S, F)
            right = ((y > 0.5).float() == targets[None, :, None, :]).float().mean(2)
            loss[inst, part] = torch.einsum("s,gsf->gf", pi, error).cpu()
            accuracy[inst, part] = torch.einsum("s,gsf->gf", pi / pi.sum(), right).cpu()
    return ReadoutErrors(loss, accuracy)


# --------------------------------------------------------------------------- groups


def random_groups(m: int, k: int, count: int, seed: int) -> torch.Tensor:
    """``(count, k)`` distinct groups of ``k`` distinct inputs in increasing order, drawn
    from seed ``seed`` (all of them, in order, when there are at most ``count``)."""
    total = math.comb(m, k)
    if total <= count:
        return torch.tensor(list(itertools.combinations(range(m), k)))
    generator = make_generator(seed, Stream.EVAL, part=200 + k)
    found: dict[tuple[int, ...], None] = {}
    while len(found) < count:
        pick = torch.rand(m, generator=generator).argsort()[:k].sort().values
        found.setdefault(tuple(int(i) for i in pick), None)
    return torch.tensor(list(found))


def pair_outputs(m: int, groups: torch.Tensor) -> torch.Tensor:
    """``(G,)`` index of each pair ``(i, j)``, ``i < j``, among the model's outputs."""
    i, j = groups[:, 0], groups[:, 1]
    return i * m - i * (i + 1) // 2 + (j - i - 1)


# --------------------------------------------------------------------------- frozen layers


def frozen_layers(
    u: torch.Tensor,
    w: torch.Tensor,
    b: torch.Tensor,
    fraction: torch.Tensor,
    d: int,
    m: int,
    seeds: Sequence[int],
) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Random compute layers of ``d`` neurons over ``m`` inputs for appendix A.1, one per
    instance (``u, w, b, fraction``: ``(K,)`` values of a trained circuit, ``seeds``: one per
    instance): ``binary`` draws each weight ``u`` with probability ``fraction``, else ``w``;
    ``gaussian`` draws it from the normal law with the same mean ``f u + (1 - f) w`` and
    standard deviation ``sqrt(f (1 - f)) (u - w)``; both give every neuron the bias ``b``.
    Each maps to ``(w (K, d, m), b (K, d))``."""
    binary, gaussian = [], []
    for k, seed in enumerate(seeds):
        generator = make_generator(seed, Stream.INIT, part=300)
        f = float(fraction[k])
        coin = torch.rand(d, m, generator=generator) < f
        binary.append(torch.where(coin, u[k], w[k]))
        noise = torch.randn(d, m, generator=generator)
        mean = f * u[k] + (1 - f) * w[k]
        gaussian.append(mean + noise * (f * (1 - f)) ** 0.5 * (u[k] - w[k]))
    bias = b[:, None].expand(len(seeds), d).clone()
    return {"binary": (torch.stack(binary), bias), "gaussian": (torch.stack(gaussian), bias)}
