"""Parameter specifications: parsing, profiles, validation messages."""

from __future__ import annotations

import json

import pytest

from cclib.book.params import (
    PROFILES,
    ChapterConfig,
    ChapterSpec,
    Param,
    ParameterError,
    at_least,
    configure,
    d_param,
    default_profile,
    in_open_closed,
    m_param,
    mixing_param,
    non_negative,
    p_param,
    positive,
    s_at_most_m,
    s_param,
    sigma_param,
    steps_param,
)
from cclib.book.specs import SPECS, get_spec

NB = "naive_baseline"


@pytest.fixture
def spec():
    return get_spec(NB)


@pytest.fixture
def and_spec():
    """A Universal-AND-like spec built from the library constructors."""
    return ChapterSpec("and_test", "test", (m_param(10), s_param(3), d_param(5)), (s_at_most_m,))


def error(fn, *args, **kwargs) -> str:
    with pytest.raises(ParameterError) as info:
        fn(*args, **kwargs)
    return str(info.value)


# ------------------------------------------------------------------ profiles and defaults


def test_profiles_resolve_to_their_values(spec):
    for profile in PROFILES:
        cfg = spec.resolve(profile)
        assert cfg.profile == profile
        for param in spec.params:
            assert getattr(cfg, param.name) == param.values[profile]


def test_naive_baseline_profiles_grow(spec):
    smoke, quick, paper = (spec.resolve(p) for p in PROFILES)
    assert smoke.steps < quick.steps <= paper.steps
    assert smoke.seeds <= quick.seeds <= paper.seeds
    assert smoke.mc_samples < quick.mc_samples <= paper.mc_samples
    assert paper.nonempty_steps is True  # the paper counts non-empty batches


def test_default_profile_matches_hardware(spec):
    import torch

    expected = "paper" if torch.cuda.is_available() else "quick"
    assert default_profile() == expected
    assert spec.resolve().profile == expected


def test_none_override_means_profile_value(spec):
    assert spec.resolve("smoke", steps=None, p=None) == spec.resolve("smoke")


def test_overrides_are_typed(spec):
    cfg = spec.resolve("smoke", p=1, steps=7, mixing="gaussian", nonempty_steps=True)
    assert cfg.p == 1.0 and isinstance(cfg.p, float)
    assert cfg.steps == 7 and isinstance(cfg.steps, int)
    assert cfg.mixing == "gaussian" and cfg.nonempty_steps is True


def test_numpy_scalars_accepted(spec):
    np = pytest.importorskip("numpy")
    cfg = spec.resolve("smoke", p=np.float32(0.5), steps=np.int64(3))
    assert cfg.p == 0.5 and type(cfg.steps) is int


def test_config_is_frozen_and_jsonable(spec):
    cfg = spec.resolve("quick")
    assert isinstance(cfg, ChapterConfig)
    with pytest.raises(AttributeError):
        cfg.p = 0.5
    with pytest.raises(AttributeError):
        _ = cfg.no_such_parameter
    data = cfg.as_dict()
    assert data["profile"] == "quick"
    assert set(data) == {"profile", *spec.names}
    assert json.loads(json.dumps(data)) == data


def test_configure_reads_namespace_and_prints_profile(capsys):
    namespace = {"profile": "smoke", "p": 0.2, "steps": None, "unrelated": 1}
    cfg = configure(NB, namespace)
    assert cfg.p == 0.2 and cfg.steps == 40 and cfg.profile == "smoke"
    out = capsys.readouterr().out.strip()
    assert out.startswith("profile: smoke (device: ")


# ------------------------------------------------------------------ parse_cli


def test_parse_cli_types(spec):
    parsed = spec.parse_cli(
        [
            ("p", "0.05"),
            ("steps", "1e3"),
            ("seeds", "4"),
            ("mixing", "symmetric"),
            ("nonempty_steps", "yes"),
            ("sigma", "none"),
        ]
    )
    assert parsed == {
        "p": 0.05,
        "steps": 1000,
        "seeds": 4,
        "mixing": "symmetric",
        "nonempty_steps": True,
        "sigma": None,
    }
    assert type(parsed["steps"]) is int


@pytest.mark.parametrize(
    "text,value",
    [
        ("true", True),
        ("1", True),
        ("yes", True),
        ("True", True),
        ("false", False),
        ("0", False),
        ("no", False),
    ],
)
def test_parse_cli_booleans(spec, text, value):
    assert spec.parse_cli([("nonempty_steps", text)]) == {"nonempty_steps": value}


@pytest.mark.parametrize(
    "name,text,fragment",
    [
        ("steps", "abc", "expects an integer, got 'abc'"),
        ("steps", "2.5", "expects an integer"),
        ("p", "abc", "expects a number"),
        ("nonempty_steps", "maybe", "expects a boolean"),
        ("p", "nan", "finite"),
    ],
)
def test_parse_cli_wrong_type(spec, name, text, fragment):
    message = error(spec.parse_cli, [(name, text)])
    assert message.startswith(f"parameter {name!r}:")
    assert fragment in message


