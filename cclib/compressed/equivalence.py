"""The residual CC model and its one-layer equivalent (paper 000, appendix A.1).

With ``W_E`` of shape ``(width, n)`` (unit-norm columns), the residual model of Braun et al.
computes ``W_E^T W_E x + W_out ReLU(W_in x)`` with ``W_in = W_in' W_E`` and
``W_out = W_E^T W_out'``, so on labels ``ReLU(x) + x`` its error equals that of the MLP
``W_out ReLU(W_in x)`` on labels ``ReLU(x) + M x`` with ``M = I - W_E^T W_E``.

- ``output_gap``: largest difference between the residual model's output and
  ``MLP(x) + (I - M) x`` for a given ``M``, in a chosen precision;
- ``marchenko_pastur_density`` / ``mixing_spectrum_theory``: the limiting spectrum of
  ``W_E^T W_E`` and the eigenvalue range and expected number of positive eigenvalues of ``M``;
- ``embedding_mixings`` / ``embedding_spectra``: ``M`` and its eigenvalues for several
  independent embeddings;
- ``paired_difference``: mean and standard error of per-seed differences.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..engine.seeding import Stream, make_generator
from .mixing import embedding_induced, random_embedding
from .models import ResidualCC


@torch.no_grad()
def output_gap(
    model: ResidualCC, mixing: torch.Tensor, x: torch.Tensor, dtype: torch.dtype = torch.float64
) -> float:
    """``max |residual(x) - (MLP(x) + x - M x)|`` over instances, samples and features.

    ``mixing: (K, n, n)`` is the ``M`` to test, ``x: (K, B, n)`` the inputs; the residual
    model, its mapped MLP (``model.equivalent_mlp()``), ``M`` and ``x`` are all cast to
    ``dtype`` before the forward passes.
    """
    residual = ResidualCC(
        model.w_e.to(dtype), model.w_in.detach().to(dtype), model.w_out.detach().to(dtype)
    )
    mlp = residual.equivalent_mlp()
    x, mixing = x.to(dtype), mixing.to(dtype)
    mapped = mlp(x) + x - torch.bmm(x, mixing.transpose(1, 2))  # (M x)_i = sum_j M_ij x_j
    return float((residual(x) - mapped).abs().max())


def marchenko_pastur_edges(ratio: float) -> tuple[float, float]:
    """Support ``[(1 - sqrt(r))^2, (1 + sqrt(r))^2]`` of the Marchenko-Pastur law, ``r <= 1``."""
    root = math.sqrt(ratio)
    return (1 - root) ** 2, (1 + root) ** 2


def marchenko_pastur_density(lam: np.ndarray, ratio: float) -> np.ndarray:
    """Density of the eigenvalues of ``W^T W`` for ``W (width, n)`` with i.i.d. entries of
    variance ``1/width`` in the limit ``n, width -> inf`` with ``n/width = ratio <= 1``."""
    lo, hi = marchenko_pastur_edges(ratio)
    lam = np.asarray(lam, dtype=float)
    inside = (lam > lo) & (lam < hi)
    out = np.zeros_like(lam)
    out[inside] = np.sqrt((hi - lam[inside]) * (lam[inside] - lo)) / (
        2 * math.pi * ratio * lam[inside]
    )
    return out


@dataclass(frozen=True)
class SpectrumTheory:
    """Limiting spectrum of ``M = I - W_E^T W_E`` for ``n`` features in width ``width``."""

    eig_min: float  # 1 - (1 + sqrt(n/width))^2
    eig_max: float  # 1 - (1 - sqrt(n/width))^2
    positive_fraction: float  # Marchenko-Pastur mass below 1
    n_positive: float  # n * positive_fraction
    offdiag_std: float  # 1/sqrt(width): the std of <u, v> for independent unit vectors


def mixing_spectrum_theory(n: int, width: int, grid: int = 200_001) -> SpectrumTheory:
    """Theoretical statistics of the embedding-induced ``M`` (``n <= width``)."""
    ratio = n / width
    lo, hi = marchenko_pastur_edges(ratio)
    # substitute lam = lo + (hi - lo) (1 - cos t) / 2 so that the square-root edges are smooth
    t = np.linspace(0.0, math.pi, grid)
    lam = lo + (hi - lo) * (1 - np.cos(t)) / 2
    weight = marchenko_pastur_density(lam, ratio) * (hi - lo) * np.sin(t) / 2
    below = np.where(lam < 1.0, weight, 0.0)
    fraction = float(np.trapezoid(below, t) / np.trapezoid(weight, t))
    return SpectrumTheory(1 - hi, 1 - lo, fraction, n * fraction, 1 / math.sqrt(width))


def embedding_mixings(n: int, width: int, seeds: Sequence[int]) -> torch.Tensor:
    """``(len(seeds), n, n)`` matrices ``M = I - W_E^T W_E`` in float64, one embedding per seed,
    each drawn exactly as the ``embedding`` mixing of ``cclib.compressed.experiments`` draws it."""
    mats = [
        embedding_induced(random_embedding(n, width, make_generator(s, Stream.MIXING)).double())
        for s in seeds
    ]
    return torch.stack(mats)


def embedding_spectra(n: int, width: int, seeds: Sequence[int]) -> torch.Tensor:
    """``(len(seeds), n)`` ascending eigenvalues of the ``embedding_mixings``."""
    return torch.linalg.eigvalsh(embedding_mixings(n, width, seeds))


def paired_difference(
    a: Sequence[float] | torch.Tensor, b: Sequence[float] | torch.Tensor
) -> tuple[float, float]:
    """Mean of ``a - b`` over paired seeds and its standard error (seed spread)."""
    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if diff.size < 2:
        return float(diff.mean()), float("nan")
    return float(diff.mean()), float(diff.std(ddof=1) / math.sqrt(diff.size))


def unpaired_difference(
    a: Sequence[float] | torch.Tensor, b: Sequence[float] | torch.Tensor
) -> tuple[float, float]:
    """Difference of the seed means of ``a`` and ``b`` and its standard error from the two
    seed spreads (Welch)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    err = (
        math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
        if min(a.size, b.size) > 1
        else float("nan")
    )
    return float(a.mean() - b.mean()), err
