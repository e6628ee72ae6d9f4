# %% [markdown]
# (uand_variance)=
# # Variance of the readout, dense against sparse
#
# {cite:t}`newgas2025dense` (section 6.2) argues that the dense binary weighted circuit
# beats the sparse construction of {cite:t}`hanni2024cis` when $s$ grows slower than
# $\sqrt d / \log(m)^2$: every neuron is noisier, but the readout averages over far more of
# them. The formulas of that argument did not survive in our copy of the paper. This chapter
# derives the readout error of both circuits again, builds both as hand-coded networks of
# the trained model's shape, and lets forward passes over a grid of $(m, d, s)$ decide.
# **Claims: the derived error matches the simulation over the grid; the dense variance grows
# as $s^2/d$, the sparse one falls more slowly in $d$ than its asymptotic $d^{-1/2}$; the
# dense circuit has the smaller variance below a crossover $s$ that scales like the paper's
# $\sqrt d/\log(m)^2$; and a trained network is compared with both.**

# %% tags=["parameters", "hide-input"]
# fmt: off
profile = None  # smoke | quick | paper; None: paper on a GPU, quick on a CPU
m_values = None  # inputs m of the simulation grid, e.g. "30,100"
d_values = None  # neurons d of the simulation grid, e.g. "300,1000,3000"
s_values = None  # active inputs s of the simulation grid, each at least 2
seeds = None  # networks (construction seeds) per grid point, at least 2
pairs = None  # random pairs (i, j) per network and input sub-case
samples = None  # inputs per pair and sub-case
dense_u = None  # dense circuit: the positive weight u
dense_w = None  # dense circuit: the negative weight w
dense_b = None  # dense circuit: the bias b
crossover_m = None  # m of the crossover claims (one of m_values)
crossover_d = None  # d of the crossover claims (one of d_values)
fit_s_min = None  # smallest s in the fit of the dense exponent in s
tolerance = None  # relative difference of prediction and simulation that still agrees
z = None  # standard errors (over seeds) that also count as agreement
exponent_tolerance = None  # largest difference of a fitted exponent from its prediction
trained_s = None  # s of the trained-against-dense claim (one of uand_training's s_values)
eval_samples = None  # fresh samples for each trained model's case errors
max_steps = None  # most training steps one instance may take (uand_training's models)
max_memory_gb = None  # largest estimated memory of one run, in GB
max_hours = None  # most estimated hours of training before run or build refuse
# fmt: on

# %% tags=["hide-input"]
import numpy as np

import cclib
from cclib.book import plotting, report, tables
from cclib.book.specs import get_spec
from cclib.engine.cache import Cache
from cclib.universal_and import constructions, experiments, variance
from cclib.universal_and import variance_analysis as va
from cclib.universal_and import variance_simulation as vs
from cclib.universal_and.grid import parse_grid

cfg = cclib.configure("uand_variance", globals())
claims = cclib.claims_for(cfg)
MS, DS, SS = (parse_grid(cfg[name]) for name in ("m_values", "d_values", "s_values"))
DENSE = (cfg.dense_u, cfg.dense_w, cfg.dense_b)

# %% [markdown]
# ## Two circuits of one family
#
# Both constructions are *binary circuits*. Every input weight of every neuron is $u$ with
# probability $q$ and $w$ otherwise, drawn independently; every neuron has bias $b$:
#
# $$
# a_n = \mathrm{ReLU}\Big(b + \sum_k W_{nk} v_k\Big), \qquad
# W_{nk} = \begin{cases} u & \text{with probability } q \\ w & \text{otherwise.} \end{cases}
# $$ (eq-var-circuit)
#
# For a pair $(i, j)$ a neuron is in class A if $(W_{ni}, W_{nj}) = (u, u)$, B1 if
# $(u, w)$, B2 if $(w, u)$ and C if $(w, w)$ (the classes of {ref}`universal-and`). With
# $N_c$ neurons in class $c$, the pair's readout weighs each class mean by $\beta_c$:
#
# $$
# \hat y_{ij} = \sum_{c} \beta_c \, \frac{1}{N_c} \sum_{n \in c} a_n .
# $$ (eq-var-readout)
#
# - **CiS** ({cite:t}`hanni2024cis`): $u = 1$, $w = 0$, $b = -1$ and
#   $q = p = \log(m)^2/\sqrt d$ clipped to $1$; $\beta = (1, 0, 0, 0)$, the mean of the
#   neurons connected to both inputs.
# - **Dense**: $q = 1/2$ and the weights of the trained circuit's signs: $u > 0$, $w$
#   strongly negative, $b > 0$ (here $u =$ {glue:text}`dense_u:.3g`,
#   $w =$ {glue:text}`dense_w:.3g`, $b =$ {glue:text}`dense_b:.3g`: parameters, and a choice,
#   since the paper's values were lost; only the ratios matter because the readout rescales,
#   and the section on the crossover shows what they change). $\beta$ comes from inverting
#   the class truth tables {eq}`eq-var-invert`.
#
# Both are built in `cclib.universal_and.constructions` as `UniversalAND` models: compute
# layer {eq}`eq-var-circuit`, readout matrix with entry $\beta_c/N_c(i, j)$ for every pair
# and neuron, readout bias $0$. The check below runs one small instance of each through
# the model's own forward pass and through the simulator used for the grid, which reads
# the same outputs without building the $\binom m2 \times d$ readout matrix.

