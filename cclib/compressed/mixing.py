"""Mixing matrices M of the labels ``y = ReLU(x) + M x`` (paper 000, sections 2-3, appendix A.1).

Conventions: ``M`` is ``(n, n)`` and acts on a column vector, ``(M x)_i = sum_j M_ij x_j``.
The embedding ``W_E`` is ``(width, n)``: column ``i`` is feature ``i``'s unit-norm direction
in the residual stream. With these conventions the residual model of Braun et al. trained
on ``ReLU(x) + x`` is the bias-free MLP trained on ``ReLU(x) + M x`` with
``M = I - W_E^T W_E`` (derived and checked in the equivalence chapter).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

MIXING_KINDS = ("clean", "gaussian", "symmetric", "embedding")

#: Residual-stream width of Braun et al.'s model.
DEFAULT_WIDTH = 1000


def clean(n: int) -> torch.Tensor:
    """``M = 0``: labels are plain ``ReLU(x)``."""
    return torch.zeros(n, n)


def gaussian(
    n: int, sigma: float, generator: torch.Generator, symmetric: bool = False
) -> torch.Tensor:
    """Every entry (diagonal included) drawn from N(0, sigma^2).

    ``symmetric=True`` mirrors the upper triangle (diagonal included) into the lower one,
    so each entry still has standard deviation ``sigma``. For a fixed generator state the
    result is ``sigma`` times one unit matrix, so a sweep over sigma scales one matrix.
    """
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    unit = torch.randn(n, n, generator=generator, device=generator.device)
    if symmetric:
        upper = torch.triu(unit)
        unit = upper + torch.triu(unit, diagonal=1).T
    return sigma * unit.cpu()


def random_embedding(n: int, width: int, generator: torch.Generator) -> torch.Tensor:
    """``(width, n)`` Gaussian embedding whose columns are normalised to unit length."""
    w_e = torch.randn(width, n, generator=generator, device=generator.device)
    return (w_e / w_e.norm(dim=0, keepdim=True)).cpu()


def embedding_induced(w_e: torch.Tensor) -> torch.Tensor:
    """``M = I - W_E^T W_E`` for an embedding ``w_e`` of shape ``(width, n)``."""
    n = w_e.shape[-1]
    return torch.eye(n, dtype=w_e.dtype, device=w_e.device) - w_e.transpose(-1, -2) @ w_e


def mixing_matrix(
    kind: str, n: int, generator: torch.Generator, sigma: float = 0.0, width: int = DEFAULT_WIDTH
) -> torch.Tensor:
    """The ``(n, n)`` mixing matrix of ``kind`` (one of ``MIXING_KINDS``), on the CPU."""
    if kind == "clean":
        return clean(n)
    if kind in ("gaussian", "symmetric"):
        return gaussian(n, sigma, generator, symmetric=kind == "symmetric")
    if kind == "embedding":
        return embedding_induced(random_embedding(n, width, generator))
    raise ValueError(f"unknown mixing kind {kind!r}; allowed: {', '.join(MIXING_KINDS)}")


@dataclass(frozen=True)
class MixingStats:
    """Summary statistics of a mixing matrix."""

    offdiag_std: float
    diag_mean: float
    diag_std: float
    eig_min: float
    eig_max: float
    n_positive: int
    symmetric: bool


def describe(m: torch.Tensor) -> MixingStats:
    """Entry statistics and eigenvalue range of ``m`` (eigenvalues of the symmetric part
    when ``m`` is not symmetric)."""
    m = m.double()
    n = m.shape[0]
    off = m[~torch.eye(n, dtype=torch.bool)]
    diag = torch.diagonal(m)
    symmetric = bool(torch.allclose(m, m.T))
    eig = torch.linalg.eigvalsh((m + m.T) / 2)
    return MixingStats(
        offdiag_std=float(off.std()),
        diag_mean=float(diag.mean()),
        diag_std=float(diag.std()),
        eig_min=float(eig.min()),
        eig_max=float(eig.max()),
        n_positive=int((eig > 0).sum()),
        symmetric=symmetric,
    )
