"""Reference solutions of Universal-AND and their case-balanced losses (paper 004 sections
3 and 5).

With exactly ``s`` inputs on, every sample has the same number of pairs in each case
(``C(m-s, 2)`` neither, ``s (m - s)`` one, ``C(s, 2)`` both on), so the case-balanced loss of
a sample is exactly the mean over the three cases of the squared errors of its pairs,
``(e_0 + e_1 + e_2) / 3``. A readout that depends on a pair only through its case count
``v_i + v_j`` therefore has a loss fixed by three numbers:

- the zero readout errs by 1 on "both on" pairs only: loss ``1/3``;
- the best *additive* readout ``y_ij = alpha (v_i + v_j) + beta`` (what a compute layer
  that passes every input through linearly allows, given ``d >= m`` neurons) minimises
  ``((2 alpha + beta - 1)^2 + (alpha + beta)^2 + beta^2) / 3`` at ``alpha = 1/2``,
  ``beta = -1/6``, with loss ``1/18``; it reads every AND correctly at threshold 0.5
  (outputs ``-1/6, 1/3, 5/6``) but no better than that loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .models import UniversalAND
from .tasks import pair_indices

ZERO_LOSS = 1.0 / 3.0


@dataclass(frozen=True)
class AdditiveReadout:
    """The best readout linear in ``v_i + v_j``: ``alpha``, ``beta`` and its loss."""

    alpha: float
    beta: float
    loss: float


def additive_readout() -> AdditiveReadout:
    """Least squares over the three cases (``v_i + v_j = 2, 1, 0`` with targets 1, 0, 0),
    each weighted equally, solved numerically (the closed form is ``1/2, -1/6, 1/18``)."""
    design = torch.tensor([[2.0, 1.0], [1.0, 1.0], [0.0, 1.0]], dtype=torch.float64)
    target = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    solution = torch.linalg.lstsq(design, target[:, None]).solution[:, 0]
    loss = float((design @ solution - target).square().mean())
    return AdditiveReadout(float(solution[0]), float(solution[1]), loss)


def additive_model(m: int) -> UniversalAND:
    """One instance with ``d = m`` neurons that copy the inputs (``W = I``, ``b = 0``) and
    the additive readout: ``y_ij = (v_i + v_j) / 2 - 1/6``."""
    readout = additive_readout()
    pairs = pair_indices(m)
    r = torch.zeros(1, len(pairs), m)
    rows = torch.arange(len(pairs))
    r[0, rows, pairs[:, 0]] = readout.alpha
    r[0, rows, pairs[:, 1]] = readout.alpha
    c = torch.full((1, len(pairs)), readout.beta)
    return UniversalAND(torch.eye(m)[None], torch.zeros(1, m), r, c)
