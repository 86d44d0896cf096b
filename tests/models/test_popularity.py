"""Popularity baselines: global weighted counts and the recent window."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from mercato.errors import ConfigError
from mercato.models import Popularity, RecentPopularity

from .data import make_dataset


def _events(rows: Sequence[tuple[int, int, str, str | None]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["user_idx", "item_idx", "event_type", "timestamp"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    return frame


def test_popularity_sums_event_weights_including_anonymous_events() -> None:
    events = _events(
        [
            (0, 0, "view", None),
            (0, 1, "purchase", None),
            (1, 0, "view", None),
            (-1, 2, "cart", None),  # anonymous, no session: still counts towards popularity
        ]
    )
    model = Popularity().fit(make_dataset(events, n_users=2, n_items=4))
    np.testing.assert_array_equal(model.score_users(np.array([0]))[0], [2.0, 5.0, 3.0, 0.0])


def test_event_weights_change_the_ranking() -> None:
    events = _events([(0, 0, "view", None), (1, 0, "view", None), (2, 1, "purchase", None)])
    dataset = make_dataset(events, n_users=4, n_items=2)
    by_default = Popularity().fit(dataset).recommend(np.array([3]), k=2).items[0]
    views_only = Popularity(event_weights={"view": 1.0}).fit(dataset).recommend(np.array([3]), k=2)
    np.testing.assert_array_equal(by_default, [1, 0])  # one purchase outweighs two views
    np.testing.assert_array_equal(views_only.items[0], [0, 1])


def test_recent_popularity_counts_only_the_last_window_days() -> None:
    events = _events(
        [
            (0, 0, "view", "2024-01-01"),
            (1, 0, "view", "2024-01-02"),
            (2, 0, "view", "2024-01-03"),
            (0, 1, "view", "2024-01-20"),
            (1, 2, "view", "2024-01-25"),
            (2, 2, "view", "2024-01-26"),
            (3, 0, "view", None),  # no timestamp: outside every window
        ]
    )
    model = RecentPopularity(window_days=10).fit(make_dataset(events, n_users=5, n_items=3))
    np.testing.assert_array_equal(model.score_users(np.array([4]))[0], [0.0, 1.0, 2.0])
    wider = RecentPopularity(window_days=30).fit(make_dataset(events, n_users=5, n_items=3))
    np.testing.assert_array_equal(wider.score_users(np.array([4]))[0], [3.0, 1.0, 2.0])


def test_recent_popularity_falls_back_to_source_order_without_timestamps() -> None:
    events = _events([(0, 0, "view", None)] * 6 + [(1, 1, "view", None)] * 4)
    model = RecentPopularity(window_share=0.3).fit(make_dataset(events, n_users=3, n_items=2))
    np.testing.assert_array_equal(model.score_users(np.array([2]))[0], [0.0, 3.0])


def test_empty_recent_window_uses_global_popularity(caplog: pytest.LogCaptureFixture) -> None:
    events = _events([(0, 0, "view", "2024-01-01"), (1, 1, "search_click", "2024-01-30")])
    dataset = make_dataset(events, n_users=2, n_items=2)
    with caplog.at_level(logging.WARNING):
        model = RecentPopularity(window_days=3, event_weights={"view": 1.0}).fit(dataset)
    assert "recent window" in caplog.text
    np.testing.assert_array_equal(model.score_users(np.array([0]))[0], [1.0, 0.0])


def test_window_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match=r"window_share must be a finite number in \(0.0, 1.0\]"):
        RecentPopularity(window_share=1.5)
    with pytest.raises(ConfigError, match="window_days"):
        RecentPopularity(window_days=0)
