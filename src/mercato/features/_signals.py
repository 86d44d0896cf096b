"""Reviews and search queries as vectors: what is said about an item, and what a user seeks.

Per item: the mean embedding of its review texts and its mean rating. Per user: the mean
embedding of the reviews they wrote, and of their last ``n`` search queries (recent searches
say more about the next purchase than old ones).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mercato.features._vectors import mean_by_group

__all__ = [
    "ItemReviewSignals",
    "TextEmbedder",
    "UserTextSignal",
    "item_review_signals",
    "recent_query_signal",
    "user_review_signal",
]

#: Embeds ``[N]`` texts for a named purpose: ``([N, D] vectors, [N] bool has-a-vector)``.
TextEmbedder = Callable[[Sequence[str], str], tuple[NDArray[np.float32], NDArray[np.bool_]]]


@dataclass(frozen=True)
class ItemReviewSignals:
    """What reviews say about each item.

    Attributes:
        review: ``[I, D]`` unit mean embedding of the item's review texts; zero where none.
        review_mask: ``[I]`` True where at least one review text was embedded.
        review_count: ``[I]`` int32 number of reviews (with or without text).
        rating_mean: ``[I]`` float32 mean rating; 0 where the item has no rating.

    Stability: stable.
    """

    review: NDArray[np.float32]
    review_mask: NDArray[np.bool_]
    review_count: NDArray[np.int32]
    rating_mean: NDArray[np.float32]


@dataclass(frozen=True)
class UserTextSignal:
    """One text signal per user.

    Attributes:
        vectors: ``[U, D]`` unit mean embedding; zero where the user has none.
        mask: ``[U]`` True where the user has at least one embedded text.

    Stability: stable.
    """

    vectors: NDArray[np.float32]
    mask: NDArray[np.bool_]


def item_review_signals(
    reviews: pd.DataFrame, n_items: int, embed: TextEmbedder
) -> ItemReviewSignals:
    """Per-item review embedding, review count and mean rating.

    Args:
        reviews: ``item_idx``, and ``text`` / ``rating`` where known.
        n_items: ``I``.
        embed: Text embedder (cached, batched).
    """
    rows = _rows_for(reviews, "item_idx", n_items)
    items = rows["item_idx"].to_numpy(np.int64)
    counts = np.bincount(items, minlength=n_items).astype(np.int32)

    ratings = pd.to_numeric(_column(rows, "rating"), errors="coerce").to_numpy(np.float64)
    rated = np.isfinite(ratings)
    totals = np.bincount(items[rated], weights=ratings[rated], minlength=n_items)
    n_rated = np.bincount(items[rated], minlength=n_items)
    rating_mean = np.where(n_rated > 0, totals / np.maximum(n_rated, 1), 0.0).astype(np.float32)

    signal = _mean_text(_texts(rows, "text"), items, n_items, embed, "item reviews")
    return ItemReviewSignals(
        review=signal.vectors,
        review_mask=signal.mask,
        review_count=counts,
        rating_mean=rating_mean,
    )


def user_review_signal(reviews: pd.DataFrame, n_users: int, embed: TextEmbedder) -> UserTextSignal:
    """Per-user mean embedding of the reviews they wrote (anonymous reviews left out)."""
    rows = _rows_for(reviews, "user_idx", n_users)
    users = rows["user_idx"].to_numpy(np.int64)
    return _mean_text(_texts(rows, "text"), users, n_users, embed, "user reviews")


def recent_query_signal(
    queries: pd.DataFrame, n_users: int, embed: TextEmbedder, *, last_n: int = 5
) -> UserTextSignal:
    """Per-user mean embedding of their last ``last_n`` non-empty search queries.

    Queries are ordered by timestamp; those without one count as older than any dated query,
    and ties keep the table order.
    """
    rows = _rows_for(queries, "user_idx", n_users)
    texts = _texts(rows, "query")
    rows = rows.assign(query=pd.Series(texts, index=rows.index, dtype=object))
    rows = rows[np.array([bool(text) for text in texts], dtype=bool)]
    if "timestamp" in rows:
        rows = rows.assign(order=np.arange(len(rows))).sort_values(
            ["timestamp", "order"], na_position="first", kind="stable"
        )
    recent = rows.groupby("user_idx", sort=False).tail(last_n)
    users = recent["user_idx"].to_numpy(np.int64)
    return _mean_text(recent["query"].tolist(), users, n_users, embed, "recent queries")


def _mean_text(
    texts: Sequence[str], groups: NDArray[np.int64], n_groups: int, embed: TextEmbedder, what: str
) -> UserTextSignal:
    vectors, present = embed(texts, what)
    means, counts = mean_by_group(vectors[present], groups[present], n_groups)
    return UserTextSignal(vectors=means, mask=counts > 0)


def _rows_for(frame: pd.DataFrame, key: str, size: int) -> pd.DataFrame:
    """The rows whose ``key`` is a valid dense id (drops anonymous -1 and malformed rows)."""
    if key not in frame or frame.empty:
        return pd.DataFrame({key: pd.Series([], dtype=np.int64)})
    ids = pd.to_numeric(frame[key], errors="coerce")
    valid = ids.notna() & (ids >= 0) & (ids < size)
    return frame[valid.to_numpy()].assign(**{key: ids[valid].astype(np.int64)})


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series(np.nan, index=frame.index)


def _texts(frame: pd.DataFrame, name: str) -> list[str]:
    """The column as stripped strings, '' where missing."""
    return [value.strip() if isinstance(value, str) else "" for value in _column(frame, name)]
