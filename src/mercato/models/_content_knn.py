"""Content neighbourhood: items score how much they look like what the user bought lately.

Shape letters: ``I`` items, ``Q`` queries (users or histories), ``W`` a feature block's width.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from mercato.errors import ConfigError, DataError
from mercato.features import (
    IMAGE_ENCODER_NAMES,
    TEXT_ENCODER_NAMES,
    ItemEncoders,
    ItemFeatures,
    build_item_features,
)
from mercato.models._artifact import pack_csr, unpack_csr
from mercato.models._base import ConfigT, Recommender
from mercato.models._config import (
    ModelConfig,
    check_choice,
    check_float,
    check_int,
    check_names,
)
from mercato.models._training import TrainingData, event_weight_values
from mercato.models.sequence._config import installed_image_encoder, installed_text_encoder
from mercato.models.sequence._content import (
    ItemContent,
    default_cache_dir,
    item_content,
    item_encoders,
)

__all__ = ["CONTENT_MODALITIES", "ContentKNN", "ContentKNNConfig"]

logger = logging.getLogger(__name__)

#: What two items can look alike by: a price is not a likeness, and an id never is.
CONTENT_MODALITIES = ("text", "image", "video", "category", "brand", "attributes")

#: Items whose similarities are computed at once: a block holds ``_BLOCK x I`` floats.
_BLOCK = 1024

_SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True, kw_only=True)
class ContentKNNConfig(ModelConfig):
    """Settings of :class:`ContentKNN`.

    Attributes:
        item_modalities: what likeness is measured on, any of ``"text"``, ``"image"``,
            ``"video"``, ``"category"``, ``"brand"`` and ``"attributes"`` (at least one). Each
            one the data has weighs the same. Stored in that canonical order.
        text_encoder: ``"tfidf"``, ``"minilm"``, ``"e5"`` or ``"none"``; as for the content
            sequence models, ``"minilm"`` where its package is installed, else ``"tfidf"``.
        image_encoder: ``"efficientnet"`` or ``"none"``; ``"efficientnet"`` where installed.
        k_neighbours: look-alikes kept per item (``>= 1``).
        half_life_days: a user's event counts half as much this many days before the latest
            training event (``>= 0``); ``0`` gives every event its full weight.
        repeat_weight: what an item the user already has scores again, per unit of its
            history weight, times the item's log-popularity over that of the average sold
            item (``>= 0``): a basic that sells a lot is bought again, a one-off rarely is.

    Stability: experimental.
    """

    item_modalities: tuple[str, ...] = CONTENT_MODALITIES
    text_encoder: str = field(default_factory=installed_text_encoder)
    image_encoder: str = field(default_factory=installed_image_encoder)
    k_neighbours: int = 100
    half_life_days: float = 60.0
    repeat_weight: float = 1.0

    def _check(self) -> None:
        if not check_names(self, "item_modalities", CONTENT_MODALITIES):
            raise ConfigError(
                f"item_modalities must name at least one of {', '.join(CONTENT_MODALITIES)}; "
                "got ()."
            )
        check_choice(self, "text_encoder", TEXT_ENCODER_NAMES)
        check_choice(self, "image_encoder", IMAGE_ENCODER_NAMES)
        check_int(self, "k_neighbours", low=1)
        check_float(self, "half_life_days", low=0.0)
        check_float(self, "repeat_weight", low=0.0)


class CatalogueRecommender(Recommender[ConfigT]):
    """A recommender that reads the catalogue's content: where its features come from.

    Args:
        config: the model's config, or ``None`` for keyword settings.
        encoders: encoders to build features with instead of those the config names.
        cache_dir: the feature cache; ``$MERCATO_CACHE`` or ``.mercato/features`` by default.
        progress: show a progress bar per modality while features are built.
        **overrides: settings of the config.
    """

    def __init__(
        self,
        config: ConfigT | None = None,
        /,
        *,
        encoders: ItemEncoders | None = None,
        cache_dir: str | Path | None = None,
        progress: bool = True,
        **overrides: Any,
    ) -> None:
        super().__init__(config, **overrides)
        self.encoders = encoders
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.progress = progress

    def _catalogue_features(
        self,
        training: TrainingData,
        modalities: tuple[str, ...],
        text_encoder: str,
        image_encoder: str,
    ) -> ItemFeatures:
        """The catalogue's features for ``modalities``, with the given encoders or the named
        ones; the encoders load first, so a missing package fails before any encoding."""
        encoders = self.encoders
        if encoders is None:
            encoders = item_encoders(modalities, text_encoder, image_encoder)
        return build_item_features(
            training.dataset,
            encoders,
            cache_dir=self.cache_dir if self.cache_dir is not None else default_cache_dir(),
            progress=self.progress,
        )


class ContentKNN(CatalogueRecommender[ContentKNNConfig]):
    """Content-based kNN: an item scores its likeness to the items of a recency-weighted history.

    Likeness is the mean, over the modalities in use, of the cosine between two items' text
    embeddings, picture and clip vectors, and one-hot category, brand and attribute codes; an
    item missing a modality shares nothing through it. Each item keeps its ``k_neighbours``
    most alike items, and never itself. A user scores ``h @ S + repeat_weight * h * r``: ``h``
    their history, each event weighted by its type and halved every ``half_life_days``, ``S``
    the pruned likeness, and ``r`` each item's relative log-popularity.

    Likeness needs no training events, so an item nobody has bought yet is recommended as soon
    as it looks like what a user buys: this is the model for a catalogue of new arrivals. A
    fold-in history carries no dates, so its items weigh as given.

    Args:
        config: the model's config, or ``None`` for keyword settings.
        encoders: encoders to build features with instead of those the config names.
        cache_dir: the feature cache; ``$MERCATO_CACHE`` or ``.mercato/features`` by default.
        progress: show a progress bar per modality while features are built.
        **overrides: settings of the config.

    Example::

        from mercato.models import get_model

        model = get_model("content-knn", text_encoder="tfidf", image_encoder="none")
        model.fit(dataset).recommend(users, k=12, exclude_seen=False)

    Stability: experimental.
    """

    name = "content-knn"
    config_class = ContentKNNConfig

    _likeness: sp.csr_matrix  # float32 [I, I]; row i holds the look-alikes of item i
    _recent: sp.csr_matrix  # float32 [U, I]; users' recency-weighted histories
    _repeat: NDArray[np.float32]  # [I] relative log-popularity; 0 for unsold items

    # ----------------------------------------------------------------------------------------
    # Fit
    # ----------------------------------------------------------------------------------------

    def _fit(self, training: TrainingData) -> None:
        # Encoders first: a missing package fails before anything is built.
        config = self.config
        features = self._catalogue_features(
            training, config.item_modalities, config.text_encoder, config.image_encoder
        )
        content = item_content(
            features, np.zeros(training.n_items, dtype=np.bool_), config.item_modalities
        )
        if not (content.vectors or content.codes):
            raise DataError(
                "no item has any of the modalities the model is set to compare",
                found=f"item_modalities={list(config.item_modalities)}",
                expected="items with text, pictures, clips, categories, brands or attributes",
                fix="check the items table and the encoders, or use a collaborative model",
            )

        started = time.perf_counter()
        self._likeness = pruned_likeness(content, config.k_neighbours)
        logger.info(
            "content-knn: %d look-alikes over %s for %d items in %.1f s",
            self._likeness.nnz,
            ", ".join([*content.vectors, *content.codes]),
            training.n_items,
            time.perf_counter() - started,
        )
        self._recent = self._recent_histories(training)
        self._repeat = relative_log_popularity(training.popularity)

    def _recent_histories(self, training: TrainingData) -> sp.csr_matrix:
        """float32 CSR ``[U, I]``: each user's events, weighted by type and by age."""
        events = training.dataset.events
        users = events["user_idx"].to_numpy()
        values = event_weight_values(events, self.config.weights) * self._decay(events)
        known = (users >= 0) & (values > 0)
        matrix = sp.csr_matrix(
            (values[known], (users[known], events["item_idx"].to_numpy()[known])),
            shape=(training.n_users, training.n_items),
            dtype=np.float64,
        )
        matrix.sum_duplicates()
        return rows_scaled_to_max(matrix).astype(np.float32)

    def _decay(self, events: pd.DataFrame) -> NDArray[np.float64]:
        """float64 ``[E]``: ``0.5 ** (age / half_life)``; 1 without a half-life or a date."""
        timestamps = events["timestamp"]
        if self.config.half_life_days == 0 or not timestamps.notna().any():
            return np.ones(len(events))
        age_days = (timestamps.max() - timestamps).dt.total_seconds() / _SECONDS_PER_DAY
        decay = np.exp2(-age_days.to_numpy(np.float64) / self.config.half_life_days)
        return np.where(np.isnan(decay), 1.0, decay)

    # ----------------------------------------------------------------------------------------
    # Score
    # ----------------------------------------------------------------------------------------

    def _score_users(self, users: NDArray[np.int64]) -> NDArray[np.float32]:
        return self._score_histories(self._recent[users])

    def _score_histories(self, history_items: sp.csr_matrix) -> NDArray[np.float32]:
        scores = np.asarray((history_items @ self._likeness).toarray(), dtype=np.float32)
        repeats = history_items.multiply(self._repeat[None, :]).tocsr()  # [Q, I], sparse
        rows = np.repeat(np.arange(repeats.shape[0]), np.diff(repeats.indptr))
        scores[rows, repeats.indices] += self.config.repeat_weight * repeats.data
        return scores

    # ----------------------------------------------------------------------------------------
    # Save and load
    # ----------------------------------------------------------------------------------------

    def _state(self) -> dict[str, NDArray[Any]]:
        return {
            **pack_csr("likeness", self._likeness),
            **pack_csr("recent", self._recent),
            "repeat": self._repeat,
        }

    def _restore(self, state: dict[str, NDArray[Any]]) -> None:
        self._likeness = unpack_csr("likeness", state)
        self._recent = unpack_csr("recent", state)
        self._repeat = state["repeat"]


