"""cclib: the library behind ccbook (compressed computation, re-derived).

Chapters import ``cclib`` and call ``cclib.configure(name, globals())`` to resolve their
parameters, and check the claims declared for them with ``claims = cclib.claims_for(cfg)``
and ``claims.check(id, measured, error)`` (declarations: ``cclib.book.claims_compressed``,
``cclib.book.claims_universal_and``). Importing this
package stays cheap: it imports neither torch nor any Jupyter machinery.
"""

from .book.claims import Claim, ClaimChecker, ClaimRecorder, claims_for
from .book.params import ParameterError, configure

__version__ = "0.1.0"

__all__ = [
    "Claim",
    "ClaimChecker",
    "ClaimRecorder",
    "claims_for",
    "ParameterError",
    "configure",
    "__version__",
]
