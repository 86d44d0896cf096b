"""content-knn: the recommender contract on a shop with a catalogue, then what content does.

It lives beside the content sequence models because it reads the same generated catalogues and
feature cache; it trains no network.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mercato.data import Dataset
from mercato.errors import DataError
from mercato.models import Recommender, get_model

from ..contract import MakeModel, RecommenderContract, split  # noqa: F401  (fixtures)
from ..data import make_dataset, tiny_shop
from .content import (
    ContentShop,
    catalogue,
    changed_item,
    cold_ranking_auc,
    content_shop,
    fast_encoders,
)

# The tiny shop's taste groups: items 0-6, items 7-14, and item 15 (never touched) alone.
TINY_GROUPS = np.array([0] * 7 + [1] * 8 + [2])


def build(**overrides: Any) -> Recommender[Any]:
    """content-knn with the fast test encoders (fresh ones: TF-IDF keeps its first fit)."""
    return get_model("content-knn", encoders=fast_encoders(), progress=False, **overrides)


def with_catalogue(dataset: Dataset, groups: np.ndarray, seed: int = 0) -> Dataset:
    """``dataset`` with a generated catalogue (no pictures): texts, codes and prices by group."""
    items = catalogue(dataset.item_ids, groups, np.random.default_rng(seed))
    return dataclasses.replace(dataset, items=items)


@pytest.fixture(scope="module")
def shop() -> Dataset:
    return with_catalogue(tiny_shop(), TINY_GROUPS)


class TestContentKNNContract(RecommenderContract):
    @pytest.fixture
    def make_model(self) -> MakeModel:
        return build

    @pytest.fixture
    def fallback_name(self) -> str:
        return "pop"

    # The two checks below build their own shops; these give them a catalogue to compare.

    def test_ties_go_to_the_lower_item_index(self, make_model: MakeModel) -> None:
        events = pd.DataFrame(
            {
                "user_idx": [0, 0, 1, 1],
                "item_idx": [3, 1, 2, 0],
                "timestamp": pd.Timestamp("2024-01-01"),
            }
        )
        dataset = with_catalogue(make_dataset(events, 3, 6), np.arange(6) % 2)
        top = make_model().fit(dataset).recommend(np.array([2]), k=6)
        np.testing.assert_array_equal(top.items[0], [0, 1, 2, 3, 4, 5])

    def test_fits_on_anonymous_sessions_alone(self, make_model: MakeModel) -> None:
        sessions = [[0, 1, 2], [1, 2], [3, 4], [4, 5, 3], [0, 2]]
        frame = pd.DataFrame(
            [(-1, item, index) for index, items in enumerate(sessions) for item in items],
            columns=["user_idx", "item_idx", "session_idx"],
        )
        dataset = with_catalogue(make_dataset(frame, n_users=0, n_items=6), np.arange(6) // 3)
        scores = make_model().fit(dataset).score_histories([np.array([3]), np.array([0, 1])])
        assert scores.shape == (2, 6) and np.isfinite(scores).all()
        assert scores[0, 4] > scores[0, 0]  # item 3's look-alike beats another group's item


# -- what content does -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pictured(tmp_path_factory: pytest.TempPathFactory) -> ContentShop:
    return content_shop(tmp_path_factory.mktemp("pictures"))


def test_cold_items_are_recommended_by_their_content(pictured: ContentShop) -> None:
    users = np.arange(pictured.dataset.n_users)
    model = build().fit(pictured.dataset)
    assert cold_ranking_auc(model.score_users(users), pictured) >= 0.95

    # Look-alikes of what a user bought include the group's cold items: they reach the top 5.
    top = model.recommend(users, k=5).items
    assert np.mean([pictured.cold[row].any() for row in top]) >= 0.8

    # A collaborative neighbourhood never links a cold item to anything.
    itemknn = get_model("itemknn").fit(pictured.dataset)
    assert cold_ranking_auc(itemknn.score_users(users), pictured) <= 0.6


@pytest.mark.parametrize("modality", ["text", "image", "category", "brand", "attributes"])
def test_each_switch_removes_its_modality(modality: str, pictured: ContentShop) -> None:
    changed = dataclasses.replace(pictured.dataset, items=changed_item(pictured, modality))
    users = np.arange(pictured.dataset.n_users)
    used = ("text", "image", "category", "brand", "attributes")
    for modalities, matters in ((used, True), (tuple(m for m in used if m != modality), False)):
        before = build(item_modalities=modalities).fit(pictured.dataset)
        after = build(item_modalities=modalities).fit(changed)
        moved = not np.array_equal(before.score_users(users), after.score_users(users))
        assert moved == matters, f"{modality} {'on' if matters else 'off'}"


def two_purchases(repeat_user_items: int = 0) -> Dataset:
    """User 0 bought item 0 (group 0) a year ago and item 4 (group 1) yesterday; users 1-3
    bought item 7 (group 1) ``repeat_user_items`` times each, to make it popular."""
    rows = [(0, 0, "2023-01-01"), (0, 4, "2023-12-31")]
    rows += [(user, 7, "2023-06-01") for user in (1, 2, 3) for _ in range(repeat_user_items)]
    frame = pd.DataFrame(rows, columns=["user_idx", "item_idx", "timestamp"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    frame["event_type"] = "purchase"
    return with_catalogue(make_dataset(frame, n_users=4, n_items=8), np.arange(8) // 4)


def test_recent_purchases_count_more() -> None:
    dataset = two_purchases()
    group_0, group_1 = np.arange(1, 4), np.arange(5, 8)  # unbought look-alikes of each item

    recent = build(half_life_days=30).fit(dataset).score_users(np.array([0]))[0]
    assert recent[group_1].min() > recent[group_0].max()

    # Without a half-life both purchases count alike, so neither group wins outright.
    flat = build(half_life_days=0).fit(dataset).score_users(np.array([0]))[0]
    assert flat[group_1].mean() == pytest.approx(flat[group_0].mean(), rel=0.2)


def test_popular_items_are_bought_again() -> None:
    dataset = two_purchases(repeat_user_items=1)
    users = np.array([1])  # bought item 7 only
    alone = build(repeat_weight=0.0).fit(dataset).score_users(users)[0]
    assert alone[7] == 0.0  # an item is never its own look-alike

    again = build(repeat_weight=2.0).fit(dataset).score_users(users)[0]
    assert again[7] > 0 and int(np.argmax(again)) == 7
    np.testing.assert_array_equal(np.delete(again, 7), np.delete(alone, 7))


def test_a_catalogue_without_content_is_refused() -> None:
    events = pd.DataFrame({"user_idx": [0, 1], "item_idx": [0, 1]})
    with pytest.raises(DataError, match="no item has any of the modalities") as error:
        build().fit(make_dataset(events, 2, 3))
    assert "item_modalities" in str(error.value)
