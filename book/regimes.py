# %% [markdown]
# (regimes)=
# # Sparse and dense regimes
#
# A model trained at one feature probability is a different model from one trained at
# another. {cite:t}`bhagat2025cc` (appendices C and D) find two kinds of solution: trained on
# sparse inputs, the model spreads every feature over several neurons and beats the naive
# loss on sparse inputs; trained on dense inputs, it represents half the features with one
# neuron each and turns the other half into a constant offset. The claims: **the two
# solution types each win in their own regime, the exactly-one-active model behaves like
# the sparse one, and a hand-coded naive + offset model explains the dense solution.**

# %% tags=["parameters", "hide-input"]
# fmt: off
profile = None  # smoke | quick | paper; None: paper on a GPU, quick on a CPU
p = None  # the sparse training p of figures 8 and 9 (compared with the one-active model)
n_features = None  # number of input features n
n_neurons = None  # number of ReLU neurons d
mixing = None  # mixing matrix of the sweep of figure 7: clean | gaussian | symmetric | embedding
sigma = None  # std of a Gaussian mixing matrix (gaussian and symmetric only)
dense_p = None  # the dense training p of figures 8 and 9, in (0, 1]
train_ps = None  # training p of the sweep of figure 7 (comma-separated; values in (0, 1])
clean_ps = None  # training p of the clean-model check (comma-separated; holds 0.1 and 1)
seeds = None  # training seeds per training p (seed s draws mixing matrix s)
steps = None  # training steps before the non-empty scaling, at least 1
batch_size = None  # samples per batch
lr = None  # peak learning rate of the cosine schedule
weight_decay = None  # AdamW weight decay
nonempty_steps = None  # scale steps by 1/(1-(1-p)^n) to count non-empty batches, as the paper
max_steps = None  # most training steps one instance may take, after the non-empty scaling
max_memory_gb = None  # largest estimated memory of one training run, in GB
max_hours = None  # most estimated hours of training before run or build refuse
p_points = None  # points of the log grid of evaluation p, from 1e-3 to 1
eval_samples = None  # evaluation samples per number of active features
offset_points = None  # offsets of the log grid from 0.002 to 0.05 searched for the optimum
offset_samples = None  # Monte Carlo samples of the simulated optimal offset
share = None  # share of a feature's positive weight that makes its largest neuron dominant
strength = None  # total positive weight a feature needs to count as represented
tolerance = None  # relative difference that still counts as a match
z = None  # standard errors by which a margin must clear its threshold
# fmt: on

# %% tags=["hide-input"]
import numpy as np
import torch

import cclib
from cclib.book import plotting, report, tables
from cclib.compressed import analysis, baselines, evaluation, experiments, regimes
from cclib.engine.cache import Cache
from cclib.engine.training import nonempty_horizon

cfg = cclib.configure("regimes", globals())
claims = cclib.claims_for(cfg)
NAIVE = baselines.naive_loss_per_feature(None, cfg.n_features, range(cfg.n_neurons))

