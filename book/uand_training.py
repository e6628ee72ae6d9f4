# %% [markdown]
# (uand_training)=
# # Training on Universal-AND
#
# {cite:t}`newgas2025dense` trains a network with one layer of ReLU neurons to output the AND
# of every pair of sparse boolean inputs, and reports that it solves the problem with few
# neurons by a *dense binary weighted circuit*: each neuron's input weights take one of two
# values, one positive and one strongly negative, over a positive bias. This chapter states
# the problem, derives the loss, trains the model over a grid of neuron counts $d$ and
# sparsities $s$, and tests each part of that description, including where it stops: at
# high $s$ the circuit gives way to other solutions.

# %% tags=["parameters", "hide-input"]
# fmt: off
profile = None  # smoke | quick | paper; None: paper on a GPU, quick on a CPU
m = None  # number of boolean inputs (outputs: m(m-1)/2 pairs)
d_values = None  # neurons d of the sweep, comma-separated and increasing, e.g. "10,30,100"
s_values = None  # active inputs s of the sweep, comma-separated, each at most m
seeds = None  # training seeds per (d, s), at least 2
steps = None  # AdamW steps per model
batch_size = None  # samples per step
lr = None  # peak learning rate of AdamW (cosine schedule to zero)
weight_decay = None  # AdamW weight decay on every parameter
max_steps = None  # most training steps one model may take
max_memory_gb = None  # largest estimated memory of one training run, in GB
max_hours = None  # most estimated hours of training before run or build refuse
s_low = None  # the low s of the claims (solves, binary circuit), one of s_values
s_high = None  # the high s of the degenerate-solution claim, one of s_values
eval_samples = None  # fresh samples per model for its loss, case errors and accuracy
alt_weight_decay = None  # weight decay of the robustness run (s_low, middle d of the grid)
check_m = None  # inputs m of the check at another m (at s_low and check_d neurons)
check_d = None  # neurons d of the check at another m
# fmt: on

# %% tags=["hide-input"]
import numpy as np

import cclib
from cclib.book import plotting, report
from cclib.book.specs import get_spec
from cclib.book.specs_universal_and import uand_memory
from cclib.engine.cache import Cache
from cclib.engine.seeding import Stream, make_generator
from cclib.universal_and import baselines, evaluation, experiments, sweep
from cclib.universal_and.tasks import UniversalANDTask, case_probabilities

cfg = cclib.configure("uand_training", globals())
claims = cclib.claims_for(cfg)

# %% [markdown]
# ## The problem and the model
#
# An input is a boolean vector $v \in \{0, 1\}^m$ with exactly $s$ entries on, the set of
# active inputs drawn uniformly among the $\binom{m}{s}$ possible ones. The targets are the
# ANDs of all pairs, $y_{ij} = v_i v_j$ for $i < j$: $P = m(m-1)/2$ outputs. (The paper
# indexes an $m \times m$ output whose diagonal is unused and whose two halves repeat each
# other; the unordered pairs carry the same information.) The model has a compute layer of
# $d$ ReLU neurons with biases and a linear readout with biases,
#
# $$
# a = \mathrm{ReLU}(W v + b), \qquad \hat y = R\,a + c,
# \qquad W \in \mathbb R^{d \times m},\; R \in \mathbb R^{P \times d}.
# $$ (eq-uand-model)
#
# The readout is deliberately wide: it holds $P(d + 1)$ of the model's
# $d(m + 1) + P(d + 1)$ parameters, so the neurons, not the parameters, are what is scarce.
# Here $m =$ {glue:text}`uand_m:.0f` ($P =$ {glue:text}`uand_pairs:.0f`), and the readout
# holds {glue:text}`uand_readout_share:.1f`% of the parameters at the smallest $d$ of the grid.

# %%
d_grid = experiments.parse_grid(cfg.d_values)
s_grid = experiments.parse_grid(cfg.s_values)
pairs = cfg.m * (cfg.m - 1) // 2
readout_params = pairs * (d_grid[0] + 1)
report.number("uand_m", cfg.m)
report.number("uand_pairs", pairs)
report.number(
    "uand_readout_share",
    100 * readout_params / (readout_params + d_grid[0] * (cfg.m + 1)),
)

