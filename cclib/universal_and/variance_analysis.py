"""Prediction against simulation for the readout variance (paper 004 section 6.2):
relative errors over a grid, power-law exponents in ``s`` and ``d``, and the crossover
``s`` below which the dense circuit has the smaller readout variance.

Tensors follow :class:`cclib.universal_and.variance_simulation.ReadoutGrid`: simulated
``(M, D, S, seeds, 4 sub-cases)``, predicted ``(M, D, S, 4)``; every variance is first
case-balanced (:func:`cclib.universal_and.variance.balanced`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .constructions import cis_circuit, cis_probability, dense_circuit
from .evaluation import evaluate
from .experiments import eval_generators
from .variance import AND, balanced, cis_leading_order, predict


def seed_mean(values: np.ndarray, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error over seeds (``axis``), ignoring NaNs."""
    values = np.asarray(values, dtype=float)
    count = np.sum(np.isfinite(values), axis=axis)
    mean = np.nanmean(values, axis=axis)
    spread = np.nanstd(values, axis=axis, ddof=1) if values.shape[axis] > 1 else 0 * mean
    return mean, spread / np.sqrt(np.maximum(count, 1))


@dataclass(frozen=True)
class FormulaCheck:
    """Relative error ``simulated / predicted - 1`` of the case-balanced variance, with its
    standard error over seeds, at every grid point ``(M, D, S)``; ``valid`` marks the points
    where the prediction is positive (the CiS variance vanishes at ``p = 1``)."""

    relative: np.ndarray
    stderr: np.ndarray
    valid: np.ndarray

    def worst(self) -> tuple[float, float, tuple[int, ...]]:
        """Largest ``|relative error|`` over valid points, its standard error and its index."""
        size = np.where(self.valid, np.abs(self.relative), -1.0)
        index = np.unravel_index(int(np.argmax(size)), size.shape)
        return float(size[index]), float(self.stderr[index]), tuple(int(i) for i in index)

    def agrees(self, tolerance: float, z: float) -> np.ndarray:
        """Points within ``tolerance`` or within ``z`` standard errors (invalid ones pass)."""
        close = np.abs(self.relative) <= np.maximum(tolerance, z * self.stderr)
        return close | ~self.valid


def total_variance(simulated: dict, predicted: dict, name: str) -> torch.Tensor:
    """``(M, D, S, seeds, 4)`` simulated variance about the *predicted* mean: each network's
    own variance plus the square of its mean's distance from the prediction. Over networks
    this estimates the variance over weights and inputs that the formula gives; a single
    network's variance about its own mean misses the shift that all its pairs share (a
    finite-``m`` effect: its ``m`` weight columns are shared by every pair)."""
    shift = simulated[f"{name}_mean"] - predicted[f"{name}_mean"][..., None, :]
    return simulated[f"{name}_var"] + shift.square()


def formula_check(simulated_var: torch.Tensor, predicted_var: torch.Tensor) -> FormulaCheck:
    """Compare simulated ``(M, D, S, seeds, 4)`` with predicted ``(M, D, S, 4)`` variances."""
    sim = balanced(simulated_var).numpy()  # (M, D, S, seeds)
    pred = balanced(predicted_var).numpy()
    valid = pred > 1e-12
    safe = np.where(valid, pred, 1.0)[..., None]
    mean, err = seed_mean(sim / safe - 1.0)
    return FormulaCheck(np.where(valid, mean, 0.0), np.where(valid, err, 0.0), valid)


def power_law_fit(
    values: np.ndarray, ms: Sequence[int], ds: Sequence[int], s_values: Sequence[int]
) -> tuple[float, float]:
    """Least-squares ``log V = a_m + alpha log s + delta log d`` over the finite positive
    entries of ``values (M, D, S)`` (one intercept per ``m``); returns ``(alpha, delta)``."""
    rows, targets = [], []
    for a, c, e in np.ndindex(values.shape):
        if np.isfinite(values[a, c, e]) and values[a, c, e] > 0:
            intercept = [1.0 if k == a else 0.0 for k in range(len(ms))]
            rows.append([*intercept, math.log(s_values[e]), math.log(ds[c])])
            targets.append(math.log(values[a, c, e]))
    design = np.array(rows)
    if len(rows) <= design.shape[1] or np.linalg.matrix_rank(design) < design.shape[1]:
        return float("nan"), float("nan")
    solution, *_ = np.linalg.lstsq(design, np.array(targets), rcond=None)
    return float(solution[-2]), float(solution[-1])


