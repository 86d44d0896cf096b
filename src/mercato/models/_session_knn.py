"""Sequence-aware session kNN in the spirit of STAN (Garg et al., SIGIR 2019).

A query session's neighbours are the training sessions most similar to it, where similarity
weighs each shared item by how recently the query saw it; each neighbour then votes for its
items, more strongly for those it holds close to the query's latest item. Three weights:

- ``w1 = exp((p - L) / lambda_position)`` for the query item at position ``p`` of ``L``: the
  last item counts 1, older ones fade;
- ``sim(s, n) = sum of w1 over the distinct items s and n share``, over ``sqrt(|s| |n|)`` with
  ``similarity="cosine"`` (``|.|``: distinct items);
- ``w3 = exp(-|pos_n(j) - pos_n(a)| / lambda_neighbour)`` for item ``j`` of neighbour ``n``,
  where ``a`` is the most recent query item that ``n`` holds.

An item scores ``sum over the k nearest n of sim(s, n) * w3(j, n)``. STAN's second weight, on
the age of a neighbour session, is left out: session files such as Diginetica's carry an order
but no clock. V-SKNN's recency sample (Ludewig & Jannach, 2018; ``sample_size``) stands in.

Shape letters: ``B`` queries in a block, ``R`` training sessions, ``I`` items, ``P`` (query,
neighbour) pairs, ``E`` items of those neighbours, one entry per pair and item.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from mercato.models._base import Recommender
from mercato.models._config import ModelConfig, check_choice, check_float, check_int
from mercato.models._neighbours import drop_pairs, row_blocks, top_k_per_row
from mercato.models._training import TrainingData, event_weight_values

__all__ = ["SessionKNN", "SessionKNNConfig"]

logger = logging.getLogger(__name__)

SIMILARITIES = ("cosine", "overlap")

# numpy reads NaT as the smallest int64; events without a clock sort after those with one.
_NO_CLOCK = np.iinfo(np.int64).min
_LAST = np.iinfo(np.int64).max


@dataclass(frozen=True, kw_only=True)
class SessionKNNConfig(ModelConfig):
    """Settings of :class:`SessionKNN`.

    Attributes:
        k_neighbours: most similar training sessions a query is scored from (``>= 1``).
        sample_size: only the ``sample_size`` most recent training sessions sharing an item
            with the query are candidate neighbours (``>= 1``); ``None`` keeps them all.
        lambda_position: how fast older query items fade in the similarity, in positions
            (``> 0``); small values make the similarity hinge on the last few items.
        lambda_neighbour: how fast a neighbour's items fade with their distance from the
            query's latest item inside that neighbour, in positions (``> 0``).
        similarity: ``"cosine"`` divides the weighted overlap by ``sqrt(|s| |n|)``, so long
            sessions do not win by size; ``"overlap"`` keeps the raw weighted overlap.
        repeat_weight: multiplies the score of items already in the query (``>= 0``); 0 never
            recommends them again, 1 treats them like any other item.

    The defaults are what validation chose on Diginetica sessions (protocol P2).

    Stability: experimental.
    """

    k_neighbours: int = 300
    sample_size: int | None = None
    lambda_position: float = 1.0
    lambda_neighbour: float = 2.0
    similarity: str = "cosine"
    repeat_weight: float = 1.0

    def _check(self) -> None:
        check_int(self, "k_neighbours", low=1)
        if self.sample_size is not None:
            check_int(self, "sample_size", low=1)
        check_float(self, "lambda_position", low=0.0, low_inclusive=False)
        check_float(self, "lambda_neighbour", low=0.0, low_inclusive=False)
        check_choice(self, "similarity", SIMILARITIES)
        check_float(self, "repeat_weight", low=0.0)


@dataclass(frozen=True)
class _Sessions:
    """The training sessions, most recent first, in two layouts.

    Attributes:
        items: int64 ``[sum of lengths]`` each session's items in time order, repeats kept.
        offsets: int64 ``[R + 1]`` session ``r`` is ``items[offsets[r]:offsets[r + 1]]``.
        positions: float32 CSR ``[R, I]`` the last 1-based position of each distinct item in
            each session.
        item_sessions: float32 CSR ``[I, R]`` 1 where the session holds the item; each row's
            sessions are sorted, so the most recent come first.
    """

    items: NDArray[np.int64]
    offsets: NDArray[np.int64]
    positions: sp.csr_matrix
    item_sessions: sp.csr_matrix

    @classmethod
    def build(cls, items: NDArray[np.int64], offsets: NDArray[np.int64], n_items: int) -> Self:
        lengths = np.diff(offsets)
        session = np.repeat(np.arange(len(lengths)), lengths)
        positions = _last_positions(
            session, items, _ranks_in_rows(lengths) + 1, len(lengths), n_items
        )
        item_sessions = positions.T.tocsr()
        item_sessions.data = np.ones_like(item_sessions.data)
        item_sessions.sort_indices()
        return cls(items, offsets, positions, item_sessions)

    def sequences(self, sessions: NDArray[np.int64]) -> list[NDArray[np.int64]]:
        return [self.items[self.offsets[s] : self.offsets[s + 1]] for s in sessions]


class SessionKNN(Recommender[SessionKNNConfig]):
    """Session kNN with STAN's position weights: recent query items, and neighbour items near
    them, count more (see the module docstring for the three weights).

    Training sessions are the dataset's users' event sequences and its anonymous sessions, in
    time order (timestamp, then source order). Histories are read in the order given; items of
    the query may be recommended again (see ``repeat_weight``). A training user is never their
    own neighbour. Rows that share no item with any training session get popularity.

    Stability: experimental.
    """

    name = "session-knn"
    config_class = SessionKNNConfig

    _sessions: _Sessions
    _user_sessions: NDArray[np.int64]  # [n_users] each user's session, -1 without events

    def _fit(self, training: TrainingData) -> None:
        items, offsets, self._user_sessions = _ordered_sessions(training, self.config)
        self._sessions = _Sessions.build(items, offsets, training.n_items)
        logger.info(
            "%s: %d training sessions, %d distinct session items",
            self.name,
            len(offsets) - 1,
            self._sessions.positions.nnz,
        )

    def _score_users(self, users: NDArray[np.int64]) -> NDArray[np.float32]:
        own = self._user_sessions[users]
        return self._scores(self._sessions.sequences(own), own)

    def _score_ordered_histories(
        self, history_items: sp.csr_matrix, histories: list[NDArray[np.int64]]
    ) -> NDArray[np.float32]:
        return self._scores(histories, None)

    def _score_histories(self, history_items: sp.csr_matrix) -> NDArray[np.float32]:
        # A matrix carries no order: its items are read in index order, once each. The base
        # class hands this model the ordered histories instead; this serves direct calls.
        histories = np.split(history_items.indices.astype(np.int64), history_items.indptr[1:-1])
        return self._scores(histories, None)

    def _scores(
        self, histories: list[NDArray[np.int64]], own: NDArray[np.int64] | None
    ) -> NDArray[np.float32]:
        """float32 ``[H, I]`` of non-empty histories; ``own`` are their own sessions, if any."""
        n_items = self._sessions.positions.shape[1]
        weights, positions = _query_matrices(histories, n_items, self.config.lambda_position)
        scores = np.zeros((len(histories), n_items), dtype=np.float32)
        for block in row_blocks(weights, self._sessions.item_sessions):
            similarities = self._similarities(
                weights[block], None if own is None else own[block]
            )  # [B, R]
            neighbours = top_k_per_row(similarities, self.config.k_neighbours)  # [B, R]
            self._add_votes(neighbours, positions[block], scores[block])

        # A neighbour gives the query item it is anchored on its full similarity (w3 = 1), so
        # repeats rank high; on data where people seldom go back, damp them.
        if self.config.repeat_weight != 1.0:
            rows = np.repeat(np.arange(positions.shape[0]), np.diff(positions.indptr))
            scores[rows, positions.indices] *= np.float32(self.config.repeat_weight)
        return scores

    def _similarities(self, weights: sp.csr_matrix, own: NDArray[np.int64] | None) -> sp.csr_matrix:
        """float32 CSR ``[B, R]``: ``sim(s, n)`` of every candidate neighbour of each query."""
        overlap = sp.csr_matrix(weights @ self._sessions.item_sessions, dtype=np.float32)
        overlap.sort_indices()
        if own is not None:
            drop_pairs(overlap, own)
            overlap.eliminate_zeros()

        # Sessions are indexed most recent first, so a row's first entries are its sample.
        if self.config.sample_size is not None:
            in_sample = _ranks_in_rows(np.diff(overlap.indptr)) < self.config.sample_size
            overlap = _kept_entries(overlap, in_sample)

        if self.config.similarity == "cosine":
            rows = np.repeat(np.arange(overlap.shape[0]), np.diff(overlap.indptr))
            query_sizes = np.diff(weights.indptr)[rows]
            session_sizes = np.diff(self._sessions.positions.indptr)[overlap.indices]
            overlap.data /= np.sqrt(query_sizes * session_sizes).astype(np.float32)
        return overlap

    def _add_votes(
        self, neighbours: sp.csr_matrix, positions: sp.csr_matrix, scores: NDArray[np.float32]
    ) -> None:
        """Writes into ``scores`` each item's summed ``sim * w3`` over the neighbours.

        Args:
            neighbours: CSR ``[B, R]`` the kept neighbours' similarities.
            positions: CSR ``[B, I]`` the last 1-based position of each query item.
            scores: float32 ``[B, I]`` zeros, C-contiguous, written in place.
        """
        n_queries, n_items = positions.shape
        pair_query = np.repeat(np.arange(n_queries), np.diff(neighbours.indptr))  # [P]
        if len(pair_query) == 0:
            return

        # Every item of every neighbour, with where the neighbour holds it.
        table = self._sessions.positions
        sizes = np.diff(table.indptr)[neighbours.indices]
        entries = np.repeat(table.indptr[neighbours.indices], sizes) + _ranks_in_rows(sizes)
        entry_pair = np.repeat(np.arange(len(pair_query)), sizes)  # [E]
        entry_query = pair_query[entry_pair]
        entry_item = table.indices[entries]
        entry_position = table.data[entries].astype(np.int64)

        # The anchor: where each neighbour holds the most recent query item it shares. Shared
        # entries outrank the rest on the query position; the neighbour position rides below.
        query_position = _lookup(positions, entry_query, entry_item)
        stride = int(entry_position.max()) + 1
        pair_starts = np.cumsum(sizes) - sizes
        best = np.maximum.reduceat(query_position * stride + entry_position, pair_starts)
        anchor = best % stride  # [P]

        distance = np.abs(entry_position - anchor[entry_pair]).astype(np.float32)
        votes = neighbours.data[entry_pair] * np.exp(
            -distance / np.float32(self.config.lambda_neighbour)
        )

        # Written straight into the block's rows of the result; the votes of several neighbours
        # for one item are summed.
        sp.coo_matrix(
            (votes.astype(np.float32), (entry_query, entry_item)), shape=(n_queries, n_items)
        ).toarray(out=scores)

    def _state(self) -> dict[str, NDArray[Any]]:
        return {
            "items": self._sessions.items,
            "offsets": self._sessions.offsets,
            "n_items": np.asarray(self._sessions.positions.shape[1], dtype=np.int64),
            "user_sessions": self._user_sessions,
        }

    def _restore(self, state: dict[str, NDArray[Any]]) -> None:
        self._sessions = _Sessions.build(state["items"], state["offsets"], int(state["n_items"]))
        self._user_sessions = state["user_sessions"]


def _ordered_sessions(
    training: TrainingData, config: SessionKNNConfig
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """The training sessions' items in time order, the most recent session first.

    Each user's events form one session, and so does each anonymous session; events whose type
    has no weight are left out. Within a session, events with a timestamp come first, in time
    order; the source order breaks ties and orders events without one. A session's recency is
    its latest timestamp, then its latest source position, so without a clock the file order
    decides.

    Returns:
        ``items [N]`` and ``offsets [R + 1]`` as in :class:`_Sessions`, and int64
        ``[n_users]`` each user's session (-1 for users without events).
    """
    keys, items, clock, position = _weighted_events(training, config)
    in_time = np.lexsort((position, np.where(clock == _NO_CLOCK, _LAST, clock), keys))
    keys, items, clock, position = keys[in_time], items[in_time], clock[in_time], position[in_time]

    starts = np.flatnonzero(np.diff(keys, prepend=-1) != 0)
    recent_first = _recent_first(clock, position, starts)
    lengths = np.diff(np.r_[starts, len(keys)])[recent_first]
    gather = np.repeat(starts[recent_first], lengths) + _ranks_in_rows(lengths)
    offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)

    return items[gather], offsets, _user_sessions(keys[starts], recent_first, training.n_users)


def _weighted_events(
    training: TrainingData, config: SessionKNNConfig
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Session key, item, clock (ns, ``_NO_CLOCK`` if unknown) and source position of each
    weighted event with a user or a session. Keys: the user index, or ``n_users + session``."""
    events = training.dataset.events
    users = events["user_idx"].to_numpy(np.int64)
    sessions = events["session_idx"].to_numpy(np.int64)
    keys = np.where(users >= 0, users, np.where(sessions >= 0, training.n_users + sessions, -1))
    kept = (keys >= 0) & (event_weight_values(events, config.weights) > 0)
    return (
        keys[kept],
        events["item_idx"].to_numpy(np.int64)[kept],
        events["timestamp"].to_numpy("datetime64[ns]").view(np.int64)[kept],
        events["position"].to_numpy(np.int64)[kept],
    )


