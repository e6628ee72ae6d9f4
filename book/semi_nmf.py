# %% [markdown]
# (semi-nmf)=
# # A semi-NMF baseline
#
# If the trained model's advantage comes from the mixing term $Mx$ of its labels
# ({ref}`mixing`), a model built from $M$ alone, without training, should share some of it.
# {cite:t}`bhagat2025cc` build one from a semi-non-negative matrix factorisation (section 3,
# figure 6). This chapter derives which matrix such a model must factorise, implements
# semi-NMF, and evaluates the hand-coded model exactly like the trained ones. The claims:
# **the semi-NMF model beats the naive loss for a range of $\sigma$, does not reach the
# trained model's loss, and its weights are less sparse than the trained weights.**

# %% tags=["parameters", "hide-input"]
# fmt: off
profile = None  # smoke | quick | paper; None: paper on a GPU, quick on a CPU
p = None  # feature probability of training and of the evaluation off the sparse limit, in (0, 1]
n_features = None  # number of input features n
n_neurons = None  # number of ReLU neurons d, also the rank of the factorisation
seeds = None  # seeds of the mixing chapter's conditions sweep (fixed-sigma models off the grid)
sigma_max = None  # largest sigma of the mixing chapter's sigma sweep (the grid starts at 0)
sigma_points = None  # number of equally spaced sigma values of that sweep, at least 5
sigma_seeds = None  # matrices, each with its training seed, per sigma and kind in that sweep
vary_matrix = None  # true: seed s draws its own unit matrix U; false: one U for all seeds
steps = None  # training steps before the non-empty scaling, at least 1
batch_size = None  # samples per batch
lr = None  # peak learning rate of the cosine schedule
weight_decay = None  # AdamW weight decay
nonempty_steps = None  # scale steps by 1/(1-(1-p)^n) to count non-empty batches, as the paper
max_steps = None  # most training steps one instance may take, after the non-empty scaling
max_memory_gb = None  # largest estimated memory of one training run, in GB
max_hours = None  # most estimated hours of training before run or build refuse
sigma = None  # std of the Gaussian M of the fixed-sigma claims (the paper's 0.02)
mixing = None  # kind of Gaussian M of the claims: gaussian (asymmetric) or symmetric
snmf_method = None  # semi-NMF algorithm: multiplicative (Ding et al.) or als
snmf_init = None  # start of the non-negative factor: random, nmf or svd
snmf_iterations = None  # semi-NMF iterations, each updating both factors
long_steps = None  # steps (batches of 2048) of longer-trained copies of the models; 0: skip
eval_samples = None  # evaluation samples per number of active features
z = None  # standard errors by which a difference must clear zero
# fmt: on

# %% tags=["hide-input"]
import numpy as np

import cclib
from cclib.book import plotting, report, specs, tables
from cclib.compressed import analysis, baselines, evaluation, experiments, snmf
from cclib.compressed import mechanism as mech
from cclib.engine.cache import Cache

cfg = cclib.configure("semi_nmf", globals())
claims = cclib.claims_for(cfg)
NAIVE = baselines.naive_loss_per_feature(
    None, cfg.n_features, range(cfg.n_neurons)
)  # 1/12
KIND_NAMES = {"gaussian": "asymmetric", "symmetric": "symmetric"}

