"""What a collaborative model trains on: events collapsed into weighted interaction rows.

Rows ``0 .. n_users - 1`` are the dataset's users (``Dataset.user_items``); after them come the
anonymous sessions (events with user -1 and a session), one row each. Session-only data such as
Diginetica has no users at all, so without those rows item-side models would learn nothing; the
session rows are never addressed as users.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from mercato.data._dataset import Dataset
from mercato.data._schema import EventType
from mercato.errors import DataError

__all__ = ["TrainingData", "build_training", "event_weight_values"]

logger = logging.getLogger(__name__)

_EVENT_COLUMNS = ("user_idx", "item_idx", "event_type", "session_idx")


@dataclass(frozen=True)
class TrainingData:
    """The training interactions of one fit.

    Attributes:
        dataset: the dataset being fitted (for models that need more than the matrix).
        rows: float32 CSR ``[R, I]`` of summed event weights; users first, then anonymous
            sessions.
        n_users: users in the dataset's id space (``R >= n_users``).
        popularity: float32 ``[I]`` summed event weights of every event, anonymous ones too.
        history_weight: the mean weight of one weighted training event; an item in a history
            passed for fold-in counts this much, so a history looks like training data.
    """

    dataset: Dataset
    rows: sp.csr_matrix
    n_users: int
    popularity: NDArray[np.float32]
    history_weight: float

    @property
    def n_items(self) -> int:
        return int(self.rows.shape[1])

    @property
    def user_items(self) -> sp.csr_matrix:
        """float32 CSR ``[n_users, I]``: each user's training items."""
        return self.rows[: self.n_users]


def build_training(dataset: Dataset, weights: Mapping[EventType, float]) -> TrainingData:
    """The weighted interaction rows of ``dataset``'s events; raises if nothing is left to fit."""
    _check_dataset(dataset)
    events = dataset.events
    values = event_weight_values(events, weights)

    user_items = dataset.user_items(weights)
    session_items = _session_items(events, values, dataset.n_items)
    rows = sp.vstack([user_items, session_items], format="csr", dtype=np.float32)
    rows.sort_indices()
    if rows.nnz == 0:
        raise DataError(
            "no training interactions",
            found=f"{len(events)} events, none with a weight > 0 and a user or session",
            expected="events whose type has a positive weight in event_weights",
            fix="check the split, or give the event types present a weight",
        )

    popularity = np.bincount(
        events["item_idx"].to_numpy(), weights=values, minlength=dataset.n_items
    ).astype(np.float32)
    positive = values > 0
    history_weight = float(values[positive].mean())
    logger.debug(
        "training rows: %d users, %d anonymous sessions, %d items, %d non-zeros",
        dataset.n_users,
        session_items.shape[0],
        dataset.n_items,
        rows.nnz,
    )
    return TrainingData(dataset, rows, dataset.n_users, popularity, history_weight)


def event_weight_values(
    events: pd.DataFrame, weights: Mapping[EventType, float]
) -> NDArray[np.float64]:
    """float64 ``[E]``: the weight of each event's type (0 for a type without a weight)."""
    by_name = {EventType(name).value: float(weight) for name, weight in weights.items()}
    weights_of_events = events["event_type"].map(by_name).fillna(0.0)
    return np.asarray(weights_of_events.to_numpy(np.float64), dtype=np.float64)


def _session_items(
    events: pd.DataFrame, values: NDArray[np.float64], n_items: int
) -> sp.csr_matrix:
    anonymous = (events["user_idx"].to_numpy() < 0) & (events["session_idx"].to_numpy() >= 0)
    sessions = events["session_idx"].to_numpy()[anonymous]
    _, row_of_event = np.unique(sessions, return_inverse=True)
    matrix = sp.csr_matrix(
        (
            values[anonymous].astype(np.float32),
            (row_of_event, events["item_idx"].to_numpy()[anonymous]),
        ),
        shape=(int(row_of_event.max(initial=-1)) + 1, n_items),
        dtype=np.float32,
    )
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    return matrix


def _check_dataset(dataset: Dataset) -> None:
    if not isinstance(dataset, Dataset):
        raise DataError(
            "models fit on a mercato Dataset",
            found=type(dataset).__name__,
            fix="load one with mercato.data.Store(path).dataset()",
        )
    missing = [column for column in _EVENT_COLUMNS if column not in dataset.events.columns]
    if missing:
        raise DataError(
            "the events table lacks a column models need",
            column=missing[0],
            expected=f"columns {', '.join(_EVENT_COLUMNS)}",
        )
    if dataset.n_items == 0:
        raise DataError("the dataset has no items", expected="at least one item")

    items = dataset.events["item_idx"].to_numpy()
    if items.size and (items.min() < 0 or items.max() >= dataset.n_items):
        raise DataError(
            "an event's item_idx is outside the catalogue",
            column="item_idx",
            found=int(items.min() if items.min() < 0 else items.max()),
            expected=f"item indices in [0, {dataset.n_items})",
        )
