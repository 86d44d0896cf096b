"""The in-memory Dataset: the user-item matrix with event weights, and id lookups."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mercato.data import DEFAULT_EVENT_WEIGHTS, Dataset, EventType, Store, frame_source, ingest
from mercato.errors import DataError


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    events = pd.DataFrame(
        [
            ("u1", "i1", "view", "2024-01-01 09:00"),
            ("u1", "i1", "purchase", "2024-01-01 09:05"),
            ("u1", "i1", "purchase", "2024-01-03 18:00"),
            ("u1", "i2", "cart", "2024-01-03 18:00"),
            ("u2", "i2", "view", "2024-01-02 12:00"),
            ("u2", "i3", "search_click", "2024-01-02 12:00"),
            (None, "i3", "purchase", "2024-01-05 00:00"),
        ],
        columns=["user_id", "item_id", "event_type", "timestamp"],
    )
    events["session_id"] = ["a", "a", "b", "b", "c", "c", "d"]
    path = tmp_path_factory.mktemp("dataset") / "shop.duckdb"
    ingest(frame_source("s", {"events": events}), path)
    return Store(path).dataset()


def test_user_items_sums_default_weights(dataset: Dataset) -> None:
    matrix = dataset.user_items()

    assert matrix.shape == (2, 3)
    assert matrix.dtype == np.float32
    # u1/i1: view 1 + two purchases 5 each; u1/i2: cart 3; u2/i2: view 1; u2/i3: search click 1.
    # The anonymous purchase of i3 belongs to no user.
    assert matrix.toarray().tolist() == [[11.0, 3.0, 0.0], [0.0, 1.0, 1.0]]
    assert DEFAULT_EVENT_WEIGHTS[EventType.PURCHASE] == 5.0


def test_user_items_with_own_weights_leaves_out_unweighted_types(dataset: Dataset) -> None:
    matrix = dataset.user_items({EventType.PURCHASE: 1.0, EventType.CART: 0.5})

    assert matrix.toarray().tolist() == [[2.0, 0.5, 0.0], [0.0, 0.0, 0.0]]
    # Zero-weight cells are not stored.
    assert matrix.nnz == 2


def test_binary_user_items(dataset: Dataset) -> None:
    matrix = dataset.user_items(binary=True)

    assert matrix.toarray().tolist() == [[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]


def test_id_lookups(dataset: Dataset) -> None:
    assert dataset.item_index(["i3", "i1"]).tolist() == [2, 0]
    assert dataset.user_index(["u2"]).tolist() == [1]
    assert dataset.item_index(["i1", "nope"], missing=-1).tolist() == [0, -1]
    with pytest.raises(DataError, match="unknown item id; found 'nope'") as caught:
        dataset.item_index(["i1", "nope"])
    assert caught.value.fix == "pass missing=-1 to map unknown items to -1"


def test_with_events_keeps_the_id_spaces(dataset: Dataset, tmp_path: Path) -> None:
    first_two = dataset.with_events(dataset.events.iloc[:2], name="head")

    assert first_two.name == "head"
    assert first_two.n_items == dataset.n_items
    assert first_two.user_items().toarray().tolist() == [[6.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    assert len(dataset.events) == 7
