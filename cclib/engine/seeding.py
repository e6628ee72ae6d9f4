"""Explicit random streams: every random draw in cclib comes from a generator made here.

An instance seed (an int chosen in a chapter's parameters) is split into independent
streams, one per purpose (weight initialisation, training data, evaluation data,
mixing matrix), with numpy's ``SeedSequence``. Nothing is ever seeded from the clock.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
import torch


class Stream(IntEnum):
    """Purposes that get their own, independent random stream."""

    INIT = 0
    DATA = 1
    EVAL = 2
    MIXING = 3
    EMBEDDING = 4


def derive_seed(seed: int, stream: Stream, part: int = 0) -> int:
    """A 63-bit seed for part ``part`` of ``stream``, derived from ``seed``.

    Different ``(stream, part)`` pairs give independent streams for one ``seed``.
    """
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    state = np.random.SeedSequence([int(seed), int(stream), int(part)]).generate_state(
        2, dtype=np.uint32
    )
    return int((int(state[0]) << 31) ^ int(state[1])) & ((1 << 63) - 1)


def make_generator(
    seed: int, stream: Stream, device: torch.device | str = "cpu", part: int = 0
) -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded for part ``part`` of ``stream`` of ``seed``."""
    generator = torch.Generator(device=torch.device(device))
    generator.manual_seed(derive_seed(seed, stream, part))
    return generator