# %%
check = vs.model_agreement(m=12, d=64, s=3, dense=DENSE, samples=256)

# %% tags=["hide-input"]
print(f"largest |model output - simulator output|: {check:.2e}")
report.number("model_agreement", check)
report.number("dense_u", cfg.dense_u)
report.number("dense_w", cfg.dense_w)
report.number("dense_b", cfg.dense_b)

# %% [markdown]
# The two give the same outputs (largest difference {glue:text}`model_agreement:.1e`).
#
# ## The readout error, derived
#
# Fix a pair $(i, j)$ and one of its sub-cases $(v_i, v_j) \in \{00, 01, 10, 11\}$. The
# other $s_o = s - v_i - v_j$ active inputs add the **interference**
#
# $$
# X_n = \sum_{k \ne i, j} W_{nk} v_k = u K_n + w (s_o - K_n), \qquad
# K_n \sim \mathrm{Binomial}(s_o, q),
# $$ (eq-var-interference)
#
# to neuron $n$'s pre-activation, whichever $s_o$ inputs are on, since a neuron's other
# weights are drawn independently of its class. A class-$c$ neuron with weights
# $(x_i, x_j)$ therefore has activation $\mathrm{ReLU}(b + x_i v_i + x_j v_j + X_n)$, whose
# mean $T_c(v)$ and variance $S_c(v)$ are finite sums over the $s_o + 1$ values of $K_n$:
# **the ReLU is treated exactly**, no constant factor $k$ is needed. Given the active inputs,
# different neurons are independent (their weights are), so each class mean in
# {eq}`eq-var-readout` is unbiased with variance $S_c/N_c$, and with
# $N_c \sim \mathrm{Binomial}(d, \pi_c)$, $\pi = (q^2, q(1-q), (1-q)q, (1-q)^2)$:
#
# $$
# \mathbb E\, \hat y = \sum_c \beta_c T_c(v), \qquad
# \operatorname{Var} \hat y = \sum_c \beta_c^2\, S_c(v)\, \mathbb E\!\left[\tfrac{1}{N_c}\right].
# $$ (eq-var-moments)
#
# The dense readout chooses $\beta$ so that the mean is the AND in all four sub-cases:
#
# $$
# \sum_c T_c(v)\, \beta_c = v_i v_j \quad \text{for } v \in \{00, 01, 10, 11\},
# $$ (eq-var-invert)
#
# a $4 \times 4$ system (the inverted class truth tables; the interference enters through
# $T$). Its solution at the chapter's $(u, w, b)$ and $s =$ {glue:text}`beta_s:.0f` is
# $\beta =$ ({glue:text}`beta_a:.2f`, {glue:text}`beta_b1:.2f`, {glue:text}`beta_b2:.2f`,
# {glue:text}`beta_c:.2f`) for classes A, B1, B2, C: A and C read positively, B1 and B2
# negatively, as in the paper's readout charts. The CiS readout is not corrected for the
# interference: its mean is $T_A(v)$, biased by the average interference. The error we
# compare is the variance {eq}`eq-var-moments` averaged over the three cases of a pair
# (neither, one, both inputs on) as the paper's loss weights them, with the two one-on
# sub-cases sharing their case's weight.
#
# **Approximations.** {eq}`eq-var-moments` needs every class non-empty ($N_c \ge 1$; we sum
# $\mathbb E[1/N_c \mid N_c \ge 1]$ exactly; on this grid some class of a pair is empty
# with probability at most {glue:text}`empty_class:.1e`). It is the variance over networks
# and inputs; a single network's error, pooled over its pairs, estimates it because its
# pairs are exchangeable. Everything else is exact. To see the scaling we then approximate,
# as the paper does:
#
# - *CiS.* Class A neurons see $X \sim \mathrm{Binomial}(s_o, p)$ with no ReLU effect when an
#   input of the pair is on, so $S_A \approx s\, p (1-p)$; with
#   $\mathbb E[1/N_A] \approx 1/(p^2 d)$ the variance is $\approx s (1-p)/(p d)$, the
#   reconstruction's formula with $k = 1$. With $p = \log(m)^2/\sqrt d \ll 1$ it falls as
#   $s / (\log(m)^2 \sqrt d)$: exponent $-1/2$ in $d$, $1$ in $s$.
# - *Dense.* For large $s$ the interference is close to normal with spread
#   $\sigma = |u - w| \sqrt{s_o q(1-q)}$, and the four classes differ by shifts of order
#   $|u - w| \ll \sigma$. The AND is their mixed second difference, which the ReLU produces
#   only through the curvature of $h \mapsto \mathbb E\,\mathrm{ReLU}(h + \sigma Z)$, of
#   order $\varphi(h/\sigma)/\sigma \propto 1/\sqrt s$. So $\beta \propto \sqrt s$, the
#   paper's per-class weight, while $S_c \propto \sigma^2 \propto s$ and
#   $\mathbb E[1/N_c] \approx 4/d$: the variance grows as $s^2/d$.
# - *Crossover.* The ratio of the two is $\propto s \log(m)^2/\sqrt d$: the dense circuit
#   wins for $s$ below a constant times $\sqrt d / \log(m)^2$, the paper's conclusion.

