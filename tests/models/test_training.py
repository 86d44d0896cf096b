"""Training rows: users, then anonymous sessions; fit on a dataset from a real store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mercato.data import DEFAULT_EVENT_WEIGHTS, Store, frame_source, ingest
from mercato.models import ItemKNN, get_model
from mercato.models._training import build_training

from .data import make_dataset


def test_rows_are_users_then_anonymous_sessions() -> None:
    frame = pd.DataFrame(
        {
            "user_idx": [0, 1, -1, -1, -1, -1],
            "item_idx": [0, 1, 2, 3, 2, 1],
            "event_type": ["view", "purchase", "view", "cart", "view", "view"],
            "session_idx": [0, 1, 5, 5, 7, -1],
        }
    )
    training = build_training(make_dataset(frame, n_users=3, n_items=4), DEFAULT_EVENT_WEIGHTS)
    np.testing.assert_array_equal(
        training.rows.toarray(),
        [[1, 0, 0, 0], [0, 5, 0, 0], [0, 0, 0, 0], [0, 0, 1, 3], [0, 0, 1, 0]],
    )
    np.testing.assert_array_equal(training.popularity, [1, 6, 2, 3])  # sessionless counts too
    assert training.history_weight == 12 / 6


def test_models_fit_on_a_dataset_read_from_a_store(tmp_path: Path) -> None:
    events = pd.DataFrame(
        {
            "user_id": ["007", "007", "042", "042", "042", "100"],
            "item_id": ["a", "b", "a", "b", "c", "c"],
            "event_type": ["view", "purchase", "view", "cart", "view", "view"],
            "timestamp": pd.to_datetime([f"2024-01-0{day}" for day in range(1, 7)]),
        }
    )
    ingest(frame_source("shop", {"events": events}), tmp_path / "s.duckdb")
    dataset = Store(tmp_path / "s.duckdb").dataset()

    user = dataset.user_index(["007"])
    model = ItemKNN(shrinkage=0.0).fit(dataset)
    top = model.recommend(user, k=3)
    assert dataset.item_ids[top.items[0, 0]] == "c"  # the only item user 007 has not seen
    for name in ("pop", "ease", "als"):
        assert get_model(name).fit(dataset).recommend(user, k=1).items.shape == (1, 1)
