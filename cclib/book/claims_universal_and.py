"""The declared claims of Part II (paper 004, Newgas, Universal-AND): one tuple per chapter.

The paper states most of these as qualitative observations; the thresholds here are ours,
fixed before any run (see :mod:`cclib.book.rules`). ``Z`` is the number of standard errors
(over seeds) a share or ratio must clear where the chapter has no ``z`` parameter.
"""

from __future__ import annotations

from .rules import ClaimSpec, Source, above, below, between, declare, within

P = "004"
Z = 2.0


def src(where: str) -> Source:
    return Source(P, where)


def _share(id: str, statement: str, where: str, threshold: float = 0.9) -> ClaimSpec:
    return ClaimSpec(id, statement, src(where), "share", above(threshold, Z))


TRAINING = declare(
    "uand_training",
    ClaimSpec(
        "uand.solves_low_s",
        "At s = {s_low} and the smallest d of the grid the trained model reads at least 90% "
        "of the ANDs correctly at threshold 0.5 (mean of the three cases' shares; mean over "
        "seeds).",
        src("section 5"),
        "share correct",
        above(0.9, Z),
    ),
    ClaimSpec(
        "uand.binary_similarity_low_s",
        "At s = {s_low} the compute layer is a binary weighted circuit: the two-value fit "
        "explains at least 90% of the within-neuron variance of W (mean over d and seeds; "
        "untrained layers score about 0.75).",
        src("section 5.1"),
        "binary-similarity score",
        above(0.9, Z),
    ),
    _share(
        "uand.u_positive",
        "At s = {s_low} at least 90% of neurons have u > 0 (mean over d and seeds).",
        "section 5.1",
    ),
    _share(
        "uand.w_negative",
        "At s = {s_low} at least 90% of neurons have w < 0 (mean over d and seeds).",
        "section 5.1",
    ),
    _share(
        "uand.b_positive",
        "At s = {s_low} at least 90% of neurons have bias b > 0 (mean over d and seeds).",
        "section 5.1",
    ),
    ClaimSpec(
        "uand.ratio_u_w",
        "At s = {s_low} the positive value is smaller in size than the negative one: the "
        "typical ratio u/w (median over neurons, mean over d and seeds) lies in (-1, 0).",
        src("section 5.1"),
        "u/w",
        between(-1.0, 0.0, Z),
    ),
    ClaimSpec(
        "uand.even_split",
        "At s = {s_low} a neuron's input weights split roughly evenly between u and w: the "
        "mean share taking u is within 0.1 of 0.5.",
        src("section 5.1"),
        "share of u",
        within(0.5, 0.1, Z),
        paper_value=0.5,
    ),
    ClaimSpec(
        "uand.values_stable_in_d",
        "At s = {s_low} the circuit's values u, w and b depend little on d: the largest of "
        "their relative spreads across d = {d_values} ((max - min) / mean of the seed means) "
        "is below 0.5.",
        src("section 5.1"),
        "largest relative spread",
        below(0.5, Z),
    ),
    ClaimSpec(
        "uand.degenerate_high_s",
        "At s = {s_high} the binary circuit gives way: the binary-similarity score (mean over "
        "d and seeds) is lower than at s = {s_low} by more than 0.1.",
        src("section 5"),
        "score drop",
        above(0.1, Z),
    ),
    ClaimSpec(
        "uand.high_s_stays_at_init",
        "At s = {s_high} the compute layer fails to update from its initial values: it "
        "moves less than half its initial norm (||W - W_0|| / ||W_0||, mean over d and "
        "seeds).",
        src("section 5"),
        "relative distance from init",
        below(0.5, Z),
    ),
    ClaimSpec(
        "uand.binary_robust_decay",
        "With weight decay {alt_weight_decay:g} instead of {weight_decay:g} the circuit "
        "still forms: the smallest of the binary-similarity score and the shares with "
        "u > 0, w < 0 and b > 0 reaches 0.9.",
        src("section 5.1"),
        "smallest of score and sign shares",
        above(0.9),
    ),
    ClaimSpec(
        "uand.binary_other_m",
        "At m = {check_m} (d = {check_d}, s = {s_low}) the circuit forms: the smallest of "
        "the binary-similarity score and the shares with u > 0, w < 0 and b > 0 reaches 0.9.",
        src("section 5.1"),
        "smallest of score and sign shares",
        above(0.9),
    ),
)

