"""Results cache: trained sweeps stored under a key derived from their full configuration.

An entry is a directory ``<root>/<key>/`` holding ``payload.pt`` (``torch.save`` of a dict of
tensors and plain Python values) and ``meta.json`` (key, configuration, cclib version, sha256
of the payload bytes, creation time), written last. Every file is written atomically (temp
file, fsync, ``os.replace``) under a per-entry lock, so concurrent writers of one key leave a
valid entry (the last one wins). A missing, partial or corrupt entry is reported with a
:class:`CacheWarning`, removed and recomputed. While an entry is being computed, a
:class:`Checkpointer` keeps ``checkpoint.pt`` + ``checkpoint.json`` in the same directory so
that an interrupted sweep resumes from its last saved state.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import io
import json
import math
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import torch

from .errors import SettingError

try:  # POSIX advisory locks; elsewhere writes are still atomic, just not serialised.
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "CACHE_SCHEMA",
    "Cache",
    "CacheDirError",
    "CacheWarning",
    "Checkpointer",
    "NullCheckpointer",
    "config_key",
    "check_cache_dir",
    "default_cache_dir",
]

CACHE_SCHEMA = 4  # 2-3: sparse CPU step (issue 7), exactly-k, loss windows; 4: new sampler draws
"""Bump to invalidate every existing entry (changes every key)."""

_KEY_LENGTH = 20
_PAYLOAD, _META = "payload.pt", "meta.json"
_CKPT, _CKPT_META = "checkpoint.pt", "checkpoint.json"
_LOCK = ".lock"


class CacheWarning(UserWarning):
    """A cache entry or checkpoint was unusable and has been discarded."""


class CacheDirError(SettingError):
    """The cache location (``$CCBOOK_CACHE`` or the default) is not a writable folder."""


# --------------------------------------------------------------------------- locations


def default_cache_dir(root: Path | str | None = None) -> Path:
    """``$CCBOOK_CACHE``, else ``<project root>/.cache``, else ``~/.cache/ccbook``.

    The project root is ``root`` if given, else ``$CCBOOK_ROOT``, or the directory above the
    ``cclib`` package if it holds ``_toc.yml``.
    """
    if env := os.environ.get("CCBOOK_CACHE"):
        return Path(env).expanduser()
    if root is not None:
        return Path(root).expanduser() / ".cache"
    if env := os.environ.get("CCBOOK_ROOT"):
        return Path(env).expanduser() / ".cache"
    root = Path(__file__).resolve().parents[2]  # cclib/engine/cache.py
    if (root / "_toc.yml").is_file():
        return root / ".cache"
    return Path.home() / ".cache" / "ccbook"


def check_cache_dir(directory: Path | str | None = None) -> Path:
    """Make sure the cache folder (default: :func:`default_cache_dir`) can hold entries:
    create it if needed and write and remove a probe file in it. Raises
    :class:`CacheDirError` with one line naming the folder and the problem (a file in the
    way, a path under a file, no permission, a read-only file system). Nothing else in the
    cache is touched. Run when a chapter run is planned, before any work."""
    path = Path(directory).expanduser() if directory is not None else default_cache_dir()
    source = "CCBOOK_CACHE" if os.environ.get("CCBOOK_CACHE") else "the cache folder"
    where = f"{source} = {str(path)!r}"
    if path.exists() and not path.is_dir():
        raise CacheDirError(f"{where} is a file, not a folder; point CCBOOK_CACHE at a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".probe.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except NotADirectoryError:
        raise CacheDirError(
            f"{where} lies under a file, not a folder; point CCBOOK_CACHE at a folder"
        ) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise CacheDirError(f"{where} cannot be written ({reason})") from None
    return path


# --------------------------------------------------------------------------- keys


def _normalise(value: Any, where: str = "config") -> Any:
    """Convert a configuration to JSON-able values (tuples become lists), rejecting the rest."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"{where}: non-finite float {value!r} cannot be part of a cache key")
        return float(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _normalise(dataclasses.asdict(value), where)
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{where}: key {k!r} is not a str")
            out[k] = _normalise(v, f"{where}.{k}")
        return out
    if isinstance(value, (list, tuple)):
        return [_normalise(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise TypeError(
        f"{where}: value {value!r} of type {type(value).__name__} cannot be part of a cache key "
        "(use str, int, float, bool, None, lists, tuples, dicts or dataclasses)"
    )


def _canonical(config: Any) -> str:
    """Canonical JSON: sorted keys, no whitespace, floats written repr-exact."""
    return json.dumps(_normalise(config), sort_keys=True, separators=(",", ":"), allow_nan=False)


def config_key(config: Mapping[str, Any] | Any) -> str:
    """Hex key (sha256 prefix) of the canonical JSON of ``config`` and :data:`CACHE_SCHEMA`.

    Dict order is irrelevant, tuples and lists are equal, floats are exact; ``1`` and
    ``1.0`` (and ``True``) are different values.
    """
    text = _canonical({"schema": CACHE_SCHEMA, "config": config})
    return hashlib.sha256(text.encode()).hexdigest()[:_KEY_LENGTH]


# --------------------------------------------------------------------------- file helpers


def _cclib_version() -> str:
    """The installed cclib's version (metadata only: the engine imports no other layer)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cclib")
    except PackageNotFoundError:
        return "unknown"


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _serialise(obj: Mapping[str, Any], what: str) -> bytes:
    """``torch.save`` bytes of ``obj``, checked to load back with ``weights_only=True``."""
    if not isinstance(obj, Mapping):
        raise TypeError(f"{what} must be a dict, got {type(obj).__name__}")
    buf = io.BytesIO()
    torch.save(dict(obj), buf)
    data = buf.getvalue()
    try:
        _deserialise(data)
    except Exception as exc:
        raise TypeError(
            f"{what} does not load back with torch.load(weights_only=True) "
            f"(use tensors, str, int, float, bool, None, lists, tuples, dicts): {exc}"
        ) from exc
    return data


def _deserialise(data: bytes) -> dict[str, Any]:
    obj = torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    if not isinstance(obj, dict):
        raise TypeError(f"stored object is a {type(obj).__name__}, not a dict")
    return obj


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a temp file beside ``path``, fsync it, and ``os.replace`` it there."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename durable (POSIX)
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def _unlink(*paths: Path) -> None:
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


@contextlib.contextmanager
def _locked(directory: Path, name: str = _LOCK) -> Iterator[None]:
    """Exclusive advisory lock on ``directory`` (created if needed) through its lock file
    ``name``: the default for one read or write; the executor holds another one while an
    entry is computed."""
    directory.mkdir(parents=True, exist_ok=True)
    if fcntl is None:  # pragma: no cover
        yield
        return
    with open(directory / name, "a") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _write_pair(data_path: Path, meta_path: Path, data: bytes, meta: dict[str, Any]) -> None:
    """Atomically write a data file, then its metadata (last: it marks the pair complete)."""
    _unlink(meta_path)  # a crash before the new meta lands leaves an entry without meta
    _atomic_write(data_path, data)
    _atomic_write(meta_path, json.dumps(meta, indent=1, sort_keys=True).encode())


def _read_pair(
    data_path: Path, meta_path: Path, check: Callable[[dict[str, Any]], str | None]
) -> tuple[dict[str, Any] | None, str | None]:
    """Read and verify a data/metadata pair: ``(obj, None)``, ``(None, None)`` if absent,
    or ``(None, reason)`` if unusable."""
    if not data_path.exists() and not meta_path.exists():
        return None, None
    try:
        meta = json.loads(meta_path.read_text())
    except FileNotFoundError:
        return None, f"{meta_path.name} is missing (interrupted write?)"
    except (OSError, ValueError) as exc:
        return None, f"{meta_path.name} is unreadable ({exc.__class__.__name__})"
    if not isinstance(meta, dict):
        return None, f"{meta_path.name} is not a JSON object"
    if reason := check(meta):
        return None, reason
    try:
        data = data_path.read_bytes()
    except FileNotFoundError:
        return None, f"{data_path.name} is missing"
    except OSError as exc:
        return None, f"{data_path.name} is unreadable ({exc.__class__.__name__})"
    if _sha256(data) != meta.get("sha256"):
        return None, f"{data_path.name} does not match its sha256 (truncated or corrupt)"
    try:
        return _deserialise(data), None
    except Exception as exc:
        first_line = str(exc).split("\n", 1)[0]
        return None, f"{data_path.name} does not load ({exc.__class__.__name__}: {first_line})"


# --------------------------------------------------------------------------- checkpoints


class Checkpointer:
    """Latest training state of one cache entry (``checkpoint.pt`` + ``checkpoint.json``)."""

    def __init__(self, directory: Path, key: str) -> None:
        self.directory = Path(directory)
        self.key = key

    def load(self) -> dict[str, Any] | None:
        """The last saved state, or None if there is none or it is corrupt (then removed)."""
        data_path, meta_path = self.directory / _CKPT, self.directory / _CKPT_META
        if not self.directory.is_dir():
            return None

        def check(meta: dict[str, Any]) -> str | None:
            return None if meta.get("key") == self.key else "checkpoint belongs to another key"

        with _locked(self.directory):
            state, reason = _read_pair(data_path, meta_path, check)
            if reason:
                warnings.warn(f"cache {self.key}: discarding checkpoint: {reason}", CacheWarning, 2)
                _unlink(meta_path, data_path)
        return state

    def save(self, state: Mapping[str, Any]) -> None:
        """Atomically replace the checkpoint with ``state`` (tensors and plain values)."""
        data = _serialise(state, "checkpoint state")
        meta = {"key": self.key, "sha256": _sha256(data), "created": _now()}
        with _locked(self.directory):
            _write_pair(self.directory / _CKPT, self.directory / _CKPT_META, data, meta)

    def clear(self) -> None:
        """Remove the checkpoint, if any."""
        if self.directory.is_dir():
            with _locked(self.directory):
                _unlink(self.directory / _CKPT_META, self.directory / _CKPT)


class NullCheckpointer(Checkpointer):
    """A checkpointer that keeps nothing, for training without a cache."""

    def __init__(self) -> None:
        pass

    def load(self) -> dict[str, Any] | None:
        """Always None."""
        return None

    def save(self, state: Mapping[str, Any]) -> None:
        """Do nothing."""

    def clear(self) -> None:
        """Do nothing."""


# --------------------------------------------------------------------------- the cache


class Cache:
    """Directory of entries ``<root>/<config_key(config)>/`` (root: :func:`default_cache_dir`)."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_cache_dir()

    def path(self, config: Mapping[str, Any] | Any) -> Path:
        """The entry directory of ``config``."""
        return self.root / config_key(config)

    def checkpointer(self, config: Mapping[str, Any] | Any) -> Checkpointer:
        """The checkpointer of the entry of ``config``."""
        return Checkpointer(self.path(config), config_key(config))

    def contains(self, config: Mapping[str, Any] | Any) -> bool:
        """Whether an entry for ``config`` is stored (its files are present; :meth:`load`
        still checks them). Cheap: nothing is read, for estimates before any work."""
        directory = self.path(config)
        return (directory / _PAYLOAD).is_file() and (directory / _META).is_file()

    def load(self, config: Mapping[str, Any] | Any) -> dict[str, Any] | None:
        """The stored payload (CPU tensors), or None if absent or unusable (then removed)."""
        key, directory = config_key(config), self.path(config)
        if not directory.is_dir():
            return None
        wanted = _canonical(config)

        def check(meta: dict[str, Any]) -> str | None:
            if meta.get("key") != key:
                return "meta.json names another key"
            try:
                if _canonical(meta.get("config")) != wanted:
                    return "stored config differs from the requested one"
            except TypeError:
                return "stored config is malformed"
            return None

        with _locked(directory):
            payload, reason = _read_pair(directory / _PAYLOAD, directory / _META, check)
            if reason:
                warnings.warn(f"cache {key}: discarding entry: {reason}", CacheWarning, 2)
                _unlink(directory / _META, directory / _PAYLOAD)
        return payload

    def save(self, config: Mapping[str, Any] | Any, payload: Mapping[str, Any]) -> Path:
        """Atomically store ``payload`` for ``config``; returns the entry directory."""
        self._save(config, _serialise(payload, "payload"))
        return self.path(config)

    def _save(self, config: Mapping[str, Any] | Any, data: bytes) -> None:
        meta = {
            "key": config_key(config),
            "config": _normalise(config),
            "cclib_version": _cclib_version(),
            "sha256": _sha256(data),
            "created": _now(),
        }
        directory = self.path(config)
        with _locked(directory):
            _write_pair(directory / _PAYLOAD, directory / _META, data, meta)

    def get_or_compute(
        self,
        config: Mapping[str, Any] | Any,
        compute: Callable[[Checkpointer], Mapping[str, Any]],
    ) -> dict[str, Any]:
        """The cached payload, or ``compute(checkpointer)`` stored then returned as
        :meth:`load` would return it; the checkpoint is removed once the entry is saved."""
        if (payload := self.load(config)) is not None:
            return payload
        ckpt = self.checkpointer(config)
        data = _serialise(compute(ckpt), "payload")
        self._save(config, data)
        ckpt.clear()
        return _deserialise(data)
