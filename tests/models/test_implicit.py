"""ALS and BPR through implicit: they learn planted structure that popularity cannot see."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from mercato.data import Dataset
from mercato.models import ALS, BPR, Popularity, Recommender

from .data import hit_rate, planted_groups, tiny_shop

Planted = tuple[Dataset, Dataset, np.ndarray]


@pytest.fixture(scope="module")
def planted() -> Planted:
    return planted_groups()


def _hit_rate(model: Recommender[Any], planted: Planted) -> float:
    _, train, held_out = planted
    model.fit(train)
    return hit_rate(model.recommend(np.arange(len(held_out)), k=10).items, held_out)


def test_als_beats_popularity_on_planted_groups(planted: Planted) -> None:
    popularity = _hit_rate(Popularity(), planted)
    als = _hit_rate(ALS(factors=16, iterations=10, regularization=0.1, num_threads=1), planted)
    assert als > popularity + 0.5, (als, popularity)


def test_bpr_beats_popularity_on_planted_groups(planted: Planted) -> None:
    popularity = _hit_rate(Popularity(), planted)
    bpr = _hit_rate(BPR(factors=16, iterations=60, learning_rate=0.05), planted)
    assert bpr > popularity + 0.5, (bpr, popularity)


def test_als_fold_in_recovers_a_histories_group(planted: Planted) -> None:
    _, train, _ = planted
    model = ALS(factors=16, iterations=10, regularization=0.1, num_threads=1).fit(train)
    group = np.arange(5, 5 + 19)  # the items of group 0 in planted_groups' layout
    top = model.recommend(histories=[group[:4]], k=5).items[0]
    assert set(top.tolist()) <= set(group.tolist())


def test_bpr_fold_in_recovers_a_histories_group(planted: Planted) -> None:
    _, train, _ = planted
    model = BPR(factors=16, iterations=60, learning_rate=0.05).fit(train)
    group = np.arange(5 + 19, 5 + 2 * 19)  # group 1
    top = model.recommend(histories=[group[:4]], k=5).items[0]
    assert set(top.tolist()) <= set(group.tolist())


def test_event_weights_change_als() -> None:
    shop = tiny_shop()
    users = np.arange(shop.n_users)
    default = ALS(factors=8, iterations=4, num_threads=1).fit(shop).score_users(users)
    purchases = ALS(factors=8, iterations=4, num_threads=1, event_weights={"purchase": 1.0}).fit(
        shop
    )
    assert not np.allclose(default, purchases.score_users(users))


def test_bpr_ignores_weight_sizes_but_not_which_types_count() -> None:
    shop = tiny_shop()
    users = np.arange(22)  # users with history (cold users get popularity, which does change)
    default = BPR(factors=8, iterations=10).fit(shop).score_users(users)
    doubled = {"view": 2.0, "click": 2.0, "cart": 6.0, "purchase": 10.0}
    np.testing.assert_array_equal(
        BPR(factors=8, iterations=10, event_weights=doubled).fit(shop).score_users(users), default
    )
    purchases = BPR(factors=8, iterations=10, event_weights={"purchase": 1.0}).fit(shop)
    assert not np.allclose(purchases.score_users(users), default)
