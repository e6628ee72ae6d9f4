"""``python -m cclib``: see :mod:`cclib.book.cli`."""

import sys

from .book.cli import main

sys.exit(main())
