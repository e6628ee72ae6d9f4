"""Showing a running chapter's training progress in the terminal of ``run`` and ``build``.

Each chapter's kernel writes training events to a file of its own (``$CCBOOK_EVENTS``,
see :mod:`cclib.engine.progress`); a :class:`ChapterMonitor` in the command's process
reads that file as it grows and shows which sweep is training, its progress in
model-steps against the chapter's estimate, the time elapsed and the time left:

- on a terminal, one line per running chapter that updates (tqdm);
- otherwise (CI, logs), one plain line every :data:`PLAIN_INTERVAL` seconds.

Nothing of this reaches the executed notebook. When the chapter ends the monitor
returns what it saw: the seconds spent training and the cache entries served or trained.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PLAIN_INTERVAL = 60.0
POLL_SECONDS = 0.5


@dataclass
class Observed:
    """What a chapter's events said: training wall time, model-steps, cache entries."""

    training_seconds: float = 0.0
    model_steps: int = 0
    entries_cached: int = 0
    entries_trained: int = 0

    @property
    def entries(self) -> int:
        return self.entries_cached + self.entries_trained


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class ChapterMonitor:
    """Follows ``events`` (a file the chapter's kernel appends to) while the chapter runs.

    ``total`` is the chapter's estimated model-steps to train (0: nothing to train),
    ``estimate`` its estimated training seconds (for the time left before any rate is
    known). Use as a context manager around the chapter's execution."""

    def __init__(
        self,
        label: str,
        events: Path,
        total: int = 0,
        estimate: float = 0.0,
        tty: bool | None = None,
        position: int = 0,
        interval: float = PLAIN_INTERVAL,
        stream: Any = None,
    ):
        self.label = label
        self.events = Path(events)
        self.total = int(total)
        self.estimate = float(estimate)
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.position = position
        self.interval = interval
        self.observed = Observed()
        self.sweep: str | None = None
        self.current = 0  # model-steps of the trainer call in progress
        self.call_started: float | None = None
        self._offset = 0
        self._buffer = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bar = None
        self.began = time.time()
        self._last_plain = time.monotonic()

    # ---------------------------------------------------------------- reading

    @property
    def done(self) -> int:
        return self.observed.model_steps + self.current

    def poll(self) -> None:
        """Read the events appended since the last poll."""
        try:
            with open(self.events, encoding="utf-8") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
                self._offset = handle.tell()
        except OSError:
            return
        text = self._buffer + chunk
        lines = text.split("\n")
        self._buffer = lines.pop()  # an incomplete last line waits for the next poll
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            self._apply(event)

    def _apply(self, event: dict) -> None:
        kind = event.get("event")
        if kind == "entry":
            if event.get("cached"):
                self.observed.entries_cached += 1
            else:
                self.observed.entries_trained += 1
        elif kind == "start":
            self.sweep = str(event.get("sweep"))
            self.current = 0
            self.call_started = float(event.get("t", time.time()))
        elif kind == "progress":
            self.sweep = str(event.get("sweep"))
            self.current = int(event.get("done", 0))
        elif kind == "end":
            self.observed.model_steps += int(event.get("done", 0))
            self.observed.training_seconds += float(event.get("seconds", 0.0))
            self.current = 0
            self.call_started = None

    # ---------------------------------------------------------------- showing

    def training_seconds(self) -> float:
        running = time.time() - self.call_started if self.call_started is not None else 0.0
        return self.observed.training_seconds + max(0.0, running)

    def left(self) -> float | None:
        """Seconds of training left: at the rate seen so far, else the estimate's."""
        total = max(self.total, self.done)
        if total == 0:
            return None
        seconds = self.training_seconds()
        if self.done > 0 and seconds > 1.0:
            return (total - self.done) * seconds / self.done
        return self.estimate * (1 - self.done / total)

    def status(self) -> str:
        """One plain line: chapter, sweep, model-steps, elapsed and left."""
        elapsed = _clock(time.time() - self.began)
        if self.sweep is None:
            return f"{self.label}: running, {elapsed} elapsed, no training yet"
        total = max(self.total, self.done)
        share = f" ({100 * self.done / total:.0f}%)" if total else ""
        left = self.left()
        tail = f", ~{_clock(left)} of training left" if left is not None else ""
        return (
            f"{self.label}: training {self.sweep}: {self.done:,} of {total:,} model-steps"
            f"{share}, {elapsed} elapsed{tail}"
        )

    def _show(self) -> None:
        if not self.tty:
            now = time.monotonic()
            if now - self._last_plain >= self.interval:
                self._last_plain = now
                print(self.status(), file=self.stream, flush=True)
            return
        if self._bar is None:
            from tqdm import tqdm

            try:
                size = os.get_terminal_size(self.stream.fileno())
                sized = size.columns > 0 and size.lines > 0
            except (AttributeError, OSError, ValueError):
                sized = False

            self._bar = tqdm(
                total=max(self.total, 1),
                desc=self.label,
                unit="step",
                unit_scale=True,
                position=self.position,
                leave=False,
                file=self.stream,
                dynamic_ncols=sized,
                ncols=None if sized else 100,  # a terminal that reports no size
                nrows=None if sized else 24,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} model-steps "
                "[{elapsed}<{remaining}]{postfix}",
            )
        bar = self._bar
        if self.done > bar.total:
            bar.total = self.done
        bar.n = self.done
        bar.set_postfix_str(self.sweep or "not training", refresh=False)
        bar.refresh()

    # ---------------------------------------------------------------- thread

    def _loop(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            self.poll()
            self._show()

    def __enter__(self) -> ChapterMonitor:
        self.began = time.time()
        self._last_plain = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name=f"monitor {self.label}")
        self._thread.daemon = True
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.poll()
        if self._bar is not None:
            self._bar.close()
