"""The parameter specifications of Part II's chapters (paper 004, Universal-AND).

Each chapter registers its ``ChapterSpec`` here with ``specs.register``, in its own block;
``cclib.book.specs`` imports this module once its own (Part I) chapters are registered,
so ``get_spec`` and ``SPECS`` see both parts.
"""

from __future__ import annotations

from .specs import register  # noqa: F401  (used by the blocks below)

# --------------------------------------------------------------------------- uand_training
# (owner: the uand_training chapter; issue 9 part 1)
#: Samples per evaluation chunk (``cclib.universal_and.evaluation.CHUNK``; a test keeps
#: them equal, the specs must not import torch).
UAND_EVAL_CHUNK = 1024

from ..universal_and.grid import parse_grid  # noqa: E402
from .budget import (  # noqa: E402
    MAX_STEPS_DEFAULT,
    Budget,
    default_max_memory_gb,
    gb,
    universal_and_memory,
)
from .params import (  # noqa: E402
    ChapterSpec,
    Param,
    Relation,
    batch_size_param,
    count_param,
    float_param,
    lr_param,
    max_hours_param,
    non_negative,
    not_greater,
    positive,
    seeds_param,
    steps_param,
    weight_decay_param,
)


def _grid_check(minimum: int):
    def check(text: str) -> str | None:
        try:
            parse_grid(text, minimum)
        except ValueError as error:
            return str(error)
        return None

    check.description = f"comma-separated increasing integers >= {minimum}"  # type: ignore[attr-defined]
    return check


def grid_param(name: str, values, help: str, minimum: int = 1) -> Param:
    """A comma-separated grid of integers (``"2,3,5"``), checked before any work."""
    return Param(name, str, help, values, check=_grid_check(minimum))


def uand_training_params() -> tuple[Param, ...]:
    """The sizes, grid and training settings of the ``uand_training`` sweep (other Part II
    chapters that reuse its runs take these same ``Param`` objects)."""
    return (
        count_param(
            "m",
            {"smoke": 8, "quick": 30, "paper": 100},
            "number of boolean inputs m (outputs: m(m-1)/2 pairs)",
            minimum=4,
        ),
        grid_param(
            "d_values",
            {"smoke": "4,8", "quick": "10,30,100", "paper": "20,200,2000,5000,10000"},
            "neurons d of the sweep, comma-separated and increasing",
        ),
        grid_param(
            "s_values",
            {"smoke": "2,3", "quick": "2,3,5,10", "paper": "2,3,5,10,20"},
            "active inputs s of the sweep (exactly s on), comma-separated, each <= m",
        ),
        seeds_param(
            {"smoke": 2, "quick": 2, "paper": 3}, help="training seeds per (d, s), at least 2"
        ),
        steps_param({"smoke": 30, "quick": 2000, "paper": 10000}, help="training steps per model"),
        batch_size_param({"smoke": 32, "quick": 256, "paper": 2048}),
        lr_param(2e-2, help="peak learning rate of AdamW (cosine schedule to zero)"),
        weight_decay_param(0.1, help="AdamW weight decay on every parameter"),
        count_param(
            "max_steps",
            MAX_STEPS_DEFAULT,
            "most training steps one instance may take",
        ),
        float_param(
            "max_memory_gb",
            default_max_memory_gb(),
            "largest estimated memory of one training run in GB (default: half the RAM, <= 8)",
            positive,
        ),
        max_hours_param(),
    )


def _s_at_most_m(values) -> bool:
    return max(parse_grid(values["s_values"])) <= values["m"]


s_values_at_most_m = Relation(
    _s_at_most_m,
    "every s of s_values <= m",
    lambda v: f"parameter 's_values': every s must be <= m (= {v['m']}), got {v['s_values']!r}",
)

two_seeds = Relation(
    lambda v: v["seeds"] >= 2,
    "seeds >= 2",
    lambda v: f"parameter 'seeds': a spread over seeds needs at least 2, got {v['seeds']}",
)