# %% tags=["hide-input"]
example = variance.predict(constructions.dense_circuit(*DENSE), d=max(DS), s=3)
report.number("beta_s", 3)
report.number("beta_a", example.beta[0])
report.number("beta_b1", example.beta[1])
report.number("beta_b2", example.beta[2])
report.number("beta_c", example.beta[3])

# %% [markdown]
# ## Prediction against simulation
#
# The simulation (`cclib.universal_and.variance_simulation`) builds {glue:text}`seeds:.0f`
# networks of each circuit at every grid point ($m \in$ {glue:text}`grid_m`,
# $d \in$ {glue:text}`grid_d`, $s \in$ {glue:text}`grid_s`). For each network and
# sub-case it draws {glue:text}`pairs:.0f` random pairs and, for each, {glue:text}`samples:.0f`
# inputs with exactly $s$ ones that put the pair in that sub-case, and runs them through the
# whole compute layer and the pair's readout row. Both circuits see the same pairs and
# inputs, so their comparison is paired. We measure each network's readout variance about
# the *predicted* mean: a single network's variance about its own mean misses the shift
# that all its pairs share (its $m$ weight columns are common to every pair), up to
# {glue:text}`shift_share_pct:.0f`% of the CiS variance on this grid (at small $m$ and $d$
# and large $s$).

# %% tags=["hide-input"]
grid = vs.readout_grid(
    MS, DS, SS, range(cfg.seeds), cfg.pairs, cfg.samples, DENSE, Cache()
)
predicted = variance.predict_grid(MS, DS, SS, DENSE)
simulated = {
    name: va.total_variance(grid.moments, predicted, name) for name in ("cis", "dense")
}
checks = {
    name: va.formula_check(simulated[name], predicted[f"{name}_var"])
    for name in simulated
}
report.number("seeds", cfg.seeds)
report.number("pairs", cfg.pairs)
report.number("samples", cfg.samples)
report.text("grid_m", cfg.m_values)
report.text("grid_d", cfg.d_values)
report.text("grid_s", cfg.s_values)
report.number("empty_class", va.empty_class_probability(MS, DS))

