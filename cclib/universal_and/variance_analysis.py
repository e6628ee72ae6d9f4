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

from .constructions import cis_circuit, dense_circuit
from .variance import balanced, predict


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
