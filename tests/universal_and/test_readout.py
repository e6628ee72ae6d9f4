"""Readouts of a Universal-AND compute layer (cclib.universal_and.readout): the paper's
Table 1, the class combinations and the bias freedom, conditional sampling and its
loss weights, and the closed-form readout against SGD on a frozen compute layer."""

from __future__ import annotations

import math

import pytest
import torch

from cclib.engine.seeding import Stream, make_generator
from cclib.universal_and import readout
from cclib.universal_and.models import UniversalAND
from cclib.universal_and.tasks import UniversalANDTask, case_probabilities, case_weights

TABLE_1 = torch.tensor(  # rows: (v_i, v_j) = 00, 01, 10, 11; columns: A, B1, B2, C
    [[0.05, 0.05, 0.05, 0.05], [0.15, 0.0, 0.15, 0.0], [0.15, 0.15, 0.0, 0.0], [0.25, 0, 0, 0]],
    dtype=torch.float64,
)


def example_tables(w: float = -0.15) -> torch.Tensor:
    return readout.ideal_truth_tables(
        torch.tensor(0.1, dtype=torch.float64),
        torch.tensor(w, dtype=torch.float64),
        torch.tensor(0.05, dtype=torch.float64),
    )


@pytest.mark.parametrize("w", [-0.15, -0.2, -1.0])
def test_ideal_tables_reproduce_table_1(w):
    torch.testing.assert_close(example_tables(w), TABLE_1, rtol=0, atol=1e-12)


def test_and_is_a_class_combination_with_expected_signs():
    alpha = readout.combination(
        example_tables(), torch.tensor(readout.GATES["and"]), torch.tensor(0.0)
    )
    torch.testing.assert_close(alpha, torch.tensor([4.0, -4.0, -4.0, 4.0], dtype=torch.float64))
    assert torch.equal(torch.sign(alpha), torch.tensor(readout.EXPECTED_SIGNS, dtype=torch.float64))


@pytest.mark.parametrize("gate", ["and", "or", "xor", "first"])
def test_every_gate_is_reached_for_any_bias(gate):
    tables, target = example_tables(), torch.tensor(readout.GATES[gate], dtype=torch.float64)
    for bias in (-0.3, 0.0, 0.2):
        alpha = readout.combination(tables, target, torch.tensor(bias, dtype=torch.float64))
        torch.testing.assert_close(tables @ alpha + bias, target)


def test_min_norm_combination_is_the_smallest_readout():
    tables, target = example_tables(), torch.tensor(readout.GATES["and"], dtype=torch.float64)
    counts = torch.tensor([30.0, 12.0, 14.0, 5.0], dtype=torch.float64)
    alpha, bias = readout.min_norm_combination(tables, target, counts)
    torch.testing.assert_close(tables @ alpha + bias, target)
    best = (alpha.square() / counts).sum()
    for c in torch.linspace(-1, 1, 201, dtype=torch.float64):
        other = readout.combination(tables, target, c)
        assert (other.square() / counts).sum() >= best - 1e-12


def test_predicted_weights_recover_the_table_solution_and_mark_empty_classes():
    tables = example_tables().expand(2, 4, 4)
    counts = torch.tensor([[10.0, 5.0, 5.0, 2.0], [10.0, 5.0, 0.0, 2.0]])
    per_neuron, _ = readout.predicted_class_weights(
        tables, counts, "and", "learned", torch.zeros(2)
    )
    expected = torch.tensor([4.0, -4.0, -4.0, 4.0], dtype=torch.float64) / counts[0]
    torch.testing.assert_close(per_neuron[0], expected)
    assert torch.isnan(per_neuron[1]).all()


