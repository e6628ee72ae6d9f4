"""cclib.compressed.mechanism: every formula checked numerically, the reuse of the mixing chapter's
sweep, and a smoke run of the chapter."""

from __future__ import annotations

import json
import math
import os

import jupytext
import numpy as np
import pytest
import torch

from cclib.book.claims import ClaimChecker
from cclib.book.specs import get_spec
from cclib.compressed import experiments
from cclib.compressed import mechanism as mech
from cclib.compressed.models import MLP


def random_matrix(n: int = 12, seed: int = 0, symmetric: bool = False) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    m = 0.1 * torch.randn(n, n, generator=g, dtype=torch.float64)
    return (m + m.T) / 2 if symmetric else m


def test_model_is_the_product_on_positive_one_hot_inputs():
    """The module docstring's premise: with W_in >= 0, W_out ReLU(W_in t e_i) = t A e_i."""
    g = torch.Generator().manual_seed(1)
    w_in = torch.rand(1, 5, 8, generator=g, dtype=torch.float64)
    w_out = torch.randn(1, 8, 5, generator=g, dtype=torch.float64)
    model = MLP(w_in, w_out)
    t = torch.rand(8, dtype=torch.float64)
    x = torch.diag(t)[None]  # (1, 8, 8): sample i is t_i e_i
    out = model(x).detach()[0]  # row i: model output on t_i e_i
    a = mech.linear_map(w_in, w_out)[0]
    torch.testing.assert_close(out, (a * t).T)


@pytest.mark.parametrize("symmetric", [True, False])
def test_eigenbasis_is_that_of_the_symmetric_part(symmetric):
    m = random_matrix(symmetric=symmetric)
    values, vectors = mech.eigenbasis(m)
    s = (m + m.T) / 2
    assert torch.all(values[0, :-1] >= values[0, 1:])
    torch.testing.assert_close(s @ vectors[0], vectors[0] * values[0])
    # quadratic form of M itself equals that of its symmetric part
    torch.testing.assert_close(torch.einsum("ik,ij,jk->k", vectors[0], m, vectors[0]), values[0])
    torch.testing.assert_close(vectors[0].T @ vectors[0], torch.eye(12, dtype=torch.float64))


def test_singular_basis_maps_right_to_left():
    m = random_matrix()
    u, s, v = mech.singular_basis(m)
    i_plus_m = torch.eye(12, dtype=torch.float64) + m
    torch.testing.assert_close(i_plus_m @ v[0], u[0] * s[0])
    assert torch.all(s[0, :-1] >= s[0, 1:])


def test_alignment_rows_are_unit_vectors_in_the_basis():
    _, vectors = mech.eigenbasis(random_matrix())
    w = torch.randn(1, 5, 12, dtype=torch.float64)
    cos = mech.alignment(w, vectors)
    torch.testing.assert_close(cos.square().sum(-1), torch.ones(1, 5, dtype=torch.float64))


def test_subspace_fraction():
    _, vectors = mech.eigenbasis(random_matrix())
    inside = torch.randn(1, 4, 3, dtype=torch.float64) @ vectors[:, :, :3].transpose(-1, -2)
    outside = torch.randn(1, 4, 9, dtype=torch.float64) @ vectors[:, :, 3:].transpose(-1, -2)
    assert mech.subspace_fraction(inside, vectors, 3).item() == pytest.approx(1.0)
    assert mech.subspace_fraction(outside, vectors, 3).item() == pytest.approx(0.0, abs=1e-12)
    mixed = torch.cat([inside, outside])  # per-instance k
    share = mech.subspace_fraction(mixed, torch.cat([vectors, vectors]), torch.tensor([3, 12]))
    torch.testing.assert_close(share, torch.ones(2, dtype=torch.float64))


def test_map_similarity_of_a_truncation_and_its_drop():
    """A = rank-k truncation of I + M keeps the top k singular directions exactly and sends
    the others to zero: similarity 1 then 0, and both drop rules find k."""
    m = random_matrix()
    u, s, v = mech.singular_basis(m)
    k = 5
    a = (u[0, :, :k] * s[0, :k]) @ v[0, :, :k].T
    sim = mech.map_similarity(a, v, u)[0]
    torch.testing.assert_close(sim[:k], torch.ones(k, dtype=torch.float64))
    torch.testing.assert_close(sim[k:], torch.zeros(12 - k, dtype=torch.float64))
    assert mech.drop_index(sim, "step").item() == k
    assert mech.drop_index(sim, "half").item() == k
    full = mech.map_similarity(torch.eye(12, dtype=torch.float64) + m, v, u)
    torch.testing.assert_close(full, torch.ones(1, 12, dtype=torch.float64))


def test_drop_index_step_is_the_least_squares_change_point():
    g = np.random.default_rng(0)
    s = np.concatenate([0.95 + 0.03 * g.standard_normal(30), 0.2 + 0.1 * g.standard_normal(20)])
    brute = min(
        range(1, s.size),
        key=lambda c: ((s[:c] - s[:c].mean()) ** 2).sum() + ((s[c:] - s[c:].mean()) ** 2).sum(),
    )
    assert mech.drop_index(torch.tensor(s), "step").item() == brute == 30
    assert mech.drop_index(torch.ones(1, 7), "half").item() == 7  # never below 1/2
    with pytest.raises(ValueError, match="drop rule"):
        mech.drop_index(torch.ones(1, 7), "elbow")