# %%
sim_var = {name: variance.balanced(simulated[name]).numpy() for name in simulated}
pred_var = {
    name: variance.balanced(predicted[f"{name}_var"]).numpy() for name in simulated
}
sim_mean = {name: va.seed_mean(sim_var[name]) for name in simulated}
leading = va.cis_leading_order_grid(MS, DS, SS)
report.number(
    "shift_share_pct",
    100 * va.shared_shift_share(grid.moments, simulated["cis"], "cis"),
)
sparse = va.sparse_mask(MS, DS, SS)

# %% tags=["hide-input"]
fig, ax = plotting.figure(width=6.4, height=4.6)
series = {
    "CiS, derived": (pred_var["cis"], sim_mean["cis"][0], sim_mean["cis"][1]),
    "dense, derived": (pred_var["dense"], sim_mean["dense"][0], sim_mean["dense"][1]),
    "CiS, s(1-p)/(pd)": (
        np.where(sparse, leading, 0),
        sim_mean["cis"][0],
        0 * leading,
        "s",
    ),
}
plotting.predicted_vs_simulated(ax, series, "predicted variance", "simulated variance")
report.figure("fig-var-check", fig)

# %% [markdown]
# ```{glue:figure} fig-var-check
# :name: fig-var-check
#
# Simulated against predicted case-balanced readout variance at every grid point (mean over
# networks, bars: standard error). Filled: the derived formula {eq}`eq-var-moments` for the
# CiS (blue) and dense (orange) circuits, on the diagonal over five decades. Open squares:
# the leading-order CiS formula $s(1-p)/(pd)$ against the same simulations (points with
# $p < 1$), which overestimates the variance (its points lie right of the diagonal).
# ```
#
# The claims take the largest relative difference $|\text{simulated}/\text{predicted} - 1|$
# over the grid (points where the prediction is $0$, the CiS circuit at $p = 1$, left out).
# A point agrees when that difference is within `tolerance`
# ({glue:text}`tolerance_pct:.0f`%) or within `z` ({glue:text}`z:.0f`) standard errors over
# networks; the claim holds when every point agrees.

# %%
for_claims = {"cis": "CiS (p = log(m)^2/sqrt(d))", "dense": "dense binary weighted"}
worst = {name: checks[name].worst() for name in checks}
agree = {name: bool(checks[name].agrees(cfg.tolerance, cfg.z).all()) for name in checks}
leading_error = np.abs(sim_mean["cis"][0][sparse] / leading[sparse] - 1)
report.number("tolerance_pct", 100 * cfg.tolerance)
report.number("z", cfg.z)
report.number("leading_max_pct", 100 * leading_error.max())
report.number("leading_median_pct", 100 * np.median(leading_error))

# %%

# %% tags=["hide-input"]
claims.check("variance.cis_formula", *worst["cis"][:2])

# %% tags=["hide-input"]
claims.check("variance.dense_formula", *worst["dense"][:2])
report.number("cis_worst_pct", 100 * worst["cis"][0])
report.number("dense_worst_pct", 100 * worst["dense"][0])

# %% [markdown]
# The derived variance is within {glue:text}`cis_worst_pct:.1f`% (CiS) and
# {glue:text}`dense_worst_pct:.1f`% (dense) of the simulation everywhere on the grid. The
# leading-order CiS formula of the reconstruction is off by up to
# {glue:text}`leading_max_pct:.0f`% (median {glue:text}`leading_median_pct:.0f`%): it counts
# $s$ rather than $s - 2$ or $s - 1$ interfering inputs, and it ignores the ReLU in the case
# where neither input is on (there $X - 1$ is cut at zero, which shrinks the variance). These
# are the constant factors it was allowed to miss; its scaling is tested next.
#
# ## Scaling in $s$ and $d$
#
# We fit $\log \bar V = a_m + \alpha \log s + \delta \log d$ (one intercept per $m$) to each
# network seed's simulated variances and report the mean and standard error over seeds. For
# the dense circuit the fit uses $s \ge$ {glue:text}`fit_s_min:.0f` (the asymptotic regime of
# the argument above); for the CiS circuit the points with $p < 1$. The same fit applied to
# the derived variance gives the exponent the formula predicts on the same points.

# %%
dense_points = va.s_mask(MS, DS, SS, cfg.fit_s_min)
dense_fit = [
    va.seed_mean(e) for e in va.exponents(sim_var["dense"], dense_points, MS, DS, SS)
]
cis_fit = [va.seed_mean(e) for e in va.exponents(sim_var["cis"], sparse, MS, DS, SS)]
dense_pred = va.power_law_fit(
    np.where(dense_points, pred_var["dense"], np.nan), MS, DS, SS
)
cis_pred = va.power_law_fit(np.where(sparse, pred_var["cis"], np.nan), MS, DS, SS)
report.number("fit_s_min", cfg.fit_s_min)

