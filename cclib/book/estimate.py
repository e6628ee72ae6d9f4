"""How long a chapter will train on this machine, estimated before any work starts.

The estimate of a chapter is the sum, over the sweeps of its plan (:mod:`cclib.book.plans`)
that are not in the results cache, of each instance's horizon times the cost of one step
of one instance of its kind. That cost is measured on the spot: a few timed steps of the
chapter's own model sizes through the trainer (``path="auto"``, so the sparse CPU step or
the dense one, as training would pick it), divided by the instances stepped. Costs are
kept in ``<cache>/step-costs/<machine>.json``, one file per machine, device, thread count
and *trainer version* (a hash of the sources of the step), so a later estimate on the same
machine costs nothing and a changed step is measured again.

Sweeps already cached cost nothing: a rerun over a filled cache is never refused. In a
build, a sweep that an earlier chapter trains (the same cache key) counts only there.

:func:`check_max_hours` refuses (one :class:`~cclib.book.params.ParameterError`) a chapter
whose estimate exceeds its ``max_hours`` parameter, naming the estimate, the sweeps and
parameters that drive it and the ways out.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import os
import platform
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .params import ChapterConfig, ParameterError
from .plans import PlannedSweep, chapter_plan

COSTS_DIR = "step-costs"

#: Sources whose code decides what a training step costs (their hash versions the costs).
STEP_SOURCES = (
    "engine/training.py",
    "engine/phased.py",
    "engine/optim.py",
    "engine/sampling.py",
    "engine/batching.py",
    "compressed/models.py",
    "compressed/tasks.py",
    "compressed/sparse_training.py",
    "universal_and/models.py",
    "universal_and/tasks.py",
)

#: Instances stepped when timing a kind of instance on a CPU (a GPU steps them all).
TIMED_INSTANCES = 4
#: Seconds each of the three timed runs of a small model aims at.
TIMED_SECONDS = 0.2
#: A step predicted slower than this marks a large model (timed on small batches).
LARGE_STEP_SECONDS = 0.5
#: Seconds of timing after which the user is told what is going on.
SLOW_NOTICE = 5.0
#: Batch of the first probe step (and of the timed steps of a large model).
PROBE_BATCH = 64

#: Parameters named in a refusal when a chapter has them (what drives training time).
DRIVERS = (
    "steps",
    "batch_size",
    "seeds",
    "sign_seeds",
    "sigma_points",
    "sigma_seeds",
    "finetune_steps",
    "long_steps",
    "train_ps",
    "clean_ps",
    "p",
    "n_features",
    "n_neurons",
    "width",
    "m",
    "d",
    "d_values",
    "s_values",
    "nonempty_steps",
)


# --------------------------------------------------------------------------- machine


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else the platform's processor string."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def trainer_version() -> str:
    """Hash of the step's sources (:data:`STEP_SOURCES`): costs measured with other code
    are measured again."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for name in STEP_SOURCES:
        path = package / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.is_file() else b"")
    return digest.hexdigest()[:12]


@dataclass(frozen=True)
class Machine:
    """Where the estimate is for: host, CPU model, torch threads, device (and GPU name)."""

    node: str
    cpu: str
    threads: int
    device: str
    gpu: str | None

    @classmethod
    def here(cls) -> Machine:
        import torch

        from ..engine.device import resolve_device

        device = resolve_device(None)
        gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else None
        return cls(platform.node(), cpu_model(), torch.get_num_threads(), device.type, gpu)

    @property
    def label(self) -> str:
        """``cpu (2 threads)`` or ``cuda (NVIDIA H100 ...)``."""
        if self.device == "cuda":
            return f"cuda ({self.gpu})"
        return f"{self.device} ({self.threads} thread{'s' if self.threads != 1 else ''})"

    def key(self, version: str) -> str:
        text = json.dumps([self.node, self.cpu, self.threads, self.device, self.gpu, version])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- step costs


def _cost_key(cost_class: dict, instances: int) -> str:
    return json.dumps({**cost_class, "instances": instances}, sort_keys=True)