# %% [markdown]
# ## Exactly-$s$ inputs and the three cases of a pair
#
# Fix a pair $(i, j)$. Of the $\binom{m}{s}$ equally likely sets of active inputs,
# $\binom{m-2}{s-2}$ contain both, $2\binom{m-2}{s-1}$ exactly one and $\binom{m-2}{s}$
# neither, so
#
# $$
# P_2 = \frac{s(s-1)}{m(m-1)}, \qquad P_1 = \frac{2s(m-s)}{m(m-1)}, \qquad
# P_0 = \frac{(m-s)(m-s-1)}{m(m-1)}.
# $$ (eq-uand-cases)
#
# More holds than these averages: *every* sample has exactly $\binom{s}{2}$ pairs with both
# inputs on, $s(m-s)$ with one and $\binom{m-s}{2}$ with neither, that is $P\,P_c$ pairs of
# case $c$. We check both on fresh samples at $s =$ {glue:text}`uand_s_low:.0f`: the largest
# difference between a sample's count and $P\,P_c$ is {glue:text}`uand_count_gap:.0f`.

# %%
check_task = UniversalANDTask(cfg.m, cfg.s_low, 1)
counts = evaluation.case_counts(check_task, 512, make_generator(0, Stream.EVAL))
expected = pairs * case_probabilities(cfg.m, cfg.s_low)
count_gap = (counts[0].double() - expected).abs().max()
report.number("uand_s_low", cfg.s_low)
report.number("uand_count_gap", count_gap)

# %% [markdown]
# ## The case-balanced loss
#
# With exactly-$s$ inputs most pairs are off: at $s =$ {glue:text}`uand_s_low:.0f` only a
# share {glue:text}`uand_p2:.4f` of the outputs are ANDs that are on, and a plain mean
# squared error would be minimised almost entirely by outputting zero. Following the paper,
# each output's squared error is weighted by its case, $w_c = 1/(3P_c)$, so that the three
# cases contribute equally:
#
# $$
# L = \frac1P \sum_{i<j} w_{c(ij)} \big(\hat y_{ij} - y_{ij}\big)^2
# = \sum_{c=0}^{2} P_c\, w_c\, e_c = \frac{e_0 + e_1 + e_2}{3},
# $$ (eq-uand-loss)
#
# where $e_c$ is the mean squared error over the pairs of case $c$. The middle step uses
# the fixed case counts above, so {eq}`eq-uand-loss` holds for every sample, not only in
# expectation. (The paper calls its loss RMS; the root of the batch mean changes neither
# the minimiser nor the comparisons below, so we train on the mean square.) Two readouts
# give landmarks. The zero readout errs by 1 on the pairs with both inputs on only:
# $L = 1/3$. A readout *linear in the inputs*, $\hat y_{ij} = \alpha(v_i + v_j) + \beta$,
# sees only the case count, and the best one minimises
# $[(2\alpha + \beta - 1)^2 + (\alpha + \beta)^2 + \beta^2]/3$:
#
# $$
# \alpha = \tfrac12, \qquad \beta = -\tfrac16, \qquad L_\text{add} = \tfrac1{18}.
# $$ (eq-uand-additive)
#
# Its outputs $-1/6, 1/3, 5/6$ fall on the right side of $0.5$ in every case, so accuracy at
# the threshold cannot tell it from a real AND; the loss can. Any model whose compute layer
# passes its $m$ inputs through linearly ($d \ge m$, large biases) can reach this *additive*
# solution, and a loss below $1/18$ is what shows actual AND computation. A hand-built
# additive model scores {glue:text}`uand_additive_loss:.5f` on fresh samples (the solver
# gives $\alpha =$ {glue:text}`uand_alpha:.4f`, $\beta =$ {glue:text}`uand_beta:.4f`).