def test_group_classes_follow_the_weight_pattern():
    is_u = torch.tensor([[[True, True, False], [True, False, True], [False, True, False]]])
    pairs = torch.tensor([[0, 1], [0, 2], [1, 2]])
    # neuron 0: (u,u)=A, (u,w)=B1, (u,w)=B1; neuron 1: B1, A, B2; neuron 2: B2, C, B1
    expected = torch.tensor([[[0, 1, 2], [1, 0, 3], [1, 2, 1]]])
    assert torch.equal(readout.group_classes(is_u, pairs), expected)
    triple = readout.group_classes(is_u, torch.tensor([[0, 1, 2]]))
    assert triple.tolist() == [[[1, 2, 5]]]  # uuw, uwu, wuw in binary with w = 1


def test_conditional_inputs_fix_the_group_and_draw_the_rest_uniformly():
    groups = torch.tensor([[2, 5], [0, 9]])
    v = readout.conditional_inputs(10, 3, groups, 4000, torch.Generator().manual_seed(0))
    assert v.shape == (2, 4, 4000, 10)
    assert torch.all(v.sum(-1) == 3)
    for g, (i, j) in enumerate(groups.tolist()):
        for st, (a, b) in enumerate(readout.states(2).tolist()):
            assert torch.all(v[g, st, :, i] == a) and torch.all(v[g, st, :, j] == b)
            others = [k for k in range(10) if k not in (i, j)]
            freq = v[g, st][:, others].mean(0)
            expected = (3 - a - b) / 8
            assert torch.all((freq - expected).abs() < 0.04)


def test_state_weights_are_the_case_balanced_loss():
    m, s = 30, 4
    pi = readout.state_weights(m, s, 2)
    per_case = case_probabilities(m, s) * case_weights(m, s)  # share of each case
    torch.testing.assert_close(
        pi, torch.tensor([per_case[0], per_case[1] / 2, per_case[1] / 2, per_case[2]]).float()
    )
    plain = readout.state_weights(m, s, 2, weighted=False)
    torch.testing.assert_close(plain[0], case_probabilities(m, s)[0].float())
    assert math.isclose(float((plain * torch.tensor([1, 1, 1, 1])).sum()), 1.0, rel_tol=1e-6)
    assert math.isclose(float(readout.state_weights(m, s, 3).sum()), 1.0, rel_tol=1e-6)


def test_own_readout_loss_matches_the_task_loss():
    """The conditional evaluation of a model's own readout over all pairs is its training
    loss (the case-balanced MSE): same number up to sampling error."""
    m, d, s = 8, 12, 3
    model = UniversalAND.init([0], m, d)
    task = UniversalANDTask(m, s, 1)
    pairs = readout.random_groups(m, 2, 100, 0)  # all 28
    with torch.no_grad():
        errors = readout.readout_errors(
            model.w, model.b, model.r[:, :, None], model.c[:, :, None], pairs, ["and"], s, 4000, 1
        )
        v = task.sample([make_generator(3, Stream.EVAL)], 40000)
        direct = task.loss(model(v), v)
    torch.testing.assert_close(errors.loss.mean(1)[:, 0], direct, rtol=0.03, atol=0)


def test_closed_form_readout_beats_sgd_on_a_frozen_layer():
    """Training only the readout is least squares: the closed form is at least as good as
    400 Adam steps on the same (case-weighted) training loss."""
    m, d, s = 8, 16, 3
    model = UniversalAND.init([0], m, d)
    task = UniversalANDTask(m, s, 1)
    pairs = readout.random_groups(m, 2, 100, 0)
    model.w.requires_grad_(False)
    model.b.requires_grad_(False)
    optimiser = torch.optim.Adam([model.r, model.c], lr=3e-2)
    generator = [make_generator(0, Stream.DATA)]
    for _ in range(400):
        v = task.sample(generator, 512)
        loss = task.loss(model(v), v).sum()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    with torch.no_grad():
        fit = readout.fit_readouts(model.w, model.b, pairs, ["and"], s, 4000, seed=0)
        closed = readout.readout_errors(model.w, model.b, fit.r, fit.c, pairs, ["and"], s, 4000, 1)
        sgd = readout.readout_errors(
            model.w, model.b, model.r[:, :, None], model.c[:, :, None], pairs, ["and"], s, 4000, 1
        )
    assert float(closed.loss.mean()) <= float(sgd.loss.mean()) * 1.01