# %% [markdown]
# ## One sweep over the training sparsity
#
# We train the MLP $\hat y = W_\text{out}\,\mathrm{ReLU}(W_\text{in}x)$ of
# {ref}`naive-baseline` on $y = \mathrm{ReLU}(x) + Mx$ at each training probability of the
# `train_ps` grid, here $p \in \{${glue:text}`train_ps_text`$\}$, plus one model that
# sees **exactly one** active feature per sample (the sparse limit). The paper's grid is
# $\{0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1\}$ (the paper profile's
# default); the quick profile trains five of its points, every model as the paper trains it,
# to fit the book's time budget on a CPU: a dense model costs about four times a sparse one,
# and the sparsest ones train longest (below). The paper's appendix C
# names both the embedding-induced $M$ and a Gaussian one; the `mixing` parameter chooses
# (here: {glue:text}`mixing_kind`). Seed $s$ draws its own matrix, and the same seed at every
# $p$ shares it, so the differences between training probabilities are paired. All
# {glue:text}`fig7_instances:.0f` models are one sweep; the
# exactly-one-active model (`CCInstance.active = 1`) draws its inputs with the exactly-$k$
# sampler that the evaluation uses too.
#
# **Step accounting.** The paper counts 10,000 *non-empty* batches per model. At
# $p = 0.001$ only $1-(1-p)^{100} =$ {glue:text}`nonempty_frac_0001:.3f` of the samples are
# non-empty, so that model gets {glue:text}`nonempty_ratio:.1f` times the steps of the
# $p = 0.01$ one and {glue:text}`nonempty_ratio_dense:.1f` times those of $p = 1$. Each
# model trains only to its own horizon, on the step that suits its inputs (the sparse CPU
# step at small $p$, the dense one above), so the sparsest models no longer hold the others
# back. The `nonempty_steps` parameter switches this accounting on (quick and paper
# profiles, as the paper) or off (smoke): switched off, every model trains the same
# {glue:text}`fig7_steps:.0f` steps of {glue:text}`fig7_batch:.0f` samples, so the sparsest
# models see fewer non-empty samples than the dense ones. This run:
# `nonempty_steps` = {glue:text}`nonempty_flag`. The exactly-one-active model has no empty
# samples; under the non-empty accounting it trains the steps of the $p = 1/n = 0.01$ model,
# the one it is compared with below (our choice; the paper does not say).
#
# None of the {ref}`mixing` chapter's cached sweeps has this configuration (they train every
# model at one $p$), so this chapter trains its own; its clean models of
# {numref}`fig-regimes-offset` are a second, smaller sweep.

# %%
sweep = regimes.figure7_sweep(cfg)
result = experiments.run_mlp_sweep(sweep, Cache(), description="regimes: figure 7")
models = experiments.load_mlp(result)
task = experiments.trained_task(sweep, result)
ps = regimes.train_ps(cfg)
labels = [f"p = {q:g}" for q in ps] + ["one active"]

# %% tags=["hide-input"]
report.text("mixing_kind", cfg.mixing)
report.text("train_ps_text", ", ".join(f"{q:g}" for q in ps))
report.number("fig7_instances", len(sweep.instances))
report.number("fig7_steps", cfg.steps)
report.number("fig7_batch", cfg.batch_size)
report.text("nonempty_flag", str(cfg.nonempty_steps).lower())
report.number("nonempty_frac_0001", 1 - (1 - 0.001) ** cfg.n_features)
sparsest = nonempty_horizon(10_000, 0.001, cfg.n_features)
report.number(
    "nonempty_ratio", sparsest / nonempty_horizon(10_000, 0.01, cfg.n_features)
)
report.number("nonempty_ratio_dense", sparsest / 10_000)

# %% [markdown]
# We evaluate each model once per number $k$ of active features and weight the strata
# binomially (`cclib.compressed.evaluation`), which gives its loss per feature on a log grid of
# {glue:text}`p_points:.0f` evaluation probabilities from $10^{-3}$ to $1$ from one set of
# samples shared by all models.

# %%
p_grid = np.union1d(np.logspace(-3, 0, cfg.p_points), ps)
counts = evaluation.relevant_counts(cfg.n_features, p_grid)
strata = evaluation.strata_losses(models, task, counts, cfg.eval_samples)
curves = strata.loss_per_feature(p_grid)
mean_curves = regimes.by_setting(curves.mean, cfg.seeds)  # (setting, seed, p_eval)
err_curves = regimes.by_setting(curves.stderr, cfg.seeds)
own, own_err = regimes.at_own_p(strata, [i.p for i in sweep.instances])
report.number("p_points", cfg.p_points)

# %% tags=["hide-input"]
fig, ax = plotting.figure(width=7.5, height=4.6)
own_mean = regimes.by_setting(own, cfg.seeds)[: len(ps)].mean(1)
plotting.regime_curves(ax, p_grid, mean_curves[: len(ps)].mean(1), ps, own_mean)
ax.plot(p_grid, mean_curves[-1].mean(0), "k--", lw=1.4, label="exactly one active")
plotting.reference_line(ax, NAIVE, label="naive, clean labels (1/12)")
ax.set_ylim(0.3 * NAIVE, 2.0 * NAIVE)
ax.legend(fontsize=7, ncol=2)
report.figure("fig-regimes-sweep", fig)

