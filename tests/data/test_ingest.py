"""Round trips through the ingest pipeline: what goes in comes back out of the store."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from textwrap import dedent

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from mercato.data import ShopSource, Store, frame_source, get_adapter, ingest

EVENTS_HEADER = "user_id,item_id,event_type,timestamp,session_id,value,price,quantity"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(dedent(text).lstrip(), encoding="utf-8")
    return path


def ingest_folder(folder: Path, **options: object) -> Store:
    store = folder / "shop.duckdb"
    ingest(get_adapter("generic").read(folder), store, **options)  # type: ignore[arg-type]
    return Store(store)


def id_map(store: Store, kind: str) -> list[str]:
    with store.connect() as con:
        rows = con.execute(f"SELECT {kind}_id FROM {kind}_map ORDER BY {kind}_idx").fetchall()
    return [row[0] for row in rows]


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A small shop with every canonical table, ids with leading zeros and Chinese text."""
    write(
        tmp_path,
        "events.csv",
        f"""
        {EVENTS_HEADER}
        007,0003,view,2024-01-01T10:00:00,s1,,9.5,
        007,0001,purchase,2024-01-01T10:05:00,s1,,9.5,2
        ,0002,view,2024-01-03 00:00:00,s9,,,
        0080,0002,cart,2024-01-02T11:00:00+02:00,,,3,1
        """,
    )
    write(
        tmp_path,
        "items.csv",
        """
        item_id,title,description,category,brand,price,image,video,colour
        0001,Green tea,Loose leaf,Food > Tea,Acme,9.5,img/0001.jpg,,green
        0002,Cup,,Home,,3,https://cdn.example/cup.png,,white
        0004,茶壶,紫砂茶壶，手工制作,Home > 茶具,,20,/abs/teapot.jpg,,
        """,
    )
    write(tmp_path, "users.csv", "user_id,age\n0080,41\n007,33\n")
    write(
        tmp_path,
        "reviews.csv",
        """
        user_id,item_id,rating,text,timestamp
        007,0001,5,很好喝的茶，推荐！,2024-01-05T00:00:00
        0999,0005,2,"Too bitter, sadly",2024-01-06T00:00:00
        """,
    )
    write(
        tmp_path,
        "queries.csv",
        """
        user_id,session_id,query,timestamp,clicked_items
        007,s1,green tea,2024-01-01T09:59:00,0001|0004
        ,s9,茶杯,2024-01-03T00:00:00,
        """,
    )
    return tmp_path


def test_every_table_round_trips_with_string_ids(shop: Path) -> None:
    store = ingest_folder(shop)

    assert store.tables == ["events", "items", "users", "reviews", "queries"]
    assert store.arrow("events").to_pylist() == [
        _event("007", "0003", "view", datetime(2024, 1, 1, 10), "s1", price=9.5),
        _event("007", "0001", "purchase", datetime(2024, 1, 1, 10, 5), "s1", 9.5, 2.0),
        _event(None, "0002", "view", datetime(2024, 1, 3), "s9"),
        # The offset is applied: 11:00+02:00 is 09:00 UTC.
        _event("0080", "0002", "cart", datetime(2024, 1, 2, 9), None, 3.0, 1.0),
    ]
    items = store.arrow("items").to_pylist()
    assert [item["item_id"] for item in items] == ["0001", "0002", "0004"]
    assert items[0]["image"] == str((shop / "img" / "0001.jpg").resolve())
    assert items[1]["image"] == "https://cdn.example/cup.png"
    assert items[2]["image"] == "/abs/teapot.jpg"
    assert items[2]["title"] == "茶壶"
    assert items[2]["description"] == "紫砂茶壶，手工制作"
    assert items[2]["category"] == "Home > 茶具"
    assert json.loads(items[0]["attributes"]) == {"colour": "green"}
    assert items[1]["description"] is None


def test_users_reviews_and_queries_round_trip(shop: Path) -> None:
    store = ingest_folder(shop)

    assert store.arrow("users").to_pylist() == [
        {"user_id": "0080", "attributes": '{"age":"41"}'},
        {"user_id": "007", "attributes": '{"age":"33"}'},
    ]
    assert store.arrow("reviews").to_pylist() == [
        {
            "user_id": "007",
            "item_id": "0001",
            "rating": 5.0,
            "text": "很好喝的茶，推荐！",
            "timestamp": datetime(2024, 1, 5),
        },
        {
            "user_id": "0999",
            "item_id": "0005",
            "rating": 2.0,
            "text": "Too bitter, sadly",
            "timestamp": datetime(2024, 1, 6),
        },
    ]
    assert store.arrow("queries").to_pylist() == [
        {
            "user_id": "007",
            "session_id": "s1",
            "query": "green tea",
            "timestamp": datetime(2024, 1, 1, 9, 59),
            "clicked_items": ["0001", "0004"],
            "attributes": None,
        },
        {
            "user_id": None,
            "session_id": "s9",
            "query": "茶杯",
            "timestamp": datetime(2024, 1, 3),
            "clicked_items": [],
            "attributes": None,
        },
    ]


