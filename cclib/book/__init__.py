"""The book machinery (top layer: may import every other layer).

``params`` (parameters, profiles, validation), ``specs`` (each chapter's parameters),
``budget`` (what a configuration costs before any work), ``claims``, ``report`` (glue
numbers into pages), ``plotting`` (one style), ``runner`` (papermill and jupyter-book),
``cli`` (``python -m cclib``).
"""