class StepCosts:
    """Measured seconds per instance-step on one machine, device and trainer version,
    stored as JSON in ``<cache>/step-costs/`` (written atomically)."""

    def __init__(
        self,
        cache_root: Path,
        machine: Machine,
        version: str | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ):
        self.machine = machine
        self.clock = clock  # wall time; a test may time CPU seconds instead
        self.version = version or trainer_version()
        self.directory = Path(cache_root) / COSTS_DIR
        self.path = self.directory / f"{machine.key(self.version)}.json"
        self.costs: dict[str, dict] = {}
        try:
            data = json.loads(self.path.read_text())
            if data.get("trainer") == self.version:
                self.costs = dict(data.get("costs", {}))
        except (OSError, ValueError, AttributeError):
            self.costs = {}  # absent or unreadable: measured again
        self.measured = 0  # measurements taken by this object
        self.measure_seconds = 0.0
        self.log: Callable[[str], None] | None = None  # told once when timing gets slow
        self._told = False

    def save(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        data = {
            "machine": dataclass_dict(self.machine),
            "trainer": self.version,
            "costs": self.costs,
        }
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".costs.", suffix=".tmp")
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=1, sort_keys=True)
        os.replace(tmp, self.path)

    def cost(self, sweep: PlannedSweep, indices: list[int]) -> float:
        """Seconds per instance-step of the instances ``indices`` of ``sweep`` (one cost
        class), measured now unless known."""
        group = len(indices)
        timed = group if self.machine.device == "cuda" else min(group, TIMED_INSTANCES)
        key = _cost_key(sweep.cost_classes[indices[0]], timed)
        known = self.costs.get(key)
        if known is not None:
            return float(known["seconds"])
        if self.log is not None and not self._told and self.measure_seconds > SLOW_NOTICE:
            self._told = True
            self.log(
                "estimate: timing a training step of each model size (large ones take a full "
                f"step; once per machine, kept in {self.directory}) ..."
            )
        start = time.perf_counter()
        seconds, steps, stepped = time_steps(sweep, indices[:timed], self.clock)
        self.measure_seconds += time.perf_counter() - start
        self.measured += 1
        self.costs[key] = {
            "seconds": seconds,
            "timed_steps": steps,
            "timed_instances": stepped,
            "measured": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        }
        return seconds


def dataclass_dict(obj: Any) -> dict:
    import dataclasses

    return dataclasses.asdict(obj)


def time_steps(
    sweep: PlannedSweep, indices: list[int], clock: Callable[[], float] = time.perf_counter
) -> tuple[float, int, int]:
    """Seconds per instance-step of ``indices`` of ``sweep`` through the trainer.

    A first step of one instance on a small batch (:data:`PROBE_BATCH`, also a warm-up)
    tells small models from large ones. A small model is warmed up, then ``t`` steps are
    timed against one step (the difference cancels the set-up of a trainer call), three
    times, keeping the median (a moment of load elsewhere is not taken for the cost). A large
    model (its full batch predicted above :data:`LARGE_STEP_SECONDS` a step) is timed by
    one full step of one instance: extrapolating from small batches misleads where a
    step's fixed part (optimiser update, Gram products) dominates. Returns ``(seconds,
    timed steps, instances stepped)``."""
    import dataclasses

    from ..engine.training import TrainingDiverged, train

    batch = sweep.train.batch_size

    def run(idx: list[int], steps: int, size: int = batch) -> float:
        model, task = sweep.build(idx)
        config = dataclasses.replace(sweep.train, steps=steps, batch_size=size)
        seeds = list(range(len(idx)))
        start = clock()
        try:
            train(model, task, config, seeds, progress=False, path="auto")
        except TrainingDiverged:  # a diverging run costs its steps all the same
            pass
        return clock() - start

    small = min(batch, PROBE_BATCH)
    probe = run(indices[:1], 1, small)
    if probe * batch / small > LARGE_STEP_SECONDS:
        return run(indices[:1], 1), 1, 1
    run(indices, 2)  # warm-up
    one = min(run(indices, 1), run(indices, 1))
    rough = max((run(indices, 3) - one) / 2, 1e-5)
    steps = max(3, min(400, math.ceil(TIMED_SECONDS / rough)))
    rates = sorted(max(run(indices, steps) - one, 1e-9) / (steps - 1) for _ in range(3))
    return rates[1] / len(indices), steps, len(indices)  # the median of three: load spikes