def claim_s_in_grid(name: str) -> Relation:
    """``values[name]`` is one of ``s_values``."""
    return Relation(
        lambda v: v[name] in parse_grid(v["s_values"]),
        f"{name} in s_values",
        lambda v: f"parameter {name!r}: must be one of s_values ({v['s_values']}), got {v[name]}",
    )


def uand_memory(cfg) -> tuple[float, str]:
    """Estimated peak memory of the sweep's largest step: training one ``(d, s)`` at the
    largest ``d`` (``seeds`` instances), or evaluating that ``d``'s whole run (every ``s``
    and seed, in chunks of ``UAND_EVAL_CHUNK`` samples), whichever is larger."""
    d = max(parse_grid(cfg.d_values))
    instances = len(parse_grid(cfg.s_values)) * cfg.seeds
    pairs = cfg.m * (cfg.m - 1) // 2
    train = universal_and_memory(cfg.seeds, cfg.steps, cfg.m, d, cfg.batch_size)
    parameters = instances * (d * cfg.m + d + pairs * d + pairs) * 4
    evaluation = parameters + 2 * instances * UAND_EVAL_CHUNK * (cfg.m + d + 4 * pairs) * 4
    if train.total >= evaluation:
        reason = (
            f"training {cfg.seeds} models (seeds = {cfg.seeds}) at m = {cfg.m}, d = {d} "
            f"(largest of d_values), batch_size = {cfg.batch_size}: {train.describe()}"
        )
        return train.total, reason
    reason = (
        f"evaluating the {instances} models (s_values x seeds) at m = {cfg.m}, d = {d}: "
        f"{gb(parameters)} of weights and {gb(evaluation - parameters)} of outputs"
    )
    return evaluation, reason


def uand_training_budget(cfg) -> Budget:
    """The ``uand_training`` chapter: every model trains ``steps``; the memory is that of
    :func:`uand_memory`."""
    memory, reason = uand_memory(cfg)
    check = universal_and_memory(cfg.seeds, cfg.steps, cfg.check_m, cfg.check_d, cfg.batch_size)
    if check.total > memory:
        memory = check.total
        reason = (
            f"training {cfg.seeds} models (seeds = {cfg.seeds}) at check_m = {cfg.check_m}, "
            f"check_d = {cfg.check_d}, batch_size = {cfg.batch_size}: {check.describe()}"
        )
    return Budget(cfg.steps, f"steps = {cfg.steps:,}", memory, reason)


register(
    ChapterSpec(
        "uand_training",
        "Training on Universal-AND",
        (
            *uand_training_params(),
            count_param(
                "s_low", 3, "the low s of the claims (solves, binary circuit), one of s_values"
            ),
            count_param(
                "s_high",
                {"smoke": 3, "quick": 10, "paper": 10},
                "the high s of the degenerate-solution claim, one of s_values",
            ),
            count_param(
                "eval_samples",
                {"smoke": 128, "quick": 4096, "paper": 16384},
                "fresh samples on which each model's loss, case errors and accuracy are measured",
            ),
            float_param(
                "alt_weight_decay",
                0.01,
                "weight decay of the robustness run (at s_low and the middle d of the grid)",
                non_negative,
            ),
            count_param(
                "check_m",
                {"smoke": 10, "quick": 100, "paper": 30},
                "inputs m of the check at another m (at s_low and check_d neurons)",
                minimum=4,
            ),
            count_param(
                "check_d",
                {"smoke": 8, "quick": 100, "paper": 100},
                "neurons d of the check at another m",
            ),
        ),
        relations=(
            s_values_at_most_m,
            not_greater("s_low", "check_m"),
            two_seeds,
            claim_s_in_grid("s_low"),
            claim_s_in_grid("s_high"),
        ),
        budget=uand_training_budget,
    )
)
# --------------------------------------------------------------------------- end uand_training


