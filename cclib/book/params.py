"""Chapter parameters: specifications, profiles and validation.

Every chapter has a :class:`ChapterSpec` (see :mod:`cclib.book.specs`) listing its parameters,
their type, what values are allowed and the value each *profile* uses:

- ``smoke``: seconds on a CPU, only checks that the chapter runs end to end;
- ``quick``: minutes on a CPU, big enough for the claims to be meaningful;
- ``paper``: the settings of the papers (meant for a GPU).

The default profile is ``paper`` on a GPU and ``quick`` on a CPU. Bad input raises a
:class:`ParameterError` whose message names the parameter and what is allowed, before any
work is done.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..engine.errors import SettingError

PROFILES = ("smoke", "quick", "paper")

KINDS = (int, float, str, bool)

MIXING_KINDS = ("clean", "gaussian", "symmetric", "embedding")


class ParameterError(SettingError):
    """A chapter parameter, profile or chapter name that is not allowed."""


def default_profile() -> str:
    """``paper`` when a CUDA GPU is available, else ``quick``."""
    import torch  # lazy: importing cclib must stay cheap

    return "paper" if torch.cuda.is_available() else "quick"


def check_profile(profile: str | None) -> str:
    """``profile`` itself if it is a known profile, the default profile if it is None."""
    if profile is None:
        return default_profile()
    if not isinstance(profile, str) or profile not in PROFILES:
        raise ParameterError(f"unknown profile {profile!r}; allowed: {', '.join(PROFILES)}")
    return profile


# --------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class Check:
    """A range check: ``check(value)`` returns None when allowed, else what is allowed."""

    test: Callable[[Any], bool]
    description: str

    def __call__(self, value: Any) -> str | None:
        return None if self.test(value) else f"must be {self.description}"


def in_open_closed(lo: float, hi: float) -> Check:
    """Allowed: ``lo < value <= hi``."""
    return Check(lambda v: lo < v <= hi, f"in ({lo:g}, {hi:g}]")


def at_least(x: float) -> Check:
    """Allowed: ``value >= x``."""
    return Check(lambda v: v >= x, f">= {x:g}")


def at_most(x: float) -> Check:
    """Allowed: ``value <= x``."""
    return Check(lambda v: v <= x, f"<= {x:g}")


non_negative = Check(lambda v: v >= 0, ">= 0")
positive = Check(lambda v: v > 0, "> 0")


@dataclass(frozen=True)
class Relation:
    """A constraint between parameters, checked on the final values.

    ``relation(values)`` returns None when it holds, else the full error message (which
    names the offending parameter).
    """

    test: Callable[[Mapping[str, Any]], bool]
    name: str
    message: Callable[[Mapping[str, Any]], str]

    def __call__(self, values: Mapping[str, Any]) -> str | None:
        return None if self.test(values) else self.message(values)


def not_greater(small: str, large: str) -> Relation:
    """``values[small] <= values[large]`` (e.g. at most m inputs active: ``s <= m``)."""

    def test(v: Mapping[str, Any]) -> bool:
        if v.get(small) is None or v.get(large) is None:
            return True
        return v[small] <= v[large]

    return Relation(
        test,
        f"{small} <= {large}",
        lambda v: f"parameter {small!r}: must be <= {large} (= {v[large]!r}), got {v[small]!r}",
    )


# --------------------------------------------------------------------------- Param


_KIND_NAMES = {int: "integer", float: "number", str: "string", bool: "boolean"}


@dataclass(frozen=True)
class Param:
    """One chapter parameter.

    ``values`` maps each profile to its default (a single value means the same for all
    profiles). ``check`` restricts the range, ``choices`` the allowed strings.
    """

    name: str
    kind: type
    help: str
    values: Mapping[str, Any]
    check: Callable[[Any], str | None] | None = None
    choices: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise TypeError(f"Param {self.name!r}: kind must be one of int, float, str, bool")
        values = self.values
        if not isinstance(values, Mapping):
            values = {p: values for p in PROFILES}
        missing = [p for p in PROFILES if p not in values]
        extra = [p for p in values if p not in PROFILES]
        if missing or extra:
            raise TypeError(f"Param {self.name!r}: values needs exactly the profiles {PROFILES}")
        object.__setattr__(self, "values", dict(values))
        if self.choices is not None:
            object.__setattr__(self, "choices", tuple(self.choices))
        for value in self.values.values():  # the defaults must pass their own checks
            self.validate(value)

    @property
    def kind_name(self) -> str:
        return self.kind.__name__

    def describe(self) -> str:
        """Type and allowed values, e.g. ``float in (0, 1]``."""
        if self.choices is not None:
            return f"{self.kind_name}: {' | '.join(self.choices)}"
        desc = getattr(self.check, "description", None)
        return f"{self.kind_name} {desc}" if desc else self.kind_name

    def _fail(self, what: str) -> ParameterError:
        return ParameterError(f"parameter {self.name!r}: {what}")

    def coerce(self, value: Any) -> Any:
        """``value`` as this parameter's Python type, or a :class:`ParameterError`."""
        if value is None:
            return None
        # numpy / torch scalars -> Python scalars
        if not isinstance(value, (bool, int, float, str)) and hasattr(value, "item"):
            try:
                value = value.item()
            except (ValueError, RuntimeError, TypeError):
                pass
        expects = f"expects {'an' if self.kind is int else 'a'} {_KIND_NAMES[self.kind]}"
        if self.kind is bool:
            if not isinstance(value, bool):
                raise self._fail(f"{expects} (true or false), got {value!r}")
            return value
        if self.kind is str:
            if not isinstance(value, str):
                raise self._fail(f"{expects}, got {value!r}")
            return value
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise self._fail(f"{expects}, got {value!r}")
        if self.kind is int:
            if not isinstance(value, numbers.Integral):
                raise self._fail(f"{expects}, got {value!r}")
            return int(value)
        value = float(value)
        if not math.isfinite(value):
            raise self._fail(f"expects a finite number, got {value!r}")
        return value

    def validate(self, value: Any) -> Any:
        """Coerce ``value`` and run the choices and range check; return the clean value."""
        value = self.coerce(value)
        if value is None:
            return None
        if self.choices is not None and value not in self.choices:
            raise self._fail(f"must be one of {', '.join(self.choices)}; got {value!r}")
        if self.check is not None:
            problem = self.check(value)
            if problem:
                raise self._fail(f"{problem}, got {value!r}")
        return value

    def parse(self, text: str) -> Any:
        """Parse a command-line string into this parameter's type (``none`` means None)."""
        if not isinstance(text, str):
            return self.validate(text)
        raw = text.strip()
        if raw.lower() == "none":
            return None
        if self.kind is bool:
            low = raw.lower()
            if low in ("true", "1", "yes"):
                return True
            if low in ("false", "0", "no"):
                return False
            raise self._fail(f"expects a boolean (true/false, 1/0, yes/no), got {text!r}")
        if self.kind is int:
            try:
                return self.validate(int(raw))
            except ValueError as exc:
                if isinstance(exc, ParameterError):
                    raise
            try:  # allow 1e4 and 1000.0 when they are whole numbers
                as_float = float(raw)
            except ValueError:
                as_float = math.nan
            if math.isfinite(as_float) and as_float.is_integer():
                return self.validate(int(as_float))
            raise self._fail(f"expects an integer, got {text!r}")
        if self.kind is float:
            try:
                number = float(raw)
            except ValueError:
                raise self._fail(f"expects a number, got {text!r}") from None
            return self.validate(number)
        return self.validate(raw)


