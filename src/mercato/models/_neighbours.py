"""Shrunk cosine similarity and top-k neighbour pruning, a block of rows at a time.

A dense ``[N, N]`` similarity matrix of 43k items would take 7 GB, so similarities are computed
for a block of query rows against every candidate, pruned to the top ``k`` per row, and only the
pruned entries are kept (sparse). A block is sized so its dense scores stay near
``_BLOCK_BYTES``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

__all__ = ["block_size", "row_norms", "shrunk_cosine", "top_k_per_row"]

_BLOCK_BYTES = 64 * 2**20


def block_size(n_columns: int) -> int:
    """Rows per block for dense float32 ``[B, n_columns]`` scores."""
    return max(1, _BLOCK_BYTES // max(1, 4 * n_columns))


def row_norms(matrix: sp.csr_matrix) -> NDArray[np.float32]:
    """float32 ``[N]`` Euclidean norm of each row of a sparse ``[N, D]``."""
    squared = matrix.multiply(matrix).sum(axis=1)
    return np.sqrt(np.asarray(squared, dtype=np.float64).ravel()).astype(np.float32)


def shrunk_cosine(
    queries: sp.csr_matrix,
    query_norms: NDArray[np.float32],
    candidates_t: sp.csr_matrix,
    candidate_norms: NDArray[np.float32],
    shrinkage: float,
) -> NDArray[np.float32]:
    """Dense float32 ``[B, N]``: ``dot / (|q| |c| + shrinkage)`` of queries against candidates.

    Args:
        queries: CSR ``[B, D]``.
        query_norms: ``[B]``.
        candidates_t: the candidates transposed, CSR ``[D, N]``.
        candidate_norms: ``[N]``.
        shrinkage: damps similarities that rest on few co-occurrences (``>= 0``).

    Pairs with no overlap are 0; ``shrinkage = 0`` with a zero norm gives 0, never NaN.
    """
    dots = np.asarray((queries @ candidates_t).toarray(), dtype=np.float32)  # [B, N]
    denominator = np.outer(query_norms, candidate_norms) + np.float32(shrinkage)
    np.divide(dots, denominator, out=dots, where=denominator > 0)
    return dots


def top_k_per_row(similarities: NDArray[np.float32], k: int) -> sp.csr_matrix:
    """The ``k`` largest positive entries of each row of ``[B, N]`` as CSR ``[B, N]``.

    Ties at the k-th value keep the lower column index, so pruning never depends on sort
    internals. Entries ``<= 0`` (no similarity, or ``-inf`` for excluded pairs) are never kept.
    """
    n_rows, n_columns = similarities.shape
    positive = similarities > 0
    if k >= n_columns:
        keep = positive
    else:
        # The k-th largest value of each row; everything above it is in, ties fill the rest.
        kth = np.partition(similarities, n_columns - k, axis=1)[:, n_columns - k]  # [B]
        above = similarities > kth[:, None]
        tied = similarities == kth[:, None]
        room = k - above.sum(axis=1)  # [B] places left for tied entries
        tie_rank = np.cumsum(tied, axis=1, dtype=np.int32)  # 1 for the lowest tied column
        keep = (above | (tied & (tie_rank <= room[:, None]))) & positive

    rows, columns = np.nonzero(keep)
    return sp.csr_matrix(
        (similarities[rows, columns], (rows, columns)), shape=(n_rows, n_columns), dtype=np.float32
    )