# %% [markdown]
# ## Which matrix, in which orientation
#
# The model is $\hat y = W_\text{out}\,\mathrm{ReLU}(W_\text{in}x)$ with
# $W_\text{in}\in\mathbb R^{d\times n}$, trained on $y = \mathrm{ReLU}(x) + Mx$, where
# $(Mx)_i = \sum_j M_{ij}x_j$ ({ref}`naive-baseline`). In the sparse limit only one feature
# is active, $x = u\,e_j$ with $u \sim U[-1, 1]$. Suppose every entry of $W_\text{in}$ is
# non-negative. For $u > 0$ every pre-activation $u\,W_\text{in}e_j$ is non-negative, the
# ReLU passes it unchanged, and $\hat y = u\,W_\text{out}W_\text{in}e_j$ against the label
# $u\,(I + M)e_j$. For $u < 0$ every neuron is off, $\hat y = 0$, against the label
# $u\,Me_j$. Both halves have $\mathbb E[u^2] = 1/6$. The loss per feature tends, as
# $p \to 0$, to $n$ times the mean loss of a sample with one active feature
# (see {ref}`naive-baseline`), so
#
# $$
# \lim_{p\to 0}\frac{L}{p} = \frac{1}{6n}\Big(\big\lVert I + M - W_\text{out}W_\text{in}
# \big\rVert_F^2 + \lVert M\rVert_F^2\Big) \qquad (W_\text{in} \ge 0).
# $$ (eq-snmf-sparse)
#
# The best hand-coded weights with $W_\text{in} \ge 0$ therefore solve a **semi-NMF of
# $I + M$**: $I + M \approx F G^\top$ with $G \ge 0$ of rank $d$, and
# $W_\text{out} = F$ ($n \times d$, any sign), $W_\text{in} = G^\top$ ($d \times n$,
# non-negative). Column $j$ of $W_\text{out}W_\text{in}$ is what the model writes when
# feature $j$ fires, and column $j$ of $I + M$ is what the label asks for; factorising
# $(I + M)^\top$ instead, as one would by taking the rows of $M$ as data points, fits
# $I + M^\top$. At full rank ($d = n$) that adds exactly
# $\lVert M - M^\top\rVert_F^2/6n \approx n\sigma^2/3$ to the loss of an asymmetric $M$
# (a test checks it); at rank $d$ only the represented part of the matrix is transposed, so
# expect roughly $d/n$ of that, $d\sigma^2/3$. Nothing fails: the baseline is just worse.
#
# The paper speaks of "the SNMF of $M$". The identity must be part of the factorised
# matrix: weights with $W_\text{out}W_\text{in} \approx M$ would leave the ReLU term
# unlearned, and by {eq}`eq-snmf-sparse` cost at least $\lVert I\rVert_F^2/6n = 1/6$ per
# feature, twice the naive loss.
#
# **Why $W_\text{in}$ is the non-negative factor.** With any signs, the $u < 0$ half gives
# $|u|\,W_\text{out}\mathrm{ReLU}(-W_\text{in}e_j)$ against $u\,Me_j$. A neuron that reads a
# feature negatively serves only that half, whose labels carry $\lVert M\rVert_F^2 \approx
# n^2\sigma^2$ of squared norm, against $\lVert I + M\rVert_F^2 \approx n + n^2\sigma^2$ on
# the $u > 0$ half. Non-negative reads spend all $d$ neurons on the half that holds almost
# all of the labels, and on that half the ReLU is exactly linear, which turns the design
# into the factorisation above. The constraint lands on the factor that the ReLU sees; a
# non-negative $W_\text{out}$ would not make the ReLU linear. {ref}`mechanism` measures that
# the trained $W_\text{in}$ is mostly non-negative too. Formula {eq}`eq-snmf-sparse` holds
# for non-negative reads only; `snmf.sparse_limit_loss` computes the exact sparse limit of
# any weights (both halves), and we use it below to check the Monte Carlo evaluation.
#
# ## Semi-NMF
#
# Semi-NMF {cite}`ding2010convex` factorises a real matrix $X \approx FG^\top$ with only
# $G \ge 0$. We implement two algorithms (`cclib.compressed.snmf`), each alternating an exact
# least-squares $F = XG(G^\top G)^{-1}$ with an update of $G$:
#
# - **multiplicative** {cite}`ding2010convex`: with $A^\pm = (|A| \pm A)/2$,
# $G \leftarrow G \odot \sqrt{\big[(X^\top F)^+ + G(F^\top F)^-\big] /
# \big[(X^\top F)^- + G(F^\top F)^+\big]}$; the objective never increases, and a zero
# entry of $G$ stays zero, so the start fixes the sparsity pattern;
# - **als**: the columns of $G$ one at a time, each the exact projected least-squares
# solution given the others (hierarchical ALS {cite}`cichocki2007hals`); every step is an
# exact block minimisation, so the objective never increases, and entries can become
# exactly zero or leave zero.
#
# The tests recover planted factorisations with both and check that the objective never
# increases. The factorisation is unique only up to $F \to FD$, $G \to GD^{-1}$ for a
# positive diagonal $D$, which changes neither the product nor the model (the ReLU is
# positively homogeneous); we pick $D$ so that each neuron's read and write vectors have
# equal norms, as weight decay drives a trained model to.
#
# ## The start decides
#
# Semi-NMF is not convex and the papers do not say how they start it. We compare three
# starts for $G$: **random** (dense, uniform in $[0, 1)$), **nmf** (the right factor of a
# rank-$d$ NMF of the positive part $\max(I + M, 0)$, by hierarchical ALS), and **svd**
# (the larger-norm sign part of each top singular vector of $I + M$, as in NNDSVD
# {cite}`boutsidis2008nndsvd`). Each variant runs {glue:text}`snmf_iterations:.0f`
# iterations on the {glue:text}`claim_kind` matrices with $\sigma =$
# {glue:text}`sigma_claim:.3g` of the trained models below, and its model is evaluated like
# the trained ones: the sparse limit as $n$ times the one-active-feature stratum of
# `cclib.compressed.evaluation`, and Bernoulli inputs at $p =$ {glue:text}`p_eval:.3g`, where
# several features are often active at once.