# --------------------------------------------------------------------------- uand_readout
# (owner: the uand_readout chapter; issue 9 part 2)
from .params import Relation, choice_param, d_param  # noqa: E402

#: Parameters the readout chapter takes from ``uand_training`` (the same ``Param``
#: objects), so that its models at a ``d`` of that sweep are the same cache entries.
UAND_READOUT_SHARED = (
    "m",
    "seeds",
    "steps",
    "batch_size",
    "lr",
    "weight_decay",
    "max_steps",
    "max_memory_gb",
    "max_hours",
)


def uand_readout_budget(cfg) -> Budget:
    """The readout chapter trains (or reads) one run per ``s`` (``s_low``, ``s_high``) of
    ``seeds`` models at ``(m, d)``. Its closed-form readouts hold at most ``2^24`` sampled
    numbers per chunk of pairs and one ``(d+1)^2`` Gram matrix per pair of a chunk."""
    memory = universal_and_memory(cfg.seeds, cfg.steps, cfg.m, cfg.d, cfg.batch_size)
    reason = (
        f"training {cfg.seeds} models (seeds = {cfg.seeds}) at m = {cfg.m}, d = {cfg.d} "
        f"({cfg.m * (cfg.m - 1) // 2} pair outputs), batch_size = {cfg.batch_size}: "
        f"{memory.describe()}"
    )
    return Budget(cfg.steps, f"steps = {cfg.steps:,}", memory.total, reason)


UAND_READOUT_RELATIONS = (
    Relation(
        lambda v: v["s_low"] >= 3,
        "s_low >= 3",
        lambda v: f"parameter 's_low': must be >= 3 (the 3-input AND), got {v['s_low']}",
    ),
    Relation(
        lambda v: v["s_low"] < v["s_high"] <= v["m"] - 3,
        "s_low < s_high <= m - 3",
        lambda v: (
            f"parameter 's_high': need s_low < s_high <= m - 3 (every state of a 3-input "
            f"group possible), got s_low = {v['s_low']}, s_high = {v['s_high']}, m = {v['m']}"
        ),
    ),
)


register(
    ChapterSpec(
        "uand_readout",
        "Reading an AND out of a dense circuit",
        (
            *(p for p in uand_training_params() if p.name in UAND_READOUT_SHARED),
            d_param(
                {"smoke": 8, "quick": 100, "paper": 2000},
                help="neurons of the analysed models (one of uand_training's d_values: "
                "its models are reused)",
            ),
            count_param("s_low", 3, "active inputs of the sparse models, at least 3"),
            count_param(
                "s_high",
                {"smoke": 5, "quick": 10, "paper": 10},
                "active inputs of the models where the circuit does not form, <= m - 3",
            ),
            count_param(
                "pairs", {"smoke": 6, "quick": 48, "paper": 200}, "pairs (i, j) analysed per model"
            ),
            count_param(
                "triples",
                {"smoke": 4, "quick": 24, "paper": 100},
                "input triples of the 3-input AND per model",
            ),
            count_param(
                "fit_samples",
                {"smoke": 128, "quick": 2048, "paper": 8192},
                "conditional samples per state of a group for the closed-form readouts",
                minimum=2,
            ),
            count_param(
                "eval_samples",
                {"smoke": 128, "quick": 1024, "paper": 4096},
                "fresh conditional samples per state for evaluating readouts",
            ),
            float_param(
                "ridge",
                1e-6,
                "ridge penalty of the closed-form readouts relative to the mean activation "
                "power, in [0, 1]",
                lambda v: None if 0 <= v <= 1 else "must be in [0, 1]",
            ),
            choice_param(
                "bias_rule",
                "learned",
                "how the free readout bias of the class prediction is fixed: learned (the "
                "trained bias) or min_norm (smallest readout)",
                ("learned", "min_norm"),
            ),
            choice_param(
                "tables",
                "sampled",
                "class truth tables of the prediction: sampled (interference included) or "
                "ideal (ReLU of the fitted u, w, b alone)",
                ("sampled", "ideal"),
            ),
            choice_param(
                "frozen_share",
                "trained",
                "share of u weights in the random binary layer (and the moments of the Gaussian "
                "one): trained (the trained circuit's mean share) or half",
                ("trained", "half"),
            ),
        ),
        relations=UAND_READOUT_RELATIONS,
        budget=uand_readout_budget,
    )
)
# --------------------------------------------------------------------------- end uand_readout


