"""The declared claims of Part I (paper 000, Bhagat et al.): one tuple per chapter.

Every threshold is a number fixed here or a chapter parameter (``"tolerance"``, ``"z"``),
read when the claim is checked; see :mod:`cclib.book.rules`. Statements may name chapter
parameters and check-time fields in braces.
"""

from __future__ import annotations

from .rules import ClaimSpec, Ref, Source, above, below, consistent, declare, within

P = "000"
NAIVE_1_12 = 1 / 12


def src(where: str) -> Source:
    return Source(P, where)


NAIVE = declare(
    "naive_baseline",
    ClaimSpec(
        "naive.clean",
        "The naive model's loss per feature on clean labels is 1/12 at n = 2d (Monte Carlo "
        "at p = {p}, n = {n_features}, d = {n_neurons}).",
        src("appendix A.2"),
        "MC loss",
        consistent(NAIVE_1_12, 3.0, max_error=0.001),
        paper_value=0.0833,
    ),
    ClaimSpec(
        "naive.with_mixing",
        "With Gaussian mixing the naive loss per feature follows the closed form: simulation "
        "agrees with it within 3 standard errors at every sigma of a {sigma_grid}-point grid "
        "(largest |z|).",
        src("appendix A.2"),
        "max |z|",
        below(3.0),
    ),
    ClaimSpec(
        "naive.trained_matches",
        "Trained on {mixing} labels at p = {p}, the MLP's loss per feature is within "
        "{tolerance:.0%} of the naive loss (relative gap, mean over seeds).",
        src("section 3, Fig. 2 left"),
        "relative gap",
        within(0.0, "tolerance", 2.0),
    ),
    ClaimSpec(
        "naive.trained_not_better",
        "No seed beats the naive loss: the best seed's relative gap to the naive loss is "
        "above -{tolerance:.0%} by 2 standard errors.",
        src("section 3, Fig. 2 left"),
        "best seed's relative gap",
        above(-Ref("tolerance"), 2.0),
    ),
)