# %%
mixing_sigma = specs.profile_value(
    "mixing", "sigma", cfg.profile
)  # mixing chapter's sigma
fixed, fixed_rows, fixed_source = snmf.fixed_sigma_sweep(cfg, mixing_sigma)
fixed_result = experiments.run_mlp_sweep(
    fixed, Cache(), description="semi_nmf: fixed sigma"
)
fixed_task_all = experiments.trained_task(fixed, fixed_result)
trained, task = snmf.select(
    experiments.load_mlp(fixed_result), fixed_task_all, fixed_rows
)
m_fixed = snmf.effective_mixing(task)  # (S, n, n)
variants = snmf.study_variants(
    task, cfg.n_neurons, cfg.snmf_iterations, cfg.p, cfg.eval_samples
)

# %% tags=["hide-input"]
print(snmf.variants_table(variants))

# %% tags=["hide-input"]
labels = [f"{v.init}\n{v.method[:4]}" for v in variants]
fig, axes = plotting.figure(ncols=2, width=9.0, height=3.6)
plotting.grouped_bars(
    axes[0],
    labels,
    {
        "sparse limit": ([v.sparse.mean.mean() for v in variants], None),
        f"p = {cfg.p:g}": ([v.at_p.mean.mean() for v in variants], None),
    },
    "semi-NMF loss per feature $L/p$",
)
plotting.reference_line(axes[0], NAIVE, label="naive, clean (1/12)")
axes[0].set_ylim(0.6 * NAIVE, 1.25 * NAIVE)
axes[0].legend(fontsize=8)
plotting.grouped_bars(
    axes[1],
    labels,
    {"W_in": ([v.sparsity_in.mean() for v in variants], None)},
    "Hoyer sparsity",
)
report.figure("fig-snmf-starts", fig)
report.number("snmf_iterations", cfg.snmf_iterations)
report.text("claim_kind", KIND_NAMES[cfg.mixing])
report.number("sigma_claim", cfg.sigma)
report.number("p_eval", cfg.p)

# %% [markdown]
# ```{glue:figure} fig-snmf-starts
# :name: fig-snmf-starts
#
# Left: loss per feature of the semi-NMF model for each start (random, nmf, svd) and
# algorithm (mult: multiplicative, als), in the sparse limit and at $p =$
# {glue:text}`p_eval:.3g`; mean over the matrices. Right: Hoyer sparsity of $W_\text{in}$
# (0: every entry of equal size; 1: one non-zero entry; defined in {ref}`mechanism`). The
# dense random start fits $I + M$ as well as any ({glue:text}`random_sparse:.4f` per feature
# in the sparse limit) but loses {glue:text}`random_at_p:.4f` at $p =$
# {glue:text}`p_eval:.3g`: a neuron that reads many features is switched on or off by the
# wrong ones as soon as two features are active.
# ```

# %% tags=["hide-input"]
chosen = [
    v for v in variants if (v.method, v.init) == (cfg.snmf_method, cfg.snmf_init)
][0]
worst = max(variants, key=lambda v: float(v.at_p.mean.mean()))
start_gap, start_gap_err = analysis.seed_mean(
    worst.at_p.mean.numpy() - chosen.at_p.mean.numpy(), worst.at_p.stderr.numpy()
)

# %% tags=["hide-input"]
worst_name = f"{worst.init}, {worst.method}"
claims.check("snmf.start_matters", start_gap, start_gap_err, worst=worst_name)
report.text("method_used", cfg.snmf_method)
report.text("init_used", cfg.snmf_init)
report.text("worst_start", f"{worst.init} ({worst.method})")
report.number("start_gap", start_gap)
random_start = [
    v for v in variants if (v.method, v.init) == (cfg.snmf_method, "random")
][0]
above, above_err = analysis.seed_mean(
    random_start.at_p.mean.numpy() - NAIVE, random_start.at_p.stderr.numpy()
)

# %% tags=["hide-input"]
claims.check("snmf.random_start_fails_at_p", above, above_err)
starts = [
    analysis.seed_mean(v.sparse.mean.numpy(), v.sparse.stderr.numpy()) for v in variants
]
beats_from = [m + cfg.z * e < NAIVE for m, e in starts]
claims.check("snmf.robust_start", sum(beats_from) / len(beats_from))
report.number("random_sparse", random_start.sparse.mean.mean())
report.number("random_at_p", random_start.at_p.mean.mean())

