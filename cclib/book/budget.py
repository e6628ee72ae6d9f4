"""What a chapter configuration asks of the machine, estimated before any work starts.

A :class:`~cclib.book.params.ChapterSpec` may carry a *budget function*: resolved configuration
-> :class:`Budget`, the largest number of training steps any one instance is asked for and
the estimated peak memory of the largest single training run, each with a description
that names the parameters driving it. :meth:`ChapterSpec.resolve` compares the budget with
the chapter's ``max_steps`` and ``max_memory_gb`` parameters and refuses the run with one
:class:`~cclib.book.params.ParameterError` above either limit, so a run that would take days or
allocate terabytes never starts (in the CLI and in a direct papermill run alike).

The estimates count what grows with the configuration: the loss history (at most
``MAX_LOSS_ROWS`` rows x instances, float32, held on the device, on the host and serialised
for the cache), the parameters with their gradients and both AdamW moments, the mixing
matrices of the labels, and the activations of one batch (forward and backward). They are
upper-bound estimates meant to catch mistakes by orders of magnitude, not to predict usage
exactly.

This module imports nothing heavy: it runs inside ``cclib.configure``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

FLOAT_BYTES = 4
LOSS_COPIES = 3  # device tensor, host copy, serialised bytes of the cache payload
MAX_LOSS_ROWS = 1 << 17
"""Rows of the loss history at most (``cclib.engine.training.MAX_LOSS_ROWS``; a test keeps them
equal): longer runs record window means, so the history stops growing with the steps."""
STATE_COPIES = 4  # parameters, gradients, AdamW first and second moments

MAX_STEPS_DEFAULT = 1_000_000
"""Default ``max_steps``. Paper 000 trains for 10,000 non-empty batches (appendix B); at
p = 0.001, the low end of its p axes, with n = 100 the non-empty scaling makes that about
105,000 steps. One million leaves ten times that headroom, and is already hours of
training on a CPU; anything beyond it is almost surely a typo (p = 1e-12) and gets refused
with a message instead of running for days."""


def machine_memory_bytes() -> int | None:
    """Physical memory of this machine from ``sysconf`` (None where unavailable)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def default_max_memory_gb() -> float:
    """Default ``max_memory_gb``: half of the machine's RAM, at most 8 GB (rounded down to
    0.5 GB; 8 GB where the RAM cannot be read). A fixed share of the installed memory, not
    of what happens to be free, so the default is the same on every run on one machine."""
    total = machine_memory_bytes()
    if total is None:
        return 8.0
    half_gb = total / 2 / 1e9
    return max(0.5, min(8.0, math.floor(half_gb * 2) / 2))


@dataclass(frozen=True)
class Budget:
    """What a configuration implies: the most steps one instance trains (``steps``) and the
    estimated peak memory in bytes of the largest single run (``memory``). ``steps_reason``
    and ``memory_reason`` say which parameters drive each number, in words a user can act on
    (e.g. ``"p = 1e-12 with nonempty_steps = true scales steps = 40 by 1/(1-(1-p)^n)"``)."""

    steps: int
    steps_reason: str
    memory: float
    memory_reason: str


BudgetFunction = Callable[[Any], Budget]
"""Resolved chapter configuration -> :class:`Budget` (see ``ChapterSpec.budget``)."""


# --------------------------------------------------------------------------- steps


def nonempty_horizon(steps: int, p: float, n: int) -> int:
    """``steps / (1 - (1-p)^n)`` rounded up: the same formula as
    :func:`cclib.engine.training.nonempty_horizon` (a test keeps them equal), without torch. A
    horizon too large for a float is returned as a huge int rather than overflowing."""
    fraction = 1.0 - (1.0 - p) ** n
    if fraction <= 0.0:
        fraction = -math.expm1(n * math.log1p(-p))  # (1-p)^n rounds to 1 in float
    if fraction <= 0.0:
        return 10**30
    horizon = steps / fraction
    return int(math.ceil(horizon)) if math.isfinite(horizon) else 10**30


def training_steps(cfg: Any, steps: int | None = None) -> tuple[int, str]:
    """Steps of one instance of a chapter using ``training_params`` and ``model_params``
    (``steps`` replaces ``cfg.steps``, e.g. for fine-tuning), with the reason in words."""
    steps = cfg.steps if steps is None else steps
    if not cfg.nonempty_steps:
        return steps, f"steps = {steps:,}"
    horizon = nonempty_horizon(steps, cfg.p, cfg.n_features)
    reason = (
        f"p = {cfg.p:g} with nonempty_steps = true scales steps = {steps:,} "
        f"by 1/(1-(1-p)^n) (n = {cfg.n_features})"
    )
    return horizon, reason


# --------------------------------------------------------------------------- memory


