"""Loss against the mixing scale sigma: where it is lowest, and whether it falls then rises
(paper 000, section 3, figure 2 right).

A sweep gives the loss per feature ``losses[s, g]`` of seed ``s`` at ``sigmas[g]`` (each seed
trained at every sigma, so the seeds are the independent units), optionally with the
evaluation standard error ``stderr[s, g]`` of each entry.

- ``parabola_minimum``: the lowest point of one curve, refined by a least-squares parabola
  through the ``half_width`` grid points on each side of the lowest grid point.
- ``bootstrap_curves``: seed-mean curves of bootstrap resamples of the seeds (seeds drawn
  with replacement, each entry also jittered by its evaluation error), so the spread of
  any statistic of the mean curve includes both the seed spread and the evaluation noise.
- ``optimum``: sigma and loss at the minimum of the seed-mean curve, with bootstrap errors.
- ``falls_then_rises``: how far the curve falls from sigma = sigma_0 to its minimum and
  rises from the minimum to the last sigma; the smaller of the two is the measured number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _check(sigmas, losses, stderr=None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    sigmas = np.asarray(sigmas, dtype=float)
    losses = np.asarray(losses, dtype=float)
    if losses.ndim == 1:
        losses = losses[None]
    if sigmas.ndim != 1 or losses.ndim != 2 or losses.shape[1] != sigmas.size:
        raise ValueError(
            f"losses must be (seeds, {sigmas.size}) for {sigmas.size} sigmas, got {losses.shape}"
        )
    if sigmas.size < 3:
        raise ValueError("need at least 3 sigma values")
    if np.any(np.diff(sigmas) <= 0):
        raise ValueError("sigmas must be strictly increasing")
    if stderr is not None:
        stderr = np.broadcast_to(np.asarray(stderr, dtype=float), losses.shape)
    return sigmas, losses, stderr


def parabola_minimum(x, y, half_width: int = 2) -> tuple[float, float]:
    """``(x, y)`` of the minimum of the curve ``y(x)``.

    Fits ``y = a x^2 + b x + c`` to the ``2 half_width + 1`` points around the lowest point
    (the window is shifted inwards at the ends of the grid). Returns the vertex when the fit
    is convex and its vertex lies inside the window, otherwise the lowest grid point.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if half_width < 1:
        raise ValueError("half_width must be >= 1")
    i = int(np.argmin(y))
    width = min(2 * half_width + 1, x.size)
    lo = min(max(0, i - half_width), x.size - width)
    window = slice(lo, lo + width)
    a, b, c = np.polyfit(x[window], y[window], 2)
    if a > 0:
        vertex = -b / (2 * a)
        if x[window][0] <= vertex <= x[window][-1]:
            return float(vertex), float(c - b * b / (4 * a))
    return float(x[i]), float(y[i])


def bootstrap_curves(losses, stderr=None, replicates: int = 1000, seed: int = 0) -> np.ndarray:
    """``(replicates, G)`` seed-mean curves of bootstrap resamples of the seeds.

    Each replicate draws ``S`` seeds with replacement; with ``stderr`` each drawn entry is
    also shifted by Gaussian noise of its evaluation standard error.
    """
    losses = np.asarray(losses, dtype=float)
    rng = np.random.default_rng(seed)
    index = rng.integers(0, losses.shape[0], size=(replicates, losses.shape[0]))
    drawn = losses[index]  # (R, S, G)
    if stderr is not None:
        drawn = (
            drawn + rng.standard_normal(drawn.shape) * np.broadcast_to(stderr, losses.shape)[index]
        )
    return drawn.mean(axis=1)


@dataclass(frozen=True)
class Optimum:
    """Minimum of the seed-mean loss curve with bootstrap standard deviations."""

    sigma: float
    sigma_err: float
    loss: float
    loss_err: float


def optimum(
    sigmas, losses, stderr=None, half_width: int = 2, replicates: int = 1000, seed: int = 0
) -> Optimum:
    """Sigma and loss at the (parabola-refined) minimum of the seed-mean curve; errors are
    the standard deviations of the same statistic over ``bootstrap_curves``."""
    sigmas, losses, stderr = _check(sigmas, losses, stderr)
    sigma, loss = parabola_minimum(sigmas, losses.mean(axis=0), half_width)
    boot = np.array(
        [
            parabola_minimum(sigmas, c, half_width)
            for c in bootstrap_curves(losses, stderr, replicates, seed)
        ]
    )
    return Optimum(sigma, float(boot[:, 0].std(ddof=1)), loss, float(boot[:, 1].std(ddof=1)))


@dataclass(frozen=True)
class FallRise:
    """Drop of the seed-mean curve from its first point to its minimum (``fall``) and rise
    from the minimum to its last point (``rise``), with bootstrap standard deviations.

    ``measured`` is the smaller of the two, with the error of that one; the curve *falls
    then rises* when both are positive by more than ``z`` of their errors (``holds``).
    """

    fall: float
    fall_err: float
    rise: float
    rise_err: float

    @property
    def measured(self) -> float:
        return min(self.fall, self.rise)

    @property
    def error(self) -> float:
        return self.fall_err if self.fall <= self.rise else self.rise_err

    def holds(self, z: float = 2.0) -> bool:
        return self.fall > z * self.fall_err and self.rise > z * self.rise_err


def _fall_rise(sigmas: np.ndarray, curve: np.ndarray, half_width: int) -> tuple[float, float]:
    _, low = parabola_minimum(sigmas, curve, half_width)
    return float(curve[0] - low), float(curve[-1] - low)


def falls_then_rises(
    sigmas, losses, stderr=None, half_width: int = 2, replicates: int = 1000, seed: int = 0
) -> FallRise:
    """Fall and rise of the seed-mean curve around its (parabola-refined) minimum."""
    sigmas, losses, stderr = _check(sigmas, losses, stderr)
    fall, rise = _fall_rise(sigmas, losses.mean(axis=0), half_width)
    boot = np.array(
        [
            _fall_rise(sigmas, c, half_width)
            for c in bootstrap_curves(losses, stderr, replicates, seed)
        ]
    )
    return FallRise(fall, float(boot[:, 0].std(ddof=1)), rise, float(boot[:, 1].std(ddof=1)))


def recrossing(sigmas, curve, level: float) -> float:
    """The first sigma past the curve's lowest point where it rises back above ``level``
    (linear interpolation between grid points); the last sigma when it never does."""
    sigmas, curve = np.asarray(sigmas, dtype=float), np.asarray(curve, dtype=float)
    low = int(np.argmin(curve))
    for g in range(low, len(curve) - 1):
        a, b = curve[g] - level, curve[g + 1] - level
        if a <= 0 < b:
            return float(sigmas[g] + (sigmas[g + 1] - sigmas[g]) * (-a) / (b - a))
    return float(sigmas[-1])


def seed_mean(values, stderr=None) -> tuple[np.ndarray, np.ndarray]:
    """Mean over the last axis (seeds) and its standard error.

    The error adds the spread over seeds, ``var / S``, and the mean squared evaluation error
    divided by ``S`` (slightly conservative: the spread already contains evaluation noise).
    With one seed only the evaluation error remains.
    """
    values = np.asarray(values, dtype=float)
    seeds = values.shape[-1]
    var = values.var(axis=-1, ddof=1) if seeds > 1 else np.zeros(values.shape[:-1])
    noise = (
        0.0
        if stderr is None
        else np.mean(np.square(np.broadcast_to(stderr, values.shape)), axis=-1)
    )
    return values.mean(axis=-1), np.sqrt((var + noise) / seeds)
