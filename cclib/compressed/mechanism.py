"""What a trained MLP computes: its weights against the mixing matrix M (paper 000, section 3
"Potential mechanism", figures 4 and 5, appendix C).

Conventions are those of ``cclib.compressed.models.MLP``: ``w_in (K, d, n)`` (row ``j`` is neuron
``j``'s *read* direction in feature space), ``w_out (K, n, d)`` (column ``j`` is its
*write* direction) and ``M (K, n, n)`` acting on column vectors. On a one-hot input
``x = t e_i`` with ``t > 0`` and ``W_in >= 0`` the model is linear, ``y_hat = t W_out W_in e_i``,
while the label is ``t (I + M) e_i``: on sparse positive inputs the product
``A = W_out W_in`` stands in for ``I + M``.

- ``eigenbasis``: eigenvalues (descending) and eigenvectors of the symmetric part of M.
- ``singular_basis``: singular vectors of ``I + M`` (left ``U``, right ``V``), descending.
- ``alignment`` / ``subspace_fraction``: how neuron directions sit in such a basis.
- ``map_similarity``: cosine of ``A v_k`` with the direction ``I + M`` sends ``v_k`` to.
- ``drop_index``: the index at which that similarity drops (two rules, see there).
- ``entry_fit``: least-squares fits of the entries of A against those of M, off-diagonal and
  diagonal separately.
- ``nonnegative_mass`` and ``weight_sparsity``: sign and sparsity of weight matrices
  (``weight_sparsity`` is shared with the semi-NMF chapter).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import torch

from .experiments import MLPSweep, grid_sweep, mixing_conditions

DROP_RULES = ("step", "half")


def _batched(m: torch.Tensor) -> torch.Tensor:
    m = torch.as_tensor(m).double()
    return m[None] if m.ndim == 2 else m


def symmetric_part(m: torch.Tensor) -> torch.Tensor:
    """``(M + M^T) / 2`` (batched over leading dimensions)."""
    m = torch.as_tensor(m).double()
    return (m + m.transpose(-1, -2)) / 2


def eigenbasis(m: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues ``(K, n)`` in descending order and eigenvectors ``(K, n, n)`` (column
    ``k`` belongs to eigenvalue ``k``) of the symmetric part of ``m``.

    For a symmetric M this is M's own eigenbasis. For an asymmetric M the symmetric part is
    the matrix whose quadratic form equals M's, ``v^T M v = v^T S v``: its eigenvectors are
    the directions along which M adds most to (or takes most from) the input itself, and
    they are real and orthonormal, which M's own eigenvectors are not.
    """
    values, vectors = torch.linalg.eigh(symmetric_part(_batched(m)))
    return values.flip(-1), vectors.flip(-1)


