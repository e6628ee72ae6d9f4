"""The parameter specification of every chapter (one entry per ``book/<name>.py``).

``python -m cclib params <name>`` prints a chapter's table. A test checks that each
chapter's ``parameters`` cell names exactly these parameters plus ``profile``.
"""

from __future__ import annotations

from ..compressed.grid import format_probabilities, parse_probabilities
from .budget import MAX_STEPS_DEFAULT, default_max_memory_gb, equivalence_budget, mixing_budget
from .params import (
    ChapterSpec,
    Param,
    ParameterError,
    Relation,
    batch_size_param,
    bool_param,
    choice_param,
    count_param,
    float_param,
    in_open_closed,
    lr_param,
    mixing_param,
    p_param,
    positive,
    seeds_param,
    sigma_param,
    steps_param,
    weight_decay_param,
)

SPECS: dict[str, ChapterSpec] = {}


def register(spec: ChapterSpec) -> ChapterSpec:
    if spec.name in SPECS:
        raise ValueError(f"chapter {spec.name!r} registered twice")
    SPECS[spec.name] = spec
    return spec


def get_spec(name: str) -> ChapterSpec:
    """The spec of chapter ``name``, or a :class:`ParameterError` listing the chapters."""
    try:
        return SPECS[name]
    except (KeyError, TypeError):
        raise ParameterError(
            f"unknown chapter {name!r}; available: {', '.join(sorted(SPECS))}"
        ) from None


def profile_value(chapter: str, name: str, profile: str):
    """The default of parameter ``name`` of ``chapter`` under ``profile`` (a chapter that
    reuses another chapter's sweeps asks for that chapter's setting with this)."""
    return get_spec(chapter).param(name).values[profile]


NONEMPTY_HELP = "scale steps by 1/(1-(1-p)^n) so the number of non-empty batches matches the paper"


def model_params(
    p_help: str = "feature probability during training, in (0, 1]",
) -> tuple[Param, ...]:
    """``p``, ``n_features`` and ``n_neurons`` of the paper-000 MLP (defaults: the paper's)."""
    return (
        p_param(0.01, help=p_help),
        count_param("n_features", 100, "number of input features n"),
        count_param("n_neurons", 50, "number of ReLU neurons d"),
    )


def eval_samples_param(values: dict[str, int]) -> Param:
    """``eval_samples``: evaluation samples per stratum of active-feature count."""
    return count_param(
        "eval_samples", values, "evaluation samples per stratum of active-feature count"
    )


def p_points_param(values: dict[str, int]) -> Param:
    """``p_points``: points of the log grid of evaluation p from 1e-3 to 1."""
    return count_param(
        "p_points", values, "points of the log grid of evaluation p from 1e-3 to 1", minimum=2
    )


#: Paper 000's training (appendix B): 10,000 non-empty batches of 2048, lr 0.003 cosine.
PAPER_STEPS, PAPER_BATCH = 10_000, 2048


def training_params(smoke_steps: int, smoke_batch: int) -> tuple[Param, ...]:
    """``steps``, ``batch_size``, ``lr``, ``weight_decay`` and ``nonempty_steps``, then the
    limits ``max_steps`` and ``max_memory_gb`` that a chapter's budget is checked against
    before any work starts (see ``cclib.book.budget``). Every profile above smoke trains
    as the paper does (appendix B: 10,000 non-empty batches of 2048, lr 0.003 cosine);
    smoke trains ``smoke_steps`` batches of ``smoke_batch``, only to check that all runs."""
    return (
        steps_param({"smoke": smoke_steps, "quick": PAPER_STEPS, "paper": PAPER_STEPS}),
        batch_size_param({"smoke": smoke_batch, "quick": PAPER_BATCH, "paper": PAPER_BATCH}),
        lr_param(3e-3),
        weight_decay_param(0.01),
        bool_param("nonempty_steps", {"smoke": False, "quick": True, "paper": True}, NONEMPTY_HELP),
        count_param(
            "max_steps",
            MAX_STEPS_DEFAULT,
            "most training steps one instance may take after the non-empty scaling",
        ),
        float_param(
            "max_memory_gb",
            default_max_memory_gb(),
            "largest estimated memory of one training run in GB (default: half the RAM, <= 8)",
            positive,
        ),
    )


