"""Semi-NMF baseline: hand-coded MLP weights from a factorisation of ``I + M`` (paper 000,
section 3 "potential mechanism", figure 6).

**Which matrix, in which orientation.** For the bias-free MLP ``y_hat = W_out ReLU(W_in x)``
and one active feature ``x = u e_j`` (``u ~ U[-1, 1]``), a non-negative ``W_in`` makes the
ReLU transparent for ``u > 0``: ``ReLU(u W_in e_j) = u W_in e_j``, so
``y_hat = u W_out W_in e_j`` against the label ``u (I + M) e_j``; for ``u < 0`` every neuron
is off, ``y_hat = 0`` against ``u M e_j``. With ``E[u^2; u > 0] = E[u^2; u < 0] = 1/6`` the
loss per feature in the sparse limit is

    L / p -> (1 / 6n) (||I + M - W_out W_in||_F^2 + ||M||_F^2)        (W_in >= 0),

so the best such weights solve the semi-NMF ``I + M ~ F G^T`` with ``G >= 0``, and
``W_out = F`` (n x d, any sign), ``W_in = G^T`` (d x n, non-negative). The factor that is
constrained is the one the ReLU sees. ``sparse_limit_loss`` is the exact sparse-limit loss
of any MLP (no sign condition), used to check the Monte Carlo evaluation.

**Algorithms** (all batched over a leading instance dimension K, float64):

- ``multiplicative``: Ding, Li and Jordan (2010): ``F = X G (G^T G)^{-1}`` and
  ``G <- G * sqrt(((X^T F)^+ + G (F^T F)^-) / ((X^T F)^- + G (F^T F)^+))`` with
  ``A^+ = (|A| + A)/2``, ``A^- = (|A| - A)/2``; the objective never increases. Zeros of G
  stay zero, so the sparsity pattern of the start is kept.
- ``als``: alternating least squares, ``F`` exact and ``G`` column by column, each column
  the exact projected least-squares solution given the others (hierarchical ALS, Cichocki
  et al. 2007); every block update is an exact minimisation, so the objective never
  increases, and it can set entries to exactly zero.

**Initialisations** of ``G`` (``initial_factor``): ``random`` (dense, uniform in [0, 1)),
``nmf`` (the right factor of a rank-d NMF of the positive part ``max(X, 0)``, computed by
hierarchical ALS from a random start) and ``svd`` (the positive part of each of the top d
right singular vectors, sign chosen to keep the larger part, scaled by the root of its
singular value, as in NNDSVD of Boutsidis and Gallopoulos 2008).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

from ..engine.seeding import Stream, make_generator
from . import mechanism
from .evaluation import Estimate, strata_losses
from .experiments import MLPSweep, grid_sweep, mixing_conditions_sweep
from .models import MLP
from .tasks import ReluMixingTask

METHODS = ("multiplicative", "als")
INITS = ("random", "nmf", "svd")
_TINY = 1e-12


def target(mixing: torch.Tensor) -> torch.Tensor:
    """``I + M`` for ``mixing (K, n, n)``: the matrix ``W_out W_in`` should approximate."""
    n = mixing.shape[-1]
    return torch.eye(n, dtype=torch.float64) + mixing.double()


def objective(x: torch.Tensor, f: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """``||X - F G^T||_F^2`` per instance ``(K,)``; ``x (K, n, m)``, ``f (K, n, d)``,
    ``g (K, m, d)``."""
    return (x - f @ g.transpose(1, 2)).square().sum(dim=(1, 2))


def solve_f(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Least-squares ``F = X G (G^T G)^{-1}`` (a tiny ridge keeps dead columns at zero)."""
    gram = g.transpose(1, 2) @ g  # (K, d, d)
    ridge = _TINY * (1.0 + gram.diagonal(dim1=1, dim2=2).mean(-1))[:, None, None]
    eye = torch.eye(gram.shape[-1], dtype=gram.dtype)
    return torch.linalg.solve(gram + ridge * eye, (x @ g).transpose(1, 2)).transpose(1, 2)


def _pos(a: torch.Tensor) -> torch.Tensor:
    return (a.abs() + a) / 2


def _neg(a: torch.Tensor) -> torch.Tensor:
    return (a.abs() - a) / 2