def test_parse_cli_rejects_duplicates_and_profile(spec):
    assert "more than once" in error(spec.parse_cli, [("p", "0.1"), ("p", "0.2")])
    assert "--profile" in error(spec.parse_cli, [("profile", "smoke")])


# ------------------------------------------------------------------ bad input


def test_unknown_chapter():
    message = error(get_spec, "no_such_chapter")
    assert "unknown chapter 'no_such_chapter'" in message
    assert NB in message


def test_unknown_profile(spec):
    message = error(spec.resolve, "fast")
    assert message == "unknown profile 'fast'; allowed: smoke, quick, paper"


def test_unknown_parameter(spec):
    message = error(spec.resolve, "smoke", foo=1)
    assert "unknown parameter 'foo'" in message and "'naive_baseline'" in message
    assert "steps" in message  # lists the known ones
    assert "unknown parameter 'foo'" in error(spec.parse_cli, [("foo", "1")])


@pytest.mark.parametrize(
    "name,value,fragment",
    [
        ("steps", "abc", "expects an integer"),
        ("steps", 2.5, "expects an integer"),
        ("steps", True, "expects an integer"),  # bool is never an int
        ("p", "0.5", "expects a number"),
        ("p", False, "expects a number"),
        ("mixing", 3, "expects a string"),
        ("nonempty_steps", 1, "expects a boolean"),
    ],
)
def test_wrong_type(spec, name, value, fragment):
    message = error(spec.resolve, "smoke", **{name: value})
    assert message.startswith(f"parameter {name!r}:") and fragment in message


@pytest.mark.parametrize(
    "name,value,allowed",
    [
        ("p", 0, "in (0, 1]"),
        ("p", 1.5, "in (0, 1]"),
        ("p", -0.1, "in (0, 1]"),
        ("sigma", -0.01, ">= 0"),
        ("steps", 0, ">= 1"),
        ("steps", -5, ">= 1"),
        ("seeds", 0, ">= 1"),
        ("lr", 0.0, "> 0"),
        ("weight_decay", -1e-3, ">= 0"),
    ],
)
def test_out_of_range(spec, name, value, allowed):
    message = error(spec.resolve, "smoke", **{name: value})
    assert message.startswith(f"parameter {name!r}: must be {allowed}, got ")


def test_p_message_exact(spec):
    assert error(spec.resolve, "smoke", p=1.5) == "parameter 'p': must be in (0, 1], got 1.5"


def test_p_equal_one_allowed(spec):
    assert spec.resolve("smoke", p=1).p == 1.0


def test_unknown_mixing_kind(spec):
    message = error(spec.resolve, "smoke", mixing="fancy")
    assert message.startswith("parameter 'mixing':")
    for kind in ("clean", "gaussian", "symmetric", "embedding"):
        assert kind in message
    assert "'fancy'" in message


def test_s_greater_than_m(and_spec):
    assert and_spec.resolve("smoke", s=10).s == 10
    message = error(and_spec.resolve, "smoke", s=11)
    assert message.startswith("parameter 's':") and "m" in message and "11" in message
    message = error(and_spec.resolve, "smoke", m=2)  # relation checked on the final values
    assert message.startswith("parameter 's':")


def test_d_below_one(and_spec):
    assert error(and_spec.resolve, "smoke", d=0).startswith("parameter 'd': must be >= 1")


def test_configure_rejects_bad_namespace():
    assert error(configure, NB, {"profile": "smoke", "p": 2.0}).startswith("parameter 'p'")
    assert "unknown profile" in error(configure, NB, {"profile": "turbo"})
    assert "unknown chapter" in error(configure, "nope", {})


# ------------------------------------------------------------------ library


def test_checks_describe_themselves():
    assert in_open_closed(0, 1)(0.5) is None
    assert in_open_closed(0, 1)(0) == "must be in (0, 1]"
    assert at_least(1)(0) == "must be >= 1"
    assert non_negative(0) is None and non_negative(-1) == "must be >= 0"
    assert positive(0) == "must be > 0"


def test_param_rejects_invalid_defaults():
    with pytest.raises(ParameterError):
        p_param(2.0)
    with pytest.raises(TypeError):
        Param("x", list, "bad kind", 1)
    with pytest.raises(TypeError):
        Param("x", int, "missing profiles", {"smoke": 1})


def test_library_constructors():
    assert sigma_param().check(-1) and mixing_param().choices[0] == "clean"
    assert steps_param({"smoke": 1, "quick": 2, "paper": 3}).values["quick"] == 2


