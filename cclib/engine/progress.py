"""Training progress on a side channel: JSON lines appended to the file ``$CCBOOK_EVENTS``.

The book's runner points ``$CCBOOK_EVENTS`` of each chapter's kernel at a file of its own
and shows what arrives there in the terminal (``cclib.book.monitor``), so progress never
enters the executed notebook (papermill records the kernel's stdout and stderr as cell
outputs). Without the variable nothing is written.

Events (one JSON object a line, each with ``event`` and ``t``, the Unix time):

- ``entry``: a cache entry was asked for; ``cached`` says whether it was served from the
  cache (``label`` names it);
- ``start``: a trainer call began: ``sweep`` (its description), ``instances``,
  ``model_steps`` (what this call will train: instance-steps, each instance to its horizon);
- ``progress``: ``sweep`` and ``done`` (model-steps done by this call so far), written at
  the trainer's existing sync points only and at most every :data:`MIN_INTERVAL` seconds;
- ``end``: ``sweep``, ``done`` and ``seconds`` (wall time of the call).

Appends of one short line are atomic, so the kernel and anything it starts may share a file.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence

ENV = "CCBOOK_EVENTS"
MIN_INTERVAL = 0.5


def events_path() -> str | None:
    return os.environ.get(ENV) or None


def emit(event: str, **fields: object) -> None:
    """Append one event to ``$CCBOOK_EVENTS`` (nothing without it; errors are ignored:
    progress must never stop training)."""
    path = events_path()
    if path is None:
        return
    line = json.dumps({"event": event, "t": time.time(), **fields}, default=str) + "\n"
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(line)
    except OSError:
        pass


class TrainingEvents:
    """The events of one trainer call over steps ``[start, total)`` of instances with
    ``horizons`` (an instance counts steps only up to its own horizon)."""

    def __init__(self, description: str, horizons: Sequence[int], start: int, total: int):
        self.enabled = events_path() is not None
        self.description = description
        self.horizons = sorted(int(h) for h in horizons)
        self.start = start
        self.began = time.perf_counter()
        self.last = 0.0
        if self.enabled:
            emit(
                "start",
                sweep=description,
                instances=len(self.horizons),
                model_steps=self.done(total),
            )

    def done(self, step: int) -> int:
        """Model-steps of this call when the loop has finished ``step`` steps."""
        return sum(max(0, min(step, h) - min(self.start, h)) for h in self.horizons)

    def update(self, step: int) -> None:
        """At a sync point of the loop (``step`` steps finished)."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self.last >= MIN_INTERVAL:
            self.last = now
            emit("progress", sweep=self.description, done=self.done(step))

    def close(self, step: int) -> None:
        if self.enabled:
            emit(
                "end",
                sweep=self.description,
                done=self.done(step),
                seconds=time.perf_counter() - self.began,
            )