def multiplicative_step(x: torch.Tensor, f: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """One multiplicative update of ``G`` given ``F`` (Ding, Li and Jordan 2010, eq. 12)."""
    xtf = x.transpose(1, 2) @ f  # (K, m, d)
    ftf = f.transpose(1, 2) @ f  # (K, d, d)
    numerator = _pos(xtf) + g @ _neg(ftf)
    denominator = _neg(xtf) + g @ _pos(ftf)
    return g * torch.sqrt(numerator / denominator.clamp_min(_TINY))


def _hals_columns(a: torch.Tensor, b: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """``G >= 0`` updated one column at a time, each the exact minimiser of
    ``||X - F G^T||_F`` given the others: ``g_k = max(0, g_k + (a_k - G b_k) / b_kk)`` with
    ``a = X^T F`` and ``b = F^T F``; a column whose ``f_k`` is zero is left as it is."""
    g = g.clone()
    for k in range(g.shape[-1]):
        norm = b[:, k, k, None]  # (K, 1)
        step = (a[:, :, k] - (g @ b[:, :, k, None])[..., 0]) / norm.clamp_min(_TINY)
        g[:, :, k] = torch.where(norm > _TINY, (g[:, :, k] + step).clamp_min(0), g[:, :, k])
    return g


def hals_step(
    x: torch.Tensor, f: torch.Tensor, g: torch.Tensor, nonnegative_f: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """One sweep of column-wise exact updates of ``G >= 0`` given ``F``; with
    ``nonnegative_f`` then also of ``F >= 0`` given the new ``G`` (plain NMF). Without it
    ``F`` is returned unchanged (solve it exactly with ``solve_f``)."""
    g = _hals_columns(x.transpose(1, 2) @ f, f.transpose(1, 2) @ f, g)
    if nonnegative_f:
        f = _hals_columns(x @ g, g.transpose(1, 2) @ g, f)
    return f, g


def nmf(
    x: torch.Tensor, rank: int, iterations: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rank-``rank`` NMF ``X ~ W H^T`` of a non-negative ``x (K, n, m)`` by hierarchical ALS
    from a random start; returns ``W (K, n, rank)`` and ``H (K, m, rank)``, both >= 0."""
    k, n, m = x.shape
    scale = (x.mean(dim=(1, 2)) / rank).sqrt()[:, None, None]
    w = torch.rand(k, n, rank, generator=generator, dtype=torch.float64) * scale
    h = torch.rand(k, m, rank, generator=generator, dtype=torch.float64) * scale
    for _ in range(iterations):
        h, w = hals_step(x.transpose(1, 2), h, w, nonnegative_f=True)
    return w, h


def initial_factor(
    x: torch.Tensor, rank: int, init: str, seed: int = 0, nmf_iterations: int = 200
) -> torch.Tensor:
    """Starting ``G (K, m, rank) >= 0`` for the semi-NMF of ``x (K, n, m)`` (see module doc)."""
    generator = make_generator(seed, Stream.INIT, part=7)
    if init == "random":
        return torch.rand(x.shape[0], x.shape[2], rank, generator=generator, dtype=torch.float64)
    if init == "nmf":
        return nmf(x.clamp_min(0), rank, nmf_iterations, generator)[1]
    if init == "svd":
        _, s, vh = torch.linalg.svd(x)
        v = vh[:, :rank].transpose(1, 2)  # (K, m, rank)
        keep = _pos(v).norm(dim=1, keepdim=True) >= _neg(v).norm(dim=1, keepdim=True)
        return torch.where(keep, _pos(v), _neg(v)) * s[:, None, :rank].sqrt()
    raise ValueError(f"unknown init {init!r}; allowed: {', '.join(INITS)}")


@dataclass(frozen=True)
class SemiNMF:
    """``X ~ F G^T`` with ``G >= 0``, batched: ``f (K, n, d)``, ``g (K, m, d)``;
    ``history (T + 1, K)`` is the objective before the first and after every iteration."""

    f: torch.Tensor
    g: torch.Tensor
    history: torch.Tensor

    @property
    def objective(self) -> torch.Tensor:
        return self.history[-1]


def semi_nmf(
    x: torch.Tensor,
    rank: int,
    method: str = "multiplicative",
    init: str | torch.Tensor = "nmf",
    iterations: int = 1000,
    seed: int = 0,
) -> SemiNMF:
    """Semi-NMF of ``x (K, n, m)`` at ``rank`` by ``method`` (one of ``METHODS``) from
    ``init`` (one of ``INITS``, or a starting ``G``)."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; allowed: {', '.join(METHODS)}")
    x = x.double()
    g = initial_factor(x, rank, init, seed) if isinstance(init, str) else init.double().clone()
    f = solve_f(x, g)
    history = [objective(x, f, g)]
    for _ in range(iterations):
        if method == "multiplicative":
            g = multiplicative_step(x, f, g)
        else:
            g = hals_step(x, f, g)[1]
        f = solve_f(x, g)
        history.append(objective(x, f, g))
    return SemiNMF(f, g, torch.stack(history))


def balanced_mlp(w_in: torch.Tensor, w_out: torch.Tensor) -> MLP:
    """The MLP with neuron ``k``'s read row and write column rescaled to equal norms (the
    function is unchanged: ``ReLU`` is positively homogeneous); dead neurons get zeros."""
    read, write = w_in.norm(dim=2), w_out.norm(dim=1)  # (K, d)
    alive = (read > _TINY) & (write > _TINY)
    c = torch.where(alive, (write / read.clamp_min(_TINY)).sqrt(), torch.zeros_like(read))
    w_in = w_in * c[:, :, None]
    w_out = torch.where(alive[:, None, :], w_out / c.clamp_min(_TINY)[:, None, :], 0.0)
    return MLP(w_in.float(), w_out.float())


def snmf_mlp(factors: SemiNMF) -> MLP:
    """Hand-coded MLP from a semi-NMF ``X ~ F G^T``: ``W_in = G^T``, ``W_out = F`` (balanced)."""
    return balanced_mlp(factors.g.transpose(1, 2), factors.f)


def fit_mlp(
    mixing: torch.Tensor,
    rank: int,
    method: str = "multiplicative",
    init: str = "nmf",
    iterations: int = 1000,
    seed: int = 0,
    transpose: bool = False,
) -> tuple[MLP, SemiNMF]:
    """The semi-NMF baseline for ``mixing (K, n, n)``: factorise ``I + M`` (or, with
    ``transpose``, the wrong matrix ``(I + M)^T``) and build the MLP from it."""
    x = target(mixing)
    factors = semi_nmf(x.transpose(1, 2) if transpose else x, rank, method, init, iterations, seed)
    return snmf_mlp(factors), factors


def one_hot_response(model: MLP) -> torch.Tensor:
    """``R (K, n_out, n_in)`` with ``R[:, i, j]`` output ``i`` for input ``e_j`` (value 1)."""
    n = model.w_in.shape[-1]
    eye = torch.eye(n, dtype=model.w_in.dtype).expand(model.instances, n, n)
    with torch.no_grad():
        return model(eye).transpose(1, 2).double()


def sparse_limit_loss(model: MLP, mixing: torch.Tensor) -> torch.Tensor:
    """Exact ``lim_{p -> 0} L/p`` of any MLP on labels ``ReLU(x) + M x`` (``(K,)``).

    One active feature ``u e_j``: for ``u > 0`` the output is ``u W_out ReLU(W_in e_j)``
    against ``u (I + M) e_j``; for ``u < 0`` it is ``|u| W_out ReLU(-W_in e_j)`` against
    ``u M e_j``; each half has ``E[u^2] = 1/6``; averaged over the ``n`` features.
    """
    w_in, w_out, m = model.w_in.detach().double(), model.w_out.detach().double(), mixing.double()
    n = m.shape[-1]
    plus = w_out @ torch.relu(w_in) - target(m)
    minus = w_out @ torch.relu(-w_in) + m
    return (plus.square().sum(dim=(1, 2)) + minus.square().sum(dim=(1, 2))) / (6 * n)


def stratum_one(
    model: MLP, task, samples: int, seed: int = 0, baseline: MLP | None = None
) -> Estimate:
    """Sparse-limit loss per feature by Monte Carlo: ``n`` times the ``k = 1`` stratum of
    ``cclib.compressed.evaluation`` (``L/p -> n E[loss | one active]`` as ``p -> 0``); with a
    ``baseline``, the paired difference."""
    n = task.n_features
    strata = strata_losses(model, task, [1], samples, seed, baseline=baseline)
    return Estimate(n * strata.mean[:, 0], n * (strata.var[:, 0] / samples).sqrt())


def crossing(x, y, level: float) -> float:
    """The largest ``x`` up to which ``y < level`` holds from the minimum of ``y`` on:
    the first upward crossing of ``level`` after ``argmin y``, linearly interpolated;
    ``x[-1]`` if ``y`` stays below; ``nan`` if the minimum is not below ``level``."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    i = int(np.argmin(y))
    if y[i] >= level:
        return float("nan")
    above = np.flatnonzero(y[i:] >= level)
    if above.size == 0:
        return float(x[-1])
    j = i + int(above[0])
    return float(x[j - 1] + (level - y[j - 1]) * (x[j] - x[j - 1]) / (y[j] - y[j - 1]))


# --------------------------------------------------------------------------- trained models
SIGMA_KINDS = ("symmetric", "gaussian")  # the mixing chapter's sigma sweep, in its order


def sigma_grid(cfg) -> np.ndarray:
    """The mixing chapter's sigma grid: ``sigma_points`` values from 0 to ``sigma_max``."""
    return np.linspace(0, cfg.sigma_max, cfg.sigma_points)


def sigma_sweep(cfg) -> MLPSweep:
    """The mixing chapter's sigma sweep (both kinds x grid x ``sigma_seeds``, kind-major),
    built from the same settings so that its cache entry is shared."""
    settings = [
        dict(p=cfg.p, mixing=kind, sigma=float(s)) for kind in SIGMA_KINDS for s in sigma_grid(cfg)
    ]
    return grid_sweep(cfg, settings, cfg.sigma_seeds, cfg.vary_matrix)


def sigma_rows(cfg, kind: str) -> np.ndarray:
    """``(sigma_points, sigma_seeds)`` instance indices of ``kind`` in ``sigma_sweep``."""
    points, seeds = cfg.sigma_points, cfg.sigma_seeds
    start = SIGMA_KINDS.index(kind) * points * seeds
    return start + np.arange(points * seeds).reshape(points, seeds)


def on_grid(cfg) -> bool:
    """Whether ``cfg.sigma`` is a point of the sigma grid (``sigma_max / (points - 1)``
    divides it)."""
    return bool(np.isclose(sigma_grid(cfg), cfg.sigma, rtol=0, atol=1e-12).any())


def fixed_sigma_sweep(cfg, mixing_sigma: float) -> tuple[MLPSweep, np.ndarray, str]:
    """Trained models of kind ``cfg.mixing`` at ``cfg.sigma``: the sweep that holds them, their
    instance indices and where they come from. In order of preference: the mixing chapter's
    sigma sweep (``cfg.sigma`` on its grid), its conditions sweep (``cfg.sigma`` equal to
    ``mixing_sigma``, that chapter's ``sigma`` under the same profile; the mechanism chapter
    reads it too), or a sweep of their own."""
    if on_grid(cfg):
        index = int(np.argmin(abs(sigma_grid(cfg) - cfg.sigma)))
        return sigma_sweep(cfg), sigma_rows(cfg, cfg.mixing)[index], "sigma sweep"
    if np.isclose(cfg.sigma, mixing_sigma, rtol=0, atol=1e-12):
        rows = mechanism.condition_rows(cfg.mixing, cfg.seeds, cfg.sigma)
        sweep = mixing_conditions_sweep(cfg)
        return sweep, np.arange(rows.start, rows.stop), "conditions sweep"
    setting = dict(p=cfg.p, mixing=cfg.mixing, sigma=cfg.sigma)
    own = grid_sweep(cfg, [setting], cfg.seeds, cfg.vary_matrix)
    return own, np.arange(cfg.seeds), "own sweep"


def select(model: MLP, task, rows) -> tuple[MLP, ReluMixingTask]:
    """Instances ``rows`` of a batched model and its task (label scales frozen)."""
    rows = torch.as_tensor(np.asarray(rows), dtype=torch.long)
    sub_model = MLP(model.w_in.detach()[rows].clone(), model.w_out.detach()[rows].clone())
    scale = task.scale.detach()[rows]
    p_values = [task.p_values[i] for i in rows.tolist()]
    return sub_model, ReluMixingTask(task.mixing[rows].clone(), p_values, scale.tolist())


def effective_mixing(task) -> torch.Tensor:
    """``(K, n, n)`` the matrices the labels use, ``scale * M``."""
    return mechanism.effective_mixing(task)


# --------------------------------------------------------------------------- start study
@dataclass(frozen=True)
class Variant:
    """One semi-NMF variant on ``S`` matrices: losses and sparsity of its MLPs (per matrix)."""

    method: str
    init: str
    sparse: Estimate  # sparse-limit L/p (k = 1 stratum)
    at_p: Estimate  # L/p at the evaluation p
    exact: np.ndarray  # sparse-limit L/p in closed form
    sparsity_in: np.ndarray  # Hoyer sparsity of W_in
    zeros_in: np.ndarray  # fraction of exactly zero W_in entries
    monotone: bool  # the objective never increased


def study_variants(
    task, rank: int, iterations: int, p: float, samples: int, seed: int = 0
) -> list[Variant]:
    """Every method x initialisation on the matrices of ``task``, evaluated like trained models."""
    from .evaluation import loss_per_feature

    mixing = effective_mixing(task)
    out = []
    for method in METHODS:
        for init in INITS:
            model, factors = fit_mlp(mixing, rank, method, init, iterations, seed)
            out.append(
                Variant(
                    method,
                    init,
                    stratum_one(model, task, samples, seed),
                    loss_per_feature(model, task, p, samples, seed),
                    sparse_limit_loss(model, mixing).numpy(),
                    mechanism.weight_sparsity(model.w_in.detach()).numpy(),
                    (model.w_in.detach().abs() <= 1e-9).double().mean(dim=(1, 2)).numpy(),
                    bool((factors.history.diff(dim=0) <= 1e-9 * factors.history[0]).all()),
                )
            )
    return out


def variants_table(variants: list[Variant]) -> str:
    """Plain-text table of ``study_variants`` (means over the matrices)."""
    lines = [
        f"{'method':15s} {'init':7s} {'sparse L/p':>11s} {'exact':>7s} {'L/p at p':>9s} "
        f"{'±':>7s} {'Hoyer W_in':>10s} {'zeros':>6s} monotone"
    ]
    for v in variants:
        lines.append(
            f"{v.method:15s} {v.init:7s} {float(v.sparse.mean.mean()):11.4f} "
            f"{v.exact.mean():7.4f} {float(v.at_p.mean.mean()):9.4f} "
            f"{float(v.at_p.stderr.mean()):7.4f} {v.sparsity_in.mean():10.3f} "
            f"{v.zeros_in.mean():6.1%} {v.monotone}"
        )
    return "\n".join(lines)


def crossings(x, values, level: float) -> np.ndarray:
    """``crossing`` of each column of ``values (X, S)`` (one curve per seed) with ``level``."""
    values = np.asarray(values, dtype=float)
    return np.array([crossing(x, values[:, s], level) for s in range(values.shape[1])])


def neuron_order(w_in: torch.Tensor) -> torch.Tensor:
    """Neurons ``(d,)`` sorted by the feature each reads most strongly (for display)."""
    return torch.argsort(w_in.detach().abs().argmax(dim=-1), stable=True)


PAPER_BATCH = 2048  # paper 000, appendix B


def long_sweep(cfg, seeds: int) -> MLPSweep:
    """``seeds`` models of kind ``cfg.mixing`` at ``cfg.sigma`` trained for ``cfg.long_steps``
    steps of the paper's batch size (matrix ``s`` for seed ``s``, as in the mixing chapter's
    sweeps)."""
    setting = dict(p=cfg.p, mixing=cfg.mixing, sigma=cfg.sigma)
    sweep = grid_sweep(cfg, [setting], seeds, cfg.vary_matrix, steps=cfg.long_steps)
    return dataclasses.replace(
        sweep, train=dataclasses.replace(sweep.train, batch_size=PAPER_BATCH)
    )


@dataclass(frozen=True)
class LongerTraining:
    """Weights and losses of longer-trained models against the semi-NMF ones (per seed)."""

    steps: int
    batch: int
    sparsity: np.ndarray  # Hoyer sparsity of the less sparse of W_in and W_out
    sparsity_in: np.ndarray
    sparsity_out: np.ndarray
    gap: Estimate  # trained minus semi-NMF L/p at the evaluation p
    gap_sparse: Estimate  # the same in the sparse limit


def longer_training(
    cfg, trained: MLP, hand: MLP, task, samples: int, cache=None, steps: int = 0, batch: int = 0
) -> LongerTraining:
    """Train ``cfg.long_steps`` steps of ``PAPER_BATCH`` on the matrices of ``task`` (or, with
    ``long_steps = 0``, keep ``trained``, which ran ``steps`` of ``batch``) and compare the
    weights' sparsity and the loss with the semi-NMF models ``hand``."""
    from .evaluation import loss_per_feature
    from .experiments import load_mlp, run_mlp_sweep, trained_task

    if cfg.long_steps > 0:
        sweep = long_sweep(cfg, task.mixing.shape[0])
        result = run_mlp_sweep(sweep, cache, description="semi_nmf: longer training")
        same = effective_mixing(trained_task(sweep, result))
        if not torch.allclose(same, effective_mixing(task)):
            raise ValueError("the longer-trained models must see the same matrices")
        trained, steps, batch = load_mlp(result), sweep.horizons()[0], PAPER_BATCH
    w_in, w_out = trained.w_in.detach(), trained.w_out.detach()
    sparsity_in = mechanism.weight_sparsity(w_in).numpy()
    sparsity_out = mechanism.weight_sparsity(w_out).numpy()
    return LongerTraining(
        steps,
        batch,
        np.minimum(sparsity_in, sparsity_out),
        sparsity_in,
        sparsity_out,
        loss_per_feature(trained, task, task.p_values[0], samples, baseline=hand),
        stratum_one(trained, task, samples, baseline=hand),
    )