# %% [markdown]
# The denser the non-negative factor, the worse the model does once several features are
# active, however well it fits $I + M$. We use the **{glue:text}`init_used`** start with the
# **{glue:text}`method_used`** algorithm throughout (parameters `snmf_init`, `snmf_method`):
# in the table above the als runs reach the lowest factorisation error from every start,
# and the nmf start keeps the factor sparse enough to hold up when several features are
# active. The multiplicative updates from the same start keep more zeros, fit $I + M$ less
# well and do about as well at $p =$ {glue:text}`p_eval:.3g`. The worst start,
# {glue:text}`worst_start`, loses {glue:text}`start_gap:.4f` more per feature at $p =$
# {glue:text}`p_eval:.3g`.
#
# ## The orientation check
#
# A hand-coded model built in the right orientation answers a one-hot input $e_j$ with
# column $j$ of $I + M$ (up to the factorisation error); the model built from
# $(I + M)^\top$ answers with row $j$. We build both and compare their responses and their
# sparse-limit losses, and check the Monte Carlo evaluation against the exact sparse limit.

# %%
hand, factors = snmf.fit_mlp(
    m_fixed, cfg.n_neurons, cfg.snmf_method, cfg.snmf_init, cfg.snmf_iterations
)
wrong, _ = snmf.fit_mlp(
    m_fixed,
    cfg.n_neurons,
    cfg.snmf_method,
    cfg.snmf_init,
    cfg.snmf_iterations,
    transpose=True,
)
product = factors.f @ factors.g.transpose(1, 2)  # F G^T
exactness = float((snmf.one_hot_response(hand) - product).abs().max())
target = snmf.target(m_fixed)
response_right = (snmf.one_hot_response(hand) - target).norm(dim=(1, 2)) / target.norm(
    dim=(1, 2)
)
response_wrong = (snmf.one_hot_response(wrong) - target).norm(dim=(1, 2)) / target.norm(
    dim=(1, 2)
)
cost = snmf.stratum_one(
    wrong, task, cfg.eval_samples, baseline=hand
)  # wrong minus right
exact_right = snmf.sparse_limit_loss(hand, m_fixed).numpy()
mc_right = snmf.stratum_one(hand, task, cfg.eval_samples)

# %% tags=["hide-input"]
print(f"largest |one-hot response - F G^T| of the model: {exactness:.1e}")
print(f"relative one-hot error: right {tables.listed(response_right.numpy(), '.4f')}")
print(
    f"                        transposed {tables.listed(response_wrong.numpy(), '.4f')}"
)
print(
    f"sparse limit, exact {tables.listed(exact_right, '.4f')},",
    f"Monte Carlo {tables.listed(mc_right.mean.numpy(), '.4f')}",
)

# %% tags=["hide-input"]
cost_mean, cost_err = analysis.seed_mean(cost.mean.numpy(), cost.stderr.numpy())
mc_z = (mc_right.mean.numpy() - exact_right) / mc_right.stderr.numpy()

# %% tags=["hide-input"]
if cfg.mixing == "symmetric":
    claims.not_applicable(
        "snmf.orientation", "M is symmetric: both orientations are one"
    )
else:
    claims.check("snmf.orientation", cost_mean, cost_err)
claims.check("snmf.sparse_limit_exact", float(np.abs(mc_z).max()))
report.number("cost", cost_mean)
report.number("rank_shift", cfg.n_neurons * cfg.sigma**2 / 3)

# %% [markdown]
# The transposed model pays {glue:text}`cost:.4f` per feature in the sparse limit, against
# the rough estimate $d\sigma^2/3 =$ {glue:text}`rank_shift:.4f` above (for a symmetric $M$
# the two orientations coincide). The factorisation error alone cannot tell the two
# orientations apart, since both fit their matrix equally well; only the one-hot response
# and the loss against the labels can, which is why we check both.
#
# ## Loss against the size of $M$
#
# {cite:t}`bhagat2025cc` compare the semi-NMF model with the trained one over the scale
# $\sigma$ of $M$. We take the models of the mixing chapter's $\sigma$ sweep
# ({numref}`fig-mixing-sigma`: {glue:text}`sigma_points:.0f` values from 0 to
# {glue:text}`sigma_max:.2f`, {glue:text}`sigma_seeds:.0f` matrices per value and kind),
# read from the cache when that chapter has run, and build one semi-NMF model from each of
# their matrices. Every model is evaluated on the same inputs in the sparse limit and at
# $p =$ {glue:text}`p_eval:.3g`. The naive model appears twice: the clean line $1/12$ of the
# papers, and its loss on the same labels {eq}`eq-mixing-naive`.

