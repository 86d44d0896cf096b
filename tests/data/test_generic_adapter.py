"""The generic adapter: CSV, Parquet, JSON lines and DataFrames mapped by mercato.yaml or code."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mercato.data import ShopSource, Store, TableMapping, frame_source, get_adapter, ingest
from mercato.errors import ConfigError, DataError, SchemaError


def _store(source: ShopSource, tmp_path: Path) -> Store:
    ingest(source, tmp_path / "shop.duckdb")
    return Store(tmp_path / "shop.duckdb")


def _rows(store: Store, table: str) -> list[dict[str, Any]]:
    return list(store.arrow(table).to_pylist())


def _read(folder: Path) -> ShopSource:
    return get_adapter("generic").read(folder)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_semicolon_csv_mapped_by_config(tmp_path: Path) -> None:
    _write(
        tmp_path / "clicks.csv",
        "customer;sku;action;when;colour\n"
        "0042;00017;pv;03/01/2024 10:15;red\n"
        "0042;00018;buy;03/01/2024 10:20;blue\n",
    )
    _write(
        tmp_path / "mercato.yaml",
        """
name: corner-shop
tables:
  events:
    path: clicks.csv
    delimiter: ";"
    timestamp_format: "%d/%m/%Y %H:%M"
    columns: {user_id: customer, item_id: sku, event_type: action, timestamp: when}
    event_types: {pv: view, buy: purchase}
""",
    )
    store = _store(_read(tmp_path), tmp_path)

    events = _rows(store, "events")
    assert store.summary().source == "corner-shop"
    assert [event["event_type"] for event in events] == ["view", "purchase"]
    assert [event["item_id"] for event in events] == ["00017", "00018"]
    assert events[0]["user_id"] == "0042"
    assert events[0]["timestamp"] == datetime(2024, 1, 3, 10, 15)
    assert json.loads(events[1]["attributes"]) == {"colour": "blue"}


def test_constants_fill_a_column_for_every_row(tmp_path: Path) -> None:
    _write(tmp_path / "orders.csv", "user,item,amount\nu1,i1,9.5\nu2,i1,3\n")
    _write(
        tmp_path / "mercato.yaml",
        """
tables:
  events:
    path: orders.csv
    columns: {user_id: user, item_id: item, value: amount}
    constants: {event_type: purchase, quantity: 1}
""",
    )
    events = _rows(_store(_read(tmp_path), tmp_path), "events")

    assert [(e["event_type"], e["quantity"], e["value"]) for e in events] == [
        ("purchase", 1.0, 9.5),
        ("purchase", 1.0, 3.0),
    ]
    assert all(event["attributes"] is None for event in events)


def test_parquet_events_with_unix_milliseconds(tmp_path: Path) -> None:
    table = pa.table(
        {
            "user_id": ["u1", "u2"],
            "item_id": ["007", "008"],
            "event_type": ["click", "cart"],
            "ts": pa.array([1_700_000_000_000, 1_700_000_060_000], pa.int64()),
            "device": ["phone", "desktop"],
            "score": [0.5, 1.5],
        }
    )
    pq.write_table(table, tmp_path / "events.parquet")
    _write(
        tmp_path / "mercato.yaml",
        """
tables:
  events:
    path: events.parquet
    timestamp_format: unix_ms
    columns: {timestamp: ts}
""",
    )
    events = _rows(_store(_read(tmp_path), tmp_path), "events")

    assert [event["item_id"] for event in events] == ["007", "008"]
    assert events[1]["timestamp"] == datetime(2023, 11, 14, 22, 14, 20)
    assert json.loads(events[0]["attributes"]) == {"device": "phone", "score": 0.5}


def test_json_lines_events_and_queries_with_clicked_item_lists(tmp_path: Path) -> None:
    events = [
        {"user_id": "u1", "item_id": "0001", "event_type": "view", "timestamp": 1_700_000_000},
        {"user_id": "u1", "item_id": "0002", "event_type": "view", "timestamp": 1_700_000_100},
    ]
    queries = [
        {"user_id": "u1", "query": "red shoes", "clicked_items": ["0002", "0001"]},
        {"user_id": "u1", "query": "socks", "clicked_items": []},
    ]
    _write(tmp_path / "events.jsonl", "".join(json.dumps(row) + "\n" for row in events))
    _write(tmp_path / "queries.jsonl", "".join(json.dumps(row) + "\n" for row in queries))
    _write(
        tmp_path / "mercato.yaml",
        """
tables:
  events: {path: events.jsonl, timestamp_format: unix_s}
  queries: {path: queries.jsonl}
