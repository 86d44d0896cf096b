"""Reviews and queries as per-item and per-user text signals."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mercato.features import item_review_signals, recent_query_signal, user_review_signal

from .helpers import CountingTextEncoder, tiny_shop


def _embedder(
    encoder: CountingTextEncoder,
) -> tuple[list[str], object]:
    seen: list[str] = []

    def embed(texts: Sequence[str], what: str) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
        del what
        seen.extend(texts)
        present = np.array([bool(text) for text in texts], dtype=bool)
        vectors = np.zeros((len(texts), encoder.dim), np.float32)
        if present.any():
            vectors[present] = encoder.encode([t for t in texts if t])
        return vectors, present

    return seen, embed


def test_item_reviews_give_mean_embedding_count_and_mean_rating(tmp_path: Path) -> None:
    shop = tiny_shop(tmp_path)
    encoder = CountingTextEncoder()
    _, embed = _embedder(encoder)
    signals = item_review_signals(shop.reviews, shop.n_items, embed)  # type: ignore[arg-type]
    assert signals.review_count.tolist() == [2, 0, 0, 2, 0]
    assert signals.rating_mean.tolist() == [4.0, 0.0, 0.0, 4.0, 0.0]  # the NaN rating is skipped
    assert signals.review_mask.tolist() == [True, False, False, True, False]
    expected = encoder.encode(["Lovely red dress"]) + encoder.encode(["Too short"])
    expected /= np.linalg.norm(expected)
    np.testing.assert_allclose(signals.review[0], expected[0], atol=1e-6)
    assert not signals.review[1].any()


def test_user_reviews_leave_anonymous_reviews_out(tmp_path: Path) -> None:
    shop = tiny_shop(tmp_path)
    _, embed = _embedder(CountingTextEncoder())
    signal = user_review_signal(shop.reviews, shop.n_users, embed)  # type: ignore[arg-type]
    assert signal.mask.tolist() == [True, True, False]
    np.testing.assert_allclose(np.linalg.norm(signal.vectors[:2], axis=1), 1.0, atol=1e-6)


def test_recent_queries_average_the_last_n_by_time(tmp_path: Path) -> None:
    shop = tiny_shop(tmp_path)
    encoder = CountingTextEncoder()
    seen, embed = _embedder(encoder)
    signal = recent_query_signal(shop.queries, shop.n_users, embed, last_n=2)  # type: ignore[arg-type]
    assert sorted(seen) == ["jacket", "red dress", "summer dress"]  # "old hammer" is too old
    assert signal.mask.tolist() == [True, True, False]


def test_signals_of_a_shop_without_reviews_or_queries_are_empty() -> None:
    _, embed = _embedder(CountingTextEncoder())
    signals = item_review_signals(pd.DataFrame(), 3, embed)  # type: ignore[arg-type]
    assert signals.review_count.tolist() == [0, 0, 0] and not signals.review_mask.any()
    assert signals.review.shape == (3, 16)
    queries = recent_query_signal(pd.DataFrame(columns=["user_idx", "query"]), 2, embed)  # type: ignore[arg-type]
    assert not queries.mask.any()
