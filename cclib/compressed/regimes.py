"""Sparse and dense regimes of the trained MLP (paper 000, appendix C figures 7-9, appendix D).

- **Naive + offset** (appendix D, figure 10). The naive model copies ``ReLU(x_r)`` for the
  ``d`` represented features ``r``; the offset model also sets every ``W_out`` entry of the
  ``n - d`` unrepresented outputs to one value ``c``, so each of those outputs is
  ``c S`` with ``S = sum_r ReLU(x_r)``, a stand-in for a bias. On clean labels, with
  ``E ReLU(x) = p/4``, ``E ReLU(x)^2 = p/6`` and independent features,

      L/p = (n - d)/n * [1/6 - c d p/8 + c^2 d (1/6 - p/16 + d p/16)],

  minimised by ``c* = p / (8/3 + (d - 1) p)``. ``offset_loss_per_feature`` and
  ``optimal_offset`` give these; ``simulated_offset`` estimates ``c*`` from samples (the
  least-squares coefficient of ``ReLU(x_i)`` on ``S``) as an independent check.
- **Weights by feature and neuron** (figure 9): ``contributions`` ``W_out[i, j] W_in[j, i]``,
  the share of each feature's positive weight held by its largest neuron, and the count of
  features that one neuron represents alone.
- **One-hot response** (figure 8) and the **crossover** of two loss-vs-p curves (figure 7).
- **The chapter's sweeps**: figure 7's training probabilities plus an exactly-one-active
  model (``CCInstance.active = 1``) in one sweep, and the clean models of figure 10.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..engine.sampling import sparse_uniform
from ..engine.seeding import Stream, make_generator
from .experiments import MLPSweep, grid_sweep
from .grid import parse_probabilities
from .models import MLP

# --------------------------------------------------------------------------- naive + offset


def offset_mlp(n: int, d: int, offsets: Sequence[float]) -> MLP:
    """One naive + offset MLP per entry of ``offsets``: neuron ``j`` copies feature ``j < d``
    and every output ``i >= d`` reads ``offsets[k]`` from each neuron."""
    k = len(offsets)
    w_in = torch.zeros(k, d, n)
    w_out = torch.zeros(k, n, d)
    idx = torch.arange(d)
    w_in[:, idx, idx] = 1.0
    w_out[:, idx, idx] = 1.0
    w_out[:, d:, :] = torch.tensor([float(c) for c in offsets])[:, None, None]
    return MLP(w_in, w_out)


def offset_loss_per_feature(offset, p, n: int = 100, d: int = 50) -> np.ndarray:
    """Closed-form ``L/p`` of the naive + offset model on clean labels (broadcasts)."""
    c, p = np.asarray(offset, dtype=float), np.asarray(p, dtype=float)
    second = d * (1 / 6 - p / 16) + d * d * p / 16  # E[S^2] / p
    return (n - d) / n * (1 / 6 - c * d * p / 8 + c * c * second)


def optimal_offset(p, d: int = 50) -> np.ndarray:
    """The offset that minimises :func:`offset_loss_per_feature`: ``p / (8/3 + (d-1) p)``."""
    p = np.asarray(p, dtype=float)
    return p / (8 / 3 + (d - 1) * p)


def simulated_offset(p: float, n: int, d: int, samples: int, seed: int = 0) -> tuple[float, float]:
    """Monte Carlo ``c*`` (least squares of ``ReLU(x_i)``, ``i`` unrepresented, on ``S``) and
    its delta-method standard error; ``p = 1`` and ``p < 1`` use the same sparse sampler."""
    generator = make_generator(seed, Stream.EVAL, part=7)
    x = sparse_uniform(samples, n, p, generator, dtype=torch.float64)
    s = torch.relu(x[:, :d]).sum(dim=1)  # (B,)
    target = torch.relu(x[:, d:]).mean(dim=1)  # (B,) mean over unrepresented outputs
    a, b = (target * s).numpy(), (s * s).numpy()
    ratio = a.mean() / b.mean()
    residual = (a - ratio * b) / b.mean()
    return float(ratio), float(residual.std(ddof=1) / np.sqrt(samples))


def grid_optimum(offsets: np.ndarray, losses: np.ndarray) -> float:
    """Vertex of a parabola in ``log(offset)`` through the lowest grid point and its two
    neighbours (the grid end itself when the minimum lies there)."""
    i = int(np.argmin(losses))
    if i == 0 or i == len(offsets) - 1:
        return float(offsets[i])
    t = np.log(offsets[i - 1 : i + 2])
    a, b, _ = np.polyfit(t, losses[i - 1 : i + 2], 2)
    return float(np.exp(-b / (2 * a))) if a > 0 else float(offsets[i])


# --------------------------------------------------------------------------- weights (fig. 9)


def contributions(model: MLP) -> torch.Tensor:
    """``(K, n, d)``: ``W_out[i, j] * W_in[j, i]``, neuron ``j``'s weight on feature ``i``'s
    own path (the diagonal of ``W_out W_in`` split by neuron)."""
    w_in, w_out = model.w_in.detach(), model.w_out.detach()
    return w_out * w_in.transpose(1, 2)


def largest_share(contrib: torch.Tensor) -> torch.Tensor:
    """``(K, n)``: each feature's largest neuron contribution over the sum of its positive
    contributions (0 for a feature with none)."""
    positive = contrib.clamp_min(0)
    total = positive.sum(dim=-1)
    return torch.where(total > 0, positive.max(dim=-1).values / total.clamp_min(1e-30), 0.0)


def dominant_features(
    contrib: torch.Tensor, share: float = 0.9, strength: float = 0.5
) -> torch.Tensor:
    """``(K,)`` number of features represented by one neuron: the largest neuron holds at
    least ``share`` of the feature's positive weight, which sums to at least ``strength``."""
    total = contrib.clamp_min(0).sum(dim=-1)
    return ((largest_share(contrib) >= share) & (total >= strength)).sum(dim=-1)