def test_dense_ids_list_the_catalogue_first_then_first_appearance(shop: Path) -> None:
    store = ingest_folder(shop)

    # Catalogue order first, then ids by first appearance: 0003 only in events, 0005 only in
    # a review. Users: the users table's order, then events, then reviews.
    assert id_map(store, "item") == ["0001", "0002", "0004", "0003", "0005"]
    assert id_map(store, "user") == ["0080", "007", "0999"]
    assert id_map(store, "session") == ["s1", "s9"]

    events = store.dataset().events
    assert events["item_idx"].tolist() == [3, 0, 1, 1]
    assert events["user_idx"].tolist() == [1, 1, -1, 0]
    assert events["session_idx"].tolist() == [0, 0, 1, -1]
    assert events["position"].tolist() == [0, 1, 2, 3]


def test_dataset_queries_refer_to_dense_item_ids(shop: Path) -> None:
    dataset = ingest_folder(shop).dataset()

    assert [list(clicks) for clicks in dataset.queries["clicked_items"]] == [[0, 2], []]
    assert dataset.item_ids.tolist() == ["0001", "0002", "0004", "0003", "0005"]
    assert dataset.items.loc[2, "title"] == "茶壶"
    # Items seen only in events or reviews get a row with every field missing.
    assert dataset.items["item_id"].tolist() == dataset.item_ids.tolist()
    assert dataset.items.loc[3, ["title", "price"]].isna().all()


def test_ids_that_look_numeric_stay_text(tmp_path: Path) -> None:
    write(
        tmp_path,
        "events.csv",
        f"""
        {EVENTS_HEADER}
        000123,0042,view,2024-01-01,,,,
        123,42,view,2024-01-02,,,,
        """,
    )
    store = ingest_folder(tmp_path)

    assert id_map(store, "user") == ["000123", "123"]
    assert id_map(store, "item") == ["0042", "42"]


def test_anonymous_sessions_keep_their_session_and_no_user(tmp_path: Path) -> None:
    write(
        tmp_path,
        "events.csv",
        """
        session_id,item_id,event_type
        a,1,view
        a,2,cart
        b,1,view
        """,
    )
    store = ingest_folder(tmp_path)
    events = store.dataset().events

    assert events["user_idx"].tolist() == [-1, -1, -1]
    assert events["session_idx"].tolist() == [0, 0, 1]
    assert id_map(store, "user") == []
    assert store.summary().n_sessions == 2


def test_values_are_read_forgivingly_where_unambiguous(tmp_path: Path) -> None:
    write(
        tmp_path,
        "events.csv",
        f"""
        {EVENTS_HEADER}
         u1 , i1 , View ,2024-01-01T10:00:00Z, s1 ,, 2.50 ,
        u1,i1,PURCHASE,2024-01-01T10:00:00.250,s1,,1e1,3
        u1,i2,rating,2024-01-01 05:00:00-0500,s1,4,,
        """,
    )
    store = ingest_folder(tmp_path)
    rows = store.arrow("events").to_pylist()

    assert [row["event_type"] for row in rows] == ["view", "purchase", "rating"]
    assert [row["user_id"] for row in rows] == ["u1", "u1", "u1"]
    assert [row["session_id"] for row in rows] == ["s1", "s1", "s1"]
    assert [row["timestamp"] for row in rows] == [
        datetime(2024, 1, 1, 10),
        datetime(2024, 1, 1, 10, 0, 0, 250000),
        datetime(2024, 1, 1, 10),
    ]
    assert [row["price"] for row in rows] == [2.5, 10.0, None]
    assert rows[2]["value"] == 4.0


def test_timestamp_formats_from_the_source_config(tmp_path: Path) -> None:
    write(tmp_path, "clicks.csv", "who,sku,what,when\nu1,i1,pv,1704103200000\nu2,i1,buy,\n")
    write(
        tmp_path,
        "mercato.yaml",
        """
        name: config-shop
        tables:
          events:
            path: clicks.csv
            timestamp_format: unix_ms
            columns: {user_id: who, item_id: sku, event_type: what, timestamp: when}
            event_types: {pv: view, buy: purchase}
        """,
    )
    store = ingest_folder(tmp_path)
    rows = store.arrow("events").to_pylist()

    assert [row["event_type"] for row in rows] == ["view", "purchase"]
    assert rows[0]["timestamp"] == datetime(2024, 1, 1, 10)
    assert rows[1]["timestamp"] is None
    assert store.summary().source == "config-shop"