# %% [markdown]
# ```{glue:figure} fig-regimes-sweep
# :name: fig-regimes-sweep
#
# Loss per feature against evaluation $p$ of models trained at each $p$ (colour from violet,
# sparse, to green, dense; lines are seed means), of the model trained on exactly one active
# feature (black dashed), and of every model at its own training $p$ (circles joined by a
# dotted line: what an evaluation only at the training $p$ sees). Dashed grey: the naive
# loss $1/12$ of clean labels.
# ```
#
# ## Two solution types
#
# **Crossover.** Take the model trained at the sparse $p =$ {glue:text}`p_sparse:.3g` and
# the one trained at the dense $p =$ {glue:text}`p_dense:.3g`. We call the *crossover* the
# evaluation $p$ at which the sparse model's loss first rises above the dense model's
# (log-linear interpolation between grid points), measured per seed. The claim holds when
# the sparse model beats the naive line $1/12$ at the smallest evaluation $p$, the dense
# model beats it at $p = 1$ (each by `tolerance` plus `z` standard errors, relative to
# $1/12$), and every seed has a crossover.

# %%
sparse = ps.index(cfg.p)
dense = ps.index(cfg.dense_p)
cross = regimes.seed_crossovers(p_grid, mean_curves[sparse], mean_curves[dense])
margins = 1 - mean_curves / NAIVE  # (setting, seed, p_eval)
sparse_margin = analysis.seed_mean(
    margins[sparse][:, 0], err_curves[sparse][:, 0] / NAIVE
)
dense_margin = analysis.seed_mean(
    margins[dense][:, -1], err_curves[dense][:, -1] / NAIVE
)

# %% tags=["hide-input"]
print("crossover p per seed:", tables.listed(cross, ".4f"))
print(
    "margin over 1/12 of the sparse model at p = 1e-3: {:+.3f} ± {:.3f}".format(
        *sparse_margin
    )
)
print(
    "margin over 1/12 of the dense model at p = 1: {:+.3f} ± {:.3f}".format(
        *dense_margin
    )
)

# %% tags=["hide-input"]
weaker = min((sparse_margin, dense_margin), key=lambda m: m[0] - cfg.z * m[1])
claims.check("regimes.two_solution_types", *weaker)
log_cross = analysis.seed_mean(np.log10(cross))
crossed = float(np.isfinite(cross).mean())
claims.check("regimes.curves_cross", crossed, crossover=10 ** log_cross[0])
report.number("p_sparse", cfg.p)
report.number("p_dense", cfg.dense_p)
report.number("crossover", 10 ** log_cross[0])
report.number("sparse_margin_pct", 100 * sparse_margin[0])
report.number("dense_margin_pct", 100 * dense_margin[0])

# %% [markdown]
# The sparse model's margin over $1/12$ at $p = 10^{-3}$ is
# {glue:text}`sparse_margin_pct:.1f`%, the dense model's at $p = 1$ is
# {glue:text}`dense_margin_pct:.1f`%, and their curves cross near $p =$
# {glue:text}`crossover:.3f`.
#
# **The sparse limit.** The exactly-one-active model never sees two features at once.
# At the smallest evaluation $p$ almost every non-empty input has one active feature, so
# there it should behave like the model trained at $p =$ {glue:text}`p_sparse:.3g`. We compare
# the two seed by seed (same matrix) through the relative difference
# $L_\text{one}/L_{p} - 1$ at every evaluation $p$ of the sparse regime (up to the sparse
# training $p$); the claim takes the difference farthest from zero and holds when it is
# within `tolerance` ({glue:text}`tolerance_pct:.0f`%) by `z` errors.

# %% tags=["hide-input"]
in_sparse = p_grid <= cfg.p
one_vs_sparse = mean_curves[-1][:, in_sparse] / mean_curves[sparse][:, in_sparse] - 1
one_err = np.hypot(err_curves[-1], err_curves[sparse])[:, in_sparse]
rels, rel_errs = analysis.seed_mean(
    one_vs_sparse.T, (one_err / mean_curves[sparse][:, in_sparse]).T
)
far = int(np.argmax(np.abs(rels)))
rel, rel_err = rels[far], rel_errs[far]
claims.check("regimes.one_hot_like_sparse", rel, rel_err)
report.number("one_vs_sparse_pct", 100 * rel)
report.number("tolerance_pct", 100 * cfg.tolerance)