# %%
additive = baselines.additive_readout()
additive_model = baselines.additive_model(cfg.m)
additive_eval = evaluation.evaluate(
    additive_model, check_task, 256, make_generator(1, Stream.EVAL)
)
report.number("uand_p2", case_probabilities(cfg.m, cfg.s_low)[2])
report.number("uand_additive_loss", additive_eval.loss[0])
report.number("uand_alpha", additive.alpha)
report.number("uand_beta", additive.beta)

# %% [markdown]
# ## Training
#
# The paper names weight decay but no optimiser, learning rate or initialisation, and its
# training length ("6000 epochs of 10k batches") can be read several ways. We use AdamW
# with PyTorch's default initialisation, a peak learning rate of
# {glue:text}`uand_lr:.3g` decayed to zero on a cosine schedule, weight decay
# {glue:text}`uand_wd:.3g` on every parameter, and {glue:text}`uand_steps:.0f` steps of
# {glue:text}`uand_batch:.0f` fresh samples (all parameters of the chapter). Weight decay
# matters here beyond regularising: the readout can rescale any neuron, so decay is what
# fixes the size of $W$, and it pulls each neuron's weights towards few values; we test
# below whether the circuit survives a tenfold weaker decay. In our exploration a smaller
# learning rate for as many steps left the compute layer less binary, so we chose the
# rate for the circuit to settle within the quick profile's budget; the loss curves below
# show each model settling before the end of its schedule.
#
# **The sweep.** For each $d$ in {glue:text}`uand_d_grid` and each $s$ in
# {glue:text}`uand_s_grid` we train {glue:text}`uand_seeds:.0f` seeds. The models of one
# $(d, s)$ train together as one batched run, and each $s$ is its own run: the task then
# computes the loss from the $s$ active inputs of each row (`SparseCaseLoss`) instead of
# weighting all $P$ outputs, which is what makes the paper's $m = 100$ affordable. Every
# run is cached by its full configuration. The quick profile uses $m = 30$ instead of the
# paper's $100$ to fit the CPU budget; the paper profile uses $m = 100$ and $d$ up to
# $10{,}000$, where the readout alone has $4950 \times 10^4$ weights per model. Its largest
# step is estimated at {glue:text}`uand_paper_memory`
# ({glue:text}`uand_paper_memory_reason`), so every $d$ of that grid fits on one GPU (an
# H200 has about 139 GB). The chapter's `max_memory_gb` check refuses, before any work
# starts, a configuration whose estimate exceeds the limit (by default half the machine's
# RAM, at most 8 GB), naming the memory it needs; the paper profile passes it, and on a
# CPU it would fit in memory but train for days.

# %% tags=["hide-input"]
paper_cfg = get_spec("uand_training").resolve("paper", max_memory_gb=1000.0)
paper_memory, paper_reason = uand_memory(paper_cfg)
report.text("uand_paper_memory", f"{paper_memory / 1e9:.1f} GB")
report.text("uand_paper_memory_reason", paper_reason)
report.number("uand_lr", cfg.lr)
report.number("uand_wd", cfg.weight_decay)
report.number("uand_steps", cfg.steps)
report.number("uand_batch", cfg.batch_size)

# %%
runs = experiments.chapter_runs(cfg)
results = [experiments.train_run(run, Cache(), "uand_training") for run in runs]
summary = sweep.summarise(results, cfg.eval_samples)
histories = sweep.loss_histories(results)  # (D, steps, S, seeds)
report.text("uand_d_grid", cfg.d_values.replace(",", ", "))
report.text("uand_s_grid", cfg.s_values.replace(",", ", "))
report.number("uand_seeds", cfg.seeds)

# %% tags=["hide-input"]
late = sweep.late_change(histories)
fig, axes = plotting.figure(ncols=len(runs), width=3.4 * len(runs), height=3.2)
plotting.uand_loss_panels(axes, histories, summary.d_values, s_grid, additive.loss)
report.figure("fig-uand-loss-curves", fig)
report.number("uand_late_change_pct", 100 * late.max())