# %%
sigmas = snmf.sigma_grid(cfg)
sweep = snmf.sigma_sweep(cfg)
result = experiments.run_mlp_sweep(sweep, Cache(), description="mixing: sigma sweep")
sweep_trained = experiments.load_mlp(result)
sweep_task = experiments.trained_task(sweep, result)
sweep_m = snmf.effective_mixing(sweep_task)
sweep_hand, _ = snmf.fit_mlp(
    sweep_m, cfg.n_neurons, cfg.snmf_method, cfg.snmf_init, cfg.snmf_iterations
)

# %%
models = {"semi-NMF": sweep_hand, "trained": sweep_trained}
sparse = {
    k: snmf.stratum_one(m, sweep_task, cfg.eval_samples) for k, m in models.items()
}
at_p = {
    k: evaluation.loss_per_feature(m, sweep_task, cfg.p, cfg.eval_samples)
    for k, m in models.items()
}
naive_own = np.array(
    [
        baselines.naive_loss_per_feature(
            m,
            cfg.n_features,
            baselines.naive_features(m, cfg.n_features, cfg.n_neurons),
        )
        for m in sweep_m
    ]
)
curves = {
    (kind, where): {
        **{k: e[k].mean.numpy()[snmf.sigma_rows(cfg, kind)] for k in models},
        "naive, same labels": naive_own[snmf.sigma_rows(cfg, kind)],
    }
    for kind in snmf.SIGMA_KINDS
    for where, e in (("sparse limit", sparse), (f"p = {cfg.p:g}", at_p))
}

# %% tags=["hide-input"]
fig, axes = plotting.figure(ncols=2, nrows=2, width=9.5, height=7.0)
plotting.seed_band_grid(
    axes,
    sigmas,
    [(f"{KIND_NAMES[kind]}, {where}", c) for (kind, where), c in curves.items()],
    reference=(NAIVE, "naive, clean (1/12)"),
    ylim=(0.5 * NAIVE, 1.5 * NAIVE),
    xlabel=r"scale $\sigma$ of $M$",
    ylabel="loss per feature $L/p$",
    marker="o",
    ms=3,
)
axes[0].legend(fontsize=8)
report.figure("fig-snmf-sigma", fig)
report.number("sigma_points", cfg.sigma_points)
report.number("sigma_max", cfg.sigma_max)
report.number("sigma_seeds", cfg.sigma_seeds)

# %% [markdown]
# ```{glue:figure} fig-snmf-sigma
# :name: fig-snmf-sigma
#
# Loss per feature against the scale $\sigma$ of $M$ (top: symmetric, bottom: asymmetric
# Gaussian; left: sparse limit, right: $p =$ {glue:text}`p_eval:.3g`). Lines are means over
# the matrices, bands span them. Semi-NMF (built from $M$ alone), the trained models of the
# mixing chapter, and the naive model on the same labels; dashed: the clean naive line
# $1/12$. The semi-NMF curve falls and rises like the trained one; it keeps up with it at
# small $\sigma$ and falls behind as $\sigma$ grows, more so at $p =$ {glue:text}`p_eval:.3g`.
# ```
#
# **Criteria.** For each matrix draw we find the largest $\sigma$ up to which the
# semi-NMF loss stays below $1/12$: the first upward crossing of $1/12$ after the curve's
# minimum, interpolated linearly between grid points ($\sigma_\text{max}$ if it never
# crosses back). The claim is the mean over draws with its standard error, and holds when
# that range is wider than `z` errors. The fixed-$\sigma$ claims use the
# {glue:text}`n_fixed:.0f` {glue:text}`claim_kind` models at $\sigma =$
# {glue:text}`sigma_claim:.3g`, from the mixing chapter's {glue:text}`fixed_source` (on the
# $\sigma$ grid when $\sigma_\text{max}/(\texttt{sigma\_points} - 1)$ divides $\sigma$,
# otherwise from its conditions sweep, which trains exactly these models).

# %% tags=["hide-input"]
kind_curves = {w: c for (k, w), c in curves.items() if k == cfg.mixing}
cross = {
    w: snmf.crossings(sigmas, c["semi-NMF"], NAIVE) for w, c in kind_curves.items()
}
cross = {w: np.nan_to_num(c, nan=0.0) for w, c in cross.items()}
beats = {w: analysis.seed_mean(c) for w, c in cross.items()}
tables.Table(
    ["evaluated at", "largest σ with semi-NMF below 1/12", "per matrix"],
    [
        [w, f"{m:.4f} ± {e:.4f}", ", ".join(f"{c:.4f}" for c in cross[w])]
        for w, (m, e) in beats.items()
    ],
).show()
report.number("n_fixed", len(fixed_rows))
report.number("train_steps", fixed.horizons()[0])
report.number("train_batch", cfg.batch_size)
report.text("fixed_source", fixed_source)