MIXING = declare(
    "mixing",
    ClaimSpec(
        "mixing.clean_matches_naive",
        "With M = 0 the model sits on the naive loss 1/12 at every evaluation p up to {p}: "
        "the relative margin farthest from 0 over that grid is within {tolerance:.0%}.",
        src("section 3, Fig. 2 left"),
        "farthest relative margin",
        within(0.0, "tolerance", "z"),
    ),
    *(
        ClaimSpec(
            f"mixing.{name}_beats_naive",
            f"Trained and evaluated at p = {{p}}, the {label} model beats the flat naive loss "
            "1/12 (relative margin over 1/12).",
            src("section 3, Fig. 2 left"),
            "margin",
            above("tolerance", "z"),
        )
        for name, label in [
            ("embedding", "embedding"),
            ("asymmetric", "asymmetric Gaussian (sigma = {sigma} fixed)"),
            ("symmetric", "symmetric Gaussian (sigma = {sigma} fixed)"),
        ]
    ),
    *(
        ClaimSpec(
            f"mixing.{name}_beats_own_naive",
            f"Trained and evaluated at p = {{p}}, the {label} model also beats the naive loss "
            "of its own labels (eq-mixing-naive; relative margin).",
            src("section 3, Fig. 2 left; appendix A.2"),
            "margin over own naive",
            above("tolerance", "z"),
        )
        for name, label in [
            ("embedding", "embedding"),
            ("asymmetric", "asymmetric Gaussian"),
            ("symmetric", "symmetric Gaussian"),
        ]
    ),
    ClaimSpec(
        "mixing.noisy_worse_at_high_p",
        "On dense inputs (evaluation p = 1) the model trained with asymmetric Gaussian M "
        "(sigma = {sigma}) is worse than the naive loss 1/12 (relative margin below "
        "-{tolerance:.0%}).",
        src("section 3, Fig. 2 left"),
        "margin at p = 1",
        below(-Ref("tolerance"), "z"),
    ),
    ClaimSpec(
        "mixing.embedding_lowest",
        "Labels with the embedding-like M allow the lowest loss at p = {p}: its margin over "
        "1/12 exceeds that of the best other nonzero M (fixed sigma).",
        src("section 3, Fig. 2 left"),
        "margin(embedding) - best other margin",
        above(0.0, "z"),
        min_seeds=3,
    ),
    *(
        ClaimSpec(
            f"mixing.sigma_optimum_{name}",
            f"At p = {{p}} the loss with {name} Gaussian M is lowest near sigma = 0.03 "
            "(parabola vertex of the seed-mean curve, bootstrap error; within "
            "sigma_tolerance of the paper's value).",
            src("section 3, Fig. 2 right"),
            "sigma*",
            within(0.03, "sigma_tolerance", "z"),
            paper_value=0.03,
        )
        for name in ("symmetric", "asymmetric")
    ),
    *(
        ClaimSpec(
            f"mixing.min_loss_{name}",
            f"The minimal loss per feature over sigma ({name}) beats the naive 1/12 "
            "(relative margin).",
            src("section 3, Fig. 2 right"),
            "margin at sigma*",
            above("tolerance", "z"),
        )
        for name in ("symmetric", "asymmetric")
    ),
    *(
        ClaimSpec(
            f"mixing.sigma_recross_{name}",
            f"Past its optimum, the seed-mean loss with {name} Gaussian M crosses back above "
            "1/12 inside the sweep (the crossing sigma, interpolated; sigma_max when it "
            "does not cross).",
            src("section 3, Fig. 2 right"),
            "sigma of the crossing",
            below("sigma_max"),
        )
        for name in ("symmetric", "asymmetric")
    ),
    ClaimSpec(
        "mixing.loss_falls_then_rises",
        "For both kinds the loss falls from sigma = 0 to its minimum and rises again by "
        "sigma_max (the least significant of the four changes, in loss per feature).",
        src("section 3, Fig. 2 right"),
        "least significant change",
        above(0.0, "z"),
    ),
    ClaimSpec(
        "mixing.transplant_reverts",
        "After {finetune_steps} steps of fine-tuning on clean labels, models trained with "
        "{transplant_mixing} M are at the naive loss 1/12 within {tolerance:.0%} (relative "
        "distance, seed mean).",
        src("section 3, Fig. 3"),
        "relative distance",
        within(0.0, "tolerance", "z"),
    ),
    ClaimSpec(
        "mixing.transplant_immediate",
        "The fine-tuned models revert immediately: the smoothed seed-mean loss comes within "
        "{tolerance:.0%} of 1/12 within the first revert_within share of the fine-tuning "
        "run (1 when it never does).",
        src("section 3, Fig. 3"),
        "share of the run",
        below("revert_within"),
    ),
)


