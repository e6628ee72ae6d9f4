"""Simulated readout error of the hand-coded circuits (paper 004 section 6.2), by forward
passes of the constructed networks.

For one network (a seed) and each input sub-case ``(v_i, v_j)`` we draw ``pairs`` random
pairs ``(i, j)`` and, for each, ``samples`` inputs with exactly ``s`` ones that put the pair
in that sub-case (the other ones uniformly among the remaining ``m - 2`` inputs). Each input
runs through the whole compute layer (every neuron) and the pair's readout row; the readout
mean and variance per sub-case are pooled over pairs and inputs, which estimates the
network's expected error over all its pairs. Both circuits see the same pairs and inputs
(common random numbers), so their difference is paired.

A :class:`ReadoutSim` is one batched run at one ``(m, d)`` over every ``(s, seed)`` instance
(s-major), cached by its full configuration; :func:`readout_grid` runs a grid of them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..engine.cache import Cache
from ..engine.device import resolve_device
from ..engine.seeding import Stream, make_generator
from .constructions import (
    BinaryCircuit,
    build_model,
    cis_circuit,
    dense_circuit,
    draw_is_u,
    neuron_classes,
)
from .tasks import pair_indices
from .variance import SUBCASES, readout_weights

CHUNK_ELEMENTS = 1 << 22
"""Largest number of neuron activations held at once (bounds memory, about 16 MB each)."""


@dataclass(frozen=True)
class ReadoutSim:
    """Simulations of both circuits at one ``(m, d)`` for every ``(s, seed)`` instance.

    ``pairs`` random pairs per instance and sub-case, ``samples`` inputs per pair; the dense
    circuit has weights ``u = dense_u`` or ``dense_w`` and bias ``dense_b``."""

    m: int
    d: int
    s_values: tuple[int, ...]
    seeds: tuple[int, ...]
    pairs: int
    samples: int
    dense_u: float
    dense_w: float
    dense_b: float

    def instances(self) -> list[tuple[int, int]]:
        return [(s, seed) for s in self.s_values for seed in self.seeds]

    def config(self) -> dict:
        return {"kind": "uand_readout_sim", **dataclasses.asdict(self)}

    def circuits(self) -> dict[str, BinaryCircuit]:
        return {
            "cis": cis_circuit(self.m, self.d),
            "dense": dense_circuit(self.dense_u, self.dense_w, self.dense_b),
        }


def _sample_inputs(
    m: int, s: int, pairs: int, samples: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random pairs ``i, j: (pairs,)`` and active inputs ``(4, pairs, samples, s)`` putting each
    pair in sub-case 00, 01, 10, 11."""
    first = torch.randint(m, (pairs,), generator=generator)
    second = (first + 1 + torch.randint(m - 1, (pairs,), generator=generator)) % m
    active = []
    for vi, vj in SUBCASES:
        keys = torch.rand((pairs, samples, m), generator=generator)
        keys.scatter_(2, first[:, None, None].expand(-1, samples, 1), -1.0)
        keys.scatter_(2, second[:, None, None].expand(-1, samples, 1), -1.0)
        others = keys.topk(s - vi - vj, dim=2).indices
        own = [
            t[:, None, None].expand(-1, samples, 1) for t, on in ((first, vi), (second, vj)) if on
        ]
        active.append(torch.cat([*own, others], dim=2))
    return first, second, torch.stack(active)


def _readout_rows(is_u: torch.Tensor, i: torch.Tensor, j: torch.Tensor, beta: torch.Tensor):
    """``(pairs, d)`` readout rows ``beta_c / N_c(i, j)`` of one network ``is_u: (d, m)``."""
    classes = neuron_classes(is_u[None], i[None], j[None])[0]  # (pairs, d)
    one_hot = torch.nn.functional.one_hot(classes, 4).float()
    counts = one_hot.sum(dim=1, keepdim=True).clamp(min=1.0)  # (pairs, 1, 4)
    return (one_hot * beta.float() / counts).sum(dim=2)


