"""Loss per feature ``L / p`` with standard errors (paper 000, figures 2 and 7).

``L`` is the MSE averaged over samples and features, all-zero samples included, at input
feature probability ``p``. Conditioned on the number ``k`` of active features, sparse
inputs are exactly-``k`` inputs, so

    L(p) = sum_k Binom(k; n, p) * mu_k,      mu_k = E[per-sample loss | k active].

``strata_losses`` estimates each ``mu_k`` once by Monte Carlo (the same inputs for every
instance, so comparisons between instances share their noise); ``loss_per_feature`` then
gives ``L(p)/p`` for any ``p`` with standard error
``sqrt(sum_k Binom(k; n, p)^2 var_k / N) / p``. ``monte_carlo_loss_per_feature`` is the plain,
independent estimator used to cross-check it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ..engine.device import resolve_device
from ..engine.sampling import exactly_k_uniform, sparse_uniform
from ..engine.seeding import Stream, make_generator


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo estimate and its standard error (same shapes)."""

    mean: torch.Tensor
    stderr: torch.Tensor

    def __getitem__(self, index) -> Estimate:
        return Estimate(self.mean[index], self.stderr[index])


def binomial_pmf(n: int, p: torch.Tensor) -> torch.Tensor:
    """``(len(p), n + 1)`` probabilities of ``k = 0..n`` successes (float64)."""
    p = torch.as_tensor(p, dtype=torch.float64).reshape(-1, 1)
    k = torch.arange(n + 1, dtype=torch.float64)
    log_choose = (
        torch.lgamma(torch.tensor(n + 1.0, dtype=torch.float64))
        - torch.lgamma(k + 1)
        - torch.lgamma(n - k + 1)
    )
    log_p = torch.where(k > 0, k * torch.log(p.clamp_min(1e-300)), torch.zeros(()))
    log_q = torch.where(n - k > 0, (n - k) * torch.log1p(-p.clamp_max(1 - 1e-16)), torch.zeros(()))
    pmf = torch.exp(log_choose + log_p + log_q)
    return torch.where(p >= 1.0, (k == n).double(), pmf)


def relevant_counts(n: int, ps: Sequence[float], tolerance: float = 1e-12) -> list[int]:
    """Numbers of active features whose probability exceeds ``tolerance`` at some ``p``."""
    mass = binomial_pmf(n, torch.tensor(list(ps), dtype=torch.float64)).max(dim=0).values
    return [k for k in range(n + 1) if mass[k] > tolerance]


@dataclass(frozen=True)
class StrataLosses:
    """Conditional mean and variance of the per-sample loss given ``k`` active features."""

    counts: list[int]
    mean: torch.Tensor  # (K, S) float64
    var: torch.Tensor  # (K, S) float64
    samples: int
    n_features: int

    def loss_per_feature(self, p: float | Sequence[float]) -> Estimate:
        """``L(p)/p`` with standard error: shape ``(K,)`` for one ``p``, ``(K, P)`` for many.

        Probability mass on counts that were not simulated is treated as zero loss; choose
        ``counts`` with ``relevant_counts`` so that this mass is negligible.
        """
        scalar = isinstance(p, (int, float))
        ps = torch.tensor([p] if scalar else list(p), dtype=torch.float64)
        weights = binomial_pmf(self.n_features, ps)[:, self.counts]  # (P, S)
        mean = self.mean @ weights.T / ps
        stderr = torch.sqrt(self.var @ weights.square().T / self.samples) / ps
        return Estimate(mean[:, 0], stderr[:, 0]) if scalar else Estimate(mean, stderr)


def _loss_moments(
    model: nn.Module,
    task: nn.Module,
    draw: Callable[[int], torch.Tensor],
    samples: int,
    chunk: int,
    baseline: nn.Module | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-instance mean and unbiased variance ``(K,)`` of the per-sample loss (minus the
    baseline's, if given) over ``samples`` inputs that ``draw(size)`` returns in chunks;
    every instance sees the same inputs."""
    instances = task.mixing.shape[0]
    total = torch.zeros(instances, dtype=torch.float64, device=task.mixing.device)
    total_sq = torch.zeros_like(total)
    for start in range(0, samples, chunk):
        size = min(chunk, samples - start)
        x = draw(size)
        x = x.expand(instances, *x.shape)
        losses = task.sample_losses(model(x), x).double()
        if baseline is not None:
            losses = losses - task.sample_losses(baseline(x), x).double()
        total += losses.sum(dim=1)
        total_sq += losses.square().sum(dim=1)
    mean = total / samples
    var = (total_sq / samples - mean.square()).clamp_min(0) * samples / max(samples - 1, 1)
    return mean, var


@torch.no_grad()
def strata_losses(
    model: nn.Module,
    task: nn.Module,
    counts: Sequence[int],
    samples: int,
    seed: int = 0,
    device: torch.device | str | None = None,
    chunk: int = 8192,
    baseline: nn.Module | None = None,
) -> StrataLosses:
    """Monte Carlo estimates of the per-sample loss given ``k`` active features, for each ``k``.

    With a ``baseline`` model the estimates are of the paired difference
    ``loss(model) - loss(baseline)`` on the same inputs, whose standard error is usually
    far smaller than that of either loss.
    """
    device = resolve_device(device)
    model.to(device)
    task.to(device)
    if baseline is not None:
        baseline.to(device)
    n = task.n_features
    generator = make_generator(seed, Stream.EVAL, device)
    means, variances = [], []
    for k in counts:
        mean, var = _loss_moments(
            model,
            task,
            lambda size, k=k: exactly_k_uniform(size, n, k, generator),
            samples,
            chunk,
            baseline,
        )
        means.append(mean)
        variances.append(var)
    return StrataLosses(
        counts=list(counts),
        mean=torch.stack(means, dim=1).cpu(),
        var=torch.stack(variances, dim=1).cpu(),
        samples=samples,
        n_features=n,
    )


def loss_per_feature(
    model: nn.Module,
    task: nn.Module,
    p: float | Sequence[float],
    samples: int,
    seed: int = 0,
    device: torch.device | str | None = None,
    baseline: nn.Module | None = None,
) -> Estimate:
    """``L(p)/p`` per instance (stratified estimator), for one ``p`` or a grid of them;
    with a ``baseline``, the paired difference ``L(p)/p - L_baseline(p)/p``."""
    grid = [p] if isinstance(p, (int, float)) else list(p)
    counts = relevant_counts(task.n_features, grid)
    return strata_losses(
        model, task, counts, samples, seed, device, baseline=baseline
    ).loss_per_feature(p)


@torch.no_grad()
def monte_carlo_loss_per_feature(
    model: nn.Module,
    task: nn.Module,
    p: float,
    samples: int,
    seed: int = 0,
    device: torch.device | str | None = None,
    chunk: int = 65536,
) -> Estimate:
    """Plain Monte Carlo ``L(p)/p`` per instance from i.i.d. sparse inputs (cross-check)."""
    device = resolve_device(device)
    model.to(device)
    task.to(device)
    n = task.n_features
    generator = make_generator(seed, Stream.EVAL, device, part=1)
    mean, var = _loss_moments(
        model, task, lambda size: sparse_uniform(size, n, p, generator), samples, chunk
    )
    return Estimate((mean / p).cpu(), (var / samples).sqrt().cpu() / p)
