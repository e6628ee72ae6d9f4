"""The readout chapter's analyses of trained Universal-AND models (paper 004 sections 5.2
and 6.1, appendices A.1 and A.2), built on ``readout`` (closed-form readouts, class
truth tables), ``circuit`` (the binary fit) and ``experiments`` (the trained runs).

``readout_run`` names the run the chapter reads (the same cache entries as the training
chapter's when the settings agree); ``compare_classes`` sets the trained AND readout of
every analysed pair against the class combination its truth tables predict;
``chart_points`` gives the data of a readout chart; ``gate_study`` fits OR, XOR, one
feature, AND and the 3-input AND on one set of frozen layers; ``frozen_study`` compares
the trained layer with random frozen ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..engine.device import resolve_device
from . import readout
from .circuit import BinaryFit, fit_binary
from .experiments import UANDRun, train_config
from .models import UniversalAND

PAIR_GATES = ("and", "or", "xor", "first")
"""Two-input readouts fitted on every analysed pair (``first``: the pair's first input)."""


def readout_run(cfg) -> UANDRun:
    """The models this chapter reads: ``m``, ``d``, seeds ``0 .. seeds-1`` at ``s_low`` and
    ``s_high``, trained with the chapter's training settings (each ``s`` is its own cache
    entry, shared with any other chapter that trains the same ``(m, d, s, seeds)``)."""
    return UANDRun(
        m=cfg.m,
        d=cfg.d,
        s_values=(cfg.s_low, cfg.s_high),
        seeds=tuple(range(cfg.seeds)),
        train=train_config(cfg),
    )


def instances(model: UniversalAND, index: Sequence[int]) -> UniversalAND:
    """The instances ``index`` of a batched model, detached (a model of ``len(index)``)."""
    index = list(index)
    return UniversalAND(*(p.detach()[index].clone() for p in (model.w, model.b, model.r, model.c)))


def on_device(*tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """``tensors`` detached and moved to the default device (``cclib.engine.device``)."""
    device = resolve_device(None)
    return tuple(t.detach().to(device) for t in tensors)


def seed_mean(values: torch.Tensor) -> tuple[float, float]:
    """Mean over seeds ``(S,)`` (NaN ignored) and its standard error (0 for one seed)."""
    values = values[torch.isfinite(values)].double()
    if len(values) < 2:
        return float(values.mean()), 0.0
    return float(values.mean()), float(values.std() / len(values) ** 0.5)


def typical_values(fit: BinaryFit) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(K,)`` medians over neurons of ``u``, ``w`` and ``b`` (the circuit's typical values)."""
    return fit.u.median(1).values, fit.w.median(1).values, fit.b.median(1).values


# --------------------------------------------------------------------------- classes


@dataclass(frozen=True)
class ClassComparison:
    """Trained AND readout of ``G`` pairs against the class prediction, per instance ``K``.

    ``learned (K, G, 4)``: mean trained readout weight of the neurons of each class;
    ``predicted (K, G, 4)``: the per-neuron weight the class combination needs (NaN for a
    pair with an empty class); ``counts (K, G, 4)`` class sizes; ``tables (K, G, 4, 4)``
    class truth tables (states x classes); ``bias (K, G)`` the readout bias used;
    ``share (K, G)`` readout mass with the class's expected sign over all mass."""

    learned: torch.Tensor
    predicted: torch.Tensor
    counts: torch.Tensor
    tables: torch.Tensor
    bias: torch.Tensor
    share: torch.Tensor
    share_per_class: torch.Tensor

    @property
    def correlation(self) -> torch.Tensor:
        """``(K,)`` correlation of predicted and learned per-class weights over pairs x classes."""
        return readout.pearson(self.predicted, self.learned)

    @property
    def slope(self) -> torch.Tensor:
        """``(K,)`` least-squares slope through the origin of learned on predicted weights."""
        keep = torch.isfinite(self.predicted) & torch.isfinite(self.learned)
        p = torch.where(keep, self.predicted.double(), 0.0).flatten(1)
        q = torch.where(keep, self.learned.double(), 0.0).flatten(1)
        return (p * q).sum(1) / (p * p).sum(1)

    @property
    def learned_means(self) -> torch.Tensor:
        """``(K, 4)`` trained mean weight per neuron of each class, mean over pairs."""
        return self.learned.nanmean(1)

    @property
    def signs_match(self) -> torch.Tensor:
        """``(K,)`` share of pairs whose four learned class means have the signs + - - +."""
        signs = torch.tensor(readout.EXPECTED_SIGNS)
        match = (torch.sign(self.learned) == signs).all(-1).float()
        return torch.where(torch.isfinite(self.learned).all(-1), match, torch.nan).nanmean(1)


def compare_classes(
    model: UniversalAND,
    fit: BinaryFit,
    pairs: torch.Tensor,
    state_means: torch.Tensor,
    tables: str = "sampled",
    bias_rule: str = "learned",
) -> ClassComparison:
    """Compare ``model``'s trained AND readout on ``pairs (G, 2)`` with the class prediction.

    ``tables``: ``sampled`` takes each class's mean activation in each state of the pair
    (``state_means (K, G, 4, d)`` from ``readout.fit_readouts``: the interference of the
    other active inputs included), ``ideal`` the neurons' own ``ReLU(b + u/w sums)`` with
    the interference left out (the paper's Table 1 per neuron). ``bias_rule``: see
    ``readout.predicted_class_weights``."""
    if tables not in ("sampled", "ideal"):
        raise ValueError(f"tables must be 'sampled' or 'ideal', got {tables!r}")
    classes = readout.group_classes(fit.is_u, pairs)  # (K, G, d)
    outputs = readout.pair_outputs(fit.is_u.shape[-1], pairs)
    r = model.r.detach()[:, outputs]  # (K, G, d)
    c = model.c.detach()[:, outputs]  # (K, G)
    learned, counts = readout.class_means(r, classes, 4)
    if tables == "sampled":
        per_neuron = state_means
    else:
        per_neuron = readout.neuron_truth_tables(fit.u, fit.w, fit.b, classes)
    by_state = classes[:, :, None, :].expand(-1, -1, per_neuron.shape[2], -1)
    class_tables, _ = readout.class_means(per_neuron, by_state, 4)  # (K, G, S, C)
    predicted, bias = readout.predicted_class_weights(class_tables, counts, "and", bias_rule, c)
    share, per_class = readout.expected_sign_share(r, classes)
    return ClassComparison(
        learned=learned,
        predicted=predicted.float(),
        counts=counts,
        tables=class_tables,
        bias=bias.float(),
        share=share,
        share_per_class=per_class,
    )


def rule_correlations(
    model: UniversalAND, fit: BinaryFit, pairs: torch.Tensor, state_means: torch.Tensor
) -> dict[tuple[str, str], torch.Tensor]:
    """``(K,)`` correlation of prediction and trained readout for every choice of tables
    (``sampled``, ``ideal``) and bias rule (``readout.BIAS_RULES``)."""
    return {
        (tables, rule): compare_classes(model, fit, pairs, state_means, tables, rule).correlation
        for tables in ("sampled", "ideal")
        for rule in readout.BIAS_RULES
    }


# --------------------------------------------------------------------------- charts


@dataclass(frozen=True)
class ChartPoints:
    """One readout chart: neuron ``n`` at ``(x, y) = (W[n, i], W[n, j])``, coloured by its
    AND readout weight ``r = R[(i, j), n]``; ``share`` is the mass with the expected sign."""

    x: torch.Tensor
    y: torch.Tensor
    r: torch.Tensor
    share: float


def chart_points(model: UniversalAND, fit: BinaryFit, instance: int, pair) -> ChartPoints:
    """The readout chart of ``pair = (i, j)`` in instance ``instance``."""
    i, j = (int(x) for x in pair)
    pairs = torch.tensor([[i, j]])
    output = int(readout.pair_outputs(model.w.shape[-1], pairs)[0])
    w = model.w.detach()[instance]
    r = model.r.detach()[instance, output]
    classes = readout.group_classes(fit.is_u[instance : instance + 1], pairs)[0, 0]
    share, _ = readout.expected_sign_share(r, classes)
    return ChartPoints(w[:, i], w[:, j], r, float(share))


# --------------------------------------------------------------------------- gates


@dataclass(frozen=True)
class GateStudy:
    """Closed-form readouts of several gates on frozen layers: ``gates`` names, ``loss`` and
    ``accuracy (K, F)`` (mean over groups), ``l2`` and ``l1 (K, G, F)`` readout norms,
    ``fit`` the pair fit (its ``state_means`` are the class truth tables' source)."""

    gates: tuple[str, ...]
    loss: torch.Tensor
    accuracy: torch.Tensor
    l2: torch.Tensor
    l1: torch.Tensor
    fit: readout.ReadoutFit

    def column(self, gate: str) -> int:
        return self.gates.index(gate)

    def norm_ratio(self, numerator: str, denominator: str, order: int = 2) -> torch.Tensor:
        """``(K,)`` mean over groups of ``|r_numerator| / |r_denominator|`` (L1 or L2)."""
        norms = self.l2 if order == 2 else self.l1
        return (norms[..., self.column(numerator)] / norms[..., self.column(denominator)]).mean(1)


def gate_study(
    w: torch.Tensor,
    b: torch.Tensor,
    pairs: torch.Tensor,
    triples: torch.Tensor,
    s: int,
    fit_samples: int,
    eval_samples: int,
    ridge: float,
    seed: int = 0,
) -> GateStudy:
    """Fit and evaluate ``PAIR_GATES`` on ``pairs`` and the 3-input AND on ``triples`` (one
    closed-form readout per group and gate) on the frozen layers ``w (K, d, m)``, ``b``
    (computed on the default device: the GPU when there is one)."""
    w, b = on_device(w, b)
    pair_fit = readout.fit_readouts(w, b, pairs, PAIR_GATES, s, fit_samples, seed, ridge)
    pair_err = readout.readout_errors(
        w, b, pair_fit.r, pair_fit.c, pairs, PAIR_GATES, s, eval_samples, seed
    )
    triple_fit = readout.fit_readouts(w, b, triples, ("and3",), s, fit_samples, seed, ridge)
    triple_err = readout.readout_errors(
        w, b, triple_fit.r, triple_fit.c, triples, ("and3",), s, eval_samples, seed
    )
    l2 = pair_fit.r.norm(dim=-1)
    l1 = pair_fit.r.abs().sum(-1)
    return GateStudy(
        gates=(*PAIR_GATES, "and3"),
        loss=torch.cat([pair_err.loss.mean(1), triple_err.loss.mean(1)], dim=1),
        accuracy=torch.cat([pair_err.accuracy.mean(1), triple_err.accuracy.mean(1)], dim=1),
        l2=l2,
        l1=l1,
        fit=pair_fit,
    )


def own_readout_errors(
    model: UniversalAND, pairs: torch.Tensor, s: int, samples: int, seed: int = 0
) -> readout.ReadoutErrors:
    """The trained model's own AND readout on ``pairs``, evaluated as the closed-form ones."""
    outputs = readout.pair_outputs(model.w.shape[-1], pairs)
    r = model.r.detach()[:, outputs, None]
    c = model.c.detach()[:, outputs, None]
    w, b = on_device(model.w, model.b)
    return readout.readout_errors(w, b, r, c, pairs, ("and",), s, samples, seed)


# --------------------------------------------------------------------------- frozen layers


@dataclass(frozen=True)
class FrozenStudy:
    """Closed-form AND readouts on frozen compute layers (appendix A.1): ``layers`` maps a
    name to ``(w (K, d, m), b (K, d))``, ``readouts`` to its ``ReadoutFit`` on the study's
    pairs, ``loss`` to its ``(K,)`` AND loss; ``loss["own"]`` is the fully trained model's."""

    layers: dict[str, tuple[torch.Tensor, torch.Tensor]]
    readouts: dict[str, readout.ReadoutFit]
    loss: dict[str, torch.Tensor]

    def chart(self, name: str, instance: int, pairs: torch.Tensor, index: int) -> ChartPoints:
        """Readout chart of pair ``pairs[index]`` of layer ``name`` (its closed-form readout)."""
        w, b = self.layers[name]
        i, j = (int(x) for x in pairs[index])
        r = self.readouts[name].r[instance, index, 0]
        fit = fit_binary(w[instance : instance + 1], b[instance : instance + 1])
        classes = readout.group_classes(fit.is_u, pairs[index : index + 1])[0, 0]
        share, _ = readout.expected_sign_share(r, classes)
        return ChartPoints(w[instance, :, i], w[instance, :, j], r, float(share))

    def sign_share(self, name: str, pairs: torch.Tensor) -> torch.Tensor:
        """``(K,)`` share of the closed-form readout's mass with the expected sign of the
        neurons' classes (from a two-value fit of the layer), mean over pairs."""
        w, b = self.layers[name]
        classes = readout.group_classes(fit_binary(w, b).is_u, pairs)
        overall, _ = readout.expected_sign_share(self.readouts[name].r[:, :, 0], classes)
        return overall.mean(1)


def frozen_study(
    model: UniversalAND,
    fit: BinaryFit,
    seeds: Sequence[int],
    pairs: torch.Tensor,
    s: int,
    fit_samples: int,
    eval_samples: int,
    ridge: float,
) -> FrozenStudy:
    """Closed-form AND readouts and their losses on each compute layer: ``trained`` (the
    trained layer); ``binary`` and ``gaussian`` (``readout.frozen_layers`` at the trained
    circuit's typical ``u, w, b`` and its mean share of ``u`` weights); ``binary_half`` and
    ``gaussian_half`` (the same with a share of 1/2); ``init`` (the untrained layer:
    PyTorch's default initialisation from the same seeds); and ``own``, the loss of the
    fully trained model itself."""
    d, m = model.w.shape[1:]
    u, w, b = typical_values(fit)
    share = fit.u_fraction.mean(1)
    layers = {"trained": (model.w.detach(), model.b.detach())}
    layers.update(readout.frozen_layers(u, w, b, share, d, m, seeds))
    half = readout.frozen_layers(u, w, b, torch.full_like(share, 0.5), d, m, seeds)
    layers.update({f"{name}_half": layer for name, layer in half.items()})
    start = UniversalAND.init(list(seeds), m, d)
    layers["init"] = (start.w.detach(), start.b.detach())
    losses, readouts = {}, {}
    for name, layer in layers.items():
        weights, bias = on_device(*layer)
        solved = readout.fit_readouts(weights, bias, pairs, ("and",), s, fit_samples, 0, ridge)
        errors = readout.readout_errors(
            weights, bias, solved.r, solved.c, pairs, ("and",), s, eval_samples, 0
        )
        losses[name] = errors.loss.mean(1)[:, 0]
        readouts[name] = solved
    losses["own"] = own_readout_errors(model, pairs, s, eval_samples).loss.mean(1)[:, 0]
    return FrozenStudy(layers, readouts, losses)


def binary_fit(model: UniversalAND) -> BinaryFit:
    """``circuit.fit_binary`` of the model's compute layer."""
    return fit_binary(model.w.detach(), model.b.detach())


def sign_share(
    model: UniversalAND, fit: BinaryFit, pairs: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Share of the AND readout mass of ``pairs`` with its class's expected sign: ``(K,)``
    over all classes and ``(K, 4)`` per class, means over pairs."""
    classes = readout.group_classes(fit.is_u, pairs)
    outputs = readout.pair_outputs(model.w.shape[-1], pairs)
    overall, per_class = readout.expected_sign_share(model.r.detach()[:, outputs], classes)
    return overall.mean(1), per_class.nanmean(1)


def table(rows: Sequence[str], columns: Sequence[str], values, digits: int = 3) -> str:
    """A plain-text table: ``values[row][column]`` under ``columns``, one line per row."""
    width = max(10, *(len(c) + 2 for c in columns))
    label = max(len(r) for r in rows) + 2
    lines = [" " * label + "".join(f"{c:>{width}}" for c in columns)]
    for name, row in zip(rows, values, strict=True):
        cells = "".join(f"{float(x):>{width}.{digits}g}" for x in row)
        lines.append(f"{name:<{label}}{cells}")
    return "\n".join(lines)


def gate_combinations(
    tables: torch.Tensor, gates: Sequence[str] = ("and", "or", "xor", "first"), bias: float = 0.0
) -> dict[str, dict[str, tuple[float, float]]]:
    """Class totals of each gate from one set of truth tables ``(4, 4)`` at readout bias
    ``bias``, as ``{gate: {class: (value, 0.0)}}`` (the form ``report.means`` glues)."""
    bias_t = torch.tensor(bias, dtype=torch.float64)
    out = {}
    for gate in gates:
        target = torch.tensor(readout.GATES[gate])
        alpha = readout.combination(tables.double(), target, bias_t)
        out[gate] = {name: (float(a), 0.0) for name, a in zip(readout.CLASSES, alpha, strict=True)}
    return out


def combination_table(combinations: dict[str, dict[str, tuple[float, float]]]) -> str:
    """``table`` of ``gate_combinations``: one row per gate, one column per class."""
    values = [[value for value, _ in row.values()] for row in combinations.values()]
    return table(list(combinations), readout.CLASSES, values)


def rules_table(rules: dict[tuple[str, str], torch.Tensor]) -> str:
    """``table`` of ``rule_correlations``: the mean correlation over seeds per choice."""
    labels = [f"tables={tables}, bias={rule}" for tables, rule in rules]
    return table(labels, ["correlation"], [[values.mean()] for values in rules.values()])