# %% [markdown]
# ```{glue:figure} fig-uand-loss-curves
# :name: fig-uand-loss-curves
#
# Training loss {eq}`eq-uand-loss` of each $d$ (panels) and $s$ (lines; mean over seeds,
# smoothed over 1% of the run). Dashed grey: the additive readout's $1/18$. Every curve
# flattens well before the end of the cosine schedule.
# ```
#
# Between 80-85% and 95-100% of its run no model improves its loss by more than
# {glue:text}`uand_late_change_pct:.1f`%: the weights analysed below are the ones
# training settles on, not a snapshot of a moving solution.
#
# ## How well the problem is solved
#
# We evaluate each model on {glue:text}`uand_eval_samples:.0f` fresh samples from a
# stream its training never used. Besides the loss {eq}`eq-uand-loss` and the three case
# errors $e_c$ we count an output as right when it lies on the right side of $0.5$, and
# average the three cases' accuracies (the *case-balanced accuracy*, as the loss balances
# the cases: the plain share of right outputs would exceed $0.99$ for the zero readout).

# %%
loss_mean, loss_err = sweep.seed_mean(summary.loss)  # (D, S)
case_mean, case_err = sweep.seed_mean(
    np.moveaxis(summary.case_error, 3, 0)
)  # (3, D, S)
acc_mean, acc_err = sweep.seed_mean(summary.accuracy)
report.number("uand_eval_samples", cfg.eval_samples)

# %% tags=["hide-input"]
fig, axes = plotting.figure(ncols=4, width=14.0, height=3.4)
plotting.against_d(axes[0], d_grid, loss_mean, loss_err, s_grid, "loss $L$", log_y=True)
plotting.reference_line(
    axes[0], additive.loss, "additive 1/18", color=plotting.ADDITIVE_COLOR
)
plotting.against_d(
    axes[1], d_grid, case_mean[0], case_err[0], s_grid, "$e_0$ (both off)", True
)
plotting.against_d(
    axes[2], d_grid, case_mean[1], case_err[1], s_grid, "$e_1$ (one on)", True
)
plotting.against_d(
    axes[3], d_grid, case_mean[2], case_err[2], s_grid, "$e_2$ (both on)", True
)
axes[0].legend(fontsize=7)
report.figure("fig-uand-errors", fig)

# %% [markdown]
# ```{glue:figure} fig-uand-errors
# :name: fig-uand-errors
#
# Loss (left) and the mean squared error of each case of a pair against the number of
# neurons $d$, one line per $s$ (mean over seeds, error bars: standard error over seeds).
# The loss falls with $d$ and rises with $s$; at high $s$ and $d \ge m$ it sits at the
# additive readout's $1/18$ (dashed).
# ```

# %% tags=["hide-input"]
fig, ax = plotting.figure(width=5.6, height=3.6)
plotting.against_d(
    ax, d_grid, acc_mean, acc_err, s_grid, "case-balanced accuracy at 0.5"
)
ax.legend(fontsize=7)
report.figure("fig-uand-accuracy", fig)

# %% [markdown]
# ```{glue:figure} fig-uand-accuracy
# :name: fig-uand-accuracy
#
# Share of the AND outputs read correctly at threshold $0.5$ (mean of the three cases'
# shares) against $d$, one line per $s$. At low $s$ even the smallest $d$ reads most ANDs
# correctly. Where $d \ge m$ the additive readout would score $1$ as well, so at high $s$
# the loss ({numref}`fig-uand-errors`), not the accuracy, tells computation from it.
# ```

# %%
low = summary.s_index(cfg.s_low)
high = summary.s_index(cfg.s_high)
solves = sweep.seed_mean(summary.accuracy[0, low])

# %% tags=["hide-input"]
claims.check("uand.solves_low_s", *solves, seeds=cfg.seeds)
report.number("uand_solves", solves[0])
report.number("uand_d_min", d_grid[0])