def test_entry_fit_recovers_slope_offset_and_correlation():
    m = random_matrix()
    eye = torch.eye(12, dtype=torch.float64)
    a = 2.0 * m + 0.01 + 0.3 * eye  # off-diagonal slope 2, intercept 0.01; diagonal offset 0.31
    fit = mech.entry_fit(a, m)
    assert fit.offdiag_slope.item() == pytest.approx(2.0)
    assert fit.offdiag_intercept.item() == pytest.approx(0.01)
    assert fit.offdiag_correlation.item() == pytest.approx(1.0)
    assert fit.diag_slope.item() == pytest.approx(2.0)
    assert fit.diag_offset.item() == pytest.approx(0.31)


def test_entry_fit_with_a_constant_diagonal_fits_only_the_offset():
    m = random_matrix()
    m.fill_diagonal_(1e-7)  # an embedding-induced M: zero diagonal up to rounding
    a = m + 0.6 * torch.eye(12, dtype=torch.float64)
    fit = mech.entry_fit(a, m)
    assert fit.diag_slope.item() == 0.0
    assert fit.diag_offset.item() == pytest.approx(0.6, abs=1e-6)


def test_nonnegative_mass():
    w = torch.tensor([[[1.0, -3.0], [0.0, 4.0]]])
    assert mech.nonnegative_mass(w).item() == pytest.approx(5 / 8)


def test_weight_sparsity_limits_scale_invariance_and_gaussian_value():
    one_hot = torch.zeros(1, 10, 20)
    one_hot[0, 3, 4] = -2.0
    assert mech.weight_sparsity(one_hot).item() == pytest.approx(1.0)
    signs = torch.randint(0, 2, (1, 10, 20)).double() * 2 - 1
    assert mech.weight_sparsity(3 * signs).item() == pytest.approx(0.0, abs=1e-12)
    g = torch.Generator().manual_seed(0)
    w = torch.randn(4, 200, 300, generator=g, dtype=torch.float64)
    torch.testing.assert_close(mech.weight_sparsity(w), mech.weight_sparsity(7 * w))
    reference = mech.gaussian_sparsity(200 * 300)
    assert reference == pytest.approx(1 - math.sqrt(2 / math.pi), abs=0.01)
    assert mech.weight_sparsity(w).numpy() == pytest.approx(reference, abs=0.003)
    uniform = torch.rand(1, 200, 300, generator=g, dtype=torch.float64) * 2 - 1
    assert mech.weight_sparsity(uniform).item() == pytest.approx(1 - math.sqrt(3) / 2, abs=0.005)


def test_analyse_and_claims_on_a_hand_built_model():
    """A model whose W_out W_in is the rank-d truncation of I + M in the positive
    eigenspace: the analysis finds the drop at d and every claim is recorded."""
    n, d = 20, 10
    m = random_matrix(n, symmetric=True)
    values, vectors = mech.eigenbasis(m)
    top = vectors[0, :, :d]
    w_in = (top * (1 + values[0, :d])).T[None]  # (1, d, n)
    w_out = top[None]  # (1, n, d)
    result = mech.analyse(w_in, w_out, m)
    assert mech.drop_index(result.eigen_similarity).item() == d
    torch.testing.assert_close(result.read_in_positive, result.write_in_positive)
    measures = mech.measure(result, w_in.repeat(2, 1, 1), w_out.repeat(2, 1, 1))
    pair = lambda t: t.repeat(2, 1, 1)  # noqa: E731
    condition = mech.Condition(
        "hand-built",
        pair(w_in),
        pair(w_out),
        pair(m),
        mech.analyse(pair(w_in), pair(w_out), pair(m)),
        measures,
    )
    other = mech.Condition("other", pair(w_in), pair(w_out.flip(1)), pair(m), result, measures)
    cfg = get_spec("mechanism").resolve("smoke", n_features=n, n_neurons=d, drop_tolerance=2)
    claims = ClaimChecker(cfg, path=None)
    null = mech.null_fit(condition, other)  # the seeds share one M: the other models
    mech.check_claims(claims, condition, null, mech.gaussian_sparsity(n * d))
    ids = {c.id for c in claims.claims}
    assert {"mechanism.top_subspace", "mechanism.weight_sparsity"} <= ids
    assert ids == {s.id for s in claims.specs.values() if "." not in s.id.split(".", 1)[1]}
    state = {c.id: c.state for c in claims.claims}
    assert state["mechanism.top_subspace"] == "held"
    assert state["mechanism.read_in_positive"] == "held"
    assert state["mechanism.offdiag_slope"] == "undetermined"  # two seeds; needs three
    assert "measure" in mech.summary_table({"a": measures})


def mixing_chapter_sweep(profile: str):
    """The mixing chapter's condition sweep, built by executing the chapter's own code."""
    source = jupytext.read("book/mixing.py")
    cell = next(c.source for c in source.cells if "left = " in c.source)
    code = cell.split("left_result")[0]
    namespace = {"cfg": get_spec("mixing").resolve(profile), "experiments": experiments}
    exec(code, namespace)  # noqa: S102
    return namespace["left"]


@pytest.mark.parametrize("profile", ["smoke", "quick", "paper"])
def test_chapter_reuses_the_mixing_sweep(profile, root):
    os.chdir(root)
    cfg = get_spec("mechanism").resolve(profile)
    assert (
        experiments.mixing_conditions_sweep(cfg).config() == mixing_chapter_sweep(profile).config()
    )


def test_chapter_smoke_run(cli, tmp_path):
    out = tmp_path / "mechanism.ipynb"
    proc = cli("run", "mechanism", "--profile", "smoke", "--output", str(out), timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    claims = json.loads(out.with_suffix(".claims.json").read_text())
    ids = {c["id"] for c in claims["claims"]}
    for name in [
        "top_subspace",
        "top_subspace_positive",
        "offdiag_slope",
        "diag_offset",
        "m_correlation",
        "win_nonnegative",
        "weight_sparsity",
    ]:
        assert f"mechanism.{name}" in ids
