"""Chunked full ranking: same answer as one global sort, exclusion, ties, padding, memory bound."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import scipy.sparse as sp

from mercato.errors import ConfigError, DataError
from mercato.evaluate import _ranking
from mercato.evaluate._ranking import rank_topk, rank_topk_dot


def _reference_topk(scores: np.ndarray, k: int) -> np.ndarray:
    """Whole-matrix stable argsort of the negated scores: descending, ties by lower index."""
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    ranked = np.take_along_axis(scores, order, axis=1)
    order = np.where(np.isneginf(ranked), -1, order)
    padding = np.full((len(scores), max(0, k - scores.shape[1])), -1)
    return np.concatenate([order, padding], axis=1)


def _scorer(scores: np.ndarray):
    return lambda chunk: scores[chunk].copy()


@pytest.mark.parametrize(("chunk_size", "n_threads"), [(1, 1), (7, 3), (64, 2), (1000, 4)])
def test_chunked_ranking_equals_one_global_sort(chunk_size: int, n_threads: int) -> None:
    # Small integer scores make ties common, also at the k-th position.
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 6, size=(97, 40)).astype(np.float32)

    topk = rank_topk(_scorer(scores), np.arange(97), 9, chunk_size=chunk_size, n_threads=n_threads)

    np.testing.assert_array_equal(topk, _reference_topk(scores, 9))


@pytest.mark.parametrize("n_threads", [1, 3])
def test_rows_split_over_threads_equal_global_sort(
    monkeypatch: pytest.MonkeyPatch, n_threads: int
) -> None:
    # Blocks of 3 rows, so a chunk's top-k selection is shared among the worker threads; a
    # single block (one shopper's request) is selected in the calling thread instead.
    monkeypatch.setattr(_ranking, "_BLOCK_BYTES", 3 * 40 * 8)
    rng = np.random.default_rng(2)
    scores = rng.integers(0, 6, size=(31, 40)).astype(np.float32)

    topk = rank_topk(_scorer(scores), np.arange(31), 9, chunk_size=16, n_threads=n_threads)

    np.testing.assert_array_equal(topk, _reference_topk(scores, 9))


def test_continuous_scores_equal_global_sort() -> None:
    rng = np.random.default_rng(1)
    scores = rng.standard_normal((50, 300)).astype(np.float32)

    topk = rank_topk(_scorer(scores), np.arange(50), 20, chunk_size=16)

    np.testing.assert_array_equal(topk, _reference_topk(scores, 20))


def test_ties_go_to_the_lower_item_index() -> None:
    scores = np.array([[1, 2, 2, 2, 0], [5, 5, 5, 5, 5]], dtype=np.float32)

    topk = rank_topk(_scorer(scores), np.arange(2), 2)

    assert topk.tolist() == [[1, 2], [0, 1]]


def test_result_rows_follow_users_order() -> None:
    scores = np.array([[0, 1, 2], [2, 1, 0], [1, 2, 0]], dtype=np.float32)

    topk = rank_topk(_scorer(scores), np.array([2, 0]), 1)

    assert topk.tolist() == [[1], [2]]


def test_exclusion_is_indexed_by_user_id() -> None:
    # Five users; we rank users 3 and 1. User 3 may not get items 0 and 2, user 1 not item 4.
    scores = np.tile(np.array([5, 4, 3, 2, 1], dtype=np.float32), (5, 1))
    exclude = sp.csr_matrix((np.ones(3), (np.array([3, 3, 1]), np.array([0, 2, 4]))), shape=(5, 5))

    topk = rank_topk(_scorer(scores), np.array([3, 1]), 5, exclude=exclude)

    assert topk.tolist() == [[1, 3, 4, -1, -1], [0, 1, 2, 3, -1]]


def test_exclusion_matches_reference_on_random_data() -> None:
    rng = np.random.default_rng(2)
    scores = rng.integers(0, 4, size=(60, 30)).astype(np.float32)
    seen = sp.random(60, 30, density=0.3, random_state=3, format="csr")

    topk = rank_topk(_scorer(scores), np.arange(60), 10, exclude=seen, chunk_size=8)

    masked = np.where(seen.toarray() != 0, -np.inf, scores)
    np.testing.assert_array_equal(topk, _reference_topk(masked, 10))
    for user in range(60):
        assert not set(topk[user]) & set(seen[user].indices)


def test_k_beyond_catalogue_pads_with_minus_one() -> None:
    scores = np.array([[0.5, 0.1, 0.9]], dtype=np.float32)

    topk = rank_topk(_scorer(scores), np.arange(1), 5)

    assert topk.tolist() == [[2, 0, 1, -1, -1]]


def test_minus_infinity_is_not_rankable() -> None:
    scores = np.array([[-np.inf, 1.0, -np.inf, 0.0]], dtype=np.float32)

    assert rank_topk(_scorer(scores), np.arange(1), 3).tolist() == [[1, 3, -1]]


def test_plus_infinity_ranks_first_with_index_ties() -> None:
    scores = np.array([[np.inf, 1.0, np.inf, np.inf]], dtype=np.float32)

    assert rank_topk(_scorer(scores), np.arange(1), 2).tolist() == [[0, 2]]


def test_nan_scores_are_not_ranked_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    scores = np.array([[np.nan, 0.2, 0.1, np.nan], [0.3, 0.2, 0.1, 0.0]], dtype=np.float32)

    with caplog.at_level(logging.WARNING, logger="mercato.evaluate._ranking"):
        topk = rank_topk(_scorer(scores), np.arange(2), 3)

    assert topk.tolist() == [[1, 2, -1], [0, 1, 2]]
    assert "NaN" in caplog.text


def test_only_one_chunk_is_scored_at_a_time() -> None:
    rng = np.random.default_rng(4)
    scores = rng.random((23, 11)).astype(np.float32)
    chunk_lengths: list[int] = []

    def score_fn(chunk: np.ndarray) -> np.ndarray:
        chunk_lengths.append(len(chunk))
        return scores[chunk].copy()

    rank_topk(score_fn, np.arange(23), 3, chunk_size=5)

    assert chunk_lengths == [5, 5, 5, 5, 3]


def test_read_only_scores_are_not_written() -> None:
    scores = np.array([[3.0, 2.0, 1.0]], dtype=np.float32)
    scores.flags.writeable = False
    exclude = sp.csr_matrix(np.array([[1.0, 0.0, 0.0]]))

    topk = rank_topk(lambda chunk: scores[chunk], np.arange(1), 2, exclude=exclude)

    assert topk.tolist() == [[1, 2]]
    assert scores.tolist() == [[3.0, 2.0, 1.0]]


def test_dot_product_fast_path_equals_brute_force() -> None:
    rng = np.random.default_rng(5)
    users = rng.standard_normal((130, 8)).astype(np.float32)
    items = rng.standard_normal((77, 8)).astype(np.float32)
    seen = sp.random(130, 77, density=0.1, random_state=6, format="csr")

    topk = rank_topk_dot(users, items, 15, exclude=seen, chunk_size=32)

    masked = np.where(seen.toarray() != 0, -np.inf, users @ items.T)
    np.testing.assert_array_equal(topk, _reference_topk(masked, 15))


def test_progress_bar_can_be_switched_on() -> None:
    scores = np.eye(4, dtype=np.float32)

    topk = rank_topk(_scorer(scores), np.arange(4), 1, chunk_size=2, progress=True)

    assert topk[:, 0].tolist() == [0, 1, 2, 3]


def test_no_users_gives_an_empty_ranking() -> None:
    topk = rank_topk(_scorer(np.zeros((1, 3), np.float32)), np.array([], dtype=np.int64), 4)

    assert topk.shape == (0, 4)


@pytest.mark.parametrize("k", [0, -3])
def test_k_must_be_positive(k: int) -> None:
    with pytest.raises(ConfigError, match="k must be a positive integer"):
        rank_topk(_scorer(np.zeros((1, 3), np.float32)), np.arange(1), k)


def test_score_shape_is_checked() -> None:
    with pytest.raises(DataError, match="one row of item scores per user"):
        rank_topk(lambda chunk: np.zeros(3, np.float32), np.arange(2), 1)


def test_user_without_exclude_row_is_refused() -> None:
    with pytest.raises(DataError, match="no row in exclude"):
        rank_topk(
            _scorer(np.zeros((3, 3), np.float32)),
            np.arange(3),
            1,
            exclude=sp.csr_matrix((2, 3)),
        )


def test_dot_vectors_must_share_width() -> None:
    with pytest.raises(DataError, match="same width"):
        rank_topk_dot(np.zeros((2, 3)), np.zeros((4, 5)), 1)


def test_thread_count_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="n_threads"):
        rank_topk(_scorer(np.zeros((1, 3), np.float32)), np.arange(1), 1, n_threads=0)