def pruned_likeness(content: ItemContent, k: int) -> sp.csr_matrix:
    """float32 CSR ``[I, I]``: each item's ``k`` most alike other items (positive only).

    Similarities are taken in blocks of rows against the whole catalogue, so memory stays at a
    block's ``[B, I]`` however large the catalogue.
    """
    dense, codes = _unit_blocks(content)
    n_items = content.n_items
    blocks = []
    for start in range(0, n_items, _BLOCK):
        stop = min(start + _BLOCK, n_items)
        similarities = dense[start:stop] @ dense.T  # [B, I]
        if codes.shape[1]:
            similarities += (codes[start:stop] @ codes.T).toarray()
        similarities[np.arange(stop - start), np.arange(start, stop)] = 0.0  # never itself
        blocks.append(_top_k(similarities, k))
    return sp.vstack(blocks, format="csr", dtype=np.float32)


def relative_log_popularity(popularity: NDArray[np.float32]) -> NDArray[np.float32]:
    """float32 ``[I]``: ``log(1 + p)`` over its mean among items with ``p > 0``; 0 if none sold."""
    logs = np.log1p(np.maximum(popularity, 0.0)).astype(np.float64)
    sold = logs > 0
    mean = float(logs[sold].mean()) if sold.any() else 1.0
    return np.asarray(logs / mean, dtype=np.float32)


