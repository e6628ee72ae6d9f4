"""Tests of the cached sweeps (cclib.compressed.experiments): train once then load, per-instance
horizons for "non-empty batches", instance validation and learned label scales."""

from __future__ import annotations

import math

import pytest
import torch

from cclib.compressed.experiments import (
    CCInstance,
    MLPSweep,
    ResidualSweep,
    build_mlp_task,
    init_residual,
    load_mlp,
    load_residual,
    run_mlp_sweep,
    run_residual_sweep,
    trained_task,
)
from cclib.compressed.models import MLP
from cclib.engine import phased
from cclib.engine.cache import Cache
from cclib.engine.training import TrainConfig, TrainingDiverged

TRAIN = TrainConfig(steps=30, batch_size=64)


def small_sweep(**kwargs) -> MLPSweep:
    instances = kwargs.pop(
        "instances",
        (
            CCInstance(seed=0, p=0.1),
            CCInstance(seed=1, p=0.1, mixing="gaussian", sigma=0.05, mixing_seed=3),
        ),
    )
    return MLPSweep(
        instances=instances,
        train=kwargs.pop("train", TRAIN),
        n=kwargs.pop("n", 12),
        d=kwargs.pop("d", 6),
        **kwargs,
    )


@pytest.fixture
def counted_train(monkeypatch):
    """Counts the ``train`` calls of sweeps (made by ``cclib.engine.phased``; one per part
    and phase, so one for the sweeps here: one step implementation, one horizon)."""
    calls = []
    real = phased.train

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(phased, "train", counting)
    return calls


def test_mlp_sweep_trains_once_then_loads(tmp_path, counted_train):
    sweep = small_sweep()
    cache = Cache(tmp_path)
    first = run_mlp_sweep(sweep, cache, device="cpu")
    assert len(counted_train) == 1
    second = run_mlp_sweep(sweep, cache, device="cpu")
    assert len(counted_train) == 1  # loaded, not retrained
    assert first.config == second.config == sweep.config()
    assert first.state.keys() == second.state.keys() == {"w_in", "w_out"}
    for key in first.state:
        assert torch.equal(first.state[key], second.state[key])
    assert torch.equal(first.losses, second.losses) and first.losses.shape == (TRAIN.steps, 2)
    assert first.horizons == second.horizons == [TRAIN.steps] * 2
    # the same as training without a cache
    plain = run_mlp_sweep(sweep, None, device="cpu")
    assert len(counted_train) == 2
    assert torch.equal(plain.state["w_in"], first.state["w_in"])
    # a different configuration is a different entry
    run_mlp_sweep(small_sweep(train=TrainConfig(steps=31, batch_size=64)), cache, device="cpu")
    assert len(counted_train) == 3
    model = load_mlp(first)
    assert isinstance(model, MLP) and torch.equal(model.w_out.detach(), first.state["w_out"])


def test_initial_weights_enter_the_key(tmp_path, counted_train):
    sweep = small_sweep()
    cache = Cache(tmp_path)
    run_mlp_sweep(sweep, cache, device="cpu")
    initial = MLP.init([7, 8], sweep.n, sweep.d)
    result = run_mlp_sweep(sweep, cache, device="cpu", initial=initial)
    assert len(counted_train) == 2 and "initial_checksum" in result.config
    run_mlp_sweep(sweep, cache, device="cpu", initial=MLP.init([7, 8], sweep.n, sweep.d))
    assert len(counted_train) == 2  # same initial weights: loaded


def test_nonempty_steps_horizons():
    steps, n = 20, 12
    instances = tuple(CCInstance(seed=i, p=p) for i, p in enumerate([0.001, 0.01, 0.1, 1.0]))
    sweep = small_sweep(
        instances=instances, train=TrainConfig(steps=steps, batch_size=16), n=n, nonempty_steps=True
    )
    expected = [math.ceil(steps / (1 - (1 - i.p) ** n)) for i in instances]
    assert sweep.horizons() == expected
    assert expected[-1] == steps and expected[0] > 80 * steps
    assert small_sweep(instances=instances, n=n).horizons() == [TRAIN.steps] * 4
    res = ResidualSweep(
        seeds=(0, 1), embedding_seeds=(0, 1), p=0.01, train=TRAIN, n=n, nonempty_steps=True
    )
    assert res.horizons() == [math.ceil(TRAIN.steps / (1 - 0.99**n))] * 2


def test_nonempty_steps_run_uses_horizons(tmp_path):
    instances = (CCInstance(seed=0, p=0.05), CCInstance(seed=1, p=1.0))
    sweep = small_sweep(
        instances=instances, train=TrainConfig(steps=10, batch_size=16), nonempty_steps=True
    )
    result = run_mlp_sweep(sweep, Cache(tmp_path), device="cpu")
    assert result.horizons == sweep.horizons()
    assert result.losses.shape == (max(sweep.horizons()), 2)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"mixing": "gausian"},
        {"p": 0.0},
        {"p": 1.5},
        {"p": -0.1},
        {"sigma": -0.01},
        {"sign": 0},
        {"sign": 2},
    ],
)
def test_instance_validation(kwargs):
    with pytest.raises(ValueError):
        CCInstance(**{"seed": 0, "p": 0.1, **kwargs})


def test_unknown_kind_message_names_allowed_kinds():
    with pytest.raises(ValueError, match="clean.*gaussian.*symmetric.*embedding"):
        CCInstance(seed=0, p=0.1, mixing="random")