# %% tags=["hide-input"]
where = f"p = {cfg.p:g}"
claims.check("snmf.beats_naive", *beats[where])
claims.check("snmf.beats_naive_sparse", *beats["sparse limit"])
profile = kind_curves[where]["semi-NMF"].T  # (matrices, sigma)
shape = analysis.falls_then_rises(sigmas, profile, half_width=1, replicates=200)
claims.check("snmf.profile_falls_then_rises", shape.measured, shape.error)
recross = analysis.seed_mean(snmf.crossings(sigmas, profile.T, NAIVE))
claims.check("snmf.recross", *recross)
report.number("beats_naive", beats[where][0])
report.number("beats_naive_sparse", beats["sparse limit"][0])

# %% [markdown]
# ## Semi-NMF against the trained model at $\sigma =$ {glue:text}`sigma_claim:.3g`
#
# At the paper's $\sigma$ we compare the two models on the same matrices and the same
# inputs; the difference is paired, so its error is far smaller than that of either loss.

# %%
snmf_sparse = analysis.seed_mean(mc_right.mean.numpy(), mc_right.stderr.numpy())
snmf_at_p_est = evaluation.loss_per_feature(hand, task, cfg.p, cfg.eval_samples)
snmf_at_p = analysis.seed_mean(snmf_at_p_est.mean.numpy(), snmf_at_p_est.stderr.numpy())
gap_est = evaluation.loss_per_feature(
    trained, task, cfg.p, cfg.eval_samples, baseline=hand
)
gap = analysis.seed_mean(gap_est.mean.numpy(), gap_est.stderr.numpy())
gap_sparse_est = snmf.stratum_one(trained, task, cfg.eval_samples, baseline=hand)
gap_sparse = analysis.seed_mean(
    gap_sparse_est.mean.numpy(), gap_sparse_est.stderr.numpy()
)

# %% tags=["hide-input"]
print(f"semi-NMF: sparse limit {snmf_sparse[0]:.4f} ± {snmf_sparse[1]:.4f}")
print(f"          p = {cfg.p}: {snmf_at_p[0]:.4f} ± {snmf_at_p[1]:.4f}")
print(f"trained - semi-NMF: p = {cfg.p}: {gap[0]:+.4f} ± {gap[1]:.4f}")
print(f"                    sparse limit: {gap_sparse[0]:+.4f} ± {gap_sparse[1]:.4f}")

# %% tags=["hide-input"]
claims.check("snmf.loss_sigma_0_02", *snmf_sparse)
claims.check("snmf.loss_sigma_0_02_p0_01", *snmf_at_p)
claims.check("snmf.gap_to_trained", *gap)
report.number("snmf_sparse", snmf_sparse[0])
report.number("snmf_sparse_err", snmf_sparse[1])
report.number("snmf_at_p", snmf_at_p[0])
report.number("snmf_at_p_err", snmf_at_p[1])
report.number("gap", gap[0])
report.number("gap_err", gap[1])
report.number("gap_sparse", gap_sparse[0])
report.number("gap_sparse_err", gap_sparse[1])
report.text(
    "gap_verdict",
    "does not reach" if gap[0] + cfg.z * gap[1] < 0 else "matches or beats",
)

# %% [markdown]
# ## Weights
#
# How do the semi-NMF weights differ from the trained ones? {numref}`fig-snmf-weights`
# shows both for one matrix, and we measure each matrix's Hoyer sparsity, the measure of
# {ref}`mechanism`, and the share of $W_\text{in}$'s weight mass that is non-negative. The
# chapter {ref}`mechanism` summarises both matrices of a model by the sparsity of the
# less sparse one; we do the same.

# %% tags=["hide-input"]
order_t, order_h = snmf.neuron_order(trained.w_in[0]), snmf.neuron_order(hand.w_in[0])
fig, axes = plotting.figure(ncols=2, nrows=2, width=9.5, height=6.0)
plotting.weight_maps(
    axes,
    {
        r"trained $W_\mathrm{in}$": trained.w_in[0].detach()[order_t],
        r"semi-NMF $W_\mathrm{in}$": hand.w_in[0].detach()[order_h],
        r"trained $W_\mathrm{out}^\top$": trained.w_out[0].detach().T[order_t],
        r"semi-NMF $W_\mathrm{out}^\top$": hand.w_out[0].detach().T[order_h],
    },
    xlabel="feature",
    ylabel="neuron (sorted by its strongest feature)",
)
report.figure("fig-snmf-weights", fig)

