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
from mercato.errors import DataError, NotFittedError
from mercato.models._artifact import pack_csr, read_artifact, unpack_csr, write_artifact
from mercato.models._config import ModelConfig, build_config
from mercato.models._inputs import check_positive, checked_histories, checked_ids, history_matrix
from mercato.models._recommendations import Recommendations, ranked
from mercato.models._training import TrainingData, build_training

__all__ = ["Recommender"]

logger = logging.getLogger(__name__)

ConfigT = TypeVar("ConfigT", bound=ModelConfig)

#: Rows scored at once by ``recommend``: peak memory is about ``chunk_size * I * 4`` bytes.
DEFAULT_CHUNK_SIZE = 1024


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
    history as a fold-in history. Models that read the order of a history (sequence models)
    also override ``_score_ordered_histories``, which gets the histories as given.

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
        return self._user_scores(fitted, checked_ids(users, fitted.n_users, "user"))

    def score_histories(self, histories: Sequence[ArrayLike]) -> NDArray[np.float32]:
        """Scores every item after each given item history (fold-in: anonymous sessions, or
        everything a user did before a test target).

        Histories carry no event types, so each occurrence of an item counts as much as an
        average weighted training event (the ALS confidence of a folded-in history then matches
        training); repeats add up.

        Args:
            histories: ``H`` int arrays of item indices, oldest first; collaborative models
                ignore the order, sequence models read it.

        Returns:
            float32 ``[H, I]``.
        """
        fitted = self._require_fitted()
        ordered = checked_histories(histories, fitted.n_items)
        return self._history_scores(
            history_matrix(ordered, fitted.n_items, fitted.history_weight), ordered
        )

    def score(self, users: ArrayLike, items: ArrayLike) -> NDArray[np.float32]:
        """Scores the given items for each user: float32 ``[U, len(items)]``."""
        fitted = self._require_fitted()
        user_ids = checked_ids(users, fitted.n_users, "user")
        item_ids = checked_ids(items, fitted.n_items, "item")
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
        check_positive("k", k)
        check_positive("chunk_size", chunk_size)
        if histories is not None:
            if users is not None:
                raise TypeError("recommend takes users or histories, not both")
            ordered = checked_histories(histories, fitted.n_items)
            matrix = history_matrix(ordered, fitted.n_items, fitted.history_weight)
            seen = matrix if exclude_seen else None
            return ranked(
                lambda rows: self._history_scores(matrix[rows], [ordered[r] for r in rows]),
                matrix.shape[0],
                k,
                seen,
                chunk_size,
            )

        if users is None:
            raise TypeError("recommend needs users or histories")
        user_ids = checked_ids(users, fitted.n_users, "user")
        seen = fitted.user_items[user_ids] if exclude_seen else None
        return ranked(
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

    def _score_ordered_histories(
        self, history_items: sp.csr_matrix, histories: list[NDArray[np.int64]]
    ) -> NDArray[np.float32]:
        """float32 ``[H, I]`` scores of non-empty histories, given both as the weighted CSR
        ``[H, I]`` and as item arrays in their given order (oldest first, repeats kept).

        The default ignores the order and calls ``_score_histories``.
        """
        return self._score_histories(history_items)

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

    def _history_scores(
        self, history_items: sp.csr_matrix, histories: list[NDArray[np.int64]]
    ) -> NDArray[np.float32]:
        has_history = np.diff(history_items.indptr) > 0
        return self._with_fallback(
            np.arange(history_items.shape[0]),
            has_history,
            lambda rows: self._score_ordered_histories(
                history_items[rows], [histories[r] for r in rows]
            ),
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