register(ChapterSpec("claims", "Claims"))

register(
    ChapterSpec(
        "naive_baseline",
        "The naive baseline",
        (
            *model_params(),
            mixing_param("clean"),
            sigma_param(0.02),
            seeds_param({"smoke": 2, "quick": 3, "paper": 5}),
            *training_params(40, 256),
            eval_samples_param({"smoke": 256, "quick": 16384, "paper": 65536}),
            count_param(
                "mc_samples",
                {"smoke": 20000, "quick": 2_000_000, "paper": 8_000_000},
                "Monte Carlo samples for the naive baseline loss",
            ),
            count_param(
                "sigma_grid",
                {"smoke": 3, "quick": 9, "paper": 17},
                "number of sigma values (0 to 2 sigma) for the naive-with-mixing check",
                minimum=2,
            ),
            float_param(
                "tolerance",
                0.03,
                "largest relative distance from the naive loss that counts as a match, in (0, 1)",
                in_open_closed(0.0, 1.0),
            ),
        ),
    )
)

register(
    ChapterSpec(
        "equivalence",
        "The residual model and its one-layer equivalent",
        (
            *model_params(),
            count_param("width", 1000, "residual stream width of the embedding", minimum=2),
            count_param(
                "embedding_seed", 0, "seed of the frozen embedding W_E (and of M)", minimum=0
            ),
            count_param(
                "seeds",
                {"smoke": 2, "quick": 3, "paper": 5},
                "training seeds of the residual model and of the MLP from its mapped init "
                "(a spread needs 2)",
                minimum=2,
            ),
            count_param(
                "sign_seeds",
                {"smoke": 2, "quick": 3, "paper": 5},
                "training seeds per sign in the comparison of M with its negative "
                "(a spread needs 2)",
                minimum=2,
            ),
            *training_params(20, 128),
            eval_samples_param({"smoke": 256, "quick": 16384, "paper": 65536}),
            count_param(
                "function_samples",
                {"smoke": 256, "quick": 4096, "paper": 16384},
                "random inputs on which the two forward passes are compared",
            ),
            float_param(
                "function_tolerance",
                1e-10,
                "largest max-abs output difference in float64 that counts as equal, in (0, 1]",
                in_open_closed(0.0, 1.0),
            ),
            count_param(
                "histogram_embeddings",
                {"smoke": 4, "quick": 50, "paper": 200},
                "embeddings whose M eigenvalues are pooled in the spectrum figure",
                minimum=2,
            ),
            float_param(
                "z",
                3.0,
                "standard errors a difference must exceed to count as resolved, positive",
                in_open_closed(0.0, 100.0),
            ),
        ),
        budget=equivalence_budget,
    )
)

