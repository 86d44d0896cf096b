"""Neighbourhood models: item-based and user-based kNN with shrunk cosine similarity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from mercato.models._artifact import pack_csr, unpack_csr
from mercato.models._base import Recommender
from mercato.models._config import ModelConfig, check_float, check_int
from mercato.models._neighbours import (
    drop_pairs,
    row_blocks,
    row_norms,
    shrunk_cosine,
    top_k_per_row,
)
from mercato.models._training import TrainingData

__all__ = ["ItemKNN", "ItemKNNConfig", "UserKNN", "UserKNNConfig"]


@dataclass(frozen=True, kw_only=True)
class ItemKNNConfig(ModelConfig):
    """Settings of :class:`ItemKNN`.

    Attributes:
        k_neighbours: similar items kept per item (``>= 1``).
        shrinkage: added to the cosine denominator, so similarities resting on few shared
            users shrink towards 0 (``>= 0``).

    Stability: stable.
    """

    k_neighbours: int = 100
    shrinkage: float = 10.0

    def _check(self) -> None:
        check_int(self, "k_neighbours", low=1)
        check_float(self, "shrinkage", low=0.0)


@dataclass(frozen=True, kw_only=True)
class UserKNNConfig(ModelConfig):
    """Settings of :class:`UserKNN`.

    Attributes:
        k_neighbours: most similar training rows (users or anonymous sessions) a user is
            scored from (``>= 1``).
        shrinkage: added to the cosine denominator (``>= 0``).

    Stability: stable.
    """

    k_neighbours: int = 50
    shrinkage: float = 10.0

    def _check(self) -> None:
        check_int(self, "k_neighbours", low=1)
        check_float(self, "shrinkage", low=0.0)


class ItemKNN(Recommender[ItemKNNConfig]):
    """Item-based kNN: an item scores the summed similarity to the items of the history.

    ``sim(i, j) = x_i . x_j / (|x_i| |x_j| + shrinkage)`` over the items' weighted interaction
    vectors; each item keeps its ``k_neighbours`` most similar items (Deshpande & Karypis, 2004,
    item-based top-N). Scores are ``history @ S`` with the pruned, sparse ``S [I, I]``; an item
    is never its own neighbour.

    Stability: stable.
    """

    name = "itemknn"
    config_class = ItemKNNConfig

    _similarity: sp.csr_matrix  # float32 [I, I]; row i holds the neighbours of item i

    def _fit(self, training: TrainingData) -> None:
        item_vectors = training.rows.T.tocsr()  # [I, R]
        norms = row_norms(item_vectors)

        blocks = []
        for block in row_blocks(item_vectors, training.rows):
            similarities = shrunk_cosine(
                item_vectors[block], norms[block], training.rows, norms, self.config.shrinkage
            )  # [B, I], sparse
            drop_pairs(similarities, np.arange(block.start, block.stop))
            blocks.append(top_k_per_row(similarities, self.config.k_neighbours))
        self._similarity = sp.vstack(blocks, format="csr", dtype=np.float32)

    def _score_histories(self, history_items: sp.csr_matrix) -> NDArray[np.float32]:
        return np.asarray((history_items @ self._similarity).toarray(), dtype=np.float32)

    def _state(self) -> dict[str, NDArray[Any]]:
        return pack_csr("similarity", self._similarity)

    def _restore(self, state: dict[str, NDArray[Any]]) -> None:
        self._similarity = unpack_csr("similarity", state)


class UserKNN(Recommender[UserKNNConfig]):
    """User-based kNN: items score the similarity-weighted interactions of the nearest rows.

    A user's (or history's) neighbours are its ``k_neighbours`` most similar training rows by
    shrunk cosine; anonymous training sessions are candidate neighbours too, which makes this
    session-kNN on session data. A training user is never their own neighbour. Scores are
    ``sum_n sim(u, n) * x_n``.

    Stability: stable.
    """

    name = "userknn"
    config_class = UserKNNConfig

    _rows: sp.csr_matrix  # float32 [R, I] training rows, the candidate neighbours
    _rows_t: sp.csr_matrix  # [I, R]
    _norms: NDArray[np.float32]  # [R]

    def _fit(self, training: TrainingData) -> None:
        self._set_rows(training.rows)

    def _score_users(self, users: NDArray[np.int64]) -> NDArray[np.float32]:
        return self._scores(self._rows[users], own_rows=users)

    def _score_histories(self, history_items: sp.csr_matrix) -> NDArray[np.float32]:
        return self._scores(history_items, own_rows=None)

    def _scores(
        self, queries: sp.csr_matrix, own_rows: NDArray[np.int64] | None
    ) -> NDArray[np.float32]:
        """float32 ``[Q, I]`` from queries ``[Q, I]``; ``own_rows`` are the queries' own rows."""
        scores = np.empty((queries.shape[0], self._rows.shape[1]), dtype=np.float32)
        for block in row_blocks(queries, self._rows_t):
            block_queries = queries[block]
            similarities = shrunk_cosine(
                block_queries,
                row_norms(block_queries),
                self._rows_t,
                self._norms,
                self.config.shrinkage,
            )  # [B, R], sparse
            if own_rows is not None:
                drop_pairs(similarities, own_rows[block])

            neighbours = top_k_per_row(similarities, self.config.k_neighbours)  # [B, R]
            scores[block] = (neighbours @ self._rows).toarray()
        return scores

    def _state(self) -> dict[str, NDArray[Any]]:
        return pack_csr("rows", self._rows)

    def _restore(self, state: dict[str, NDArray[Any]]) -> None:
        self._set_rows(unpack_csr("rows", state))

    def _set_rows(self, rows: sp.csr_matrix) -> None:
        self._rows = rows
        self._rows_t = rows.T.tocsr()
        self._norms = row_norms(rows)
