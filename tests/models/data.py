"""Small generated shops for model tests, built as a ``Dataset`` directly (no store needed)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mercato.data import Dataset

EVENT_TYPES = ("view", "click", "cart", "purchase")


def make_dataset(
    events: pd.DataFrame, n_users: int, n_items: int, *, name: str = "tiny"
) -> Dataset:
    """A ``Dataset`` over ``n_users`` x ``n_items`` dense ids from a frame of events.

    ``events`` needs ``user_idx`` and ``item_idx``; ``event_type`` defaults to view, ``timestamp``
    to NaT, ``session_idx`` to -1 and ``position`` to the row order.
    """
    frame = pd.DataFrame(
        {
            "user_idx": events["user_idx"].to_numpy(np.int32),
            "item_idx": events["item_idx"].to_numpy(np.int32),
            "event_type": events.get("event_type", pd.Series(["view"] * len(events))).to_numpy(),
            "timestamp": pd.to_datetime(
                events.get("timestamp", pd.Series([pd.NaT] * len(events))).to_numpy()
            ),
            "session_idx": events.get("session_idx", pd.Series(-1, index=events.index)).to_numpy(
                np.int32
            ),
            "value": np.nan,
            "price": np.nan,
            "quantity": np.nan,
            "position": np.arange(len(events), dtype=np.int64),
        }
    )
    sessions = frame["session_idx"].to_numpy()
    n_sessions = int(sessions.max(initial=-1)) + 1
    item_ids = np.array([f"i{index:03d}" for index in range(n_items)], dtype=object)
    user_ids = np.array([f"u{index:03d}" for index in range(n_users)], dtype=object)
    return Dataset(
        name=name,
        events=frame,
        items=pd.DataFrame({"item_id": item_ids}),
        users=pd.DataFrame({"user_id": user_ids}),
        reviews=pd.DataFrame(columns=["user_id", "item_id", "rating", "text", "timestamp"]),
        queries=pd.DataFrame(columns=["user_id", "session_id", "query", "timestamp"]),
        item_ids=item_ids,
        user_ids=user_ids,
        session_ids=np.array([f"s{index}" for index in range(n_sessions)], dtype=object),
    )


def interactions(
    pairs: Sequence[tuple[int, int]], n_users: int, n_items: int, event_type: str = "view"
) -> Dataset:
    """A dataset of one ``event_type`` event per (user, item) pair."""
    frame = pd.DataFrame(pairs, columns=["user_idx", "item_idx"])
    frame["event_type"] = event_type
    return make_dataset(frame, n_users, n_items)


def tiny_shop(seed: int = 7) -> Dataset:
    """24 users in two taste groups over 16 items, mixed behaviours, timestamps and sessions.

    Users 22 and 23 have no events (cold, but in the id space); item 15 is never touched (a cold
    item); sessions 30.. are anonymous (user -1). Group A likes items 0-6, group B items 7-14.
    """
    rng = np.random.default_rng(seed)
    rows = []
    start = pd.Timestamp("2024-03-01")
    for user in range(22):
        liked = np.arange(0, 7) if user % 2 == 0 else np.arange(7, 15)
        for _event in range(int(rng.integers(4, 9))):
            item = int(rng.choice(liked)) if rng.random() < 0.85 else int(rng.integers(0, 15))
            rows.append(
                {
                    "user_idx": user,
                    "item_idx": item,
                    "event_type": EVENT_TYPES[int(rng.integers(0, len(EVENT_TYPES)))],
                    "timestamp": start + pd.Timedelta(hours=int(rng.integers(0, 30 * 24))),
                    "session_idx": user,
                }
            )
    for session in range(30, 36):
        for item in rng.choice(15, size=3, replace=False):
            rows.append(
                {
                    "user_idx": -1,
                    "item_idx": int(item),
                    "event_type": "view",
                    "timestamp": start + pd.Timedelta(hours=int(rng.integers(0, 30 * 24))),
                    "session_idx": session,
                }
            )
    frame = pd.DataFrame(rows).sort_values("timestamp", kind="stable").reset_index(drop=True)
    return make_dataset(frame, n_users=24, n_items=16)


def split_last(dataset: Dataset) -> tuple[Dataset, pd.DataFrame]:
    """Holds out each known user's latest event: (training dataset, held-out events)."""
    events = dataset.events
    known = events[events["user_idx"] >= 0]
    latest = known.sort_values(["timestamp", "position"]).groupby("user_idx").tail(1).index
    return dataset.with_events(events.drop(index=latest), name="train"), events.loc[latest]


def planted_groups(
    n_users: int = 300, n_items: int = 120, n_groups: int = 6, per_user: int = 10, seed: int = 0
) -> tuple[Dataset, Dataset, np.ndarray]:
    """Users who each draw items from one hidden group, and a very popular noise set.

    Returns (full dataset, training dataset, held-out item per user): the last draw of each user
    is held out. A quarter of all draws go to 5 globally popular items, so popularity is a
    strong but group-blind baseline.
    """
    rng = np.random.default_rng(seed)
    group_size = (n_items - 5) // n_groups
    pairs: list[tuple[int, int]] = []
    held_out = np.empty(n_users, dtype=np.int64)
    for user in range(n_users):
        group = user % n_groups
        own = 5 + group * group_size + np.arange(group_size)
        draws = rng.choice(own, size=per_user, replace=False)
        noise = rng.choice(5, size=per_user // 4 + 1, replace=False)
        history = [*noise.tolist(), *draws.tolist()]
        pairs.extend((user, int(item)) for item in history)
        held_out[user] = draws[-1]
    full = interactions(pairs, n_users, n_items)
    test = pd.MultiIndex.from_arrays([np.arange(n_users), held_out])
    keys = pd.MultiIndex.from_arrays([full.events["user_idx"], full.events["item_idx"]])
    train = full.with_events(full.events[~keys.isin(test)].reset_index(drop=True))
    return full, train, held_out


def hit_rate(top_items: np.ndarray, targets: np.ndarray) -> float:
    """Share of rows whose target is among their recommended items."""
    return float(np.mean([target in row for row, target in zip(top_items, targets, strict=True)]))