register(
    ChapterSpec(
        "mixing",
        "The advantage needs mixing and scales with it",
        (
            *model_params(
                "feature probability during training (and of the sigma sweep), in (0, 1]"
            ),
            sigma_param(
                0.02,
                help="std of the Gaussian mixing matrices of the p-profile figure "
                "(initial value when learned)",
            ),
            seeds_param(
                {"smoke": 2, "quick": 3, "paper": 5},
                help="training seeds per condition of the p-profile figure and of the transplant",
            ),
            float_param(
                "sigma_max",
                0.08,
                "largest sigma of the sigma sweep (the grid starts at 0), positive",
                in_open_closed(0.0, 10.0),
            ),
            count_param(
                "sigma_points",
                {"smoke": 5, "quick": 7, "paper": 41},
                "number of equally spaced sigma values of the sweep, at least 5",
                minimum=5,
            ),
            seeds_param(
                {"smoke": 2, "quick": 3, "paper": 3},
                name="sigma_seeds",
                help="training seeds per sigma and kind in the sigma sweep",
            ),
            bool_param(
                "vary_matrix",
                True,
                "seed s also draws its own unit mixing matrix (mixing_seed s); "
                "false: one matrix for all seeds",
            ),
            *training_params(40, 128),
            choice_param(
                "transplant_mixing",
                "embedding",
                "mixing of the models that are fine-tuned on clean labels",
                ("gaussian", "symmetric", "embedding"),
            ),
            steps_param(
                {"smoke": 20, "quick": PAPER_STEPS, "paper": PAPER_STEPS},
                name="finetune_steps",
                help="fine-tuning steps on clean labels (fresh AdamW state, new cosine schedule)",
            ),
            p_points_param({"smoke": 7, "quick": 31, "paper": 100}),
            eval_samples_param({"smoke": 256, "quick": 8192, "paper": 65536}),
            count_param(
                "bootstrap",
                {"smoke": 200, "quick": 2000, "paper": 5000},
                "bootstrap resamples of the seeds for the optimum of the sigma sweep",
                minimum=10,
            ),
            count_param(
                "fit_points",
                2,
                "grid points on each side of the lowest point used in the parabola fit",
            ),
            float_param(
                "tolerance",
                0.03,
                "relative margin over the naive loss that counts as beating it, in (0, 1)",
                in_open_closed(0.0, 1.0),
            ),
            float_param(
                "z",
                2.0,
                "standard errors by which a margin must clear the tolerance, positive",
                in_open_closed(0.0, 100.0),
            ),
            float_param(
                "sigma_tolerance",
                0.01,
                "largest distance of the optimal sigma from the paper's 0.03 that still agrees",
                in_open_closed(0.0, 1.0),
            ),
            float_param(
                "revert_within",
                0.1,
                "share of the fine-tuning run within which the transplant must revert",
                in_open_closed(0.0, 1.0),
            ),
        ),
        budget=mixing_budget,
    )
)

# --------------------------------------------------------------------------- mechanism


def mechanism_budget(cfg):
    """The mechanism chapter: its largest run is the mixing chapter's conditions sweep
    (six label kinds x ``seeds``; read from the cache when that chapter has run)."""
    from .budget import mlp_budget

    return mlp_budget(
        instances=lambda cfg: 6 * cfg.seeds, what="6 mixing conditions x seeds = {cfg.seeds}"
    )(cfg)


register(
    ChapterSpec(
        "mechanism",
        "What the trained model computes",
        (
            *model_params(),
            sigma_param(
                0.02,
                help="std of the Gaussian M of the mixing chapter's models analysed here",
            ),
            sigma_param(
                0.03,
                name="sigma_opt",
                help="std of the Gaussian M at its loss optimum (the paper's ~0.03; see mixing)",
            ),
            seeds_param(
                {"smoke": 2, "quick": 3, "paper": 5},
                help="training seeds per mixing matrix (as the mixing chapter's p-profile sweep)",
            ),
            bool_param(
                "vary_matrix",
                True,
                "seed s also draws its own unit mixing matrix; false: one matrix for all seeds",
            ),
            *training_params(40, 128),
            choice_param(
                "drop_rule",
                "step",
                "drop rule: step (least-squares step fit) or half (first similarity below 1/2)",
                ("step", "half"),
            ),
            float_param(
                "drop_tolerance",
                5.0,
                "largest distance of a drop index from d that counts as 'at d', positive",
                in_open_closed(0.0, 1000.0),
            ),
            float_param(
                "min_correlation",
                0.5,
                "correlation of the entries of M and W_out W_in that counts as strong, in (0, 1]",
                in_open_closed(0.0, 1.0),
            ),
            float_param(
                "z",
                2.0,
                "standard errors by which a measure must clear its threshold, positive",
                in_open_closed(0.0, 100.0),
            ),
            float_param(
                "min_sparsity_gain",
                0.05,
                "least Hoyer sparsity above a dense Gaussian matrix that counts as sparse",
                in_open_closed(0.0, 1.0),
            ),
        ),
        budget=mechanism_budget,
    )
)

