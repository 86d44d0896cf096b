"""Full ranking of the whole catalogue for many users, one chunk of users at a time.

Every benchmark ranks all items (never sampled negatives), and a score matrix of 100k users by
1M items would need 400 GB. Here only one chunk's scores ``[chunk_size, I]`` float32 exist at a
time, so peak memory is about ``chunk_size * I * 4`` bytes, plus about 18 MiB per selection
thread (an int64 index block of at most ``_BLOCK_BYTES`` and its bool mask) and the ``[U, k]``
int64 result. Measured on the P2 size (60,858 users x 43,097 items, 64-d float32 vectors,
``chunk_size=1024``, 2 cores): about 21 s and 290 MB peak RSS for the whole process.

Ties cost little unless a row has many items tied at its k-th score: such a row is redone
exactly (still linear in ``I``), so a model that scores every item the same pays about 1 ms per
user at 43k items.

Order contract (what :func:`rank_topk` returns in each row):

- items by descending score; equal scores by ascending item index, so the result does not
  depend on ``argpartition``'s internal order, the chunk size or the thread count;
- excluded items, items scored ``-inf`` and items scored NaN are not rankable; when fewer than
  ``k`` items are rankable the row ends in ``-1`` padding. (NaN scores are logged as a warning:
  they usually mean a broken model.)

Scores are compared as float32, the dtype models score in.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from mercato.errors import ConfigError, DataError

__all__ = ["ScoreFn", "rank_topk", "rank_topk_dot"]

logger = logging.getLogger(__name__)

ScoreFn = Callable[[NDArray[np.int64]], NDArray[Any]]
"""Scores every item for a chunk of users: int ``[C]`` user ids → float ``[C, I]``."""

# Upper bound on the int64 index array argpartition builds for one block of rows; it keeps the
# selection step's memory small next to the chunk's scores whatever the catalogue size.
_BLOCK_BYTES = 16 * 2**20


def rank_topk(
    score_fn: ScoreFn,
    users: ArrayLike,
    k: int,
    *,
    exclude: sp.spmatrix | None = None,
    chunk_size: int = 1024,
    progress: bool = False,
    n_threads: int | None = None,
) -> NDArray[np.int64]:
    """Ranks all items for each user and keeps the top ``k``.

    Args:
        score_fn: called with int ``[C]`` user ids (``C <= chunk_size``), returns scores
            ``[C, I]`` for every item; the returned array may be overwritten (excluded items
            are set to ``-inf`` in place), so return a fresh one.
        users: int ``[U]`` user ids, in the order of the result rows.
        k: list length; may exceed ``I``, the rest of the row is ``-1``.
        exclude: sparse ``[n_users, I]`` whose non-zero entries in row ``users[j]`` (indexed by
            user id, not by position) are not ranked for that user, e.g. already-seen items.
        chunk_size: users scored at once; peak memory is about ``chunk_size * I * 4`` bytes.
        progress: show a ``rich`` progress bar.
        n_threads: threads for the top-k selection (the scoring itself runs in the calling
            thread, so ``score_fn`` need not be thread-safe); default: the available cores, at
            most 8.

    Returns:
        int64 ``[U, k]`` item indices, best first, ``-1`` padded.

    Example:
        >>> scores = np.array([[0.1, 0.9, 0.5], [0.3, 0.3, 0.0]], dtype=np.float32)
        >>> rank_topk(lambda chunk: scores[chunk].copy(), np.array([0, 1]), k=2)
        array([[1, 2],
               [0, 1]])
    """
    user_ids = _check_users(users)
    _check_positive("k", k)
    _check_positive("chunk_size", chunk_size)
    if n_threads is not None:
        _check_positive("n_threads", n_threads)
    excluded = _check_exclude(exclude, user_ids)

    topk = np.full((len(user_ids), k), -1, dtype=np.int64)
    started = time.perf_counter()
    n_items = -1
    with (
        ThreadPoolExecutor(max_workers=n_threads or _default_threads()) as pool,
        _progress_bar(progress, len(user_ids)) as advance,
    ):
        for start in range(0, len(user_ids), chunk_size):
            chunk = user_ids[start : start + chunk_size]
            scores = _chunk_scores(score_fn, chunk, n_items)
            n_items = scores.shape[1]

            if excluded is not None:
                _mask_excluded(scores, excluded, chunk)
            topk[start : start + len(chunk)] = _select_topk(scores, k, pool)
            advance(len(chunk))

            # Free this chunk before score_fn allocates the next: one score matrix at a time.
            del scores

    logger.info(
        "ranked %d users over %d items (top %d) in %.1f s",
        len(user_ids),
        max(n_items, 0),
        k,
        time.perf_counter() - started,
    )
    return topk


def rank_topk_dot(
    user_vectors: ArrayLike,
    item_vectors: ArrayLike,
    k: int,
    *,
    exclude: sp.spmatrix | None = None,
    chunk_size: int = 1024,
    progress: bool = False,
    n_threads: int | None = None,
) -> NDArray[np.int64]:
    """Top ``k`` by dot-product score ``user_vectors @ item_vectors.T``, for every user row.

    Args:
        user_vectors: ``[U, D]``; row ``u`` is user id ``u`` (also for ``exclude``).
        item_vectors: ``[I, D]``.
        k: list length; may exceed ``I``.
        exclude: sparse ``[U, I]`` of items not to rank per user.
        chunk_size: users scored at once; peak memory is about ``chunk_size * I * 4`` bytes.
        progress: show a ``rich`` progress bar.
        n_threads: threads for the top-k selection (the matrix product uses the BLAS pool).

    Returns:
        int64 ``[U, k]`` item indices, best first, ``-1`` padded.
    """
    users_d = np.ascontiguousarray(user_vectors, dtype=np.float32)
    items_d = np.ascontiguousarray(item_vectors, dtype=np.float32)
    if users_d.ndim != 2 or items_d.ndim != 2 or users_d.shape[1] != items_d.shape[1]:
        raise DataError(
            "user and item vectors must be 2-D with the same width",
            found=(users_d.shape, items_d.shape),
            expected="[U, D] and [I, D]",
        )

    def score_chunk(chunk: NDArray[np.int64]) -> NDArray[np.float32]:
        return users_d[chunk] @ items_d.T  # [C, D] @ [D, I] → [C, I], a fresh array

    return rank_topk(
        score_chunk,
        np.arange(len(users_d), dtype=np.int64),
        k,
        exclude=exclude,
        chunk_size=chunk_size,
        progress=progress,
        n_threads=n_threads,
    )


# --------------------------------------------------------------------------------------------
# Steps of one chunk
# --------------------------------------------------------------------------------------------


def _chunk_scores(score_fn: ScoreFn, chunk: NDArray[np.int64], n_items: int) -> NDArray[np.float32]:
    scores = np.asarray(score_fn(chunk), dtype=np.float32)
    if scores.ndim != 2 or scores.shape[0] != len(chunk):
        raise DataError(
            "score_fn must return one row of item scores per user of the chunk",
            found=scores.shape,
            expected=f"shape ({len(chunk)}, n_items)",
        )
    if n_items >= 0 and scores.shape[1] != n_items:
        raise DataError(
            "score_fn returned a different number of items than for the previous chunk",
            found=scores.shape[1],
            expected=str(n_items),
        )

    # Excluded items and NaN are written into this array, so a read-only view must be copied.
    if not scores.flags.writeable:
        scores = scores.copy()
    return scores


def _mask_excluded(
    scores: NDArray[np.float32], exclude: sp.csr_matrix, chunk: NDArray[np.int64]
) -> None:
    if exclude.shape[1] != scores.shape[1]:
        raise DataError(
            "exclude must have one column per scored item",
            found=exclude.shape[1],
            expected=str(scores.shape[1]),
        )
    rows = exclude[chunk]
    positions = np.repeat(np.arange(len(chunk)), np.diff(rows.indptr))
    stored = rows.data != 0
    scores[positions[stored], rows.indices[stored]] = -np.inf


def _select_topk(
    scores: NDArray[np.float32], k: int, pool: ThreadPoolExecutor
) -> NDArray[np.int64]:
    """Top-k of each row of ``scores [C, I]`` → ``[C, k]``, split into row blocks over threads."""
    n_rows, n_items = scores.shape
    k_kept = min(k, n_items)
    rows_per_block = max(1, _BLOCK_BYTES // max(1, n_items * 8))

    starts = range(0, n_rows, rows_per_block)
    if len(starts) == 1:
        # One block, as for a single shopper's request: handing it to a worker would start a
        # thread per request, which costs about a millisecond on its own.
        blocks = [_topk_block(scores, k_kept)]
    else:
        blocks = list(
            pool.map(
                lambda start: _topk_block(scores[start : start + rows_per_block], k_kept), starts
            )
        )

    topk = np.full((n_rows, k), -1, dtype=np.int64)
    topk[:, :k_kept] = np.concatenate(blocks) if n_rows else np.zeros((0, k_kept), np.int64)
    return topk


def _topk_block(block: NDArray[np.float32], k: int) -> NDArray[np.int64]:
    """Top ``k <= I`` of each row of ``block [B, I]`` in the order contract → ``[B, k]``."""
    n_items = block.shape[1]

    # Partitioning the negated scores at k puts the top k first (NaN still sorts last). The
    # mirrored call, partitioning at I - k, is ten times slower on rows full of ties.
    if k < n_items:
        candidates = np.argpartition(-block, k - 1, axis=1)[:, :k]
    else:
        candidates = np.broadcast_to(np.arange(n_items, dtype=np.int64), block.shape).copy()
    values = np.take_along_axis(block, candidates, axis=1)  # [B, k]

    # A row needs an exact redo when it holds NaN, or when ties at the k-th score go past the
    # selection and argpartition chose among them arbitrarily.
    has_nan = np.isnan(values).any(axis=1)
    kth = values.min(axis=1)
    straddles = np.count_nonzero(block >= kth[:, None], axis=1) > k
    redo = has_nan | (straddles & (kth > -np.inf))

    order = np.lexsort((candidates, -values), axis=1)
    candidates = np.take_along_axis(candidates, order, axis=1)
    values = np.take_along_axis(values, order, axis=1)
    candidates[values == -np.inf] = -1

    rows = np.flatnonzero(redo)
    if rows.size:
        candidates[rows] = _topk_rows_exact(block[rows], k)
    return candidates.astype(np.int64, copy=False)


def _topk_rows_exact(rows: NDArray[np.float32], k: int) -> NDArray[np.int64]:
    """Top ``k`` of each row ``[R, I]`` by (score desc, index asc), NaN unrankable → ``[R, k]``.

    Vectorised over rows: sparse models (kNN) tie most items at zero, so nearly every row
    needs this path and a Python loop per row would dominate the ranking time.
    """
    n_nan = int(np.isnan(rows).sum())
    if n_nan:
        logger.warning("score_fn returned %d NaN scores; they are not ranked", n_nan)
        rows = np.where(np.isnan(rows), np.float32(-np.inf), rows)

    # Everything above the k-th score is in; the ties at it fill the rest lowest index first.
    kth = -np.partition(-rows, k - 1, axis=1)[:, k - 1]  # [R]
    above = rows > kth[:, None]
    tied = rows == kth[:, None]
    room = k - above.sum(axis=1)  # [R], at least 1
    chosen = above | (tied & (np.cumsum(tied, axis=1) <= room[:, None]))

    picked = np.nonzero(chosen)[1].reshape(len(rows), k)  # ascending index within each row
    scores = np.take_along_axis(rows, picked, axis=1)
    ordered = np.take_along_axis(picked, np.lexsort((picked, -scores), axis=1), axis=1)
    ordered_scores = np.take_along_axis(rows, ordered, axis=1)
    return np.where(ordered_scores == -np.inf, -1, ordered).astype(np.int64)


def _check_users(users: ArrayLike) -> NDArray[np.int64]:
    user_ids = np.asarray(users)
    if user_ids.ndim != 1 or not (user_ids.size == 0 or np.issubdtype(user_ids.dtype, np.integer)):
        raise DataError("users must be a 1-D integer array of user ids", found=user_ids.shape)
    return user_ids.astype(np.int64, copy=False)


def _check_positive(name: str, value: int) -> None:
    if not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError(f"{name} must be a positive integer; got {value!r}.")


def _check_exclude(exclude: sp.spmatrix | None, users: NDArray[np.int64]) -> sp.csr_matrix | None:
    if exclude is None:
        return None
    if not sp.issparse(exclude):
        raise DataError(
            "exclude must be a scipy.sparse matrix [n_users, n_items]",
            found=type(exclude).__name__,
        )
    excluded = sp.csr_matrix(exclude)
    if users.size and (users.min() < 0 or users.max() >= excluded.shape[0]):
        raise DataError(
            "a user id has no row in exclude",
            found=(int(users.min()), int(users.max())),
            expected=f"user ids in [0, {excluded.shape[0]})",
        )
    return excluded


def _default_threads() -> int:
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(8, available or 1))


@contextmanager
def _progress_bar(enabled: bool, total: int) -> Iterator[Callable[[int], None]]:
    """Yields ``advance(n_users)``; a no-op when disabled, so callers need no branches."""
    if not enabled:
        yield lambda _n: None
        return

    from rich.progress import Progress  # imported here: the default path needs no terminal UI

    with Progress(transient=True) as bar:
        task = bar.add_task("ranking users", total=total)
        yield lambda n: bar.advance(task, n)
