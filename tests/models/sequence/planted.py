"""Generated sequence data with a planted next-item rule, so a test knows the right answer."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mercato.data import Dataset

from ..data import make_dataset


def cycles(
    n_sequences: int = 120,
    n_cycles: int = 3,
    cycle_length: int = 10,
    steps: int = 7,
    *,
    anonymous: bool = False,
    seed: int = 0,
) -> tuple[Dataset, Dataset, np.ndarray, list[np.ndarray]]:
    """Each sequence walks ``steps`` items along one of ``n_cycles`` fixed cycles of items.

    The item after ``a`` is always the same, so the next item is fully determined by the last
    one, while item indices (shuffled) and popularity (near uniform) say nothing about it.
    Sequences are users, or anonymous sessions (user -1) with ``anonymous``.

    Returns (full dataset, training dataset without each sequence's last event, the held-out
    items ``[S]``, each sequence's training items in order).
    """
    rng = np.random.default_rng(seed)
    n_items = n_cycles * cycle_length
    order = rng.permutation(n_items).reshape(n_cycles, cycle_length)
    walks = []
    for _ in range(n_sequences):
        cycle, start = rng.integers(n_cycles), rng.integers(cycle_length)
        walks.append(order[cycle, (start + np.arange(steps)) % cycle_length])
    frame = _frame(walks, anonymous)
    full = make_dataset(frame, n_users=0 if anonymous else n_sequences, n_items=n_items)
    last = frame.groupby("key").tail(1).index
    train = full.with_events(full.events.drop(index=last).reset_index(drop=True))
    return full, train, np.array([walk[-1] for walk in walks]), [w[:-1] for w in walks]


def typed_pairs(
    n_users: int = 160,
    n_sources: int = 8,
    pairs: int = 4,
    *,
    erase_types: bool = False,
    seed: int = 0,
) -> tuple[Dataset, np.ndarray]:
    """Users see a source item as a view or a cart; what follows depends on which.

    After viewing source ``s`` comes item ``n_sources + s``, after carting it item
    ``2 * n_sources + s``: only a model that reads behaviour types can tell the two apart.
    After either follower comes source ``s + 1`` (mod ``n_sources``), so every step of a
    sequence, including the one a fit holds out for validation, follows a rule. Each user has
    ``pairs`` (source, follower) pairs; the last follower is held out. ``erase_types`` records
    every event as a view (the control: the source-to-follower step is then a coin toss).

    Returns (training dataset, held-out item per user).
    """
    rng = np.random.default_rng(seed)
    rows = []
    held_out = np.empty(n_users, dtype=np.int64)
    for user in range(n_users):
        first = int(rng.integers(n_sources))
        for pair in range(pairs):
            source, carted = (first + pair) % n_sources, bool(rng.integers(2))
            follower = (2 if carted else 1) * n_sources + source
            kind = "cart" if carted and not erase_types else "view"
            rows.append((user, source, kind))
            if pair == pairs - 1:
                held_out[user] = follower
            else:
                rows.append((user, follower, "view"))
    frame = pd.DataFrame(rows, columns=["user_idx", "item_idx", "event_type"])
    return make_dataset(frame, n_users=n_users, n_items=3 * n_sources), held_out


def _frame(walks: list[np.ndarray], anonymous: bool) -> pd.DataFrame:
    keys = np.repeat(np.arange(len(walks)), [len(walk) for walk in walks])
    frame = pd.DataFrame({"key": keys, "item_idx": np.concatenate(walks)})
    frame["user_idx"] = -1 if anonymous else frame["key"]
    frame["session_idx"] = frame["key"] if anonymous else -1
    return frame
