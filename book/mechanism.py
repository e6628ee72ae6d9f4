# %% [markdown]
# (mechanism)=
# # What the trained model computes
#
# The models of {ref}`mixing` beat the naive loss only when the labels carry a mixing term
# $Mx$. Here we open them up, following section 3 and appendix C of {cite:t}`bhagat2025cc`
# (their figures 4 and 5). The claims: **the $d$ neurons read and write inside the
# top half of $M$'s spectrum, so that $W_\text{out} W_\text{in}$ keeps the top $\sim d$
# eigen- and singular directions and drops the rest; the entries of $W_\text{out}W_\text{in}$
# follow those of $M$, with an offset on the diagonal; and $W_\text{in}$ is mostly
# non-negative while both weight matrices are sparse.**

# %% tags=["parameters", "hide-input"]
# fmt: off
profile = None  # smoke | quick | paper; None: paper on a GPU, quick on a CPU
p = None  # feature probability during training, in (0, 1]
n_features = None  # number of input features n
n_neurons = None  # number of ReLU neurons d
sigma = None  # std of the Gaussian M of the mixing chapter's models
sigma_opt = None  # std of the Gaussian M at the loss optimum (default: the paper's 0.03)
seeds = None  # training seeds per mixing matrix
vary_matrix = None  # true: seed s also draws its own unit matrix; false: one for all
steps = None  # training steps before the non-empty scaling, at least 1
batch_size = None  # samples per batch
lr = None  # peak learning rate of the cosine schedule
weight_decay = None  # AdamW weight decay
nonempty_steps = None  # scale steps by 1/(1-(1-p)^n) to count non-empty batches, as the paper
max_steps = None  # most training steps one instance may take, after the non-empty scaling
max_memory_gb = None  # largest estimated memory of one training run, in GB
max_hours = None  # most estimated hours of training before run or build refuse
drop_rule = None  # where a similarity curve drops: step or half
drop_tolerance = None  # largest distance of a drop index from d that counts as at d
min_correlation = None  # correlation of the entries of M and W_out W_in that counts as strong
z = None  # standard errors by which a measure must clear its threshold
min_sparsity_gain = None  # least Hoyer sparsity above a dense Gaussian matrix that counts
# fmt: on

# %% tags=["hide-input"]
import numpy as np

import cclib
from cclib.book import plotting, report, tables
from cclib.compressed import experiments
from cclib.compressed import mechanism as mech
from cclib.compressed.models import MLP
from cclib.engine.cache import Cache

cfg = cclib.configure("mechanism", globals())
claims = cclib.claims_for(cfg)

# %% [markdown]
# ## What the weights should approximate
#
# The model is $\hat y = W_\text{out}\,\mathrm{ReLU}(W_\text{in}x)$ with
# $W_\text{in}\in\mathbb R^{d\times n}$ and $W_\text{out}\in\mathbb R^{n\times d}$ (row $j$
# of $W_\text{in}$ is the direction neuron $j$ *reads*, column $j$ of $W_\text{out}$ the
# direction it *writes*), trained on $y = \mathrm{ReLU}(x) + Mx$. At the training
# $p =$ {glue:text}`p_train:.3g` most non-empty inputs have one active feature,
# $x = t\,e_i$. For $t > 0$ the label is $t\,(I + M)e_i$; if $W_\text{in} \ge 0$ every
# neuron's pre-activation is $\ge 0$, the ReLU is the identity, and
#
# $$
# \hat y = t\,W_\text{out} W_\text{in}\, e_i, \qquad\text{so}\qquad
# A := W_\text{out} W_\text{in} \approx I + M .
# $$ (eq-mechanism-product)
#
# For $t < 0$ the label is $t\,Me_i$, small, and non-negative read weights leave the output
# at zero, a small error. So a model with $W_\text{in} \ge 0$ spends its $d$ neurons on a rank-$d$
# map $A$ that should resemble $I + M$; the best such map (in the Frobenius norm) is the
# truncated singular value decomposition of $I + M$ (Eckart-Young). Its right singular
# vectors $v_k$ are the directions to read, its left ones $u_k$ those to write, since
# $(I + M)v_k = s_k u_k$. The test of {eq}`eq-mechanism-product` is the cosine of $A v_k$
# with $u_k$, index by index.
#
# The paper also uses the eigenvectors of $M$. An asymmetric Gaussian $M$ has complex
# eigenvectors, so we use those of its **symmetric part** $S = (M + M^\top)/2$ for every $M$
# (for a symmetric $M$ they are $M$'s own): $S$ has the same quadratic form as $M$,
# $v^\top M v = v^\top S v$, so its top eigenvectors are the directions that $M$ adds most
# to along themselves, and they are real and orthonormal. For those we measure the cosine
# of $A v_k$ with $v_k$. Eigenvalues and singular values are sorted in descending order.
#
# **Which models.** We analyse the models of {ref}`mixing`'s first figure: the
# embedding-induced $M = I - W_E^\top W_E$ and the asymmetric Gaussian $M$ with
# $\sigma =$ {glue:text}`sigma:.3g`, {glue:text}`seeds:.0f` seeds each (seed $s$ also draws
# its own matrix). This chapter builds the same sweep object, so it reads them from the
# cache when that chapter has run. We add the Gaussian at the optimum of {ref}`mixing`'s
# sweep over $\sigma$. Rather than re-derive that optimum here, `sigma_opt` is a parameter whose
# default is the paper's value, $\sigma =$ {glue:text}`sigma_opt:.3g`; the mixing chapter
# measures the optimum and its error for the same training settings, and the models at
# `sigma_opt` are one more small batched run (seed $s$ scales the same unit matrix as at
# {glue:text}`sigma:.3g`).

