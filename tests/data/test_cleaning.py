"""Cleaning is explicit and reported: each step, what it did, and the store remembers it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from mercato.data import CleaningConfig, ShopSource, Store, frame_source, get_adapter, ingest
from mercato.errors import ConfigError


def events_frame(rows: list[tuple[str | None, str, str, str | None]]) -> pd.DataFrame:
    """(user, item, event type, ISO time) rows, each a distinct event."""
    return pd.DataFrame(rows, columns=["user_id", "item_id", "event_type", "timestamp"])


def clean(tmp_path: Path, source: ShopSource, config: CleaningConfig) -> Store:
    ingest(source, tmp_path / "shop.duckdb", cleaning=config)
    return Store(tmp_path / "shop.duckdb")


def pairs(store: Store) -> list[tuple[str | None, str]]:
    return [(row["user_id"], row["item_id"]) for row in store.arrow("events").to_pylist()]


def steps(store: Store) -> list[tuple[str, int, int]]:
    return [
        (step["name"], step["rows_before"], step["rows_after"]) for step in store.summary().cleaning
    ]


def test_nothing_is_cleaned_unless_asked(tmp_path: Path) -> None:
    rows = [("u1", "i1", "view", "2024-01-01"), ("u2", "i2", "view", "2030-01-01")]
    store = clean(tmp_path, frame_source("s", {"events": events_frame(rows)}), CleaningConfig())

    assert store.summary().cleaning == []
    assert len(pairs(store)) == 2


def test_dedupe_keeps_the_first_of_identical_events(tmp_path: Path) -> None:
    events = pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u2", "u1"],
            "item_id": ["i1", "i1", "i1", "i1"],
            "event_type": ["view", "view", "view", "view"],
            "timestamp": ["2024-01-01 10:00"] * 4,
            # Quantity is not part of an event's identity: the third copy differs only there.
            "quantity": [1.0, 1.0, 1.0, 2.0],
        }
    )
    store = clean(tmp_path, frame_source("s", {"events": events}), CleaningConfig(dedupe=True))

    assert steps(store) == [("dedupe", 4, 2)]
    assert store.summary().cleaning[0]["detail"] == "dropped 2 duplicate events"
    assert store.dataset().events["position"].tolist() == [0, 2]
    assert [row["quantity"] for row in store.arrow("events").to_pylist()] == [1.0, 1.0]


def test_formats_with_genuine_repeats_are_not_deduplicated(tmp_path: Path) -> None:
    rows = [("u1", "i1", "purchase", "2024-01-01")] * 3
    source = frame_source("s", {"events": events_frame(rows)})
    repeats = ShopSource("s", (dataclasses.replace(source.tables[0], allow_duplicates=True),))

    assert len(pairs(clean(tmp_path, repeats, CleaningConfig()))) == 3
    assert len(pairs(clean(tmp_path, repeats, CleaningConfig(dedupe=True)))) == 3


def test_repeats_without_timestamps_are_behaviour_not_duplicates(tmp_path: Path) -> None:
    # A session that views an item twice, in a format without times (sequence files).
    rows = [("u1", "i1", "view", None), ("u1", "i2", "view", None), ("u1", "i1", "view", None)]
    source = frame_source("s", {"events": events_frame(rows)})

    assert len(pairs(clean(tmp_path, source, CleaningConfig()))) == 3
    assert len(pairs(clean(tmp_path, source, CleaningConfig(dedupe=True)))) == 3


def test_k_core_iterates_to_a_fixed_point(tmp_path: Path) -> None:
    # With k = 2: round 1 drops u3 (one event), i3 and i4 (one event each), which leaves u4
    # with a single event, dropped in round 2; round 3 changes nothing. A single pass would
    # have kept (u4, i1).
    rows = [
        ("u1", "i1", "view", "2024-01-01 01:00"),
        ("u1", "i2", "view", "2024-01-01 02:00"),
        ("u2", "i1", "view", "2024-01-01 03:00"),
        ("u2", "i2", "view", "2024-01-01 04:00"),
        ("u3", "i3", "view", "2024-01-01 05:00"),
        ("u4", "i1", "view", "2024-01-01 06:00"),
        ("u4", "i4", "view", "2024-01-01 07:00"),
    ]
    store = clean(
        tmp_path, frame_source("s", {"events": events_frame(rows)}), CleaningConfig(k_core=2)
    )

    assert pairs(store) == [("u1", "i1"), ("u1", "i2"), ("u2", "i1"), ("u2", "i2")]
    assert steps(store) == [("k_core", 7, 4)]
    assert store.summary().cleaning[0]["detail"] == "2-core: dropped 3 events in 3 rounds"


def test_cleaning_renumbers_ids_densely_but_keeps_the_catalogue(tmp_path: Path) -> None:
    rows = [
        ("u1", "i1", "view", "2024-01-01 01:00"),
        ("u1", "i2", "view", "2024-01-01 02:00"),
        ("u2", "i1", "view", "2024-01-01 03:00"),
        ("u2", "i2", "view", "2024-01-01 04:00"),
        ("u3", "i3", "view", "2024-01-01 05:00"),
    ]
    items = pd.DataFrame({"item_id": ["i9", "i1", "i2"]})
    source = frame_source("s", {"events": events_frame(rows), "items": items})
    dataset = clean(tmp_path, source, CleaningConfig(k_core=2)).dataset()

    assert dataset.user_ids.tolist() == ["u1", "u2"]
    assert dataset.item_ids.tolist() == ["i9", "i1", "i2"]
    assert dataset.events["user_idx"].tolist() == [0, 0, 1, 1]
    assert dataset.events["item_idx"].tolist() == [1, 2, 1, 2]
    assert dataset.user_items().shape == (2, 3)


def test_time_window_keeps_start_drops_end_and_keeps_undated_events(tmp_path: Path) -> None:
    rows = [
        ("u1", "i1", "view", "2023-12-31 23:59"),
        ("u1", "i2", "view", "2024-01-01 00:00"),
        ("u1", "i3", "view", None),
        ("u1", "i4", "view", "2024-01-31 23:59"),
        ("u1", "i5", "view", "2024-02-01 00:00"),
    ]
    config = CleaningConfig(start=datetime(2024, 1, 1), end=datetime(2024, 2, 1))
    store = clean(tmp_path, frame_source("s", {"events": events_frame(rows)}), config)

    assert [item for _, item in pairs(store)] == ["i2", "i3", "i4"]
    assert steps(store) == [("time_window", 5, 3)]
    assert (
        "outside [2024-01-01 00:00:00, 2024-02-01 00:00:00)"
        in store.summary().cleaning[0]["detail"]
    )


def test_time_window_accepts_aware_datetimes_as_utc(tmp_path: Path) -> None:
    rows = [("u1", "i1", "view", "2024-01-01 09:00"), ("u1", "i2", "view", "2024-01-01 11:00")]
    config = CleaningConfig(start=datetime(2024, 1, 1, 10, tzinfo=UTC))
    store = clean(tmp_path, frame_source("s", {"events": events_frame(rows)}), config)

    assert [item for _, item in pairs(store)] == ["i2"]


def test_outlier_prices_are_set_missing_and_counted(tmp_path: Path) -> None:
    prices = [10.0, 10.5, 9.5, 10.0, 1000.0, 20.0, 20.0]
    events = pd.DataFrame(
        {
            "user_id": [f"u{i}" for i in range(7)],
            "item_id": ["A"] * 5 + ["B"] * 2,
            "event_type": ["purchase"] * 7,
            "price": prices,
        }
    )
    config = CleaningConfig(outlier_price_mads=10)
    store = clean(tmp_path, frame_source("s", {"events": events}), config)

    stored = [row["price"] for row in store.arrow("events").to_pylist()]
    assert stored == [10.0, 10.5, 9.5, 10.0, None, 20.0, 20.0]
    assert steps(store) == [("outlier_prices", 7, 7)]
    assert store.summary().cleaning[0]["detail"].startswith("set 1 prices further than 10 MADs")


def test_steps_run_in_order_and_are_all_reported(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "events.csv").write_text(
        "user_id,item_id,event_type,timestamp\n"
        "u1,i1,view,2024-01-01\nu1,i1,view,2024-01-01\nu1,i2,view,2024-01-02\n"
        "u2,i1,view,2024-01-03\nu2,i2,view,2024-01-04\nu3,i1,view,2025-01-01\n",
        encoding="utf-8",
    )
    config = CleaningConfig(dedupe=True, end=datetime(2024, 12, 1), outlier_price_mads=5, k_core=2)
    report = ingest(get_adapter("generic").read(folder), tmp_path / "s.duckdb", cleaning=config)

    assert [(step.name, step.rows_before, step.rows_after) for step in report.cleaning] == [
        ("dedupe", 6, 5),
        ("time_window", 5, 4),
        ("outlier_prices", 4, 4),
        ("k_core", 4, 4),
    ]
    assert [step.removed for step in report.cleaning] == [1, 1, 0, 0]
    assert steps(Store(tmp_path / "s.duckdb")) == [
        (step.name, step.rows_before, step.rows_after) for step in report.cleaning
    ]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"k_core": -1}, "k_core must be >= 0"),
        ({"outlier_price_mads": 0}, "outlier_price_mads must be > 0"),
        ({"start": datetime(2024, 2, 1), "end": datetime(2024, 1, 1)}, "the time window is empty"),
    ],
)
def test_invalid_settings_are_refused(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        CleaningConfig(**settings)  # type: ignore[arg-type]
