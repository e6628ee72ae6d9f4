"""Tests of the results cache: keys, reuse, atomic writes, corruption, checkpoints and resume."""

from __future__ import annotations

import dataclasses
import json
import os
import warnings
from pathlib import Path

import pytest
import torch

from cclib.engine import cache as cache_mod
from cclib.engine.cache import (
    Cache,
    CacheWarning,
    Checkpointer,
    NullCheckpointer,
    config_key,
    default_cache_dir,
)

CONFIG = {"model": "mlp", "n": 100, "p": 0.01, "lr": 3e-3, "seeds": [0, 1], "opt": {"wd": None}}


def make_payload(config: dict) -> dict:
    g = torch.Generator().manual_seed(config["n"])
    return {
        "weights": torch.randn(3, 4, generator=g),
        "curve": [0.5, 0.25],
        "metrics": {"loss": torch.tensor([1.0, 2.0]), "steps": 7},
        "config": dict(config),
    }


class Counter:
    """A compute function that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, ckpt: Checkpointer) -> dict:
        self.calls += 1
        return make_payload(CONFIG)


def assert_same(a, b) -> None:
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys()
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b, strict=False):
            assert_same(x, y)
    else:
        assert a == b and type(a) is type(b)


def entry_files(path: Path) -> set[str]:
    return {p.name for p in path.iterdir()} - {".lock"} if path.exists() else set()


# --------------------------------------------------------------------------- keys


def test_key_stable_and_order_independent():
    k = config_key(CONFIG)
    assert k == config_key(dict(reversed(list(CONFIG.items()))))
    assert k == config_key(json.loads(json.dumps(CONFIG)))
    assert len(k) == 20 and int(k, 16) >= 0
    assert config_key({"a": {"x": 1, "y": 2}}) == config_key({"a": {"y": 2, "x": 1}})


@pytest.mark.parametrize(
    "change",
    [
        {"model": "resid"},
        {"n": 101},
        {"p": 0.010000000000000002},  # next float after 0.01
        {"lr": 0.003000000000000001},
        {"seeds": [1, 0]},
        {"seeds": [0, 1, 2]},
        {"opt": {"wd": 0.0}},
        {"opt": {"wd": None, "extra": 1}},
        {"new": True},
    ],
)
def test_key_sensitive_to_every_field(change):
    assert config_key({**CONFIG, **change}) != config_key(CONFIG)


def test_key_types():
    assert config_key({"s": (0, 1)}) == config_key({"s": [0, 1]})
    assert config_key({"x": 1}) != config_key({"x": 1.0})
    assert config_key({"x": 1}) != config_key({"x": True})
    assert config_key({"x": None}) != config_key({})


def test_key_accepts_dataclasses():
    @dataclasses.dataclass(frozen=True)
    class Cfg:
        n: int
        p: float
        sizes: tuple[int, ...]

    assert config_key(Cfg(5, 0.1, (1, 2))) == config_key({"n": 5, "p": 0.1, "sizes": [1, 2]})
    nested = {"cfg": {"n": 5, "p": 0.1, "sizes": [1]}}
    assert config_key({"cfg": Cfg(5, 0.1, (1,))}) == config_key(nested)


@pytest.mark.parametrize(
    "bad",
    [
        {"x": float("nan")},
        {"x": float("inf")},
        {"x": object()},
        {"x": {1: 2}},
        {"x": torch.ones(1)},
    ],
)
def test_key_rejects_bad_values(bad):
    with pytest.raises(TypeError, match="x"):
        config_key(bad)


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("CCBOOK_CACHE", str(tmp_path / "c"))
    monkeypatch.setenv("CCBOOK_ROOT", str(tmp_path / "r"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("CCBOOK_CACHE")
    assert default_cache_dir() == tmp_path / "r" / ".cache"
    monkeypatch.delenv("CCBOOK_ROOT")
    root = Path(cache_mod.__file__).resolve().parents[2]
    has_toc = (root / "_toc.yml").is_file()
    expected = root / ".cache" if has_toc else Path.home() / ".cache" / "ccbook"
    assert default_cache_dir() == expected
    assert Cache().root == expected


# --------------------------------------------------------------------------- reuse


def test_reuse(tmp_path):
    cache, compute = Cache(tmp_path), Counter()
    first = cache.get_or_compute(CONFIG, compute)
    second = Cache(tmp_path).get_or_compute(dict(reversed(list(CONFIG.items()))), compute)
    assert compute.calls == 1
    assert_same(first, make_payload(CONFIG))
    assert_same(second, first)
    assert entry_files(cache.path(CONFIG)) == {"payload.pt", "meta.json"}

    cache.get_or_compute({**CONFIG, "n": 200}, compute)
    assert compute.calls == 2
    cache.get_or_compute({**CONFIG, "n": 200}, compute)
    assert compute.calls == 2


def test_meta_contents(tmp_path):
    cache = Cache(tmp_path)
    path = cache.save({**CONFIG, "t": (1, 2)}, make_payload(CONFIG))
    meta = json.loads((path / "meta.json").read_text())
    assert meta["key"] == path.name == config_key({**CONFIG, "t": (1, 2)})
    assert meta["config"] == {**CONFIG, "t": [1, 2]}
    assert set(meta) >= {"cclib_version", "sha256", "created"}
    assert isinstance(meta["cclib_version"], str) and meta["cclib_version"]


def test_load_absent_and_returns_cpu_tensors(tmp_path):
    cache = Cache(tmp_path / "missing")
    assert cache.load(CONFIG) is None
    assert not (tmp_path / "missing").exists()  # loading creates nothing
    cache.save(CONFIG, {"w": torch.ones(2, requires_grad=True) * 2})
    loaded = cache.load(CONFIG)
    assert loaded["w"].device.type == "cpu" and torch.equal(loaded["w"], torch.full((2,), 2.0))


def test_payload_must_load_with_weights_only(tmp_path):
    import numpy as np

    cache = Cache(tmp_path)
    with pytest.raises(TypeError, match="weights_only"):
        cache.save(CONFIG, {"x": np.zeros(2)})
    with pytest.raises(TypeError, match="dict"):
        cache.save(CONFIG, [torch.zeros(1)])  # type: ignore[arg-type]
    assert cache.load(CONFIG) is None


def test_concurrent_writers_leave_valid_entry(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    cache = Cache(tmp_path)

    def write(i: int) -> None:
        cache.save(CONFIG, {"i": i, "w": torch.full((1000,), float(i))})

    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(write, range(32)))
        loaded = cache.load(CONFIG)
    assert loaded is not None and torch.equal(loaded["w"], torch.full((1000,), float(loaded["i"])))
    assert entry_files(cache.path(CONFIG)) == {"payload.pt", "meta.json"}


# --------------------------------------------------------------------------- atomic writes


def test_crash_during_payload_rename(tmp_path, monkeypatch):
    cache, compute = Cache(tmp_path), Counter()

    def boom(src, dst):
        assert Path(src).exists()  # the temp file was fully written
        raise OSError("simulated crash")

    monkeypatch.setattr(cache_mod.os, "replace", boom)
    with pytest.raises(OSError, match="simulated"):
        cache.get_or_compute(CONFIG, compute)
    monkeypatch.undo()

    assert entry_files(cache.path(CONFIG)) == set()  # no payload, no stray temp file
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)  # nothing there: silent recompute
        cache.get_or_compute(CONFIG, compute)
    assert compute.calls == 2


def test_crash_before_meta_written(tmp_path, monkeypatch):
    cache, compute = Cache(tmp_path), Counter()
    real_replace = os.replace

    def crash_on_meta(src, dst):
        if Path(dst).name == "meta.json":
            raise KeyboardInterrupt  # killed between the payload rename and the meta rename
        real_replace(src, dst)

    monkeypatch.setattr(cache_mod.os, "replace", crash_on_meta)
    with pytest.raises(KeyboardInterrupt):
        cache.get_or_compute(CONFIG, compute)
    monkeypatch.undo()
    assert entry_files(cache.path(CONFIG)) == {"payload.pt"}  # temp meta cleaned up

    with pytest.warns(CacheWarning, match="meta.json is missing"):
        assert cache.load(CONFIG) is None
    assert entry_files(cache.path(CONFIG)) == set()
    cache.get_or_compute(CONFIG, compute)
    assert compute.calls == 2


def test_overwrite_crash_does_not_keep_stale_meta(tmp_path, monkeypatch):
    cache = Cache(tmp_path)
    cache.save(CONFIG, {"v": 1})
    real_replace = os.replace

    def crash_on_meta(src, dst):
        if Path(dst).name == "meta.json":
            raise OSError("simulated crash")
        real_replace(src, dst)

    monkeypatch.setattr(cache_mod.os, "replace", crash_on_meta)
    with pytest.raises(OSError):
        cache.save(CONFIG, {"v": 2})
    monkeypatch.undo()
    with pytest.warns(CacheWarning):
        assert cache.load(CONFIG) is None


def test_stray_temp_files_are_not_entries(tmp_path):
    cache, compute = Cache(tmp_path), Counter()
    d = cache.path(CONFIG)
    d.mkdir(parents=True)
    (d / ".payload.pt.abc.tmp").write_bytes(b"partial")
    (d / ".meta.json.abc.tmp").write_text("{")
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        assert cache.load(CONFIG) is None
        cache.get_or_compute(CONFIG, compute)
        assert cache.load(CONFIG) is not None
    assert compute.calls == 1


# --------------------------------------------------------------------------- corruption


def _truncate(d: Path) -> None:
    data = (d / "payload.pt").read_bytes()
    (d / "payload.pt").write_bytes(data[: len(data) // 2])


def _flip(d: Path) -> None:
    data = bytearray((d / "payload.pt").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (d / "payload.pt").write_bytes(bytes(data))


def _flip_and_rehash(d: Path) -> None:
    """Corrupt the payload and 'fix' the hash, so that torch.load itself must fail."""
    import hashlib

    (d / "payload.pt").write_bytes(b"not a torch file")
    meta = json.loads((d / "meta.json").read_text())
    meta["sha256"] = hashlib.sha256(b"not a torch file").hexdigest()
    (d / "meta.json").write_text(json.dumps(meta))


def _edit_meta(**changes):
    def edit(d: Path) -> None:
        meta = json.loads((d / "meta.json").read_text())
        meta.update(changes)
        (d / "meta.json").write_text(json.dumps(meta))

    return edit


@pytest.mark.parametrize(
    "corrupt, reason",
    [
        (_truncate, "sha256"),
        (_flip, "sha256"),
        (_flip_and_rehash, "does not load"),
        (lambda d: (d / "meta.json").unlink(), "missing"),
        (lambda d: (d / "payload.pt").unlink(), "payload.pt is missing"),
        (lambda d: (d / "meta.json").write_text("garbage{"), "unreadable"),
        (lambda d: (d / "meta.json").write_text("[1, 2]"), "not a JSON object"),
        (_edit_meta(config={**CONFIG, "n": 5}), "config differs"),
        (_edit_meta(key="0" * 20), "another key"),
    ],
    ids=[
        "truncated",
        "flipped",
        "unloadable",
        "no-meta",
        "no-payload",
        "garbage-meta",
        "meta-not-object",
        "other-config",
        "other-key",
    ],
)
def test_corrupt_entry_recomputed(tmp_path, corrupt, reason):
    cache, compute = Cache(tmp_path), Counter()
    cache.get_or_compute(CONFIG, compute)
    corrupt(cache.path(CONFIG))
    with pytest.warns(CacheWarning, match=reason) as record:
        result = cache.get_or_compute(CONFIG, compute)
    assert len(record) == 1 and config_key(CONFIG) in str(record[0].message)
    assert "\n" not in str(record[0].message)
    assert compute.calls == 2
    assert_same(result, make_payload(CONFIG))
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        assert_same(cache.load(CONFIG), result)


# --------------------------------------------------------------------------- checkpoints and resume


def test_training_state_roundtrips(tmp_path):
    """The state the training loop checkpoints loads back with weights_only=True."""
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    gen = torch.Generator().manual_seed(3)
    state = {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "generators": [gen.get_state(), torch.Generator().manual_seed(4).get_state()],
        "step": 10,
        "curves": {"loss": [0.5, 0.25], "lr": [1e-3, 5e-4]},
        "shape": (2, 3),
        "done": None,
        "mask": torch.tensor([True, False]),
    }
    ckpt = Checkpointer(tmp_path / "e", "k")
    ckpt.save(state)
    back = ckpt.load()
    assert_same(back["model"], dict(model.state_dict()))
    assert back["optimizer"]["param_groups"] == opt.state_dict()["param_groups"]
    assert_same(back["optimizer"]["state"], opt.state_dict()["state"])
    assert back["generators"][0].dtype == torch.uint8
    restored = torch.Generator()
    restored.set_state(back["generators"][0])
    assert torch.equal(torch.rand(5, generator=restored), torch.rand(5, generator=gen))
    assert back["step"] == 10 and back["curves"] == state["curves"] and back["shape"] == (2, 3)
    assert back["done"] is None and torch.equal(back["mask"], state["mask"])
    ckpt.clear()
    assert ckpt.load() is None and entry_files(tmp_path / "e") == set()


class Loop:
    """A compute function that runs ``n`` iterations of a deterministic 'training' loop,
    checkpointing every ``every`` iterations, and can be interrupted at iteration ``stop``."""

    def __init__(self, n: int = 20, every: int = 4, stop: int | None = None) -> None:
        self.n, self.every, self.stop = n, every, stop
        self.iterations = 0
        self.started_at: int | None = None

    def __call__(self, ckpt: Checkpointer) -> dict:
        state = ckpt.load()
        if state is None:
            gen = torch.Generator().manual_seed(0)
            state = {"step": 0, "w": torch.zeros(3), "curve": [], "rng": gen.get_state()}
        gen = torch.Generator()
        gen.set_state(state["rng"])
        w, curve = state["w"].clone(), list(state["curve"])
        self.started_at = step = state["step"]
        while step < self.n:
            if step == self.stop:
                raise KeyboardInterrupt
            w = w + torch.rand(3, generator=gen)
            curve.append(float(w.sum()))
            step += 1
            self.iterations += 1
            if step % self.every == 0:
                ckpt.save({"step": step, "w": w, "curve": curve, "rng": gen.get_state()})
        return {"w": w, "curve": curve, "steps": step}


def test_resume_after_interrupt(tmp_path):
    reference = Cache(tmp_path / "ref").get_or_compute(CONFIG, Loop())

    cache = Cache(tmp_path / "run")
    first = Loop(stop=11)
    with pytest.raises(KeyboardInterrupt):
        cache.get_or_compute(CONFIG, first)
    assert first.iterations == 11
    assert cache.load(CONFIG) is None
    assert entry_files(cache.path(CONFIG)) == {"checkpoint.pt", "checkpoint.json"}
    assert cache.checkpointer(CONFIG).load()["step"] == 8

    second = Loop()
    result = cache.get_or_compute(CONFIG, second)
    assert second.started_at == 8 and second.iterations == 12
    assert_same(result, reference)
    assert entry_files(cache.path(CONFIG)) == {"payload.pt", "meta.json"}  # checkpoint removed

    third = Loop()
    assert_same(cache.get_or_compute(CONFIG, third), reference)
    assert third.iterations == 0


def test_corrupt_checkpoint_ignored(tmp_path):
    reference = Cache(tmp_path / "ref").get_or_compute(CONFIG, Loop())
    cache = Cache(tmp_path / "run")
    with pytest.raises(KeyboardInterrupt):
        cache.get_or_compute(CONFIG, Loop(stop=11))
    d = cache.path(CONFIG)
    data = bytearray((d / "checkpoint.pt").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (d / "checkpoint.pt").write_bytes(bytes(data))

    again = Loop()
    with pytest.warns(CacheWarning, match="checkpoint"):
        result = cache.get_or_compute(CONFIG, again)
    assert again.started_at == 0 and again.iterations == 20
    assert_same(result, reference)
    assert entry_files(d) == {"payload.pt", "meta.json"}


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda d: (d / "checkpoint.json").unlink(),
        lambda d: (d / "checkpoint.json").write_text("nonsense"),
        lambda d: (d / "checkpoint.pt").write_bytes(b""),
        lambda d: (d / "checkpoint.json").write_text(json.dumps({"key": "other", "sha256": ""})),
    ],
    ids=["no-meta", "garbage-meta", "empty", "other-key"],
)
def test_checkpoint_corruptions(tmp_path, corrupt):
    ckpt = Checkpointer(tmp_path / "e", "k")
    ckpt.save({"step": 3, "w": torch.ones(2)})
    corrupt(tmp_path / "e")
    with pytest.warns(CacheWarning, match="checkpoint"):
        assert ckpt.load() is None
    assert entry_files(tmp_path / "e") == set()
    assert ckpt.load() is None  # silent once removed


def test_checkpoint_does_not_disturb_entry(tmp_path):
    cache = Cache(tmp_path)
    cache.save(CONFIG, {"v": 1})
    ckpt = cache.checkpointer(CONFIG)
    ckpt.save({"step": 1})
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        assert cache.load(CONFIG) == {"v": 1}
        assert ckpt.load() == {"step": 1}


def test_null_checkpointer():
    ckpt = NullCheckpointer()
    assert isinstance(ckpt, Checkpointer)
    ckpt.save({"step": 1, "w": torch.ones(1)})
    assert ckpt.load() is None
    ckpt.clear()
    assert Loop(n=5, every=2)(ckpt)["steps"] == 5


# --------------------------------------------------------------------------- cache folder


def test_check_cache_dir(tmp_path, monkeypatch):
    from cclib.engine.cache import CacheDirError, check_cache_dir

    fresh = tmp_path / "a" / "b"
    assert check_cache_dir(fresh) == fresh and fresh.is_dir()
    assert list(fresh.iterdir()) == []  # the probe file is gone
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(CacheDirError, match="is a file, not a folder"):
        check_cache_dir(a_file)
    with pytest.raises(CacheDirError, match="under a file"):
        check_cache_dir(a_file / "cache")
    monkeypatch.setenv("CCBOOK_CACHE", str(a_file))
    with pytest.raises(CacheDirError, match="CCBOOK_CACHE"):
        check_cache_dir()
    assert a_file.read_text() == "x"


def test_default_cache_dir_follows_the_given_root(monkeypatch, tmp_path):
    monkeypatch.delenv("CCBOOK_CACHE", raising=False)
    assert default_cache_dir(tmp_path) == tmp_path / ".cache"
    monkeypatch.setenv("CCBOOK_CACHE", str(tmp_path / "c"))
    assert default_cache_dir(tmp_path) == tmp_path / "c"