def _mechanism(suffix: str, label: str) -> tuple[ClaimSpec, ...]:
    fig4, fig5 = src("appendix C, Fig. 4"), src("appendix C, Fig. 5")
    m = f"mechanism.{{}}{suffix}"
    near_d = within("n_neurons", "drop_tolerance")
    return (
        ClaimSpec(
            m.format("top_subspace"),
            f"{label}: cos(W_out W_in v_k, v_k) over the eigenvectors of the symmetric part of "
            "M drops at index d = {n_neurons} (within drop_tolerance).",
            fig4,
            "drop index",
            near_d,
        ),
        ClaimSpec(
            m.format("top_subspace_singular"),
            f"{label}: cos(W_out W_in v_k, u_k) over the singular vectors of I + M drops at "
            "index d = {n_neurons} (within drop_tolerance).",
            fig4,
            "drop index",
            near_d,
        ),
        ClaimSpec(
            m.format("top_subspace_positive"),
            f"{label}: the symmetric part of M has d = {{n_neurons}} positive eigenvalues "
            "(within drop_tolerance).",
            fig4,
            "positive eigenvalues",
            near_d,
        ),
        ClaimSpec(
            m.format("read_in_positive"),
            f"{label}: most of the squared norm of W_in's rows lies in the positive "
            "eigenspace of M's symmetric part (share minus the larger of 1/2 and what a "
            "random direction puts there, {chance:.2f}).",
            fig4,
            "share - chance",
            above(0.0, "z"),
        ),
        ClaimSpec(
            m.format("write_in_positive"),
            f"{label}: most of the squared norm of W_out's columns lies in the positive "
            "eigenspace of M's symmetric part (share minus the larger of 1/2 and what a "
            "random direction puts there, {chance:.2f}).",
            fig4,
            "share - chance",
            above(0.0, "z"),
        ),
        ClaimSpec(
            m.format("offdiag_slope"),
            f"{label}: off-diagonal entries of W_out W_in rise with those of M more than for "
            "a null model trained on an independent M (slope minus null slope).",
            fig5,
            "slope - null slope",
            above(0.0, "z"),
            min_seeds=3,
        ),
        ClaimSpec(
            m.format("diag_offset"),
            f"{label}: the diagonal entries of W_out W_in carry an offset above that of a "
            "null model trained on an independent M (offset minus null offset).",
            fig5,
            "offset - null offset",
            above(0.0, "z"),
            min_seeds=3,
        ),
        ClaimSpec(
            m.format("diag_slope"),
            f"{label}: the diagonal entries of W_out W_in rise with M's diagonal more than for "
            "a null model trained on an independent M (slope minus null slope).",
            fig5,
            "diagonal slope - null",
            above(0.0, "z"),
            min_seeds=3,
        ),
        ClaimSpec(
            m.format("m_correlation"),
            f"{label}: off-diagonal entries of W_out W_in and M correlate above "
            "{min_correlation:g}.",
            fig5,
            "correlation",
            above("min_correlation", "z"),
        ),
        ClaimSpec(
            m.format("win_nonnegative"),
            f"{label}: most of W_in's absolute weight mass is in non-negative entries.",
            fig5,
            "non-negative share",
            above(0.5, "z"),
        ),
        ClaimSpec(
            m.format("weight_sparsity"),
            f"{label}: both weight matrices are sparser (Hoyer) than a dense Gaussian matrix "
            "by at least min_sparsity_gain (the less sparse of the two minus the Gaussian "
            "value).",
            fig5,
            "Hoyer gain of the less sparse",
            above("min_sparsity_gain", "z"),
        ),
    )


MECHANISM = declare(
    "mechanism",
    *_mechanism("", "embedding M"),
    *_mechanism(".gaussian", "Gaussian M, sigma = {sigma}"),
    *_mechanism(".gaussian_opt", "Gaussian M, sigma = {sigma_opt:g}"),
)

