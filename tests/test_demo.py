"""Tests of the demo shop generator: shape of the tables, and that the truth shows in the data."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import mercato.demo
from mercato.demo import DemoConfig, DemoShop, generate_demo_shop, write_events_csv
from mercato.errors import ConfigError

EVENT_TYPES = {"view", "click", "cart", "favourite", "purchase", "rating", "search_click"}
COLUMNS = {
    "events": [
        "user_id",
        "item_id",
        "event_type",
        "timestamp",
        "session_id",
        "value",
        "price",
        "quantity",
    ],
    "items": [
        "item_id",
        "title",
        "description",
        "category",
        "brand",
        "price",
        "attributes",
        "image",
        "video",
    ],
    "users": ["user_id", "attributes"],
    "reviews": ["user_id", "item_id", "rating", "text", "timestamp"],
    "queries": ["user_id", "session_id", "query", "timestamp", "clicked_items"],
}
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def tiny() -> DemoShop:
    return generate_demo_shop(DemoConfig.preset("tiny"))


@pytest.fixture(scope="module")
def small() -> DemoShop:
    return generate_demo_shop(DemoConfig.preset("small"))


def _tables(shop: DemoShop) -> dict[str, pd.DataFrame]:
    return {name: getattr(shop, name) for name in COLUMNS}


def _counts(shop: DemoShop) -> pd.Series:
    return shop.events["event_type"].value_counts()


# --- public surface and config ------------------------------------------------------------


def test_all_is_sorted_and_complete() -> None:
    assert mercato.demo.__all__ == sorted(mercato.demo.__all__)
    for name in mercato.demo.__all__:
        assert hasattr(mercato.demo, name)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("n_users", 0),
        ("n_users", 2.5),
        ("n_users", True),
        ("n_items", -1),
        ("n_days", 3),
        ("sessions_per_user", 0.0),
        ("sessions_per_user", math.nan),
        ("chinese_share", 1.5),
        ("video_share", -0.1),
        ("start", "2026-13-01"),
        ("start", "yesterday"),
        ("seed", -1),
    ],
)
def test_bad_config_raises_config_error_naming_the_setting(setting: str, value: object) -> None:
    with pytest.raises(ConfigError, match=setting):
        DemoConfig(**{setting: value})  # type: ignore[arg-type]


def test_unknown_preset_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="tiny, small, medium, large"):
        DemoConfig.preset("huge")


def test_presets_have_the_intended_sizes(tiny: DemoShop, small: DemoShop) -> None:
    assert 1_000 <= len(tiny.events) <= 3_000
    assert 20_000 <= len(small.events) <= 45_000
    assert DemoConfig.preset("medium").n_users == 20_000
    assert DemoConfig.preset("large", seed=3).seed == 3


# --- determinism ---------------------------------------------------------------------------


def test_same_seed_gives_identical_tables_and_truth(tiny: DemoShop) -> None:
    again = generate_demo_shop(DemoConfig.preset("tiny"))
    for name, table in _tables(tiny).items():
        pd.testing.assert_frame_equal(table, getattr(again, name), obj=name)
    pd.testing.assert_frame_equal(tiny.truth.price_history, again.truth.price_history)
    np.testing.assert_array_equal(tiny.truth.user_factors, again.truth.user_factors)
    assert tiny.truth.elasticity == again.truth.elasticity


def test_different_seed_gives_different_tables(tiny: DemoShop) -> None:
    other = generate_demo_shop(DemoConfig.preset("tiny", seed=1))
    assert not other.events.equals(tiny.events)
    assert not other.items["title"].equals(tiny.items["title"])
    assert other.truth.elasticity != tiny.truth.elasticity


# --- columns, dtypes, ids ------------------------------------------------------------------


def test_tables_have_the_canonical_columns(tiny: DemoShop) -> None:
    for name, table in _tables(tiny).items():
        assert list(table.columns) == COLUMNS[name], name


def test_events_have_the_specified_types(tiny: DemoShop) -> None:
    events = tiny.events
    for column in ("user_id", "item_id", "event_type", "session_id"):
        assert pd.api.types.is_string_dtype(events[column]), column
    assert pd.api.types.is_datetime64_dtype(events["timestamp"])
    assert getattr(events["timestamp"].dtype, "tz", None) is None
    for column in ("value", "price", "quantity"):
        assert events[column].dtype == np.float64, column

    assert set(events["event_type"]) <= EVENT_TYPES
    assert events["timestamp"].is_monotonic_increasing
    rating = events["event_type"] == "rating"
    assert events.loc[rating, "value"].between(1, 5).all()
    assert events.loc[~rating, "value"].isna().all()
    buying = events["event_type"].isin(["cart", "purchase"])
    assert (events.loc[buying, "quantity"] == 1.0).all()
    assert events.loc[~buying, "quantity"].isna().all()
    assert (events["price"] > 0).all()


def test_other_tables_have_the_specified_types(tiny: DemoShop) -> None:
    items, users, reviews, queries = tiny.items, tiny.users, tiny.reviews, tiny.queries
    assert items["price"].dtype == np.float64
    assert items["category"].str.count(" > ").eq(2).all()
    assert all(isinstance(value, dict) and "colour" in value for value in items["attributes"])
    assert items["image"].isna().all() and items["video"].isna().all()

    attributes = users["attributes"].iloc[0]
    assert isinstance(attributes["age"], int) and attributes["region"]
    assert pd.Timestamp(attributes["signup"]) < pd.Timestamp(tiny.config.start)

    assert reviews["rating"].dtype == np.float64
    assert reviews["rating"].isin([1.0, 2.0, 3.0, 4.0, 5.0]).all()
    assert pd.api.types.is_datetime64_dtype(reviews["timestamp"])
    assert pd.api.types.is_datetime64_dtype(queries["timestamp"])
    assert all(isinstance(clicked, list) and clicked for clicked in queries["clicked_items"])


def test_ids_are_strings_with_leading_zeros(tiny: DemoShop) -> None:
    patterns = {"user_id": r"u\d{6}", "item_id": r"i\d{5}", "session_id": r"s\d{7}"}
    for column, pattern in patterns.items():
        assert tiny.events[column].str.fullmatch(pattern).all(), column
    assert tiny.users["user_id"].iloc[0] == "u000000"
    assert tiny.items["item_id"].iloc[0] == "i00000"
    known_items = set(tiny.items["item_id"])
    assert set(tiny.events["item_id"]) <= known_items
    assert set(tiny.events["user_id"]) <= set(tiny.users["user_id"])


def test_every_session_belongs_to_one_user(small: DemoShop) -> None:
    assert small.events.groupby("session_id")["user_id"].nunique().eq(1).all()


# --- behaviour -----------------------------------------------------------------------------


def test_funnel_drops_off_at_each_step(small: DemoShop) -> None:
    counts = _counts(small)
    assert counts["view"] > counts["cart"] > counts["purchase"]
    assert 0.10 <= counts["cart"] / counts["view"] <= 0.30
    assert 0.30 <= counts["purchase"] / counts["cart"] <= 0.50


def test_every_purchase_follows_a_cart_of_the_same_session(small: DemoShop) -> None:
    events = small.events
    key = ["session_id", "item_id"]
    first_cart = events[events["event_type"] == "cart"].groupby(key)["timestamp"].min()
    purchases = events[events["event_type"] == "purchase"].set_index(key)["timestamp"]
    cart_time = first_cart.reindex(purchases.index)
    assert cart_time.notna().all()
    assert (cart_time <= purchases).all()


def test_prices_follow_the_recorded_history(small: DemoShop) -> None:
    history = small.truth.price_history.sort_values("start")
    events = small.events.sort_values("timestamp")
    matched = pd.merge_asof(
        events, history, left_on="timestamp", right_on="start", by="item_id", suffixes=("", "_h")
    )
    assert (matched["timestamp"] < matched["end"]).all()
    np.testing.assert_allclose(matched["price"], matched["price_h"])

    latest = history.sort_values("start").groupby("item_id")["price"].last()
    np.testing.assert_allclose(small.items.set_index("item_id")["price"], latest)


def _elasticity_by_category(shop: DemoShop, event_type: str) -> dict[str, float]:
    """Slope of log(events per view) on log(price / base price), per category.

    Views and events are binned by relative price; the slope is a weighted least-squares fit.
    """
    truth = shop.truth
    events = shop.events[shop.events["event_type"].isin(["view", event_type])]
    base = pd.Series(truth.item_base_price, index=list(truth.item_ids))
    frame = pd.DataFrame(
        {
            "category": truth.item_category_path(events["item_id"]),
            "x": np.log(events["price"].to_numpy() / base[events["item_id"]].to_numpy()),
            "hit": (events["event_type"] == event_type).to_numpy(),
        }
    )
    frame["bin"] = np.round(frame["x"] / 0.05)
    cells = frame.groupby(["category", "bin"]).agg(
        x=("x", "mean"), hits=("hit", "sum"), views=("hit", lambda hit: (~hit).sum())
    )
    cells = cells[(cells["hits"] > 0) & (cells["views"] > 0)].reset_index()
    slopes = {}
    for category, cell in cells.groupby("category"):
        if len(cell) >= 3:
            weight = np.sqrt(cell["hits"].to_numpy(dtype=float))
            design = np.column_stack([np.ones(len(cell)), cell["x"]]) * weight[:, None]
            rate = cell["hits"].to_numpy(dtype=float) / cell["views"].to_numpy(dtype=float)
            target = np.log(rate) * weight
            slopes[str(category)] = float(np.linalg.lstsq(design, target, rcond=None)[0][1])
    return slopes


def test_cart_rates_recover_each_categorys_elasticity(small: DemoShop) -> None:
    estimated = _elasticity_by_category(small, "cart")
    true = np.array([small.truth.elasticity[category] for category in estimated])
    found = np.array(list(estimated.values()))
    assert len(estimated) >= 20
    assert (found < 0).mean() >= 0.9
    assert np.corrcoef(true, found)[0, 1] > 0.5
    assert np.abs(found - true).mean() < 0.7


def test_purchase_rates_fall_with_price_as_the_elasticity_says(small: DemoShop) -> None:
    estimated = _elasticity_by_category(small, "purchase")
    mean_true = np.mean([small.truth.elasticity[category] for category in estimated])
    mean_found = np.mean(list(estimated.values()))
    assert mean_found < 0
    assert abs(mean_found - mean_true) < 0.5


def test_ratings_rise_with_true_affinity(small: DemoShop) -> None:
    reviews = small.reviews
    affinity = small.truth.affinity(reviews["user_id"], reviews["item_id"])
    assert len(reviews) > 200
    assert np.corrcoef(reviews["rating"], affinity)[0, 1] > 0.4


def test_each_review_has_a_rating_event(small: DemoShop) -> None:
    ratings = small.events[small.events["event_type"] == "rating"]
    key = ["user_id", "item_id", "timestamp"]
    merged = small.reviews.merge(ratings, on=key, how="left")
    assert len(merged) == len(small.reviews)
    np.testing.assert_array_equal(merged["rating"], merged["value"])


def test_consumables_are_bought_again_far_more_often(small: DemoShop) -> None:
    purchases = small.events[small.events["event_type"] == "purchase"]
    times_bought = purchases.groupby(["user_id", "item_id"])["session_id"].nunique().reset_index()
    categories = small.truth.item_category_path(times_bought["item_id"])
    consumable = np.array([small.truth.repeat_gap_days[path] > 0 for path in categories])
    bought_again = times_bought["session_id"].to_numpy() > 1
    assert bought_again[consumable].sum() >= 20
    assert bought_again[consumable].mean() > 3 * bought_again[~consumable].mean()


def test_weekend_uplift_and_trend_show_in_session_counts() -> None:
    shop = generate_demo_shop(
        DemoConfig(n_users=3_000, n_items=200, n_days=56, sessions_per_user=4.0, seed=5)
    )
    events = shop.events
    views_per_session = events[events["event_type"] == "view"]["session_id"].value_counts()
    browsing = set(views_per_session[views_per_session >= 2].index)

    def fit(selected: pd.DataFrame) -> list[float]:
        """Intercept, daily trend and weekend effect of log sessions per day."""
        first = selected.groupby("session_id")["timestamp"].min()
        day = (first.dt.normalize() - pd.Timestamp(shop.config.start)).dt.days.to_numpy()
        counts = np.bincount(day, minlength=shop.config.n_days)
        days = np.arange(shop.config.n_days)
        weekend = ((shop.config.start_date.weekday() + days) % 7 >= 5).astype(float)
        design = np.column_stack([np.ones(len(days)), days, weekend])
        return [float(value) for value in np.linalg.lstsq(design, np.log(counts), rcond=None)[0]]

    every_session = fit(events)
    assert abs(math.exp(every_session[2]) - 1 - shop.truth.weekend_uplift) < 0.1
    # Re-buy and review visits build up over the first weeks, so the trend is read from
    # browsing sessions only.
    browsing_sessions = fit(events[events["session_id"].isin(browsing)])
    assert abs(browsing_sessions[1] - shop.truth.trend_per_day) < 0.002


# --- text ----------------------------------------------------------------------------------


def test_chinese_text_appears_for_the_configured_share(small: DemoShop) -> None:
    chinese_titles = small.items["title"].str.contains(CJK)
    assert chinese_titles.sum() == round(0.2 * len(small.items))
    np.testing.assert_array_equal(chinese_titles, small.truth.chinese_items)
    assert small.items["description"].str.contains(CJK).equals(chinese_titles)
    assert 0.1 < small.reviews["text"].str.contains(CJK).mean() < 0.3
    assert 0.1 < small.queries["query"].str.contains(CJK).mean() < 0.3
    languages = small.users["attributes"].map(lambda attributes: attributes["language"])
    assert (languages == "zh").mean() == pytest.approx(0.2)


def test_no_chinese_when_the_share_is_zero() -> None:
    shop = generate_demo_shop(DemoConfig(n_users=30, n_items=30, chinese_share=0.0))
    for text in (shop.items["title"], shop.reviews["text"], shop.queries["query"]):
        assert not text.str.contains(CJK).any()


def test_review_text_matches_rating_and_names_the_product(small: DemoShop) -> None:
    reviews = small.reviews.merge(small.items[["item_id", "title"]], on="item_id")
    english = reviews[~reviews["text"].str.contains(CJK) & ~reviews["title"].str.contains(CJK)]
    noun = english["title"].str.split().str[-1].str.lower()
    assert all(word in text.lower() for word, text in zip(noun, english["text"], strict=True))

    praise = re.compile(r"love|best|excellent|good|solid|nice", re.IGNORECASE)
    complaint = re.compile(r"terrible|do not buy|broke|disappointed|cheap|not happy", re.IGNORECASE)
    assert english.loc[english["rating"] >= 4, "text"].str.contains(praise).all()
    assert english.loc[english["rating"] <= 2, "text"].str.contains(complaint).all()

    chinese = reviews[reviews["text"].str.contains(CJK) & reviews["title"].str.contains(CJK)]
    assert len(chinese) > 0
    assert all(
        title[-2:] in text for title, text in zip(chinese["title"], chinese["text"], strict=True)
    )


def test_queries_describe_the_clicked_item(small: DemoShop) -> None:
    items = small.items.set_index("item_id")
    checked = 0
    for query, clicked in zip(small.queries["query"], small.queries["clicked_items"], strict=True):
        item = items.loc[clicked[0]]
        if CJK.search(query) or CJK.search(item["title"]):
            continue
        vocabulary = set(f"{item['title']} {item['category']}".lower().split())
        assert set(query.split()) <= vocabulary, (query, item["title"])
        checked += 1
    assert checked > 100


def test_each_clicked_search_result_has_a_search_click_event(small: DemoShop) -> None:
    clicks = small.queries.explode("clicked_items")
    search_clicks = small.events[small.events["event_type"] == "search_click"]
    assert len(clicks) == len(search_clicks)
    expected = set(zip(clicks["session_id"], clicks["clicked_items"], strict=True))
    found = set(zip(search_clicks["session_id"], search_clicks["item_id"], strict=True))
    assert expected == found


# --- media ---------------------------------------------------------------------------------


def test_media_are_written_and_readable(tmp_path: Path) -> None:
    config = DemoConfig(n_users=10, n_items=40, n_days=14, video_share=0.1)
    shop = generate_demo_shop(config, media_dir=tmp_path)
    for item_id, image in zip(shop.items["item_id"], shop.items["image"], strict=True):
        assert Path(image).is_absolute() and Path(image).name == f"{item_id}.png"
        with Image.open(image) as picture:
            assert picture.format == "PNG" and picture.size == (64, 64)

    clips = shop.items.dropna(subset=["video"])
    assert len(clips) == 4
    assert shop.items["video"].isna().sum() == 36
    for item_id, video in zip(clips["item_id"], clips["video"], strict=True):
        assert Path(video).is_absolute() and Path(video).name == f"{item_id}.gif"
        with Image.open(video) as clip:
            assert clip.format == "GIF" and clip.size == (64, 64)
            assert getattr(clip, "n_frames", 1) == 8


def test_media_do_not_change_the_events(tmp_path: Path, tiny: DemoShop) -> None:
    with_media = generate_demo_shop(DemoConfig.preset("tiny"), media_dir=tmp_path)
    pd.testing.assert_frame_equal(with_media.events, tiny.events)


# --- large CSV -----------------------------------------------------------------------------


def test_events_csv_has_the_canonical_layout(tmp_path: Path) -> None:
    path = write_events_csv(tmp_path / "events.csv", 25_000, seed=3, chunk_rows=10_000)
    with path.open() as handle:
        assert handle.readline().strip() == ",".join(COLUMNS["events"])
    frame = pd.read_csv(path, dtype={"user_id": str, "item_id": str, "session_id": str})
    assert len(frame) == 25_000
    assert frame["user_id"].str.fullmatch(r"u\d{6,}").all()
    assert frame["session_id"].str.fullmatch(r"s\d{7,}").all()
    assert set(frame["event_type"]) == EVENT_TYPES

    timestamps = pd.to_datetime(frame["timestamp"], format="ISO8601")
    assert timestamps.is_monotonic_increasing
    rating = frame["event_type"] == "rating"
    assert frame.loc[rating, "value"].between(1, 5).all()
    assert frame.loc[~rating, "value"].isna().all()
    buying = frame["event_type"].isin(["cart", "purchase"])
    assert (frame.loc[buying, "quantity"] == 1.0).all()
    assert frame.loc[~buying, "quantity"].isna().all()
    assert (frame["price"] > 0).all()


def test_events_csv_is_deterministic_under_a_seed(tmp_path: Path) -> None:
    first = write_events_csv(tmp_path / "a.csv", 5_000, seed=1, chunk_rows=2_000)
    second = write_events_csv(tmp_path / "b.csv", 5_000, seed=1, chunk_rows=2_000)
    other = write_events_csv(tmp_path / "c.csv", 5_000, seed=2, chunk_rows=2_000)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()


def test_events_csv_with_no_rows_has_only_the_header(tmp_path: Path) -> None:
    path = write_events_csv(tmp_path / "empty.csv", 0)
    assert path.read_text() == ",".join(COLUMNS["events"]) + "\n"


@pytest.mark.parametrize(("n_events", "chunk_rows"), [(-1, 10), (10, 0), (2.5, 10)])
def test_events_csv_rejects_bad_sizes(tmp_path: Path, n_events: int, chunk_rows: int) -> None:
    with pytest.raises(ConfigError):
        write_events_csv(tmp_path / "bad.csv", n_events, chunk_rows=chunk_rows)


# --- truth ---------------------------------------------------------------------------------


def test_truth_is_consistent_with_the_tables(small: DemoShop) -> None:
    truth = small.truth
    assert truth.user_factors.shape == (len(small.users), truth.dimension)
    assert truth.item_factors.shape == (len(small.items), truth.dimension)
    assert list(truth.item_ids) == small.items["item_id"].tolist()
    assert all(-3.0 <= value <= -0.5 for value in truth.elasticity.values())
    assert set(truth.elasticity) == set(small.items["category"])
    np.testing.assert_array_equal(
        truth.item_category_path(small.items["item_id"]), small.items["category"]
    )
    with pytest.raises(KeyError, match="u999999"):
        truth.affinity(["u999999"], ["i00000"])


def test_items_of_a_category_lie_near_each_other(small: DemoShop) -> None:
    truth = small.truth
    centres = truth.category_factors[truth.item_category]
    own = np.linalg.norm(truth.item_factors - centres, axis=1)
    shuffled = np.linalg.norm(truth.item_factors - np.roll(centres, 7, axis=0), axis=1)
    assert own.mean() < 0.6 * shuffled.mean()