# %%
sweep = experiments.mixing_conditions_sweep(cfg)
result = experiments.run_mlp_sweep(sweep, Cache(), description="mixing: conditions")
models = experiments.load_mlp(result)
task = experiments.trained_task(sweep, result)
opt_sweep = mech.optimum_sweep(cfg)
opt_result = experiments.run_mlp_sweep(
    opt_sweep, Cache(), description="mechanism: σ optimum"
)

# %%
rows = {
    k: mech.condition_rows(k, cfg.seeds, cfg.sigma) for k in ("embedding", "gaussian")
}
opt_models = experiments.load_mlp(opt_result)
opt_task = experiments.trained_task(opt_sweep, opt_result)
labels = {
    "embedding": "embedding M",
    "gaussian": f"Gaussian M, σ = {cfg.sigma:g}",
    "gaussian_opt": f"Gaussian M, σ = {cfg.sigma_opt:g}",
}
conditions = {
    "embedding": mech.study(
        labels["embedding"], models, task, rows["embedding"], cfg.drop_rule
    ),
    "gaussian": mech.study(
        labels["gaussian"], models, task, rows["gaussian"], cfg.drop_rule
    ),
    "gaussian_opt": mech.study(
        labels["gaussian_opt"], opt_models, opt_task, slice(None), cfg.drop_rule
    ),
}
report.number("sigma", cfg.sigma)
report.number("p_train", cfg.p)
report.number("sigma_opt", cfg.sigma_opt)
report.number("seeds", cfg.seeds)

# %% [markdown]
# ## Read and write directions
#
# {numref}`fig-mechanism-alignment` shows, for one embedding model, the absolute cosine of
# each neuron's read and write direction with every basis vector. Neurons are sorted by the
# mean index of their direction, weighted by the squared cosines.

# %%
emb = conditions["embedding"]
an = emb.analysis
n_pos = int(an.positive_eigenvalues[0])
read_eig = mech.alignment(mech.read_directions(emb.w_in), an.eigenvectors)[0]
write_eig = mech.alignment(mech.write_directions(emb.w_out), an.eigenvectors)[0]
read_svd = mech.alignment(mech.read_directions(emb.w_in), an.right)[0]
write_svd = mech.alignment(mech.write_directions(emb.w_out), an.left)[0]

# %% tags=["hide-input"]
order = mech.neuron_order(read_eig[None])[0]
maps = [read_eig[order], write_eig[order], read_svd[order], write_svd[order]]
titles = ["read ($W_\\mathrm{in}$ rows)", "write ($W_\\mathrm{out}$ columns)"]
titles += ["read, against $v_k$", "write, against $u_k$"]
xlabels = 2 * ["eigenvector of $(M+M^T)/2$"] + 2 * ["singular vector of $I+M$"]
fig, axes = plotting.figure(ncols=2, nrows=2, width=8.5, height=6.4)
plotting.alignment_grid(axes, maps, titles, xlabels, mark=n_pos)
report.figure("fig-mechanism-alignment", fig)