# %% [markdown]
# ## What the two solutions compute
#
# **One-hot response.** Feed feature $i$ alone with value $t \in [-1, 1]$ and read output
# $i$. An exact model returns $\mathrm{ReLU}(t) + M_{ii}t$; for the embedding-induced $M$
# the diagonal vanishes (unit-norm embedding columns), so the ideal line is $\mathrm{ReLU}(t)$.

# %%
values = torch.linspace(-1, 1, 41)
pick = [sparse * cfg.seeds, dense * cfg.seeds]  # seed 0 of the two models
response = regimes.one_hot_response(models, values)[pick]  # (2, T, n)
ideal = regimes.ideal_one_hot(values, task.scale[pick, None, None] * task.mixing[pick])
strong = (response[:, -1] > 0.5).sum(dim=1)
report.number("strong_sparse", strong[0])
report.number("strong_dense", strong[1])

# %% tags=["hide-input"]
at_one = regimes.by_setting(regimes.one_hot_response(models, values)[:, -1], cfg.seeds)
responding = analysis.seed_mean((at_one[sparse] > 0.25).mean(-1))
claims.check("regimes.one_hot_response_sparse", *responding)
strong_share = analysis.seed_mean((at_one[dense] > 0.5).mean(-1))
claims.check("regimes.one_hot_response_dense", *strong_share)

# %% tags=["hide-input"]
fig, axes = plotting.figure(ncols=2, width=8.4, height=3.6)
plotting.one_hot_lines(axes[0], values, response[0], ideal[0].mean(dim=1))
plotting.one_hot_lines(axes[1], values, response[1], ideal[1].mean(dim=1))
axes[0].set_title(f"trained at p = {cfg.p:g}")
axes[1].set_title(f"trained at p = {cfg.dense_p:g}")
axes[0].legend()
report.figure("fig-regimes-onehot", fig)

# %% [markdown]
# ```{glue:figure} fig-regimes-onehot
# :name: fig-regimes-onehot
#
# Output $\hat y_i$ when only feature $i$ is active with value $t$, one thin line per
# feature (seed 0), for the sparse-trained (left) and the dense-trained model (right).
# Green dashed: the ideal response (averaged over features; for the embedding-induced $M$
# it is exactly $\mathrm{ReLU}(t)$). The sparse model answers every feature alike and
# undershoots; the dense model answers some features almost exactly and the rest weakly.
# ```
#
# At $t = 1$, {glue:text}`strong_sparse:.0f` features of the sparse model and
# {glue:text}`strong_dense:.0f` of the dense one respond with more than $0.5$.
#
# **Weights by feature and neuron.** Feature $i$ reaches its own output through every
# neuron $j$ with weight $W_\text{out}[i, j]\,W_\text{in}[j, i]$; these terms sum to the
# diagonal entry $(W_\text{out}W_\text{in})_{ii}$. For each feature we take its positive
# terms and ask which share the largest one holds. A feature is **represented by one
# neuron** when that share is at least `share` ({glue:text}`share_pct:.0f`%) and its positive
# terms add up to at least `strength` ({glue:text}`strength_value:.2f`, against $1$ for an
# exact copy). The paper gives neither threshold; these are our choices.

# %%
contrib = regimes.contributions(models)  # (K, n, d)
shares = regimes.by_setting(
    regimes.largest_share(contrib).median(dim=1).values, cfg.seeds
)
alone_counts = regimes.dominant_features(contrib, cfg.share, cfg.strength)
alone = regimes.by_setting(alone_counts, cfg.seeds)  # (setting, seed)
regimes.print_table(
    labels, median_largest_share=shares.mean(1), features_alone=alone.mean(1)
)
report.number("share_pct", 100 * cfg.share)
report.number("strength_value", cfg.strength)