def singular_basis(m: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``U (K, n, n)``, singular values ``(K, n)`` (descending) and ``V (K, n, n)`` of
    ``I + M``, so that ``(I + M) v_k = s_k u_k`` for the columns ``u_k``, ``v_k``."""
    m = _batched(m)
    eye = torch.eye(m.shape[-1], dtype=m.dtype)
    u, s, vh = torch.linalg.svd(eye + m)
    return u, s, vh.transpose(-1, -2)


def read_directions(w_in: torch.Tensor) -> torch.Tensor:
    """``(K, d, n)``: row ``j`` is the direction neuron ``j`` reads (a row of ``W_in``)."""
    return _batched(w_in)


def write_directions(w_out: torch.Tensor) -> torch.Tensor:
    """``(K, d, n)``: row ``j`` is the direction neuron ``j`` writes (a column of ``W_out``)."""
    return _batched(w_out).transpose(-1, -2)


def alignment(directions: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    """``(K, d, n)`` absolute cosines ``|<w_j, b_k>| / |w_j|`` of each direction (rows of
    ``directions (K, d, n)``) with each orthonormal basis vector (columns of ``basis``)."""
    unit = directions / directions.norm(dim=-1, keepdim=True).clamp_min(1e-300)
    return (unit @ basis).abs()


def subspace_fraction(directions: torch.Tensor, basis: torch.Tensor, k) -> torch.Tensor:
    """``(K,)`` share of the directions' squared norm that lies in the span of the first
    ``k`` basis vectors (``k`` an int or one per instance; each direction weighted by its
    squared norm)."""
    energy = (directions @ basis).square().sum(-2)  # (K, n): squared norm along b_k
    inside = torch.arange(energy.shape[-1]) < torch.as_tensor(k).reshape(-1, 1)
    return (energy * inside).sum(-1) / energy.sum(-1)


def linear_map(w_in: torch.Tensor, w_out: torch.Tensor) -> torch.Tensor:
    """``A = W_out W_in``, ``(K, n, n)``."""
    return _batched(w_out) @ _batched(w_in)


def map_similarity(
    a: torch.Tensor, inputs: torch.Tensor, targets: torch.Tensor | None = None
) -> torch.Tensor:
    """``(K, n)`` cosine of ``A v_k`` with ``t_k``, for the columns ``v_k`` of ``inputs`` and
    ``t_k`` of ``targets`` (default: ``inputs``, i.e. is ``v_k`` mapped onto itself).

    A direction that ``A`` annihilates (``|A v_k|`` below ``1e-10`` of the instance's largest
    ``|A v_j|``, i.e. zero up to rounding) has no direction to compare: its cosine is 0."""
    targets = inputs if targets is None else targets
    image = _batched(a) @ inputs  # column k: A v_k
    norm = image.norm(dim=-2)  # (K, n)
    alive = norm > 1e-10 * norm.amax(-1, keepdim=True)
    cos = (image * targets).sum(-2) / (torch.where(alive, norm, 1.0) * targets.norm(dim=-2))
    return torch.where(alive, cos, torch.zeros_like(cos))


def drop_index(similarity, rule: str = "step") -> torch.Tensor:
    """``(K,)`` index at which a similarity-by-index curve ``(K, n)`` drops.

    - ``"step"``: the best least-squares fit of a two-level step function; the result is
      the number of indices in the first level (the change point ``c`` minimising
      ``sum_{k<c} (s_k - mean_{<c})^2 + sum_{k>=c} (s_k - mean_{>=c})^2``).
    - ``"half"``: the first index whose similarity is below 1/2 (``n`` if none is).
    """
    s = torch.as_tensor(similarity).double()
    s = s[None] if s.ndim == 1 else s
    n = s.shape[-1]
    if rule == "half":
        below = s < 0.5
        first = torch.where(below.any(-1), below.double().argmax(-1), torch.tensor(n))
        return first.double()
    if rule != "step":
        raise ValueError(f"unknown drop rule {rule!r}; allowed: {', '.join(DROP_RULES)}")
    c = torch.arange(1, n, dtype=s.dtype)  # candidate change points
    csum = s.cumsum(-1)[..., :-1]  # sum of the first c values
    csq = s.square().cumsum(-1)[..., :-1]
    total, total_sq = s.sum(-1, keepdim=True), s.square().sum(-1, keepdim=True)
    sse_left = csq - csum.square() / c
    sse_right = (total_sq - csq) - (total - csum).square() / (n - c)
    return (sse_left + sse_right).argmin(-1).double() + 1


def neuron_order(cosines: torch.Tensor) -> torch.Tensor:
    """``(K, d)`` neurons sorted by the mean basis index of their direction (``|cos|``
    squared as weights), so that an alignment map reads from top-left to bottom-right."""
    index = torch.arange(cosines.shape[-1], dtype=cosines.dtype)
    return (cosines.square() * index).sum(-1).argsort(-1)


def truncation(m: torch.Tensor, rank: int) -> torch.Tensor:
    """``(K, n, n)`` best rank-``rank`` approximation of ``I + M`` in the Frobenius norm (its
    truncated SVD, Eckart-Young): what ``W_out W_in`` would be if ``d = rank`` neurons could
    reproduce ``I + M`` as well as any rank-``d`` linear map."""
    u, s, v = singular_basis(m)
    return (u[..., :rank] * s[..., None, :rank]) @ v[..., :rank].transpose(-1, -2)


@dataclass(frozen=True)
class EntryFit:
    """Least-squares lines through the entries of ``A = W_out W_in`` against those of M,
    per instance ``(K,)``: off-diagonal ``A_ij ~ slope M_ij + intercept`` with the
    correlation of the two, and diagonal ``A_ii ~ diag_slope M_ii + diag_offset``."""

    offdiag_slope: torch.Tensor
    offdiag_intercept: torch.Tensor
    offdiag_correlation: torch.Tensor
    diag_slope: torch.Tensor
    diag_offset: torch.Tensor


def _line(
    x: torch.Tensor, y: torch.Tensor, min_spread: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Slope, intercept and correlation of ``y`` against ``x`` along the last axis.

    Where the standard deviation of ``x`` is at most ``min_spread`` (the diagonal of an
    embedding-induced M is zero up to rounding) no slope can be fitted: the slope is then 0,
    the intercept the mean of ``y`` and the correlation NaN.
    """
    xc, yc = x - x.mean(-1, keepdim=True), y - y.mean(-1, keepdim=True)
    sxx, syy, sxy = xc.square().sum(-1), yc.square().sum(-1), (xc * yc).sum(-1)
    flat = sxx <= x.shape[-1] * min_spread**2
    slope = torch.where(flat, torch.zeros_like(sxx), sxy / torch.where(flat, 1.0, sxx))
    corr = torch.where(flat, torch.nan, sxy / (sxx * syy).sqrt())
    return slope, y.mean(-1) - slope * x.mean(-1), corr


def entry_fit(a: torch.Tensor, m: torch.Tensor, min_spread: float = 1e-5) -> EntryFit:
    """Fit the entries of ``a`` against those of ``m`` (both ``(K, n, n)``); a set of M
    entries whose standard deviation is at most ``min_spread`` gets slope 0 (see ``_line``)."""
    a, m = _batched(a), _batched(m)
    off = ~torch.eye(a.shape[-1], dtype=torch.bool)
    slope, intercept, corr = _line(m[:, off], a[:, off], min_spread)
    dslope, doffset, _ = _line(
        torch.diagonal(m, dim1=-2, dim2=-1), torch.diagonal(a, dim1=-2, dim2=-1), min_spread
    )
    return EntryFit(slope, intercept, corr, dslope, doffset)


def nonnegative_mass(w: torch.Tensor) -> torch.Tensor:
    """Share of a weight matrix's absolute mass ``sum |w|`` held by its non-negative
    entries, per instance (leading dimensions kept, the last two summed)."""
    w = torch.as_tensor(w).double()
    return w.clamp_min(0).sum((-1, -2)) / w.abs().sum((-1, -2))


def weight_sparsity(w: torch.Tensor) -> torch.Tensor:
    """Hoyer's sparsity of a weight matrix, per instance (the last two dimensions are the
    matrix, leading ones are kept).

    It measures how concentrated the matrix's weight is in few entries:
    ``(sqrt(N) - |w|_1 / |w|_2) / (sqrt(N) - 1)`` over its ``N`` entries (Hoyer 2004). It is 0
    when every entry has the same magnitude and 1 when a single entry is non-zero; it does
    not change when the matrix is scaled, so matrices of different norms (trained, hand-coded)
    compare directly. A dense Gaussian matrix scores about ``1 - sqrt(2/pi) = 0.20``
    (``gaussian_sparsity``), a dense uniform one ``1 - sqrt(3)/2 = 0.13``.
    """
    w = torch.as_tensor(w).double()
    flat = w.flatten(-2)
    root_n = math.sqrt(flat.shape[-1])
    ratio = flat.abs().sum(-1) / flat.norm(dim=-1)
    return (root_n - ratio) / (root_n - 1)


def gaussian_sparsity(entries: int) -> float:
    """``weight_sparsity`` of a large dense matrix of ``entries`` i.i.d. Gaussian entries:
    ``|w|_1 / |w|_2 -> sqrt(N) sqrt(2/pi)``."""
    root_n = math.sqrt(entries)
    return (root_n - root_n * math.sqrt(2 / math.pi)) / (root_n - 1)


@dataclass(frozen=True)
class Analysis:
    """Everything the mechanism chapter measures for ``K`` trained models and their
    mixing matrices (all tensors have leading dimension ``K``)."""

    eigenvalues: torch.Tensor  # (K, n), descending, of the symmetric part of M
    eigenvectors: torch.Tensor  # (K, n, n)
    singular_values: torch.Tensor  # (K, n) of I + M
    left: torch.Tensor  # (K, n, n) U of I + M
    right: torch.Tensor  # (K, n, n) V of I + M
    product: torch.Tensor  # (K, n, n) W_out W_in
    eigen_similarity: torch.Tensor  # (K, n) cos(A v_k, v_k), eigenvectors v_k
    singular_similarity: torch.Tensor  # (K, n) cos(A v_k, u_k), singular vectors of I + M
    read_in_positive: torch.Tensor  # (K,) share of W_in's rows in the positive eigenspace
    write_in_positive: torch.Tensor  # (K,) the same for W_out's columns
    fit: EntryFit

    @property
    def positive_eigenvalues(self) -> torch.Tensor:
        """``(K,)`` number of positive eigenvalues of the symmetric part of M."""
        return (self.eigenvalues > 0).sum(-1).double()


def analyse(w_in: torch.Tensor, w_out: torch.Tensor, m: torch.Tensor) -> Analysis:
    """Eigen/singular-vector analysis and entry fits of ``K`` models against their M."""
    w_in, w_out, m = _batched(w_in), _batched(w_out), _batched(m)
    values, vectors = eigenbasis(m)
    u, s, v = singular_basis(m)
    a = linear_map(w_in, w_out)
    positive = (values > 0).sum(-1)
    read, write = read_directions(w_in), write_directions(w_out)
    return Analysis(
        eigenvalues=values,
        eigenvectors=vectors,
        singular_values=s,
        left=u,
        right=v,
        product=a,
        eigen_similarity=map_similarity(a, vectors),
        singular_similarity=map_similarity(a, v, u),
        read_in_positive=subspace_fraction(read, vectors, positive),
        write_in_positive=subspace_fraction(write, vectors, positive),
        fit=entry_fit(a, m),
    )


def optimum_sweep(cfg) -> MLPSweep:
    """``cfg.seeds`` models trained with the asymmetric Gaussian M at ``cfg.sigma_opt``
    (seed ``s`` scales the same unit matrix as the mixing sweep's seed ``s``)."""
    settings = [dict(p=cfg.p, mixing="gaussian", sigma=cfg.sigma_opt)]
    return grid_sweep(cfg, settings, cfg.seeds, cfg.vary_matrix)


def condition_rows(condition: str, seeds: int, sigma: float) -> slice:
    """The instances of ``condition`` in ``mixing_conditions_sweep`` (setting-major)."""
    index = list(mixing_conditions(sigma)).index(condition)
    return slice(index * seeds, (index + 1) * seeds)


def effective_mixing(task) -> torch.Tensor:
    """``(K, n, n)`` the matrices the labels use: ``scale * M`` per instance."""
    return (task.scale.detach()[:, None, None] * task.mixing).double()


@dataclass(frozen=True)
class SeedMeasures:
    """The chapter's measured numbers for ``S`` seeds of one condition, one value per seed."""

    top_subspace: np.ndarray  # drop index of cos(A v_k, v_k), eigenvectors of sym(M)
    top_subspace_singular: np.ndarray  # drop index of cos(A v_k, u_k), singular vectors of I+M
    top_subspace_positive: np.ndarray  # number of positive eigenvalues of sym(M)
    read_in_positive: np.ndarray  # share of W_in's squared norm in the positive eigenspace
    write_in_positive: np.ndarray  # the same for W_out
    offdiag_slope: np.ndarray
    diag_offset: np.ndarray
    m_correlation: np.ndarray  # correlation of off-diagonal entries of A and M
    win_nonnegative: np.ndarray  # nonnegative_mass(W_in)
    weight_sparsity_in: np.ndarray
    weight_sparsity_out: np.ndarray

    @property
    def weight_sparsity(self) -> np.ndarray:
        """The sparsity of the less sparse of the two matrices, per seed."""
        return np.minimum(self.weight_sparsity_in, self.weight_sparsity_out)

    def names(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self)] + ["weight_sparsity"]


