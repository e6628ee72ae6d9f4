"""Loss-vs-sigma analysis: parabola minimum, seed bootstrap, fall-then-rise."""

import numpy as np
import pytest

from cclib.compressed import analysis

SIGMAS = np.linspace(0.0, 0.08, 17)


def curve(center: float = 0.03, depth: float = 0.01, floor: float = 0.07) -> np.ndarray:
    return floor + depth * ((SIGMAS - center) / 0.03) ** 2


def test_parabola_minimum_exact_for_a_parabola():
    x, y = analysis.parabola_minimum(SIGMAS, curve(0.033), half_width=2)
    assert x == pytest.approx(0.033, abs=1e-12) and y == pytest.approx(0.07, abs=1e-12)


def test_parabola_minimum_at_the_edge_falls_back_to_the_lowest_point():
    y = np.linspace(1.0, 0.0, SIGMAS.size)  # decreasing: minimum at the last point
    assert analysis.parabola_minimum(SIGMAS, y) == (SIGMAS[-1], 0.0)


def test_optimum_recovers_the_center_and_errors_shrink_with_seeds():
    rng = np.random.default_rng(1)
    few = curve() + 0.002 * rng.standard_normal((3, SIGMAS.size))
    many = curve() + 0.002 * rng.standard_normal((30, SIGMAS.size))
    a = analysis.optimum(SIGMAS, few, replicates=400)
    b = analysis.optimum(SIGMAS, many, replicates=400)
    assert abs(b.sigma - 0.03) < 3 * b.sigma_err + 1e-3
    assert b.loss_err < a.loss_err and 0 < b.sigma_err < 0.01
    assert abs(b.loss - 0.07) < 4 * b.loss_err


def test_bootstrap_is_reproducible_and_includes_evaluation_noise():
    losses = np.tile(curve(), (4, 1))  # identical seeds: spread only from stderr
    quiet = analysis.bootstrap_curves(losses, replicates=50, seed=3)
    assert np.allclose(quiet, curve())
    noisy = analysis.bootstrap_curves(losses, stderr=1e-3, replicates=2000, seed=3)
    assert np.array_equal(
        noisy, analysis.bootstrap_curves(losses, stderr=1e-3, replicates=2000, seed=3)
    )
    assert noisy.std(axis=0).mean() == pytest.approx(1e-3 / 2, rel=0.1)  # sd of a mean of 4


def test_falls_then_rises_on_a_valley_and_not_on_a_slope():
    rng = np.random.default_rng(2)
    valley = curve() + 1e-4 * rng.standard_normal((3, SIGMAS.size))
    shape = analysis.falls_then_rises(SIGMAS, valley, replicates=300)
    assert shape.holds(2.0) and shape.fall == pytest.approx(0.01, rel=0.05)
    assert shape.measured == min(shape.fall, shape.rise)
    slope = np.linspace(0.09, 0.07, SIGMAS.size) + 1e-4 * rng.standard_normal((3, SIGMAS.size))
    flat_end = analysis.falls_then_rises(SIGMAS, slope, replicates=300)
    assert not flat_end.holds(2.0) and abs(flat_end.rise) < 1e-3


def test_shapes_are_checked():
    with pytest.raises(ValueError):
        analysis.optimum(SIGMAS, np.zeros((2, 5)))
    with pytest.raises(ValueError):
        analysis.optimum(SIGMAS[::-1], np.zeros((2, SIGMAS.size)))


def test_seed_mean_combines_spread_and_evaluation_error():
    mean, err = analysis.seed_mean(np.array([[1.0, 3.0], [2.0, 2.0]]), stderr=0.5)
    assert np.allclose(mean, [2.0, 2.0])
    assert np.allclose(err, [np.sqrt((2.0 + 0.25) / 2), np.sqrt(0.25 / 2)])
    single, single_err = analysis.seed_mean(np.array([4.0]), stderr=np.array([0.1]))
    assert single == 4.0 and single_err == pytest.approx(0.1)