def test_pandas_polars_and_arrow_frames_round_trip(tmp_path: Path) -> None:
    events = pd.DataFrame(
        {
            "user_id": ["01", "02", None],
            "item_id": ["0010", "0020", "0010"],
            "event_type": ["view", "purchase", "view"],
            "timestamp": pd.to_datetime(
                ["2024-01-01 10:00", "2024-01-02 00:00", "2024-01-03 00:00"]
            ),
            "session_id": [None, None, "s1"],
            "price": [1.5, float("nan"), 2.0],
        }
    )
    items = pl.DataFrame({"item_id": ["0020", "0010"], "title": ["b", "a"], "price": [2.0, 1.0]})
    users = pa.table({"user_id": ["02"], "attributes": ['{"tier": "gold"}']})
    source = frame_source("frames", {"events": events, "items": items, "users": users})
    ingest(source, tmp_path / "shop.duckdb")
    store = Store(tmp_path / "shop.duckdb")

    rows = store.arrow("events").to_pylist()
    assert [row["user_id"] for row in rows] == ["01", "02", None]
    assert [row["item_id"] for row in rows] == ["0010", "0020", "0010"]
    assert [row["price"] for row in rows] == [1.5, None, 2.0]
    assert rows[0]["timestamp"] == datetime(2024, 1, 1, 10)
    assert id_map(store, "item") == ["0020", "0010"]
    assert id_map(store, "user") == ["02", "01"]
    assert json.loads(store.arrow("users").to_pylist()[0]["attributes"]) == {"tier": "gold"}


def test_several_sources_of_one_table_continue_positions(tmp_path: Path) -> None:
    first = write(tmp_path, "a.csv", "user_id,item_id,event_type\nu1,i1,view\nu1,i2,view\n")
    second = write(tmp_path, "b.csv", "user_id,item_id,event_type\nu2,i3,view\n")
    adapter = get_adapter("generic")
    source = ShopSource("two", adapter.read(first).tables + adapter.read(second).tables)
    report = ingest(source, tmp_path / "shop.duckdb")
    store = Store(tmp_path / "shop.duckdb")

    assert report.rows == {"events": 3}
    assert store.dataset().events["position"].tolist() == [0, 1, 2]
    assert [row["item_id"] for row in store.arrow("events").to_pylist()] == ["i1", "i2", "i3"]


def test_report_meta_and_replacing_a_store(shop: Path) -> None:
    store_path = shop / "shop.duckdb"
    report = ingest(get_adapter("generic").read(shop), store_path)

    assert report.store == str(store_path)
    assert report.rows == {"events": 4, "items": 3, "users": 2, "reviews": 2, "queries": 2}
    assert report.cleaning == []
    assert report.seconds > 0

    (shop / "reviews.csv").unlink()
    (shop / "queries.csv").unlink()
    ingest(get_adapter("generic").read(shop), store_path)
    store = Store(store_path)
    assert store.tables == ["events", "items", "users"]
    assert store.meta["store_format"] == "1"
    assert json.loads(store.meta["origins"])[0] == str(shop / "events.csv")
    assert sorted(path.name for path in shop.iterdir()) == [
        "events.csv",
        "items.csv",
        "shop.duckdb",
        "users.csv",
    ]


def test_catalogue_only_shop(tmp_path: Path) -> None:
    write(tmp_path, "items.csv", "item_id,title\nA-1,Shirt\nA-2,Socks\n")
    store = ingest_folder(tmp_path)

    assert store.tables == ["items"]
    summary = store.summary()
    assert summary.rows == {"items": 2}
    assert summary.first_event is None
    assert summary.sparsity is None
    assert store.dataset().events.empty


def test_progress_bar_and_low_memory_limit_still_ingest(shop: Path) -> None:
    store = shop / "shop.duckdb"
    report = ingest(
        get_adapter("generic").read(shop), store, progress=True, memory_limit="64MB", threads=1
    )

    assert report.rows["events"] == 4
    with duckdb.connect(str(store), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM events").fetchall() == [(4,)]


def _event(
    user: str | None,
    item: str,
    kind: str,
    when: datetime,
    session: str | None,
    price: float | None = None,
    quantity: float | None = None,
) -> dict[str, object]:
    return {
        "user_id": user,
        "item_id": item,
        "event_type": kind,
        "timestamp": when,
        "session_id": session,
        "value": None,
        "price": price,
        "quantity": quantity,
        "attributes": None,
    }
