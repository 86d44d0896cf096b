"""Two-stage hybrid: candidates from behaviour and content, re-ranked by LightGBM LambdaMART.

Shape letters: ``I`` items, ``Q`` queries (users or histories), ``F`` features.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from mercato.data import EventType
from mercato.errors import ConfigError, DataError
from mercato.features import (
    IMAGE_ENCODER_NAMES,
    TEXT_ENCODER_NAMES,
)
from mercato.models._artifact import pack_csr, unpack_csr
from mercato.models._config import (
    ModelConfig,
    check_choice,
    check_float,
    check_int,
    check_names,
)
from mercato.models._content_knn import (
    CONTENT_MODALITIES,
    CatalogueRecommender,
    pruned_likeness,
    rows_scaled_to_max,
)
from mercato.models._knn import UserKNN
from mercato.models._training import TrainingData, event_weight_values
from mercato.models.sequence._config import installed_image_encoder, installed_text_encoder
from mercato.models.sequence._content import (
    ItemContent,
    item_content,
)

__all__ = ["FEATURE_NAMES", "HybridRanker", "HybridRankerConfig"]

logger = logging.getLogger(__name__)

#: The likeness views the ranker reads, each over the modalities it names.
LIKENESS_VIEWS: dict[str, tuple[str, ...]] = {
    "text": ("text",),
    "image": ("image", "video"),
    "codes": ("category", "brand", "attributes"),
}

#: One column per feature of a (query, candidate) pair, in this order.
FEATURE_NAMES = (
    "history_weight",  # the candidate's recency-weighted weight in the history (0..1)
    "history_count",  # events of the query with the candidate
    "log_popularity",  # log(1 + training events of the candidate)
    "log_recent_popularity",  # the same over the last trend_days
    "is_cold",  # never in a training event
    "collaborative",  # user-kNN score over its query's maximum
    *(f"{view}_mean" for view in LIKENESS_VIEWS),  # history-weighted mean likeness
    *(f"{view}_max" for view in LIKENESS_VIEWS),  # likeness to the closest history item
    "trend",  # likeness to what everyone bought over the last trend_days
    "history_length",  # distinct items in the history
)

_SECONDS_PER_DAY = 86_400.0

#: Neighbours of the user-kNN generator and feature (shrinkage 0: the P3 tuning's choice).
_NEIGHBOURS = 50

#: Queries whose candidates are built at once: each signal holds ``_BLOCK x I`` floats.
_BLOCK = 256


@dataclass(frozen=True, kw_only=True)
class HybridRankerConfig(ModelConfig):
    """Settings of :class:`HybridRanker`.

    Attributes:
        item_modalities: what content likeness is measured on (as for ``content-knn``); ``()``
            leaves content out, for a behaviour-only ranker to compare with.
        text_encoder: ``"tfidf"``, ``"minilm"``, ``"e5"`` or ``"none"``.
        image_encoder: ``"efficientnet"`` or ``"none"``.
        k_neighbours: look-alikes kept per item and likeness view (``>= 1``).
        n_candidates: items each generator proposes per query, besides the history's own
            items (``>= 1``).
        window_days: length of each training window whose purchases are the labels (``> 0``).
        n_windows: training windows, counted back from the end of training (``>= 1``).
        window_stride_days: days between the ends of two windows (``>= 0``); ``0`` lays
            them back to back, a shorter stride makes them overlap, for more labels from a
            short history.
        half_life_days: a history event counts half as much this many days before the
            window's start (``>= 0``; ``0``: every event at full weight).
        trend_days: what "bought lately" means for the popularity and trend features (``> 0``).
        target_event: the event type a window's labels are made of.
        n_trees: boosting rounds (``>= 1``).
        learning_rate: LightGBM's shrinkage (``> 0``).
        num_leaves: leaves per tree (``>= 2``).
        min_child_samples: fewest pairs in a leaf (``>= 1``).

    Stability: experimental.
    """

    item_modalities: tuple[str, ...] = CONTENT_MODALITIES
    text_encoder: str = field(default_factory=installed_text_encoder)
    image_encoder: str = field(default_factory=installed_image_encoder)
    k_neighbours: int = 100
    n_candidates: int = 50
    window_days: float = 28.0
    n_windows: int = 4
    window_stride_days: float = 0.0
    half_life_days: float = 90.0
    trend_days: float = 28.0
    target_event: str = "purchase"
    n_trees: int = 200
    learning_rate: float = 0.05
    num_leaves: int = 15
    min_child_samples: int = 20

    def _check(self) -> None:
        check_names(self, "item_modalities", CONTENT_MODALITIES)
        check_choice(self, "text_encoder", TEXT_ENCODER_NAMES)
        check_choice(self, "image_encoder", IMAGE_ENCODER_NAMES)
        check_int(self, "k_neighbours", low=1)
        check_int(self, "n_candidates", low=1)
        check_float(self, "window_days", low=0.0, low_inclusive=False)
        check_int(self, "n_windows", low=1)
        check_float(self, "window_stride_days", low=0.0)
        check_float(self, "half_life_days", low=0.0)
        check_float(self, "trend_days", low=0.0, low_inclusive=False)
        check_choice(self, "target_event", tuple(event.value for event in EventType))
        check_int(self, "n_trees", low=1)
        check_float(self, "learning_rate", low=0.0, low_inclusive=False)
        check_int(self, "num_leaves", low=2)
        check_int(self, "min_child_samples", low=1)


@dataclass(frozen=True)
class _State:
    """What a (query, candidate) pair's features are read from, as of one moment.

    ``history`` rows are the queries' recency-weighted histories, scaled to a maximum of 1;
    ``counts`` their raw events; ``collaborative`` the user-kNN scores of those queries.
    """

    history: sp.csr_matrix  # float32 [Q, I]
    counts: sp.csr_matrix  # float32 [Q, I]
    collaborative: NDArray[np.float32]  # [Q, I]
    popularity: NDArray[np.float32]  # [I]
    recent_popularity: NDArray[np.float32]  # [I]
    trend: NDArray[np.float32]  # [I], 0..1


class HybridRanker(CatalogueRecommender[HybridRankerConfig]):
    """Candidates from behaviour and content, ordered by a learned LambdaMART ranker.

    Stage one proposes, per query, the items of its own history (people buy again) and the
    ``n_candidates`` best of four generators: user-kNN, content likeness to the history, the
    same restricted to never-sold items, and likeness to what sold lately. Stage two scores
    each (query, candidate) pair with a LightGBM LambdaMART model over behaviour features
    (the candidate's weight in the history, its popularity, overall and lately, the user-kNN
    score) and content features (per likeness view, text, pictures and codes: the mean and
    the largest likeness to the history, and likeness to what sold lately). Items that no
    generator proposes rank below every candidate, by popularity.

    The ranker learns from the training data itself: ``n_windows`` windows of
    ``window_days`` each, counted back from the last training event; in each, the features
    come from the events before the window and the labels are the ``target_event`` events
    inside it. A window whose users bought nothing the candidates hold is skipped. With no
    usable window (too short or undated a history) a warning says so, and the pairs are
    ordered by a fixed blend: the history weight, the user-kNN score, each view's mean
    likeness and the trend, each over its largest value among the candidates.

    Content likeness needs no events, so a never-sold item can be a candidate and win; the
    ranker decides from past windows how much that is worth against buying again. A fold-in
    history carries no dates, so its items weigh as given.

    Args:
        config: the model's config, or ``None`` for keyword settings.
        encoders: encoders to build features with instead of those the config names.
        cache_dir: the feature cache; ``$MERCATO_CACHE`` or ``.mercato/features`` by default.
        progress: show a progress bar per modality while features are built.
        **overrides: settings of the config.

    Example::

        from mercato.models import get_model

        model = get_model("hybrid-ranker", text_encoder="tfidf", image_encoder="none")
        model.fit(dataset).recommend(users, k=12, exclude_seen=False)

    Stability: experimental.
    """

    name = "hybrid-ranker"
    config_class = HybridRankerConfig

    _likeness: dict[str, sp.csr_matrix]  # per view, float32 [I, I]
    _combined: sp.csr_matrix  # float32 [I, I], the mean over views
    _collaborative: UserKNN
    _recent: sp.csr_matrix  # float32 [U, I], users' histories at the end of training
    _counts: sp.csr_matrix  # float32 [U, I]
    _popularity: NDArray[np.float32]
    _recent_popularity: NDArray[np.float32]
    _trend: NDArray[np.float32]
    _booster: Any  # lightgbm.Booster, or None for the fixed blend

    # ----------------------------------------------------------------------------------------
    # Fit
    # ----------------------------------------------------------------------------------------

    def _fit(self, training: TrainingData) -> None:
        _require_lightgbm()  # before any work

        self._likeness = self._build_likeness(training)
        self._combined = _mean_of(list(self._likeness.values()), training.n_items)
        self._collaborative = UserKNN(k_neighbours=_NEIGHBOURS, shrinkage=0.0)

        started = time.perf_counter()
        features, labels, groups = self._training_pairs(training)
        self._booster = self._train_booster(features, labels, groups)
        logger.info(
            "hybrid-ranker: %d pairs in %d queries from up to %d windows, trained in %.1f s",
            len(labels),
            len(groups),
            self.config.n_windows,
            time.perf_counter() - started,
        )

        # The state the fitted model ranks from: the same features, as of the last event.
        events = training.dataset.events
        n_users, n_items = training.n_users, training.n_items
        end = _latest(events) + pd.Timedelta(seconds=1) if _dated(events) else None
        self._recent, self._counts = _user_rows(events, self.config, n_users, n_items, end)
        self._collaborative._set_rows(self._weighted_rows(events, n_users, n_items))
        self._popularity = self._popularity_of(events, n_items)
        self._recent_popularity = self._popularity_since(events, end, n_items)
        self._trend = self._trend_of(self._recent_popularity)

    def _build_likeness(self, training: TrainingData) -> dict[str, sp.csr_matrix]:
        config = self.config
        if not config.item_modalities:
            return {}
        features = self._catalogue_features(
            training, config.item_modalities, config.text_encoder, config.image_encoder
        )
        unknown = np.zeros(training.n_items, dtype=np.bool_)
        likeness = {}
        for view, modalities in LIKENESS_VIEWS.items():
            wanted = tuple(name for name in modalities if name in config.item_modalities)
            content = item_content(features, unknown, wanted) if wanted else None
            if content is not None and _has_any(content):
                likeness[view] = pruned_likeness(content, config.k_neighbours)
        if not likeness:
            raise DataError(
                "no item has any of the modalities the model is set to compare",
                found=f"item_modalities={list(config.item_modalities)}",
                expected="items with text, pictures, clips, categories, brands or attributes",
                fix="check the items table and the encoders, or use a collaborative model",
            )
        return likeness

    def _training_pairs(
        self, training: TrainingData
    ) -> tuple[NDArray[np.float32], NDArray[np.int32], list[int]]:
        """Features ``[P, F]``, labels ``[P]`` and query sizes of every usable window."""
        events = training.dataset.events
        features: list[NDArray[np.float32]] = []
        labels: list[NDArray[np.int32]] = []
        groups: list[int] = []
        for start, stop in self._windows(events):
            before = events[events["timestamp"] < start]
            inside = events[(events["timestamp"] >= start) & (events["timestamp"] < stop)]
            pairs = self._window_pairs(training, before, inside, start)
            if pairs is None:
                continue
            window_features, window_labels, window_groups = pairs
            features.append(window_features)
            labels.append(window_labels)
            groups.extend(window_groups)
        if not groups:
            return np.zeros((0, len(FEATURE_NAMES)), np.float32), np.zeros(0, np.int32), []
        return np.concatenate(features), np.concatenate(labels), groups

    def _windows(self, events: pd.DataFrame) -> Iterator[tuple[pd.Timestamp, pd.Timestamp]]:
        """``(start, stop)`` of each training window, the latest first."""
        if not _dated(events):
            return
        width = pd.Timedelta(days=self.config.window_days)
        stride = pd.Timedelta(days=self.config.window_stride_days or self.config.window_days)
        stop = _latest(events) + pd.Timedelta(seconds=1)
        first = events["timestamp"].min()
        for _ in range(self.config.n_windows):
            start = stop - width
            if start <= first:
                return
            yield start, stop
            stop = stop - stride

    def _window_pairs(
        self,
        training: TrainingData,
        before: pd.DataFrame,
        inside: pd.DataFrame,
        start: pd.Timestamp,
    ) -> tuple[NDArray[np.float32], NDArray[np.int32], list[int]] | None:
        """The labelled pairs of one window; ``None`` if no query has a label to learn from."""
        targets = inside[
            (inside["event_type"] == self.config.target_event) & (inside["user_idx"] >= 0)
        ]
        known_users = before.loc[before["user_idx"] >= 0, "user_idx"].unique()
        users = np.intersect1d(targets["user_idx"].unique(), known_users).astype(np.int64)
        if not len(users):
            return None

        state = self._state_before(training, before, start, users)
        kept = targets[targets["user_idx"].isin(users)]
        bought = sp.csr_matrix(
            (
                np.ones(len(kept), dtype=np.float32),
                (np.searchsorted(users, kept["user_idx"]), kept["item_idx"].to_numpy()),
            ),
            shape=(len(users), training.n_items),
        )

        features, labels, groups = [], [], []
        for rows, candidates, pair_features in self._pairs(state):
            hit = (np.asarray(bought[rows, candidates]).ravel() > 0).astype(np.int32)
            # Pairs come query by query; a query without a positive teaches LambdaMART nothing.
            bounds = np.flatnonzero(np.diff(rows)) + 1
            for query in np.split(np.arange(len(rows)), bounds):
                if hit[query].any():
                    features.append(pair_features[query])
                    labels.append(hit[query])
                    groups.append(len(query))
        if not groups:
            return None
        return np.concatenate(features), np.concatenate(labels), groups

    def _state_before(
        self,
        training: TrainingData,
        before: pd.DataFrame,
        start: pd.Timestamp,
        users: NDArray[np.int64],
    ) -> _State:
        """The features' sources for ``users`` as of ``start``, from the events ``before`` it."""
        n_users, n_items = training.n_users, training.n_items
        history, counts = _user_rows(before, self.config, n_users, n_items, start)
        collaborative = UserKNN(k_neighbours=_NEIGHBOURS, shrinkage=0.0)
        collaborative._set_rows(self._weighted_rows(before, n_users, n_items))
        recent_popularity = self._popularity_since(before, start, n_items)
        return _State(
            history=history[users],
            counts=counts[users],
            collaborative=_row_max_scaled_dense(
                collaborative._scores(history[users], own_rows=users)
            ),
            popularity=self._popularity_of(before, n_items),
            recent_popularity=recent_popularity,
            trend=self._trend_of(recent_popularity),
        )

    def _weighted_rows(self, events: pd.DataFrame, n_users: int, n_items: int) -> sp.csr_matrix:
        """float32 CSR ``[U, I]``: each user's events summed by their type's weight."""
        values = event_weight_values(events, self.config.weights)
        users = events["user_idx"].to_numpy()
        kept = (users >= 0) & (values > 0)
        matrix = sp.csr_matrix(
            (values[kept], (users[kept], events["item_idx"].to_numpy()[kept])),
            shape=(n_users, n_items),
            dtype=np.float32,
        )
        matrix.sum_duplicates()
        return matrix

    def _popularity_of(self, events: pd.DataFrame, n_items: int) -> NDArray[np.float32]:
        """float32 ``[I]``: the weighted events of each item, anonymous ones included."""
        values = event_weight_values(events, self.config.weights)
        counts = np.bincount(events["item_idx"].to_numpy(), weights=values, minlength=n_items)
        return counts.astype(np.float32)

    def _popularity_since(
        self, events: pd.DataFrame, end: pd.Timestamp | None, n_items: int
    ) -> NDArray[np.float32]:
        """Popularity over the ``trend_days`` before ``end``; all of it without dates."""
        if end is None:
            return self._popularity_of(events, n_items)
        recent = events["timestamp"] >= end - pd.Timedelta(days=self.config.trend_days)
        return self._popularity_of(events[recent], n_items)

    def _trend_of(self, recent_popularity: NDArray[np.float32]) -> NDArray[np.float32]:
        """float32 ``[I]``, 0..1: each item's likeness to what sold lately, sales-weighted."""
        liked = sp.csr_matrix(recent_popularity[None, :]) @ self._combined
        trend: NDArray[np.float32] = np.asarray(liked.toarray(), dtype=np.float32).ravel()
        largest = float(trend.max()) if trend.size else 0.0
        return trend / largest if largest > 0 else trend

    def _train_booster(
        self, features: NDArray[np.float32], labels: NDArray[np.int32], groups: list[int]
    ) -> Any:
        if not groups:
            logger.warning(
                "hybrid-ranker: no training window has a %s the candidates hold (too short or "
                "undated a history for %d windows of %g days); ranking by a fixed blend",
                self.config.target_event,
                self.config.n_windows,
                self.config.window_days,
            )
            return None

        import lightgbm

        config = self.config
        params = {
            "objective": "lambdarank",
            "learning_rate": config.learning_rate,
            "num_leaves": config.num_leaves,
            "min_data_in_leaf": config.min_child_samples,
            "seed": config.seed,
            "deterministic": True,
            "num_threads": 1,
            "verbose": -1,
        }
        data = lightgbm.Dataset(
            features, label=labels, group=groups, feature_name=list(FEATURE_NAMES)
        )
        return lightgbm.train(params, data, num_boost_round=config.n_trees)

    # ----------------------------------------------------------------------------------------
    # Candidates and features
    # ----------------------------------------------------------------------------------------

    def _pairs(
        self, state: _State
    ) -> Iterator[tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float32]]]:
        """Per block of queries: each pair's query row, candidate item and features."""
        n_queries = state.history.shape[0]
        for begin in range(0, n_queries, _BLOCK):
            rows, items, features = self._block_pairs(state, begin, min(begin + _BLOCK, n_queries))
            yield rows + begin, items, features

    def _block_pairs(
        self, state: _State, begin: int, end: int
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float32]]:
        history = state.history[begin:end]
        counts = state.counts[begin:end]
        collaborative = state.collaborative[begin:end]
        totals = np.asarray(history.sum(axis=1), dtype=np.float32)  # [B, 1]
        totals[totals == 0] = 1.0
        means = {
            view: (history @ likeness).toarray() / totals
            for view, likeness in self._likeness.items()
        }
        combined = (history @ self._combined).toarray() / totals
        cold = state.popularity <= 0

        # Stage one: the history's own items, then each generator's best.
        chosen = history.toarray() > 0
        _mark_top(chosen, collaborative, self.config.n_candidates)
        _mark_top(chosen, combined, self.config.n_candidates)
        _mark_top(chosen, np.where(cold[None, :], combined, 0.0), self.config.n_candidates)
        _mark_top(chosen, np.broadcast_to(state.trend, combined.shape), self.config.n_candidates)
        rows, items = np.nonzero(chosen)

        columns: dict[str, NDArray[np.float32]] = {
            "history_weight": _at(history, rows, items),
            "history_count": _at(counts, rows, items),
            "log_popularity": np.log1p(state.popularity[items]),
            "log_recent_popularity": np.log1p(state.recent_popularity[items]),
            "is_cold": cold[items].astype(np.float32),
            "collaborative": collaborative[rows, items],
            "trend": state.trend[items],
            "history_length": np.diff(history.indptr).astype(np.float32)[rows],
        }
        for view in LIKENESS_VIEWS:
            if view in self._likeness:
                closest = _closest(history, self._likeness[view])
                columns[f"{view}_mean"] = means[view][rows, items]
                columns[f"{view}_max"] = closest[rows, items]
            else:
                columns[f"{view}_mean"] = columns[f"{view}_max"] = np.zeros(len(rows), np.float32)
        features = np.stack([columns[name] for name in FEATURE_NAMES], axis=1)
        return rows.astype(np.int64), items.astype(np.int64), features.astype(np.float32)

    # ----------------------------------------------------------------------------------------
    # Score
    # ----------------------------------------------------------------------------------------

    def _score_users(self, users: NDArray[np.int64]) -> NDArray[np.float32]:
        history = self._recent[users]
        collaborative = self._collaborative._scores(history, own_rows=users)
        return self._scores(history, self._counts[users], collaborative)

    def _score_histories(self, history_items: sp.csr_matrix) -> NDArray[np.float32]:
        history = rows_scaled_to_max(history_items.astype(np.float32))
        counts = (history_items > 0).astype(np.float32)
        collaborative = self._collaborative._scores(history, own_rows=None)
        return self._scores(history, sp.csr_matrix(counts), collaborative)

    def _scores(
        self,
        history: sp.csr_matrix,
        counts: sp.csr_matrix,
        collaborative: NDArray[np.float32],
    ) -> NDArray[np.float32]:
        state = _State(
            history=sp.csr_matrix(history, dtype=np.float32),
            counts=counts,
            collaborative=_row_max_scaled_dense(collaborative),
            popularity=self._popularity,
            recent_popularity=self._recent_popularity,
            trend=self._trend,
        )
        n_queries, n_items = history.shape
        # Below every candidate, in popularity order: a ranking of the whole catalogue.
        floor = np.log1p(self._popularity) / (2.0 * (1.0 + float(np.log1p(self._popularity).max())))
        scores = np.empty((n_queries, n_items), dtype=np.float32)
        for rows, items, features in self._pairs(state):
            predicted = self._predict(features)
            block = np.unique(rows)
            lowest = float(predicted.min()) if predicted.size else 0.0
            scores[block] = lowest - 1.0 + floor[None, :]
            scores[rows, items] = predicted
        return scores

    def _predict(self, features: NDArray[np.float32]) -> NDArray[np.float32]:
        if self._booster is not None:
            return np.asarray(self._booster.predict(features, num_threads=1), dtype=np.float32)
        blend = [FEATURE_NAMES.index(name) for name in _BLEND]
        parts = features[:, blend]
        largest = parts.max(axis=0, initial=0.0)
        return np.asarray((parts / np.where(largest > 0, largest, 1.0)).sum(axis=1), np.float32)

    # ----------------------------------------------------------------------------------------
    # Save and load
    # ----------------------------------------------------------------------------------------

    def _state(self) -> dict[str, NDArray[Any]]:
        state: dict[str, NDArray[Any]] = {
            **pack_csr("recent", self._recent),
            **pack_csr("counts", self._counts),
            **pack_csr("collaborative", self._collaborative._rows),
            **pack_csr("combined", self._combined),
            "popularity": self._popularity,
            "recent_popularity": self._recent_popularity,
            "trend": self._trend,
            "booster": _booster_bytes(self._booster),
        }
        for view, likeness in self._likeness.items():
            state.update(pack_csr(f"likeness_{view}", likeness))
        return state

    def _restore(self, state: dict[str, NDArray[Any]]) -> None:
        self._recent = unpack_csr("recent", state)
        self._counts = unpack_csr("counts", state)
        self._collaborative = UserKNN(k_neighbours=_NEIGHBOURS, shrinkage=0.0)
        self._collaborative._set_rows(unpack_csr("collaborative", state))
        self._combined = unpack_csr("combined", state)
        self._popularity = state["popularity"]
        self._recent_popularity = state["recent_popularity"]
        self._trend = state["trend"]
        self._booster = _booster_from(state["booster"])
        self._likeness = {
            view: unpack_csr(f"likeness_{view}", state)
            for view in LIKENESS_VIEWS
            if any(key.startswith(f"likeness_{view}") for key in state)
        }