# %% tags=["hide-input"]
fig, axes = plotting.figure(ncols=2, width=9.0, height=3.8)
one = [contrib[k] for k in pick]
plotting.stacked_contributions(axes[0], one[0], regimes.stacked_order(one[0]))
plotting.stacked_contributions(axes[1], one[1], regimes.stacked_order(one[1]))
axes[0].set_title(f"trained at p = {cfg.p:g}")
axes[1].set_title(f"trained at p = {cfg.dense_p:g}")
report.figure("fig-regimes-weights", fig)

# %% [markdown]
# ```{glue:figure} fig-regimes-weights
# :name: fig-regimes-weights
#
# Each bar is one feature; its segments are the terms $W_\text{out}[i, j]\,W_\text{in}[j, i]$
# of the neurons $j$ (colour = neuron index), positive ones stacked upwards, negative ones
# downwards. Features are sorted by their largest term. Left: the sparse-trained model
# spreads each feature over many neurons. Right: the dense-trained model carries a large
# part of the features with one neuron each, of weight near $1$, and the rest weakly.
# ```

# %% tags=["hide-input"]
dense_alone = analysis.seed_mean(alone[dense].astype(float))
claims.check("regimes.dense_half_features", *dense_alone)
sparse_share = analysis.seed_mean(shares[sparse])
share_claim = claims.check("regimes.sparse_share", *sparse_share)
report.number("dense_alone", dense_alone[0])
report.number("sparse_share_pct", 100 * sparse_share[0])

# %% [markdown]
# **What the paper's 70% measures.** The largest neuron of a sparse-trained feature holds
# {glue:text}`sparse_share_pct:.0f`% of its positive weight, to be compared with the paper's
# "around 70%" as the issue reads it. The paper's figure 9 plots bar *heights*: the dense solution
# represents 50 features "fully (~100%)", the sparse one each feature "to around 70%". Read
# that way, 70% is the diagonal entry $(W_\text{out}W_\text{in})_{ii}$, the sum of a
# feature's terms over all neurons, and we record it separately (median over features, mean
# over seeds).

# %% tags=["hide-input"]
totals = regimes.by_setting(contrib.sum(dim=-1).median(dim=1).values, cfg.seeds)
sparse_total = analysis.seed_mean(totals[sparse])
total_claim = claims.check("regimes.sparse_total", *sparse_total)
readings_held = np.mean([c.state == "held" for c in (share_claim, total_claim)])
claims.check("regimes.robust_70", readings_held)
report.number("sparse_total_pct", 100 * sparse_total[0])

# %% [markdown]
# ## The dense solution is naive plus an offset
#
# The paper's explanation (its appendix D): the dense model copies half the features
# exactly, like the naive model, and for each of the other outputs it adds up the
# represented features with a small positive weight $c$. The model has no biases, but at
# high $p$ the sum $S = \sum_{r\in R}\mathrm{ReLU}(x_r)$ over the $d$ represented features
# is nearly constant, so $cS$ acts as one. We derive the loss of this **naive + offset**
# model on clean labels ($M = 0$) exactly. With $x_j = a_ju_j$ as in {ref}`naive-baseline`,
# $\mathbb E\,\mathrm{ReLU}(x_j) = p/4$ and $\mathbb E\,\mathrm{ReLU}(x_j)^2 = p/6$, so
# $\mathbb E S = dp/4$ and $\mathbb E S^2 = d(p/6 - p^2/16) + d^2p^2/16$. An unrepresented
# output $i$ has error $cS - \mathrm{ReLU}(x_i)$, with $x_i$ independent of $S$:
#
# $$
# \frac{L(c)}{p} = \frac{n-d}{n}\left[\frac16 - \frac{c\,d\,p}{8}
# + c^2 d\left(\frac16 - \frac{p}{16} + \frac{d\,p}{16}\right)\right],
# \qquad
# c^\ast = \frac{p}{8/3 + (d-1)\,p}.
# $$ (eq-regimes-offset)
#
# At $c = 0$ this is the naive $1/12$; the gain $-c^\ast d p/16$ (times $(n-d)/n$) grows with
# $p$, which is why the offset pays only on dense inputs. We check {eq}`eq-regimes-offset` in
# two independent ways: the stratified simulation of hand-coded offset models on a log grid
# of {glue:text}`offset_points:.0f` offsets from $0.002$ to $0.05$ (the paper's search), and
# a Monte Carlo estimate of $c^\ast$ as the least-squares coefficient of
# $\mathrm{ReLU}(x_i)$ on $S$ ({glue:text}`offset_samples:.0f` samples).