# --------------------------------------------------------------------------- uand_variance
# (owner: the uand_variance chapter; issue 10)
from .params import ParameterError as _ParameterError  # noqa: E402
from .params import Relation as _Relation  # noqa: E402
from .params import float_param as _float_param  # noqa: E402
from .params import in_open_closed as _in_open_closed  # noqa: E402


def _in_grid(name: str, grid: str) -> _Relation:
    """``values[name]`` is one of the grid ``values[grid]``."""
    return _Relation(
        lambda v: v[name] in parse_grid(v[grid]),
        f"{name} in {grid}",
        lambda v: f"parameter {name!r}: must be one of {grid} ({v[grid]}), got {v[name]}",
    )


UAND_VARIANCE_RELATIONS = (
    two_seeds,
    _in_grid("crossover_m", "m_values"),
    _in_grid("crossover_d", "d_values"),
    _Relation(
        lambda v: max(parse_grid(v["s_values"])) <= min(parse_grid(v["m_values"])),
        "every s <= every m",
        lambda v: (
            f"parameter 's_values': every s must be <= the smallest m of m_values "
            f"({v['m_values']}), got {v['s_values']}"
        ),
    ),
    _Relation(
        lambda v: len([s for s in parse_grid(v["s_values"]) if s >= v["fit_s_min"]]) >= 2,
        "two s >= fit_s_min",
        lambda v: (
            f"parameter 'fit_s_min': at least two s of s_values ({v['s_values']}) must be "
            f">= fit_s_min, got {v['fit_s_min']}"
        ),
    ),
    _Relation(
        lambda v: v["dense_w"] < 0 < v["dense_u"] and v["dense_b"] > 0,
        "dense_w < 0 < dense_u, dense_b > 0",
        lambda v: (
            "parameters 'dense_u', 'dense_w', 'dense_b': the dense circuit needs u > 0 > w and "
            f"b > 0, got u = {v['dense_u']}, w = {v['dense_w']}, b = {v['dense_b']}"
        ),
    ),
)

#: Neuron activations the variance simulation holds at once
#: (``cclib.universal_and.variance_simulation.CHUNK_ELEMENTS``; a test keeps them equal).
UAND_VARIANCE_CHUNK = 1 << 22


def uand_variance_budget(cfg) -> Budget:
    """The variance chapter's simulations hold one network's weights, the sampled inputs of
    one instance and a bounded chunk of activations; its trained comparison reads (or
    trains) the ``uand_training`` runs of the same profile, whose budget applies."""
    from .specs import get_spec

    train_cfg = get_spec("uand_training").resolve(cfg.profile)
    if cfg.trained_s not in parse_grid(train_cfg.s_values):
        raise _ParameterError(
            f"parameter 'trained_s': must be one of uand_training's s_values at profile "
            f"{cfg.profile} ({train_cfg.s_values}), got {cfg.trained_s}"
        )
    d, m = max(parse_grid(cfg.d_values)), max(parse_grid(cfg.m_values))
    s = max(parse_grid(cfg.s_values))
    sim = 4.0 * (
        cfg.seeds * d * m
        + 2 * (m + 1) * d
        + 3 * UAND_VARIANCE_CHUNK
        + 4 * cfg.pairs * cfg.samples * (m + s + 1)
    )
    train_memory, train_reason = uand_memory(train_cfg)
    if sim >= train_memory:
        reason = (
            f"simulating d = {d} neurons (largest of d_values) at m = {m}, {cfg.pairs} pairs "
            f"x {cfg.samples} samples per instance: {gb(sim)}"
        )
        return Budget(train_cfg.steps, f"steps = {train_cfg.steps:,}", sim, reason)
    return Budget(
        train_cfg.steps,
        f"steps = {train_cfg.steps:,} (uand_training's models at profile {cfg.profile})",
        train_memory,
        f"the trained comparison: {train_reason}",
    )