READOUT = declare(
    "uand_readout",
    ClaimSpec(
        "circuit.and_readout_correlation",
        "The trained per-class mean AND readout weights follow the class combination of "
        "section 6.1: correlation over pairs and classes above 0.8 (tables = {tables}, "
        "bias_rule = {bias_rule}; mean over seeds).",
        src("section 6.1"),
        "correlation",
        above(0.8, Z),
    ),
    ClaimSpec(
        "circuit.and_readout_signs",
        "At least 90% of pairs have trained per-class mean readout weights with the signs "
        "A +, B1 -, B2 -, C + (mean over seeds).",
        src("section 6.1, Table 1"),
        "share of pairs",
        above(0.9, Z),
    ),
    ClaimSpec(
        "circuit.readout_chart_classes",
        "At s = {s_low} at least 80% of the AND readout mass has its class's expected sign "
        "(A, C positive; B1, B2 negative), mean over pairs and seeds.",
        src("section 5.2, Fig. 6"),
        "share of mass",
        above(0.8, Z),
    ),
    ClaimSpec(
        "circuit.class_c_weight_larger",
        "Class C readout weights are larger per neuron than class A's: the ratio of their "
        "mean trained readout weights is above 1 (mean over seeds).",
        src("section 5.2"),
        "C / A",
        above(1.0, Z),
    ),
    ClaimSpec(
        "circuit.xor_weight_norm",
        "The closed-form XOR readout is larger than the single-feature readout on the same "
        "pair: L2 norm ratio above 1 (mean over pairs and seeds).",
        src("section 6.1"),
        "L2 ratio",
        above(1.0, Z),
    ),
    ClaimSpec(
        "circuit.xor_weight_norm_l1",
        "The same ratio with L1 norms is above 1.",
        src("section 6.1"),
        "L1 ratio",
        above(1.0, Z),
    ),
    ClaimSpec(
        "circuit.frozen_random",
        "A frozen random (Gaussian) compute layer gives a similar pattern of readouts: at "
        "least 80% of its closed-form AND readout mass has its class's expected sign, as "
        "for the trained layer (share of u weights: {frozen_share}; mean over seeds).",
        src("appendix A.1, Fig. 7"),
        "share of mass",
        above(0.8, Z),
    ),
    ClaimSpec(
        "circuit.frozen_random_loss",
        "Training the compute layer beats freezing it at random: AND loss of a readout on a "
        "frozen Gaussian layer over that of the fully trained model is above 1.",
        src("appendix A.1"),
        "loss ratio",
        above(1.0, Z),
    ),
    ClaimSpec(
        "circuit.binary_vs_random",
        "A frozen random binary compute layer beats a frozen Gaussian one with the same "
        "moments (loss ratio Gaussian / binary above 1; share of u weights: the trained "
        "circuit's).",
        src("appendix A.1"),
        "Gaussian / binary",
        above(1.0, Z),
    ),
    ClaimSpec(
        "circuit.binary_vs_random_half",
        "The same with an even split of u and w weights (the paper's description).",
        src("appendix A.1"),
        "Gaussian / binary",
        above(1.0, Z),
    ),
    ClaimSpec(
        "circuit.robust_frozen_share",
        "The binary-beats-Gaussian claim holds under both readings of the share of u weights "
        "(share of the two frozen_share settings under which it holds).",
        src("appendix A.1"),
        "share of settings",
        above(0.999),
    ),
)