def gb(nbytes: float) -> str:
    """``nbytes`` in words: ``3.2 TB``, ``12 GB``, ``40 MB``."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if nbytes >= size:
            return f"{nbytes / size:.3g} {unit}"
    return f"{nbytes / 1e3:.3g} kB"


@dataclass(frozen=True)
class RunMemory:
    """Estimated memory of one batched training run, by part (bytes)."""

    losses: float
    state: float
    labels: float
    activations: float

    @property
    def total(self) -> float:
        return self.losses + self.state + self.labels + self.activations

    def describe(self) -> str:
        return (
            f"loss history {gb(self.losses)}, parameters and optimiser state {gb(self.state)}, "
            f"label matrices {gb(self.labels)}, activations {gb(self.activations)}"
        )


def run_memory(
    instances: int,
    steps: int,
    parameters: int,
    activations: int,
    labels: int = 0,
) -> RunMemory:
    """Memory of one run of ``instances`` models trained for ``steps`` steps, each with
    ``parameters`` trainable numbers, ``activations`` numbers per batch in the forward pass
    (the backward pass doubles them) and ``labels`` numbers of fixed label data."""
    rows = min(steps, MAX_LOSS_ROWS)
    return RunMemory(
        losses=float(rows) * instances * FLOAT_BYTES * LOSS_COPIES,
        state=float(instances) * parameters * FLOAT_BYTES * STATE_COPIES,
        labels=float(instances) * labels * FLOAT_BYTES,
        activations=2.0 * instances * activations * FLOAT_BYTES,
    )


def mlp_memory(instances: int, steps: int, n: int, d: int, batch: int) -> RunMemory:
    """One run of the paper-000 MLP (``W_in: d x n``, ``W_out: n x d``) on ``ReLU(x) + M x``
    labels: per sample the input, labels, output and error (``n`` each) and two ``d``-vectors."""
    return run_memory(instances, steps, 2 * n * d, batch * (4 * n + 2 * d), labels=n * n)


def residual_memory(
    instances: int, steps: int, n: int, d: int, width: int, batch: int
) -> RunMemory:
    """One run of the residual model (``W_E: width x n`` frozen, ``W'_in: d x width``,
    ``W'_out: width x d``); the stream adds three ``width``-vectors per sample."""
    return run_memory(
        instances,
        steps,
        2 * width * d,
        batch * (4 * n + 2 * d + 3 * width),
        labels=width * n,
    )


def universal_and_memory(instances: int, steps: int, m: int, d: int, batch: int) -> RunMemory:
    """One run of the Universal-AND model (paper 004): ``W: d x m``, readout ``R: P x d``
    with ``P = m (m-1)/2`` pair outputs, which dominates for large ``m``; per sample the
    inputs, hidden layer and the output, labels and error over all ``P`` pairs."""
    pairs = m * (m - 1) // 2
    return run_memory(
        instances, steps, d * m + d + pairs * d + pairs, batch * (m + 2 * d + 3 * pairs)
    )


# --------------------------------------------------------------------------- budgets


def mlp_budget(
    instances: Callable[[Any], int] | None = None,
    extra_steps: Callable[[Any], int] | None = None,
    what: str = "seeds = {cfg.seeds}",
) -> BudgetFunction:
    """Budget function of a chapter that trains paper-000 MLPs with ``model_params`` and
    ``training_params``. ``instances(cfg)`` is the number of instances of its largest run
    (default ``cfg.seeds``) and ``what`` says so in words (formatted with ``cfg``);
    ``extra_steps(cfg)``, if given, is a second step count (e.g. fine-tuning) that the
    non-empty scaling also applies to."""
    count = instances or (lambda cfg: cfg.seeds)

    def budget(cfg: Any) -> Budget:
        steps, steps_reason = training_steps(cfg)
        if extra_steps is not None:
            more, more_reason = training_steps(cfg, extra_steps(cfg))
            if more > steps:
                steps, steps_reason = more, more_reason
        k = count(cfg)
        memory = mlp_memory(k, steps, cfg.n_features, cfg.n_neurons, cfg.batch_size)
        reason = (
            f"{k} instances ({what.format(cfg=cfg)}), {steps:,} steps, "
            f"batch_size = {cfg.batch_size}: {memory.describe()}"
        )
        return Budget(steps, steps_reason, memory.total, reason)

    return budget


default_budget = mlp_budget()
"""The budget of a chapter whose largest run is ``seeds`` MLPs (the naive baseline)."""


def mixing_budget(cfg: Any) -> Budget:
    """The mixing chapter: its largest run is either the conditions sweep (six label kinds
    x ``seeds``) or the sigma sweep (two kinds x ``sigma_points`` x ``sigma_seeds``); the
    fine-tuning run trains ``finetune_steps``."""
    conditions = 6 * cfg.seeds
    sweep = 2 * cfg.sigma_points * cfg.sigma_seeds
    what = (
        "6 conditions x seeds = {cfg.seeds}"
        if conditions >= sweep
        else "2 kinds x sigma_points = {cfg.sigma_points} x sigma_seeds = {cfg.sigma_seeds}"
    )
    return mlp_budget(
        instances=lambda cfg: max(conditions, sweep),
        extra_steps=lambda cfg: cfg.finetune_steps,
        what=what,
    )(cfg)


def equivalence_budget(cfg: Any) -> Budget:
    """The equivalence chapter: ``seeds`` residual models of stream ``width``, or the sign
    comparison's 2 x ``sign_seeds`` MLPs, whichever needs more memory."""
    steps, steps_reason = training_steps(cfg)
    n, d, batch = cfg.n_features, cfg.n_neurons, cfg.batch_size
    residual = residual_memory(cfg.seeds, steps, n, d, cfg.width, batch)
    sign = mlp_memory(2 * cfg.sign_seeds, steps, n, d, batch)
    if residual.total >= sign.total:
        memory = residual
        what = f"{cfg.seeds} residual models (seeds = {cfg.seeds}, width = {cfg.width})"
    else:
        memory = sign
        what = f"{2 * cfg.sign_seeds} MLPs (2 signs x sign_seeds = {cfg.sign_seeds})"
    reason = f"{what}, {steps:,} steps, batch_size = {batch}: {memory.describe()}"
    return Budget(steps, steps_reason, memory.total, reason)