def measure(analysis: Analysis, w_in, w_out, drop_rule: str = "step") -> SeedMeasures:
    """Per-seed measures of models ``w_in (S, d, n)``, ``w_out (S, n, d)`` and their analysis."""
    as_np = lambda t: t.detach().double().cpu().numpy()  # noqa: E731
    return SeedMeasures(
        top_subspace=as_np(drop_index(analysis.eigen_similarity, drop_rule)),
        top_subspace_singular=as_np(drop_index(analysis.singular_similarity, drop_rule)),
        top_subspace_positive=as_np(analysis.positive_eigenvalues),
        read_in_positive=as_np(analysis.read_in_positive),
        write_in_positive=as_np(analysis.write_in_positive),
        offdiag_slope=as_np(analysis.fit.offdiag_slope),
        diag_offset=as_np(analysis.fit.diag_offset),
        m_correlation=as_np(analysis.fit.offdiag_correlation),
        win_nonnegative=as_np(nonnegative_mass(w_in)),
        weight_sparsity_in=as_np(weight_sparsity(w_in)),
        weight_sparsity_out=as_np(weight_sparsity(w_out)),
    )


def mean_and_error(values: np.ndarray) -> tuple[float, float]:
    """Seed mean and its standard error (spread over seeds / sqrt(S); 0 for one seed)."""
    values = np.asarray(values, dtype=float)
    err = values.std(ddof=1) / np.sqrt(values.size) if values.size > 1 else 0.0
    return float(values.mean()), float(err)


