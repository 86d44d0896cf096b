"""Shrunk cosine similarity and top-k neighbour pruning, sparse, a block of rows at a time.

A dense ``[N, N]`` similarity matrix of 43k items would take 7 GB, and most of it would be
zeros: two items only have a similarity when some row holds both. So similarities are computed
as a sparse product for a block of query rows, pruned to the top ``k`` per row, and only the
pruned entries are kept. Blocks are sized from an upper bound on the product's non-zeros, so a
block holds about ``_BLOCK_ENTRIES`` similarities however dense the data is.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

__all__ = ["drop_pairs", "row_blocks", "row_norms", "shrunk_cosine", "top_k_per_row"]

# Similarities computed at once; each costs ~24 bytes while it is scored and sorted.
_BLOCK_ENTRIES = 4 * 2**20


def row_norms(matrix: sp.csr_matrix) -> NDArray[np.float32]:
    """float32 ``[N]`` Euclidean norm of each row of a sparse ``[N, D]``."""
    squared = matrix.multiply(matrix).sum(axis=1)
    return np.sqrt(np.asarray(squared, dtype=np.float64).ravel()).astype(np.float32)


def row_blocks(queries: sp.csr_matrix, candidates_t: sp.csr_matrix) -> list[slice]:
    """Consecutive ranges of query rows whose product with the candidates stays small.

    The bound for a query row is the summed candidate count of its non-zero dimensions (at
    most ``N``); blocks are cut where the running bound passes each ``_BLOCK_ENTRIES``.
    """
    n_queries, n_candidates = queries.shape[0], candidates_t.shape[1]
    pattern = sp.csr_matrix(
        (np.ones(queries.nnz, dtype=np.float64), queries.indices, queries.indptr),
        shape=queries.shape,
    )
    bounds = np.minimum(pattern @ np.diff(candidates_t.indptr), n_candidates)  # [Q]
    before = np.cumsum(bounds) - bounds
    block_of_row = (before // _BLOCK_ENTRIES).astype(np.int64)
    starts = np.flatnonzero(np.diff(block_of_row, prepend=-1))
    stops = [*starts[1:].tolist(), n_queries]
    return [slice(int(start), int(stop)) for start, stop in zip(starts, stops, strict=True)]


def shrunk_cosine(
    queries: sp.csr_matrix,
    query_norms: NDArray[np.float32],
    candidates_t: sp.csr_matrix,
    candidate_norms: NDArray[np.float32],
    shrinkage: float,
) -> sp.csr_matrix:
    """Sparse float32 ``[B, N]``: ``dot / (|q| |c| + shrinkage)`` of queries and candidates.

    Args:
        queries: CSR ``[B, D]``.
        query_norms: ``[B]``.
        candidates_t: the candidates transposed, CSR ``[D, N]``.
        candidate_norms: ``[N]``.
        shrinkage: damps similarities that rest on few co-occurrences (``>= 0``).

    Only pairs that share a dimension are stored; ``shrinkage = 0`` with a zero norm gives 0.
    """
    similarities = sp.csr_matrix(queries @ candidates_t, dtype=np.float32)  # [B, N]
    rows = np.repeat(np.arange(similarities.shape[0]), np.diff(similarities.indptr))
    denominator = query_norms[rows] * candidate_norms[similarities.indices] + np.float32(shrinkage)
    similarities.data = np.divide(
        similarities.data,
        denominator,
        out=np.zeros_like(similarities.data),
        where=denominator > 0,
    )
    return similarities


def drop_pairs(similarities: sp.csr_matrix, own_columns: NDArray[np.int64]) -> None:
    """Zeroes entry ``(b, own_columns[b])`` of each row in place: nobody is their own neighbour."""
    rows = np.repeat(np.arange(similarities.shape[0]), np.diff(similarities.indptr))
    similarities.data[similarities.indices == own_columns[rows]] = 0.0


def top_k_per_row(similarities: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """The ``k`` largest positive entries of each row of a sparse ``[B, N]``, as CSR ``[B, N]``.

    Ties at the k-th value keep the lower column index, so pruning never depends on sort
    internals. Entries ``<= 0`` are never kept.
    """
    n_rows = similarities.shape[0]
    rows = np.repeat(np.arange(n_rows), np.diff(similarities.indptr))
    positive = similarities.data > 0
    rows, columns = rows[positive], similarities.indices[positive]
    values = similarities.data[positive]

    # Sort each row's entries best first (row, then value descending, then column ascending).
    order = np.lexsort((columns, -values, rows))
    per_row = np.bincount(rows, minlength=n_rows)
    row_start = np.cumsum(per_row) - per_row
    rank_in_row = np.arange(len(order)) - row_start[rows[order]]
    kept = order[rank_in_row < k]
    return sp.csr_matrix(
        (values[kept], (rows[kept], columns[kept])), shape=similarities.shape, dtype=np.float32
    )
