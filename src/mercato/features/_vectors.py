"""Small array helpers shared by the encoders: row normalisation and grouped means."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["l2_normalise", "mean_by_group"]


def l2_normalise(vectors: ArrayLike) -> NDArray[np.float32]:
    """Rows scaled to unit length, as float32; all-zero rows stay zero.

    Args:
        vectors: ``[N, D]`` array.

    Returns:
        ``[N, D]`` float32 array whose non-zero rows have L2 norm 1.
    """
    matrix = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    # A zero row (a text with no known token) has no direction; dividing by 1 keeps it zero.
    return (matrix / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def mean_by_group(
    vectors: NDArray[np.float32], groups: NDArray[np.int64], n_groups: int
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """The mean vector of each group, re-normalised, and the number of rows in each.

    Args:
        vectors: ``[N, D]`` rows to average.
        groups: ``[N]`` group of each row, in ``[0, n_groups)``.
        n_groups: Number of groups ``G``.

    Returns:
        ``([G, D] unit-length means (zero for empty groups), [G] row counts)``.
    """
    sums = np.zeros((n_groups, vectors.shape[1]), dtype=np.float64)
    np.add.at(sums, groups, vectors)
    counts = np.bincount(groups, minlength=n_groups).astype(np.int64)
    # The mean of unit vectors is shorter than one; re-normalising keeps cosine scores comparable
    # with single-text embeddings.
    return l2_normalise(sums / np.maximum(counts, 1)[:, None]), counts