def summary_rows(conditions: dict[str, SeedMeasures]) -> tuple[list[str], list[list[str]]]:
    """``(header, rows)``: one row per measure, one column per condition, each cell
    ``mean ± standard error [smallest, largest seed]`` (for ``cclib.book.tables.Table``)."""
    labels = list(conditions)
    rows = []
    for name in conditions[labels[0]].names():
        cells = []
        for label in labels:
            values = np.asarray(getattr(conditions[label], name))
            mean, err = mean_and_error(values)
            cells.append(f"{mean:.3f} ± {err:.3f} [{values.min():.3f}, {values.max():.3f}]")
        rows.append([name, *cells])
    return ["measure", *labels], rows


def summary_table(conditions: dict[str, SeedMeasures]) -> str:
    """A text table: one row per measure, one column per condition, each cell
    ``mean ± standard error [smallest, largest seed]``."""
    labels = list(conditions)
    names = conditions[labels[0]].names()
    width = max(len(label) for label in labels) + 4
    rows = ["measure".ljust(24) + "".join(label.rjust(max(width, 34)) for label in labels)]
    for name in names:
        cells = []
        for label in labels:
            values = np.asarray(getattr(conditions[label], name))
            mean, err = mean_and_error(values)
            cells.append(
                f"{mean:.3f} ± {err:.3f} [{values.min():.3f}, {values.max():.3f}]".rjust(
                    max(width, 34)
                )
            )
        rows.append(name.ljust(24) + "".join(cells))
    return "\n".join(rows)