def gpu_rates(cache_root: Path, version: str) -> dict[str, tuple[str, dict[str, dict]]]:
    """Step costs measured on GPUs with this trainer version: machine key -> (GPU name,
    costs), from ``<cache>/step-costs/`` (for "on a GPU at the last measured rate")."""
    out = {}
    for path in sorted(Path(cache_root, COSTS_DIR).glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        machine = data.get("machine", {})
        if machine.get("device") == "cuda" and data.get("trainer") == version:
            out[path.stem] = (str(machine.get("gpu")), dict(data.get("costs", {})))
    return out


# --------------------------------------------------------------------------- estimates


@dataclass
class SweepEstimate:
    label: str
    instances: int
    model_steps: int
    sizes: str
    status: str  # "train", "cached" or "shared" (trained by an earlier chapter of the build)
    seconds: float = 0.0
    gpu_seconds: float | None = None


@dataclass
class ChapterEstimate:
    """A chapter's estimated training time on ``machine`` (seconds), by sweep."""

    chapter: str
    profile: str
    machine: Machine
    sweeps: list[SweepEstimate] = field(default_factory=list)
    measured: int = 0  # step costs measured for this estimate
    measure_seconds: float = 0.0
    gpu: str | None = None  # the GPU of the "last measured rate", when every sweep has one

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.sweeps)

    @property
    def model_steps(self) -> int:
        return sum(s.model_steps for s in self.sweeps if s.status == "train")

    @property
    def to_train(self) -> list[SweepEstimate]:
        return [s for s in self.sweeps if s.status == "train"]

    @property
    def gpu_seconds(self) -> float | None:
        if self.gpu is None:
            return None
        return sum(s.gpu_seconds or 0.0 for s in self.to_train)

    def line(self) -> str:
        """One line for the terminal, e.g. ``uand_training: ~2.9 days of training on cpu (2
        threads) ...; ~6 min on a GPU at the last measured rate``."""
        total = len(self.sweeps)
        if not total:
            return f"{self.chapter}: no training"
        if not self.to_train:
            return f"{self.chapter}: no training (all {total} sweeps cached or shared)"
        text = (
            f"{self.chapter}: ~{duration(self.seconds)} of training on {self.machine.label} "
            f"({len(self.to_train)} of {total} sweeps, {self.model_steps:,} model-steps)"
        )
        if self.gpu_seconds is not None and self.machine.device != "cuda":
            text += (
                f"; ~{duration(self.gpu_seconds)} on a GPU ({self.gpu}) at the last measured rate"
            )
        return text

    def as_dict(self) -> dict:
        return {
            "chapter": self.chapter,
            "profile": self.profile,
            "seconds": self.seconds,
            "model_steps": self.model_steps,
            "sweeps": [dataclass_dict(s) for s in self.sweeps],
            "machine": dataclass_dict(self.machine),
            "measured_costs": self.measured,
            "measure_seconds": self.measure_seconds,
        }


def duration(seconds: float) -> str:
    """``40 s``, ``6 min``, ``3.4 h``, ``2.9 days``."""
    if seconds < 90:
        return f"{seconds:.0f} s" if seconds >= 1 else f"{seconds:.1g} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.2g} h"
    return f"{seconds / 86400:.2g} days"


def _groups(sweep: PlannedSweep) -> list[list[int]]:
    """Instance indices of ``sweep`` grouped by cost class, in first-seen order."""
    groups: dict[str, list[int]] = {}
    for index, cls in enumerate(sweep.cost_classes):
        groups.setdefault(json.dumps(cls, sort_keys=True), []).append(index)
    return list(groups.values())


