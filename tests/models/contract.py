"""The recommender contract, as tests every registered model must pass.

A test module subclasses :class:`RecommenderContract` and provides two fixtures: ``make_model``
(``**overrides -> an unfitted model`` with a config fast enough for tiny data) and
``fallback_name`` (the registry name of the model whose scores cold users get).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mercato.data import Dataset
from mercato.errors import ConfigError, DataError, NotFittedError
from mercato.models import Recommender, get_model, load_model

from .data import make_dataset, split_last, tiny_shop

MakeModel = Callable[..., Recommender[Any]]

COLD_USERS = np.array([22, 23])


@pytest.fixture(scope="module")
def shop() -> Dataset:
    return tiny_shop()


@pytest.fixture(scope="module")
def split(shop: Dataset) -> tuple[Dataset, pd.DataFrame]:
    return split_last(shop)


def reference_topk(scores: np.ndarray, seen: np.ndarray | None, k: int) -> np.ndarray:
    """Top k of each row by (score desc, item index asc), seen items left out, -1 padded."""
    result = np.full((scores.shape[0], k), -1, dtype=np.int64)
    for row, values in enumerate(scores):
        items = np.arange(len(values))
        if seen is not None:
            items = items[~seen[row]]
        ordered = items[np.lexsort((items, -values[items]))][:k]
        result[row, : len(ordered)] = ordered
    return result


class RecommenderContract:
    """What every model promises; see ``mercato.models._base`` for the contract in words."""

    # -- construction and config ---------------------------------------------------------------

    def test_constructor_only_stores_the_config(self, make_model: MakeModel) -> None:
        model = make_model()
        assert not model.is_fitted
        again = type(model)(model.config)
        assert again.config == model.config

    def test_keyword_overrides_and_config_object_agree(self, make_model: MakeModel) -> None:
        model = make_model(seed=3)
        assert model.config.seed == 3
        assert type(model)(model.config, seed=4).config.seed == 4
        assert get_model(model.name, **model.config.to_dict()).config == model.config

    def test_invalid_settings_raise_config_error(self, make_model: MakeModel) -> None:
        model = make_model()
        with pytest.raises(ConfigError, match="no setting 'no_such_setting'"):
            type(model)(no_such_setting=1)
        with pytest.raises(ConfigError, match="seed"):
            make_model(seed=-1)
        with pytest.raises(ConfigError, match="teleport"):
            make_model(event_weights={"teleport": 1.0})
        for field in dataclasses.fields(model.config):
            if field.name in ("seed", "event_weights"):
                continue
            # A switch takes True; every other setting refuses it (True is an int to Python).
            switch = isinstance(getattr(model.config, field.name), bool)
            for bad in (-1, "ten") if switch else (-1, True, "ten"):
                with pytest.raises(ConfigError, match=field.name):
                    make_model(**{field.name: bad})

    def test_wrong_config_class_raises(self, make_model: MakeModel) -> None:
        model = make_model()
        other = get_model("pop" if model.name != "pop" else "ease").config
        with pytest.raises(ConfigError, match=type(model.config).__name__):
            type(model)(other)

    # -- before fit ----------------------------------------------------------------------------

    def test_use_before_fit_raises_not_fitted(self, make_model: MakeModel, tmp_path: Path) -> None:
        model = make_model()
        calls: list[Callable[[], object]] = [
            lambda: model.recommend(np.array([0])),
            lambda: model.recommend(histories=[np.array([1])]),
            lambda: model.score_users(np.array([0])),
            lambda: model.score_histories([np.array([1])]),
            lambda: model.score(np.array([0]), np.array([1])),
            lambda: model.save(tmp_path / "model"),
        ]
        for call in calls:
            with pytest.raises(NotFittedError, match="fit"):
                call()

    # -- shapes, order, ties -------------------------------------------------------------------

    def test_fit_returns_self_and_scores_have_the_contract_shape(
        self, make_model: MakeModel, shop: Dataset
    ) -> None:
        model = make_model()
        assert model.fit(shop) is model
        scores = model.score_users(np.arange(shop.n_users))
        assert scores.shape == (shop.n_users, shop.n_items)
        assert scores.dtype == np.float32
        assert np.isfinite(scores).all()
        histories = model.score_histories([np.array([0, 1]), np.array([9])])
        assert histories.shape == (2, shop.n_items) and histories.dtype == np.float32

    def test_topk_is_descending_and_matches_a_full_sort(
        self, make_model: MakeModel, shop: Dataset
    ) -> None:
        model = make_model().fit(shop)
        users = np.arange(shop.n_users)
        top = model.recommend(users, k=5)
        assert top.items.shape == (shop.n_users, 5) and top.items.dtype == np.int64
        assert top.scores.shape == (shop.n_users, 5) and top.scores.dtype == np.float32
        assert (np.diff(top.scores, axis=1) <= 0).all()

        # Same lists as sorting every score by (score desc, item asc): ties by lower index.
        seen = shop.user_items().toarray() > 0
        expected = reference_topk(model.score_users(users), seen, 5)
        np.testing.assert_array_equal(top.items, expected)
        np.testing.assert_array_equal(
            top.scores, np.take_along_axis(model.score_users(users), expected, axis=1)
        )

    def test_ties_go_to_the_lower_item_index(self, make_model: MakeModel) -> None:
        # Four items seen once each at the same instant, two never: a cold user's fallback
        # scores are two runs of ties.
        events = pd.DataFrame(
            {
                "user_idx": [0, 0, 1, 1],
                "item_idx": [3, 1, 2, 0],
                "timestamp": pd.Timestamp("2024-01-01"),
            }
        )
        model = make_model().fit(make_dataset(events, 3, 6))
        top = model.recommend(np.array([2]), k=6)
        np.testing.assert_array_equal(top.items[0], [0, 1, 2, 3, 4, 5])

    def test_k_beyond_the_catalogue_returns_every_rankable_item(
        self, make_model: MakeModel, shop: Dataset
    ) -> None:
        model = make_model().fit(shop)
        k = shop.n_items + 5
        top = model.recommend(np.arange(shop.n_users), k=k)
        n_seen = np.diff(shop.user_items().indptr)
        for row, items in enumerate(top.items):
            n_rankable = shop.n_items - n_seen[row]
            assert sorted(items[:n_rankable]) == sorted(set(items[:n_rankable]))
            assert (items[:n_rankable] >= 0).all() and (items[n_rankable:] == -1).all()
            assert np.isneginf(top.scores[row, n_rankable:]).all()

    def test_bad_k_and_arguments(self, make_model: MakeModel, shop: Dataset) -> None:
        model = make_model().fit(shop)
        with pytest.raises(ConfigError, match="k must be"):
            model.recommend(np.array([0]), k=0)
        with pytest.raises(TypeError):
            model.recommend()
        with pytest.raises(TypeError):
            model.recommend(np.array([0]), histories=[np.array([1])])

    # -- exclusion -----------------------------------------------------------------------------

    def test_exclude_seen_drops_training_items(self, make_model: MakeModel, shop: Dataset) -> None:
        model = make_model().fit(shop)
        users = np.arange(shop.n_users)
        seen = shop.user_items().tolil().rows
        top = model.recommend(users, k=shop.n_items)
        for row, items in enumerate(top.items):
            assert not set(items.tolist()) & set(seen[row])
        everything = model.recommend(users, k=shop.n_items, exclude_seen=False)
        assert (everything.items >= 0).all()

    def test_history_recommendations_exclude_the_history(
        self, make_model: MakeModel, shop: Dataset
    ) -> None:
        model = make_model().fit(shop)
        histories = [np.array([0, 2, 2]), np.array([8, 9]), np.array([], dtype=np.int64)]
        top = model.recommend(histories=histories, k=shop.n_items)
        for items, history in zip(top.items, histories, strict=True):
            assert not set(items.tolist()) & set(history.tolist())
            assert (items >= 0).sum() == shop.n_items - len(set(history.tolist()))
        kept = model.recommend(histories=histories, k=3, exclude_seen=False)
        expected = reference_topk(model.score_histories(histories), None, 3)
        np.testing.assert_array_equal(kept.items, expected)

    # -- unknown users and items ---------------------------------------------------------------

    def test_cold_users_get_the_fallback(
        self, make_model: MakeModel, fallback_name: str, shop: Dataset
    ) -> None:
        model = make_model().fit(shop)
        cold = model.score_users(COLD_USERS)
        fallback = get_model(fallback_name).fit(shop).score_users(np.array([0]))[0]
        np.testing.assert_array_equal(cold, np.vstack([fallback, fallback]))
        empty = model.score_histories([np.array([], dtype=np.int64)])
        np.testing.assert_array_equal(empty[0], fallback)

    def test_out_of_range_ids_raise_data_error(self, make_model: MakeModel, shop: Dataset) -> None:
        model = make_model().fit(shop)
        for users in (np.array([-1]), np.array([shop.n_users]), np.array([0.5])):
            with pytest.raises(DataError, match="user"):
                model.recommend(users)
            with pytest.raises(DataError, match="user"):
                model.score_users(users)
        for items in (np.array([-1]), np.array([shop.n_items])):
            with pytest.raises(DataError, match="item"):
                model.score(np.array([0]), items)
            with pytest.raises(DataError, match="history 1"):
                model.score_histories([np.array([0]), items])

    def test_pointwise_score_matches_full_scores(
        self, make_model: MakeModel, shop: Dataset
    ) -> None:
        model = make_model().fit(shop)
        users, items = np.array([0, 5, 22]), np.array([15, 3, 3, 0])
        np.testing.assert_array_equal(model.score(users, items), model.score_users(users)[:, items])

    # -- determinism and persistence -----------------------------------------------------------

    def test_same_seed_same_model(self, make_model: MakeModel, shop: Dataset) -> None:
        first = make_model(seed=11).fit(shop)
        second = make_model(seed=11).fit(shop)
        users = np.arange(shop.n_users)
        np.testing.assert_array_equal(first.score_users(users), second.score_users(users))
        histories = [np.array([1, 4]), np.array([10])]
        np.testing.assert_array_equal(
            first.score_histories(histories), second.score_histories(histories)
        )

    def test_save_load_round_trip(
        self, make_model: MakeModel, shop: Dataset, tmp_path: Path
    ) -> None:
        model = make_model().fit(shop)
        path = model.save(tmp_path / "model")
        assert sorted(entry.name for entry in path.iterdir()) == ["arrays.npz", "model.json"]

        users = np.arange(shop.n_users)
        histories = [np.array([1, 4]), np.array([10, 10, 3])]
        for loaded in (type(model).load(path), load_model(path)):
            assert type(loaded) is type(model) and loaded.config == model.config
            np.testing.assert_array_equal(loaded.score_users(users), model.score_users(users))
            np.testing.assert_array_equal(
                loaded.score_histories(histories), model.score_histories(histories)
            )
            np.testing.assert_array_equal(
                loaded.recommend(users, k=7).items, model.recommend(users, k=7).items
            )

        # Saving again replaces the model and leaves no temporary directories behind.
        model.save(path)
        assert [entry.name for entry in tmp_path.iterdir()] == ["model"]

    def test_load_refuses_another_kind_of_model(
        self, make_model: MakeModel, shop: Dataset, tmp_path: Path
    ) -> None:
        model = make_model().fit(shop)
        other = get_model("pop" if model.name != "pop" else "itemknn").fit(shop)
        path = other.save(tmp_path / "other")
        with pytest.raises(DataError, match=f"not {model.name!r}"):
            type(model).load(path)

    # -- no leakage ----------------------------------------------------------------------------

    def test_fit_reads_only_the_training_events(
        self, make_model: MakeModel, shop: Dataset, split: tuple[Dataset, pd.DataFrame]
    ) -> None:
        train, held_out = split
        users = np.arange(shop.n_users)
        trained = make_model().fit(train).score_users(users)

        # Held-out interactions placed in other tables must not reach the model...
        reviews = pd.DataFrame(
            {
                "user_id": shop.user_ids[held_out["user_idx"].to_numpy()],
                "item_id": shop.item_ids[held_out["item_idx"].to_numpy()],
                "rating": 5.0,
            }
        )
        leaky = dataclasses.replace(train, reviews=reviews, queries=reviews)
        np.testing.assert_array_equal(make_model().fit(leaky).score_users(users), trained)

        # ...while fitting on them does change the scores, so the check above can fail.
        assert not np.array_equal(make_model().fit(shop).score_users(users), trained)

    def test_held_out_items_stay_rankable(
        self, make_model: MakeModel, split: tuple[Dataset, pd.DataFrame]
    ) -> None:
        train, held_out = split
        model = make_model().fit(train)
        users = held_out["user_idx"].to_numpy()
        top = model.recommend(users, k=train.n_items)
        seen = train.user_items().tolil().rows
        for row, (user, target) in enumerate(zip(users, held_out["item_idx"], strict=True)):
            assert (target in top.items[row]) == (target not in seen[user])

    # -- data shapes ---------------------------------------------------------------------------

    def test_fits_on_anonymous_sessions_alone(self, make_model: MakeModel) -> None:
        sessions = [[0, 1, 2], [1, 2], [3, 4], [4, 5, 3], [0, 2]]
        frame = pd.DataFrame(
            [(-1, item, index) for index, items in enumerate(sessions) for item in items],
            columns=["user_idx", "item_idx", "session_idx"],
        )
        model = make_model().fit(make_dataset(frame, n_users=0, n_items=6))
        scores = model.score_histories([np.array([3]), np.array([0, 1])])
        assert scores.shape == (2, 6) and np.isfinite(scores).all()

    def test_fit_without_usable_events_raises(self, make_model: MakeModel, shop: Dataset) -> None:
        with pytest.raises(DataError, match="no training interactions"):
            make_model().fit(shop.with_events(shop.events.iloc[:0]))
        with pytest.raises(DataError, match="Dataset"):
            make_model().fit(shop.events)  # type: ignore[arg-type]