EQUIVALENCE = declare(
    "equivalence",
    ClaimSpec(
        "equivalence.function_match",
        "For random weights, the residual model's output equals the mapped MLP's plus "
        "(I - M)x with M = I - W_E^T W_E (largest |difference| in float64 over "
        "{function_samples} dense inputs and {seeds} seeds).",
        src("appendix A.1"),
        "max |difference|",
        below("function_tolerance"),
    ),
    ClaimSpec(
        "equivalence.library_m",
        "The library's embedding-induced M (task of an embedding instance, and "
        "ResidualCC.equivalent_mixing) equals the derived I - W_E^T W_E, sign included "
        "(largest |difference|; 1 when the two library matrices differ).",
        src("appendix A.1"),
        "max |difference|",
        below(1e-5),
    ),
    ClaimSpec(
        "equivalence.m_offdiag_std",
        "The off-diagonal entries of M have standard deviation 1/sqrt(width) = {theory:.4f} "
        "(measured minus theory, error: spread over embeddings).",
        src("section 2"),
        "std - theory",
        consistent(0.0, "z"),
    ),
    ClaimSpec(
        "equivalence.m_diagonal",
        "The diagonal of M vanishes (largest |M_ii|; float32 normalisation).",
        src("section 2"),
        "max |M_ii|",
        below(1e-5),
    ),
    ClaimSpec(
        "equivalence.m_eig_min",
        "The smallest eigenvalue of M is at the Marchenko-Pastur edge {theory:.3f} "
        "(measured minus theory; error: spread over embeddings).",
        src("appendix C, Fig. 4"),
        "eig_min - edge",
        consistent(0.0, "z"),
    ),
    ClaimSpec(
        "equivalence.m_eig_max",
        "The largest eigenvalue of M is at the Marchenko-Pastur edge {theory:.3f} "
        "(measured minus theory; error: spread over embeddings).",
        src("appendix C, Fig. 4"),
        "eig_max - edge",
        consistent(0.0, "z"),
    ),
    ClaimSpec(
        "equivalence.m_positive_eigenvalues",
        "M has more positive than negative eigenvalues: Marchenko-Pastur predicts "
        "{theory:.1f} of {n_features}; measured: positive count minus n/2.",
        src("appendix C, Fig. 4"),
        "count - n/2",
        above(0.0, "z"),
    ),
    ClaimSpec(
        "equivalence.m_positive_matches_theory",
        "The positive-eigenvalue count matches the Marchenko-Pastur prediction {theory:.1f} "
        "(count minus theory; error: spread over embeddings, at least half an eigenvalue).",
        src("appendix C, Fig. 4"),
        "count - theory",
        consistent(0.0, "z"),
    ),
    ClaimSpec(
        "equivalence.training_match",
        "Trained directly, the residual model reaches the same loss per feature at p = {p} "
        "as the MLP trained on ReLU(x) + Mx from the mapped initialisation (paired difference "
        "per seed, same inputs: agreement within z errors, with an error below 5% of 1/12).",
        src("section 2, Fig. 1; appendix A.1"),
        "residual - MLP",
        consistent(0.0, "z", max_error=0.05 * NAIVE_1_12),
        min_seeds=3,
    ),
    ClaimSpec(
        "equivalence.opposite_sign",
        "The sign of M matters: MLPs trained on -M reach a different loss per feature at "
        "p = {p} than on +M (size of the mean paired difference, -M minus +M).",
        src("appendix A.1"),
        "|-M minus +M|",
        above(0.0, "z"),
        min_seeds=3,
    ),
)

