"""Checks on what callers pass to a fitted model, and fold-in histories as a sparse matrix."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from mercato.errors import ConfigError, DataError

__all__ = ["check_positive", "checked_histories", "checked_ids", "history_matrix"]


def checked_histories(histories: Sequence[ArrayLike], n_items: int) -> list[NDArray[np.int64]]:
    """The histories as int64 item arrays in their given order; raises on a bad item id."""
    return [
        checked_ids(history, n_items, "item", where=f"history {position}")
        for position, history in enumerate(histories)
    ]


def history_matrix(
    histories: list[NDArray[np.int64]], n_items: int, weight: float
) -> sp.csr_matrix:
    """Checked histories as float32 CSR ``[H, I]``; each occurrence of an item adds ``weight``."""
    lengths = np.fromiter((len(items) for items in histories), dtype=np.int64, count=len(histories))
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    indices = np.concatenate(histories) if histories else np.zeros(0, dtype=np.int64)
    data = np.full(len(indices), weight, dtype=np.float32)
    matrix = sp.csr_matrix((data, indices, indptr), shape=(len(histories), n_items))
    matrix.sum_duplicates()
    return matrix


def checked_ids(
    ids: ArrayLike, size: int, kind: str, *, where: str | None = None
) -> NDArray[np.int64]:
    """int64 ``[N]`` indices, each in ``[0, size)``; anything else raises ``DataError``."""
    array = np.asarray(ids)
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
        raise DataError(
            f"{kind} indices must be a 1-D integer array",
            found=f"{array.dtype} array of shape {array.shape}",
            fix=f"pass dense {kind} indices (Dataset.{kind}_index maps string ids)",
        )
    outside = (array < 0) | (array >= size)
    if outside.any():
        prefix = f"{where}: " if where else ""
        raise DataError(
            f"{prefix}{kind} index outside the fitted id space",
            found=int(array[np.flatnonzero(outside)[0]]),
            expected=f"{kind} indices in [0, {size})",
            fix=f"map unknown {kind}s to a known index, or refit on a dataset that has them",
        )
    return array.astype(np.int64, copy=False)


def check_positive(name: str, value: int) -> None:
    """Raises ``ConfigError`` unless ``value`` is an integer >= 1."""
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{name} must be a positive integer; got {value!r}.")