# %% tags=["hide-input"]
sparsity = {
    name: {
        "W_in": mech.weight_sparsity(model.w_in.detach()).numpy(),
        "W_out": mech.weight_sparsity(model.w_out.detach()).numpy(),
        "non-negative mass of W_in": mech.nonnegative_mass(model.w_in.detach()).numpy(),
    }
    for name, model in {"trained": trained, "semi-NMF": hand}.items()
}
tables.Table(
    ["model", *next(iter(sparsity.values()))],
    [
        [name, *(f"{float(v.mean()):.3f}" for v in vs.values())]
        for name, vs in sparsity.items()
    ],
).show()
both = {k: np.minimum(v["W_in"], v["W_out"]) for k, v in sparsity.items()}
denser = analysis.seed_mean(both["trained"] - both["semi-NMF"])
denser_in = analysis.seed_mean(
    sparsity["trained"]["W_in"] - sparsity["semi-NMF"]["W_in"]
)

# %% [markdown]
# ```{glue:figure} fig-snmf-weights
# :name: fig-snmf-weights
#
# Weights of one trained model (left) and of the semi-NMF model of the same matrix
# (right), $W_\text{in}$ on top and $W_\text{out}^\top$ below, each divided by its largest
# entry; neurons sorted by the feature they read most. Both read with mostly non-negative
# weights (semi-NMF: exactly). The semi-NMF neurons each have one dominant feature and a
# haze of small weights; the trained neurons read a few features with strong weights each.
# ```

# %% tags=["hide-input"]
claims.check("snmf.denser_than_trained", *denser)
claims.check("snmf.denser_than_trained_w_in", *denser_in)
report.text(
    "denser_verdict", "denser" if denser[0] > cfg.z * denser[1] else "not denser"
)
report.number("sparsity_trained", both["trained"].mean())
report.number("sparsity_in_trained", sparsity["trained"]["W_in"].mean())
report.number("sparsity_in_snmf", sparsity["semi-NMF"]["W_in"].mean())
report.number("sparsity_out_trained", sparsity["trained"]["W_out"].mean())
report.number("sparsity_out_snmf", sparsity["semi-NMF"]["W_out"].mean())
report.number("sparsity_snmf", both["semi-NMF"].mean())
report.number("nonneg_trained", sparsity["trained"]["non-negative mass of W_in"].mean())

# %% [markdown]
# By the measure of {ref}`mechanism`, the less sparse of the two matrices, the semi-NMF
# weights are **{glue:text}`denser_verdict`** than the trained ones (Hoyer sparsity
# {glue:text}`sparsity_snmf:.2f` against {glue:text}`sparsity_trained:.2f`). The two
# matrices need not agree: the trained $W_\text{in}$ scores {glue:text}`sparsity_in_trained:.2f`
# against the semi-NMF {glue:text}`sparsity_in_snmf:.2f`, the trained $W_\text{out}$
# {glue:text}`sparsity_out_trained:.2f` against {glue:text}`sparsity_out_snmf:.2f`, and the
# combined measure follows the less sparse one. The semi-NMF side depends on the start as
# well: the multiplicative updates from the nmf start keep that start's zeros and give a
# much sparser $W_\text{in}$ ({numref}`fig-snmf-starts`). "Less sparse than the trained
# weights" is therefore a statement about one factorisation and one matrix rather than
# about semi-NMF as such.
#
# **Longer training.** The trained models of the `smoke` profile are shorter runs than the
# paper's (here {glue:text}`train_steps:.0f` steps of {glue:text}`train_batch:.0f`
# samples). There we train copies on the same matrices for {glue:text}`long_steps:.0f`
# steps of {glue:text}`long_batch:.0f` samples (parameter `long_steps`; under `quick` and
# `paper` it is 0 and the chapter's own models, already trained as the paper trains them,
# are measured again) and repeat the comparison.

# %%
longer = snmf.longer_training(
    cfg,
    trained,
    hand,
    task,
    cfg.eval_samples,
    Cache(),
    fixed.horizons()[0],
    cfg.batch_size,
)
long_denser = analysis.seed_mean(longer.sparsity - both["semi-NMF"])
long_gap = analysis.seed_mean(longer.gap.mean.numpy(), longer.gap.stderr.numpy())
long_gap_sparse = analysis.seed_mean(
    longer.gap_sparse.mean.numpy(), longer.gap_sparse.stderr.numpy()
)