""",
    )
    store = _store(_read(tmp_path), tmp_path)

    dataset = store.dataset()
    clicked = dataset.queries["clicked_items"].tolist()
    assert list(dataset.item_ids[clicked[0]]) == ["0002", "0001"]
    assert dataset.n_items == 2  # an empty list adds no phantom item
    assert _rows(store, "events")[0]["timestamp"] == datetime(2023, 11, 14, 22, 13, 20)


def test_clicked_items_text_is_split_and_blanks_dropped(tmp_path: Path) -> None:
    _write(tmp_path / "items.csv", "item_id,title\n01,Sock\n02,Shoe\n")
    _write(tmp_path / "queries.csv", "session_id,query,clicks\ns1,sock,01 | 02 |\ns2,hat,\n")
    _write(
        tmp_path / "mercato.yaml",
        """
tables:
  items: {path: items.csv}
  queries: {path: queries.csv, columns: {clicked_items: clicks}}
""",
    )
    dataset = _store(_read(tmp_path), tmp_path).dataset()

    first, second = dataset.queries["clicked_items"].tolist()
    assert list(dataset.item_ids[first]) == ["01", "02"]
    assert len(second) == 0  # no clicks, and no phantom empty-string item
    assert dataset.n_items == 2


def test_a_json_array_file_is_read_too(tmp_path: Path) -> None:
    rows = [{"item_id": "0100", "title": "Lamp", "price": 12.5, "colour": "white"}]
    _write(tmp_path / "items.json", json.dumps(rows))
    items = _rows(_store(_read(tmp_path), tmp_path), "items")

    assert items[0]["item_id"] == "0100"
    assert items[0]["price"] == 12.5
    assert json.loads(items[0]["attributes"]) == {"colour": "white"}


def test_canonical_folder_without_config(tmp_path: Path) -> None:
    _write(
        tmp_path / "events.csv", "user_id,item_id,event_type,timestamp\nu1,0009,rating,2024-01-02\n"
    )
    _write(tmp_path / "items.tsv", "item_id\ttitle\tsize\n0009\tMug\tL\n")
    store = _store(_read(tmp_path), tmp_path)

    assert store.summary().rows == {"events": 1, "items": 1}
    assert json.loads(_rows(store, "items")[0]["attributes"]) == {"size": "L"}
    assert _rows(store, "events")[0]["timestamp"] == datetime(2024, 1, 2)


def test_a_single_file_is_an_events_table(tmp_path: Path) -> None:
    file = _write(tmp_path / "log.csv", "user_id,item_id,event_type\nu1,i1,favourite\n")
    source = _read(file)

    assert [table.table for table in source.tables] == ["events"]
    assert _rows(_store(source, tmp_path), "events")[0]["event_type"] == "favourite"


@pytest.mark.parametrize(
    ("timestamp_format", "raw", "expected"),
    [
        ("iso", "2024-03-01T12:30:00", datetime(2024, 3, 1, 12, 30)),
        ("iso", "2024-03-01T12:30:00Z", datetime(2024, 3, 1, 12, 30)),
        ("iso", "2024-03-01T12:30:00+02:00", datetime(2024, 3, 1, 10, 30)),
        ("unix_s", "1709296200", datetime(2024, 3, 1, 12, 30)),
        ("unix_ms", "1709296200500", datetime(2024, 3, 1, 12, 30, 0, 500_000)),
        ("date", "2024-03-01", datetime(2024, 3, 1)),
        ("%Y%m%d %H%M", "20240301 1230", datetime(2024, 3, 1, 12, 30)),
    ],
)
def test_timestamp_formats(
    tmp_path: Path, timestamp_format: str, raw: str, expected: datetime
) -> None:
    frame = pd.DataFrame(
        {"user_id": ["u1"], "item_id": ["i1"], "event_type": ["view"], "timestamp": [raw]}
    )
    mapping = TableMapping(timestamp_format=timestamp_format)
    source = frame_source("times", {"events": frame}, {"events": mapping})

    assert _rows(_store(source, tmp_path), "events")[0]["timestamp"] == expected


def test_pandas_frames_with_mapping_and_leading_zeros(tmp_path: Path) -> None:
    events = pd.DataFrame(
        {
            "customer": ["001", "002"],
            "sku": ["0007", "0008"],
            "kind": ["c", "p"],
            "when": [1_700_000_000, 1_700_000_001],
            "channel": ["app", "web"],
        }
    )
    items = pd.DataFrame({"item_id": ["0007"], "title": ["Kettle"], "price": [20.0]})
    mapping = TableMapping(
        columns={
            "user_id": "customer",
            "item_id": "sku",
            "event_type": "kind",
            "timestamp": "when",
        },
        event_types={"c": "click", "p": "purchase"},
        timestamp_format="unix_s",
    )
    source = frame_source("frames", {"events": events, "items": items}, {"events": mapping})
    store = _store(source, tmp_path)

    rows = _rows(store, "events")
    assert [(row["user_id"], row["item_id"]) for row in rows] == [("001", "0007"), ("002", "0008")]
    assert [row["event_type"] for row in rows] == ["click", "purchase"]
    assert json.loads(rows[1]["attributes"]) == {"channel": "web"}
    assert store.summary().n_items == 2


def test_polars_frame(tmp_path: Path) -> None:
    events = pl.DataFrame(
        {
            "user_id": ["u1", "u1"],
            "item_id": ["0001", "0002"],
            "event_type": ["view", "cart"],
            "timestamp": ["2024-05-01 08:00:00", "2024-05-01 08:05:00"],
            "price": [3.5, 4.0],
        }
    )
    store = _store(frame_source("polars-shop", {"events": events}), tmp_path)

    rows = _rows(store, "events")
    assert [row["item_id"] for row in rows] == ["0001", "0002"]
    assert rows[1]["price"] == 4.0
    assert rows[1]["timestamp"] == datetime(2024, 5, 1, 8, 5)


def test_repeated_rows_are_an_error_unless_allowed(tmp_path: Path) -> None:
    # Two units of one article bought the same day: a shop that writes one row per unit.
    events = pd.DataFrame(
        {
            "user_id": ["u1", "u1"],
            "item_id": ["0001", "0001"],
            "event_type": ["purchase", "purchase"],
            "timestamp": ["2024-01-01", "2024-01-01"],
        }
    )
    mapping = TableMapping(allow_duplicates=True)
    with pytest.raises(DataError, match="duplicate events"):
        _store(frame_source("shop", {"events": events}), tmp_path / "strict")
    source = frame_source("shop", {"events": events}, {"events": mapping})

    assert _store(source, tmp_path / "allowed").summary().rows == {"events": 2}


def test_columns_without_a_place_are_named_in_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    events = pd.DataFrame({"user_id": ["u1"], "item_id": ["i1"], "event_type": ["view"]})
    reviews = pd.DataFrame({"item_id": ["i1"], "text": ["snug"], "helpful": [3]})
    with caplog.at_level(logging.WARNING, logger="mercato.data.adapters._generic"):
        frame_source("shop", {"events": events, "reviews": reviews})

    assert "helpful are not kept" in caplog.text


def test_extra_query_columns_are_kept_in_attributes(tmp_path: Path) -> None:
    events = pd.DataFrame({"user_id": ["u1"], "item_id": ["i1"], "event_type": ["view"]})
    queries = pd.DataFrame({"user_id": ["u1"], "query": ["hat"], "engine": ["v2"]})
    ingest(frame_source("shop", {"events": events, "queries": queries}), tmp_path / "s.db")

    (query,) = Store(tmp_path / "s.db").arrow("queries").to_pylist()
    assert query["query"] == "hat"
    assert json.loads(query["attributes"]) == {"engine": "v2"}


def test_missing_mapped_column_is_a_schema_error(tmp_path: Path) -> None:
    _write(tmp_path / "events.csv", "user,item\nu1,i1\n")
    pq.write_table(pa.table({"user": ["u1"], "item": ["i1"]}), tmp_path / "events.parquet")
    mapping = "columns: {user_id: user, item_id: sku}, constants: {event_type: view}"
    for name in ("events.csv", "events.parquet"):
        _write(tmp_path / "mercato.yaml", f"tables:\n  events: {{path: {name}, {mapping}}}\n")
        with pytest.raises(SchemaError, match="sku"):
            _read(tmp_path)


def test_wrong_delimiter_is_named(tmp_path: Path) -> None:
    _write(tmp_path / "events.csv", "user_id;item_id;event_type\nu1;i1;view\n")
    _write(
        tmp_path / "mercato.yaml",
        "tables:\n  events: {path: events.csv, columns: {item_id: item_id}}\n",
    )
    with pytest.raises(SchemaError, match="';'"):
        _read(tmp_path)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ("{path: e.csv, delimeter: ';'}", "unknown setting"),
        ("{path: e.csv, event_types: {pv: pageview}}", "not event types"),
        ("{path: e.csv, columns: {value: v}, constants: {value: 1}}", "both a column"),
        ("{path: e.csv, timestamp_format: dd-mm-yyyy}", "timestamp_format"),
        ("{path: e.csv, format: xlsx}", "format must be"),
    ],
)
def test_config_errors_name_the_setting(tmp_path: Path, settings: str, message: str) -> None:
    _write(tmp_path / "e.csv", "user_id,item_id,event_type\nu1,i1,view\n")
    _write(tmp_path / "mercato.yaml", f"tables:\n  events: {settings}\n")

    with pytest.raises(ConfigError, match=message):
        _read(tmp_path)


def test_unknown_table_and_non_frame_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown table"):
        frame_source("shop", {"clicks": pd.DataFrame({"item_id": ["i"]})})
    with pytest.raises(ConfigError, match="pandas or polars"):
        frame_source("shop", {"events": [("u1", "i1")]})


def test_missing_source_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        _read(tmp_path / "absent")