# --------------------------------------------------------------------------- regimes
from .budget import Budget, mlp_budget  # noqa: E402
from .params import ChapterConfig  # noqa: E402


def regimes_budget(cfg: ChapterConfig) -> Budget:
    """The regimes chapter: its largest run is figure 7's sweep, the training p of
    ``train_ps`` (plus the chapter's ``p`` and ``dense_p`` when not among them) and the
    exactly-one-active model, ``seeds`` each; with ``nonempty_steps`` its sparsest model
    trains longest."""
    ps = set(parse_probabilities(cfg.train_ps)) | {cfg.p, cfg.dense_p}
    values = {k: v for k, v in cfg.as_dict().items() if k != "profile"}
    sparse_cfg = ChapterConfig("regimes", cfg.profile, {**values, "p": min(ps)})
    settings = len(ps) + 1
    return mlp_budget(
        instances=lambda c: settings * c.seeds,
        what=f"{settings} training settings x seeds = {{cfg.seeds}}",
    )(sparse_cfg)


def _probabilities_check(text: str) -> str | None:
    try:
        parse_probabilities(text)
    except ValueError as error:
        return str(error)
    return None


_probabilities_check.description = "comma-separated increasing probabilities in (0, 1]"  # type: ignore[attr-defined]


def probabilities_param(name: str, values, help: str) -> Param:
    """A comma-separated grid of probabilities (``"0.01,0.1,1"``), checked before any work."""
    return Param(name, str, help, values, check=_probabilities_check)


def grid_contains(grid: str, value: float) -> Relation:
    """The probability grid ``values[grid]`` contains ``value``."""
    return Relation(
        lambda v: value in parse_probabilities(v[grid]),
        f"{value:g} in {grid}",
        lambda v: (
            f"parameter {grid!r}: must contain {value:g} (the chapter reads that model), "
            f"got {v[grid]!r}"
        ),
    )


#: The training probabilities of figure 7 and of the clean models of figure 10 (paper 000,
#: appendices C and D; the clean grid adds two dense values to the paper's four).
REGIMES_TRAIN_PS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
REGIMES_CLEAN_PS = (0.001, 0.01, 0.1, 0.2, 0.5, 1.0)


register(
    ChapterSpec(
        "regimes",
        "Sparse and dense regimes",
        (
            *model_params(
                "the sparse training p of figures 8-9 and of the one-active comparison, in (0, 1]"
            ),
            mixing_param("embedding", help="mixing matrix of the figure 7 sweep"),
            sigma_param(0.02, help="std of a Gaussian mixing matrix (gaussian/symmetric only)"),
            p_param(0.5, name="dense_p", help="the dense training p of figures 8-9, in (0, 1]"),
            seeds_param(
                {"smoke": 2, "quick": 3, "paper": 5},
                help="training seeds per training p (each seed draws its own mixing matrix)",
            ),
            *training_params(30, 128),
            probabilities_param(
                "train_ps",
                {
                    "smoke": "0.01,1",
                    "quick": "0.005,0.01,0.03,0.1,0.5",
                    "paper": format_probabilities(REGIMES_TRAIN_PS),
                },
                "training p of the figure 7 sweep (with p and dense_p added), comma-separated",
            ),
            probabilities_param(
                "clean_ps",
                {
                    "smoke": "0.1,1",
                    "quick": "0.01,0.1,1",
                    "paper": format_probabilities(REGIMES_CLEAN_PS),
                },
                "training p of the clean models of figure 10 (with 0.1 and 1), comma-separated",
            ),
            p_points_param({"smoke": 7, "quick": 25, "paper": 100}),
            eval_samples_param({"smoke": 128, "quick": 2048, "paper": 16384}),
            count_param(
                "offset_points",
                {"smoke": 5, "quick": 13, "paper": 25},
                "offsets of the log grid from 0.002 to 0.05 searched for the optimum",
                minimum=3,
            ),
            count_param(
                "offset_samples",
                {"smoke": 20000, "quick": 1_000_000, "paper": 4_000_000},
                "Monte Carlo samples of the simulated optimal offset",
                minimum=2,
            ),
            float_param(
                "share",
                0.9,
                "share of a feature's positive weight that makes its largest neuron dominant",
                in_open_closed(0.0, 1.0),
            ),
            float_param(
                "strength",
                0.5,
                "total positive weight a feature needs to count as represented, positive",
                in_open_closed(0.0, 10.0),
            ),
            float_param(
                "tolerance",
                0.05,
                "relative difference that still counts as a match, in (0, 1)",
                in_open_closed(0.0, 1.0),
            ),
            float_param(
                "z",
                2.0,
                "standard errors by which a margin must clear its threshold, positive",
                in_open_closed(0.0, 100.0),
            ),
        ),
        budget=regimes_budget,
        relations=(grid_contains("clean_ps", 0.1), grid_contains("clean_ps", 1.0)),
    )
)


