"""The error every user-facing setting check raises.

``SettingError`` is a ``ValueError`` whose message names the setting and what is allowed.
The engine raises its subclasses (``DeviceError``, ``CacheDirError``); the book layer's
``ParameterError`` (a bad chapter parameter) is one too, so the runner reports all of them
as one ``error:`` line.
"""

from __future__ import annotations


class SettingError(ValueError):
    """A setting (chapter parameter, device, cache folder, ...) that is not allowed."""