# %%
offsets = np.geomspace(0.002, 0.05, cfg.offset_points)
clean_p = regimes.clean_ps(cfg)
hand = regimes.offset_mlp(cfg.n_features, cfg.n_neurons, offsets)
grid_task = experiments.build_mlp_task(experiments.seed_sweep(cfg, len(offsets), p=1.0))
counts_clean = evaluation.relevant_counts(cfg.n_features, clean_p)
hand_strata = evaluation.strata_losses(hand, grid_task, counts_clean, cfg.eval_samples)
hand_loss = hand_strata.loss_per_feature(clean_p)  # (offset, p)
closed = regimes.offset_loss_per_feature(offsets[:, None], np.array(clean_p)[None])
z_offset = (hand_loss.mean.numpy() - closed) / hand_loss.stderr.numpy()

# %% tags=["hide-input"]
print(
    f"largest |z| of simulation against the closed form: {np.abs(z_offset).max():.2f}"
)

# %%
grid_best = regimes.grid_optima(offsets, hand_loss.mean.numpy())
n, d = cfg.n_features, cfg.n_neurons
simulated = regimes.simulated_offsets(clean_p, n, d, cfg.offset_samples)  # (P, 2)
exact = regimes.optimal_offset(clean_p, cfg.n_neurons)

# %% tags=["hide-input"]
print("closed-form c*:", tables.listed(exact, ".5f"))
print("grid search c*:", tables.listed(grid_best, ".5f"))
print(
    "least squares c*:",
    tables.listed(simulated[:, 0], ".5f"),
    "±",
    tables.listed(simulated[:, 1], ".5f"),
)
report.number("offset_points", cfg.offset_points)
report.number("offset_samples", cfg.offset_samples)

# %% tags=["hide-input"]
claims.check("regimes.offset_closed_form", np.abs(z_offset).max())
for name, q in [("p0_1", 0.1), ("p1", 1.0)]:
    j = clean_p.index(q)
    deviation = simulated[j, 0] - exact[j]
    claims.check(
        f"regimes.offset_optimum_{name}", deviation, simulated[j, 1], exact=exact[j]
    )
    report.number(f"offset_exact_{name}", exact[j])

# %% [markdown]
# The optimal offset is {glue:text}`offset_exact_p0_1:.4f` at $p = 0.1$ and
# {glue:text}`offset_exact_p1:.4f` at $p = 1$ {eq}`eq-regimes-offset`, inside the paper's
# search range. Now compare the hand-coded model with models trained on clean labels at
# $p \in \{0.001, 0.01, 0.1, 0.2, 0.5, 1\}$ (the paper's four plus two dense ones;
# {glue:text}`clean_seeds:.0f` seeds each, the training settings of the sweep above), each
# hand-coded model using the offset $c^\ast$ of its training $p$.

# %%
clean = regimes.clean_sweep(cfg)
clean_result = experiments.run_mlp_sweep(clean, Cache(), description="regimes: clean")
clean_models = experiments.load_mlp(clean_result)
clean_task = experiments.trained_task(clean, clean_result)
clean_strata = evaluation.strata_losses(
    clean_models, clean_task, counts, cfg.eval_samples
)
clean_curves = regimes.by_setting(clean_strata.loss_per_feature(p_grid).mean, cfg.seeds)
report.number("clean_seeds", cfg.seeds)

# %% [markdown]
# **Where the type switches.** Counting the features that one neuron represents alone, for
# every training $p$, shows where the dense solution takes over, with the chapter's $M$ and
# with clean labels.

