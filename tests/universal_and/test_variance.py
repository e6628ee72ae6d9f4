"""The derived readout moments of binary circuits (paper 004 section 6.2) against
independent computations: enumeration of the interference, brute-force sums, the model's
own forward pass and forward-pass simulation."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from cclib.book.params import ParameterError
from cclib.book.specs import get_spec
from cclib.book.specs_universal_and import UAND_VARIANCE_CHUNK
from cclib.universal_and import constructions, variance
from cclib.universal_and import variance_analysis as va
from cclib.universal_and import variance_simulation as vs

DENSE = (1.0, -2.0, 1.0)


def enumerated_moments(circuit, s):
    """Mean and variance of every class's activation by enumerating the weights of the
    other active inputs one by one (2^s_o assignments), independently of the binomial sums."""
    own = {"A": (circuit.u, circuit.u), "B1": (circuit.u, circuit.w)}
    own |= {"B2": (circuit.w, circuit.u), "C": (circuit.w, circuit.w)}
    mean, var = torch.zeros(4, 4, dtype=torch.float64), torch.zeros(4, 4, dtype=torch.float64)
    for row, (vi, vj) in enumerate(variance.SUBCASES):
        others = s - vi - vj
        for column, (xi, xj) in enumerate(own.values()):
            first = second = 0.0
            for draw in itertools.product((True, False), repeat=others):
                probability = math.prod(circuit.q if is_u else 1 - circuit.q for is_u in draw)
                h = circuit.b + xi * vi + xj * vj
                h += sum(circuit.u if is_u else circuit.w for is_u in draw)
                first += probability * max(h, 0.0)
                second += probability * max(h, 0.0) ** 2
            mean[row, column], var[row, column] = first, second - first**2
    return mean, var


@pytest.mark.parametrize("s", [2, 3, 5])
@pytest.mark.parametrize(
    "circuit",
    [constructions.cis_circuit(30, 3000), constructions.dense_circuit(*DENSE)],
    ids=["cis", "dense"],
)
def test_class_moments_match_enumeration(circuit, s):
    mean, var = variance.class_moments(circuit, s)
    expected_mean, expected_var = enumerated_moments(circuit, s)
    torch.testing.assert_close(mean, expected_mean, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(var, expected_var, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("s", [2, 3, 6, 12])
def test_dense_readout_is_unbiased_and_cis_is_not(s):
    dense = variance.predict(constructions.dense_circuit(*DENSE), 1000, s)
    torch.testing.assert_close(dense.mean, variance.AND, rtol=0, atol=1e-9)
    assert float(dense.beta[1]) == pytest.approx(float(dense.beta[2]))  # B1, B2 symmetric
    assert dense.beta[0] > 0 and dense.beta[3] > 0 and dense.beta[1] < 0
    cis = constructions.cis_circuit(30, 3000)
    cis_mean = variance.predict(cis, 3000, s).mean
    # one input on: exactly the expected interference p (s - 1); both on: 1 + p (s - 2)
    assert float(cis_mean[1]) == pytest.approx(cis.q * (s - 1))
    assert float(cis_mean[3]) == pytest.approx(1 + cis.q * (s - 2))


@pytest.mark.parametrize(("d", "probability"), [(1, 0.3), (7, 0.5), (40, 0.05), (25, 1.0)])
def test_inverse_count_brute_force(d, probability):
    total = sum(
        math.comb(d, n) * probability**n * (1 - probability) ** (d - n) / n for n in range(1, d + 1)
    )
    nonzero = 1 - (1 - probability) ** d
    assert variance.inverse_count(d, probability) == pytest.approx(total / nonzero, rel=1e-10)


def test_model_and_simulator_give_the_same_outputs():
    assert vs.model_agreement(m=10, d=48, s=3, dense=DENSE, samples=64) < 1e-5
    assert vs.model_agreement(m=9, d=30, s=4, dense=(1.0, -1.0, 0.5), samples=64) < 1e-5


def test_built_cis_readout_is_the_mean_of_the_neurons_connected_to_both():
    circuit = constructions.cis_circuit(8, 40)
    is_u = constructions.draw_is_u([3], 8, 40, circuit.q)
    model = constructions.build_model(circuit, is_u, torch.tensor([[1.0, 0.0, 0.0, 0.0]]))
    assert model.w.shape == (1, 40, 8) and model.r.shape == (1, 28, 40)
    v = torch.zeros(1, 1, 8)
    v[0, 0, [0, 1, 5]] = 1.0
    connected = is_u[0, :, 0] & is_u[0, :, 1]
    with torch.no_grad():
        hidden = torch.relu(model.w[0] @ v[0, 0] - 1.0)
        output = model(v)[0, 0, 0]
    assert float(output) == pytest.approx(float(hidden[connected].mean()), rel=1e-6)


def test_prediction_matches_simulation_on_a_small_grid():
    grid = vs.readout_grid((20,), (200, 800), (3, 6), range(4), 48, 16, DENSE)
    predicted = variance.predict_grid((20,), (200, 800), (3, 6), DENSE)
    for name in ("cis", "dense"):
        simulated = va.total_variance(grid.moments, predicted, name)
        check = va.formula_check(simulated, predicted[f"{name}_var"])
        assert check.valid.all()
        assert check.agrees(0.1, 3.0).all(), (name, check.relative, check.stderr)
        if name == "dense":  # many neurons per class: tight
            assert np.abs(check.relative).max() < 0.1, check.relative


def test_dense_variance_scales_as_s_squared_over_d_for_mean_zero_interference():
    circuit = constructions.dense_circuit(1.0, -1.0, 0.5)  # q u + (1 - q) w = 0
    low, high = variance.predict(circuit, 1000, 64), variance.predict(circuit, 1000, 128)
    assert math.log2(high.case_variance / low.case_variance) == pytest.approx(2.0, abs=0.05)
    assert float(high.beta[0] / low.beta[0]) == pytest.approx(math.sqrt(2), rel=0.01)
    wide = variance.predict(circuit, 4000, 64)
    assert low.case_variance / wide.case_variance == pytest.approx(4.0, rel=0.01)
    gaussian = variance.predict(circuit, 1000, 128, gaussian=True)
    assert gaussian.case_variance == pytest.approx(high.case_variance, rel=0.02)


def test_power_law_fit_and_crossover_on_exact_data():
    ms, ds, s_values = (30, 100), (100, 1000, 10000), (2, 4, 8)
    values = np.array(
        [[[c * s**2.0 / d for s in s_values] for d in ds] for c in (1.0, 3.0)]
    )  # (M, D, S)
    alpha, delta = va.power_law_fit(values, ms, ds, s_values)
    assert alpha == pytest.approx(2.0) and delta == pytest.approx(-1.0)
    assert va.crossover([2, 4, 8], np.array([0.5, 1.0, 2.0])) == pytest.approx(4.0)
    assert va.crossover([2, 8], np.array([0.5, 2.0])) == pytest.approx(4.0)
    assert math.isnan(va.crossover([2, 4], np.array([0.5, 0.9])))


def test_predicted_crossover_scales_like_sqrt_d_over_log_m_squared():
    ratios = [
        va.predicted_crossover(30, d, 80, DENSE) / va.paper_crossover(30, d)
        for d in (30000, 300000)
    ]
    assert 0.3 < ratios[0] < 1.0 and ratios[1] == pytest.approx(ratios[0], rel=0.25)


def test_spec_chunk_constant_and_trained_s_is_checked_first():
    assert UAND_VARIANCE_CHUNK == vs.CHUNK_ELEMENTS
    with pytest.raises(ParameterError, match="trained_s"):
        get_spec("uand_variance").resolve("smoke", trained_s=7)
    with pytest.raises(ParameterError, match="crossover_d"):
        get_spec("uand_variance").resolve("smoke", crossover_d=999)
