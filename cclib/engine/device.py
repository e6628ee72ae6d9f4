"""The one place that decides where tensors live.

CUDA when a GPU is present, else the CPU; the environment variable ``CCBOOK_DEVICE``
(for example ``cpu`` or ``cuda:1``) overrides the choice for every chapter and test.
:func:`check_device` verifies an override when a run is planned (and again in
``cclib.configure``), so a device this machine lacks is refused in one line before any work.
"""

from __future__ import annotations

import os

import torch

from .errors import SettingError

ENV = "CCBOOK_DEVICE"


class DeviceError(SettingError):
    """``CCBOOK_DEVICE`` names a device that is malformed or not present on this machine."""


def default_device() -> torch.device:
    """The device cclib trains on unless told otherwise."""
    override = os.environ.get(ENV)
    if override:
        return torch.device(override)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_device(device: torch.device | str | None) -> torch.device:
    """``device`` as a ``torch.device``, or the default device when it is None."""
    return default_device() if device is None else torch.device(device)


def _cuda_present() -> str:
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count == 0:
        return "this machine has no CUDA GPU that torch can use"
    return f"this machine has {count} CUDA device(s): " + ", ".join(
        f"cuda:{i}" for i in range(count)
    )


def check_device() -> torch.device:
    """The default device, after checking that a ``CCBOOK_DEVICE`` override exists here;
    raises :class:`DeviceError` (one line naming the variable and what is available)."""
    override = os.environ.get(ENV)
    if not override:
        return default_device()
    try:
        device = torch.device(override)
    except (RuntimeError, ValueError):
        raise DeviceError(
            f"{ENV}={override!r} is not a torch device (examples: cpu, cuda, cuda:1)"
        ) from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        index = 0 if device.index is None else device.index
        if index >= count:
            raise DeviceError(f"{ENV}={override!r}: {_cuda_present()}; use cpu or unset {ENV}")
    elif device.type == "mps":
        if not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
            raise DeviceError(f"{ENV}={override!r}: MPS is not available on this machine")
    elif device.type != "cpu":
        raise DeviceError(f"{ENV}={override!r}: cclib runs on cpu, cuda or mps only")
    return device
