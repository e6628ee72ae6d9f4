# %% [markdown]
# (claims-page)=
# # Claims
#
# Every claim of the book is declared before any run, in `cclib.book.claims_compressed`
# (paper 000) and `cclib.book.claims_universal_and` (paper 004): the paper's statement and
# where it says it, the quantity measured, the rule that decides it (a comparator with
# thresholds fixed in advance, from the chapter's parameters such as `tolerance` and `z`)
# and the paper's value where it gives one. A chapter computes the quantity and its
# standard error; the rule then gives one of four verdicts: **held** (✓, the whole interval
# of `z` standard errors satisfies the rule), **failed** (✗, the whole interval violates
# it), **undetermined** (?, the interval straddles the threshold, or the claim rests on
# fewer seeds than it needs) or **not applicable** (n/a, the configuration makes the
# statement void). This page collects the claims of every chapter of this build.

# %% tags=["parameters", "remove-cell"]
# fmt: off
profile = None  # smoke | quick | paper; None: paper on a GPU, quick on a CPU
# fmt: on

# %% tags=["hide-input"]
import os
from pathlib import Path

from IPython.display import Markdown

import cclib
from cclib.book.claims import ClaimsTable, load_claims, summary
from cclib.book.runner import project_root, read_manifest

cfg = cclib.configure("claims", globals())
claims_dir = Path(
    os.environ.get("CCBOOK_CLAIMS_DIR") or project_root() / "_build" / "executed"
)
claims = [c for c in load_claims(claims_dir) if c.chapter != "claims"]
build_profile = read_manifest(claims_dir).get("profile", cfg.profile)

# %% tags=["remove-input"]
Markdown(
    f"This build ran every chapter under the **{build_profile}** profile. "
    f"In total: {summary(claims, name_failures=True)}."
)

# %% [markdown]
# The table groups the claims by paper, then by the figure, table or section they test;
# groups with a failed claim come first, and inside a group failed claims come first, then
# undetermined ones. Each row gives the statement, its identifier, chapter and rule, the
# paper's value, the measured value ± its standard error, the verdict and the profile that
# produced it. Each row is an anchor: `claims.html#claim-<id>` links to one claim, and
# its last link leads to the chapter cell that computes it. The menus above the table filter
# it by paper, chapter and verdict; a click on a column's header sorts the claims of each
# group by that column (a second click reverses). The same view in a terminal:
# `python -m cclib claims --by-source`.

# %% tags=["remove-input"]
ClaimsTable(claims, show_chapter=True, by_source=True)