# %% [markdown]
# At $s =$ {glue:text}`uand_s_low:.0f` the smallest model, $d =$
# {glue:text}`uand_d_min:.0f` neurons for {glue:text}`uand_pairs:.0f` ANDs, reads a share
# {glue:text}`uand_solves:.3f` of them correctly.
#
# ## The binary weighted circuit
#
# **The fit.** For neuron $i$ we look for two values $u_i > w_i$ such that each weight
# $W_{ij}$ is close to one of them, minimising $\sum_j \min\big((W_{ij} - u_i)^2,
# (W_{ij} - w_i)^2\big)$. In one dimension an optimal split into two groups is contiguous
# in sorted order (swapping two weights that sit in the wrong order across the groups never
# increases the error), so sorting the row and trying each of its $m - 1$ split points,
# with prefix sums for every split's error at once, gives the exact optimum; $u_i$ and
# $w_i$ are the two groups' means (`cclib.universal_and.circuit.fit_binary`, checked
# against brute force over all $2^m$ assignments in the tests). The bias $b_i$ is read off.
# The error bar of a neuron is the 90th percentile of its weights' distances to their
# nearer value, as in the paper's appendix B.
#
# **A score for the whole matrix.** The paper's formula for its binary similarity was lost
# from our copy, so we define one: the share of the within-neuron variance of $W$ that the
# two-value fits explain,
#
# $$
# S_\text{bin}(W) = 1 - \frac{\sum_i \sum_j \big(W_{ij} - \text{nearer of } u_i, w_i\big)^2}
# {\sum_i \sum_j \big(W_{ij} - \bar W_i\big)^2} \in [0, 1].
# $$ (eq-uand-similarity)
#
# It is $1$ for exactly binary rows, is unchanged by rescaling $W$, and has a clear floor:
# i.i.d. continuous weights score $3/4$ when uniform (the split falls at the median) and
# $2/\pi \approx 0.64$ when Gaussian (tests check both). PyTorch initialises $W$ uniformly,
# and the untrained layers of this sweep score {glue:text}`uand_init_similarity:.3f` on
# average.

# %% tags=["hide-input"]
fit_neurons = sweep.circuit_neurons(summary, cfg.s_low, seed_index=0)
fig, ax = plotting.figure(width=7.0, height=4.0)
plotting.binary_values(ax, d_grid, fit_neurons)
ax.legend(fontsize=8)
report.figure("fig-uand-binary-values", fig)
report.number("uand_init_similarity", summary.init_similarity.mean())

# %% [markdown]
# ```{glue:figure} fig-uand-binary-values
# :name: fig-uand-binary-values
#
# The fitted values of every neuron (at most 200 per $d$ shown) of the seed-0 models at
# $s =$ {glue:text}`uand_s_low:.0f`: $u_i$ (blue), $w_i$ (vermilion), each with its
# 90th-percentile error bar, and the bias $b_i$ (green squares), spread sideways around
# their $d$. The two values sit on either side of zero in tight bands, the bias just
# above zero, at every $d$ of the grid (which ends at $d =$ {glue:text}`uand_d_max:.0f`).
# ```

# %% tags=["hide-input"]
weights = sweep.weights_at(results, d_grid[-1], (cfg.s_low, cfg.s_high))
fig, ax = plotting.figure(width=5.6, height=3.6)
plotting.weight_histogram(ax, weights)
ax.legend(fontsize=8)
report.figure("fig-uand-weight-histogram", fig)
report.number("uand_d_max", d_grid[-1])

# %% [markdown]
# ```{glue:figure} fig-uand-weight-histogram
# :name: fig-uand-weight-histogram
#
# All compute-layer weights of the seed-0 models at $d =$ {glue:text}`uand_d_max:.0f`, at
# $s =$ {glue:text}`uand_s_low:.0f` and $s =$ {glue:text}`uand_s_high:.0f`, each divided by
# its matrix's root-mean-square weight (log density). At low $s$ two separated peaks; at
# high $s$ a broad, continuous distribution.
# ```

# %% tags=["hide-input"]
sim_mean, sim_err = sweep.seed_mean(summary.similarity)
fig, ax = plotting.figure(width=5.0, height=3.6)
image = plotting.similarity_map(ax, sim_mean, d_grid, s_grid)
fig.colorbar(image, ax=ax, label="binary similarity $S_\\mathrm{bin}$")
report.figure("fig-uand-similarity", fig)
report.number("uand_s_high", cfg.s_high)