def exponents(
    variance: np.ndarray, mask: np.ndarray, ms, ds, s_values
) -> tuple[np.ndarray, np.ndarray]:
    """Per-seed fitted exponents ``(alpha (seeds,), delta (seeds,))`` of case-balanced
    variances ``(M, D, S, seeds)``, using the points where ``mask (M, D, S)`` is true."""
    alphas, deltas = [], []
    for seed in range(variance.shape[-1]):
        alpha, delta = power_law_fit(np.where(mask, variance[..., seed], np.nan), ms, ds, s_values)
        alphas.append(alpha)
        deltas.append(delta)
    return np.array(alphas), np.array(deltas)


def crossover(s_values: Sequence[float], ratio: np.ndarray) -> float:
    """The first ``s`` where ``ratio(s)`` (dense over CiS variance) rises through 1, by
    linear interpolation of ``log ratio`` in ``log s``; NaN if it never does; the first
    ``s`` if the ratio is already at least 1 there (the dense circuit never wins)."""
    logs = np.log(np.asarray(s_values, dtype=float))
    logr = np.log(np.asarray(ratio, dtype=float))
    if logr[0] >= 0:
        return float(s_values[0])
    for k in range(1, len(logr)):
        if logr[k] >= 0:
            t = -logr[k - 1] / (logr[k] - logr[k - 1])
            return float(math.exp(logs[k - 1] + t * (logs[k] - logs[k - 1])))
    return float("nan")


def predicted_ratio(m: int, d: int, s_values: Sequence[int], dense) -> np.ndarray:
    """Predicted case-balanced variance of the dense circuit over the CiS one at each ``s``."""
    cis, dense_c = cis_circuit(m, d), dense_circuit(*dense)
    return np.array(
        [predict(dense_c, d, s).case_variance / predict(cis, d, s).case_variance for s in s_values]
    )


def predicted_crossover(m: int, d: int, s_max: int, dense) -> float:
    """The crossover of :func:`crossover` from the formula at every integer ``s`` in
    ``[2, s_max]``."""
    s_values = list(range(2, s_max + 1))
    return crossover(s_values, predicted_ratio(m, d, s_values, dense))


def paper_crossover(m: int, d: int) -> float:
    """The paper's scale ``sqrt(d) / log(m)^2`` below which the dense circuit should win."""
    return math.sqrt(d) / math.log(m) ** 2


def win_map(m: int, ds: Sequence[int], s_values: Sequence[int], dense) -> np.ndarray:
    """``(D, S)`` predicted ``log10`` of dense over CiS variance (negative: dense wins)."""
    return np.log10(np.stack([predicted_ratio(m, d, s_values, dense) for d in ds]))


def sparse_mask(ms: Sequence[int], ds: Sequence[int], s_values: Sequence[int]) -> np.ndarray:
    """``(M, D, S)`` true where the CiS connection probability is below 1 (at ``p = 1``
    every neuron is the same and the readout carries no information)."""
    rows = [[cis_probability(m, d) < 1.0 for d in ds] for m in ms]
    return np.broadcast_to(np.array(rows)[..., None], (len(ms), len(ds), len(s_values)))


def s_mask(ms: Sequence[int], ds: Sequence[int], s_values: Sequence[int], s_min: int):
    """``(M, D, S)`` true where ``s >= s_min``."""
    keep = np.array([s >= s_min for s in s_values])
    return np.broadcast_to(keep, (len(ms), len(ds), len(s_values)))


def cis_leading_order_grid(ms, ds, s_values) -> np.ndarray:
    """``(M, D, S)`` the paper's reconstructed CiS variance ``s (1-p)/(p d)``."""
    return np.array(
        [
            [[cis_leading_order(cis_probability(m, d), d, s) for s in s_values] for d in ds]
            for m in ms
        ]
    )


def crossover_sensitivity(m: int, d: int, s_max: int, variants: dict) -> dict[str, float]:
    """Predicted crossover for each dense circuit of ``variants`` (``label -> (u, w, b)``)."""
    return {label: predicted_crossover(m, d, s_max, dense) for label, dense in variants.items()}


