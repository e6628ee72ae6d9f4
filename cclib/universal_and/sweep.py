"""The ``(d, s)`` sweep of trained Universal-AND models, summarised (paper 004 section 5,
appendix B).

``summarise`` evaluates every model of a list of runs (one per ``d``, all sharing their
``s`` values and seeds) and fits its compute layer with two values per neuron; the result
``SweepSummary`` holds every per-model number as an array ``(D, S, seeds)`` so that a
chapter picks a row, a column or a seed mean without loops. ``seed_mean`` gives the mean
over seeds and its standard error.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..engine.batching import linear_init
from ..engine.device import resolve_device
from .circuit import BinaryFit, binary_similarity, fit_binary
from .evaluation import evaluate
from .experiments import UANDResult, eval_generators


@dataclass(frozen=True)
class SweepSummary:
    """Per-model results of a ``(d, s)`` sweep, each ``(D, S, seeds)`` unless noted.

    ``loss`` case-balanced MSE on fresh samples; ``case_error (D, S, seeds, 3)`` MSE of
    pairs with 0, 1, 2 inputs on; ``accuracy`` case-balanced accuracy at threshold 0.5;
    ``similarity`` binary-similarity score of ``W``; ``init_similarity`` the same score at
    initialisation; ``moved`` ``||W - W_init|| / ||W_init||``; per-neuron two-value fit
    statistics over the ``d`` neurons of each model: ``u``, ``w``, ``b`` (medians),
    ``ratio`` (median ``u / w``), ``u_fraction`` (mean share of ``u``-weights),
    ``u_positive``, ``w_negative``, ``b_positive`` (share of neurons with that sign),
    ``same_sign`` (share of neurons whose two values have one sign: an additive neuron);
    ``close_share`` a second, cruder binary score: the share of weights within a tenth of
    their neuron's gap ``u - w`` of their nearer value.
    ``fits`` keeps the ``BinaryFit`` of each run (instances s-major, as in the run).
    """

    d_values: tuple[int, ...]
    s_values: tuple[int, ...]
    loss: np.ndarray
    case_error: np.ndarray
    accuracy: np.ndarray
    similarity: np.ndarray
    init_similarity: np.ndarray
    moved: np.ndarray
    u: np.ndarray
    w: np.ndarray
    b: np.ndarray
    ratio: np.ndarray
    u_fraction: np.ndarray
    u_positive: np.ndarray
    w_negative: np.ndarray
    b_positive: np.ndarray
    same_sign: np.ndarray
    close_share: np.ndarray
    fits: tuple[BinaryFit, ...]

    def s_index(self, s: int) -> int:
        return self.s_values.index(s)


def _per_model(values: torch.Tensor, s_count: int) -> np.ndarray:
    """``(K,)`` s-major -> ``(S, seeds)``."""
    return values.detach().double().cpu().numpy().reshape(s_count, -1)


def _neuron_statistics(fit: BinaryFit) -> dict[str, torch.Tensor]:
    """``(K,)`` per-instance summaries over neurons of a two-value fit."""
    return {
        "u": fit.u.median(dim=1).values,
        "w": fit.w.median(dim=1).values,
        "b": fit.b.median(dim=1).values,
        "ratio": fit.ratio.median(dim=1).values,
        "u_fraction": fit.u_fraction.mean(dim=1),
        "u_positive": (fit.u > 0).float().mean(dim=1),
        "w_negative": (fit.w < 0).float().mean(dim=1),
        "b_positive": (fit.b > 0).float().mean(dim=1),
        "same_sign": ((fit.u > 0) == (fit.w > 0)).float().mean(dim=1),
        "close_share": fit.close_share(0.1).mean(dim=1),
    }


def initial_weights(result: UANDResult) -> torch.Tensor:
    """``(K, d, m)`` compute-layer weights of the run's instances before training (the
    ``W`` of ``UniversalAND.init``, without building its large readout)."""
    run = result.run
    return linear_init([seed for _, seed in run.instances()], (run.d, run.m), run.m, part=0)


def summarise(
    results: Sequence[UANDResult], samples: int, device: torch.device | str | None = None
) -> SweepSummary:
    """Evaluate and fit every model of ``results`` (one run per ``d``, same ``s`` values and
    seeds), each on ``samples`` fresh inputs from its seed's evaluation stream, on
    ``device`` (default: the engine's choice, a GPU when there is one)."""
    device = resolve_device(device)
    first = results[0].run
    s_count = len(first.s_values)
    fields: dict[str, list[np.ndarray]] = {}
    fits = []
    for result in results:
        run = result.run
        if run.s_values != first.s_values or run.seeds != first.seeds:
            raise ValueError("every run of a sweep needs the same s_values and seeds")
        model = copy.deepcopy(result.model).to(device)
        evaluation = evaluate(model, result.task, samples, eval_generators(run, device=device))
        del model
        fit = fit_binary(result.model.w, result.model.b)
        fits.append(fit)
        init = initial_weights(result)
        trained = result.model.w.detach()
        moved = (trained - init).flatten(1).norm(dim=1) / init.flatten(1).norm(dim=1)
        values = {
            "loss": evaluation.loss,
            "accuracy": evaluation.and_accuracy,
            "similarity": binary_similarity(trained),
            "init_similarity": binary_similarity(init),
            "moved": moved,
            **_neuron_statistics(fit),
        }
        for name, value in values.items():
            fields.setdefault(name, []).append(_per_model(value, s_count))
        errors = evaluation.case_error.double().numpy().reshape(s_count, -1, 3)
        fields.setdefault("case_error", []).append(errors)
    return SweepSummary(
        d_values=tuple(result.run.d for result in results),
        s_values=first.s_values,
        fits=tuple(fits),
        **{name: np.stack(arrays) for name, arrays in fields.items()},
    )


def seed_mean(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over the last axis (seeds) and its standard error (``std / sqrt(seeds)``)."""
    values = np.asarray(values, dtype=float)
    seeds = values.shape[-1]
    spread = values.std(axis=-1, ddof=1) if seeds > 1 else np.zeros(values.shape[:-1])
    return values.mean(axis=-1), spread / np.sqrt(seeds)


def pooled(values: np.ndarray) -> tuple[float, float]:
    """Mean over every ``d`` and seed of a ``(D, seeds)`` slice, with the standard error of
    the mean of the per-seed averages over ``d`` (seeds are the independent units)."""
    per_seed = np.asarray(values, dtype=float).mean(axis=0)  # (seeds,)
    mean, error = seed_mean(per_seed)
    return float(mean), float(error)


def relative_spread(values: np.ndarray) -> tuple[float, float]:
    """Spread of a ``(D, seeds)`` quantity across ``d``: ``(max - min) / mean`` over ``d`` of
    the seed means, with the standard error of that ratio over seeds (each seed's own
    ratio, so both are computed from the same numbers)."""
    values = np.asarray(values, dtype=float)
    means = values.mean(axis=1)
    ratio = (means.max() - means.min()) / abs(means.mean())
    per_seed = (values.max(axis=0) - values.min(axis=0)) / np.abs(values.mean(axis=0))
    return float(ratio), float(seed_mean(per_seed)[1])


def signs_hold(summary: SweepSummary, share: float) -> bool:
    """Whether every model has ``u > 0``, ``w < 0`` and ``b > 0`` in at least ``share`` of
    its neurons."""
    return bool(
        min(summary.u_positive.min(), summary.w_negative.min(), summary.b_positive.min()) >= share
    )


def least_share(summary: SweepSummary, score: float) -> float:
    """The smallest of ``score`` (a binary-similarity score) and every model's shares of
    neurons with ``u > 0``, ``w < 0`` and ``b > 0``: the circuit forms when it reaches
    the threshold (see :func:`signs_hold`)."""
    signs = (summary.u_positive.min(), summary.w_negative.min(), summary.b_positive.min())
    return float(min(score, *signs))


def compare_models(
    summary: SweepSummary, other: SweepSummary, row: int, s: int, other_row: int = 0
) -> str:
    """A small table: seed means of the circuit's numbers for the models at ``(row, s)`` of
    ``summary`` and at ``(other_row, s)`` of ``other`` (e.g. another weight decay)."""
    names = (
        "loss",
        "accuracy",
        "similarity",
        "u",
        "w",
        "b",
        "ratio",
        "u_fraction",
        "u_positive",
        "w_negative",
        "b_positive",
    )
    columns = (
        [getattr(summary, name)[row, summary.s_index(s)].mean() for name in names],
        [getattr(other, name)[other_row, other.s_index(s)].mean() for name in names],
    )
    lines = [f"{'':>12} {'main':>9} {'variant':>9}"]
    lines += [f"{name:>12} {a:9.4f} {b:9.4f}" for name, a, b in zip(names, *columns, strict=True)]
    return "\n".join(lines)


def circuit_verdict(summary: SweepSummary, row: int, s: int, share: float = 0.9) -> str:
    """The binary score and the three sign shares of the models at ``(row, s)`` (seed
    means) in words, each marked against its threshold (score and shares ``>= share``)."""
    index = summary.s_index(s)
    score = summary.similarity[row, index].mean()
    parts = [f"a binary score of {score:.3f} ({'at least' if score >= share else 'below'} {share})"]
    for name, sign in (("u_positive", "u > 0"), ("w_negative", "w < 0"), ("b_positive", "b > 0")):
        value = getattr(summary, name)[row, index].mean()
        parts.append(f"{sign} in a share {value:.2f} of the neurons")
    return ", ".join(parts)


def loss_histories(results: Sequence[UANDResult]) -> np.ndarray:
    """Training losses of every run, ``(D, rows, S, seeds)`` (all runs share their steps)."""
    return np.stack(
        [
            result.losses.double().numpy().reshape(len(result.losses), len(result.run.s_values), -1)
            for result in results
        ]
    )


def late_change(histories: np.ndarray, early: float = 0.8, late: float = 0.95) -> np.ndarray:
    """Relative drop of the training loss between the rows ``[early, early + 0.05)`` and
    ``[late, 1)`` of the run (fractions of its length), per model ``(D, S, seeds)``: how
    much a model still improved near the end of its schedule."""
    rows = histories.shape[1]
    first = histories[:, int(early * rows) : max(int(early * rows) + 1, int((early + 0.05) * rows))]
    last = histories[:, int(late * rows) :]
    return 1.0 - last.mean(axis=1) / first.mean(axis=1)


def describe_solution(summary: SweepSummary, s: int, m: int, additive_loss: float) -> list[str]:
    """What the models at ``s`` do instead of the binary circuit, one phrase per ``d``
    (seed means): the additive readout when the loss is within 5% of ``additive_loss`` and
    ``d >= m``; a compute layer that barely moved (``moved < 0.5``); else continuous weights
    with the binary-similarity score given."""
    index = summary.s_index(s)
    phrases = []
    for row, d in enumerate(summary.d_values):
        loss = summary.loss[row, index].mean()
        moved = summary.moved[row, index].mean()
        score = summary.similarity[row, index].mean()
        if d >= m and abs(loss / additive_loss - 1) < 0.05:
            phrases.append(f"d = {d}: the additive readout (loss {loss:.4f})")
        elif moved < 0.5:
            phrases.append(f"d = {d}: a compute layer that barely moved ({moved:.2f} of its norm)")
        else:
            phrases.append(f"d = {d}: continuous weights (score {score:.2f}, loss {loss:.4f})")
    return phrases


def circuit_neurons(
    summary: SweepSummary, s: int, seed_index: int = 0, limit: int = 200
) -> list[dict[str, np.ndarray]]:
    """``neuron_values`` of the model with the ``seed_index``-th seed at ``s``, one per ``d``."""
    seeds = summary.loss.shape[2]
    instance = summary.s_index(s) * seeds + seed_index
    return [neuron_values(fit, instance, limit) for fit in summary.fits]


def weights_at(
    results: Sequence[UANDResult], d: int, s_values: Sequence[int], seed_index: int = 0
) -> dict[str, torch.Tensor]:
    """Compute-layer weights ``(d, m)`` of the ``seed_index``-th seed at each of ``s_values``
    in the run at ``d``, keyed ``"s = ..."``."""
    result = next(result for result in results if result.run.d == d)
    seed = result.run.seeds[seed_index]
    return {f"s = {s}": result.model.w[result.run.index(s, seed)].detach() for s in s_values}


def neuron_values(fit: BinaryFit, instance: int, limit: int = 200) -> dict[str, np.ndarray]:
    """``u, w, b, spread90`` of at most ``limit`` neurons of one instance (evenly spaced
    indices when it has more), for a chart of the circuit's values (appendix B)."""
    d = fit.u.shape[1]
    pick = torch.linspace(0, d - 1, min(d, limit)).round().long().unique()
    return {
        name: getattr(fit, name)[instance, pick].double().numpy()
        for name in ("u", "w", "b", "spread90")
    }