# %% [markdown]
# ```{glue:figure} fig-uand-similarity
# :name: fig-uand-similarity
#
# The binary-similarity score {eq}`eq-uand-similarity` of the compute layer over the grid
# (mean over seeds). Untrained layers score about $0.75$; the binary circuit scores close
# to $1$. It forms at low $s$ and breaks down as $s$ grows.
# ```
#
# **Claims about the circuit.** Each is pooled over the $d$ of the grid at
# $s =$ {glue:text}`uand_s_low:.0f` (mean over $d$ per seed, then mean over seeds, with the
# standard error over seeds). The thresholds are ours, since the paper states these as
# qualitative observations.

# %% tags=["hide-input"]
binary_low = sweep.pooled(summary.similarity[:, low])
claims.check("uand.binary_similarity_low_s", *binary_low)
report.number("uand_binary_low", binary_low[0])

# %% tags=["hide-input"]
u_positive = sweep.pooled(summary.u_positive[:, low])
claims.check("uand.u_positive", *u_positive)
report.number("uand_sign_u_positive", u_positive[0])

# %% tags=["hide-input"]
w_negative = sweep.pooled(summary.w_negative[:, low])
claims.check("uand.w_negative", *w_negative)
report.number("uand_sign_w_negative", w_negative[0])

# %% tags=["hide-input"]
b_positive = sweep.pooled(summary.b_positive[:, low])
claims.check("uand.b_positive", *b_positive)
report.number("uand_sign_b_positive", b_positive[0])

# %%
ratio = sweep.pooled(summary.ratio[:, low])

# %% tags=["hide-input"]
claims.check("uand.ratio_u_w", *ratio)
split = sweep.pooled(summary.u_fraction[:, low])

# %% tags=["hide-input"]
split_claim = claims.check("uand.even_split", *split)
report.number("uand_ratio", ratio[0])
report.number("uand_split", split[0])
verdicts = {"held": "is even", "failed": "is not even"}
report.text("uand_split_verdict", verdicts.get(split_claim.state, "is not resolved"))

# %%
stable = sweep.relative_spread(summary.u[:, low])

# %% tags=["hide-input"]
spreads = [sweep.relative_spread(getattr(summary, v)[:, low]) for v in ("u", "w", "b")]
claims.check("uand.values_stable_in_d", *max(spreads, key=lambda x: x[0]))
report.number("uand_u_spread", stable[0])
report.number("uand_w_spread", sweep.relative_spread(summary.w[:, low])[0])
report.number("uand_u_low", summary.u[:, low].mean(axis=1).min())
report.number("uand_u_high", summary.u[:, low].mean(axis=1).max())

# %% [markdown]
# At $s =$ {glue:text}`uand_s_low:.0f` the score is {glue:text}`uand_binary_low:.3f`. A share
# {glue:text}`uand_sign_u_positive:.3f` of the neurons has $u_i > 0$,
# {glue:text}`uand_sign_w_negative:.3f` has $w_i < 0$ and {glue:text}`uand_sign_b_positive:.3f`
# has $b_i > 0$; the typical ratio $u/w$ is {glue:text}`uand_ratio:.2f` (the negative
# value is the stronger one when it lies between $-1$ and $0$, as the paper reports).
# Across $d$ the typical $u$ ranges from {glue:text}`uand_u_low:.3f` to
# {glue:text}`uand_u_high:.3f`, a spread of {glue:text}`uand_u_spread:.2f` of its mean
# ($w$ moves more: its spread is
# {glue:text}`uand_w_spread:.2f`). The split between the two values
# {glue:text}`uand_split_verdict` here: on average a share {glue:text}`uand_split:.2f` of a
# neuron's inputs take the positive value. With $u$ smaller in size than $w$, a neuron with
# more $u$-inputs stays active for more combinations of active inputs. Where the split
# is uneven, the surviving text does not tell whether the paper's models differ (other
# optimiser settings) or "roughly even" was meant loosely; a check at another $m$ follows
# below.
#
# ## At high $s$ the circuit gives way
#
# The paper reports that from about $s = 10$ the model prefers degenerate solutions: a
# purely additive circuit, or a compute layer that hardly moves from its initial values
# with the readout doing all the work. For each model we measure how far $W$ moved,
# $\lVert W - W_0\rVert / \lVert W_0\rVert$, and compare its loss with the additive
# readout's $1/18$ {eq}`eq-uand-additive`.

