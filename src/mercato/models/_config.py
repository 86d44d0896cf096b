"""The config every model is built from: a frozen dataclass, validated once, when it is built.

Each model declares its hyperparameters as a subclass of :class:`ModelConfig`. A bad value raises
:class:`~mercato.errors.ConfigError` naming the setting and its valid range, so a typo in a
benchmark script fails before any data is read.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Self, TypeVar

from mercato.data._dataset import DEFAULT_EVENT_WEIGHTS
from mercato.data._schema import EventType
from mercato.errors import ConfigError

__all__ = ["ModelConfig", "build_config", "check_bool", "check_choice", "check_float", "check_int"]

ConfigT = TypeVar("ConfigT", bound="ModelConfig")


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    """Settings every model shares; each model's config adds its own.

    Attributes:
        event_weights: how much each behaviour counts when events are collapsed into one matrix
            (event type name -> weight >= 0; a type left out counts zero). ``None`` means
            :data:`~mercato.data.DEFAULT_EVENT_WEIGHTS`, where a purchase counts five views.
        seed: seeds every random choice of ``fit``: the same seed and data give the same model.

    Stability: stable; models may add settings with defaults.
    """

    event_weights: Mapping[str, float] | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.event_weights is not None:
            object.__setattr__(self, "event_weights", _checked_weights(self.event_weights))
        check_int(self, "seed", low=0)
        self._check()

    def _check(self) -> None:
        """Validates the subclass's own settings; called once, when the config is built."""

    @property
    def weights(self) -> Mapping[EventType, float]:
        """The event weights in effect, keyed by :class:`~mercato.data.EventType`."""
        if self.event_weights is None:
            return DEFAULT_EVENT_WEIGHTS
        return {EventType(name): weight for name, weight in self.event_weights.items()}

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values of every setting."""
        values = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        if values["event_weights"] is not None:
            values["event_weights"] = dict(values["event_weights"])
        return values

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Self:
        """The config with these settings; an unknown name raises ``ConfigError``."""
        _check_names(cls, values)
        return cls(**values)

    def with_overrides(self, **overrides: Any) -> Self:
        """A copy with some settings changed, validated again."""
        _check_names(type(self), overrides)
        return dataclasses.replace(self, **overrides)


def build_config(
    config_class: type[ConfigT], config: ModelConfig | None, overrides: Mapping[str, Any]
) -> ConfigT:
    """The config a model constructor was given: a config object, keyword settings, or both."""
    if config is None:
        return config_class.from_dict(overrides)
    if not isinstance(config, config_class):
        raise ConfigError(
            f"expected a {config_class.__name__}, got a {type(config).__name__}; pass the "
            f"model's own config class or plain keyword settings."
        )
    return config.with_overrides(**overrides) if overrides else config


def check_int(config: ModelConfig, name: str, *, low: int, high: int | None = None) -> None:
    """Checks that setting ``name`` is an integer in ``[low, high]``."""
    value = getattr(config, name)
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if not (is_int and value >= low and (high is None or value <= high)):
        valid = f"an integer in [{low}, {high}]" if high is not None else f"an integer >= {low}"
        raise ConfigError(f"{name} must be {valid}; got {value!r}.")


def check_float(
    config: ModelConfig,
    name: str,
    *,
    low: float,
    high: float = math.inf,
    low_inclusive: bool = True,
) -> None:
    """Checks that setting ``name`` is a finite number in its range; stores it as ``float``."""
    value = getattr(config, name)
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    above = is_number and (value >= low if low_inclusive else value > low)
    if not (is_number and math.isfinite(value) and above and value <= high):
        bracket = "[" if low_inclusive else "("
        upper = f"{high}]" if math.isfinite(high) else "inf)"
        raise ConfigError(
            f"{name} must be a finite number in {bracket}{low}, {upper}; got {value!r}."
        )
    object.__setattr__(config, name, float(value))


def check_bool(config: ModelConfig, name: str) -> None:
    """Raises ``ConfigError`` unless ``config.<name>`` is ``True`` or ``False``."""
    value = getattr(config, name)
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be true or false; got {value!r}.")


def check_names(config: ModelConfig, name: str, known: tuple[str, ...]) -> tuple[str, ...]:
    """Checks that setting ``name`` lists distinct names from ``known``; stores them as a tuple
    in ``known``'s order, so two configs that list the same names in another order are equal."""
    value = getattr(config, name)
    listed = list(value) if isinstance(value, Sequence) and not isinstance(value, str) else None
    if listed is None or any(entry not in known for entry in listed):
        raise ConfigError(f"{name} must be a list of names from {', '.join(known)}; got {value!r}.")
    if len(set(listed)) != len(listed):
        raise ConfigError(f"{name} lists a name twice; got {value!r}.")
    ordered = tuple(entry for entry in known if entry in listed)
    object.__setattr__(config, name, ordered)
    return ordered


def check_choice(config: ModelConfig, name: str, choices: tuple[str, ...]) -> None:
    """Checks that setting ``name`` is one of ``choices``."""
    value = getattr(config, name)
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}.")


def _checked_weights(weights: Mapping[str, float]) -> Mapping[str, float]:
    if not isinstance(weights, Mapping):
        raise ConfigError(
            f"event_weights must map event type names to weights; got {type(weights).__name__}."
        )
    known = ", ".join(event.value for event in EventType)
    checked: dict[str, float] = {}
    for name, weight in weights.items():
        if str(name) not in {event.value for event in EventType}:
            raise ConfigError(f"event_weights has unknown event type {name!r}; use {known}.")
        is_number = isinstance(weight, int | float) and not isinstance(weight, bool)
        if not (is_number and math.isfinite(weight) and weight >= 0):
            raise ConfigError(
                f"event_weights[{str(name)!r}] must be a finite number >= 0; got {weight!r}."
            )
        checked[EventType(name).value] = float(weight)
    if not any(weight > 0 for weight in checked.values()):
        raise ConfigError(
            f"event_weights must give at least one event type a weight > 0; got {checked!r}."
        )

    # Read-only, so that a caller's dict changed later cannot change a frozen config.
    return MappingProxyType(checked)


def _check_names(config_class: type[ModelConfig], values: Mapping[str, Any]) -> None:
    names = {field.name for field in dataclasses.fields(config_class)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(
            f"{config_class.__name__} has no setting {unknown[0]!r}; "
            f"its settings are {', '.join(sorted(names))}."
        )