# %% tags=["hide-input"]
tables.Table(
    ["circuit", "α (seeds)", "δ (seeds)", "α derived", "δ derived"],
    [
        [name, *(f"{m:.2f} ± {e:.2f}" for m, e in fit), *(f"{v:.2f}" for v in pred)]
        for name, fit, pred in (
            ("dense", dense_fit, dense_pred),
            ("CiS", cis_fit, cis_pred),
        )
    ],
)

# %%
exponent_claims = va.exponent_claims(dense_fit, cis_fit, dense_pred, cis_pred)

# %% tags=["hide-input"]
claims.check("variance.dense_exponent_s", *dense_fit[0])

# %% tags=["hide-input"]
claims.check("variance.dense_exponent_d", *dense_fit[1])

# %% tags=["hide-input"]
cis_gap = cis_fit[1][0] - cis_pred[1]
claims.check("variance.cis_exponent_d", cis_gap, cis_fit[1][1], predicted=cis_pred[1])
report.means("fit", exponent_claims)
report.number("p_low", va.p_range(MS, DS)[0])
report.number("p_high", va.p_range(MS, DS)[1])

# %% tags=["hide-input"]
fig, axes = plotting.figure(ncols=2, width=10.0, height=4.0)
by_d = va.scaling_series(grid, sim_var, pred_var, MS.index(cfg.crossover_m), s=SS[-1])
by_s = va.scaling_series(grid, sim_var, pred_var, MS.index(cfg.crossover_m), d=DS[-1])
plotting.scaling_lines(axes[0], DS, *by_d, "neurons $d$", "readout variance")
plotting.scaling_lines(axes[1], SS, *by_s, "active inputs $s$", "readout variance")
axes[0].set_title(f"m = {cfg.crossover_m}, s = {SS[-1]}", fontsize=9)
axes[1].set_title(f"m = {cfg.crossover_m}, d = {DS[-1]}", fontsize=9)
report.figure("fig-var-scaling", fig)

# %% [markdown]
# ```{glue:figure} fig-var-scaling
# :name: fig-var-scaling
#
# Case-balanced readout variance of both circuits against $d$ at the largest $s$ (left) and
# against $s$ at the largest $d$ (right), at $m =$ {glue:text}`cross_m:.0f`: lines derived
# {eq}`eq-var-moments`, points simulated (mean and standard error over networks). The dense
# variance falls as $1/d$ and rises as $s^2$; the CiS variance falls more slowly in $d$
# (its $p$ falls with $d$) and rises more slowly in $s$.
# ```
#
# The dense exponents are $\alpha =$ {glue:text}`fit_dense_s:.2f` $\pm$
# {glue:text}`fit_dense_s_err:.2f` in $s$ and $\delta =$ {glue:text}`fit_dense_d:.3f` $\pm$
# {glue:text}`fit_dense_d_err:.3f` in $d$, as derived ($2$ and $-1$). The CiS exponent in $d$
# is {glue:text}`fit_cis_d:.3f` $\pm$ {glue:text}`fit_cis_d_err:.3f`, which the exact
# formula reproduces on the same points ({glue:text}`fit_cis_d_pred:.3f`) but which is
# well short of the asymptotic $-1/2$: on this grid $p$ is between
# {glue:text}`p_low:.2f` and {glue:text}`p_high:.2f`, not small, and with
# $p \propto d^{-1/2}$ the factor $1 - p$ of the leading-order formula adds
# $p/(2(1-p))$ to its local exponent $-1/2$. Its exponent in $s$,
# {glue:text}`fit_cis_s:.2f`, is above the leading-order $1$: the interference counts $s - 2$
# or $s - 1$ inputs rather than $s$ (a steeper slope at small $s$), and in the case where
# neither input is on, $\mathrm{ReLU}(X - 1)$ only starts to vary once $ps$ nears $1$.
#
# The $s^2$ law rests on interference of mean zero, $q u + (1-q) w = 0$, as the paper
# assumes. With the chapter's $w = -2u$ the mean interference is $-s_o u/2$: as $s$ grows
# the neurons fall below their threshold at fixed $b$, and the derived local exponent
# between $s = 32$ and $64$ is {glue:text}`local_chapter:.1f` (against
# {glue:text}`local_symmetric:.2f` for $w = -u$, $b = u/2$). On the grid ($s \le 16$) this
# has not yet set in; beyond it the bias would have to follow $s$, and the trained models
# of {ref}`uand_training` turn to other solutions there.