REGIMES = declare(
    "regimes",
    ClaimSpec(
        "regimes.two_solution_types",
        "The model trained at p = {p:g} beats 1/12 on sparse inputs (p = 0.001) and the one "
        "trained at p = {dense_p:g} on dense inputs (p = 1): the smaller of the two margins.",
        src("appendix C, Fig. 7"),
        "smaller margin",
        above("tolerance", "z"),
    ),
    ClaimSpec(
        "regimes.curves_cross",
        "The sparse and dense models' loss curves cross: every seed has a crossover p "
        "(measured: share of seeds with one; geometric-mean crossover {crossover:.3g}).",
        src("appendix C, Fig. 7"),
        "share of seeds",
        above(0.999),
    ),
    ClaimSpec(
        "regimes.one_hot_like_sparse",
        "At every evaluation p of the sparse regime (p_eval <= {p:g}) the model trained on "
        "exactly one active feature has a loss within {tolerance:.0%} of the model trained "
        "at p = {p:g} (the relative difference farthest from 0).",
        src("appendix C, Fig. 7"),
        "farthest relative difference",
        within(0.0, "tolerance", "z"),
    ),
    ClaimSpec(
        "regimes.one_hot_response_sparse",
        "Fig. 8 left: the sparse-trained model answers every one-hot input on its own "
        "output: the median over features of the own-output response exceeds 1/2.",
        src("appendix C, Fig. 8"),
        "median response",
        above(0.5, "z"),
    ),
    ClaimSpec(
        "regimes.one_hot_response_dense",
        "Fig. 8 right: the dense-trained model responds strongly to half the features and "
        "barely to the rest: share of features with response above 1/2, near 1/2 "
        "(within 0.1).",
        src("appendix C, Fig. 8"),
        "share responding",
        within(0.5, 0.1, "z"),
    ),
    ClaimSpec(
        "regimes.dense_half_features",
        "The model trained at p = {dense_p:g} represents half the features, d = {n_neurons}, "
        "with one neuron each (share >= {share:g}, strength >= {strength:g}; mean over "
        "seeds; within 10% of d).",
        src("appendix C, Fig. 9"),
        "features alone",
        within("n_neurons", Ref("n_neurons", 0.1), "z"),
    ),
    ClaimSpec(
        "regimes.sparse_share",
        "Reading 1 of the paper's 70%: in the model trained at p = {p:g} the largest neuron "
        "of a feature holds 70% of its positive weight (median over features, mean over "
        "seeds; within 0.1).",
        src("appendix C, Fig. 9"),
        "largest neuron's share",
        within(0.7, 0.1, "z"),
        paper_value=0.7,
    ),
    ClaimSpec(
        "regimes.sparse_total",
        "Reading 2 of the paper's 70%: in the model trained at p = {p:g} a feature's terms "
        "sum to a diagonal entry of W_out W_in of 0.7 (median over features, mean over "
        "seeds; within 0.1).",
        src("appendix C, Fig. 9"),
        "diagonal entry",
        within(0.7, 0.1, "z"),
        paper_value=0.7,
    ),
    ClaimSpec(
        "regimes.robust_70",
        "The headline reading of the paper's 70% holds under the two readings of the "
        "figure (share of the two readings under which it holds).",
        src("appendix C, Fig. 9"),
        "share of readings",
        above(0.5),
    ),
    ClaimSpec(
        "regimes.offset_closed_form",
        "The simulated loss of the naive + offset model agrees with the closed form at every "
        "offset and p of the grid (largest |z|).",
        src("appendix D, Fig. 10 left"),
        "max |z|",
        below(4.0),
    ),
    *(
        ClaimSpec(
            f"regimes.offset_optimum_{name}",
            f"The optimal offset at p = {q}, estimated by least squares on simulated inputs, "
            "equals the closed form {exact:.5f} (least squares minus closed form).",
            src("appendix D, Fig. 10 left"),
            "LS - closed form",
            consistent(0.0, 3.0),
        )
        for name, q in [("p0_1", "0.1"), ("p1", "1")]
    ),
    ClaimSpec(
        "regimes.offset_matches_trained",
        "At p = 1 on clean labels the naive + offset model matches or beats the trained "
        "model: its loss exceeds the trained one by at most {tolerance:.0%} (relative).",
        src("appendix D, Fig. 10 right"),
        "(hand - trained) / hand",
        below("tolerance", "z"),
    ),
    ClaimSpec(
        "regimes.offset_matches_all_p",
        "At every training p of the clean grid in the dense regime (p >= dense_p), the naive "
        "+ offset model is at most {tolerance:.0%} worse than the trained model (largest "
        "relative excess).",
        src("appendix D, Fig. 10 right"),
        "largest (hand - trained) / hand",
        below("tolerance", "z"),
    ),
    ClaimSpec(
        "regimes.trained_offset_p1",
        "The offset the clean model trained at p = 1 applies to its unrepresented outputs "
        "equals the optimal c* = {exact:.4f} within 20% (ratio minus 1; 0 offset for a seed "
        "with no feature represented alone).",
        src("appendix D, Fig. 10 left"),
        "offset / c* - 1",
        within(0.0, 0.2, "z"),
    ),
)