def test_pair_outputs_index_the_models_outputs():
    m = 7
    pairs = readout.random_groups(m, 2, 100, 0)
    table = UniversalANDTask(m, 2, 1).pair_table()
    assert torch.equal(readout.pair_outputs(m, pairs), table[pairs[:, 0], pairs[:, 1]])


def test_expected_sign_share():
    r = torch.tensor([[1.0, -2.0, 1.0, 3.0]])
    classes = torch.tensor([[0, 1, 2, 3]])  # A+, B1-, B2 wrong sign, C+
    overall, per_class = readout.expected_sign_share(r, classes)
    assert math.isclose(float(overall), 6 / 7, rel_tol=1e-6)
    assert per_class.tolist() == [[1.0, 1.0, 0.0, 1.0]]


@pytest.mark.parametrize("fraction", [0.5, 0.7])
def test_frozen_layers_match_the_two_moments(fraction):
    u, w, b = torch.tensor([0.1, 0.2]), torch.tensor([-0.3, -0.5]), torch.tensor([0.05, 0.1])
    f = torch.full((2,), fraction)
    layers = readout.frozen_layers(u, w, b, f, 200, 100, [0, 1])
    mean, std = f * u + (1 - f) * w, (f * (1 - f)).sqrt() * (u - w)
    for weights, bias in layers.values():
        assert weights.shape == (2, 200, 100) and bias.shape == (2, 200)
        torch.testing.assert_close(weights.mean((1, 2)), mean, atol=0.01, rtol=0)
        torch.testing.assert_close(weights.std((1, 2)), std, atol=0.01, rtol=0)
        torch.testing.assert_close(bias[:, 0], b)
    values = layers["binary"][0][0].unique()
    torch.testing.assert_close(values, torch.tensor([-0.3, 0.1]))


def test_class_combination_reads_and_out_of_a_binary_layer():
    """Derivation check at the neuron level: in an exactly binary layer without interference,
    giving each class-X neuron the readout alpha_X / N_X (from the class tables of the fitted
    values) outputs the AND of the pair in all four states; the bias rules agree."""
    from cclib.universal_and.circuit import fit_binary

    g = torch.Generator().manual_seed(0)
    d, m = 64, 10
    is_u = torch.rand(1, d, m, generator=g) < 0.5
    w = torch.where(is_u, 0.1, -0.3).double()
    b = torch.full((1, d), 0.05, dtype=torch.float64)
    fit = fit_binary(w, b)
    pair = torch.tensor([[2, 7]])
    classes = readout.group_classes(fit.is_u, pair)  # (1, 1, d)
    per_neuron = readout.neuron_truth_tables(fit.u, fit.w, fit.b, classes)  # (1, 1, S, d)
    tables, counts = readout.class_means(per_neuron, classes[:, :, None].expand(-1, -1, 4, -1), 4)
    counts = counts[:, :, 0]
    for rule in readout.BIAS_RULES:
        weights, bias = readout.predicted_class_weights(
            tables, counts, "and", rule, torch.zeros(1, 1)
        )
        r = weights[0, 0][classes[0, 0]]  # (d,)
        v = torch.zeros(4, m, dtype=torch.float64)
        v[:, 2], v[:, 7] = readout.states(2)[:, 0].double(), readout.states(2)[:, 1].double()
        y = torch.relu(v @ w[0].T + b[0]) @ r + bias[0, 0]
        torch.testing.assert_close(y, torch.tensor([0.0, 0.0, 0.0, 1.0], dtype=torch.float64))
        assert torch.equal(torch.sign(weights[0, 0]), torch.tensor(readout.EXPECTED_SIGNS).double())