# %% [markdown]
# ```{glue:figure} fig-mechanism-alignment
# :name: fig-mechanism-alignment
#
# One model trained with the embedding-induced $M$ (seed 0). Absolute cosine of each
# neuron's read direction (left) and write direction (right) with the eigenvectors of the
# symmetric part of $M$ (top) and with the right and left singular vectors of $I + M$
# (bottom). The dotted line separates the {glue:text}`emb_npos:.0f` positive eigenvalues of
# this $M$ from the negative ones. Every neuron spreads its weight over many directions
# left of the line, none aligns with a single eigenvector, and almost nothing lies to the
# right: the neurons share the positive subspace rather than each taking one direction.
# ```
#
# The share of the squared norm of $W_\text{in}$'s rows that lies in the span of the
# eigenvectors with positive eigenvalue is {glue:text}`embedding_read_in_positive:.2f`
# ± {glue:text}`embedding_read_in_positive_err:.2f` (seed mean ± standard error), and of
# $W_\text{out}$'s columns {glue:text}`embedding_write_in_positive:.2f`
# ± {glue:text}`embedding_write_in_positive_err:.2f`; a random direction would put about
# half its norm there (the positive count over $n$). The claims `read_in_positive` and
# `write_in_positive` hold when the share clears both $1/2$ and that chance level by `z`
# standard errors.

# %% tags=["hide-input"]
report.number("emb_npos", n_pos)
drop = emb.measures.top_subspace.mean()
positive_count = emb.measures.top_subspace_positive.mean()
nearer_d = abs(drop - cfg.n_neurons) <= abs(drop - positive_count)
report.text(
    "drop_nearer", "the number of neurons" if nearer_d else "the positive count"
)
report.means("embedding", mech.measure_means(emb.measures))
report.means("gaussian", mech.measure_means(conditions["gaussian"].measures))
report.means("gaussian_opt", mech.measure_means(conditions["gaussian_opt"].measures))

# %% [markdown]
# ## Which directions survive the map
#
# Now the whole map: the cosine of $A v_k$ with $v_k$ (eigenvectors) and with $u_k$
# (singular vectors), for every index $k$ ({numref}`fig-mechanism-similarity`).
#
# **Where it drops.** The paper sees a sharp drop near index 50 without defining it. We
# define the drop index of a curve $s_1, \dots, s_n$ as the change point $c$ of the best
# least-squares fit of a two-level step function: $c$ minimises
# $\sum_{k\le c}(s_k - \bar s_{\le c})^2 + \sum_{k>c}(s_k - \bar s_{>c})^2$, so $c$ is the
# number of indices on the high level (`drop_rule = step`). It needs no threshold; the
# alternative `drop_rule = half` takes the first index whose cosine is below $1/2$. We
# compare the drop with $d$ and with the number of positive eigenvalues of $S$, per seed.

# %% tags=["hide-input"]
index = np.arange(1, cfg.n_features + 1)
eig_sim = np.stack([c.analysis.eigen_similarity.numpy() for c in conditions.values()])
svd_sim = np.stack(
    [c.analysis.singular_similarity.numpy() for c in conditions.values()]
)
fig, axes = plotting.figure(ncols=2, width=9.0, height=3.8)
plotting.lines_with_bands(
    axes[0],
    index,
    eig_sim.mean(1),
    eig_sim.min(1),
    eig_sim.max(1),
    list(labels.values()),
)
plotting.lines_with_bands(
    axes[1], index, svd_sim.mean(1), svd_sim.min(1), svd_sim.max(1)
)
axes[0].set(xlabel="eigenvector index $k$", ylabel="$\\cos(A v_k, v_k)$")
axes[1].set(xlabel="singular vector index $k$", ylabel="$\\cos(A v_k, u_k)$")
axes[0].axvline(cfg.n_neurons, color="k", ls=":", lw=0.8)
axes[1].axvline(cfg.n_neurons, color="k", ls=":", lw=0.8)
axes[0].legend(fontsize=8)
report.figure("fig-mechanism-similarity", fig)

# %% [markdown]
# ```{glue:figure} fig-mechanism-similarity
# :name: fig-mechanism-similarity
#
# Cosine similarity of $A v_k = W_\text{out}W_\text{in}v_k$ with $v_k$ for the eigenvectors
# of the symmetric part of $M$ (left) and with $u_k$ for the singular vectors of $I + M$
# (right), against the index $k$ (eigen/singular values descending). Lines are seed means,
# bands span the seeds; the dotted line marks $d$. The top directions pass through $A$
# almost unchanged; past about $d$ the similarity falls to the level of unrelated directions.
# ```
#
# The drop indices, seed mean ± standard error, with the smallest and largest seed, and
# every other measure of this chapter, per condition:

