"""The one place that decides where tensors live.

CUDA when a GPU is present, else the CPU; the environment variable ``CCBOOK_DEVICE``
(for example ``cpu`` or ``cuda:1``) overrides the choice for every chapter and test.
"""

from __future__ import annotations

import os

import torch


def default_device() -> torch.device:
    """The device cclib trains on unless told otherwise."""
    override = os.environ.get("CCBOOK_DEVICE")
    if override:
        return torch.device(override)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_device(device: torch.device | str | None) -> torch.device:
    """``device`` as a ``torch.device``, or the default device when it is None."""
    return default_device() if device is None else torch.device(device)
