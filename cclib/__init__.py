"""cclib: the library behind ccbook (compressed computation, re-derived).

Chapters import ``cclib`` and call ``cclib.configure(name, globals())`` to resolve their
parameters, and record what they claim with ``cclib.ClaimRecorder``. Importing this
package stays cheap: it imports neither torch nor any Jupyter machinery.
"""

from .book.claims import Claim, ClaimRecorder
from .book.params import ParameterError, configure

__version__ = "0.1.0"

__all__ = ["Claim", "ClaimRecorder", "ParameterError", "configure", "__version__"]