# %% tags=["hide-input"]
tables.Table(*mech.summary_rows({c.label: c.measures for c in conditions.values()}))

# %% [markdown]
# For the embedding $M$ the eigen-similarity drops at index
# {glue:text}`embedding_top_subspace:.1f` ± {glue:text}`embedding_top_subspace_err:.1f`
# (singular vectors: {glue:text}`embedding_top_subspace_singular:.1f`
# ± {glue:text}`embedding_top_subspace_singular_err:.1f`), and its symmetric part has
# {glue:text}`embedding_top_subspace_positive:.1f` positive eigenvalues; in this run the drop
# is nearer to {glue:text}`drop_nearer`. The two candidates differ here because for
# $M = I - W_E^\top W_E$ the eigenvalues of $W_E^\top W_E$ follow the Marchenko-Pastur law
# (see {ref}`equivalence`), whose median lies below its mean 1, so slightly more than half
# of $M$'s eigenvalues are positive. With Gaussian $M$ the positive count is about $n/2$ by
# symmetry, and the drop is at {glue:text}`gaussian_top_subspace:.1f`
# ± {glue:text}`gaussian_top_subspace_err:.1f` ($\sigma =$ {glue:text}`sigma:.3g`) and
# {glue:text}`gaussian_opt_top_subspace:.1f` ± {glue:text}`gaussian_opt_top_subspace_err:.1f`
# ($\sigma =$ {glue:text}`sigma_opt:.3g`).
#
# **Criteria.** A drop index (or positive count) is *at $d$* when its seed mean is within
# `drop_tolerance` = {glue:text}`drop_tolerance:.0f` of $d$. The claims with the plain ids
# are those of the embedding $M$, the model of {cite:t}`braun2025apd`; the Gaussian ones
# carry the suffixes `.gaussian` and `.gaussian_opt`.

# %% [markdown]
# ## Entries of $W_\text{out}W_\text{in}$ against entries of $M$
#
# {numref}`fig-mechanism-entries` puts every entry of $A$ against the entry of $M$ at the
# same place. We fit lines separately to the off-diagonal entries
# ($A_{ij} \approx a\,M_{ij} + b$, with correlation $r$) and to the diagonal
# ($A_{ii} \approx c\,M_{ii} + e$; $e$ is the diagonal offset). The embedding-induced $M$ has
# a zero diagonal ($W_E$ has unit columns), so there only the offset $e$, the mean of
# $A_{ii}$, is fitted.
#
# What to expect? For the best rank-$d$ map, the truncated SVD $T_d$ of $I + M$, the
# diagonal is roughly the diagonal of the projector onto $d$ of $n$ directions, about
# $d/n = 1/2$, and the off-diagonal entries follow those of $M$ with a slope above 1,
# because that projector's off-diagonal entries are themselves correlated with $M$.
# The tables after the figure give the fits of the trained maps and of $T_d$ (seed means).

# %% tags=["hide-input"]
panels = [mech.scatter_panel(c) for c in conditions.values()]
fig, axes = plotting.figure(ncols=3, width=11.0, height=3.6)
plotting.entry_scatters(axes, panels)
axes[0].legend(fontsize=8, markerscale=3)
report.figure("fig-mechanism-entries", fig)

# %% [markdown]
# ```{glue:figure} fig-mechanism-entries
# :name: fig-mechanism-entries
#
# Entries of $W_\text{out}W_\text{in}$ against the entries of $M$ for seed 0 of each
# condition: off-diagonal (blue) and diagonal (orange), each with its least-squares line
# (dashed). The off-diagonal cloud follows $M$ with slope
# {glue:text}`embedding_offdiag_slope:.2f` (embedding); the diagonal sits at an offset
# of about {glue:text}`embedding_diag_offset:.2f` instead of 1, the value of $I + M$.
# ```

# %%
trained_fits = {c.label: c.analysis.fit for c in conditions.values()}
ideal = {
    c.label: mech.entry_fit(mech.truncation(c.m, cfg.n_neurons), c.m)
    for c in conditions.values()
}
ideal_emb = ideal[labels["embedding"]]