# %% tags=["hide-input"]
print(
    f"Hoyer W_in {tables.listed(longer.sparsity_in, '.3f')},",
    f"W_out {tables.listed(longer.sparsity_out, '.3f')}",
)
print(f"trained - semi-NMF: p = {cfg.p}: {long_gap[0]:+.4f} ± {long_gap[1]:.4f}")
print(
    f"                    sparse limit: {long_gap_sparse[0]:+.4f}"
    f" ± {long_gap_sparse[1]:.4f}"
)

# %% tags=["hide-input"]
claims.check("snmf.denser_than_trained_long", *long_denser)
long_holds = long_denser[0] > cfg.z * long_denser[1]
report.text("long_verdict", "denser" if long_holds else "not denser")
report.number("long_steps", longer.steps)
report.number("long_batch", longer.batch)
report.number("long_sparsity", longer.sparsity.mean())
report.number("long_sparsity_in", longer.sparsity_in.mean())
report.number("long_sparsity_out", longer.sparsity_out.mean())
report.number("long_gap", long_gap[0])
report.number("long_gap_sparse", long_gap_sparse[0])

# %% [markdown]
# After longer training the trained $W_\text{in}$ scores {glue:text}`long_sparsity_in:.2f`
# and $W_\text{out}$ {glue:text}`long_sparsity_out:.2f`: by the combined measure the
# semi-NMF weights ({glue:text}`sparsity_snmf:.2f`) are now
# **{glue:text}`long_verdict`** than the trained ones ({glue:text}`long_sparsity:.2f`).
# Trained minus semi-NMF loss is {glue:text}`long_gap:+.4f` per feature at $p =$
# {glue:text}`p_eval:.3g` and {glue:text}`long_gap_sparse:+.4f` in the sparse limit.
#
# ## The paper and this chapter
#
# The paper gives no numbers for its figure 6, only statements: the semi-NMF model beats
# the naive loss for a range of $\sigma$, follows the trained model's pattern, does not
# reach the trained loss, and has less sparse weights. Each is a claim of this chapter,
# measured on the same matrices as the trained models. Two things the paper leaves open
# matter a great deal here. The start of the factorisation: the dense random start, the
# obvious default, beats $1/12$ in the sparse limit but not at $p =$
# {glue:text}`p_eval:.3g`, so a figure drawn at $p = 0.01$ with it would show no advantage
# at all. And the evaluation: the factorisation optimises the sparse-limit loss exactly,
# while at $p =$ {glue:text}`p_eval:.3g` interference between active features adds to it;
# we show both.
#
# ## Summary
#
# Hand-coded from $M$ alone, with $W_\text{in} = G^\top \ge 0$ and $W_\text{out} = F$ from
# a semi-NMF $I + M \approx FG^\top$, the model reaches {glue:text}`snmf_sparse:.4f` ±
# {glue:text}`snmf_sparse_err:.4f` per feature in the sparse limit and
# {glue:text}`snmf_at_p:.4f` ± {glue:text}`snmf_at_p_err:.4f` at $p =$
# {glue:text}`p_eval:.3g` ({glue:text}`claim_kind` $M$, $\sigma =$
# {glue:text}`sigma_claim:.3g`), against the naive $1/12$, and it stays below $1/12$ up to
# $\sigma \approx$ {glue:text}`beats_naive:.3f` at $p =$ {glue:text}`p_eval:.3g`
# ({numref}`fig-snmf-sigma`). At $p =$ {glue:text}`p_eval:.3g` it
# {glue:text}`gap_verdict` the trained model (the paper: it does not):
# trained minus semi-NMF is {glue:text}`gap:+.4f` ± {glue:text}`gap_err:.4f` per feature at
# $p =$ {glue:text}`p_eval:.3g`, while in the sparse limit, the loss the factorisation
# optimises, the difference is {glue:text}`gap_sparse:+.4f` ± {glue:text}`gap_sparse_err:.4f`.
# By the combined Hoyer measure its weights are {glue:text}`denser_verdict` than the
# trained ones ({glue:text}`sparsity_snmf:.2f` against {glue:text}`sparsity_trained:.2f`;
# the two matrices can disagree, see above); against models trained for
# {glue:text}`long_steps:.0f` steps of {glue:text}`long_batch:.0f` samples they are
# {glue:text}`long_verdict`. How good the baseline is depends on the start
# of the factorisation more than on the algorithm ({numref}`fig-snmf-starts`): the semi-NMF
# objective is the sparse-limit loss, and at $p =$ {glue:text}`p_eval:.3g` a dense factor
# that fits it well loses to interference between active features. The paper does not say
# how it started its factorisation, nor give the numbers behind its figure 6, so we can
# compare only its qualitative statements, which the claims table below checks one by one.

# %% tags=["hide-input"]
claims.table()
