# %% [markdown]
# (claims-page)=
# # Claims
#
# Every chapter records what it claims as it runs: a statement, the value the paper
# reports (if any), the value measured here with its uncertainty, and whether the claim
# holds. This page collects the claims of every chapter of this build of the book.

# %% tags=["parameters", "remove-cell"]
profile = None  # smoke | quick | paper; None: paper on a GPU, quick on a CPU

# %% tags=["hide-input"]
import os
from pathlib import Path

from IPython.display import Markdown

import cclib
from cclib.book.claims import ClaimsTable, load_claims, summary
from cclib.book.runner import project_root, read_manifest

cfg = cclib.configure("claims", globals())
claims_dir = Path(os.environ.get("CCBOOK_CLAIMS_DIR") or project_root() / "_build" / "executed")
claims = [c for c in load_claims(claims_dir) if c.chapter != "claims"]
build_profile = read_manifest(claims_dir).get("profile", cfg.profile)

# %% tags=["remove-input"]
Markdown(
    f"This build ran every chapter under the **{build_profile}** profile. "
    f"In total: {summary(claims)}."
)

# %% [markdown]
# The table lists, for each claim, its chapter and identifier, the statement, the paper's
# value, the measured value ± its standard error, whether it holds (✓ or ✗) and the
# profile that produced it.

# %% tags=["remove-input"]
ClaimsTable(claims, show_chapter=True)
