"""Hand-coded baselines and their closed-form losses (paper 000, appendix A.2).

The naive model uses its ``d`` neurons to copy ``ReLU(x_i)`` exactly for ``d`` chosen
features and outputs 0 for the rest. For labels ``ReLU(x) + M x`` with sparse inputs
(active with probability p, values U[-1, 1]) its loss per feature is exactly

    L / p = (1/n) [ (n - d)/6 + ||M||_F^2 / 3 + (1/3) sum_{i not represented} M_ii ]

for every p: cross terms between different features vanish because active values have
mean zero; E[x_j^2] = p/3, E[ReLU(x_i)^2] = p/6 and E[ReLU(x_i) x_i] = p/6. With M = 0 and
d = n/2 this is 1/12. The derivation is in the naive-baseline chapter.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .models import MLP


def naive_features(mixing: torch.Tensor | None, n: int, d: int) -> list[int]:
    """The ``d`` features the naive model represents: those with the largest ``M_ii``
    (leaving out the most negative diagonal entries lowers the loss); the first ``d``
    when ``M`` is absent or has a constant diagonal."""
    if mixing is None:
        return list(range(d))
    order = torch.argsort(torch.diagonal(mixing.double()), descending=True, stable=True)
    return sorted(order[:d].tolist())


def naive_mlp(n: int, d: int, represented: Sequence[int] | None = None, instances: int = 1) -> MLP:
    """``instances`` copies of the naive MLP; neuron ``j`` reads and writes ``represented[j]``."""
    represented = list(range(d)) if represented is None else list(represented)
    if len(represented) > d:
        raise ValueError(f"cannot represent {len(represented)} features with {d} neurons")
    w_in = torch.zeros(instances, d, n)
    w_out = torch.zeros(instances, n, d)
    for neuron, feature in enumerate(represented):
        w_in[:, neuron, feature] = 1.0
        w_out[:, feature, neuron] = 1.0
    return MLP(w_in, w_out)


def naive_loss_per_feature(
    mixing: torch.Tensor | None, n: int, represented: Sequence[int]
) -> float:
    """Closed-form ``L/p`` of the naive model on labels ``ReLU(x) + M x`` (any p)."""
    missing = sorted(set(range(n)) - set(represented))
    value = len(missing) / 6.0
    if mixing is not None:
        mixing = mixing.double()
        value += (
            float(mixing.square().sum()) / 3.0 + float(torch.diagonal(mixing)[missing].sum()) / 3.0
        )
    return value / n