def test_every_spec_is_consistent():
    for name, spec in SPECS.items():
        assert spec.name == name
        for profile in PROFILES:
            spec.resolve(profile)  # every profile's defaults pass every check


# --------------------------------------------------------------------------- budgets


def test_budget_formula_matches_the_trainer():
    from cclib.book.budget import nonempty_horizon
    from cclib.engine.training import nonempty_horizon as trainer_horizon

    for steps, p, n in [(40, 0.01, 100), (10000, 0.001, 100), (6000, 1e-6, 100), (7, 1.0, 3)]:
        assert nonempty_horizon(steps, p, n) == trainer_horizon(steps, p, n)
    from cclib.book import budget
    from cclib.engine import training

    assert budget.MAX_LOSS_ROWS == training.MAX_LOSS_ROWS
    assert nonempty_horizon(40, 1e-300, 100) >= 10**20  # (1-p)^n rounds to 1: no division by 0


def test_every_training_chapter_has_limits_and_a_budget():
    from cclib.book.specs import SPECS

    for name, spec in SPECS.items():
        if "steps" in spec.names:
            assert {"max_steps", "max_memory_gb"} <= set(spec.names), name
            assert spec.budget is not None, name
            for profile in ("smoke", "quick", "paper"):
                spec.resolve(profile)  # every profile's defaults pass their own budget


def test_budget_refusals_name_the_driving_parameter():
    from cclib.book.specs import get_spec

    spec = get_spec("naive_baseline")
    with pytest.raises(ParameterError, match=r"'max_steps'.*p = 1e-12.*4e\+11"):
        spec.resolve("smoke", p=1e-12, nonempty_steps=True)
    # with the limit raised the run is allowed: its loss history is bounded (window means)
    spec.resolve("smoke", p=1e-12, nonempty_steps=True, max_steps=10**12)
    with pytest.raises(ParameterError, match=r"'max_memory_gb'.*seeds = 100000"):
        spec.resolve("smoke", seeds=100_000)
    mixing = get_spec("mixing")
    with pytest.raises(ParameterError, match=r"'max_steps'.*steps = 2,000,000"):
        mixing.resolve("smoke", finetune_steps=2_000_000)
    with pytest.raises(ParameterError, match=r"'max_memory_gb'.*sigma_points = 1000"):
        mixing.resolve("paper", sigma_points=1000, sigma_seeds=10)
    with pytest.raises(ParameterError, match=r"'max_memory_gb'.*width = 200000"):
        get_spec("equivalence").resolve("paper", width=200_000)


def test_default_max_memory_is_a_share_of_ram():
    from cclib.book.budget import default_max_memory_gb, machine_memory_bytes

    limit = default_max_memory_gb()
    assert limit == default_max_memory_gb() and 0.5 <= limit <= 8
    ram = machine_memory_bytes()
    if ram is not None:
        assert limit <= max(0.5, ram / 2 / 1e9)


def test_budget_needs_the_limits():
    from cclib.book.budget import default_budget

    with pytest.raises(TypeError, match="max_steps"):
        ChapterSpec("x", "X", (Param("steps", int, "steps", 10),), budget=default_budget)


def test_check_device(monkeypatch):
    import torch

    from cclib.engine.device import DeviceError, check_device

    monkeypatch.setenv("CCBOOK_DEVICE", "cpu")
    assert check_device() == torch.device("cpu")
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    monkeypatch.setenv("CCBOOK_DEVICE", f"cuda:{count}")
    with pytest.raises(DeviceError, match=f"CCBOOK_DEVICE='cuda:{count}'"):
        check_device()
    monkeypatch.setenv("CCBOOK_DEVICE", "not-a-device")
    with pytest.raises(DeviceError, match="not a torch device"):
        check_device()
    monkeypatch.delenv("CCBOOK_DEVICE")
    assert check_device().type in ("cpu", "cuda")


@pytest.mark.parametrize(
    "chapter", ["naive_baseline", "equivalence", "mixing", "mechanism", "semi_nmf", "regimes"]
)
@pytest.mark.parametrize("profile", ["quick", "paper"])
def test_paper_000_models_train_as_the_paper_above_smoke(chapter, profile):
    """Issue 15: every profile above smoke trains each paper-000 model as the paper does
    (appendix B: 10,000 non-empty batches of 2048, lr 0.003 with a cosine schedule);
    faster profiles cut grid points or seeds, never steps or batch."""
    cfg = get_spec(chapter).resolve(profile)
    assert (cfg.steps, cfg.batch_size, cfg.lr, cfg.nonempty_steps) == (10_000, 2048, 3e-3, True)
    for name in ("finetune_steps",):
        if name in cfg.as_dict():
            assert cfg.as_dict()[name] == 10_000
    if "long_steps" in cfg.as_dict():
        assert cfg.long_steps == 0  # the chapter's own models are already trained this long