# %%
phrases = sweep.describe_solution(summary, cfg.s_high, cfg.m, additive.loss)
degenerate = sweep.pooled(summary.similarity[:, high])

# %% tags=["hide-input"]
print(f"s = {cfg.s_high}:", "; ".join(phrases))
report.text("uand_high_phrases", "; ".join(phrases))
report.number("uand_binary_high", degenerate[0])

# %% tags=["hide-input"]
drop = binary_low[0] - degenerate[0]
claims.check(
    "uand.degenerate_high_s", drop, float(np.hypot(binary_low[1], degenerate[1]))
)

# %% tags=["hide-input"]
stays = sweep.pooled(summary.moved[:, high])
claims.check("uand.high_s_stays_at_init", *stays)
report.number("uand_binary_drop", binary_low[0] - degenerate[0])

# %% [markdown]
# At $s =$ {glue:text}`uand_s_high:.0f` the score drops to
# {glue:text}`uand_binary_high:.3f`, {glue:text}`uand_binary_drop:.3f` below its value at
# $s =$ {glue:text}`uand_s_low:.0f` (untrained layers: {glue:text}`uand_init_similarity:.3f`),
# and the models settle on: {glue:text}`uand_high_phrases`. A model with $d \ge m$ can pass
# each input through its compute layer; where its loss lands on the additive readout's
# $1/18$ it has stopped computing ANDs and reads a linear function of the inputs, the
# "pure additive" solution the paper describes. Below $d = m$ that solution is not
# available, and the weights stay continuous.
#
# ## Do the claims hinge on our choices?
#
# **Weight decay.** Decay sets the scale the weights settle at, so it is the choice most
# likely to shape the circuit. We train the models at $s =$ {glue:text}`uand_s_low:.0f`
# and the middle $d =$ {glue:text}`uand_d_mid:.0f` of the grid again with weight decay
# {glue:text}`uand_alt_wd:.3g` instead of {glue:text}`uand_wd:.3g`, all else equal.

# %%
middle = len(runs) // 2
variant = experiments.decay_variant(runs[middle], cfg.s_low, cfg.alt_weight_decay)
variant_summary = sweep.summarise(
    [experiments.train_run(variant, Cache())], cfg.eval_samples
)
comparison = sweep.compare_models(summary, variant_summary, middle, cfg.s_low)

# %% tags=["hide-input"]
print(comparison)
report.number("uand_d_mid", d_grid[middle])
report.number("uand_alt_wd", cfg.alt_weight_decay)

# %%
robust = sweep.pooled(variant_summary.similarity[:, 0])
robust_least = sweep.least_share(variant_summary, robust[0])

# %% tags=["hide-input"]
claims.check("uand.binary_robust_decay", robust_least)
report.number("uand_binary_robust", robust[0])
report.text("uand_robust_verdict", sweep.circuit_verdict(variant_summary, 0, cfg.s_low))
report.number("uand_split_robust", variant_summary.u_fraction.mean())

# %% [markdown]
# With the other decay the models reach the same loss and accuracy (table above, against
# the main run at the same $d$), and their compute layer has
# {glue:text}`uand_robust_verdict`; the share of positive inputs is
# {glue:text}`uand_split_robust:.2f`. Weight decay is what pulls each neuron's weights onto
# two values (the readout can rescale any neuron, so only decay fixes their size); where
# the score or a sign share falls short above, a weaker decay leaves the same number of
# steps with a looser circuit, and the claim records it.
#
# **The number of inputs.** The quick profile's $m$ is smaller than the paper's. We train
# the models at $s =$ {glue:text}`uand_s_low:.0f` once more at $m =$
# {glue:text}`uand_check_m:.0f` with $d =$ {glue:text}`uand_check_d:.0f` neurons, all else
# equal, and fit their compute layer in the same way.

