"""The parameter specification of every chapter (one entry per ``book/<name>.py``).

``python -m cclib params <name>`` prints a chapter's table. A test checks that each
chapter's ``parameters`` cell names exactly these parameters plus ``profile``.
"""
from __future__ import annotations

from .params import (
    in_open_closed,
    float_param,
    ChapterSpec,
    ParameterError,
    batch_size_param,
    bool_param,
    count_param,
    lr_param,
    mixing_param,
    p_param,
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


register(ChapterSpec("claims", "Claims"))

register(ChapterSpec(
    "naive_baseline",
    "The naive baseline",
    (
        p_param(0.01, help="feature probability during training, in (0, 1]"),
        count_param("n_features", 100, "number of input features n"),
        count_param("n_neurons", 50, "number of ReLU neurons (MLP width)"),
        mixing_param("clean"),
        sigma_param(0.02),
        seeds_param({"smoke": 2, "quick": 3, "paper": 5}),
        steps_param({"smoke": 40, "quick": 6000, "paper": 10000}),
        batch_size_param({"smoke": 256, "quick": 1024, "paper": 2048}),
        lr_param(3e-3),
        weight_decay_param(0.01),
        bool_param(
            "nonempty_steps",
            {"smoke": False, "quick": False, "paper": True},
            "scale steps by 1/(1-(1-p)^n) so the number of non-empty batches matches the paper",
        ),
        count_param(
            "eval_samples",
            {"smoke": 256, "quick": 16384, "paper": 65536},
            "evaluation samples per stratum of active-feature count",
        ),
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
))

register(ChapterSpec(
    "equivalence",
    "The residual model and its one-layer equivalent",
    (
        p_param(0.01, help="feature probability during training, in (0, 1]"),
        count_param("n_features", 100, "number of input features n"),
        count_param("n_neurons", 50, "number of ReLU neurons d"),
        count_param("width", 1000, "residual stream width of the embedding", minimum=2),
        count_param("embedding_seed", 0, "seed of the frozen embedding W_E (and of M)", minimum=0),
        seeds_param({"smoke": 2, "quick": 3, "paper": 5},
                    help="training seeds of the residual model and of the MLP from its mapped init"),
        seeds_param({"smoke": 2, "quick": 5, "paper": 5}, name="sign_seeds",
                    help="training seeds per sign in the comparison of M with its negative"),
        steps_param({"smoke": 20, "quick": 3000, "paper": 10000}),
        batch_size_param({"smoke": 128, "quick": 512, "paper": 2048}),
        lr_param(3e-3),
        weight_decay_param(0.01),
        bool_param(
            "nonempty_steps",
            {"smoke": False, "quick": False, "paper": True},
            "scale steps by 1/(1-(1-p)^n) so the number of non-empty batches matches the paper",
        ),
        count_param(
            "eval_samples",
            {"smoke": 256, "quick": 16384, "paper": 65536},
            "evaluation samples per stratum of active-feature count",
        ),
        count_param("function_samples", {"smoke": 256, "quick": 4096, "paper": 16384},
                    "random inputs on which the two forward passes are compared"),
        float_param("function_tolerance", 1e-10,
                    "largest max-abs output difference in float64 that counts as equal, in (0, 1]",
                    in_open_closed(0.0, 1.0)),
        count_param("histogram_embeddings", {"smoke": 4, "quick": 50, "paper": 200},
                    "embeddings whose M eigenvalues are pooled in the spectrum figure"),
        float_param("z", 3.0, "standard errors a difference must exceed to count as resolved, positive",
                    in_open_closed(0.0, 100.0)),
    ),
))
