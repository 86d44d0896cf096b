"""Session kNN: STAN's three weights on hand-made sessions, recency, fallback and settings."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mercato.data import Dataset
from mercato.errors import ConfigError
from mercato.models import Popularity, SessionKNN, SessionKNNConfig, _neighbours

from .data import make_dataset


def sessions_dataset(
    sessions: list[list[int]], n_items: int, *, hours: list[int] | None = None
) -> Dataset:
    """Anonymous sessions, in file order; ``hours`` gives each session one clock time."""
    rows = [
        {"user_idx": -1, "item_idx": item, "session_idx": index}
        for index, items in enumerate(sessions)
        for item in items
    ]
    frame = pd.DataFrame(rows)
    if hours is not None:
        start = pd.Timestamp("2024-01-01")
        lengths = [len(items) for items in sessions]
        frame["timestamp"] = start + pd.to_timedelta(np.repeat(hours, lengths), unit="h")
    return make_dataset(frame, n_users=0, n_items=n_items)


def scores_after(model: SessionKNN, history: list[int]) -> np.ndarray:
    return model.score_histories([np.array(history)])[0]


# -- the three weights ---------------------------------------------------------------------------


def test_a_neighbour_sharing_the_latest_item_outranks_one_sharing_an_older_item() -> None:
    # Query [0, 1]: session [1, 2] shares the latest item, session [0, 3] the older one.
    model = SessionKNN(lambda_position=1.0).fit(sessions_dataset([[1, 2], [0, 3]], 4))
    scores = scores_after(model, [0, 1])
    assert scores[2] > scores[3] > 0

    # The order of the query is what decides: reversed, the other neighbour wins.
    reversed_scores = scores_after(model, [1, 0])
    assert reversed_scores[3] > reversed_scores[2]


def test_items_near_the_shared_item_in_the_neighbour_outrank_far_ones() -> None:
    model = SessionKNN(lambda_neighbour=1.0).fit(sessions_dataset([[3, 2, 1, 0, 4]], 5))
    scores = scores_after(model, [0])
    assert scores[1] == scores[4] > scores[2] > scores[3] > 0


def test_the_anchor_is_the_most_recent_query_item_the_neighbour_holds() -> None:
    # The neighbour holds query item 0 at its start and query item 1 at its end. The query saw
    # 0 last, so the anchor is the neighbour's first position: 2 (next to it) beats 3.
    model = SessionKNN().fit(sessions_dataset([[0, 2, 3, 1]], 4))
    scores = scores_after(model, [1, 0])
    assert scores[2] > scores[3]
    again = scores_after(model, [0, 1])
    assert again[3] > again[2]


def test_a_two_session_case_computed_by_hand() -> None:
    model = SessionKNN(lambda_position=1.0, lambda_neighbour=1.0).fit(
        sessions_dataset([[0, 1, 2], [1, 3]], 5)
    )
    scores = scores_after(model, [0, 1])

    # w1 = e^-1 for item 0 (one step back) and 1 for item 1; the anchor is item 1 in both.
    first = (math.exp(-1) + 1) / math.sqrt(2 * 3)
    second = 1 / math.sqrt(2 * 2)
    expected = [
        first * math.exp(-1),
        first + second,
        first * math.exp(-1),
        second * math.exp(-1),
        0.0,
    ]
    np.testing.assert_allclose(scores, expected, rtol=1e-6)

    # Overlap similarity skips the cosine denominator; repeat_weight scales the query's items.
    overlap = SessionKNN(lambda_position=1.0, lambda_neighbour=1.0, similarity="overlap")
    raw = scores_after(overlap.fit(sessions_dataset([[0, 1, 2], [1, 3]], 5)), [0, 1])
    np.testing.assert_allclose(raw[3], math.exp(-1), rtol=1e-6)
    damped = SessionKNN(lambda_position=1.0, lambda_neighbour=1.0, repeat_weight=0.5)
    halved = scores_after(damped.fit(sessions_dataset([[0, 1, 2], [1, 3]], 5)), [0, 1])
    np.testing.assert_allclose(halved, np.array(expected) * [0.5, 0.5, 1, 1, 1], rtol=1e-6)


def test_only_the_k_most_similar_sessions_vote() -> None:
    dataset = sessions_dataset([[0, 1], [0, 5, 6, 7, 2]], 8)
    scores = scores_after(SessionKNN(k_neighbours=1).fit(dataset), [0])
    assert scores[1] > 0 and scores[2] == 0  # the short session is more similar (cosine)
    assert scores_after(SessionKNN(k_neighbours=2).fit(dataset), [0])[2] > 0


# -- recency and order ---------------------------------------------------------------------------


def test_sample_size_keeps_the_most_recent_sessions_in_file_order() -> None:
    dataset = sessions_dataset([[0, 1], [0, 2], [3, 4]], 5)
    scores = scores_after(SessionKNN(sample_size=1).fit(dataset), [0])
    assert scores[2] > 0 and scores[1] == 0
    everything = scores_after(SessionKNN().fit(dataset), [0])
    assert everything[1] > 0 and everything[2] > 0


def test_timestamps_decide_recency_and_order_before_the_file() -> None:
    # The first session in the file is the most recent by the clock.
    dataset = sessions_dataset([[0, 1], [0, 2]], 3, hours=[5, 1])
    scores = scores_after(SessionKNN(sample_size=1).fit(dataset), [0])
    assert scores[1] > 0 and scores[2] == 0

    # Within a session the clock orders the events, so the anchor moves with it.
    frame = pd.DataFrame(
        {
            "user_idx": [0, 0, 0],
            "item_idx": [3, 1, 0],
            "timestamp": pd.to_datetime(["2024-01-03", "2024-01-01", "2024-01-02"]),
        }
    )
    model = SessionKNN(lambda_neighbour=1.0).fit(make_dataset(frame, n_users=1, n_items=4))
    scores = scores_after(model, [1])
    assert scores[0] > scores[3] > 0  # in time order: 1, 0, 3


def test_a_training_user_is_never_their_own_neighbour() -> None:
    frame = pd.DataFrame({"user_idx": [0, 0, 1, 1], "item_idx": [0, 1, 1, 2]})
    model = SessionKNN().fit(make_dataset(frame, n_users=2, n_items=3))
    scores = model.score_users(np.array([0]))[0]
    assert scores[0] == 0 and scores[2] > 0  # only user 1 votes


# -- fallback, blocks, reference -----------------------------------------------------------------


def test_histories_sharing_nothing_get_popularity() -> None:
    dataset = sessions_dataset([[0, 1], [1, 2]], 5)
    model = SessionKNN().fit(dataset)
    popularity = Popularity().fit(dataset).score_histories([np.array([4])])[0]
    np.testing.assert_array_equal(scores_after(model, [4]), popularity)
    assert not np.array_equal(scores_after(model, [4, 0]), popularity)


def reference_scores(
    sessions: list[list[int]], history: list[int], n_items: int, **settings: Any
) -> np.ndarray:
    """The model's formula, one session at a time (sessions in file order, later = newer)."""
    config = SessionKNNConfig(**settings)
    length = len(history)
    w1 = {
        item: math.exp((p - length) / config.lambda_position) for p, item in enumerate(history, 1)
    }
    recent_first = list(reversed(range(len(sessions))))

    candidates = [r for r in recent_first if set(sessions[r]) & set(history)]
    if config.sample_size is not None:
        candidates = candidates[: config.sample_size]
    similarity = {}
    for r in candidates:
        shared = set(sessions[r]) & set(history)
        overlap = sum(w1[item] for item in shared)
        if config.similarity == "cosine":
            overlap /= math.sqrt(len(set(history)) * len(set(sessions[r])))
        similarity[r] = overlap
    ranked = sorted(candidates, key=lambda r: (-similarity[r], recent_first.index(r)))

    scores = np.zeros(n_items)
    for r in ranked[: config.k_neighbours]:
        last = {item: p for p, item in enumerate(sessions[r], 1)}
        anchor = last[max(set(last) & set(history), key=lambda item: w1[item])]
        for item, position in last.items():
            scores[item] += similarity[r] * math.exp(
                -abs(position - anchor) / config.lambda_neighbour
            )
    for item in set(history):
        scores[item] *= config.repeat_weight
    return scores


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"k_neighbours": 3, "lambda_position": 0.7, "lambda_neighbour": 3.0},
        {"sample_size": 6, "similarity": "overlap", "repeat_weight": 0.3},
    ],
)
def test_scores_match_a_loop_over_sessions(
    settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(3)
    sessions = [rng.integers(0, 12, size=rng.integers(1, 7)).tolist() for _ in range(40)]
    histories = [rng.integers(0, 12, size=rng.integers(1, 6)).tolist() for _ in range(25)]
    model = SessionKNN(**settings).fit(sessions_dataset(sessions, 12))

    # A few queries per block, so the block seams are crossed too.
    monkeypatch.setattr(_neighbours, "_BLOCK_ENTRIES", 50)
    scores = model.score_histories([np.array(history) for history in histories])
    for row, history in enumerate(histories):
        expected = reference_scores(sessions, history, 12, **settings)
        if expected.any():
            np.testing.assert_allclose(scores[row], expected, rtol=1e-5, atol=1e-7)


# -- settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("k_neighbours", 0),
        ("sample_size", 0),
        ("sample_size", 2.5),
        ("lambda_position", 0.0),
        ("lambda_neighbour", float("inf")),
        ("similarity", "jaccard"),
        ("repeat_weight", -0.1),
    ],
)
def test_bad_settings_raise_config_error(setting: str, value: object) -> None:
    with pytest.raises(ConfigError, match=setting):
        SessionKNNConfig(**{setting: value})


def test_settings_are_stored_as_given() -> None:
    config = SessionKNNConfig(
        k_neighbours=7, sample_size=None, lambda_position=3, similarity="overlap"
    )
    assert config.k_neighbours == 7 and config.sample_size is None
    assert config.lambda_position == 3.0 and isinstance(config.lambda_position, float)
    assert SessionKNN(config).config.similarity == "overlap"