# --------------------------------------------------------------------------- semi_nmf
# The sweep parameters are the mixing chapter's own Param objects, so this chapter builds
# the same sweeps (same cache keys) under every profile.
_SNMF_SHARED = (
    "p",
    "n_features",
    "n_neurons",
    "seeds",
    "sigma_max",
    "sigma_points",
    "sigma_seeds",
    "vary_matrix",
    "steps",
    "batch_size",
    "lr",
    "weight_decay",
    "nonempty_steps",
    "max_steps",
    "max_memory_gb",
)


def _snmf_budget(cfg):
    """Largest run: the mixing chapter's sigma sweep or its conditions sweep."""
    from .budget import mlp_budget

    return mlp_budget(
        instances=lambda c: max(6 * c.seeds, 2 * c.sigma_points * c.sigma_seeds),
        extra_steps=lambda c: c.long_steps,
        what="the mixing chapter's sweeps (6 x seeds or 2 x sigma_points x sigma_seeds)",
    )(cfg)


register(
    ChapterSpec(
        "semi_nmf",
        "A semi-NMF baseline",
        (
            *(SPECS["mixing"].param(name) for name in _SNMF_SHARED),
            sigma_param(
                0.02,
                help="std of the Gaussian M of the fixed-sigma claims (the paper's 0.02)",
            ),
            choice_param(
                "mixing",
                "gaussian",
                "kind of Gaussian M of the claims (the figure shows both)",
                ("gaussian", "symmetric"),
            ),
            choice_param(
                "snmf_method",
                "als",
                "semi-NMF algorithm: multiplicative (Ding et al.) or als (column-wise ALS)",
                ("multiplicative", "als"),
            ),
            choice_param(
                "snmf_init",
                "nmf",
                "start of the non-negative factor: random, nmf (of the positive part) or svd",
                ("random", "nmf", "svd"),
            ),
            count_param(
                "snmf_iterations",
                {"smoke": 10, "quick": 300, "paper": 1000},
                "semi-NMF iterations (each updates both factors)",
            ),
            count_param(
                "long_steps",
                {"smoke": 20, "quick": 0, "paper": 0},
                "steps (batches of 2048) of longer-trained copies of the fixed-sigma models, "
                "to see whether sparsity changes with training; 0: skip",
                minimum=0,
            ),
            eval_samples_param({"smoke": 256, "quick": 8192, "paper": 65536}),
            float_param(
                "z",
                2.0,
                "standard errors by which a difference must clear zero, positive",
                in_open_closed(0.0, 100.0),
            ),
        ),
        budget=_snmf_budget,
    )
)


# Part II's chapters register themselves in their own module (imported last: it uses
# ``register`` and the helpers above).
from . import specs_universal_and  # noqa: E402, F401