# %% tags=["hide-input"]
report.number("local_chapter", va.local_exponent_s(DENSE, max(DS), 32, 64))
report.number("local_symmetric", va.local_exponent_s((1.0, -1.0, 0.5), max(DS), 32, 64))

# %% [markdown]
# ## Where the dense circuit wins
#
# At $m =$ {glue:text}`cross_m:.0f` and $d =$ {glue:text}`cross_d:.0f` we follow the ratio
# of the dense variance to the CiS variance in $s$ and call the **crossover** the $s$ at
# which it first reaches $1$ (interpolating $\log$ ratio linearly in $\log s$): below it the
# dense circuit has the smaller variance. The derived crossover uses every integer $s$; the
# measured one is found per network seed from the simulated grid (paired: both circuits see
# the same inputs).

# %%
row = (MS.index(cfg.crossover_m), DS.index(cfg.crossover_d))
measured = va.seed_crossovers(SS, sim_var["dense"][row], sim_var["cis"][row])
cross = va.seed_mean(measured)
s_top = max(4 * SS[-1], 64)
cross_pred = va.predicted_crossover(cfg.crossover_m, cfg.crossover_d, s_top, DENSE)
paper_scale = va.paper_crossover(cfg.crossover_m, cfg.crossover_d)

# %% tags=["hide-input"]
print(
    "measured crossover per seed:", measured.round(2), "derived:", round(cross_pred, 2)
)

# %% [markdown]
# The paper's statement is a scaling law, $\sqrt d/\log(m)^2$, so one $(m, d)$ cannot test
# it. From the derived formula we also fit the exponent of the crossover in $d$ (from
# $d$ = {glue:text}`cross_d:.0f` to 16 times that, at $m$ = {glue:text}`cross_m:.0f`) and
# in $\log m$ (from $m$ to $m^2$, at the largest of those $d$, where the crossovers lie
# farthest from the smallest $s$ of the grid); they should be $1/2$ and $-2$ within
# `exponent_tolerance`. A crossover at the smallest $s$ is not resolved and is left out.
# The constant in front depends on the circuit's $(u, w, b)$; `variance.robust_circuit`
# records under how many of the circuits compared below the factor-2 agreement holds.

# %% tags=["hide-input"]
if np.isfinite(cross_pred):
    claims.check(
        "variance.crossover_predicted", cross_pred / paper_scale, circuit=DENSE
    )
else:
    claims.absent("variance.crossover_predicted", "no derived crossover", circuit=DENSE)
exps = va.crossover_exponents(cfg.crossover_m, cfg.crossover_d, 8 * s_top, DENSE)
for name, exponent in zip(("d", "m"), exps, strict=True):
    claim_id = f"variance.crossover_exponent_{name}"
    if np.isfinite(exponent):
        claims.check(claim_id, exponent)
    else:
        claims.not_applicable(
            claim_id, "fewer than 3 points of the grid have a crossover"
        )

# %% tags=["hide-input"]
rel_cross = (cross[0] - cross_pred) / cross_pred
if np.isfinite(rel_cross):
    claims.check("variance.crossover_measured", rel_cross, cross[1] / cross_pred)
else:
    claims.absent("variance.crossover_measured", "no simulated or derived crossover")
report.number("cross_m", cfg.crossover_m)
report.number("cross_d", cfg.crossover_d)
report.number("cross_pred", cross_pred)
report.number("cross_meas", cross[0])
report.number("cross_meas_err", cross[1])
report.number("paper_scale", paper_scale)

# %%
d_fine = np.geomspace(min(DS), 10 * max(DS), 25).round().astype(int)
s_fine = np.arange(2, s_top + 1)
log_ratio = va.win_map(cfg.crossover_m, d_fine, s_fine, DENSE)
lines = {
    "paper: $\\sqrt{d}/\\log(m)^2$": np.sqrt(d_fine) / np.log(cfg.crossover_m) ** 2
}
points = va.win_points(grid, sim_var, MS.index(cfg.crossover_m))

