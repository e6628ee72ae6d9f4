"""The residual model equals its mapped MLP plus M = I - W_E^T W_E; spectrum theory."""

from __future__ import annotations

import math

import numpy as np
import torch

from cclib.compressed import equivalence
from cclib.compressed.experiments import (
    CCInstance,
    MLPSweep,
    ResidualSweep,
    build_mlp_task,
    init_residual,
)
from cclib.compressed.mixing import embedding_induced
from cclib.engine.sampling import sparse_uniform
from cclib.engine.seeding import Stream, make_generator
from cclib.engine.training import TrainConfig

TRAIN = TrainConfig(steps=2, batch_size=8)


def _residual(n=12, width=40, d=5):
    sweep = ResidualSweep(
        seeds=(0, 1), embedding_seeds=(3, 3), p=0.5, train=TRAIN, n=n, d=d, width=width
    )
    return sweep, init_residual(sweep)


def test_output_gap_zero_for_derived_sign_and_large_for_the_other():
    sweep, model = _residual()
    x = sparse_uniform(64, sweep.n, 1.0, make_generator(0, Stream.EVAL)).expand(2, 64, sweep.n)
    m = embedding_induced(model.w_e.double())  # M of the very W_E the model holds, in float64
    assert equivalence.output_gap(model, m, x, torch.float64) < 1e-12
    assert equivalence.output_gap(model, m, x, torch.float32) < 1e-5
    assert equivalence.output_gap(model, -m, x, torch.float64) > 1e-2


def test_task_mixing_of_embedding_instance_is_the_residual_models():
    sweep, model = _residual()
    mlp = MLPSweep(
        instances=(CCInstance(seed=0, p=0.5, mixing="embedding", mixing_seed=3),),
        train=TRAIN,
        n=sweep.n,
        d=sweep.d,
        width=sweep.width,
    )
    task = build_mlp_task(mlp)
    assert torch.allclose(task.scale[0] * task.mixing[0], model.equivalent_mixing()[0], atol=1e-6)


def test_residual_and_task_mixing_bit_identical_with_two_threads():
    """The equivalence chapter compares the two with torch.equal: both take one code path
    for M, so a multi-threaded BLAS cannot make batched and per-instance products differ."""
    sweep, model = _residual(n=100, width=1000)
    instances = tuple(CCInstance(seed=s, p=0.5, mixing="embedding", mixing_seed=3) for s in (0, 1))
    mlp = MLPSweep(instances=instances, train=TRAIN, n=100, d=sweep.d, width=1000)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        task = build_mlp_task(mlp)
        assert torch.equal(task.scale[:, None, None] * task.mixing, model.equivalent_mixing())
    finally:
        torch.set_num_threads(threads)


def test_marchenko_pastur_density_integrates_to_one_and_theory():
    lo, hi = equivalence.marchenko_pastur_edges(0.1)
    lam = np.linspace(lo, hi, 400_001)
    assert abs(np.trapezoid(equivalence.marchenko_pastur_density(lam, 0.1), lam) - 1) < 1e-3
    theory = equivalence.mixing_spectrum_theory(100, 1000)
    assert math.isclose(theory.eig_max, 1 - (1 - math.sqrt(0.1)) ** 2)
    assert math.isclose(theory.offdiag_std, 1000**-0.5)
    assert 50 < theory.n_positive < 57  # MP is right-skewed: its median lies below its mean 1


def test_embedding_spectra_and_differences():
    spectra = equivalence.embedding_spectra(20, 200, [0, 1])
    assert (
        spectra.shape == (2, 20) and float(spectra.sum(dim=1).abs().max()) < 1e-5
    )  # trace M = 0 (float32 embedding)
    mean, err = equivalence.paired_difference([1.0, 2.0, 3.0], [0.0, 1.0, 3.0])
    assert math.isclose(mean, 2 / 3) and err > 0
    mean, err = equivalence.unpaired_difference([1.0, 2.0], [0.0, 1.0])
    assert math.isclose(mean, 1.0) and math.isclose(err, math.sqrt(0.5))
