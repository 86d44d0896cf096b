"""From events to encoder inputs: sequence order and keys, behaviour codes, gaps, windows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mercato.data import DEFAULT_EVENT_WEIGHTS, EventType
from mercato.models.sequence._data import (
    Sequences,
    Windows,
    build_sequences,
    gap_buckets,
    hold_out_last,
    last_windows,
    resolve_key,
    training_windows,
    windows_of_histories,
)
from mercato.models.sequence._recommender import window_owners

from ..data import make_dataset

T0 = pd.Timestamp("2024-01-01")


def shop() -> pd.DataFrame:
    """User 0: three events out of source order; user 1: two; session 5: anonymous."""
    return pd.DataFrame(
        [
            (0, 3, "cart", T0 + pd.Timedelta(seconds=10), -1),
            (0, 1, "view", T0, -1),
            (1, 2, "view", pd.NaT, 4),
            (0, 2, "purchase", T0 + pd.Timedelta(seconds=13), -1),
            (-1, 4, "view", T0, 5),
            (1, 0, "view", pd.NaT, 4),
            (-1, 0, "view", T0 + pd.Timedelta(days=2), 5),
        ],
        columns=["user_idx", "item_idx", "event_type", "timestamp", "session_idx"],
    )


def runs(sequences: Sequences) -> list[list[int]]:
    """Each sequence's items, in order."""
    pairs = zip(sequences.starts, sequences.ends, strict=True)
    return [sequences.items[start:end].tolist() for start, end in pairs]


def test_user_sequences_in_time_order_with_anonymous_sessions_after_them() -> None:
    dataset = make_dataset(shop(), n_users=2, n_items=5)
    assert resolve_key(dataset, "auto") == "user"
    sequences = build_sequences(dataset, DEFAULT_EVENT_WEIGHTS, "user", 32)

    assert runs(sequences) == [[1, 3, 2], [2, 0], [4, 0]]  # no clock: source order
    assert sequences.owners.tolist() == [0, 1, -1]
    codes = [EventType(kind).code + 1 for kind in ("view", "cart", "purchase")]
    assert sequences.types[:3].tolist() == codes

    # First events and events without a clock have an unknown gap; 10 s -> 1 + floor(log2 11).
    assert sequences.gaps.tolist() == [0, 4, 3, 0, 0, 0, 18]


def test_session_sequences_and_the_auto_key_without_users() -> None:
    events = shop()
    dataset = make_dataset(events, n_users=2, n_items=5)
    sequences = build_sequences(dataset, DEFAULT_EVENT_WEIGHTS, "session", 32)
    # Sessions 4 and 5, then user 0's events, which have no session.
    assert runs(sequences) == [[2, 0], [4, 0], [1, 3, 2]]

    anonymous = make_dataset(events[events["user_idx"] < 0], n_users=0, n_items=5)
    assert resolve_key(anonymous, "auto") == "session"


def test_events_whose_type_has_no_weight_are_left_out() -> None:
    dataset = make_dataset(shop(), n_users=2, n_items=5)
    sequences = build_sequences(dataset, {EventType.VIEW: 1.0}, "user", 32)
    assert sequences.items.tolist() == [1, 2, 0, 4, 0]


def test_gap_buckets_are_logarithmic_and_capped() -> None:
    seconds = np.array([np.nan, -5.0, 0.0, 1.0, 3.0, 1e9])
    assert gap_buckets(seconds, 8).tolist() == [0, 0, 1, 2, 3, 7]


def test_windows_are_left_padded_with_the_latest_event_last() -> None:
    dataset = make_dataset(shop(), n_users=2, n_items=5)
    sequences = build_sequences(dataset, DEFAULT_EVENT_WEIGHTS, "user", 32)

    last = last_windows(sequences, 4)
    np.testing.assert_array_equal(last.items, [[0, 2, 4, 3], [0, 0, 3, 1], [0, 0, 5, 1]])
    assert (last.types[last.items == 0] == 0).all()

    every = training_windows(sequences, 4, every_position=True)
    np.testing.assert_array_equal(every.items, [[0, 0, 2, 4], [0, 0, 0, 3], [0, 0, 0, 5]])
    np.testing.assert_array_equal(every.targets, [[-1, -1, 3, 2], [-1, -1, -1, 0], [-1, -1, -1, 0]])

    sliding = training_windows(sequences, 2, every_position=False)
    np.testing.assert_array_equal(sliding.items, [[0, 2], [2, 4], [0, 3], [0, 5]])
    np.testing.assert_array_equal(sliding.targets, [3, 2, 0, 0])


def test_hold_out_takes_the_last_event_of_sequences_of_three_or_more() -> None:
    dataset = make_dataset(shop(), n_users=2, n_items=5)
    sequences = build_sequences(dataset, DEFAULT_EVENT_WEIGHTS, "user", 32)
    train, valid = hold_out_last(sequences, 3)
    assert (train.ends - train.starts).tolist() == [2, 2, 2]
    np.testing.assert_array_equal(valid.items, [[0, 2, 4]])
    np.testing.assert_array_equal(valid.targets, [2])


def test_histories_get_one_behaviour_and_unknown_gaps() -> None:
    windows = windows_of_histories([np.array([4, 1, 2]), np.array([0])], behaviour=3, max_len=2)
    np.testing.assert_array_equal(windows.items, [[2, 3], [0, 1]])
    np.testing.assert_array_equal(windows.types, [[3, 3], [0, 3]])
    assert not windows.gaps.any()


def test_each_window_knows_its_user() -> None:
    dataset = make_dataset(shop(), n_users=2, n_items=5)
    sequences = build_sequences(dataset, DEFAULT_EVENT_WEIGHTS, "user", 32)
    train, _ = hold_out_last(sequences, 4)

    def every(cut: Sequences) -> Windows:
        return training_windows(cut, 4, every_position=True)

    def sliding(cut: Sequences) -> Windows:
        return training_windows(cut, 2, every_position=False)

    # User 0 (three events, one held out), user 1, then the anonymous session 5.
    assert window_owners(train, every).tolist() == [0, 1, -1]
    assert window_owners(train, sliding).tolist() == [0, 1, -1]
    assert window_owners(sequences, sliding).tolist() == [0, 0, 1, -1]
    assert window_owners(sequences, lambda cut: hold_out_last(cut, 4)[1]).tolist() == [0]
