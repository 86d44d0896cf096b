"""hybrid-ranker: the recommender contract, then what its windows teach the ranker.

It lives beside the content models because it reads the same generated catalogues and feature
cache; the ranker is LightGBM, trained for real on small generated shops.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mercato.data import Dataset
from mercato.errors import ConfigError, DataError
from mercato.models import Recommender, get_model, load_model

from ..contract import MakeModel, RecommenderContract, split  # noqa: F401  (fixtures)
from ..data import make_dataset, tiny_shop
from .content import catalogue, fast_encoders

N_GROUPS, ITEMS_PER_GROUP, USERS_PER_GROUP, WEEKS = 4, 16, 10, 10


def build(**overrides: Any) -> Recommender[Any]:
    """hybrid-ranker with the fast test encoders and a forest small enough for tiny shops."""
    settings: dict[str, Any] = {
        "n_candidates": 10,
        "window_days": 7.0,
        "n_windows": 6,
        "trend_days": 7.0,
        "n_trees": 40,
        "min_child_samples": 5,
        **overrides,
    }
    return get_model("hybrid-ranker", encoders=fast_encoders(), progress=False, **settings)


def with_catalogue(dataset: Dataset, groups: np.ndarray, seed: int = 0) -> Dataset:
    """``dataset`` with a generated catalogue (no pictures): texts, codes and prices by group."""
    items = catalogue(dataset.item_ids, groups, np.random.default_rng(seed))
    return dataclasses.replace(dataset, items=items)


@pytest.fixture(scope="module")
def shop() -> Dataset:
    return with_catalogue(tiny_shop(), np.array([0] * 7 + [1] * 8 + [2]))


class TestHybridRankerContract(RecommenderContract):
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


# -- generated shops with a known rule ---------------------------------------------------------


def weekly_shop(rule: str, *, dated: bool = True, seed: int = 0) -> tuple[Dataset, np.ndarray]:
    """Users of ``N_GROUPS`` taste groups buying once or more a week for ``WEEKS`` weeks.

    ``rule="again"``: each user buys the same two staples every week, plus one item at random.
    ``rule="alike"``: each user buys a different item of their group every week, never one
    they have, so what wins is what looks like their past, and never the past itself.
    Returns the shop and each user's group.
    """
    rng = np.random.default_rng(seed)
    n_items = N_GROUPS * ITEMS_PER_GROUP
    item_groups = np.arange(n_items) // ITEMS_PER_GROUP
    user_groups = np.repeat(np.arange(N_GROUPS), USERS_PER_GROUP)
    rows = []
    start = pd.Timestamp("2024-01-01")
    for user, group in enumerate(user_groups):
        mine = rng.permutation(np.flatnonzero(item_groups == group))
        for week in range(WEEKS):
            day = start + pd.Timedelta(days=7 * week + int(rng.integers(0, 3)))
            bought = [*mine[:2], int(rng.integers(0, n_items))] if rule == "again" else [mine[week]]
            rows += [(user, int(item), day) for item in bought]
    frame = pd.DataFrame(rows, columns=["user_idx", "item_idx", "timestamp"])
    frame["event_type"] = "purchase"
    if not dated:
        frame["timestamp"] = pd.NaT
    dataset = make_dataset(frame, len(user_groups), n_items)
    return with_catalogue(dataset, item_groups, seed), user_groups


def test_learns_that_staples_are_bought_again() -> None:
    dataset, _ = weekly_shop("again")
    model = build().fit(dataset)
    assert model._booster is not None  # type: ignore[attr-defined]

    users = np.arange(dataset.n_users)
    top = model.recommend(users, k=2, exclude_seen=False).items
    staples = dataset.events.groupby("user_idx")["item_idx"].agg(
        lambda s: set(s.value_counts().index[:2])
    )
    share = np.mean(
        [len(set(row) & staples[user]) / 2 for user, row in zip(users, top, strict=True)]
    )
    assert share >= 0.9


def test_learns_that_look_alikes_beat_the_past() -> None:
    dataset, user_groups = weekly_shop("alike")
    users = np.arange(dataset.n_users)
    history = dataset.user_items()

    learned = build().fit(dataset)
    top = learned.recommend(users, k=3, exclude_seen=False).items
    own = np.mean([history[user, row].nnz / 3 for user, row in zip(users, top, strict=True)])
    same_group = np.mean(top // ITEMS_PER_GROUP == user_groups[:, None])
    assert own <= 0.1 and same_group >= 0.8

    # The fixed blend, used without dated windows, ranks the history itself first.
    blend = build().fit(weekly_shop("alike", dated=False)[0])
    blend_top = blend.recommend(users, k=3, exclude_seen=False).items
    blend_own = np.mean(
        [history[user, row].nnz / 3 for user, row in zip(users, blend_top, strict=True)]
    )
    assert blend_own >= 0.9


def test_never_sold_items_are_candidates_and_can_win() -> None:
    dataset, user_groups = weekly_shop("alike")
    # Item 9 of each group stays unsold: drop every event with it.
    unsold = np.arange(N_GROUPS) * ITEMS_PER_GROUP + ITEMS_PER_GROUP - 1
    events = dataset.events[~dataset.events["item_idx"].isin(unsold)]
    model = build().fit(dataset.with_events(events))

    scores = model.score_users(np.arange(dataset.n_users))
    own_group = scores[np.arange(len(user_groups)), unsold[user_groups]]
    other_groups = np.stack(
        [
            scores[np.arange(len(user_groups)), unsold[(user_groups + shift) % N_GROUPS]]
            for shift in range(1, N_GROUPS)
        ],
        axis=1,
    )
    assert np.mean(own_group > other_groups.max(axis=1)) >= 0.9


def test_content_is_what_finds_never_sold_look_alikes() -> None:
    dataset, _ = weekly_shop("alike")
    unsold = np.arange(N_GROUPS) * ITEMS_PER_GROUP + ITEMS_PER_GROUP - 1
    events = dataset.events[~dataset.events["item_idx"].isin(unsold)]
    behaviour_only = build(item_modalities=()).fit(dataset.with_events(events))
    scores = behaviour_only.score_users(np.arange(dataset.n_users))
    # Without content, nothing tells one unsold item from another.
    assert np.ptp(scores[:, unsold], axis=1).max() == 0.0


def test_without_dates_it_warns_and_blends(caplog: pytest.LogCaptureFixture) -> None:
    dataset, _ = weekly_shop("again", dated=False)
    with caplog.at_level(logging.WARNING, logger="mercato.models._hybrid_ranker"):
        model = build().fit(dataset)
    assert model._booster is None  # type: ignore[attr-defined]
    assert "fixed blend" in caplog.text


def test_the_trained_ranker_survives_save_and_load(tmp_path: Path) -> None:
    dataset, _ = weekly_shop("alike")
    model = build().fit(dataset)
    loaded = load_model(model.save(tmp_path / "ranker"))
    users = np.arange(dataset.n_users)
    np.testing.assert_allclose(loaded.score_users(users), model.score_users(users), rtol=1e-6)

    histories = [np.array([0, 1]), np.array([25])]
    np.testing.assert_allclose(
        loaded.score_histories(histories), model.score_histories(histories), rtol=1e-6
    )


@pytest.mark.parametrize(
    "setting", [{"window_days": 0.0}, {"n_windows": 0}, {"num_leaves": 1}, {"target_event": "x"}]
)
def test_bad_settings_are_refused(setting: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        build(**setting)


def test_windows_count_back_from_the_last_event_and_may_overlap() -> None:
    dataset, _ = weekly_shop("again")
    events = dataset.events
    back_to_back = list(build(n_windows=3)._windows(events))  # type: ignore[attr-defined]
    overlapping = list(
        build(n_windows=3, window_stride_days=3.5)._windows(events)  # type: ignore[attr-defined]
    )
    week, half = pd.Timedelta(days=7), pd.Timedelta(days=3.5)
    assert back_to_back[0][1] > events["timestamp"].max()
    assert all(stop - start == week for start, stop in back_to_back + overlapping)
    assert [stop for _, stop in back_to_back] == [back_to_back[0][1] - n * week for n in range(3)]
    assert [stop for _, stop in overlapping] == [back_to_back[0][1] - n * half for n in range(3)]

    # No window reaches back past the first event: a 10-week shop holds 9 whole weeks.
    assert len(list(build(n_windows=50)._windows(events))) == 9  # type: ignore[attr-defined]


def test_a_catalogue_without_content_is_refused_unless_content_is_off() -> None:
    events = pd.DataFrame({"user_idx": [0, 1], "item_idx": [0, 1]})
    with pytest.raises(DataError, match="no item has any of the modalities") as error:
        build().fit(make_dataset(events, 2, 3))
    assert "item_modalities" in str(error.value)

    behaviour_only = build(item_modalities=()).fit(make_dataset(events, 2, 3))
    assert behaviour_only.score_users(np.array([0])).shape == (1, 3)