# %% tags=["hide-input"]
clean_contrib = regimes.contributions(clean_models)
clean_alone = regimes.dominant_features(clean_contrib, cfg.share, cfg.strength)
clean_alone = regimes.by_setting(clean_alone, cfg.seeds)  # (p, seed)
fig, ax = plotting.figure(width=6.4, height=3.4)
plotting.errorbars(
    ax, ps, alone[: len(ps)].mean(1), alone[: len(ps)].std(1), label=cfg.mixing
)
plotting.errorbars(ax, clean_p, clean_alone.mean(1), clean_alone.std(1), label="clean")
plotting.reference_line(ax, cfg.n_neurons, label="d (one neuron per feature)")
plotting.log_p_axis(ax, "training feature probability $p$")
ax.set_ylabel("features represented alone")
ax.legend(fontsize=8)
report.figure("fig-regimes-switch", fig)
report.number("clean_alone_1", clean_alone[clean_p.index(1.0)].mean())
mixings = task.scale[:, None, None] * task.mixing
report.number("mix_var", float(mixings.square().sum(dim=2).mean()) / 3)

# %% [markdown]
# ```{glue:figure} fig-regimes-switch
# :name: fig-regimes-switch
#
# Number of features that one neuron represents alone (share and strength thresholds as
# above) against the training $p$; points are seed means, bars the spread (standard
# deviation) over seeds. Dashed: $d$.
# ```
#
# With clean labels the dense models give exactly half the features a neuron each
# ({glue:text}`clean_alone_1:.1f` at $p = 1$), as the paper describes. With the chapter's
# mixing matrix the count at the densest $p$ can fall again: when every feature is active
# the mixing term $Mx$ carries a sizeable part of the label variance
# ($\mathbb{E}(Mx)_i^2 = \tfrac p3\sum_j M_{ij}^2$, here {glue:text}`mix_var:.3f`$\,p$ on
# average over $i$, against $\operatorname{Var}\mathrm{ReLU}(x_i) = p/6 - p^2/16$), and the
# model spends neurons on it. This is where `regimes.dense_half_features` falls short of
# $d$ when it does: the half-and-half solution of the paper is the clean-label dense solution,
# and with mixing it is approached only in the middle of the dense range (whether longer
# training closes the gap we have not checked).

# %% tags=["hide-input"]
fig, axes = plotting.figure(ncols=2, width=9.5, height=3.9)
p_line = np.geomspace(1e-3, 1, 200)
axes[0].plot(
    p_line, regimes.optimal_offset(p_line, cfg.n_neurons), label="closed form $c^*$"
)
axes[0].plot(clean_p, grid_best, "s", label="grid search (simulated loss)")
plotting.errorbars(
    axes[0], clean_p, simulated[:, 0], 2 * simulated[:, 1], label="least squares"
)
plotting.log_p_axis(axes[0])
axes[0].set_ylabel("optimal offset $c^*$")
axes[0].legend(fontsize=8)
hand_curves = regimes.offset_loss_per_feature(exact[:, None], p_grid[None])
plotting.regime_curves(axes[1], p_grid, clean_curves.mean(1), clean_p)
axes[1].set_prop_cycle(color=plotting.regime_colors(clean_p))
axes[1].plot(p_grid, hand_curves.T, ls="--", lw=1.2)
plotting.reference_line(axes[1], NAIVE, label="naive (1/12)")
axes[1].set_ylim(0.4 * NAIVE, 1.3 * NAIVE)
axes[1].legend(fontsize=7)
report.figure("fig-regimes-offset", fig)

# %% [markdown]
# ```{glue:figure} fig-regimes-offset
# :name: fig-regimes-offset
#
# Left: the optimal offset against $p$ from {eq}`eq-regimes-offset` (line), from a grid
# search over simulated losses (squares; at $p = 0.001$ the optimum lies below the grid, and
# the square marks its end) and from least squares on simulated inputs (±2 standard errors).
# Right: loss per feature of models trained on clean labels (solid, seed
# means; colour = training $p$) and of the naive + offset model with the offset of the same
# training $p$ (dashed, exact; the dashed grey line is $1/12$). Trained and evaluated at
# $p = 1$, the naive + offset model's loss per feature is {glue:text}`hand_at_1:.4f` and the
# trained models' {glue:text}`trained_at_1:.4f` (seed mean).
# ```
#
# **Does the offset explain the trained model?** At $p = 1$ (training and evaluation) we compare the
# hand-coded loss (exact) with each clean-trained seed's loss, and also read the trained model's own
# offset: the mean of $W_\text{out}[i, j]\,W_\text{in}[j, r_j]$ over the features $i$ that no neuron
# represents alone and the neurons $j$ that represent one feature $r_j$ alone
# (`cclib.compressed.regimes.effective_offset`). The claim holds when the hand-coded model is at
# most `tolerance` worse than the trained one (the paper: it matches or beats it).

