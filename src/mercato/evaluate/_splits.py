"""Splitters for a shop's own data: leave-last-out, temporal, random, cold users and cold items.

Every splitter keeps the dataset's id spaces, so a test item never seen in training still has
its dense id (and can be recommended from content by models that have it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mercato.data import Dataset
from mercato.errors import ConfigError, DataError

__all__ = [
    "Split",
    "cold_item_split",
    "cold_user_split",
    "global_temporal_split",
    "leave_last_out",
    "per_user_temporal_split",
    "random_split",
    "targets_matrix",
]


@dataclass(frozen=True)
class Split:
    """Training events and held-out events over the same id spaces."""

    train: Dataset
    test: pd.DataFrame

    def test_users(self) -> np.ndarray:
        """Users with held-out events, ascending."""
        return np.unique(self.test["user_idx"].to_numpy())


def targets_matrix(test: pd.DataFrame, users: np.ndarray, n_items: int) -> sp.csr_matrix:
    """Binary [len(users), n_items] targets: row r holds the held-out items of ``users[r]``."""
    row_of = pd.Series(np.arange(len(users)), index=users)
    test = test[test["user_idx"].isin(users)]
    rows = row_of.loc[test["user_idx"].to_numpy()].to_numpy()
    matrix = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, test["item_idx"].to_numpy())),
        shape=(len(users), n_items),
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def _ordered(events: pd.DataFrame) -> pd.DataFrame:
    """Events of known users in time order (source order breaks ties and stands in for time)."""
    events = events[events["user_idx"] >= 0]
    return events.sort_values(["user_idx", "timestamp", "position"], kind="stable")


def leave_last_out(dataset: Dataset, *, n: int = 1, min_train: int = 1) -> Split:
    """Hold out each user's last ``n`` events; users with fewer than ``n + min_train`` stay whole.

    Raises:
        ConfigError: ``n`` or ``min_train`` below 1.
    """
    if n < 1 or min_train < 1:
        raise ConfigError(f"leave_last_out needs n >= 1 and min_train >= 1, got {n}, {min_train}")

    events = _ordered(dataset.events)
    from_end = events.groupby("user_idx").cumcount(ascending=False)
    sizes = events.groupby("user_idx")["item_idx"].transform("size")
    held = (from_end < n) & (sizes >= n + min_train)
    return Split(dataset.with_events(events[~held]), events[held])


def global_temporal_split(dataset: Dataset, cutoff: pd.Timestamp | str) -> Split:
    """Events before ``cutoff`` train, events at or after it test."""
    events = dataset.events
    if events["timestamp"].isna().all():
        raise DataError(
            "a temporal split needs timestamps, and this dataset has none",
            fix="use leave_last_out or random_split",
        )
    cutoff = pd.Timestamp(cutoff)
    is_test = events["timestamp"] >= cutoff
    return Split(dataset.with_events(events[~is_test]), events[is_test])


def per_user_temporal_split(dataset: Dataset, *, test_ratio: float = 0.2) -> Split:
    """The latest ``test_ratio`` of each user's events (at least one when they have two)."""
    if not 0 < test_ratio < 1:
        raise ConfigError(f"test_ratio must be in (0, 1), got {test_ratio}")

    events = _ordered(dataset.events)
    rank = events.groupby("user_idx").cumcount()
    sizes = events.groupby("user_idx")["item_idx"].transform("size")
    n_test = np.where(sizes >= 2, np.maximum(1, np.floor(sizes * test_ratio)), 0)
    held = rank >= sizes - n_test
    return Split(dataset.with_events(events[~held]), events[held])


def random_split(dataset: Dataset, *, test_ratio: float = 0.2, seed: int = 0) -> Split:
    """A random ``test_ratio`` of all events, drawn with ``seed``."""
    if not 0 < test_ratio < 1:
        raise ConfigError(f"test_ratio must be in (0, 1), got {test_ratio}")
    rng = np.random.default_rng(seed)
    held = rng.random(len(dataset.events)) < test_ratio
    return Split(dataset.with_events(dataset.events[~held]), dataset.events[held])


def cold_user_split(dataset: Dataset, *, user_share: float = 0.1, seed: int = 0) -> Split:
    """All events of a random ``user_share`` of users are held out: they are new at test time."""
    users = _draw(np.unique(dataset.events["user_idx"]), user_share, seed)
    held = dataset.events["user_idx"].isin(users)
    return Split(dataset.with_events(dataset.events[~held]), dataset.events[held])


def cold_item_split(dataset: Dataset, *, item_share: float = 0.1, seed: int = 0) -> Split:
    """All events of a random ``item_share`` of items are held out: they are new at test time."""
    items = _draw(np.unique(dataset.events["item_idx"]), item_share, seed)
    held = dataset.events["item_idx"].isin(items)
    return Split(dataset.with_events(dataset.events[~held]), dataset.events[held])


def _draw(values: np.ndarray, share: float, seed: int) -> np.ndarray:
    if not 0 < share < 1:
        raise ConfigError(f"the held-out share must be in (0, 1), got {share}")
    rng = np.random.default_rng(seed)
    count = max(1, round(len(values) * share))
    return rng.choice(values, size=count, replace=False)