#: What the fixed blend sums, each over its largest value among the candidates.
_BLEND = ("history_weight", "collaborative", "text_mean", "image_mean", "codes_mean", "trend")


def _dated(events: pd.DataFrame) -> bool:
    return bool(events["timestamp"].notna().any())


def _latest(events: pd.DataFrame) -> pd.Timestamp:
    return pd.Timestamp(events["timestamp"].max())


def _user_rows(
    events: pd.DataFrame,
    config: HybridRankerConfig,
    n_users: int,
    n_items: int,
    end: pd.Timestamp | None,
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Users' histories before ``end``: recency-weighted (row maximum 1) and raw counts."""
    users = events["user_idx"].to_numpy()
    values = event_weight_values(events, config.weights)
    if end is not None and config.half_life_days > 0:
        age_days = (end - events["timestamp"]).dt.total_seconds() / _SECONDS_PER_DAY
        decay = np.exp2(-age_days.to_numpy(np.float64) / config.half_life_days)
        values = values * np.where(np.isnan(decay), 1.0, decay)
    kept = (users >= 0) & (values > 0)
    shape = (n_users, n_items)
    coordinates = (users[kept], events["item_idx"].to_numpy()[kept])
    weighted = sp.csr_matrix((values[kept], coordinates), shape=shape, dtype=np.float64)
    counts = sp.csr_matrix((np.ones(int(kept.sum())), coordinates), shape=shape, dtype=np.float32)
    weighted.sum_duplicates()
    counts.sum_duplicates()
    return rows_scaled_to_max(weighted).astype(np.float32), counts


def _row_max_scaled_dense(scores: NDArray[np.float32]) -> NDArray[np.float32]:
    largest = scores.max(axis=1, keepdims=True, initial=0.0)
    return np.asarray(scores / np.where(largest > 0, largest, 1.0), dtype=np.float32)


def _mean_of(matrices: list[sp.csr_matrix], n_items: int) -> sp.csr_matrix:
    total = sp.csr_matrix((n_items, n_items), dtype=np.float32)
    for matrix in matrices:
        total = total + matrix
    return sp.csr_matrix(total / max(len(matrices), 1), dtype=np.float32)


def _has_any(content: ItemContent) -> bool:
    return bool(content.vectors or content.codes)


def _mark_top(chosen: NDArray[np.bool_], scores: NDArray[Any], n: int) -> None:
    """Marks in ``chosen [B, I]`` each row's ``n`` highest positive ``scores``."""
    n = min(n, scores.shape[1])
    top = np.argpartition(-scores, n - 1, axis=1)[:, :n]  # [B, n]
    rows = np.broadcast_to(np.arange(scores.shape[0])[:, None], top.shape)
    positive = np.take_along_axis(scores, top, axis=1) > 0
    chosen[rows[positive], top[positive]] = True


def _at(matrix: sp.csr_matrix, rows: NDArray[np.int64], items: NDArray[np.int64]) -> NDArray[Any]:
    return np.asarray(matrix[rows, items], dtype=np.float32).ravel()


def _closest(history: sp.csr_matrix, likeness: sp.csr_matrix) -> NDArray[np.float32]:
    """float32 ``[B, I]``: each item's largest likeness to an item of each history."""
    closest = np.zeros(history.shape, dtype=np.float32)
    for row in range(history.shape[0]):
        items = history.indices[history.indptr[row] : history.indptr[row + 1]]
        if len(items):
            closest[row] = likeness[items].max(axis=0).toarray().ravel()
    return closest


def _require_lightgbm() -> None:
    try:
        import lightgbm  # noqa: F401
    except ImportError as error:
        raise ConfigError(
            f"hybrid-ranker needs LightGBM ({error}); install it with pip install lightgbm"
        ) from None


def _booster_bytes(booster: Any) -> NDArray[np.uint8]:
    if booster is None:
        return np.zeros(0, dtype=np.uint8)
    return np.frombuffer(booster.model_to_string().encode("utf-8"), dtype=np.uint8)


def _booster_from(data: NDArray[np.uint8]) -> Any:
    if not len(data):
        return None
    import lightgbm

    return lightgbm.Booster(model_str=bytes(data).decode("utf-8"))
