"""The demo shop's one config object: sizes, time span, languages and the seed."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from datetime import date
from typing import Any, TypeGuard

from mercato.errors import ConfigError

__all__ = ["PRESETS", "DemoConfig"]

# Preset sizes, each calibrated to its event count with the default behaviour parameters:
# tiny ~1.5k events (unit tests), small ~30k, medium ~1M, large ~6M (benchmarks).
PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {"n_users": 50, "n_items": 48, "n_days": 28, "sessions_per_user": 3.0},
    "small": {"n_users": 1_000, "n_items": 400, "n_days": 60, "sessions_per_user": 3.5},
    "medium": {"n_users": 20_000, "n_items": 4_000, "n_days": 90, "sessions_per_user": 5.5},
    "large": {"n_users": 100_000, "n_items": 20_000, "n_days": 180, "sessions_per_user": 6.5},
}


@dataclass(frozen=True)
class DemoConfig:
    """How big the demo shop is, which period it covers and which seed draws it.

    Everything the simulation does is a deterministic function of these settings: the same config
    gives identical tables. Bad values raise :class:`~mercato.errors.ConfigError` when the config
    is built.

    Stability: provisional; new settings may be added with defaults that keep today's output.

    Attributes:
        n_users: Number of shoppers (at least 1).
        n_items: Number of items in the catalogue (at least 1).
        n_days: Length of the simulated period in days (at least 7, so every weekday occurs).
        sessions_per_user: Mean number of shopping sessions per user over the period (> 0).
        start: First day of the period as an ISO date (``YYYY-MM-DD``).
        seed: Seed of every random draw.
        chinese_share: Share of users and of items whose text is Chinese, in [0, 1].
        video_share: Share of items that get a product clip when media is written, in [0, 1].
    """

    n_users: int = 200
    n_items: int = 120
    n_days: int = 60
    sessions_per_user: float = 4.0
    start: str = "2026-01-05"
    seed: int = 0
    chinese_share: float = 0.2
    video_share: float = 0.05

    def __post_init__(self) -> None:
        for name in ("n_users", "n_items", "n_days", "seed"):
            _require_int(name, getattr(self, name))
        _require_at_least("n_users", self.n_users, 1)
        _require_at_least("n_items", self.n_items, 1)
        _require_at_least("n_days", self.n_days, 7)
        _require_at_least("seed", self.seed, 0)
        if not _is_real(self.sessions_per_user) or not self.sessions_per_user > 0:
            raise ConfigError(
                f"DemoConfig.sessions_per_user must be a positive number; got "
                f"{self.sessions_per_user!r}. Use for example 4.0."
            )
        for name in ("chinese_share", "video_share"):
            _require_share(name, getattr(self, name))
        _require_iso_date(self.start)

    @property
    def start_date(self) -> date:
        """The first simulated day."""
        return date.fromisoformat(self.start)

    @classmethod
    def preset(cls, size: str, seed: int = 0) -> DemoConfig:
        """A config of a named size.

        Args:
            size: ``'tiny'`` (50 users, ~1.5k events, for unit tests), ``'small'`` (1k users,
                ~30k events), ``'medium'`` (20k users, ~1M events) or ``'large'`` (100k users,
                ~6M events).
            seed: Seed of every random draw.

        Raises:
            ConfigError: If ``size`` is not one of the names above.
        """
        if size not in PRESETS:
            raise ConfigError(f"Unknown demo size {size!r}; expected one of {', '.join(PRESETS)}.")
        return cls(**PRESETS[size], seed=seed)

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain values, e.g. for logging or a benchmark report."""
        return {field.name: getattr(self, field.name) for field in fields(self)}


def _is_real(value: object) -> TypeGuard[float]:
    """A finite int or float (``bool`` excluded)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _require_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"DemoConfig.{name} must be an integer; got {value!r}.")


def _require_at_least(name: str, value: int, minimum: int) -> None:
    if value < minimum:
        raise ConfigError(f"DemoConfig.{name} must be at least {minimum}; got {value}.")


def _require_share(name: str, value: object) -> None:
    if not _is_real(value) or not 0.0 <= value <= 1.0:
        raise ConfigError(f"DemoConfig.{name} must be a share between 0 and 1; got {value!r}.")


def _require_iso_date(value: object) -> None:
    message = f"DemoConfig.start must be an ISO date like '2026-01-05'; got {value!r}."
    if not isinstance(value, str) or len(value) != 10:
        raise ConfigError(message)
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ConfigError(message) from None
