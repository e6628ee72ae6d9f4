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
from cclib.book.claims import load_claims
from cclib.book.claims_page import ClaimsPage
from cclib.book.runner import project_root, read_manifest

cfg = cclib.configure("claims", globals())
claims_dir = Path(os.environ.get("CCBOOK_CLAIMS_DIR") or project_root() / "_build" / "executed")
claims = [c for c in load_claims(claims_dir) if c.chapter != "claims"]
build_profile = read_manifest(claims_dir).get("profile", cfg.profile)

# %% tags=["remove-input"]
Markdown(f"This build ran every chapter under the **{build_profile}** profile.")

# %% [markdown]
# Failed claims come first. The menus filter the table by chapter, paper and status; a
# click on a column's header sorts by it. Each claim has its own anchor
# (`claims.html#<claim id>`), and its last link leads to the cell of the chapter that
# computes it. The paper value is the one the paper reports, where it reports one; the
# measured value is ± its standard error.

# %% tags=["remove-input"]
ClaimsPage(claims)
