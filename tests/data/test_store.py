"""The store's read side: summary figures, Arrow and Parquet out, and loading a Dataset."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from mercato.data import Store, frame_source, ingest
from mercato.errors import StoreError


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """Two customers, one anonymous session, a catalogue of four and a users table of three.

    u1 views i1 and buys it on two days, and buys i2; u2 views and buys i2 on one day; an
    anonymous session views i3. i4 and u3 have no events.
    """
    events = pd.DataFrame(
        [
            ("u1", "i1", "view", "2024-01-01 09:00", "a"),
            ("u1", "i1", "purchase", "2024-01-01 09:05", "a"),
            ("u2", "i2", "view", "2024-01-02 12:00", "b"),
            ("u2", "i2", "purchase", "2024-01-02 12:01", "b"),
            ("u1", "i1", "purchase", "2024-01-03 18:00", "c"),
            ("u1", "i2", "purchase", "2024-01-03 18:00", "c"),
            (None, "i3", "view", "2024-01-05 00:00", "d"),
        ],
        columns=["user_id", "item_id", "event_type", "timestamp", "session_id"],
    )
    items = pd.DataFrame(
        {
            "item_id": ["i1", "i2", "i3", "i4"],
            "title": ["Tea", None, None, None],
            "description": [None, "A cup", None, None],
            "category": ["Food", None, None, None],
            "price": [9.5, 3.0, 1.0, None],
            "image": ["/img/i1.jpg", None, None, None],
        }
    )
    users = pd.DataFrame({"user_id": ["u1", "u2", "u3"]})
    path = tmp_path_factory.mktemp("store") / "shop.duckdb"
    ingest(frame_source("tea-shop", {"events": events, "items": items, "users": users}), path)
    return Store(path)


def test_summary_counts_tables_types_and_ids(store: Store) -> None:
    summary = store.summary()

    assert summary.source == "tea-shop"
    assert summary.rows == {"events": 7, "items": 4, "users": 3}
    assert summary.event_types == {"view": 3, "purchase": 4}
    assert summary.first_event == datetime(2024, 1, 1, 9)
    assert summary.last_event == datetime(2024, 1, 5)
    assert (summary.n_users, summary.n_items, summary.n_sessions) == (3, 4, 4)


def test_summary_sparsity_coverage_and_repeat_rates(store: Store) -> None:
    summary = store.summary()

    # Three distinct (user, item) pairs out of 3 users x 4 items.
    assert summary.sparsity == pytest.approx(1 - 3 / 12)
    assert summary.coverage == {
        "catalogue": 4,
        "text": 2,
        "image": 1,
        "video": 0,
        "price": 3,
        "category": 1,
    }
    # Purchase pairs (u1, i1) x2, (u1, i2) x1, (u2, i2) x1: one of three was bought again.
    assert summary.repeat_purchase_rate == pytest.approx(1 / 3)
    # u1 bought on two days, u2 on one.
    assert summary.repeat_customer_rate == pytest.approx(1 / 2)
    assert summary.cleaning == []


def test_arrow_joins_string_ids_back(store: Store) -> None:
    events = store.arrow("events")

    assert events.column_names == [
        "user_id",
        "item_id",
        "event_type",
        "timestamp",
        "session_id",
        "value",
        "price",
        "quantity",
        "attributes",
    ]
    assert events.column("user_id").to_pylist() == ["u1", "u1", "u2", "u2", "u1", "u1", None]
    assert events.column("session_id").to_pylist() == ["a", "a", "b", "b", "c", "c", "d"]
    assert store.arrow("users").column("user_id").to_pylist() == ["u1", "u2", "u3"]
    with pytest.raises(StoreError, match="the store has no 'reviews' table; it has events"):
        store.arrow("reviews")


def test_export_parquet_writes_every_table(store: Store, tmp_path: Path) -> None:
    written = store.export_parquet(tmp_path / "out")

    assert [path.name for path in written] == ["events.parquet", "items.parquet", "users.parquet"]
    events = pq.read_table(tmp_path / "out" / "events.parquet")
    assert events.to_pylist() == store.arrow("events").to_pylist()
    items = pq.read_table(tmp_path / "out" / "items.parquet").to_pylist()
    assert [item["item_id"] for item in items] == ["i1", "i2", "i3", "i4"]
    assert items[0]["image"] == "/img/i1.jpg"


def test_dataset_covers_every_id(store: Store) -> None:
    dataset = store.dataset()

    assert dataset.name == "tea-shop"
    assert (dataset.n_users, dataset.n_items) == (3, 4)
    assert dataset.items.index.tolist() == [0, 1, 2, 3]
    assert dataset.items["item_id"].tolist() == ["i1", "i2", "i3", "i4"]
    assert dataset.users["user_id"].tolist() == ["u1", "u2", "u3"]
    assert dataset.session_ids.tolist() == ["a", "b", "c", "d"]
    assert dataset.reviews.empty
    assert dataset.queries.empty


def test_dataset_events_types(store: Store) -> None:
    events = store.dataset().events

    assert {column: str(dtype) for column, dtype in events.dtypes.items() if "idx" in column} == {
        "user_idx": "int32",
        "item_idx": "int32",
        "session_idx": "int32",
    }
    assert str(events["position"].dtype) == "int64"
    assert events["user_idx"].tolist() == [0, 0, 1, 1, 0, 0, -1]
    assert events["timestamp"].iloc[0] == pd.Timestamp("2024-01-01 09:00")
