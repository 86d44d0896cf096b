"""Top-k lists: the result of ``recommend``, filled one chunk of rows at a time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

__all__ = ["Recommendations", "ranked"]


@dataclass(frozen=True)
class Recommendations:
    """Top-k lists, one row per user or history, best first.

    Attributes:
        items: int64 ``[N, K]`` item indices; ``-1`` pads a row with fewer rankable items.
        scores: float32 ``[N, K]`` the model's scores of those items; ``-inf`` where padded.

    Stability: stable.
    """

    items: NDArray[np.int64]
    scores: NDArray[np.float32]


def ranked(
    score_rows: Callable[[NDArray[np.int64]], NDArray[np.float32]],
    n_rows: int,
    k: int,
    seen: sp.csr_matrix | None,
    chunk_size: int,
) -> Recommendations:
    """Top ``k`` of ``n_rows`` rows, scoring ``chunk_size`` rows at a time.

    Args:
        score_rows: row positions ``[C]`` -> float32 scores ``[C, I]`` (a fresh array).
        n_rows: rows to rank.
        k: list length.
        seen: CSR ``[n_rows, I]`` of items not to rank per row, or ``None``.
        chunk_size: rows scored at once.
    """
    # Imported here, not at the top: mercato.evaluate imports mercato.models.
    from mercato.evaluate._ranking import rank_topk

    items = np.full((n_rows, k), -1, dtype=np.int64)
    scores = np.full((n_rows, k), -np.inf, dtype=np.float32)
    for start in range(0, n_rows, chunk_size):
        rows = np.arange(start, min(start + chunk_size, n_rows), dtype=np.int64)
        chunk_scores = score_rows(rows)

        # One chunk per rank_topk call, so the chunk's scores are still here to read back.
        top = rank_topk(
            _constant(chunk_scores),
            np.arange(len(rows), dtype=np.int64),
            k,
            exclude=seen[rows] if seen is not None else None,
            chunk_size=len(rows),
        )
        found = top >= 0
        items[rows] = top
        scores[rows] = np.where(
            found, np.take_along_axis(chunk_scores, np.maximum(top, 0), axis=1), -np.inf
        )
    return Recommendations(items=items, scores=scores)


def _constant(
    scores: NDArray[np.float32],
) -> Callable[[NDArray[np.int64]], NDArray[np.float32]]:
    return lambda _rows: scores
