"""Every format adapter on its real public file, with the counts its README states.

Each test skips, naming the folder and MERCATO_DATA, when the public datasets are absent.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from mercato.data import Store, adapter_names, get_adapter, ingest

DatasetFolder = Callable[[str], Path]


def _ingest(format_name: str, source: Path, tmp_path: Path) -> Store:
    store = tmp_path / "shop.duckdb"
    ingest(get_adapter(format_name).read(source), store)
    return Store(store)


def _item(store: Store, item_id: str) -> dict[str, Any]:
    """One catalogue row by its string id (dense ids follow no order the tests rely on)."""
    return next(item for item in store.arrow("items").to_pylist() if item["item_id"] == item_id)


def _scalar(store: Store, query: str) -> Any:
    with store.connect() as con:
        row = con.execute(query).fetchone()
    assert row is not None
    return row[0]


@pytest.mark.realdata
def test_hm_purchases_articles_customers_and_photos(
    public_dataset: DatasetFolder, tmp_path: Path
) -> None:
    folder = public_dataset("hm-fashion-sample")
    store = _ingest("hm", folder, tmp_path)
    summary = store.summary()

    assert summary.event_types == {"purchase": 31_662}
    assert _scalar(store, "SELECT count(DISTINCT user_idx) FROM events") == 1_364
    assert _scalar(store, "SELECT count(DISTINCT item_idx) FROM events") == 17_033
    assert summary.rows["items"] == 11_800
    assert summary.rows["users"] == summary.n_users == 1_364
    assert summary.coverage["image"] == summary.coverage["text"] == 11_800
    # The README's caveat: only part of the purchases are of articles in the catalogue.
    catalogued = "SELECT {} FROM events WHERE item_idx IN (SELECT item_idx FROM items)"
    assert _scalar(store, catalogued.format("count(*)")) == 9_925
    assert _scalar(store, catalogued.format("count(DISTINCT user_idx)")) == 1_037

    items = store.arrow("items").to_pylist()
    assert all(item["item_id"].startswith("0") for item in items)
    assert len(list((folder / "thumbs").iterdir())) == 11_800
    assert all(Path(item["image"]).is_file() for item in items)
    first = _item(store, "0111565001")
    assert first["category"] == "Ladieswear > Socks & Tights > Underwear Tights"
    assert first["image"].endswith("thumbs/0111565001.jpg")
    assert json.loads(first["attributes"])["colour_group_name"] == "Black"
    event = store.arrow("events").slice(0, 1).to_pylist()[0]
    assert event["item_id"] == "0493995001"
    assert event["quantity"] == 1.0
    assert json.loads(event["attributes"]) == {"sales_channel_id": "2"}


@pytest.mark.realdata
def test_amazon_sequences(public_dataset: DatasetFolder, tmp_path: Path) -> None:
    store = _ingest("amazon-seq", public_dataset("amazon-seq-iclrec"), tmp_path)
    summary = store.summary()

    assert (summary.n_users, summary.n_items) == (22_363, 12_101)
    assert summary.event_types == {"purchase": 198_502}


@pytest.mark.realdata
def test_diginetica_sessions(public_dataset: DatasetFolder, tmp_path: Path) -> None:
    folder = public_dataset("diginetica-gcegnn")
    store = _ingest("diginetica-sessions", folder, tmp_path)
    summary = store.summary()

    assert summary.n_sessions == 186_670
    assert summary.n_items == 43_097
    assert summary.n_users == 0
    assert _scalar(store, "SELECT count(*) FROM events WHERE user_idx IS NOT NULL") == 0
    # test_prefixes.tsv is not ingested, but every item it names is already in the store.
    with (folder / "test_prefixes.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert len(rows) == 60_858
    test_items = {item for row in rows for item in [*row["prefix"].split(), row["target"]]}
    with store.connect() as con:
        stored = {row[0] for row in con.execute("SELECT item_id FROM item_map").fetchall()}
    assert test_items <= stored


@pytest.mark.realdata
def test_diginetica_raw_views(public_dataset: DatasetFolder, tmp_path: Path) -> None:
    store = _ingest("diginetica", public_dataset("diginetica-sample-srgnn"), tmp_path)
    summary = store.summary()

    assert summary.event_types == {"view": 12_391}
    assert (summary.n_sessions, summary.n_items) == (2_986, 7_139)
    assert summary.first_event is not None and summary.last_event is not None
    assert summary.first_event.date() == date(2016, 1, 3)
    assert summary.last_event.date() == date(2016, 6, 1)
    anonymous = _scalar(store, "SELECT count(*) FROM events WHERE user_idx IS NULL")
    assert anonymous == 7_681  # the rows with user_id NA
    first = store.arrow("events").slice(0, 1).to_pylist()[0]
    # 2016-05-09 plus a timeframe of 526,309 ms.
    assert str(first["timestamp"]) == "2016-05-09 00:08:46.309000"


@pytest.mark.realdata
def test_taobao_behaviours_and_categories(public_dataset: DatasetFolder, tmp_path: Path) -> None:
    store = _ingest("taobao", public_dataset("taobao-userbehavior-head"), tmp_path)
    summary = store.summary()

    assert summary.rows == {"events": 4_321, "items": 3_276}
    assert (summary.n_users, summary.n_items) == (43, 3_276)
    assert summary.event_types == {"view": 3_926, "cart": 190, "favourite": 128, "purchase": 77}
    assert _scalar(store, "SELECT count(DISTINCT category) FROM items") == 567
    first = store.arrow("events").slice(0, 1).to_pylist()[0]
    assert (first["user_id"], first["item_id"]) == ("1", "2268318")
    assert first["timestamp"].timestamp() == 1_511_544_070


@pytest.mark.realdata
def test_otto_sessions(public_dataset: DatasetFolder, tmp_path: Path) -> None:
    store = _ingest("otto", public_dataset("otto-sample"), tmp_path)
    summary = store.summary()

    assert summary.event_types == {"click": 800, "cart": 52, "purchase": 10}
    assert summary.n_sessions == 20
    assert summary.n_users == 0


@pytest.mark.realdata
def test_movielens_recbole(public_dataset: DatasetFolder, tmp_path: Path) -> None:
    store = _ingest("movielens", public_dataset("movielens-100k-recbole"), tmp_path)
    summary = store.summary()

    assert summary.event_types == {"rating": 100_000}
    assert (summary.n_users, summary.n_items) == (943, 1_682)
    assert summary.rows["items"] == 1_682 and summary.rows["users"] == 943
    assert _scalar(store, "SELECT min(value) || '-' || max(value) FROM events") == "1.0-5.0"
    toy_story = _item(store, "1")
    assert toy_story["title"] == "Toy Story"
    assert toy_story["category"] == "Animation"
    assert json.loads(toy_story["attributes"]) == {
        "release_year": "1995",
        "class": ["Animation", "Children's", "Comedy"],
    }


@pytest.mark.realdata
def test_rechorus_grocery(public_dataset: DatasetFolder, tmp_path: Path) -> None:
    store = _ingest("grocery", public_dataset("rechorus-grocery"), tmp_path)
    summary = store.summary()

    assert summary.event_types == {"purchase": 121_892}
    assert summary.n_users == 14_681
    assert _scalar(store, "SELECT count(DISTINCT item_idx) FROM events") == 8_687
    assert summary.rows["items"] == summary.n_items == 8_713
    assert summary.coverage["category"] == 8_713
    first = _item(store, "1")
    relations = json.loads(first["attributes"])
    assert relations["r_complement"][:2] == ["6285", "194"]
    assert relations["r_substitute"][-1] == "6191"


@pytest.mark.realdata
def test_open_bandit_impressions(public_dataset: DatasetFolder, tmp_path: Path) -> None:
    folder = public_dataset("open-bandit-dataset-zozotown")
    store = _ingest("open-bandit", folder, tmp_path)
    summary = store.summary()

    log = folder / "random" / "all" / "all.csv"
    with log.open(encoding="utf-8") as handle:
        clicks = sum(row["click"] == "1" for row in csv.DictReader(handle))
    assert 38 <= clicks <= 69  # the README's range of clicks per 10,000 impressions
    assert summary.event_types == {"view": 10_000, "click": clicks}
    assert summary.n_sessions == 10_000
    assert summary.rows["items"] == summary.n_items == 80
    view = store.arrow("events").slice(0, 1).to_pylist()[0]
    kept = json.loads(view["attributes"])
    assert {"position", "propensity_score", "user_feature_0", "user-item_affinity_79"} <= set(kept)
    item = json.loads(_item(store, "0")["attributes"])
    assert set(item) == {"item_feature_0", "item_feature_1", "item_feature_2", "item_feature_3"}


@pytest.mark.realdata
def test_open_bandit_source_may_be_root_policy_or_campaign(public_dataset: DatasetFolder) -> None:
    folder = public_dataset("open-bandit-dataset-zozotown")
    adapter = get_adapter("open-bandit")

    names = {adapter.read(path).name for path in (folder, folder / "random", folder / "random/all")}
    assert names == {"open-bandit-random-all"}
    assert adapter.read(folder / "bts" / "men").name == "open-bandit-bts-men"


@pytest.mark.realdata
def test_cdnow_purchases(public_dataset: DatasetFolder, tmp_path: Path) -> None:
    store = _ingest("cdnow", public_dataset("cdnow-lifetimes"), tmp_path)
    summary = store.summary()

    assert summary.event_types == {"purchase": 69_659}
    assert summary.n_users == 23_570
    assert list(store.dataset().item_ids) == ["cd"]
    first = store.arrow("events").slice(0, 1).to_pylist()[0]
    assert (first["user_id"], first["quantity"], first["value"]) == ("00001", 1.0, 11.77)
    assert str(first["timestamp"]) == "1997-01-01 00:00:00"


@pytest.mark.realdata
def test_myntra_catalogue_and_photos(public_dataset: DatasetFolder, tmp_path: Path) -> None:
    folder = public_dataset("myntra-fashion-images-subset")
    store = _ingest("myntra", folder, tmp_path)
    summary = store.summary()

    assert summary.rows == {"items": 1_099}
    assert len(list((folder / "thumbs").iterdir())) == 1_217  # 118 photos have no styles row
    assert summary.coverage["image"] == summary.coverage["category"] == 1_099
    first = _item(store, "1163")
    assert first["title"] == "Nike Sahara Team India Fanwear Round Neck Jersey"
    assert first["category"] == "Apparel > Topwear > Tshirts"
    kept = json.loads(first["attributes"])
    assert kept["gender"] == "Men" and kept["image_url"].startswith("http://")


def test_myntra_names_with_unquoted_commas(tmp_path: Path) -> None:
    # The Kaggle styles.csv has names with bare commas; quoted names must work too.
    header = "id,gender,masterCategory,subCategory,articleType,productDisplayName"
    (tmp_path / "styles.csv").write_text(
        f"{header}\n1,Men,Apparel,Topwear,Tshirts,Puma, Men Tee\n"
        '2,Women,Footwear,Shoes,Heels,"Catwalk ""Gold"" Heels, 3 in"\n',
        encoding="utf-8",
    )
    store = _ingest("myntra", tmp_path, tmp_path)

    titles = [item["title"] for item in store.arrow("items").to_pylist()]
    assert titles == ["Puma, Men Tee", 'Catwalk "Gold" Heels, 3 in']


def test_cdnow_without_a_header_line(tmp_path: Path) -> None:
    (tmp_path / "CDNOW_master.txt").write_text(
        " 00001 19970101  1   11.77\r\n 00002 19970112  2   12.00\r\n", encoding="utf-8"
    )
    store = _ingest("cdnow", tmp_path, tmp_path)

    assert [row["quantity"] for row in store.arrow("events").to_pylist()] == [1.0, 2.0]


def test_diginetica_competition_header(tmp_path: Path) -> None:
    (tmp_path / "train-item-views.csv").write_text(
        "sessionId;userId;itemId;timeframe;eventdate\n1;NA;81766;1500;2016-05-09\n",
        encoding="utf-8",
    )
    store = _ingest("diginetica", tmp_path, tmp_path)

    (event,) = store.arrow("events").to_pylist()
    assert (event["session_id"], event["user_id"], event["item_id"]) == ("1", None, "81766")
    assert str(event["timestamp"]) == "2016-05-09 00:00:01.500000"


def test_open_bandit_log_without_its_index_column(tmp_path: Path) -> None:
    campaign = tmp_path / "random" / "all"
    campaign.mkdir(parents=True)
    (campaign / "all.csv").write_text(
        "timestamp,item_id,position,click\n"
        "2019-11-24 00:00:34+00:00,1,1,0\n2019-11-24 00:00:35+00:00,2,1,1\n",
        encoding="utf-8",
    )
    store = _ingest("open-bandit", tmp_path, tmp_path)

    events = [(e["session_id"], e["event_type"]) for e in store.arrow("events").to_pylist()]
    assert events == [("0", "view"), ("1", "view"), ("1", "click")]


@pytest.mark.realdata
def test_wands_queries_are_read(public_dataset: DatasetFolder) -> None:
    source = get_adapter("wands").read(public_dataset("wands-queries"))

    (queries,) = source.tables
    assert queries.table == "queries"
    with duckdb.connect() as con:
        rows = con.sql(queries.sql).fetchall()
    assert len(rows) == 480
    text, kept = rows[0]
    assert text == "salon chair"
    assert json.loads(kept) == {"query_id": "0", "query_class": "Massage Chairs"}


@pytest.mark.realdata
def test_wands_ingests_only_queries(public_dataset: DatasetFolder, tmp_path: Path) -> None:
    store = _ingest("wands", public_dataset("wands-queries"), tmp_path)

    assert store.summary().rows == {"queries": 480}
    first = store.arrow("queries").to_pylist()[0]
    assert json.loads(first["attributes"])["query_class"] == "Massage Chairs"


def test_every_format_is_registered() -> None:
    expected = {
        "amazon-seq",
        "cdnow",
        "diginetica",
        "diginetica-sessions",
        "generic",
        "grocery",
        "hm",
        "movielens",
        "myntra",
        "open-bandit",
        "otto",
        "taobao",
        "wands",
    }
    assert expected <= set(adapter_names())
