"""CPU time per model-step of the CC step before issue 15 against the new one: one thread,
interleaved blocks in one process, process time rather than wall time, so that other jobs
on a shared machine disturb the ratio little.

Run: ``.venv/bin/python benchmarks/step_cpu_compare.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baseline_sparse_step import SparseStep as BaselineStep  # noqa: E402
from speed import cc_setup  # noqa: E402

from cclib.compressed.sparse_training import SparseStep  # noqa: E402


def cpu_ms_per_model_step(instances: int, blocks: int = 5, steps: int = 10) -> dict:
    """Median CPU milliseconds per model-step of each step (sampling, gradients, AdamW)."""
    runs = {}
    for name in ("before", "new"):
        model, task, generators, optimiser = cc_setup(instances, 100, 50, 0.01)
        if name == "before":
            step = BaselineStep(model, task, 2048)
        else:
            step = SparseStep(model, task, 2048, workers=1)
        runs[name] = (step, generators, optimiser)
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(blocks + 1):  # the first block warms up
        for name, (step, generators, optimiser) in runs.items():
            start = time.process_time()
            for _ in range(steps):
                step(generators)
                optimiser.step()
            times[name].append(1e3 * (time.process_time() - start) / steps / instances)
    return {name: statistics.median(values[1:]) for name, values in times.items()}


if __name__ == "__main__":
    torch.set_num_threads(1)
    for k in (1, 16, 82):
        ms = cpu_ms_per_model_step(k)
        gain = ms["before"] / ms["new"]
        print(f"K={k:>3}: before {ms['before']:.3f}, new {ms['new']:.3f} ms, gain {gain:.2f}x")