def _unit_blocks(content: ItemContent) -> tuple[NDArray[np.float32], sp.csr_matrix]:
    """The items' vectors ``[I, W]`` and one-hot codes ``[I, W']``, one unit-length block per
    modality, scaled by ``1 / sqrt(M)`` so that a dot product is the mean of ``M`` cosines."""
    n_modalities = len(content.vectors) + len(content.codes)
    scale = 1.0 / math.sqrt(n_modalities)
    dense = [
        _unit_rows(entry.values * entry.present[:, None]) * scale
        for entry in content.vectors.values()
    ]
    codes = [_unit_one_hot(entry.codes, entry.sizes) * scale for entry in content.codes.values()]
    dense_matrix = (
        np.hstack(dense).astype(np.float32)
        if dense
        else np.zeros((content.n_items, 0), dtype=np.float32)
    )
    code_matrix = (
        sp.hstack(codes, format="csr", dtype=np.float32)
        if codes
        else sp.csr_matrix((content.n_items, 0), dtype=np.float32)
    )
    return dense_matrix, code_matrix


def _unit_rows(values: NDArray[np.float32]) -> NDArray[np.float32]:
    norms = np.linalg.norm(values, axis=1, keepdims=True)
    return np.asarray(values / np.where(norms > 0, norms, 1.0), dtype=np.float32)


def _unit_one_hot(codes: NDArray[np.int64], sizes: NDArray[np.int64]) -> sp.csr_matrix:
    """CSR ``[I, sum(sizes)]``: a 1 per non-zero code, each row scaled to unit length."""
    offsets = np.cumsum(sizes) - sizes  # [C]
    rows, columns = np.nonzero(codes > 0)
    per_row = np.bincount(rows, minlength=len(codes))
    values = 1.0 / np.sqrt(per_row[rows])
    return sp.csr_matrix(
        (values, (rows, offsets[columns] + codes[rows, columns])),
        shape=(len(codes), int(sizes.sum())),
        dtype=np.float32,
    )


def _top_k(similarities: NDArray[np.float32], k: int) -> sp.csr_matrix:
    """CSR of the ``k`` largest positive entries of each row of a dense ``[B, I]``."""
    n_rows, n_columns = similarities.shape
    k = min(k, n_columns)
    columns = np.argpartition(-similarities, k - 1, axis=1)[:, :k]  # [B, k]
    values = np.take_along_axis(similarities, columns, axis=1)
    kept = values > 0
    rows = np.broadcast_to(np.arange(n_rows)[:, None], columns.shape)
    return sp.csr_matrix(
        (values[kept], (rows[kept], columns[kept])), shape=(n_rows, n_columns), dtype=np.float32
    )


def rows_scaled_to_max(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """``matrix`` with each non-empty row divided by its largest entry. Scores are linear in a
    history, so this changes no ranking; it keeps long-decayed histories out of underflow."""
    largest = matrix.max(axis=1).toarray().ravel()
    factor = np.divide(1.0, largest, out=np.zeros_like(largest), where=largest > 0)
    return sp.csr_matrix(sp.diags(factor) @ matrix)