def stacked_order(contrib: torch.Tensor) -> torch.Tensor:
    """``(n,)`` feature order for a stacked-bar plot of one instance ``(n, d)``: by the
    largest single-neuron term, descending (features one neuron carries come first)."""
    return torch.argsort(contrib.max(dim=-1).values, descending=True, stable=True)


# --------------------------------------------------------------------------- response (fig. 8)


@torch.no_grad()
def one_hot_response(model: MLP, values: torch.Tensor) -> torch.Tensor:
    """``(K, T, n)``: output ``i`` for the input ``t e_i``, for each ``t`` in ``values (T,)``."""
    n = model.w_in.shape[2]
    eye = torch.eye(n, dtype=model.w_in.dtype)
    x = (values[:, None, None] * eye).reshape(-1, n)  # (T * n, n), row t * n + i = t e_i
    out = model(x.expand(model.instances, *x.shape))  # (K, T * n, n)
    out = out.reshape(model.instances, len(values), n, n)
    return torch.diagonal(out, dim1=2, dim2=3)


# --------------------------------------------------------------------------- crossover (fig. 7)


def crossover(p: np.ndarray, first: np.ndarray, second: np.ndarray) -> float:
    """The ``p`` (log-linear interpolation) where ``first - second`` first turns from
    negative to positive along ``p``; nan when it never does."""
    diff = np.asarray(first, dtype=float) - np.asarray(second, dtype=float)
    turns = np.nonzero((diff[:-1] < 0) & (diff[1:] >= 0))[0]
    if len(turns) == 0:
        return float("nan")
    i = int(turns[0])
    t = diff[i] / (diff[i] - diff[i + 1])
    return float(np.exp(np.log(p[i]) + t * (np.log(p[i + 1]) - np.log(p[i]))))


# --------------------------------------------------------------------------- the chapter's sweeps


def train_ps(cfg) -> list[float]:
    """The training p of figure 7 (``cfg.train_ps``; the paper's grid, appendix C, under
    the paper profile) with the chapter's sparse ``p`` and ``dense_p``, sorted."""
    return sorted({*parse_probabilities(cfg.train_ps), cfg.p, cfg.dense_p})


def clean_ps(cfg) -> list[float]:
    """The training p of the clean models of figure 10 (``cfg.clean_ps``; under the paper
    profile the paper's four plus two more in the dense regime)."""
    return list(parse_probabilities(cfg.clean_ps))


def figure7_sweep(cfg) -> MLPSweep:
    """Every training ``p`` of :func:`train_ps` and, last, the exactly-one-active setting
    (``CCInstance.active = 1``, nominal ``p = 1/n``, which also sets its steps under the
    non-empty accounting: those of the ``p = 1/n`` model), ``cfg.seeds`` instances each
    (seed ``s`` draws mixing matrix ``s``), in one sweep."""
    mixing = {"mixing": cfg.mixing}
    if cfg.mixing in ("gaussian", "symmetric"):
        mixing["sigma"] = cfg.sigma
    settings = [dict(p=p, **mixing) for p in train_ps(cfg)]
    settings.append(dict(p=1.0 / cfg.n_features, active=1, **mixing))
    return grid_sweep(cfg, settings, cfg.seeds, vary_matrix=True)


def clean_sweep(cfg) -> MLPSweep:
    """Clean-label models at every p of :func:`clean_ps` (figure 10), ``cfg.seeds`` each."""
    return grid_sweep(cfg, [dict(p=p) for p in clean_ps(cfg)], cfg.seeds, vary_matrix=False)