# %%
size_run = experiments.size_variant(runs[0], cfg.s_low, cfg.check_m, cfg.check_d)
size_summary = sweep.summarise(
    [experiments.train_run(size_run, Cache())], cfg.eval_samples
)
size_score = sweep.pooled(size_summary.similarity[:, 0])
size_least = sweep.least_share(size_summary, size_score[0])
report.number("uand_check_m", cfg.check_m)
report.number("uand_check_d", cfg.check_d)

# %% tags=["hide-input"]
claims.check("uand.binary_other_m", size_least)
report.text("uand_size_verdict", sweep.circuit_verdict(size_summary, 0, cfg.s_low))
report.number("uand_size_split", size_summary.u_fraction.mean())
report.number("uand_size_ratio", size_summary.ratio.mean())

# %% [markdown]
# At $m =$ {glue:text}`uand_check_m:.0f` the compute layer has
# {glue:text}`uand_size_verdict`; its typical ratio $u/w$ is
# {glue:text}`uand_size_ratio:.2f` and the share of positive inputs
# {glue:text}`uand_size_split:.2f`, to be compared with {glue:text}`uand_split:.2f` at
# $m =$ {glue:text}`uand_m:.0f` (claim `uand.even_split`).
#
# **The score.** {eq}`eq-uand-similarity` is one of many possible measures. A cruder one
# counts the share of weights that lie within a tenth of their neuron's gap $u_i - w_i$ of
# their nearer value. It {glue:text}`uand_close_verdict` the binary circuit at low $s$
# from the solutions at high $s$: at $s =$
# {glue:text}`uand_s_low:.0f` it is {glue:text}`uand_close_low:.2f` and at
# $s =$ {glue:text}`uand_s_high:.0f` {glue:text}`uand_close_high:.2f` (means over $d$ and
# seeds), against {glue:text}`uand_binary_low:.3f` and {glue:text}`uand_binary_high:.3f` for
# $S_\text{bin}$.

# %% tags=["hide-input"]
report.number("uand_close_low", summary.close_share[:, low].mean())
report.number("uand_close_high", summary.close_share[:, high].mean())
close_gap = summary.close_share[:, low].mean() - summary.close_share[:, high].mean()
report.text(
    "uand_close_verdict", "separates" if close_gap > 0.1 else "does not separate"
)

# %% [markdown]
# ## Summary
#
# At $s =$ {glue:text}`uand_s_low:.0f`, even {glue:text}`uand_d_min:.0f` neurons read a share
# {glue:text}`uand_solves:.3f` of the {glue:text}`uand_pairs:.0f` ANDs correctly
# ({numref}`fig-uand-accuracy`), and the trained compute layer is binary weighted: the
# two-value fit explains {glue:text}`uand_binary_low:.3f` of its variance, with $u > 0$,
# $w < 0$ and $b > 0$ in nearly every neuron and $u/w \approx$ {glue:text}`uand_ratio:.2f`
# ({numref}`fig-uand-binary-values`); the typical $u$ varies across $d$ by
# {glue:text}`uand_u_spread:.2f` of its mean. The split between the two values
# {glue:text}`uand_split_verdict` (share {glue:text}`uand_split:.2f` of positive inputs,
# against the paper's roughly even split). At $s =$ {glue:text}`uand_s_high:.0f` the score
# falls to {glue:text}`uand_binary_high:.3f` ({numref}`fig-uand-similarity`) and the models
# learn other solutions: {glue:text}`uand_high_phrases`.
#
# **Where we differ from the paper.** The quick profile uses $m = 30$ inputs and $d$ up to
# $100$, where the paper uses $m = 100$ and $d$ up to $10{,}000$ (the paper profile). The
# optimiser, learning rate, schedule and training length are our choices (parameters
# above); whether the circuit survives a tenfold change of weight decay is recorded as the
# claim `uand.binary_robust_decay`. The binary-similarity score {eq}`eq-uand-similarity`
# is our definition (the cruder score above {glue:text}`uand_close_verdict` low from high
# $s$ as well), and the thresholds of the claims are ours.

# %% tags=["hide-input"]
claims.table()