# --------------------------------------------------------------------------- config


class ChapterConfig:
    """The resolved, validated parameters of one chapter run (immutable).

    Attribute access (``cfg.p``), ``cfg.profile``, ``cfg.chapter`` and ``cfg.as_dict()``.
    """

    __slots__ = ("_chapter", "_profile", "_values")

    def __init__(self, chapter: str, profile: str, values: Mapping[str, Any]):
        object.__setattr__(self, "_chapter", chapter)
        object.__setattr__(self, "_profile", profile)
        object.__setattr__(self, "_values", dict(values))

    @property
    def chapter(self) -> str:
        return self._chapter

    @property
    def profile(self) -> str:
        return self._profile

    def __getattr__(self, name: str) -> Any:
        values = object.__getattribute__(self, "_values")
        try:
            return values[name]
        except KeyError:
            raise AttributeError(
                f"chapter {self._chapter!r} has no parameter {name!r}; known: "
                f"{', '.join(values) or '(none)'}"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("ChapterConfig is immutable; re-run configure() with new values")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("ChapterConfig is immutable")

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ChapterConfig):
            return NotImplemented
        return (self._chapter, self._profile, self._values) == (
            other._chapter,
            other._profile,
            other._values,
        )

    def __hash__(self) -> int:
        return hash((self._chapter, self._profile, tuple(sorted(self._values.items()))))

    def __dir__(self) -> Iterable[str]:
        return [*super().__dir__(), *self._values]

    def as_dict(self) -> dict[str, Any]:
        """JSON-able dict of every parameter plus ``profile``."""
        return {"profile": self._profile, **self._values}

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"ChapterConfig({self._chapter!r}, profile={self._profile!r}, {inner})"


