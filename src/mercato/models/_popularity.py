"""Popularity baselines: every user gets the same list, the most-interacted items first."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from mercato.models._base import Recommender
from mercato.models._config import ModelConfig, check_float
from mercato.models._training import TrainingData, event_weight_values

__all__ = ["Popularity", "PopularityConfig", "RecentPopularity", "RecentPopularityConfig"]

logger = logging.getLogger(__name__)

ConfigT = TypeVar("ConfigT", bound=ModelConfig)


@dataclass(frozen=True, kw_only=True)
class PopularityConfig(ModelConfig):
    """Settings of :class:`Popularity`: only the shared ones (event weights, seed).

    Stability: stable.
    """


@dataclass(frozen=True, kw_only=True)
class RecentPopularityConfig(ModelConfig):
    """Settings of :class:`RecentPopularity`.

    Attributes:
        window_days: count only events in the last ``window_days`` days before the latest
            training timestamp (``> 0``).
        window_share: when no event has a timestamp, count the last ``window_share`` of events
            in source order instead (in ``(0, 1]``).

    Stability: stable.
    """

    window_days: float = 7.0
    window_share: float = 0.1

    def _check(self) -> None:
        check_float(self, "window_days", low=0.0, low_inclusive=False)
        check_float(self, "window_share", low=0.0, high=1.0, low_inclusive=False)


class _ItemScores(Recommender[ConfigT]):
    """A model whose scores are one vector over items, the same for every user."""

    _item_scores: NDArray[np.float32]

    def _score_histories(self, history_items: sp.csr_matrix) -> NDArray[np.float32]:
        return np.tile(self._item_scores, (history_items.shape[0], 1))

    def _score_users(self, users: NDArray[np.int64]) -> NDArray[np.float32]:
        return np.tile(self._item_scores, (len(users), 1))

    def _fallback(self, training: TrainingData) -> NDArray[np.float32]:
        return self._item_scores

    def _state(self) -> dict[str, NDArray[Any]]:
        return {"item_scores": self._item_scores}

    def _restore(self, state: dict[str, NDArray[Any]]) -> None:
        self._item_scores = state["item_scores"]


class Popularity(_ItemScores[PopularityConfig]):
    """Global popularity: each item scores the summed weight of all its training events.

    Anonymous events count too. This is also every other model's cold-start fallback.

    Stability: stable.
    """

    name = "pop"
    config_class = PopularityConfig

    def _fit(self, training: TrainingData) -> None:
        self._item_scores = training.popularity


class RecentPopularity(_ItemScores[RecentPopularityConfig]):
    """Popularity over a recent window: what is selling now, not what sold last season.

    The window is the last ``window_days`` before the latest training timestamp; events without
    a timestamp are left out. When no event has a timestamp, it is the last ``window_share`` of
    events in source order. If nothing with a positive weight falls in the window, global
    popularity is used (with a warning).

    Stability: stable.
    """

    name = "pop-recent"
    config_class = RecentPopularityConfig

    def _fit(self, training: TrainingData) -> None:
        events = training.dataset.events
        recent = events[self._in_window(events)]
        values = event_weight_values(recent, self.config.weights)
        scores = np.bincount(
            recent["item_idx"].to_numpy(), weights=values, minlength=training.n_items
        ).astype(np.float32)

        if not scores.any():
            logger.warning(
                "no weighted event in the recent window (%d events); using global popularity",
                len(recent),
            )
            scores = training.popularity
        self._item_scores = scores

    def _in_window(self, events: pd.DataFrame) -> NDArray[np.bool_]:
        timestamps = events["timestamp"]
        if timestamps.notna().any():
            start = timestamps.max() - pd.Timedelta(days=self.config.window_days)
            return np.asarray((timestamps > start).to_numpy(dtype=bool), dtype=np.bool_)

        # No clock at all: the order events arrived in stands in for time.
        n_recent = math.ceil(self.config.window_share * len(events))
        positions = events["position"].to_numpy()
        in_window = np.zeros(len(events), dtype=bool)
        in_window[np.argsort(positions, kind="stable")[len(events) - n_recent :]] = True
        return in_window
