"""Hand-coded Universal-AND circuits (paper 004 section 6.2): the sparse CiS construction of
Hänni et al. (2024) and the dense binary weighted circuit, as ``UniversalAND`` models.

Both belong to one family, a *binary circuit*: every input weight is ``u`` with probability
``q`` and ``w`` otherwise (independently), every neuron has bias ``b``. For a pair
``(i, j)`` a neuron falls in class A ``(u, u)``, B1 ``(u, w)``, B2 ``(w, u)`` or C ``(w, w)``
by its two weights; the readout of the pair is ``sum_c beta_c * (mean activation of the
pair's class-c neurons)``, i.e. neuron ``n`` gets readout weight ``beta_c / N_c(i, j)``.

- CiS: ``u = 1, w = 0, b = -1, q = p = log(m)^2 / sqrt(d)`` (clipped to 1), ``beta = (1, 0,
  0, 0)``: the mean of the neurons connected to both inputs.
- Dense: ``q = 1/2`` and ``beta`` from inverting the class truth tables
  (``cclib.universal_and.variance.readout_weights``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..engine.seeding import Stream, make_generator
from .models import UniversalAND
from .tasks import pair_indices

CLASSES = ("A", "B1", "B2", "C")
"""Neuron classes of a pair ``(i, j)`` by their weights: (u, u), (u, w), (w, u), (w, w)."""

CONSTRUCTION_PART = 7
"""Part of the INIT stream from which a construction's weights are drawn."""


@dataclass(frozen=True)
class BinaryCircuit:
    """Weights ``u`` (probability ``q``) or ``w``, bias ``b``; ``readout``: ``"cis"`` (class-A
    mean) or ``"dense"`` (inverted class truth tables)."""

    u: float
    w: float
    b: float
    q: float
    readout: str

    def __post_init__(self) -> None:
        if not 0.0 < self.q <= 1.0:
            raise ValueError(f"q must be in (0, 1], got {self.q}")
        if self.readout not in ("cis", "dense"):
            raise ValueError(f"readout must be 'cis' or 'dense', got {self.readout!r}")


def cis_probability(m: int, d: int) -> float:
    """Hänni et al.'s connection probability ``log(m)^2 / sqrt(d)``, clipped to ``(0, 1]``."""
    return min(1.0, math.log(m) ** 2 / math.sqrt(d))


def cis_circuit(m: int, d: int) -> BinaryCircuit:
    """The CiS construction at ``(m, d)``: 0/1 weights with ``p = log(m)^2/sqrt(d)``, bias -1."""
    return BinaryCircuit(u=1.0, w=0.0, b=-1.0, q=cis_probability(m, d), readout="cis")


def dense_circuit(u: float, w: float, b: float, q: float = 0.5) -> BinaryCircuit:
    """The dense binary weighted circuit: weights ``u`` or ``w`` at about 1/2 each, bias ``b``."""
    return BinaryCircuit(u=u, w=w, b=b, q=q, readout="dense")


def draw_is_u(seeds: Sequence[int], m: int, d: int, q: float) -> torch.Tensor:
    """``(K, d, m)`` bool: which input weights take the value ``u`` (probability ``q``), one
    draw per seed from its INIT stream (same seed, same draw whatever ``s``)."""
    draws = []
    for seed in seeds:
        generator = make_generator(seed, Stream.INIT, part=CONSTRUCTION_PART)
        draws.append(torch.rand((d, m), generator=generator) < q)
    return torch.stack(draws)


def weights(circuit: BinaryCircuit, is_u: torch.Tensor) -> torch.Tensor:
    """Input weights ``(K, d, m)`` from the ``u``/``w`` assignment."""
    u = torch.tensor(circuit.u, dtype=torch.float32)
    return torch.where(is_u, u, torch.tensor(circuit.w, dtype=torch.float32))


def neuron_classes(is_u: torch.Tensor, i: torch.Tensor, j: torch.Tensor) -> torch.Tensor:
    """Class index (0 = A, 1 = B1, 2 = B2, 3 = C) of every neuron for pairs ``(i, j)``.

    ``is_u: (K, d, m)``, ``i, j: (K, Q)`` -> ``(K, Q, d)``."""
    transposed = is_u.transpose(1, 2)  # (K, m, d)
    first = torch.gather(transposed, 1, i[..., None].expand(-1, -1, is_u.shape[1]))
    second = torch.gather(transposed, 1, j[..., None].expand(-1, -1, is_u.shape[1]))
    return 2 * (~first).long() + (~second).long()


def pair_readout(
    classes: torch.Tensor, activations: torch.Tensor, beta: torch.Tensor
) -> torch.Tensor:
    """Readout ``sum_c beta_c * mean_{n in class c} a_n`` of each pair (an empty class adds 0).

    ``classes: (K, Q, d)`` class indices, ``activations: (K, Q, d)`` the activations each pair
    reads, ``beta: (K, 4)`` -> ``(K, Q)``."""
    one_hot = torch.nn.functional.one_hot(classes, 4).to(activations.dtype)  # (K, Q, d, 4)
    sums = torch.einsum("kqdc,kqd->kqc", one_hot, activations)
    counts = one_hot.sum(dim=2)
    return (beta[:, None, :] * sums / counts.clamp(min=1.0)).sum(dim=2)


def readout_matrix(is_u: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    """``(K, P, d)`` readout of every unordered pair: neuron weight ``beta_c / N_c(i, j)``."""
    k, d, m = is_u.shape
    pairs = pair_indices(m)
    i = pairs[:, 0].expand(k, -1)
    j = pairs[:, 1].expand(k, -1)
    one_hot = torch.nn.functional.one_hot(neuron_classes(is_u, i, j), 4).float()
    counts = one_hot.sum(dim=2, keepdim=True).clamp(min=1.0)  # (K, P, 1, 4)
    return (one_hot * beta[:, None, None, :].float() / counts).sum(dim=3)


def build_model(circuit: BinaryCircuit, is_u: torch.Tensor, beta: torch.Tensor) -> UniversalAND:
    """The circuit as a ``UniversalAND`` of the trained model's shape (readout bias 0).

    ``beta: (K, 4)`` class readout weights (they depend on ``s``). The readout matrix has
    ``m (m-1)/2 x d`` entries per instance: for small sizes (tests, figures); the chapter's
    sweeps use :mod:`cclib.universal_and.variance_simulation`, which reads the same outputs
    without building it."""
    k, d, m = is_u.shape
    r = readout_matrix(is_u, beta)
    return UniversalAND(
        weights(circuit, is_u), torch.full((k, d), circuit.b), r, torch.zeros(k, r.shape[1])
    )