BUDGET_LIMITS = ("max_steps", "max_memory_gb")
"""The parameters a budget is checked against (``cclib.book.specs.training_params`` has both)."""

DEFAULT_BUDGET_NEEDS = frozenset(
    {"seeds", "p", "n_features", "n_neurons", "steps", "batch_size", "nonempty_steps"}
)
"""Parameters from which :data:`cclib.book.budget.default_budget` estimates a chapter's run."""


@dataclass(frozen=True)
class ChapterSpec:
    """The parameters of one chapter, plus relations between them (e.g. ``s <= m``).

    ``budget`` (resolved config -> :class:`cclib.book.budget.Budget`) estimates the training
    steps and memory the configuration implies; :meth:`resolve` refuses a configuration
    above ``max_steps`` or ``max_memory_gb``. A spec with both limits but no budget gets
    :data:`cclib.book.budget.default_budget` when it has the parameters that needs (``seeds``
    MLP instances from ``model_params`` and ``training_params``).
    """

    name: str
    title: str
    params: tuple[Param, ...] = ()
    relations: tuple[Callable[[Mapping[str, Any]], str | None], ...] = ()
    budget: Callable[[ChapterConfig], Any] | None = None
    _by_name: dict[str, Param] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", tuple(self.params))
        object.__setattr__(self, "relations", tuple(self.relations))
        by_name: dict[str, Param] = {}
        for param in self.params:
            if param.name in by_name or param.name == "profile":
                raise TypeError(f"chapter {self.name!r}: duplicate parameter {param.name!r}")
            by_name[param.name] = param
        object.__setattr__(self, "_by_name", by_name)
        has_limits = all(name in by_name for name in BUDGET_LIMITS)
        if self.budget is not None and not has_limits:
            raise TypeError(
                f"chapter {self.name!r}: a budget needs the parameters {', '.join(BUDGET_LIMITS)}"
            )
        if self.budget is None and has_limits and DEFAULT_BUDGET_NEEDS <= set(by_name):
            from .budget import default_budget

            object.__setattr__(self, "budget", default_budget)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def param(self, name: str) -> Param:
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(self.names) or "(none besides profile)"
            raise ParameterError(
                f"unknown parameter {name!r} for chapter {self.name!r}; known: {known}"
            ) from None

    def resolve(self, profile: str | None = None, **overrides: Any) -> ChapterConfig:
        """Validated configuration: the profile's values, replaced by non-None overrides."""
        for name in overrides:
            self.param(name)  # unknown names first, before anything else is looked at
        if profile is not None:
            check_profile(profile)
        clean = {name: self.param(name).validate(v) for name, v in overrides.items()}
        profile = check_profile(profile)
        values: dict[str, Any] = {}
        for param in self.params:
            value = clean.get(param.name)
            values[param.name] = param.values[profile] if value is None else value
        for relation in self.relations:
            problem = relation(values)
            if problem:
                raise ParameterError(problem)
        cfg = ChapterConfig(self.name, profile, values)
        if self.budget is not None:
            check_budget(self.budget(cfg), cfg)
        return cfg

    def parse_cli(self, pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
        """``[(name, text), ...]`` from the command line -> ``{name: typed value}``."""
        out: dict[str, Any] = {}
        for name, text in pairs:
            if name == "profile":
                raise ParameterError("parameter 'profile': use --profile, not -p profile")
            param = self.param(name)
            if name in out:
                raise ParameterError(f"parameter {name!r}: given more than once")
            out[name] = param.parse(text)
        return out


def check_budget(budget: Any, cfg: ChapterConfig) -> None:
    """Refuse (one :class:`ParameterError`) a configuration whose :class:`cclib.book.budget.Budget`
    exceeds its ``max_steps`` or ``max_memory_gb``; the message names the parameters that
    drive the number, the number, and the limit."""
    from .budget import gb

    if budget.steps > cfg.max_steps:
        raise ParameterError(
            f"parameter 'max_steps': {budget.steps_reason} asks for {budget.steps:.3g} training "
            f"steps for one instance, above max_steps = {cfg.max_steps:,} "
            "(lower steps or raise p; or raise max_steps if you mean it)"
        )
    if budget.memory > cfg.max_memory_gb * 1e9:
        raise ParameterError(
            f"parameter 'max_memory_gb': one training run needs an estimated "
            f"{gb(budget.memory)} ({budget.memory_reason}), above max_memory_gb = "
            f"{cfg.max_memory_gb:g} (lower the parameters named; or raise max_memory_gb if "
            "the machine has the memory)"
        )


MAX_HOURS_DEFAULT = 12.0
"""Default ``max_hours``: a night's run. Above it the CLI refuses to start (see
:mod:`cclib.book.estimate`) unless the user raises the limit."""


def max_hours_param(values: Any = MAX_HOURS_DEFAULT) -> Param:
    """``max_hours``: the most hours of training the CLI starts for this chapter on this
    machine, by the estimate it prints before any work (sweeps in the cache cost nothing)."""
    return Param(
        "max_hours",
        float,
        "most estimated hours of training on this machine before `run`/`build` refuse, positive",
        values,
        check=positive,
    )


def configure(name: str, namespace: Mapping[str, Any]) -> ChapterConfig:
    """Resolve chapter ``name`` from the notebook's parameters (``globals()``).

    Picks ``profile`` and the spec's parameter names out of ``namespace`` (None means
    "the profile's value"), validates them (and their budget), checks the device and the
    cache folder, and prints which profile and device are used. Every check here also runs
    when the CLI plans a run; repeating them makes a direct papermill run fail as early.
    """
    from .specs import get_spec

    spec = get_spec(name)
    overrides = {p: namespace.get(p) for p in spec.names}
    cfg = spec.resolve(namespace.get("profile"), **overrides)
    from ..engine.cache import check_cache_dir
    from ..engine.device import check_device
    from ..engine.executor import check_executor, executor_label

    device = check_device()
    check_cache_dir()
    check_executor()
    print(f"profile: {cfg.profile} (device: {device}, executor: {executor_label()})")
    from .tables import show_parameters

    show_parameters(spec, cfg)
    return cfg


# --------------------------------------------------------------------------- library
# Constructors for parameters that several chapters share. Each returns a Param; pass
# ``values`` as one value or a dict profile -> value.


def p_param(
    values: Any = 0.01,
    name: str = "p",
    help: str = "feature probability during training, in (0, 1]",
) -> Param:
    return Param(name, float, help, values, check=in_open_closed(0, 1))


def sigma_param(
    values: Any = 0.02,
    name: str = "sigma",
    help: str = "std of the Gaussian mixing matrix (gaussian/symmetric only)",
) -> Param:
    return Param(name, float, help, values, check=non_negative)


def mixing_param(
    values: Any = "clean",
    name: str = "mixing",
    help: str = "mixing matrix: clean, gaussian, symmetric or embedding",
) -> Param:
    return Param(name, str, help, values, choices=MIXING_KINDS)


def steps_param(values: Any, name: str = "steps", help: str = "training steps") -> Param:
    return Param(name, int, help, values, check=at_least(1))


def seeds_param(
    values: Any, name: str = "seeds", help: str = "independent training seeds per configuration"
) -> Param:
    return Param(name, int, help, values, check=at_least(1))


def batch_size_param(values: Any, name: str = "batch_size", help: str = "batch size") -> Param:
    return Param(name, int, help, values, check=at_least(1))


def lr_param(
    values: Any = 3e-3, name: str = "lr", help: str = "peak learning rate (AdamW)"
) -> Param:
    return Param(name, float, help, values, check=positive)


def weight_decay_param(
    values: Any = 0.01, name: str = "weight_decay", help: str = "AdamW weight decay"
) -> Param:
    return Param(name, float, help, values, check=non_negative)


def count_param(name: str, values: Any, help: str, minimum: int = 1) -> Param:
    """An integer count with a lower bound (sizes, sample counts)."""
    return Param(name, int, help, values, check=at_least(minimum))


def float_param(name: str, values: Any, help: str, check: Callable | None = None) -> Param:
    return Param(name, float, help, values, check=check)


def bool_param(name: str, values: Any, help: str) -> Param:
    return Param(name, bool, help, values)


def choice_param(name: str, values: Any, help: str, choices: Iterable[str]) -> Param:
    return Param(name, str, help, values, choices=tuple(choices))


def m_param(values: Any = 100, name: str = "m", help: str = "number of boolean inputs") -> Param:
    return Param(name, int, help, values, check=at_least(1))


def s_param(
    values: Any = 3, name: str = "s", help: str = "active inputs per sample (exactly s), at most m"
) -> Param:
    return Param(name, int, help, values, check=at_least(1))


def d_param(values: Any, name: str = "d", help: str = "number of neurons") -> Param:
    return Param(name, int, help, values, check=at_least(1))


s_at_most_m = not_greater("s", "m")
"""Relation for Universal-AND chapters: at most ``m`` inputs can be on."""