def _recent_first(
    clock: NDArray[np.int64], position: NDArray[np.int64], starts: NDArray[np.int64]
) -> NDArray[np.int64]:
    """int64 ``[R]``: the sessions starting at ``starts``, the most recent first."""
    if len(starts) == 0:
        return np.zeros(0, dtype=np.int64)
    latest_clock = np.maximum.reduceat(clock, starts)  # an unknown clock is the smallest
    latest_position = np.maximum.reduceat(position, starts)
    return np.lexsort((latest_position, latest_clock))[::-1]


def _user_sessions(
    session_keys: NDArray[np.int64], recent_first: NDArray[np.int64], n_users: int
) -> NDArray[np.int64]:
    """int64 ``[n_users]``: the index of each user's session once sorted, -1 for none."""
    rank = np.empty(len(session_keys), dtype=np.int64)
    rank[recent_first] = np.arange(len(session_keys))
    is_user = session_keys < n_users
    user_sessions = np.full(n_users, -1, dtype=np.int64)
    user_sessions[session_keys[is_user]] = rank[is_user]
    return user_sessions


def _query_matrices(
    histories: list[NDArray[np.int64]], n_items: int, lambda_position: float
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """The queries as float32 CSR ``[H, I]`` twice: ``w1`` of each distinct item, and its last
    1-based position. A repeated item counts once, at its most recent position."""
    lengths = np.fromiter((len(h) for h in histories), dtype=np.int64, count=len(histories))
    rows = np.repeat(np.arange(len(histories)), lengths)
    positions = _last_positions(
        rows, np.concatenate(histories), _ranks_in_rows(lengths) + 1, len(histories), n_items
    )
    entry_rows = np.repeat(np.arange(len(histories)), np.diff(positions.indptr))
    weights = positions.copy()
    weights.data = np.exp((positions.data - lengths[entry_rows]) / lambda_position).astype(
        np.float32
    )
    return weights, positions


def _last_positions(
    rows: NDArray[np.int64],
    items: NDArray[np.int64],
    positions: NDArray[np.int64],
    n_rows: int,
    n_items: int,
) -> sp.csr_matrix:
    """float32 CSR ``[n_rows, n_items]``: the largest position of each (row, item) pair."""
    keys = rows * n_items + items
    order = np.lexsort((positions, keys))
    keys, positions = keys[order], positions[order]
    last = np.r_[keys[1:] != keys[:-1], True] if len(keys) else np.zeros(0, dtype=bool)
    keys = keys[last]
    indptr = np.r_[0, np.cumsum(np.bincount(keys // n_items, minlength=n_rows))]
    return sp.csr_matrix(
        (positions[last].astype(np.float32), keys % n_items, indptr), shape=(n_rows, n_items)
    )


def _lookup(
    matrix: sp.csr_matrix, rows: NDArray[np.int64], columns: NDArray[np.int64]
) -> NDArray[np.int64]:
    """int64 ``[N]``: entry ``(rows[n], columns[n])`` of a CSR with sorted indices, 0 if absent."""
    n_columns = matrix.shape[1]
    keys = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr)) * n_columns
    keys += matrix.indices
    wanted = rows * n_columns + columns
    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return np.where(keys[at] == wanted, matrix.data[at].astype(np.int64), 0)


def _kept_entries(matrix: sp.csr_matrix, kept: NDArray[np.bool_]) -> sp.csr_matrix:
    """The CSR with only the entries where ``kept`` (aligned with ``matrix.data``) is true."""
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    indptr = np.r_[0, np.cumsum(np.bincount(rows[kept], minlength=matrix.shape[0]))]
    return sp.csr_matrix((matrix.data[kept], matrix.indices[kept], indptr), shape=matrix.shape)


def _ranks_in_rows(lengths: NDArray[np.int64]) -> NDArray[np.int64]:
    """int64 ``[sum(lengths)]``: the 0-based rank of each entry inside its row."""
    starts = np.cumsum(lengths) - lengths
    return np.arange(int(lengths.sum())) - np.repeat(starts, lengths)