# %% tags=["hide-input"]
print("trained W_out W_in:\n" + mech.fit_table(trained_fits))
print("best rank-d map T_d of I + M:\n" + mech.fit_table(ideal))
report.number("ideal_slope_embedding", ideal_emb.offdiag_slope.mean().item())
report.number("ideal_offset_embedding", ideal_emb.diag_offset.mean().item())
report.number("ideal_corr_embedding", ideal_emb.offdiag_correlation.mean().item())

# %% [markdown]
# The off-diagonal slope is {glue:text}`embedding_offdiag_slope:.2f`
# ± {glue:text}`embedding_offdiag_slope_err:.2f` and the correlation
# {glue:text}`embedding_m_correlation:.3f` ± {glue:text}`embedding_m_correlation_err:.3f`
# for the embedding $M$ (the truncated SVD $T_d$: slope {glue:text}`ideal_slope_embedding:.2f`,
# correlation {glue:text}`ideal_corr_embedding:.3f`); the diagonal offset is
# {glue:text}`embedding_diag_offset:.3f` ± {glue:text}`embedding_diag_offset_err:.3f`
# ($T_d$: {glue:text}`ideal_offset_embedding:.3f`). The Gaussian models show the same
# pattern with a weaker correlation ({glue:text}`gaussian_m_correlation:.3f` at
# $\sigma =$ {glue:text}`sigma:.3g`, {glue:text}`gaussian_opt_m_correlation:.3f` at
# {glue:text}`sigma_opt:.3g`). The paper shows this figure without numbers ("strongly
# correlated"); we call a correlation strong above `min_correlation` =
# {glue:text}`min_correlation:.2f`, and require the slope and the offset to be positive by
# `z` = {glue:text}`z_value:.0f` standard errors.

# %% tags=["hide-input"]
report.number("min_correlation", cfg.min_correlation)
report.number("drop_tolerance", cfg.drop_tolerance)
report.number("z_value", cfg.z)

# %% [markdown]
# ## Sign and sparsity of the weights
#
# **Non-negative mass.** The share of $W_\text{in}$'s absolute weight
# $\sum_{ij}|W_{ij}|$ held by its non-negative entries; "mostly non-negative" means above
# $1/2$.
#
# **Sparsity.** We measure how concentrated a matrix's weight is with Hoyer's sparsity
# {cite:p}`hoyer2004nmf` over its $N$ entries,
#
# $$
# \mathrm{sparsity}(W) = \frac{\sqrt N - \lVert W\rVert_1/\lVert W\rVert_2}{\sqrt N - 1},
# $$ (eq-mechanism-hoyer)
#
# which is 0 when all entries have the same magnitude and 1 when one entry carries
# everything, and does not change when $W$ is scaled, so trained and hand-coded weights of
# different norms compare directly (the semi-NMF chapter applies the same function,
# `cclib.compressed.mechanism.weight_sparsity`). For a large matrix of i.i.d. Gaussian entries
# $\lVert W\rVert_1/\lVert W\rVert_2 \to \sqrt{N}\sqrt{2/\pi}$, which gives
# {glue:text}`gaussian_reference:.3f`; the uniform initialisation scores
# {glue:text}`init_sparsity:.3f`. A matrix is *sparse* here when it beats the dense
# Gaussian value; the chapter's `weight_sparsity` claim takes the less sparse of
# $W_\text{in}$ and $W_\text{out}$, so it holds only when both are.

# %%
reference = mech.gaussian_sparsity(cfg.n_features * cfg.n_neurons)
init = MLP.init(list(range(cfg.seeds)), cfg.n_features, cfg.n_neurons)
report.number("gaussian_reference", reference)
report.number("init_sparsity", mech.weight_sparsity(init.w_in.detach()).mean().item())

# %% tags=["hide-input"]
fig, axes = plotting.figure(ncols=2, width=9.0, height=3.6)
plotting.weight_histogram(
    axes[0],
    {f"{c.label}": c.w_in for c in conditions.values()} | {"initial": init.w_in},
)
plotting.weight_histogram(
    axes[1],
    {f"{c.label}": c.w_out for c in conditions.values()} | {"initial": init.w_out},
)
axes[0].set_title("$W_\\mathrm{in}$")
axes[1].set_title("$W_\\mathrm{out}$")
axes[0].legend(fontsize=8)
report.figure("fig-mechanism-weights", fig)

