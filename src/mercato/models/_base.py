"""The recommender contract every model obeys: construct, fit, score, recommend, save, load.

Shape letters: ``U`` users scored, ``H`` histories, ``I`` items in the catalogue, ``K`` list
length. Scores are float32; higher is better.

Cold start: a user index inside the dataset's id space with no training history, an empty
history, and any row that a model scores all zero (e.g. a history of items with no neighbours)
get the model's fallback scores: global popularity, unless the model says otherwise.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, Self, TypeVar, cast

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from mercato.data._dataset import Dataset
from mercato.errors import ConfigError, DataError, NotFittedError
from mercato.models._artifact import pack_csr, read_artifact, unpack_csr, write_artifact
from mercato.models._config import ModelConfig, build_config
from mercato.models._training import TrainingData, build_training

__all__ = ["Recommendations", "Recommender"]

logger = logging.getLogger(__name__)

ConfigT = TypeVar("ConfigT", bound=ModelConfig)

#: Rows scored at once by ``recommend``: peak memory is about ``chunk_size * I * 4`` bytes.
DEFAULT_CHUNK_SIZE = 1024


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


@dataclass(frozen=True)
class _Fitted:
    """What every model keeps from ``fit``: enough to exclude seen items and to cold-start."""

    user_items: sp.csr_matrix  # float32 [n_users, I], the training history of each user
    fallback: NDArray[np.float32]  # [I] scores of users the model cannot score
    history_weight: float  # weight of one item of a fold-in history

    @property
    def n_users(self) -> int:
        return int(self.user_items.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.user_items.shape[1])


class Recommender(ABC, Generic[ConfigT]):
    """Base class of every recommender: one contract for CF baselines and sequence models.

    Construct with a config or keyword settings (``ItemKNN(k_neighbours=50)``); the
    constructor only stores the config. ``fit(dataset)`` learns from the dataset's events and
    returns ``self``. Then ``score_users`` / ``score_histories`` / ``score`` give raw scores
    and ``recommend`` the top-k lists; ``save`` and ``load`` round-trip the fitted model.

    Subclasses set ``name`` and ``config_class`` and implement ``_fit``, ``_score_histories``,
    ``_state`` and ``_restore``; ``_score_users`` defaults to scoring each user's training
    history as a fold-in history.

    Stability: stable.
    """

    name: ClassVar[str]
    config_class: ClassVar[type[ModelConfig]]

    def __init__(self, config: ConfigT | None = None, /, **overrides: Any) -> None:
        self.config: ConfigT = cast(ConfigT, build_config(self.config_class, config, overrides))
        self._fitted: _Fitted | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config!r})"

    @property
    def is_fitted(self) -> bool:
        return self._fitted is not None

    @property
    def n_users(self) -> int:
        """Users in the fitted id space."""
        return self._require_fitted().n_users

    @property
    def n_items(self) -> int:
        """Items in the fitted catalogue."""
        return self._require_fitted().n_items

    # ----------------------------------------------------------------------------------------
    # Fit
    # ----------------------------------------------------------------------------------------

    def fit(self, dataset: Dataset) -> Self:
        """Learns from every event of ``dataset``, weighted by ``config.event_weights``.

        Raises:
            DataError: the dataset is not a ``Dataset`` or has nothing to learn from.
        """
        started = time.perf_counter()
        training = build_training(dataset, self.config.weights)
        self._fitted = None
        self._fit(training)
        self._fitted = _Fitted(
            user_items=training.user_items,
            fallback=self._fallback(training),
            history_weight=training.history_weight,
        )
        logger.info(
            "fitted %s on %d rows x %d items (%d interactions) in %.2f s",
            self.name,
            training.rows.shape[0],
            training.n_items,
            training.rows.nnz,
            time.perf_counter() - started,
        )
        return self

    # ----------------------------------------------------------------------------------------
    # Score
    # ----------------------------------------------------------------------------------------

    def score_users(self, users: ArrayLike) -> NDArray[np.float32]:
        """Scores every item for each user from their training history.

        Args:
            users: int ``[U]`` user indices in ``[0, n_users)``.

        Returns:
            float32 ``[U, I]``.
        """
        fitted = self._require_fitted()
        return self._user_scores(fitted, _checked_ids(users, fitted.n_users, "user"))

    def score_histories(self, histories: Sequence[ArrayLike]) -> NDArray[np.float32]:
        """Scores every item after each given item history (fold-in: anonymous sessions, or
        everything a user did before a test target).

        Args:
            histories: ``H`` int arrays of item indices, oldest first; collaborative models
                ignore the order, sequence models read it.

        Returns:
            float32 ``[H, I]``.
        """
        fitted = self._require_fitted()
        return self._history_scores(self._history_matrix(fitted, histories))

    def score(self, users: ArrayLike, items: ArrayLike) -> NDArray[np.float32]:
        """Scores the given items for each user: float32 ``[U, len(items)]``."""
        fitted = self._require_fitted()
        user_ids = _checked_ids(users, fitted.n_users, "user")
        item_ids = _checked_ids(items, fitted.n_items, "item")
        scores = np.empty((len(user_ids), len(item_ids)), dtype=np.float32)
        for start in range(0, len(user_ids), DEFAULT_CHUNK_SIZE):
            chunk = user_ids[start : start + DEFAULT_CHUNK_SIZE]
            scores[start : start + len(chunk)] = self._user_scores(fitted, chunk)[:, item_ids]
        return scores

    # ----------------------------------------------------------------------------------------
    # Recommend
    # ----------------------------------------------------------------------------------------

    def recommend(
        self,
        users: ArrayLike | None = None,
        *,
        histories: Sequence[ArrayLike] | None = None,
        k: int = 10,
        exclude_seen: bool = True,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> Recommendations:
        """The top ``k`` items for each user, or after each history.

        Args:
            users: int ``[U]`` user indices; or pass ``histories`` instead.
            histories: item-index histories, as for :meth:`score_histories`.
            k: list length; past the number of rankable items a row is ``-1`` padded.
            exclude_seen: leave out each user's training items (or the history's items).
            chunk_size: rows scored at once; peak memory is about ``chunk_size * I * 4`` bytes.

        Returns:
            ``[N, k]`` lists; equal scores are ordered by lower item index.
        """
        fitted = self._require_fitted()
        _check_positive("k", k)
        _check_positive("chunk_size", chunk_size)
        if histories is not None:
            if users is not None:
                raise TypeError("recommend takes users or histories, not both")
            matrix = self._history_matrix(fitted, histories)
            seen = matrix if exclude_seen else None
            return _ranked(
                lambda rows: self._history_scores(matrix[rows]),
                matrix.shape[0],
                k,
                seen,
                chunk_size,
            )

        if users is None:
            raise TypeError("recommend needs users or histories")
        user_ids = _checked_ids(users, fitted.n_users, "user")
        seen = fitted.user_items[user_ids] if exclude_seen else None
        return _ranked(
            lambda rows: self._user_scores(fitted, user_ids[rows]),
            len(user_ids),
            k,
            seen,
            chunk_size,
        )

    # ----------------------------------------------------------------------------------------
    # Save and load
    # ----------------------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Writes the fitted model to the directory ``path`` (replaced atomically)."""
        fitted = self._require_fitted()
        arrays = {
            **pack_csr("base_user_items", fitted.user_items),
            "base_fallback": fitted.fallback,
            "base_history_weight": np.asarray(fitted.history_weight, dtype=np.float64),
            **{f"model_{key}": value for key, value in self._state().items()},
        }
        return write_artifact(path, self.name, self.config.to_dict(), arrays)

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """The model saved at ``path``; it scores exactly as the one that was saved.

        Raises:
            DataError: ``path`` is not a model directory, or holds another kind of model.
        """
        meta, arrays = read_artifact(path)
        if meta["name"] != cls.name:
            raise DataError(
                f"the artifact holds a {meta['name']!r} model, not {cls.name!r}",
                file=path,
                fix="load it with mercato.models.load_model, which reads the name",
            )
        model = cls(**meta["config"])
        model._restore(
            {
                key.removeprefix("model_"): value
                for key, value in arrays.items()
                if key.startswith("model_")
            }
        )
        model._fitted = _Fitted(
            user_items=unpack_csr("base_user_items", arrays),
            fallback=arrays["base_fallback"],
            history_weight=float(arrays["base_history_weight"]),
        )
        return model

    # ----------------------------------------------------------------------------------------
    # What a model implements
    # ----------------------------------------------------------------------------------------

    @abstractmethod
    def _fit(self, training: TrainingData) -> None:
        """Learns the model's own state from the training rows."""

    @abstractmethod
    def _score_histories(self, history_items: sp.csr_matrix) -> NDArray[np.float32]:
        """float32 ``[H, I]`` scores of non-empty weighted histories ``[H, I]`` (CSR)."""

    def _score_users(self, users: NDArray[np.int64]) -> NDArray[np.float32]:
        """float32 ``[U, I]`` scores of training users that have a history."""
        return self._score_histories(self._require_fitted().user_items[users])

    def _fallback(self, training: TrainingData) -> NDArray[np.float32]:
        """float32 ``[I]`` scores for users and histories the model cannot score."""
        return training.popularity

    @abstractmethod
    def _state(self) -> dict[str, NDArray[Any]]:
        """The model's fitted arrays, for ``save``."""

    @abstractmethod
    def _restore(self, state: dict[str, NDArray[Any]]) -> None:
        """Sets the fitted arrays that ``_state`` returned."""

    # ----------------------------------------------------------------------------------------
    # Plumbing
    # ----------------------------------------------------------------------------------------

    def _require_fitted(self) -> _Fitted:
        if self._fitted is None:
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(dataset) or "
                f"{type(self).__name__}.load(path) first."
            )
        return self._fitted

    def _user_scores(self, fitted: _Fitted, users: NDArray[np.int64]) -> NDArray[np.float32]:
        has_history = np.diff(fitted.user_items.indptr)[users] > 0
        return self._with_fallback(users, has_history, self._score_users)

    def _history_scores(self, history_items: sp.csr_matrix) -> NDArray[np.float32]:
        has_history = np.diff(history_items.indptr) > 0
        return self._with_fallback(
            np.arange(history_items.shape[0]),
            has_history,
            lambda rows: self._score_histories(history_items[rows]),
        )

    def _with_fallback(
        self,
        rows: NDArray[np.int64],
        has_history: NDArray[np.bool_],
        score_rows: Callable[[NDArray[np.int64]], NDArray[np.float32]],
    ) -> NDArray[np.float32]:
        fallback = self._require_fitted().fallback
        scores = np.empty((len(rows), len(fallback)), dtype=np.float32)

        # Only rows with a history reach the model, so no model has to handle empty input.
        if has_history.any():
            scores[has_history] = score_rows(rows[has_history])

        # A row scored all zero carries no preference at all: rank it like a newcomer.
        no_signal = ~has_history
        no_signal[has_history] = ~np.any(scores[has_history] != 0, axis=1)
        scores[no_signal] = fallback
        return scores

    def _history_matrix(self, fitted: _Fitted, histories: Sequence[ArrayLike]) -> sp.csr_matrix:
        """Histories as weighted CSR ``[H, I]``: each occurrence counts one training event."""
        arrays = [
            _checked_ids(history, fitted.n_items, "item", where=f"history {position}")
            for position, history in enumerate(histories)
        ]
        lengths = np.fromiter((len(array) for array in arrays), dtype=np.int64, count=len(arrays))
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        indices = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)
        data = np.full(len(indices), fitted.history_weight, dtype=np.float32)
        matrix = sp.csr_matrix((data, indices, indptr), shape=(len(arrays), fitted.n_items))
        matrix.sum_duplicates()
        return matrix


def _ranked(
    score_rows: Callable[[NDArray[np.int64]], NDArray[np.float32]],
    n_rows: int,
    k: int,
    seen: sp.csr_matrix | None,
    chunk_size: int,
) -> Recommendations:
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
        ranked = top >= 0
        items[rows] = top
        scores[rows] = np.where(
            ranked, np.take_along_axis(chunk_scores, np.maximum(top, 0), axis=1), -np.inf
        )
    return Recommendations(items=items, scores=scores)


def _constant(
    scores: NDArray[np.float32],
) -> Callable[[NDArray[np.int64]], NDArray[np.float32]]:
    return lambda _rows: scores


def _checked_ids(
    ids: ArrayLike, size: int, kind: str, *, where: str | None = None
) -> NDArray[np.int64]:
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


def _check_positive(name: str, value: int) -> None:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{name} must be a positive integer; got {value!r}.")