def readout_outputs(
    circuit: BinaryCircuit,
    is_u: torch.Tensor,
    beta: torch.Tensor,
    i: torch.Tensor,
    j: torch.Tensor,
    active: torch.Tensor,
) -> torch.Tensor:
    """Readout ``(pairs, samples)`` of pair ``(i[q], j[q])`` of one network ``is_u: (d, m)``
    on the inputs ``active: (pairs, samples, s)`` (indices of the inputs that are on).

    The pre-activations ``b + sum_{k active} W_k`` come from one ``embedding_bag`` over the
    rows of ``W^T`` plus a bias row that every input includes. Neurons whose readout weight
    is zero for every pair of a chunk (most of them in the sparse CiS circuit) are left out:
    they do not change the outputs."""
    d, m = is_u.shape
    device = is_u.device
    weights = torch.where(is_u.T, circuit.u, circuit.w).float()  # (m, d)
    table = torch.cat([weights, torch.full((1, d), circuit.b, device=device)])  # row m: bias
    rows = _readout_rows(is_u, i, j, beta.to(device))  # (pairs, d)
    pairs, samples, s = active.shape
    bias_index = torch.full((pairs, samples, 1), m, dtype=active.dtype, device=device)
    bags = torch.cat([active, bias_index], dim=2)
    chunk = max(1, CHUNK_ELEMENTS // (d * samples))
    outputs = []
    for start in range(0, pairs, chunk):
        read = rows[start : start + chunk]  # (q, d)
        used = read.ne(0).any(dim=0).nonzero()[:, 0]
        block = bags[start : start + chunk]
        q = block.shape[0]
        pre = torch.nn.functional.embedding_bag(
            block.reshape(-1, s + 1), table[:, used].contiguous(), mode="sum"
        )
        hidden = torch.relu_(pre).view(q, samples, len(used))
        outputs.append(torch.bmm(hidden, read[:, used, None])[..., 0])
    return torch.cat(outputs)


def simulate_instance(
    circuit: BinaryCircuit,
    is_u: torch.Tensor,
    beta: torch.Tensor,
    i: torch.Tensor,
    j: torch.Tensor,
    active: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Readout mean and variance ``(4,)`` per sub-case of one network ``is_u: (d, m)`` on the
    inputs ``active: (4, pairs, samples, s)``, pooled over pairs and samples (float64)."""
    means, variances = torch.zeros(4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64)
    for case in range(4):
        y = readout_outputs(circuit, is_u, beta, i, j, active[case]).double()
        means[case] = y.mean().cpu()
        variances[case] = (y - y.mean()).square().mean().cpu()
    return means, variances


def simulate(sim: ReadoutSim, device: torch.device | str | None = None) -> dict[str, torch.Tensor]:
    """``{"<circuit>_mean", "<circuit>_var"}``: ``(K, 4)`` readout mean and variance per
    instance (s-major) and sub-case, for ``cis`` and ``dense``. Weights and inputs are drawn
    on the CPU (the same on every device); the forward passes run on ``device`` (default:
    the default device)."""
    device = resolve_device(device)
    out: dict[str, torch.Tensor] = {}
    for name, circuit in sim.circuits().items():
        draws = draw_is_u(sim.seeds, sim.m, sim.d, circuit.q).to(device)  # (seeds, d, m)
        means, variances = [], []
        for s, seed in sim.instances():
            generator = make_generator(seed, Stream.EVAL, part=s)
            i, j, active = (
                t.to(device) for t in _sample_inputs(sim.m, s, sim.pairs, sim.samples, generator)
            )
            beta = readout_weights(circuit, s)
            mean, var = simulate_instance(circuit, draws[sim.seeds.index(seed)], beta, i, j, active)
            means.append(mean)
            variances.append(var)
        out[f"{name}_mean"] = torch.stack(means)
        out[f"{name}_var"] = torch.stack(variances)
    return out


def run_readout_sim(sim: ReadoutSim, cache: Cache | None = None) -> dict[str, torch.Tensor]:
    """:func:`simulate`, loaded from ``cache`` when this configuration ran before."""
    if cache is None:
        return simulate(sim)
    return cache.get_or_compute(sim.config(), lambda checkpointer: simulate(sim))


@dataclass(frozen=True)
class ReadoutGrid:
    """Simulated readout moments over a grid: ``mean``/``var`` of each circuit as tensors
    ``(len(ms), len(ds), len(s_values), len(seeds), 4)``."""

    ms: tuple[int, ...]
    ds: tuple[int, ...]
    s_values: tuple[int, ...]
    seeds: tuple[int, ...]
    moments: dict[str, torch.Tensor]


def readout_grid(
    ms: Sequence[int],
    ds: Sequence[int],
    s_values: Sequence[int],
    seeds: Sequence[int],
    pairs: int,
    samples: int,
    dense: tuple[float, float, float],
    cache: Cache | None = None,
) -> ReadoutGrid:
    """One cached :class:`ReadoutSim` per ``(m, d)``, assembled into a :class:`ReadoutGrid`."""
    shape = (len(s_values), len(seeds), 4)
    moments: dict[str, list] = {}
    for m in ms:
        for d in ds:
            sim = ReadoutSim(m, d, tuple(s_values), tuple(seeds), pairs, samples, *dense)
            for key, value in run_readout_sim(sim, cache).items():
                moments.setdefault(key, []).append(value.view(shape))
    stacked = {
        key: torch.stack(values).view(len(ms), len(ds), *shape) for key, values in moments.items()
    }
    return ReadoutGrid(tuple(ms), tuple(ds), tuple(s_values), tuple(seeds), stacked)


@torch.no_grad()
def model_agreement(
    m: int, d: int, s: int, dense: tuple[float, float, float], samples: int, seed: int = 0
) -> float:
    """Largest ``|model output - simulator output|`` of both circuits at ``(m, d, s)``: each
    built as a ``UniversalAND`` (full readout matrix) and run through its forward pass on
    the simulator's inputs of every sub-case, against :func:`readout_outputs`."""
    worst = 0.0
    for circuit in (cis_circuit(m, d), dense_circuit(*dense)):
        is_u = draw_is_u([seed], m, d, circuit.q)
        beta = readout_weights(circuit, s)
        model = build_model(circuit, is_u, beta[None])
        generator = make_generator(seed, Stream.EVAL, part=1000 + s)
        i, j, active = _sample_inputs(m, s, samples, 1, generator)
        for case in range(4):
            simulated = readout_outputs(circuit, is_u[0], beta, i, j, active[case])[:, 0]
            v = torch.zeros(samples, m).scatter_(1, active[case, :, 0], 1.0)
            table = torch.full((m, m), -1, dtype=torch.long)
            table[pair_indices(m)[:, 0], pair_indices(m)[:, 1]] = torch.arange(m * (m - 1) // 2)
            index = table[torch.minimum(i, j), torch.maximum(i, j)]
            outputs = model(v[None])[0].gather(1, index[:, None])[:, 0]
            worst = max(worst, float((outputs - simulated).abs().max()))
    return worst