# %% tags=["hide-input"]
fig, ax = plotting.figure(width=6.8, height=4.6)
plotting.win_region(ax, d_fine, s_fine, log_ratio, lines, points)
ax.set_title(f"m = {cfg.crossover_m}", fontsize=9)
report.figure("fig-var-win", fig)

# %% [markdown]
# ```{glue:figure} fig-var-win
# :name: fig-var-win
#
# Where each circuit has the smaller readout variance at $m =$ {glue:text}`cross_m:.0f`:
# colour is the derived $\log_{10}$ of dense over CiS variance (blue: dense wins), the black
# line its zero. Dots are the simulated grid (mean over networks; filled: dense wins). The
# dashed line is the paper's scale $\sqrt d / \log(m)^2$: at large $d$ the derived boundary
# follows it at a roughly constant factor below. At small $d$, $p = 1$ and the CiS variance vanishes
# (every neuron is the same; the readout then carries no information at all).
# ```
#
# The derived crossover is $s =$ {glue:text}`cross_pred:.1f`, the simulated one
# {glue:text}`cross_meas:.1f` $\pm$ {glue:text}`cross_meas_err:.1f`, against the paper's scale
# $\sqrt d/\log(m)^2 =$ {glue:text}`paper_scale:.1f`: the scaling holds, with a constant
# below 1 that depends on the dense circuit's $(u, w, b)$. Our values are a choice; the
# derived crossover at the same $(m, d)$ for other choices:

# %%
variants = {
    "chapter": DENSE,
    "w=-u, b=u/2": (1.0, -1.0, 0.5),
    "w=-3u, b=2u": (1.0, -3.0, 2.0),
}
sensitivity = va.crossover_sensitivity(
    cfg.crossover_m, cfg.crossover_d, s_top, variants
)

# %% tags=["hide-input"]
tables.Table(
    ["dense circuit (u, w, b)", "derived crossover s"],
    [[label, f"{value:.2f}"] for label, value in sensitivity.items()],
)

# %% tags=["hide-input"]
agrees = [0.5 <= v / paper_scale <= 2.0 for v in sensitivity.values()]
circuits = "; ".join(f"{k} {v}" for k, v in variants.items())
claims.check("variance.robust_circuit", sum(agrees) / len(agrees), circuits=circuits)
report.number("sens_low", min(sensitivity.values()))
report.number("sens_high", max(sensitivity.values()))

# %% [markdown]
# Across these choices the crossover moves between {glue:text}`sens_low:.1f` and
# {glue:text}`sens_high:.1f`: the dense circuit's constant depends on its weights, while the
# scaling argument in $d$ and $m$ does not. The derived formula itself holds for any
# $(u, w, b)$, since the derivation is exact for every binary circuit (the $s^2$ law does
# not, as shown above).
#
# **The CiS bias.** The comparison above is the paper's: variance only, as if both readouts
# were unbiased. The CiS readout is not: its mean in sub-case $01$ is $p(s-1)$ rather than
# $0$, and in $11$ it is $1 + p(s-2)$. Counting the bias, the error (variance plus squared
# bias, case-balanced) of the dense circuit is the smaller at
# {glue:text}`full_win_pct:.0f`% of the simulated grid points with $p < 1$. No readout bias
# $c$ or rescaling can remove it, since the sub-cases $00$ and $01$ have different means
# and the same target.

# %% tags=["hide-input"]
errors = {
    name: va.seed_mean(va.simulated_error(grid.moments, name))[0] for name in simulated
}
full_win = va.share_where(errors["dense"] < errors["cis"], sparse)
claims.check("variance.dense_wins_full_error", full_win)
report.number("full_win_pct", 100 * full_win)

# %% [markdown]
# ## A trained network against the two constructions
#
# The models of {ref}`uand_training` are trained on the same task with the case-balanced
# loss. We take its run at the largest $d$ of its grid (the same configuration, so the
# models come from the cache when that chapter ran first) and measure each model's
# case-balanced mean squared error on {glue:text}`eval_samples:.0f` fresh inputs, next to
# the derived and simulated error of the two constructions at the same $(m, d, s)$.