def test_task_scales_and_signs():
    instances = (
        CCInstance(seed=0, p=0.1, mixing="gaussian", sigma=0.05, mixing_seed=1),
        CCInstance(seed=1, p=0.2, mixing="gaussian", sigma=0.2, mixing_seed=1, sign=-1),
        CCInstance(seed=2, p=0.3, mixing="embedding", mixing_seed=1, sign=-1),
        CCInstance(seed=3, p=0.4),
    )
    sweep = small_sweep(instances=instances, width=30)
    task = build_mlp_task(sweep)
    assert torch.allclose(task.scale, torch.tensor([0.05, -0.2, -1.0, 0.0]))
    assert torch.equal(task.mixing[0], task.mixing[1])  # one unit matrix scaled by sigma
    assert task.p_values == pytest.approx([0.1, 0.2, 0.3, 0.4])
    assert build_mlp_task(sweep, p=0.5).p_values == [0.5] * 4


def test_learned_sigma_is_stored_in_task_state(tmp_path):
    instances = (
        CCInstance(seed=0, p=0.2, mixing="gaussian", sigma=0.1, mixing_seed=1, learn_sigma=True),
        CCInstance(seed=1, p=0.2, mixing="gaussian", sigma=0.3, mixing_seed=2, learn_sigma=True),
    )
    sweep = small_sweep(instances=instances, train=TrainConfig(steps=40, batch_size=64, lr=1e-2))
    cache = Cache(tmp_path)
    result = run_mlp_sweep(sweep, cache, device="cpu")
    scale = result.task_state["scale"]
    assert scale.shape == (2,)
    assert bool((scale != torch.tensor([0.1, 0.3])).all())  # it was trained
    assert torch.equal(run_mlp_sweep(sweep, cache, device="cpu").task_state["scale"], scale)
    task = trained_task(sweep, result, p=0.05)
    assert torch.equal(task.scale.detach(), scale) and task.p_values == [0.05, 0.05]


def test_learn_sigma_is_per_instance(tmp_path):
    """Only instances with ``learn_sigma=True`` may have their scale trained; a fixed-sigma
    instance in the same sweep keeps its sigma."""
    instances = (
        CCInstance(seed=0, p=0.2, mixing="gaussian", sigma=0.1, mixing_seed=1, learn_sigma=True),
        CCInstance(seed=1, p=0.2, mixing="gaussian", sigma=0.3, mixing_seed=2, learn_sigma=False),
    )
    sweep = small_sweep(instances=instances, train=TrainConfig(steps=40, batch_size=64, lr=1e-2))
    scale = run_mlp_sweep(sweep, None, device="cpu").task_state["scale"]
    assert scale[0] != torch.tensor(0.1)
    assert scale[1] == torch.tensor(0.3), "the learn_sigma=False instance's sigma was trained"


def test_residual_sweep_runs_and_loads(tmp_path, counted_train):
    sweep = ResidualSweep(
        seeds=(0, 1), embedding_seeds=(5, 6), p=0.2, train=TRAIN, n=10, d=4, width=16
    )
    cache = Cache(tmp_path)
    first = run_residual_sweep(sweep, cache, device="cpu")
    second = run_residual_sweep(sweep, cache, device="cpu")
    assert len(counted_train) == 1
    assert torch.equal(first.state["w_in"], second.state["w_in"])
    assert torch.equal(first.state["w_e"], sweep.embeddings())  # the frozen embedding did not move
    model = load_residual(sweep, first)
    assert model.w_in.shape == (2, 4, 16)
    assert first.losses.shape == (TRAIN.steps, 2)


def test_embedding_instance_matches_residual_sweep_embedding():
    """An ``embedding`` CCInstance with ``mixing_seed = s`` trains on the M of the residual
    model whose embedding seed is ``s`` (the equivalence of the two setups)."""
    n, width = 10, 16
    sweep = small_sweep(
        instances=(CCInstance(seed=0, p=0.1, mixing="embedding", mixing_seed=6),), n=n, width=width
    )
    residual = ResidualSweep(
        seeds=(0,), embedding_seeds=(6,), p=0.1, train=TRAIN, n=n, d=4, width=width
    )
    task = build_mlp_task(sweep)
    torch.testing.assert_close(
        task.mixing[0], init_residual(residual).equivalent_mixing()[0], rtol=0, atol=1e-6
    )
    assert task.scale.item() == 1.0


def test_diverged_sweep_names_the_setting_and_caches_nothing(tmp_path):
    sweep = small_sweep(train=TrainConfig(steps=300, batch_size=64, lr=1e6))
    cache = Cache(tmp_path)
    with pytest.raises(TrainingDiverged, match=r"instance \d \(seed=\d, p=0.1, mixing=") as info:
        run_mlp_sweep(sweep, cache)
    assert "step" in str(info.value)
    assert cache.load(sweep.config()) is None


def test_active_field_enters_the_key_only_when_set():
    plain = small_sweep()
    assert all("active" not in i for i in plain.config()["instances"])
    one_hot = small_sweep(instances=(CCInstance(seed=0, p=0.1, active=1),))
    assert one_hot.config()["instances"][0]["active"] == 1
    task = build_mlp_task(one_hot)
    assert task.active_values == [1]
    with pytest.raises(ValueError, match="active must be None or an int >= 1"):
        CCInstance(seed=0, p=0.1, active=0)


def test_exactly_k_instance_trains_next_to_bernoulli(tmp_path):
    sweep = small_sweep(
        instances=(CCInstance(seed=0, p=0.05), CCInstance(seed=0, p=0.05, active=1)),
        nonempty_steps=True,
    )
    assert sweep.horizons()[0] == sweep.horizons()[1]  # p sets both step counts
    result = run_mlp_sweep(sweep, Cache(tmp_path))
    assert result.losses.shape == (max(sweep.horizons()), 2) and result.loss_window == 1
    assert bool(torch.isfinite(result.losses).all())
