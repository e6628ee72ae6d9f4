"""The training engine both papers share (bottom layer: imports nothing else of cclib).

``device`` (where tensors live), ``seeding`` (explicit random streams), ``sampling``
(sparse and exactly-s inputs), ``batching`` (per-instance initialisation and products),
``optim`` (AdamW with per-instance schedules), ``training`` (K instances at once,
checkpoint and resume), ``cache`` (results keyed by configuration), ``errors``.
"""
