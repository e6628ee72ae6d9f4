# %% [markdown]
# (naive-baseline)=
# # The naive baseline
#
# Placeholder chapter: it only exercises the pipeline (parameters, configuration,
# claims) until the real chapter replaces it.

# %% tags=["parameters"]
profile = None         # smoke | quick | paper; None: paper on a GPU, quick on a CPU
p = None               # feature probability during training, in (0, 1]
n_features = None      # number of input features n
n_neurons = None       # number of ReLU neurons
mixing = None          # clean | gaussian | symmetric | embedding
sigma = None           # std of the Gaussian mixing matrix (gaussian/symmetric only)
seeds = None           # training seeds per configuration
steps = None           # training steps
batch_size = None      # batch size
lr = None              # peak learning rate
weight_decay = None    # AdamW weight decay
nonempty_steps = None  # scale steps so the number of non-empty batches matches the paper
eval_samples = None    # evaluation samples per stratum of active-feature count
mc_samples = None      # Monte Carlo samples for the naive baseline

# %%
import cclib

cfg = cclib.configure("naive_baseline", globals())

# %%
claims = cclib.ClaimRecorder("naive_baseline", cfg.profile)
expected_active = cfg.p * cfg.n_features
claims.record(
    id="pipeline.placeholder",
    statement="The expected number of active features is p times n.",
    measured=expected_active,
    holds=abs(expected_active - cfg.p * cfg.n_features) < 1e-12,
)
claims.table()