# %%
train_cfg = get_spec("uand_training").resolve(cfg.profile)
run = experiments.chapter_runs(train_cfg)[-1]
result = experiments.train_run(
    run, Cache(), description="uand_variance: trained models"
)
trained_errors = va.trained_case_errors(
    result, cfg.eval_samples, offset=10
)  # (S, seeds)
trained = va.seed_mean(trained_errors)
S_T = [s for s in run.s_values if s >= 2]
seeds = range(cfg.seeds)
matched = vs.readout_grid((run.m,), (run.d,), S_T, seeds, cfg.pairs, cfg.samples, DENSE)
built = {
    name: va.seed_mean(va.simulated_error(matched.moments, name)[0, 0])
    for name in simulated
}

# %% tags=["hide-input"]
derived = va.predicted_errors(run.m, run.d, S_T, DENSE)
fig, ax = plotting.figure(width=6.4, height=4.0)
lines = {"CiS": derived["cis"], "dense": derived["dense"]}
points = {
    "CiS": built["cis"],
    "dense": built["dense"],
    "trained": va.on_grid(trained, run.s_values, S_T),
}
plotting.scaling_lines(ax, S_T, lines, points, "active inputs $s$", "readout error")
ax.set_title(f"m = {run.m}, d = {run.d}", fontsize=9)
report.figure("fig-var-trained", fig)

# %% [markdown]
# ```{glue:figure} fig-var-trained
# :name: fig-var-trained
#
# Case-balanced mean squared error at $m =$ {glue:text}`trained_m:.0f` and
# $d =$ {glue:text}`trained_d:.0f` against $s$: the trained models of {ref}`uand_training`
# (mean and standard error over seeds), and the two constructions (lines derived, points
# simulated). The CiS circuit is at $p =$ {glue:text}`trained_p:.2f` here.
# ```

# %%
ratio = va.trained_ratio(
    trained_errors, run.s_values, cfg.trained_s, derived["dense"], S_T
)

# %% tags=["hide-input"]
claims.check("variance.trained_vs_dense", *ratio)
report.number("trained_ratio", ratio[0])
report.number("trained_ratio_err", ratio[1])
report.number("trained_m", run.m)
report.number("trained_d", run.d)
report.number("trained_p", constructions.cis_probability(run.m, run.d))
report.number("trained_s", cfg.trained_s)
report.number("eval_samples", cfg.eval_samples)

# %% [markdown]
# At $s =$ {glue:text}`trained_s:.0f` the trained network's error is
# {glue:text}`trained_ratio:.2f` $\pm$ {glue:text}`trained_ratio_err:.2f` times the dense
# construction's. A trained network has two advantages over the hand-coded one: its readout
# is fitted to the actual activations of each pair rather than to class averages, and its
# weights and bias are tuned to $s$; it also has a handicap when its training is short.
#
# ## Summary
#
# The readout error of a binary circuit can be derived exactly, including the ReLU
# {eq}`eq-var-moments`; over the grid it matches forward-pass simulations within
# {glue:text}`cis_worst_pct:.1f`% (CiS) and {glue:text}`dense_worst_pct:.1f`% (dense)
# ({numref}`fig-var-check`), while the reconstruction's leading-order CiS formula is off by
# up to {glue:text}`leading_max_pct:.0f`%. The dense variance has exponent
# {glue:text}`fit_dense_s:.2f` in $s$ and {glue:text}`fit_dense_d:.2f` in $d$, the CiS
# variance {glue:text}`fit_cis_d:.2f` in $d$ on this grid (the $-1/2$ of the paper's
# argument only as $p \to 0$) ({numref}`fig-var-scaling`). The dense circuit has
# the smaller variance below $s \approx$ {glue:text}`cross_pred:.1f` (derived) or
# {glue:text}`cross_meas:.1f` (simulated) at $m =$ {glue:text}`cross_m:.0f`,
# $d =$ {glue:text}`cross_d:.0f`, a constant factor below the paper's
# $\sqrt d/\log(m)^2 =$ {glue:text}`paper_scale:.1f`, with the boundary parallel to the
# paper's line ({numref}`fig-var-win`). Counting the CiS readout's bias, the dense circuit
# wins at {glue:text}`full_win_pct:.0f`% of the grid. A trained network reaches
# {glue:text}`trained_ratio:.2f` times the dense construction's error
# ({numref}`fig-var-trained`).

# %% tags=["hide-input"]
claims.table()