def seed_crossovers(grid_s: Sequence[int], dense_var: np.ndarray, cis_var: np.ndarray):
    """Per-seed crossover from simulated case-balanced variances ``(S, seeds)`` of the two
    circuits (common random numbers, so the ratio is paired)."""
    ratio = dense_var / cis_var
    return np.array([crossover(grid_s, ratio[:, seed]) for seed in range(ratio.shape[1])])


def trained_case_errors(result, samples: int, offset: int = 0) -> np.ndarray:
    """``(S, seeds)`` case-balanced mean squared error of each trained model of a
    ``UANDResult`` on ``samples`` fresh inputs (the mean of its three case errors)."""
    generators = eval_generators(result.run, offset)
    errors = evaluate(result.model, result.task, samples, generators).case_error
    shape = (len(result.run.s_values), len(result.run.seeds))
    return errors.double().nanmean(dim=1).view(shape).numpy()


def predicted_errors(m: int, d: int, s_values: Sequence[int], dense) -> dict[str, np.ndarray]:
    """``{"cis", "dense"}``: predicted case-balanced mean squared error (variance plus
    squared bias) at each ``s``."""
    circuits = {"cis": cis_circuit(m, d), "dense": dense_circuit(*dense)}
    return {
        name: np.array([predict(circuit, d, s).case_error for s in s_values])
        for name, circuit in circuits.items()
    }


def simulated_error(simulated: dict, name: str) -> np.ndarray:
    """``(M, D, S, seeds)`` simulated case-balanced mean squared error of each network
    (its variance plus its squared bias against the AND)."""
    bias = simulated[f"{name}_mean"] - AND
    return balanced(simulated[f"{name}_var"] + bias.square()).numpy()


def exponent_claims(dense_fit, cis_fit, dense_pred, cis_pred) -> dict[str, tuple[float, float]]:
    """The fitted exponents as ``name -> (value, error)`` for glueing: ``dense_s``,
    ``dense_d``, ``cis_s``, ``cis_d`` (simulated, mean and error over seeds) and the same
    names with ``_pred`` (fitted to the derived variance)."""
    return {
        "dense_s": tuple(map(float, dense_fit[0])),
        "dense_d": tuple(map(float, dense_fit[1])),
        "cis_s": tuple(map(float, cis_fit[0])),
        "cis_d": tuple(map(float, cis_fit[1])),
        "dense_s_pred": (dense_pred[0], 0.0),
        "dense_d_pred": (dense_pred[1], 0.0),
        "cis_s_pred": (cis_pred[0], 0.0),
        "cis_d_pred": (cis_pred[1], 0.0),
    }


def scaling_series(grid, sim_var: dict, pred_var: dict, m_index: int, s=None, d=None):
    """``(derived, simulated)`` curves of both circuits at ``m = grid.ms[m_index]`` along
    ``d`` (at fixed ``s``) or along ``s`` (at fixed ``d``), for ``plotting.scaling_lines``;
    CiS points at ``p = 1`` (zero variance) are left out."""
    if s is not None:
        pick = (m_index, slice(None), grid.s_values.index(s))
    else:
        pick = (m_index, grid.ds.index(d), slice(None))
    derived, simulated = {}, {}
    for name, label in (("cis", "CiS"), ("dense", "dense")):
        predicted = np.asarray(pred_var[name][pick], dtype=float)
        mean, err = seed_mean(sim_var[name][pick])
        keep = predicted > 0
        derived[label] = np.where(keep, predicted, np.nan)
        simulated[label] = (np.where(keep, mean, np.nan), np.where(keep, err, np.nan))
    return derived, simulated


