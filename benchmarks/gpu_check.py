"""GPU check kit: the CUDA-relevant checks of ccbook and its paper-profile timings, in one
command, writing one JSON file.

Run on a machine with a CUDA GPU (python3 and a CUDA build of torch are all it needs; numpy
too; the project's own code is imported from this checkout, nothing is installed)::

    python3 benchmarks/gpu_check.py                      # about 5 minutes on an H100/H200
    python3 benchmarks/gpu_check.py --smoke --device cpu # seconds, on any machine (tested)

It checks, each as ``{"ok": bool, ...}`` in the JSON:

- ``device``: the library chooses the GPU by itself (``cclib.engine.device``);
- ``losses_match_cpu``: a small sweep (sparse and dense inputs, a learned label scale, the
  embedding M) trained on the device equals the same sweep trained on the CPU's dense
  autograd path, with the same data (drawn on the CPU) and within float tolerance; the
  CPU's own hand-written step agrees within training noise;
- ``cache_round_trip``: a sweep trained on the device and cached loads on the CPU, and
  back on the device, with the same predictions;
- ``executor_gpu``: a Dask ``LocalCluster`` whose worker advertises a ``GPU`` resource
  trains the sweep's shards and gives the in-process result (skipped, and said so, when
  ``distributed`` is not installed);

then times, on the device:

- the mixing chapter's paper-profile sigma sweep (41 sigma x 2 kinds = 82 models, batch
  2048, p = 0.01, the paper's horizon of 15,774 steps; a few hundred steps are timed): ms
  per model-step, peak memory, and the whole sweep extrapolated;
- one Universal-AND model at the paper's size (m = 100, d = 10,000, s = 3, batch 2048):
  ms per step and peak memory;

and estimates the whole book's training time under the paper profile on this device
(``cclib.book.estimate``: each chapter's planned sweeps times step costs timed here).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the project's code, with no installation
os.environ.setdefault("CCBOOK_PROGRESS", "0")  # no progress bars in the kit's output

import torch  # noqa: E402

from cclib.compressed import experiments as ex  # noqa: E402
from cclib.compressed.tasks import ReluMixingTask  # noqa: E402
from cclib.engine.cache import Cache  # noqa: E402
from cclib.engine.device import resolve_device  # noqa: E402
from cclib.engine.seeding import Stream, make_generator  # noqa: E402
from cclib.engine.training import TrainConfig, train  # noqa: E402

#: Paper 000's sigma sweep: 41 sigma values (0 to 0.08) x 2 kinds at p = 0.01.
SIGMA_POINTS, PAPER_HORIZON = 41, ex.nonempty_horizon(10_000, 0.01, 100)


class CpuDataTask(ReluMixingTask):
    """A ``ReluMixingTask`` that draws its inputs from CPU generators of the same seeds
    (then moves them to its device), so runs on two devices see the same data."""

    def __init__(self, task: ReluMixingTask, seeds: list[int]):
        super().__init__(
            task.mixing.clone(),
            task.p_values,
            task.scale.detach().tolist(),
            learn_scale=task.learn_values,
            active=task.active_values,
        )
        self.cpu_generators = [make_generator(s, Stream.DATA) for s in seeds]

    def sample(self, generators, batch):
        return super().sample(self.cpu_generators, batch)


def small_sweep(steps: int) -> ex.MLPSweep:
    instances = (
        ex.CCInstance(seed=0, p=0.01, mixing="gaussian", sigma=0.02),
        ex.CCInstance(seed=1, p=0.05, mixing="symmetric", sigma=0.03, learn_sigma=True),
        ex.CCInstance(seed=2, p=1.0, mixing="embedding"),
        ex.CCInstance(seed=3, p=0.02, mixing="clean", active=1),
    )
    return ex.MLPSweep(instances, TrainConfig(steps=steps, batch_size=256, lr=1e-2), n=40, d=12)


def _max_difference(a: dict, b: dict) -> float:
    return max(float((a[k].cpu() - b[k].cpu()).abs().max()) for k in a)


def check_device(device: torch.device) -> dict:
    chosen = resolve_device(None)
    info: dict[str, Any] = {"requested": str(device), "chosen_by_library": str(chosen)}
    if device.type == "cuda":
        info["ok"] = chosen.type == "cuda"
        props = torch.cuda.get_device_properties(device)
        info.update(name=props.name, memory_gb=round(props.total_memory / 2**30, 1))
        info["capability"] = f"{props.major}.{props.minor}"
    else:
        info["ok"] = chosen.type == "cpu" or not torch.cuda.is_available()
    return info


def _train(sweep: ex.MLPSweep, device, path: str, cpu_data: bool) -> tuple[dict, torch.Tensor]:
    seeds = [i.seed for i in sweep.instances]
    model, task = ex._build_mlp_shard(sweep, None, list(range(len(seeds))))
    if cpu_data:
        task = CpuDataTask(task, seeds)
    result = train(model, task, sweep.train, seeds, device=device, progress=False, path=path)
    state = {**model.state_dict(), **{f"task.{k}": v for k, v in task.state_dict().items()}}
    return {k: v.detach().cpu() for k, v in state.items()}, result.losses


def check_losses(device: torch.device, steps: int) -> dict:
    sweep = small_sweep(steps)
    on_device, device_losses = _train(sweep, device, "dense", cpu_data=True)
    on_cpu, cpu_losses = _train(sweep, "cpu", "dense", cpu_data=False)
    hand, hand_losses = _train(sweep, "cpu", "auto", cpu_data=False)
    loss_gap = float(((device_losses - cpu_losses).abs() / cpu_losses.abs()).max())
    weight_gap = _max_difference(on_device, on_cpu)
    hand_gap = float(((hand_losses - cpu_losses).abs() / cpu_losses.abs()).max())
    return {
        "ok": loss_gap < 1e-3 and weight_gap < 1e-3 and hand_gap < 1e-2,
        "steps": steps,
        "largest_relative_loss_difference": loss_gap,
        "largest_weight_difference": weight_gap,
        "hand_written_cpu_step_relative_loss_difference": hand_gap,
        "tolerances": {"loss": 1e-3, "weights": 1e-3, "hand_written": 1e-2},
    }


def check_cache(device: torch.device, steps: int) -> dict:
    sweep = small_sweep(steps)
    with tempfile.TemporaryDirectory() as root:
        trained = ex.run_mlp_sweep(sweep, Cache(root), device, description="gpu check")
        loaded = ex.run_mlp_sweep(sweep, Cache(root), "cpu", description="gpu check")
        on_cpu = ex.load_mlp(loaded)
        back = ex.load_mlp(loaded).to(device)
        x = torch.rand(
            len(sweep.instances), 64, sweep.n, generator=torch.Generator().manual_seed(0)
        )
        cpu_out = on_cpu(x)
        device_out = back(x.to(device)).cpu()
        gap = float((cpu_out - device_out).abs().max())
        same = _max_difference(trained.state, loaded.state)
    return {
        "ok": same == 0.0 and gap < 1e-4,
        "payload_difference": same,
        "prediction_difference_cpu_vs_device": gap,
    }


def check_executor(device: torch.device, steps: int) -> dict:
    try:
        import distributed  # noqa: F401
    except ImportError:
        return {"ok": None, "skipped": "the Dask package 'distributed' is not installed"}
    from distributed import Client, LocalCluster

    from cclib.engine import executor

    sweep = small_sweep(steps)
    with tempfile.TemporaryDirectory() as root:
        whole = ex.run_mlp_sweep(sweep, None, device)
        cluster = LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            resources={"GPU": 1},
        )
        try:
            with Client(cluster):
                os.environ[executor.ENV] = cluster.scheduler_address
                os.environ[executor.SHARD_ENV] = "2"
                sharded = ex.run_mlp_sweep(sweep, Cache(root), device)
        finally:
            os.environ.pop(executor.ENV, None)
            os.environ.pop(executor.SHARD_ENV, None)
            executor.close_client()
            cluster.close()
    gap = _max_difference(whole.state, sharded.state)
    return {"ok": gap < 1e-4, "shards": 2, "largest_weight_difference": gap}


def _peak_memory_gb(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    return round(torch.cuda.max_memory_allocated(device) / 2**30, 3)


def _time_steps(run: Callable[[int], Any], steps: int, device: torch.device) -> float:
    """Seconds per step of ``run(steps)`` after a warm-up of a few steps."""
    run(max(2, steps // 10))
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    run(steps)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return (time.perf_counter() - start) / steps


def time_sigma_sweep(device: torch.device, steps: int, points: int) -> dict:
    sigmas = [0.08 * i / (points - 1) for i in range(points)]
    instances = tuple(
        ex.CCInstance(seed=0, p=0.01, mixing=kind, sigma=sigma)
        for kind in ("gaussian", "symmetric")
        for sigma in sigmas
    )
    sweep = ex.MLPSweep(instances, TrainConfig(steps=10_000, batch_size=2048), n=100, d=50)
    model, task = ex._build_mlp_shard(sweep, None, list(range(len(instances))))
    seeds = [i.seed for i in instances]

    def run(count: int) -> None:
        train(
            model,
            task,
            sweep.train,
            seeds,
            [PAPER_HORIZON] * len(seeds),
            device=device,
            progress=False,
            total_steps=count,
        )

    seconds = _time_steps(run, steps, device)
    k = len(instances)
    return {
        "models": k,
        "batch": 2048,
        "p": 0.01,
        "timed_steps": steps,
        "ms_per_step": 1e3 * seconds,
        "ms_per_model_step": 1e3 * seconds / k,
        "peak_memory_gb": _peak_memory_gb(device),
        "paper_horizon_steps": PAPER_HORIZON,
        "whole_sweep_seconds": seconds * PAPER_HORIZON,
        "target_whole_sweep_seconds_h200": 10.0,
    }


def time_universal_and(device: torch.device, steps: int, m: int, d: int, s: int) -> dict:
    from cclib.universal_and.models import UniversalAND
    from cclib.universal_and.tasks import UniversalANDTask

    model, task = UniversalAND.init([0], m, d), UniversalANDTask(m, s, 1)
    config = TrainConfig(steps=10_000, batch_size=2048, lr=1e-3, weight_decay=0.01)

    def run(count: int) -> None:
        train(model, task, config, [0], [10_000], device=device, progress=False, total_steps=count)

    seconds = _time_steps(run, steps, device)
    return {
        "m": m,
        "d": d,
        "s": s,
        "batch": 2048,
        "timed_steps": steps,
        "ms_per_step": 1e3 * seconds,
        "peak_memory_gb": _peak_memory_gb(device),
        "target_ms_per_step_h200": 5.0,
    }


def book_estimate(device: torch.device, profile: str) -> dict:
    """The whole book's training time under ``profile`` on ``device``: each chapter's
    planned sweeps (``cclib.book.plans``) times step costs timed on the spot
    (``cclib.book.estimate``), in a fresh cache so that nothing counts as trained."""
    try:
        from cclib.book.estimate import estimate_chapters
        from cclib.book.plans import PLANNERS
        from cclib.book.specs import get_spec
    except ImportError as error:
        return {"ok": None, "skipped": f"cclib.book.estimate unavailable ({error})"}
    previous = os.environ.get("CCBOOK_DEVICE")
    os.environ["CCBOOK_DEVICE"] = str(device)
    try:
        with tempfile.TemporaryDirectory() as root:
            configs = [get_spec(name).resolve(profile) for name in PLANNERS]
            estimates = estimate_chapters(configs, cache_root=Path(root))
    finally:
        if previous is None:
            os.environ.pop("CCBOOK_DEVICE", None)
        else:
            os.environ["CCBOOK_DEVICE"] = previous
    chapters = {
        e.chapter: {"training_seconds": round(e.seconds, 1), "model_steps": e.model_steps}
        for e in estimates
    }
    total = sum(e.seconds for e in estimates)
    return {"profile": profile, "training_seconds": round(total, 1), "chapters": chapters}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="default: cuda when present, else cpu")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: seconds on a CPU")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "gpu_check.json")
    parser.add_argument("--no-executor", action="store_true", help="skip the Dask check")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    smoke = args.smoke
    result: dict[str, Any] = {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "smoke": smoke,
    }
    started = time.perf_counter()
    checks: dict[str, Callable[[], dict]] = {
        "device": lambda: check_device(device),
        "losses_match_cpu": lambda: check_losses(device, 30 if smoke else 200),
        "cache_round_trip": lambda: check_cache(device, 10 if smoke else 50),
        "executor_gpu": lambda: (
            {"ok": None, "skipped": "--no-executor"}
            if args.no_executor
            else check_executor(device, 10 if smoke else 50)
        ),
        "sigma_sweep": lambda: time_sigma_sweep(
            device, 5 if smoke else 300, 3 if smoke else SIGMA_POINTS
        ),
        "universal_and_paper_size": lambda: (
            time_universal_and(device, 3, 20, 64, 3)
            if smoke
            else time_universal_and(device, 50, 100, 10_000, 3)
        ),
        "book_estimate": lambda: (
            {"ok": None, "skipped": "--smoke"} if smoke else book_estimate(device, "paper")
        ),
    }
    for name, check in checks.items():
        begin = time.perf_counter()
        try:
            result[name] = check()
        except Exception as error:  # a failed check is recorded, the others still run
            result[name] = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        result[name]["seconds"] = round(time.perf_counter() - begin, 2)
        print(f"{name}: {json.dumps(result[name])}", flush=True)
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["ok"] = all(v.get("ok") is not False for v in result.values() if isinstance(v, dict))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.output} (all checks ok: {result['ok']}, {result['seconds']} s)")
    return result


if __name__ == "__main__":
    sys.exit(0 if main()["ok"] else 1)