def null_fit(condition: Condition, other: Condition | None = None) -> EntryFit:
    """The entry fit of models trained on an *independent* M, against this condition's M:
    the models of seed ``s + 1`` (their own matrix draw) against the M of seed ``s``. Where
    the seeds share one matrix (or there is one seed), ``other``'s models are used (trained
    on another kind of M)."""
    m = condition.m
    a = condition.w_out @ condition.w_in
    if m.shape[0] > 1 and not torch.equal(m[0], m[1]):
        return entry_fit(a.roll(1, dims=0), m)
    if other is None:
        raise ValueError("the seeds share one M: pass another condition's models as the null")
    a_other = other.w_out @ other.w_in
    return entry_fit(a_other[torch.arange(m.shape[0]) % a_other.shape[0]], m)


def check_claims(
    claims, condition: Condition, null: EntryFit, reference: float, suffix: str = ""
) -> None:
    """Check the chapter's declared claims (``mechanism.<measure><suffix>``, see
    ``cclib.book.claims_compressed``) for one condition. ``null``: :func:`null_fit`;
    ``reference``: the Hoyer sparsity of a dense Gaussian matrix of the same size."""
    measures, fit = condition.measures, condition.analysis.fit
    seeds = len(measures.top_subspace)
    as_np = lambda t: t.detach().double().cpu().numpy()  # noqa: E731

    def check(name: str, values, **fields) -> None:
        claims.check(f"mechanism.{name}{suffix}", *mean_and_error(values), seeds=seeds, **fields)

    for name in ("top_subspace", "top_subspace_singular", "top_subspace_positive"):
        check(name, getattr(measures, name))
    n = condition.m.shape[-1]
    chance = max(0.5, float(np.mean(measures.top_subspace_positive)) / n)
    for name in ("read_in_positive", "write_in_positive"):
        check(name, getattr(measures, name) - chance, chance=chance)
    check("offdiag_slope", as_np(fit.offdiag_slope - null.offdiag_slope))
    check("diag_offset", as_np(fit.diag_offset - null.diag_offset))
    diagonal = torch.diagonal(condition.m, dim1=-2, dim2=-1)
    if bool((diagonal.std(-1) <= 1e-5).all()):
        claims.not_applicable(
            f"mechanism.diag_slope{suffix}", "the diagonal of M is zero: no slope to fit"
        )
    else:
        check("diag_slope", as_np(fit.diag_slope - null.diag_slope))
    check("m_correlation", measures.m_correlation)
    check("win_nonnegative", measures.win_nonnegative)
    check("weight_sparsity", measures.weight_sparsity - reference)