VARIANCE = declare(
    "uand_variance",
    *(
        ClaimSpec(
            f"variance.{name}_formula",
            f"The derived readout variance of the {label} circuit matches forward-pass "
            + "simulation over the grid m in {{{m_values}}}, d in {{{d_values}}}, s in "
            + "{{{s_values}}}: the largest relative difference is within tolerance.",
            src("section 6.2"),
            "largest relative difference",
            within(0.0, "tolerance", "z"),
        )
        for name, label in [("cis", "CiS (p = log(m)^2/sqrt(d))"), ("dense", "dense binary")]
    ),
    ClaimSpec(
        "variance.dense_exponent_s",
        "The dense circuit's readout variance grows as s^2 (fitted exponent in s, "
        "s >= {fit_s_min}).",
        src("section 6.2"),
        "exponent in s",
        within(2.0, "exponent_tolerance", "z"),
        paper_value=2.0,
    ),
    ClaimSpec(
        "variance.dense_exponent_d",
        "The dense circuit's readout variance falls as 1/d (fitted exponent in d).",
        src("section 6.2"),
        "exponent in d",
        within(-1.0, "exponent_tolerance", "z"),
        paper_value=-1.0,
    ),
    ClaimSpec(
        "variance.cis_exponent_d",
        "The CiS readout variance's exponent in d matches the derived formula's on the same "
        "points ({predicted:.3f}; -1/2 only as p -> 0): fitted minus derived.",
        src("section 6.2"),
        "fitted - derived",
        within(0.0, "exponent_tolerance", "z"),
    ),
    ClaimSpec(
        "variance.crossover_predicted",
        "The derived s below which the dense circuit (u, w, b = {circuit}) has the smaller "
        "variance at m = {crossover_m}, d = {crossover_d} is within a factor 2 of the "
        "paper's scale sqrt(d)/log(m)^2 (ratio).",
        src("section 6.2"),
        "crossover / scale",
        between(0.5, 2.0),
    ),
    ClaimSpec(
        "variance.crossover_exponent_d",
        "The derived crossover scales like sqrt(d): its fitted exponent in d (m = "
        "{crossover_m}, d over a factor-16 range) is 1/2.",
        src("section 6.2"),
        "exponent in d",
        within(0.5, "exponent_tolerance"),
        paper_value=0.5,
    ),
    ClaimSpec(
        "variance.crossover_exponent_m",
        "The derived crossover scales like 1/log(m)^2: its fitted exponent in log(m) (m from "
        "{crossover_m} to its square, at d = 16 x {crossover_d}) is -2.",
        src("section 6.2"),
        "exponent in log m",
        within(-2.0, "exponent_tolerance"),
        paper_value=-2.0,
    ),
    ClaimSpec(
        "variance.robust_circuit",
        "The factor-2 agreement of the derived crossover with sqrt(d)/log(m)^2 holds for "
        "every dense circuit (u, w, b) we compare ({circuits}): share that agrees.",
        src("section 6.2"),
        "share of circuits",
        above(0.999),
    ),
    ClaimSpec(
        "variance.crossover_measured",
        "The simulated crossover at m = {crossover_m}, d = {crossover_d} matches the derived "
        "one (relative difference, mean over network seeds).",
        src("section 6.2"),
        "relative difference",
        within(0.0, "tolerance", "z"),
    ),
    ClaimSpec(
        "variance.dense_wins_full_error",
        "Counting the CiS readout's bias, the dense circuit's case-balanced mean squared "
        "error is below CiS's at most simulated grid points with p < 1 (share).",
        src("section 6.2"),
        "share of points",
        above(0.5),
    ),
    ClaimSpec(
        "variance.trained_vs_dense",
        "A trained network is at least as good as the dense construction: ratio of its "
        "case-balanced readout error to the derived dense error at s = {trained_s} below 1.",
        src("section 6.2"),
        "trained / dense",
        below(1.0, "z"),
    ),
)

CLAIMS = {"uand_training": TRAINING, "uand_readout": READOUT, "uand_variance": VARIANCE}