# %% [markdown]
# ```{glue:figure} fig-mechanism-weights
# :name: fig-mechanism-weights
#
# Distribution of the entries of $W_\text{in}$ (left) and $W_\text{out}$ (right), all seeds
# pooled, each matrix divided by its root-mean-square entry (log density). The trained
# $W_\text{in}$ piles up just around zero with a long positive tail and almost no negative
# mass. The trained $W_\text{out}$ has heavier tails than the initial (uniform) weights but
# no sharp peak at zero, and leans positive.
# ```
#
# For the embedding models, {glue:text}`embedding_win_nonnegative_pct:.0f`% of
# $W_\text{in}$'s mass is non-negative, and the sparsities are
# {glue:text}`embedding_weight_sparsity_in:.3f` ($W_\text{in}$) and
# {glue:text}`embedding_weight_sparsity_out:.3f` ($W_\text{out}$) against
# {glue:text}`gaussian_reference:.3f` for a dense Gaussian matrix. $W_\text{in}$ is the
# sparser of the two; $W_\text{out}$ clears the Gaussian value by
# {glue:text}`out_margin:.3f`.

# %% tags=["hide-input"]
report.number(
    "embedding_win_nonnegative_pct", 100 * emb.measures.win_nonnegative.mean()
)
report.number("out_margin", emb.measures.weight_sparsity_out.mean() - reference)

# %% [markdown]
# **Against a null.** A slope or an offset above zero says little by itself: any trained
# model could carry a diagonal offset, and the entries of two unrelated matrices could line
# up by chance. So every fit of $W_\text{out}W_\text{in}$ against $M$ is compared with the
# same fit for a model trained on an *independent* $M$ (the next seed's models, each
# trained on its own matrix draw; where seeds share one matrix, the models of another
# condition). The slope, offset and diagonal slope claims hold when the difference clears
# `z` standard errors over seeds (at least 3 seeds). Sparsity is held to a minimum gain
# over the dense Gaussian value, `min_sparsity_gain`, fixed before any run.

# %% tags=["hide-input"]
null_for = {
    "embedding": "gaussian",
    "gaussian": "embedding",
    "gaussian_opt": "embedding",
}
for key, suffix in [
    ("embedding", ""),
    ("gaussian", ".gaussian"),
    ("gaussian_opt", ".gaussian_opt"),
]:
    null = mech.null_fit(conditions[key], conditions[null_for[key]])
    mech.check_claims(claims, conditions[key], null, reference, suffix)

# %% [markdown]
# ## Summary
#
# A model trained on $\mathrm{ReLU}(x) + Mx$ spends its {glue:text}`n_neurons:.0f` neurons
# on the top half of $M$'s spectrum: for the embedding-induced $M$, $W_\text{out}W_\text{in}$
# keeps the eigen- and singular directions up to index
# {glue:text}`embedding_top_subspace:.1f` and drops the rest
# ({numref}`fig-mechanism-similarity`), matching the
# {glue:text}`embedding_top_subspace_positive:.1f` positive eigenvalues of $M$ and the
# $d =$ {glue:text}`n_neurons:.0f` neurons to within `drop_tolerance`. Its entries
# follow those of $M$ (correlation {glue:text}`embedding_m_correlation:.3f`, slope
# {glue:text}`embedding_offdiag_slope:.2f`), with a diagonal offset of
# {glue:text}`embedding_diag_offset:.3f` ({numref}`fig-mechanism-entries`), close to what
# the best rank-$d$ linear map of $I + M$ would have. $W_\text{in}$ is mostly non-negative
# ({glue:text}`embedding_win_nonnegative_pct:.0f`% of its mass), which is what makes the
# model nearly linear on positive one-hot inputs {eq}`eq-mechanism-product`, and sparse
# (Hoyer {glue:text}`embedding_weight_sparsity_in:.2f`), while $W_\text{out}$ is less sparse
# ({glue:text}`embedding_weight_sparsity_out:.2f`, against {glue:text}`gaussian_reference:.2f`
# for a dense Gaussian matrix). The Gaussian matrices at
# $\sigma =$ {glue:text}`sigma:.3g` and {glue:text}`sigma_opt:.3g` give the same picture with
# weaker entry correlations, following those of their best rank-$d$ maps. In short, on sparse
# inputs the model is close to a low-rank approximation of $I + M$ with a non-negative
# read-in; the semi-NMF chapter builds such weights by hand.

# %% tags=["hide-input"]
report.number("n_neurons", cfg.n_neurons)
claims.table()