def measure_means(measures: SeedMeasures) -> dict[str, tuple[float, float]]:
    """Every measure's seed mean and standard error, by name."""
    return {name: mean_and_error(getattr(measures, name)) for name in measures.names()}


@dataclass(frozen=True)
class Condition:
    """``S`` trained models of one mixing condition with their analysis and measures."""

    label: str
    w_in: torch.Tensor  # (S, d, n)
    w_out: torch.Tensor  # (S, n, d)
    m: torch.Tensor  # (S, n, n), the M of the labels (scale included)
    analysis: Analysis
    measures: SeedMeasures


def study(label: str, models, task, rows: slice, drop_rule: str = "step") -> Condition:
    """Analyse instances ``rows`` of trained ``models`` (a ``cclib.compressed.models.MLP``)
    and ``task``."""
    w_in = models.w_in[rows].detach().double()
    w_out = models.w_out[rows].detach().double()
    m = effective_mixing(task)[rows]
    result = analyse(w_in, w_out, m)
    return Condition(label, w_in, w_out, m, result, measure(result, w_in, w_out, drop_rule))


def scatter_panel(condition: Condition, seed: int = 0) -> dict:
    """The arguments of ``plotting.entry_scatter`` for one seed of ``condition``."""
    fit = condition.analysis.fit
    return dict(
        m=condition.m[seed],
        a=condition.analysis.product[seed],
        offdiag_line=(float(fit.offdiag_slope[seed]), float(fit.offdiag_intercept[seed])),
        diag_line=(float(fit.diag_slope[seed]), float(fit.diag_offset[seed])),
        title=condition.label,
    )


def fit_table(fits: dict[str, EntryFit]) -> str:
    """A text table of entry fits (seed means), one row per label."""
    head = f"{'':28s}{'slope':>9s}{'intercept':>11s}{'corr':>8s}{'diag slope':>12s}{'offset':>9s}"
    rows = [head]
    for label, fit in fits.items():
        values = [
            fit.offdiag_slope,
            fit.offdiag_intercept,
            fit.offdiag_correlation,
            fit.diag_slope,
            fit.diag_offset,
        ]
        means = [float(v.double().mean()) for v in values]
        rows.append(
            f"{label:28s}{means[0]:9.3f}{means[1]:11.4f}{means[2]:8.3f}{means[3]:12.3f}{means[4]:9.3f}"
        )
    return "\n".join(rows)
