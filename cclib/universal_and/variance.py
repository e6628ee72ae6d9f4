"""Readout error of a binary circuit, derived (paper 004 section 6.2).

Take one pair ``(i, j)`` and one of its four input sub-cases ``(v_i, v_j)`` in 00, 01, 10,
11. The other ``s_o = s - v_i - v_j`` active inputs add ``X = u K + w (s_o - K)`` to a
neuron's pre-activation, ``K ~ Binomial(s_o, q)`` (the neuron's other weights are drawn
independently of its class). A class-``c`` neuron (weights ``x_i, x_j``) therefore has
activation ``ReLU(b + x_i v_i + x_j v_j + X)`` with mean ``T[case, c]`` and variance
``S[case, c]``, both exact finite sums over ``K`` (:func:`class_moments`). Given the active
inputs, different neurons are independent, so the class mean of the ``N_c`` class-``c``
neurons is unbiased with variance ``S / N_c``, and the readout ``sum_c beta_c * mean_c`` has

    E = sum_c beta_c T[case, c],    Var = sum_c beta_c^2 S[case, c] E[1 / N_c],

with ``N_c ~ Binomial(d, pi_c)``, ``pi = (q^2, q(1-q), (1-q)q, (1-q)^2)``. The only
assumption is ``N_c >= 1`` for every class (a pair with an empty class is not covered; the
expectation ``E[1/N_c | N_c >= 1]`` is summed exactly). Pooled over pairs of one network
this is also the network's expected error, since its pairs are exchangeable.

The CiS readout (``beta = (1, 0, 0, 0)``) is biased by the interference; the dense readout
solves ``T beta = AND`` (:func:`readout_weights`) and is unbiased. ``gaussian=True``
replaces ``X`` by a normal of the same mean and variance (the approximation behind the
paper's scaling argument); :func:`cis_leading_order` is the leading-order CiS variance of
the paper's reconstruction, ``s (1 - p) / (p d)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import torch

from .constructions import BinaryCircuit, cis_circuit, dense_circuit

SUBCASES = ((0, 0), (0, 1), (1, 0), (1, 1))
"""Input sub-cases ``(v_i, v_j)`` of a pair, in the row order of every table here."""

AND = torch.tensor([0.0, 0.0, 0.0, 1.0], dtype=torch.float64)


def class_weights(circuit: BinaryCircuit) -> torch.Tensor:
    """``(4, 2)`` weights ``(x_i, x_j)`` of classes A, B1, B2, C."""
    u, w = circuit.u, circuit.w
    return torch.tensor([[u, u], [u, w], [w, u], [w, w]], dtype=torch.float64)


def _binomial_pmf(n: int, q: float) -> torch.Tensor:
    """``(n + 1,)`` pmf of Binomial(n, q), float64."""
    k = torch.arange(n + 1, dtype=torch.float64)
    if q >= 1.0:
        return (k == n).double()
    log_choose = math.lgamma(n + 1) - torch.lgamma(k + 1) - torch.lgamma(n - k + 1)
    return torch.exp(log_choose + k * math.log(q) + (n - k) * math.log1p(-q))


def _normal_relu_moments(mean: torch.Tensor, std: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``E ReLU(Z)`` and ``E ReLU(Z)^2`` for ``Z ~ N(mean, std^2)``."""
    if std == 0.0:
        positive = mean.clamp(min=0.0)
        return positive, positive.square()
    z = mean / std
    cdf = 0.5 * (1.0 + torch.erf(z / math.sqrt(2.0)))
    pdf = torch.exp(-0.5 * z.square()) / math.sqrt(2.0 * math.pi)
    first = mean * cdf + std * pdf
    second = (mean.square() + std**2) * cdf + mean * std * pdf
    return first, second