def win_points(grid, sim_var: dict, m_index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(d, s, dense_wins)`` flat arrays of the simulated grid at ``m = grid.ms[m_index]``
    (mean variance over seeds), at the points where the CiS variance is positive."""
    dense = sim_var["dense"][m_index].mean(axis=-1)  # (D, S)
    cis = sim_var["cis"][m_index].mean(axis=-1)
    d, s = np.meshgrid(grid.ds, grid.s_values, indexing="ij")
    keep = cis > 1e-12
    return d[keep], s[keep], (dense < cis)[keep]


def share_where(condition: np.ndarray, mask: np.ndarray) -> float:
    """Share of the entries selected by ``mask`` where ``condition`` holds."""
    return float(np.asarray(condition)[np.asarray(mask)].mean())


def on_grid(stats: tuple[np.ndarray, np.ndarray], s_values, wanted) -> tuple:
    """``(mean, err)`` arrays indexed by ``s_values`` restricted to the ``s`` in ``wanted``."""
    index = [list(s_values).index(s) for s in wanted]
    return stats[0][index], stats[1][index]


def trained_ratio(
    trained_errors: np.ndarray, s_values, s: int, dense_errors: np.ndarray, dense_s
) -> tuple[float, float]:
    """Mean and standard error over seeds of a trained model's error ``(S, seeds)`` at ``s``
    divided by the dense construction's derived error at ``s``."""
    if s not in s_values or s not in dense_s:
        raise ValueError(f"s = {s} is not in the trained runs' s_values {tuple(s_values)}")
    ratio = trained_errors[list(s_values).index(s)] / dense_errors[list(dense_s).index(s)]
    mean, err = seed_mean(ratio)
    return float(mean), float(err)


def p_range(ms: Sequence[int], ds: Sequence[int]) -> tuple[float, float]:
    """Smallest and largest CiS connection probability below 1 on the grid."""
    values = [cis_probability(m, d) for m in ms for d in ds if cis_probability(m, d) < 1.0]
    return (min(values), max(values)) if values else (1.0, 1.0)


def local_exponent_s(dense: tuple[float, float, float], d: int, s_low: int, s_high: int) -> float:
    """Derived local exponent ``log(V(s_high)/V(s_low)) / log(s_high/s_low)`` of the dense
    circuit's case-balanced variance in ``s``."""
    circuit = dense_circuit(*dense)
    low = predict(circuit, d, s_low).case_variance
    high = predict(circuit, d, s_high).case_variance
    return math.log(high / low) / math.log(s_high / s_low)


def shared_shift_share(simulated: dict, total: torch.Tensor, name: str) -> float:
    """Largest share (over the grid, mean over seeds) of the variance about the predicted
    mean that a network's variance about its own mean misses: the shift all its pairs share."""
    own = balanced(simulated[f"{name}_var"]).numpy().mean(axis=-1)
    whole = balanced(total).numpy().mean(axis=-1)
    positive = whole > 1e-12
    return float(np.max(1.0 - own[positive] / whole[positive]))


def empty_class_probability(ms: Sequence[int], ds: Sequence[int], dense_q: float = 0.5) -> float:
    """Largest probability over the grid that some class of a pair is empty (``N_c = 0``),
    for either circuit (union bound over the four classes)."""
    worst = 0.0
    for m in ms:
        for d in ds:
            p = cis_probability(m, d)
            for q in (p, dense_q):
                smallest = min(q * q, q * (1 - q), (1 - q) ** 2) if q < 1 else 1.0
                worst = max(worst, min(1.0, 4 * (1 - smallest) ** d) if q < 1 else 0.0)
    return worst


def crossover_exponents(
    m: int, d: int, s_max: int, dense, factor: int = 16, points: int = 5
) -> tuple[float, float]:
    """Fitted exponents of the derived crossover (:func:`predicted_crossover`): in ``d``
    over ``points`` values from ``d`` to ``factor * d`` at ``m``, and in ``log m`` over
    ``m`` to ``m^2`` at ``factor * d`` (the largest crossovers, farthest from the floor
    ``s = 2`` of the grid, where the paper's asymptotic scale should apply best). The
    paper's scale ``sqrt(d) / log(m)^2`` predicts 1/2 and -2. NaN where fewer than 3
    points have a crossover above the smallest ``s`` (2)."""

    def slope(x: np.ndarray, y: list[float]) -> float:
        y = np.asarray(y, dtype=float)
        keep = np.isfinite(y) & (y > 0)
        if keep.sum() < 3:
            return float("nan")
        return float(np.polyfit(np.log(x[keep]), np.log(y[keep]), 1)[0])

    def cross(m_: int, d_: int) -> float:
        if cis_probability(m_, d_) >= 1.0:  # every CiS neuron alike: no variance to compare
            return float("nan")
        value = predicted_crossover(m_, d_, s_max, dense)
        return value if value > 2 else float("nan")  # at the smallest s: not resolved

    ds = np.geomspace(d, factor * d, points).round().astype(int)
    ms = np.geomspace(m, m**2, points).round().astype(int)
    in_d = slope(ds.astype(float), [cross(m, int(x)) for x in ds])
    in_m = slope(np.log(ms.astype(float)), [cross(int(x), factor * d) for x in ms])
    return in_d, in_m