register(
    ChapterSpec(
        "uand_variance",
        "Variance of the readout, dense against sparse",
        (
            grid_param(
                "m_values",
                {"smoke": "12", "quick": "30,100", "paper": "30,100"},
                "inputs m of the simulation grid, comma-separated and increasing",
            ),
            grid_param(
                "d_values",
                {
                    "smoke": "100,300",
                    "quick": "300,1000,3000,10000,30000",
                    "paper": "300,1000,3000,10000,30000,100000",
                },
                "neurons d of the simulation grid, comma-separated and increasing",
            ),
            grid_param(
                "s_values",
                {
                    "smoke": "2,3,4",
                    "quick": "2,3,4,6,8,10,12,16",
                    "paper": "2,3,4,6,8,10,12,16,20,24",
                },
                "active inputs s of the simulation grid (each >= 2)",
                minimum=2,
            ),
            seeds_param(
                {"smoke": 2, "quick": 4, "paper": 6},
                help="networks (construction seeds) per grid point, at least 2",
            ),
            count_param(
                "pairs",
                {"smoke": 4, "quick": 32, "paper": 64},
                "random pairs (i, j) per network and input sub-case",
            ),
            count_param(
                "samples",
                {"smoke": 8, "quick": 24, "paper": 64},
                "inputs per pair and sub-case in the simulation",
                minimum=2,
            ),
            _float_param("dense_u", 1.0, "dense circuit: the positive weight u, > 0"),
            _float_param("dense_w", -2.0, "dense circuit: the negative weight w, < 0"),
            _float_param("dense_b", 1.0, "dense circuit: the bias b, > 0"),
            count_param(
                "crossover_m",
                {"smoke": 12, "quick": 30, "paper": 100},
                "m of the crossover claims (one of m_values)",
            ),
            count_param(
                "crossover_d",
                {"smoke": 300, "quick": 30000, "paper": 100000},
                "d of the crossover claims (one of d_values)",
            ),
            count_param(
                "fit_s_min",
                {"smoke": 3, "quick": 4, "paper": 4},
                "smallest s in the fit of the dense exponent in s",
                minimum=2,
            ),
            _float_param(
                "tolerance",
                0.05,
                "relative difference of prediction and simulation that counts as agreement, "
                "in (0, 1]",
                _in_open_closed(0.0, 1.0),
            ),
            _float_param(
                "z",
                3.0,
                "standard errors (over seeds) that also count as agreement, positive",
                positive,
            ),
            _float_param(
                "exponent_tolerance",
                0.15,
                "largest difference of a fitted exponent from its prediction that agrees, positive",
                positive,
            ),
            count_param(
                "trained_s",
                3,
                "s of the trained-against-dense claim (one of uand_training's s_values)",
                minimum=2,
            ),
            count_param(
                "eval_samples",
                {"smoke": 128, "quick": 4096, "paper": 16384},
                "fresh samples on which each trained model's case errors are measured",
            ),
            count_param(
                "max_steps",
                MAX_STEPS_DEFAULT,
                "most training steps one instance may take (uand_training's models)",
            ),
            _float_param(
                "max_memory_gb",
                default_max_memory_gb(),
                "largest estimated memory of one run in GB (default: half the RAM, <= 8)",
                positive,
            ),
            max_hours_param(),
        ),
        relations=UAND_VARIANCE_RELATIONS,
        budget=uand_variance_budget,
    )
)
# --------------------------------------------------------------------------- end uand_variance