# %%
dense_j = clean_p.index(1.0)
trained_dense = clean_strata.loss_per_feature(1.0)
trained_at_1 = regimes.by_setting(trained_dense.mean, cfg.seeds)[dense_j]
trained_err = regimes.by_setting(trained_dense.stderr, cfg.seeds)[dense_j]
hand_at_1 = float(regimes.offset_loss_per_feature(exact[dense_j], 1.0))
gap = analysis.seed_mean(hand_at_1 - trained_at_1, trained_err)
offsets_trained = regimes.effective_offset(clean_models, cfg.share, cfg.strength)
own_offset = regimes.by_setting(offsets_trained, cfg.seeds)  # (p, seed)

# %% tags=["hide-input"]
print(f"hand-coded minus trained at p = 1: {gap[0]:+.5f} ± {gap[1]:.5f}")
regimes.print_table(clean_p, trained_offset=own_offset.mean(1), optimal_offset=exact)

# %% tags=["hide-input"]
claims.check("regimes.offset_matches_trained", gap[0] / hand_at_1, gap[1] / hand_at_1)
excess = regimes.offset_excess(clean_strata, clean_p, exact, cfg.seeds, dense_from=0.1)
claims.check("regimes.offset_matches_all_p", *excess)
trained_offset = analysis.seed_mean(
    np.nan_to_num(own_offset[dense_j])
)  # 0: no feature alone
offset_ratio = (
    trained_offset[0] / exact[dense_j] - 1,
    trained_offset[1] / exact[dense_j],
)
claims.check("regimes.trained_offset_p1", *offset_ratio, exact=exact[dense_j])
report.number("hand_at_1", hand_at_1)
report.number("trained_at_1", trained_at_1.mean())
report.number("trained_offset", trained_offset[0])

# %% [markdown]
# ## Summary
#
# Trained at $p =$ {glue:text}`p_sparse:.3g`, the model beats $1/12$ on sparse inputs by
# {glue:text}`sparse_margin_pct:.1f`%; trained at $p =$ {glue:text}`p_dense:.3g`, it beats it
# on dense inputs by {glue:text}`dense_margin_pct:.1f`%, and the two curves cross at
# $p \approx$ {glue:text}`crossover:.3f` ({numref}`fig-regimes-sweep`). The exactly-one-active
# model is {glue:text}`one_vs_sparse_pct:+.1f`% from the $p =$ {glue:text}`p_sparse:.3g` model on
# sparse inputs. The sparse solution shares each feature among neurons (largest share
# {glue:text}`sparse_share_pct:.0f`%, against the paper's "around 70%", which is closer to
# the summed representation, {glue:text}`sparse_total_pct:.0f`%); the dense one gives
# {glue:text}`dense_alone:.0f` features a neuron of their own ({numref}`fig-regimes-weights`),
# and the clean dense models {glue:text}`clean_alone_1:.0f` ({numref}`fig-regimes-switch`).
# On clean labels at $p = 1$ the naive + offset model {eq}`eq-regimes-offset` reaches
# {glue:text}`hand_at_1:.4f` against {glue:text}`trained_at_1:.4f` for the trained models,
# whose own offset is {glue:text}`trained_offset:.4f` ({numref}`fig-regimes-offset`): the
# dense advantage is a bias term, not computation in superposition.
#
# **Where we differ from the paper.** The paper does not say which $M$ its figures 7 to 9
# use, at which dense $p$ its figure 9 was drawn, or how it measured "around 70%"; we chose
# the embedding-induced $M$ and $p =$ {glue:text}`p_dense:.3g` (parameters `mixing` and
# `dense_p`) and recorded both readings of the 70%. With this $M$ the clean picture of one
# neuron for each of half the features holds only partly ({numref}`fig-regimes-switch`),
# which the paper's remark that noise does not change the dense behaviour does not lead one to
# expect.

# %% tags=["hide-input"]
claims.table()