SEMI_NMF = declare(
    "semi_nmf",
    ClaimSpec(
        "snmf.start_matters",
        "At p = {p} and sigma = {sigma}, the semi-NMF model from the worst start ({worst}) "
        "loses more per feature than the chosen one ({snmf_init}, {snmf_method}); mean over "
        "matrices.",
        src("appendix C, Fig. 6"),
        "worst - chosen",
        above(0.0, "z"),
    ),
    ClaimSpec(
        "snmf.random_start_fails_at_p",
        "From a dense random start ({snmf_method}) the semi-NMF model does not beat the clean "
        "naive loss at p = {p} (its loss minus 1/12).",
        src("appendix C, Fig. 6"),
        "loss - 1/12",
        above(0.0, "z"),
    ),
    ClaimSpec(
        "snmf.robust_start",
        "The semi-NMF model's sparse-limit loss beats 1/12 (by z errors) from every start and "
        "algorithm we try, not only the chosen one (share of the starts under which it does).",
        src("appendix C, Fig. 6"),
        "share of starts",
        above(0.999),
    ),
    ClaimSpec(
        "snmf.orientation",
        "Built from (I + M)^T instead of I + M, the semi-NMF model's sparse-limit loss per "
        "feature is higher ({mixing} M, sigma = {sigma}; paired difference, mean over "
        "matrices). Void for a symmetric M.",
        src("appendix C, Fig. 6"),
        "transposed - right",
        above(0.0, "z"),
    ),
    ClaimSpec(
        "snmf.sparse_limit_exact",
        "The k = 1 Monte Carlo stratum reproduces the exact sparse-limit loss of the semi-NMF "
        "models (largest |z| over the matrices).",
        src("appendix C, Fig. 6"),
        "max |z|",
        below(4.0),
    ),
    ClaimSpec(
        "snmf.beats_naive",
        "The semi-NMF model ({mixing} M, p = {p:g}) beats the clean naive loss 1/12 for "
        "small sigma: it first crosses back above 1/12 at a sigma above 0 (mean over "
        "matrices).",
        src("appendix C, Fig. 6"),
        "recrossing sigma",
        above(0.0, "z"),
    ),
    ClaimSpec(
        "snmf.beats_naive_sparse",
        "The same in the sparse limit ({mixing} M).",
        src("appendix C, Fig. 6"),
        "recrossing sigma",
        above(0.0, "z"),
    ),
    ClaimSpec(
        "snmf.profile_falls_then_rises",
        "Like the trained model, the semi-NMF loss at p = {p:g} falls from sigma = 0 to a "
        "minimum and rises again by sigma_max (the smaller of fall and rise, seed mean).",
        src("appendix C, Fig. 6"),
        "smaller of fall and rise",
        above(0.0, "z"),
    ),
    ClaimSpec(
        "snmf.recross",
        "The semi-NMF loss at p = {p:g} crosses back above 1/12 inside the sweep (the "
        "crossing sigma, mean over matrices; sigma_max for a matrix that does not cross).",
        src("appendix C, Fig. 6"),
        "recrossing sigma",
        below("sigma_max", "z"),
    ),
    ClaimSpec(
        "snmf.loss_sigma_0_02",
        "Sparse-limit loss per feature of the semi-NMF model at sigma = {sigma} ({mixing} M, "
        "mean over matrices) beats the clean naive 1/12.",
        src("appendix C, Fig. 6"),
        "loss",
        below(NAIVE_1_12, "z"),
    ),
    ClaimSpec(
        "snmf.loss_sigma_0_02_p0_01",
        "Loss per feature of the semi-NMF model at sigma = {sigma} and p = {p} ({mixing} M, "
        "mean over matrices) beats the clean naive 1/12.",
        src("appendix C, Fig. 6"),
        "loss",
        below(NAIVE_1_12, "z"),
    ),
    ClaimSpec(
        "snmf.gap_to_trained",
        "The semi-NMF model does not reach the trained loss at sigma = {sigma}, p = {p}: "
        "trained minus semi-NMF loss per feature is negative (paired, mean over matrices).",
        src("appendix C, Fig. 6"),
        "trained - semi-NMF",
        below(0.0, "z"),
    ),
    *(
        ClaimSpec(
            f"snmf.denser_than_trained{suffix}",
            f"The semi-NMF weights are denser than the trained ones{what}: Hoyer sparsity "
            "of the trained minus the semi-NMF weights is positive (sigma = {sigma}, "
            "{mixing} M, mean over matrices).",
            src("appendix C, Fig. 6"),
            "Hoyer trained - semi-NMF",
            above(0.0, "z"),
        )
        for suffix, what in [
            ("", " (the less sparse of W_in and W_out per model)"),
            ("_w_in", " (W_in alone)"),
            ("_long", " (against models trained longer, or again under quick and paper)"),
        ]
    ),
)

CLAIMS = {
    "naive_baseline": NAIVE,
    "mixing": MIXING,
    "mechanism": MECHANISM,
    "equivalence": EQUIVALENCE,
    "regimes": REGIMES,
    "semi_nmf": SEMI_NMF,
}
