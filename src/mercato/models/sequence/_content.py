"""What content models read of items and users: frozen feature arrays, one entry per modality.

Shape letters: ``I`` items, ``U`` users, ``W`` a modality's width, ``C`` code columns.

A fit builds the features once through :mod:`mercato.features` (encoders chosen by the config,
vectors cached on disk by content), keeps the modalities the config asks for and the data has,
and hands them to the multimodal tower, which holds them as buffers: a saved model carries its
features, and loading it builds nothing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from mercato.data._dataset import Dataset
from mercato.features import (
    ItemEncoders,
    ItemFeatures,
    UserFeatures,
    VideoSampling,
    build_item_features,
    build_user_features,
    image_encoder_named,
    text_encoder_named,
)
from mercato.models.sequence._config import ContentConfig

__all__ = [
    "Codes",
    "ItemContent",
    "UserContent",
    "Vectors",
    "build_content",
    "default_cache_dir",
    "item_encoders",
]

logger = logging.getLogger(__name__)

#: Modalities given to the tower as vectors, and as codes of a vocabulary.
VECTOR_MODALITIES = ("text", "image", "video", "price")
CODE_MODALITIES = ("category", "brand", "attributes")

#: The feature cache when neither the caller nor ``$MERCATO_CACHE`` names one.
DEFAULT_CACHE = Path(".mercato") / "features"


@dataclass(frozen=True)
class Vectors:
    """One modality as vectors: ``values`` float32 ``[N, W]``, ``present`` bool ``[N]``.

    A row without the modality (no picture, an empty text, an unknown price) is zero and not
    present.
    """

    values: NDArray[np.float32]
    present: NDArray[np.bool_]


@dataclass(frozen=True)
class Codes:
    """One modality as codes: ``codes`` int64 ``[N, C]`` (0 = none), ``sizes`` int64 ``[C]``
    the vocabulary size of each column, code 0 included."""

    codes: NDArray[np.int64]
    sizes: NDArray[np.int64]

    @property
    def present(self) -> NDArray[np.bool_]:
        """``[N]``: rows with at least one code."""
        return np.asarray((self.codes > 0).any(axis=1), dtype=np.bool_)


@dataclass(frozen=True)
class ItemContent:
    """The catalogue as the multimodal tower reads it; row ``i`` is item index ``i``.

    Attributes:
        known: bool ``[I]``, items with training events: only these have an id vector, so a
            never-seen item is scored by its content alone.
        vectors: ``text``, ``image``, ``video``, ``price`` (width 1), where used.
        codes: ``category`` (one column per level), ``brand``, ``attributes``, where used.
    """

    known: NDArray[np.bool_]
    vectors: Mapping[str, Vectors]
    codes: Mapping[str, Codes]

    @property
    def n_items(self) -> int:
        return len(self.known)


@dataclass(frozen=True)
class UserContent:
    """What users wrote and searched for: ``signals`` ``reviews`` / ``queries``, ``[U, W]``."""

    signals: Mapping[str, Vectors]


def default_cache_dir() -> Path:
    """``$MERCATO_CACHE``, else ``.mercato/features`` (relative to the working directory)."""
    return Path(os.environ.get("MERCATO_CACHE") or DEFAULT_CACHE)


def item_encoders(
    modalities: tuple[str, ...],
    text_encoder: str,
    image_encoder: str,
    *,
    user_texts: bool = False,
) -> ItemEncoders:
    """The named encoders, for the modalities used (and users' texts, with ``user_texts``);
    nothing else is loaded.

    Raises:
        ConfigError: an encoder's package is not installed (the message names it).
    """
    wants_text = "text" in modalities or user_texts
    wants_pictures = bool({"image", "video"} & set(modalities))
    text = text_encoder_named(text_encoder) if wants_text else None
    image = image_encoder_named(image_encoder) if wants_pictures else None
    video = VideoSampling() if "video" in modalities else None
    return ItemEncoders(text=text, image=image, video=video)


def build_content(
    dataset: Dataset,
    known: NDArray[np.bool_],
    config: ContentConfig,
    *,
    encoders: ItemEncoders,
    cache_dir: Path,
    progress: bool,
) -> tuple[ItemContent, UserContent]:
    """The item and user content of ``dataset`` that ``config`` asks for.

    Args:
        dataset: the training dataset; its items table covers the whole catalogue.
        known: bool ``[I]``, items with training events.
        config: which modalities and signals to keep.
        encoders: the encoders to build features with (see :func:`item_encoders`).
        cache_dir: the feature cache.
        progress: show a progress bar per modality.
    """
    id_known = known if "id" in config.item_modalities else np.zeros_like(known)
    items = ItemContent(id_known, vectors={}, codes={})
    if set(config.item_modalities) - {"id"}:
        features = build_item_features(dataset, encoders, cache_dir=cache_dir, progress=progress)
        items = item_content(features, id_known, config.item_modalities)

    users = UserContent(signals={})
    if config.user_signals and encoders.text is not None:
        user_features = build_user_features(
            dataset, encoders.text, cache_dir=cache_dir, progress=progress
        )
        users = user_content(user_features, config.user_signals)
    return items, users


def item_content(
    features: ItemFeatures, known: NDArray[np.bool_], modalities: tuple[str, ...]
) -> ItemContent:
    """The modalities of ``features`` that are asked for and that at least one item has."""
    vectors = {
        "text": Vectors(features.text, features.text_mask),
        "image": Vectors(features.image, features.image_mask),
        "video": Vectors(features.video, features.video_mask),
        "price": Vectors(features.price[:, None].astype(np.float32), ~features.price_missing),
    }
    codes = {
        "category": _codes(features.category_codes, features.category_vocab),
        "brand": _codes(features.brand_codes[:, None], (features.brand_vocab,)),
        "attributes": _codes(features.attribute_codes, features.attribute_vocab),
    }
    present = {name: entry.present for name, entry in vectors.items()}
    present.update({name: entry.present for name, entry in codes.items()})
    used = _log_coverage("item", present, modalities)
    return ItemContent(
        known=known,
        vectors={name: entry for name, entry in vectors.items() if name in used},
        codes={name: entry for name, entry in codes.items() if name in used},
    )


def user_content(features: UserFeatures, signals: tuple[str, ...]) -> UserContent:
    """The signals of ``features`` that are asked for and that at least one user has."""
    available = {
        "reviews": Vectors(features.review, features.review_mask),
        "queries": Vectors(features.query, features.query_mask),
    }
    present = {name: entry.present for name, entry in available.items()}
    used = _log_coverage("user", present, signals)
    return UserContent({name: entry for name, entry in available.items() if name in used})


def _log_coverage(
    kind: str, present: Mapping[str, NDArray[np.bool_]], asked: tuple[str, ...]
) -> set[str]:
    """The asked-for modalities that some row has; one INFO line with the share of each."""
    shares = {
        name: float(present[name].mean()) if len(present[name]) else 0.0
        for name in asked
        if name in present
    }
    used = {name for name, share in shares.items() if share > 0}
    covered = ", ".join(f"{name} {share:.0%}" for name, share in shares.items() if share > 0)
    missing = ", ".join(name for name, share in shares.items() if share == 0)
    logger.info(
        "%s content: %s%s",
        kind,
        covered or "none",
        f"; no {kind} has {missing}" if missing else "",
    )
    return used


def _codes(codes: NDArray[np.int32], vocabularies: tuple[tuple[str, ...], ...]) -> Codes:
    sizes = np.array([len(vocabulary) for vocabulary in vocabularies], dtype=np.int64)
    return Codes(codes.astype(np.int64), sizes)
