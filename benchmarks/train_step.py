"""Time one training step of batched MLP sweeps, and the sparse input sampler.

Run: ``python benchmarks/train_step.py [--device cpu|cuda] [--instances 1 8 64]``.
Prints milliseconds per step (median of repeated timed blocks) for the naive-baseline
chapter's model (n=100, d=50, batch 2048, p=0.01) at several instance counts, and the
sampler's cost on its sparse and dense paths. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from cclib.device import resolve_device
from cclib.experiments import CCInstance, MLPSweep, build_mlp_task
from cclib.models import MLP
from cclib.optim import InstanceAdamW, ParamGroup, cosine_schedule
from cclib.sampling import SPARSE_PATH_MAX_P, sparse_uniform
from cclib.seeding import Stream, make_generator
from cclib.training import TrainConfig


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_steps(instances: int, device: torch.device, batch: int, steps: int, repeats: int) -> float:
    """Median milliseconds per training step for ``instances`` MLPs trained together."""
    sweep = MLPSweep(
        tuple(CCInstance(seed=k, p=0.01) for k in range(instances)), TrainConfig(batch_size=batch)
    )
    model, task = (
        MLP.init(range(instances), sweep.n, sweep.d).to(device),
        build_mlp_task(sweep).to(device),
    )
    generators = [make_generator(k, Stream.DATA, device) for k in range(instances)]
    optimiser = InstanceAdamW(
        [ParamGroup(list(model.parameters()), 0.01)],
        cosine_schedule(3e-3, [10**6] * instances, device),
    )

    def block() -> float:
        _sync(device)
        start = time.perf_counter()
        for _ in range(steps):
            x = task.sample(generators, batch)
            loss = task.loss(model(x), x)
            optimiser.zero_grad()
            loss.sum().backward()
            optimiser.step()
        _sync(device)
        return 1000 * (time.perf_counter() - start) / steps

    block()  # warm-up
    return statistics.median(block() for _ in range(repeats))


def time_sampler(p: float, device: torch.device, batch: int, repeats: int = 50) -> float:
    generator = make_generator(0, Stream.DATA, device)
    sparse_uniform(batch, 100, p, generator)
    _sync(device)
    start = time.perf_counter()
    for _ in range(repeats):
        sparse_uniform(batch, 100, p, generator)
    _sync(device)
    return 1000 * (time.perf_counter() - start) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None)
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--batch", type=int, default=2048)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    device = resolve_device(args.device)
    print(f"device: {device}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    for k in args.instances:
        ms = time_steps(k, device, args.batch, args.steps, args.repeats)
        print(f"K={k:4d} instances: {ms:8.2f} ms/step  ({ms / k:.3f} ms per instance-step)")
    for p in (0.001, 0.01, SPARSE_PATH_MAX_P):
        print(
            f"sampler p={p:<6}: {time_sampler(p, device, args.batch):.3f} ms per ({args.batch}, 100) batch"
        )


if __name__ == "__main__":
    main()