def class_moments(
    circuit: BinaryCircuit, s: int, gaussian: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean ``T`` and variance ``S`` (each ``(4 sub-cases, 4 classes)``, float64) of one
    neuron's activation at ``s`` active inputs (exact sums over the interference, or its
    normal approximation with ``gaussian=True``)."""
    if s < 2:
        raise ValueError(f"s must be at least 2 (a pair with both inputs on), got {s}")
    own = class_weights(circuit)
    mean = torch.zeros(4, 4, dtype=torch.float64)
    var = torch.zeros(4, 4, dtype=torch.float64)
    for row, (vi, vj) in enumerate(SUBCASES):
        others = s - vi - vj
        base = circuit.b + own[:, 0] * vi + own[:, 1] * vj  # (4,)
        if gaussian:
            centre = base + others * (circuit.q * circuit.u + (1 - circuit.q) * circuit.w)
            spread = math.sqrt(others * circuit.q * (1 - circuit.q)) * abs(circuit.u - circuit.w)
            first, second = _normal_relu_moments(centre, spread)
        else:
            k = torch.arange(others + 1, dtype=torch.float64)
            interference = circuit.u * k + circuit.w * (others - k)  # (others + 1,)
            pmf = _binomial_pmf(others, circuit.q)
            relu = (base[:, None] + interference[None, :]).clamp(min=0.0)  # (4, others + 1)
            first = relu @ pmf
            second = relu.square() @ pmf
        mean[row] = first
        var[row] = (second - first.square()).clamp(min=0.0)
    return mean, var


def readout_weights(circuit: BinaryCircuit, s: int, gaussian: bool = False) -> torch.Tensor:
    """``(4,)`` class readout weights ``beta``: ``(1, 0, 0, 0)`` for the CiS readout; for the
    dense one the solution of ``T beta = AND`` (the inverted class truth tables)."""
    if circuit.readout == "cis":
        return torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=torch.float64)
    mean, _ = class_moments(circuit, s, gaussian)
    return torch.linalg.solve(mean, AND)


def class_probabilities(q: float) -> torch.Tensor:
    """``(4,)`` probability that a neuron is in class A, B1, B2, C of a given pair."""
    return torch.tensor([q * q, q * (1 - q), (1 - q) * q, (1 - q) ** 2], dtype=torch.float64)


@lru_cache(maxsize=4096)
def inverse_count(d: int, probability: float) -> float:
    """``E[1/N | N >= 1]`` for ``N ~ Binomial(d, probability)`` (exact sum); 0 if ``N = 0``
    surely."""
    if probability <= 0.0:
        return 0.0
    pmf = _binomial_pmf(d, probability)
    n = torch.arange(1, d + 1, dtype=torch.float64)
    nonzero = float(pmf[1:].sum())
    return float((pmf[1:] / n).sum()) / nonzero if nonzero > 0 else 0.0


@dataclass(frozen=True)
class Prediction:
    """Readout moments of one circuit at ``(m, d, s)``, per sub-case 00, 01, 10, 11."""

    mean: torch.Tensor  # (4,) expected readout
    variance: torch.Tensor  # (4,) readout variance
    beta: torch.Tensor  # (4,) class readout weights

    @property
    def bias(self) -> torch.Tensor:
        return self.mean - AND

    @property
    def case_variance(self) -> float:
        """Variance averaged over the three cases (0, 1, 2 inputs on), as the loss weights them."""
        return float(balanced(self.variance))

    @property
    def case_error(self) -> float:
        """Mean squared error (variance + bias^2) averaged over the three cases."""
        return float(balanced(self.variance + self.bias.square()))


def balanced(per_subcase: torch.Tensor) -> torch.Tensor:
    """``(x_00 + (x_01 + x_10)/2 + x_11) / 3`` over the last axis (the sub-cases): each case
    (0, 1, 2 inputs on) counts equally, as in the paper's loss (section 4)."""
    x = per_subcase
    return (x[..., 0] + 0.5 * (x[..., 1] + x[..., 2]) + x[..., 3]) / 3.0


def predict(circuit: BinaryCircuit, d: int, s: int, gaussian: bool = False) -> Prediction:
    """The derived readout mean and variance of ``circuit`` with ``d`` neurons at ``s``."""
    mean, var = class_moments(circuit, s, gaussian)
    beta = readout_weights(circuit, s, gaussian)
    inverse = torch.tensor(
        [inverse_count(d, float(pi)) for pi in class_probabilities(circuit.q)],
        dtype=torch.float64,
    )
    return Prediction(mean=mean @ beta, variance=var @ (beta.square() * inverse), beta=beta)


def cis_leading_order(p: float, d: int, s: int) -> float:
    """The paper's reconstructed CiS readout variance ``s (1 - p) / (p d)`` (ReLU factor
    ``k = 1``, ``u - w = 1``)."""
    return s * (1.0 - p) / (p * d)


def predict_grid(
    ms: Sequence[int],
    ds: Sequence[int],
    s_values: Sequence[int],
    dense: tuple[float, float, float],
    gaussian: bool = False,
) -> dict[str, torch.Tensor]:
    """``{"<circuit>_mean", "<circuit>_var"}``: ``(M, D, S, 4)`` predicted readout mean and
    variance per sub-case of the CiS and dense circuits (``dense = (u, w, b)``) on a grid."""
    out = {
        key: torch.zeros(len(ms), len(ds), len(s_values), 4, dtype=torch.float64)
        for key in ("cis_mean", "cis_var", "dense_mean", "dense_var")
    }
    for a, m in enumerate(ms):
        for c, d in enumerate(ds):
            circuits = {"cis": cis_circuit(m, d), "dense": dense_circuit(*dense)}
            for e, s in enumerate(s_values):
                for name, circuit in circuits.items():
                    prediction = predict(circuit, d, s, gaussian)
                    out[f"{name}_mean"][a, c, e] = prediction.mean
                    out[f"{name}_var"][a, c, e] = prediction.variance
    return out
