"""``python -m cclib``: see :mod:`cclib.cli`."""

import sys

from .cli import main

sys.exit(main())
