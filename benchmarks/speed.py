"""Training speed of the CC and Universal-AND trainers against straightforward loops.

Run: ``.venv/bin/python benchmarks/speed.py`` (``--help`` for sizes). Prints one table and
writes the same figures to ``benchmarks/latest.json``:

- CC trainer (paper 000 settings n=100, d=50, B=2048, p=0.01): ms per model-step of
  ``train``'s chosen step (sparse on the CPU) and of its batched dense autograd step, at
  K = 1, 16 and 82 instances, against a straightforward one-model loop (dense mask,
  einsum, autograd, ``torch.optim.AdamW``, ``loss.item()`` every step) timed in the same
  process, and against the step before issue 15 (``benchmarks/baseline_sparse_step.py``);
  the speed-up ratios; achieved GFLOP/s of the arithmetic the new step needs
  (:func:`needed_gflop`, a closed form at Bernoulli-p) against a square-matmul peak
  measured in the same run;
- sampler throughput at p = 0.001, 0.01, 0.1 and 1 (sparse entries against a dense mask);
- Universal-AND (paper 004) step time and peak memory at a quick and a paper size, against
  a straightforward one-model loop;
- each chapter's wall time read from the latest build (``_build/executed``, else the
  latest runs in ``_build/runs``).

Timings are medians of repeated blocks; on a shared machine they are noisy.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import resource
import statistics
import time
from pathlib import Path

import torch

from cclib.compressed.experiments import CCInstance, MLPSweep, build_mlp_task
from cclib.compressed.models import MLP
from cclib.compressed.sparse_training import SparseStep
from cclib.engine.optim import InstanceAdamW, ParamGroup, cosine_schedule
from cclib.engine.sampling import sparse_uniform_entries
from cclib.engine.seeding import Stream, make_generator
from cclib.engine.training import TrainConfig, intra_op_threads
from cclib.universal_and.models import UniversalAND
from cclib.universal_and.tasks import UniversalANDTask, case_weights, pair_indices

ROOT = Path(__file__).resolve().parent.parent


def median_ms(block, steps: int, repeats: int) -> float:
    """Median over ``repeats`` blocks of the milliseconds per call of ``block``."""
    block()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            block()
        times.append(1000 * (time.perf_counter() - start) / steps)
    return statistics.median(times)


def matmul_peak_gflops(size: int = 1024, repeats: int = 5) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    ms = median_ms(lambda: a @ b, 3, repeats)
    return 2 * size**3 / ms / 1e6


# --------------------------------------------------------------------------- CC model


def cc_setup(instances: int, n: int, d: int, p: float):
    sweep = MLPSweep(
        tuple(CCInstance(seed=k, p=p, mixing="gaussian", sigma=0.02) for k in range(instances)),
        TrainConfig(),
        n=n,
        d=d,
    )
    model, task = MLP.init(range(instances), n, d), build_mlp_task(sweep)
    generators = [make_generator(k, Stream.DATA) for k in range(instances)]
    optimiser = InstanceAdamW(
        [ParamGroup(list(model.parameters()), 0.01)], cosine_schedule(3e-3, [10**6] * instances)
    )
    return model, task, generators, optimiser


def cc_step_ms(instances, n, d, batch, p, path, steps, repeats) -> float:
    """Milliseconds per model-step of one ``train`` step (sampling, loss, gradients, AdamW)."""
    model, task, generators, optimiser = cc_setup(instances, n, d, p)
    if path == "baseline":  # the step before issue 15, timed beside the new one
        from baseline_sparse_step import SparseStep as BaselineStep

        sparse = BaselineStep(model, task, batch)
    else:
        sparse = SparseStep(model, task, batch)

    def block():
        if path in ("sparse", "baseline"):
            sparse(generators)
        else:
            x = task.sample(generators, batch)
            loss = task.loss(model(x), x)
            optimiser.zero_grad()
            loss.sum().backward()
        optimiser.step()

    # as in ``train``: the new step's loop runs with one intra-op thread (its own workers)
    with intra_op_threads(1 if path == "sparse" else None):
        return median_ms(block, steps, repeats) / instances


def cc_reference_ms(n, d, batch, p, steps, repeats) -> float:
    """A straightforward one-model loop: dense mask, einsum, autograd, ``loss.item()``."""
    generator = make_generator(0, Stream.DATA)
    w_in = (torch.rand(d, n, generator=generator) * 2 - 1).div_(math.sqrt(n)).requires_grad_()
    w_out = (torch.rand(n, d, generator=generator) * 2 - 1).div_(math.sqrt(d)).requires_grad_()
    mixing = 0.02 * torch.randn(n, n, generator=generator)
    optimiser = torch.optim.AdamW([w_in, w_out], lr=3e-3, weight_decay=0.01)

    def block():
        mask = torch.rand(batch, n, generator=generator) < p
        x = torch.where(mask, torch.rand(batch, n, generator=generator) * 2 - 1, 0.0)
        y = torch.einsum("nd,bd->bn", w_out, torch.relu(torch.einsum("dn,bn->bd", w_in, x)))
        target = torch.relu(x) + torch.einsum("ij,bj->bi", mixing, x)
        loss = (y - target).square().mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        loss.item()

    return median_ms(block, steps, repeats)


def needed_gflop(n, d, batch, p) -> float:
    """Arithmetic one model-step of the sparse step needs (``cclib.compressed.
    sparse_training``), in GFLOP: per instance ``G = U^T U``, ``A = U^T M``, ``G [P|N]``,
    ``[P|N] V [P|N]^T``, ``M S`` and ``U (H^T H)`` (``4 n^2 d + 9 n d^2`` after merging
    terms), and per multi-feature row ``G h`` and its share of ``H^T H`` (``4 d^2``), plus
    four bags of ``2 d`` per entry of such rows. Expected counts at Bernoulli-``p``."""
    single = n * p * (1 - p) ** (n - 1)
    multi_rows = batch * (1 - (1 - p) ** n - single)
    multi_entries = batch * (n * p - single)
    per_instance = 4 * n * n * d + 9 * n * d * d
    return (per_instance + 4 * d * d * multi_rows + 8 * d * multi_entries) / 1e9


def baseline_needed_gflop(n, d, batch, p) -> float:
    """What the step before issue 15 counted as needed: the output layer and its two
    gradient products on the expected non-empty rows."""
    return 3 * 2 * batch * (1 - (1 - p) ** n) * n * d / 1e9


def sampler_ms(p, n, batch, repeats) -> dict:
    generator = make_generator(0, Stream.DATA)
    sparse = median_ms(lambda: sparse_uniform_entries(batch, n, p, generator), 10, repeats)

    def dense():
        mask = torch.rand(batch, n, generator=generator) < p
        return torch.where(mask, torch.rand(batch, n, generator=generator) * 2 - 1, 0.0)

    mask = median_ms(dense, 10, repeats)
    return {"p": p, "sparse_ms": sparse, "dense_mask_ms": mask, "speedup": mask / sparse}


# --------------------------------------------------------------------------- Universal-AND


def _ua_worker(kind, m, d, s, batch, steps, repeats, queue) -> None:
    torch.set_num_threads(torch.get_num_threads())
    if kind == "train":
        model, task = UniversalAND.init([0], m, d), UniversalANDTask(m, s, 1)
        generators = [make_generator(0, Stream.DATA)]
        optimiser = InstanceAdamW(
            [ParamGroup(list(model.parameters()), 0.01)], cosine_schedule(1e-3, [10**6])
        )

        def block():
            v = task.sample(generators, batch)
            loss = task.loss(model(v), v)
            optimiser.zero_grad()
            loss.sum().backward()
            optimiser.step()
    else:  # straightforward one-model loop
        generator = make_generator(0, Stream.DATA)
        pairs = pair_indices(m)
        weights = case_weights(m, s)
        w = torch.nn.Linear(m, d)
        r = torch.nn.Linear(d, len(pairs))
        optimiser = torch.optim.AdamW([*w.parameters(), *r.parameters()], 1e-3)

        def block():
            keys = torch.rand(batch, m, generator=generator)
            v = torch.zeros(batch, m).scatter_(1, keys.topk(s, dim=1).indices, 1.0)
            labels = v[:, pairs[:, 0]] * v[:, pairs[:, 1]]
            cases = (v[:, pairs[:, 0]] + v[:, pairs[:, 1]]).long()
            loss = (weights[cases] * (r(torch.relu(w(v))) - labels).square()).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            loss.item()

    ms = median_ms(block, steps, repeats)
    queue.put((ms, _peak_rss_mib()))


def _peak_rss_mib() -> float:
    """Peak resident memory of this process (``VmHWM``; ``ru_maxrss`` would carry the
    parent's peak over the spawn on Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ua_step(kind, m, d, s, batch, steps, repeats) -> tuple[float, float]:
    """(ms per step, peak resident memory in MiB of a fresh process running it, torch and
    cclib included)."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_ua_worker, args=(kind, m, d, s, batch, steps, repeats, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


# --------------------------------------------------------------------------- chapters


def chapter_wall_times() -> dict:
    """Seconds per chapter from papermill's metadata of the latest build (or runs)."""
    executed = sorted((ROOT / "_build" / "executed").glob("*.ipynb"))
    source = "build"
    if not executed:
        runs = sorted((ROOT / "_build" / "runs").glob("*/*.ipynb"), key=lambda f: f.stat().st_mtime)
        executed, source = runs, "runs"
    times = {}
    for notebook in (f for f in executed if not f.name.endswith(".partial.ipynb")):
        try:
            meta = json.loads(notebook.read_text())["metadata"].get("papermill", {})
        except (OSError, ValueError, KeyError):
            continue
        name = notebook.stem if source == "build" else f"{notebook.parent.name}/{notebook.stem}"
        if meta.get("duration") is not None:
            times[name] = round(float(meta["duration"]), 1)
    return {"source": source, "seconds": times}


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 16, 82])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--d", type=int, default=50)
    parser.add_argument("--batch", type=int, default=2048)
    parser.add_argument("--p", type=float, default=0.01)
    parser.add_argument("--steps", type=int, default=20, help="steps per timed block")
    parser.add_argument("--repeats", type=int, default=3, help="timed blocks (median)")
    parser.add_argument(
        "--ua-sizes",
        default="quick:20:64:3:1024,paper:100:1000:3:1024",
        help="Universal-AND sizes name:m:d:s:batch, comma-separated",
    )
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "latest.json")
    args = parser.parse_args()

    threads = torch.get_num_threads()
    print(f"torch {torch.__version__}, CPU threads {threads} (shared machines: timings are noisy)")
    peak = matmul_peak_gflops()
    print(f"square matmul peak (1024^3): {peak:.1f} GFLOP/s")
    reference = cc_reference_ms(args.n, args.d, args.batch, args.p, args.steps, args.repeats)
    flop = needed_gflop(args.n, args.d, args.batch, args.p)
    old_flop = baseline_needed_gflop(args.n, args.d, args.batch, args.p)
    print(
        f"\nCC trainer, n={args.n} d={args.d} B={args.batch} p={args.p}; straightforward "
        f"one-model loop: {reference:.3f} ms/step; needed work {flop * 1e3:.1f} MFLOP/model-step "
        f"(the step before issue 15 needed {old_flop * 1e3:.1f})"
    )
    print(
        f"{'K':>4} {'sparse ms':>10} {'before ms':>10} {'gain':>7} {'dense ms':>10} "
        f"{'vs loop':>8} {'vs dense':>9} "
        f"{'GFLOP/s':>8} {'% peak':>7}"
    )
    cc = []
    for k in args.instances:
        sparse = cc_step_ms(
            k, args.n, args.d, args.batch, args.p, "sparse", args.steps, args.repeats
        )
        dense = cc_step_ms(k, args.n, args.d, args.batch, args.p, "dense", args.steps, args.repeats)
        baseline = cc_step_ms(
            k, args.n, args.d, args.batch, args.p, "baseline", args.steps, args.repeats
        )
        row = {
            "instances": k,
            "sparse_ms_per_model_step": sparse,
            "baseline_ms_per_model_step": baseline,
            "speedup_vs_baseline": baseline / sparse,
            "dense_ms_per_model_step": dense,
            "reference_ms_per_step": reference,
            "speedup_vs_reference": reference / sparse,
            "speedup_vs_dense": dense / sparse,
            "achieved_gflops": flop / sparse * 1e3,
            "fraction_of_peak": flop / sparse * 1e3 / peak,
        }
        cc.append(row)
        print(
            f"{k:>4} {sparse:>10.3f} {baseline:>10.3f} {baseline / sparse:>6.2f}x "
            f"{dense:>10.3f} {reference / sparse:>7.1f}x "
            f"{dense / sparse:>8.1f}x {row['achieved_gflops']:>8.1f} "
            f"{100 * row['fraction_of_peak']:>6.1f}%"
        )

    print(f"\nsampler, batch ({args.batch}, {args.n}): ms per batch")
    print(f"{'p':>7} {'sparse':>8} {'mask':>8} {'ratio':>6}")
    samplers = [sampler_ms(p, args.n, args.batch, args.repeats) for p in (0.001, 0.01, 0.1, 1.0)]
    for row in samplers:
        print(
            f"{row['p']:>7} {row['sparse_ms']:>8.3f} {row['dense_mask_ms']:>8.3f} "
            f"{row['speedup']:>5.1f}x"
        )

    print("\nUniversal-AND (one model): ms per step and peak memory of a fresh process")
    print(
        f"{'size':>6} {'m':>4} {'d':>5} {'s':>2} {'B':>5} {'trainer':>9} {'loop':>9} "
        f"{'ratio':>6} {'peak MiB':>9}"
    )
    ua = []
    for spec in args.ua_sizes.split(","):
        name, m, d, s, batch = spec.split(":")
        m, d, s, batch = int(m), int(d), int(s), int(batch)
        trainer_ms, trainer_mib = ua_step("train", m, d, s, batch, args.steps, args.repeats)
        loop_ms, _ = ua_step("reference", m, d, s, batch, args.steps, args.repeats)
        ua.append(
            {
                "size": name,
                "m": m,
                "d": d,
                "s": s,
                "batch": batch,
                "trainer_ms_per_step": trainer_ms,
                "reference_ms_per_step": loop_ms,
                "speedup_vs_reference": loop_ms / trainer_ms,
                "trainer_peak_rss_mib": trainer_mib,
            }
        )
        print(
            f"{name:>6} {m:>4} {d:>5} {s:>2} {batch:>5} {trainer_ms:>9.2f} {loop_ms:>9.2f} "
            f"{loop_ms / trainer_ms:>5.1f}x {trainer_mib:>9.0f}"
        )

    chapters = chapter_wall_times()
    print(f"\nchapter wall times (latest {chapters['source']}):")
    for name, seconds in chapters["seconds"].items():
        print(f"  {name:<32} {seconds:>8.1f} s")

    result = {
        "torch": torch.__version__,
        "threads": threads,
        "matmul_peak_gflops": peak,
        "cc": {
            "n": args.n,
            "d": args.d,
            "batch": args.batch,
            "p": args.p,
            "needed_mflop_per_model_step": flop * 1e3,
            "baseline_needed_mflop_per_model_step": old_flop * 1e3,
            "rows": cc,
        },
        "sampler": samplers,
        "universal_and": ua,
        "chapters": chapters,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2))
    print(f"\nwrote {args.output}")


if __name__ == "__main__":
    main()