def estimate_chapter(
    cfg: ChapterConfig,
    cache: Any,
    costs: StepCosts,
    seen: set[str] | None = None,
) -> ChapterEstimate:
    """The training time of chapter configuration ``cfg`` on ``costs.machine``: its
    planned sweeps not in ``cache`` (nor in ``seen``, the keys of sweeps an earlier chapter
    of the same build trains; this chapter's keys are added) times measured step costs."""
    from ..engine.cache import config_key

    estimate = ChapterEstimate(cfg.chapter, cfg.profile, costs.machine)
    before, measuring = costs.measured, costs.measure_seconds
    on_cpu = costs.machine.device != "cuda"
    gpus = gpu_rates(costs.directory.parent, costs.version) if on_cpu else {}
    gpu_totals: dict[str, list[float] | None] = {name: [] for name in gpus}
    for sweep in chapter_plan(cfg):
        config = sweep.key_config(cache)
        key = config_key(config) if config is not None else f"unknown:{cfg.chapter}:{sweep.label}"
        item = SweepEstimate(sweep.label, sweep.instances, sweep.model_steps, sweep.sizes, "train")
        estimate.sweeps.append(item)
        if config is not None and cache is not None and cache.contains(config):
            item.status = "cached"
            continue
        if seen is not None and key in seen:
            item.status = "shared"
            continue
        if seen is not None:
            seen.add(key)
        for name, (_, table) in gpus.items():  # the same sweep at a GPU's measured rate
            totals = gpu_totals[name]
            if totals is None:
                continue
            try:
                totals.append(_seconds(sweep, lambda sw, g, t=table: t[_gpu_key(sw, g)]["seconds"]))
            except KeyError:
                gpu_totals[name] = None
        item.seconds = _seconds(sweep, costs.cost)
    usable = [name for name, totals in gpu_totals.items() if totals is not None]
    if usable and estimate.to_train:
        name = usable[-1]
        estimate.gpu = gpus[name][0]
        for item, seconds in zip(estimate.to_train, gpu_totals[name] or [], strict=True):
            item.gpu_seconds = seconds
    estimate.measured = costs.measured - before
    estimate.measure_seconds = costs.measure_seconds - measuring
    if estimate.measured:
        costs.save()
    return estimate


def _gpu_key(sweep: PlannedSweep, group: list[int]) -> str:
    """Cost key of a group as a GPU times it (every instance of the group at once)."""
    return _cost_key(sweep.cost_classes[group[0]], len(group))


def _seconds(sweep: PlannedSweep, cost) -> float:
    """Training seconds of ``sweep``: per cost class, ``cost(sweep, group)`` (seconds per
    instance-step) times the group's model-steps."""
    return sum(
        float(cost(sweep, group)) * sum(sweep.horizons[i] for i in group)
        for group in _groups(sweep)
    )


def estimate_chapters(
    cfgs: Iterable[ChapterConfig],
    cache_root: Path | None = None,
    log: Callable[[str], None] | None = None,
) -> list[ChapterEstimate]:
    """Estimates of several chapters of one run or build (shared sweeps counted once);
    ``log`` is told when timing the steps takes a while."""
    from ..engine.cache import Cache

    cache = Cache(cache_root)
    costs = StepCosts(cache.root, Machine.here())
    costs.log = log
    seen: set[str] = set()
    return [estimate_chapter(cfg, cache, costs, seen) for cfg in cfgs]


# --------------------------------------------------------------------------- refusal


def _drivers(cfg: ChapterConfig) -> str:
    parts = []
    for name in DRIVERS:
        if name in cfg:
            value = cfg[name]
            text = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else value
            parts.append(f"{name} = {text}")
    return ", ".join(parts)


def check_max_hours(
    estimate: ChapterEstimate, cfg: ChapterConfig, option: str = "-p max_hours"
) -> None:
    """Refuse (one :class:`ParameterError`) an estimate above ``cfg.max_hours``; the
    message says to raise it with ``option`` (``--max-hours`` in a build)."""
    if "max_hours" not in cfg or estimate.seconds <= cfg.max_hours * 3600:
        return
    worst = max(estimate.to_train, key=lambda s: s.seconds)
    smaller = {"paper": "quick", "quick": "smoke"}.get(cfg.profile)
    ways = ["run on a GPU"]
    if smaller:
        ways.append(f"a smaller profile (--profile {smaller})")
    ways.append(f"{option} {math.ceil(estimate.seconds / 3600 * 1.2)} to accept it")
    gpu = (
        f"; ~{duration(estimate.gpu_seconds)} on a GPU at the last measured rate"
        if estimate.gpu_seconds is not None
        else ""
    )
    raise ParameterError(
        f"parameter 'max_hours': {cfg.chapter} (profile {cfg.profile}) needs an estimated "
        f"~{duration(estimate.seconds)} of training on {estimate.machine.label}{gpu}, above "
        f"max_hours = {cfg.max_hours:g}: {len(estimate.to_train)} sweeps to train, "
        f"{estimate.model_steps:,} model-steps, the largest {worst.label} "
        f"({worst.instances} x {worst.model_steps // max(worst.instances, 1):,} steps, "
        f"{worst.sizes}: ~{duration(worst.seconds)}); driven by {_drivers(cfg)}; "
        f"ways out: {', '.join(ways)}"
    )
