"""Splitters on a small hand-made shop: who is held out, and that id spaces are kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mercato.data import Dataset, Store, frame_source, ingest
from mercato.errors import ConfigError, DataError
from mercato.evaluate import (
    Split,
    cold_item_split,
    cold_user_split,
    global_temporal_split,
    leave_last_out,
    per_user_temporal_split,
    random_split,
    targets_matrix,
)


@pytest.fixture
def shop(tmp_path: Path) -> Dataset:
    """u1 has 4 events, u2 has 2, u3 has 1; one day apart, in order."""
    rows = [
        ("u1", "a", "2024-01-01"),
        ("u1", "b", "2024-01-02"),
        ("u1", "c", "2024-01-03"),
        ("u1", "d", "2024-01-04"),
        ("u2", "a", "2024-01-02"),
        ("u2", "e", "2024-01-05"),
        ("u3", "b", "2024-01-06"),
    ]
    events = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"]).assign(
        event_type="purchase"
    )
    ingest(frame_source("shop", {"events": events}), tmp_path / "s.duckdb")
    return Store(tmp_path / "s.duckdb").dataset()


def _held(dataset: Dataset, test: pd.DataFrame) -> set[tuple[str, str]]:
    return {
        (dataset.user_ids[u], dataset.item_ids[i])
        for u, i in zip(test["user_idx"], test["item_idx"], strict=True)
    }


def test_leave_last_out_holds_each_users_last_event(shop: Dataset) -> None:
    split = leave_last_out(shop)

    assert _held(shop, split.test) == {("u1", "d"), ("u2", "e")}  # u3 has too few to hold out
    assert len(split.train.events) == 5
    assert split.train.n_items == shop.n_items


def test_leave_last_out_with_two_held_out(shop: Dataset) -> None:
    split = leave_last_out(shop, n=2)

    assert _held(shop, split.test) == {("u1", "c"), ("u1", "d")}


def test_global_temporal_split_cuts_at_the_time(shop: Dataset) -> None:
    split = global_temporal_split(shop, "2024-01-04")

    assert _held(shop, split.test) == {("u1", "d"), ("u2", "e"), ("u3", "b")}


def test_temporal_split_needs_timestamps(tmp_path: Path) -> None:
    events = pd.DataFrame({"user_id": ["u"], "item_id": ["i"], "event_type": ["view"]})
    ingest(frame_source("s", {"events": events}), tmp_path / "s.duckdb")

    with pytest.raises(DataError, match="needs timestamps"):
        global_temporal_split(Store(tmp_path / "s.duckdb").dataset(), "2024-01-01")


def test_per_user_temporal_ratio_holds_the_latest_share(shop: Dataset) -> None:
    split = per_user_temporal_split(shop, test_ratio=0.5)

    assert _held(shop, split.test) == {("u1", "c"), ("u1", "d"), ("u2", "e")}


def test_random_split_is_seeded_and_partitions(shop: Dataset) -> None:
    first = random_split(shop, test_ratio=0.4, seed=3)
    again = random_split(shop, test_ratio=0.4, seed=3)

    assert first.test.equals(again.test)
    assert len(first.test) + len(first.train.events) == len(shop.events)


def test_cold_user_split_holds_whole_users(shop: Dataset) -> None:
    split = cold_user_split(shop, user_share=0.34, seed=0)

    held_users = set(split.test["user_idx"])
    assert len(held_users) == 1
    assert held_users.isdisjoint(set(split.train.events["user_idx"]))


def test_cold_item_split_holds_whole_items(shop: Dataset) -> None:
    split = cold_item_split(shop, item_share=0.2, seed=0)

    held_items = set(split.test["item_idx"])
    assert len(held_items) == 1
    assert held_items.isdisjoint(set(split.train.events["item_idx"]))


def test_targets_matrix_rows_follow_the_given_users(shop: Dataset) -> None:
    split = leave_last_out(shop)
    users = np.array(sorted(split.test_users()))[::-1]

    targets = targets_matrix(split.test, users, shop.n_items)

    assert targets.shape == (2, shop.n_items)
    assert shop.item_ids[targets[0].indices[0]] == _last_item(shop, split, users[0])


def _last_item(shop: Dataset, split: Split, user: int) -> str:
    test = split.test
    return str(shop.item_ids[int(test[test["user_idx"] == user]["item_idx"].iloc[0])])


@pytest.mark.parametrize("ratio", [0.0, 1.0, -0.1])
def test_bad_ratios_are_config_errors(shop: Dataset, ratio: float) -> None:
    with pytest.raises(ConfigError):
        random_split(shop, test_ratio=ratio)