# --------------------------------------------------------------------------- analysis helpers


def by_setting(values, seeds: int) -> np.ndarray:
    """Instance-major ``(K, ...)`` values as ``(settings, seeds, ...)`` (``grid_sweep`` order)."""
    values = np.asarray(values.numpy() if isinstance(values, torch.Tensor) else values)
    return values.reshape(-1, seeds, *values.shape[1:])


def at_own_p(strata, ps: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Loss per feature of instance ``k`` at its own ``ps[k]``: mean and error ``(K,)``."""
    estimate = strata.loss_per_feature(list(ps))  # (K, K)
    index = np.arange(len(ps))
    return estimate.mean.numpy()[index, index], estimate.stderr.numpy()[index, index]


def seed_crossovers(p: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """:func:`crossover` of ``first[s]`` and ``second[s]`` for every seed ``s``."""
    return np.array([crossover(p, a, b) for a, b in zip(first, second, strict=True)])


def effective_offset(model: MLP, share: float = 0.9, strength: float = 0.5) -> np.ndarray:
    """``(K,)`` mean offset a trained model applies: the mean of ``W_out[i, j] W_in[j, r_j]``
    over features ``i`` that no neuron represents alone and neurons ``j`` that represent one
    feature ``r_j`` alone (nan when either set is empty)."""
    contrib = contributions(model)  # (K, n, d)
    total = contrib.clamp_min(0).sum(dim=-1)
    alone = (largest_share(contrib) >= share) & (total >= strength)  # (K, n)
    out = []
    for k in range(model.instances):
        features = torch.nonzero(alone[k]).flatten()
        neurons = contrib[k, features].argmax(dim=-1)  # neuron of each represented feature
        others = torch.nonzero(~alone[k]).flatten()
        if len(features) == 0 or len(others) == 0:
            out.append(float("nan"))
            continue
        gain = model.w_in.detach()[k, neurons, features]  # (F,)
        weights = model.w_out.detach()[k][others][:, neurons]  # (O, F)
        out.append(float((weights * gain).mean()))
    return np.array(out)


def grid_optima(offsets: np.ndarray, losses: np.ndarray) -> np.ndarray:
    """:func:`grid_optimum` of every column of ``losses (offsets, P)``."""
    return np.array([grid_optimum(offsets, column) for column in np.asarray(losses).T])


def simulated_offsets(ps: Sequence[float], n: int, d: int, samples: int) -> np.ndarray:
    """``(P, 2)``: :func:`simulated_offset` (estimate, standard error) at every ``p``."""
    return np.array([simulated_offset(p, n, d, samples) for p in ps])


def ideal_one_hot(values: torch.Tensor, mixing: torch.Tensor) -> torch.Tensor:
    """``(K, T, n)``: the labels ``ReLU(t) + M_ii t`` of the inputs ``t e_i``."""
    diagonal = torch.diagonal(mixing, dim1=1, dim2=2)  # (K, n)
    return torch.relu(values)[None, :, None] + values[None, :, None] * diagonal[:, None, :]


def print_table(rows: Sequence, **columns) -> None:
    """Print one line per entry of ``rows`` with the matching entry of each column."""
    names = list(columns)
    print(f"{'':14s}" + "".join(f"{name:>18s}" for name in names))
    for i, row in enumerate(rows):
        cells = "".join(f"{float(np.asarray(columns[name])[i]):18.4g}" for name in names)
        print(f"{str(row):14s}{cells}")


def offset_excess(
    strata, ps: Sequence[float], offsets: Sequence[float], seeds: int, dense_from: float
) -> tuple[float, float]:
    """How much worse the naive + offset model is than the trained ones (figure 10 right):
    for each training ``p >= dense_from`` of ``ps`` (settings of a ``grid_sweep`` with
    ``seeds`` seeds each), ``(L_hand - L_trained) / L_hand`` at that ``p``, the hand-coded
    model using ``offsets[j]``; returns the seed mean and error at the ``p`` where it is
    largest."""
    from .analysis import seed_mean

    estimate = strata.loss_per_feature(list(ps))  # (K, P)
    mean = by_setting(estimate.mean, seeds)  # (P settings, seeds, P evaluations)
    err = by_setting(estimate.stderr, seeds)
    worst = (-np.inf, 0.0)
    for j, q in enumerate(ps):
        if q < dense_from:
            continue
        hand = float(offset_loss_per_feature(offsets[j], q))
        excess = seed_mean((hand - mean[j, :, j]) / hand, err[j, :, j] / hand)
        if excess[0] > worst[0]:
            worst = (float(excess[0]), float(excess[1]))
    if not np.isfinite(worst[0]):
        raise ValueError(f"no training p at or above {dense_from} in {list(ps)}")
    return worst
