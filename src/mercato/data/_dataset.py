"""The in-memory view of one shop that models and evaluation read: frames with dense ids."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from mercato.data._schema import EventType
from mercato.errors import DataError

__all__ = ["DEFAULT_EVENT_WEIGHTS", "Dataset"]

#: How much each behaviour says about preference when events are collapsed into one matrix.
DEFAULT_EVENT_WEIGHTS: Mapping[EventType, float] = {
    EventType.VIEW: 1.0,
    EventType.CLICK: 1.0,
    EventType.SEARCH_CLICK: 1.0,
    EventType.FAVOURITE: 2.0,
    EventType.CART: 3.0,
    EventType.RATING: 3.0,
    EventType.PURCHASE: 5.0,
}


@dataclass(frozen=True)
class Dataset:
    """One shop: events, catalogue, users, reviews and queries, with dense integer ids.

    ``events`` columns: ``user_idx`` (int32, -1 for anonymous), ``item_idx`` (int32),
    ``event_type`` (str), ``timestamp`` (datetime64, NaT where unknown), ``session_idx`` (int32,
    -1 where none), ``value``, ``price``, ``quantity`` (float64, NaN where unknown) and
    ``position`` (int64, order in the source: the order of events without timestamps).

    ``items`` and ``users`` are indexed by dense id and cover every id (rows for ids seen only in
    events have missing fields). ``item_ids[i]`` / ``user_ids[u]`` give the string ids back.

    Stability: the column set is stable; new columns may be added.
    """

    name: str
    events: pd.DataFrame
    items: pd.DataFrame
    users: pd.DataFrame
    reviews: pd.DataFrame
    queries: pd.DataFrame
    item_ids: NDArray[np.object_]
    user_ids: NDArray[np.object_]
    session_ids: NDArray[np.object_]

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    def item_index(self, ids: Iterable[str], *, missing: int | None = None) -> NDArray[np.int64]:
        """Dense ids of string item ids; unknown ids raise, unless ``missing`` stands in."""
        return _lookup(self.item_ids, ids, "item", missing)

    def user_index(self, ids: Iterable[str], *, missing: int | None = None) -> NDArray[np.int64]:
        """Dense ids of string user ids; unknown ids raise, unless ``missing`` stands in."""
        return _lookup(self.user_ids, ids, "user", missing)

    def user_items(
        self,
        weights: Mapping[EventType, float] | None = None,
        *,
        binary: bool = False,
    ) -> sp.csr_matrix:
        """Events collapsed into a [n_users, n_items] CSR matrix of summed behaviour weights.

        Args:
            weights: weight per event type (default ``DEFAULT_EVENT_WEIGHTS``); a type left out
                counts zero. Anonymous events (user -1) are left out.
            binary: 1 wherever the weighted sum is positive.
        """
        weights = DEFAULT_EVENT_WEIGHTS if weights is None else weights
        events = self.events[self.events["user_idx"] >= 0]
        by_name = {EventType(name).value: weight for name, weight in weights.items()}
        values = events["event_type"].map(by_name).fillna(0.0).to_numpy(np.float32)
        matrix = sp.csr_matrix(
            (values, (events["user_idx"].to_numpy(), events["item_idx"].to_numpy())),
            shape=(self.n_users, self.n_items),
            dtype=np.float32,
        )
        matrix.sum_duplicates()
        matrix.eliminate_zeros()
        if binary:
            matrix.data[:] = 1.0
        return matrix

    def with_events(self, events: pd.DataFrame, name: str | None = None) -> Dataset:
        """The same shop (same id spaces, catalogue, users) with other events, e.g. a split."""
        return replace(self, events=events, name=name or self.name)


def _lookup(
    known: NDArray[np.object_], ids: Iterable[str], kind: str, missing: int | None
) -> NDArray[np.int64]:
    index = pd.Index(known)
    wanted = [str(value) for value in ids]
    positions = index.get_indexer(pd.Index(wanted, dtype=object))
    unknown = positions < 0
    if unknown.any():
        if missing is None:
            first = wanted[int(np.flatnonzero(unknown)[0])]
            raise DataError(
                f"unknown {kind} id",
                found=first,
                expected=f"one of the {len(known)} {kind} ids in the dataset",
                fix=f"pass missing=-1 to map unknown {kind}s to -1",
            )
        positions[unknown] = missing
    return positions.astype(np.int64)
