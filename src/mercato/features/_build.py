"""The batch builders: every item's (and every user's) features from a ``Dataset``.

A build reads each modality in turn (text, images, clips, reviews; then price and codes),
encodes in batches through the on-disk cache, and never stops for one bad item: an empty text,
a corrupt picture or an unreadable clip is logged as a WARNING naming the item and the file,
and that item simply lacks the modality (mask False, zero row).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mercato.data import Dataset
from mercato.errors import ConfigError
from mercato.features._cache import FeatureCache
from mercato.features._encode import Encoding, encoder_identity, fit_if_needed, media_path
from mercato.features._feature_sets import ItemFeatures, UserFeatures
from mercato.features._image import ImageEncoder, efficientnet_lite0_encoder
from mercato.features._progress import MediaProblems, ProgressBars
from mercato.features._signals import (
    ItemReviewSignals,
    TextEmbedder,
    item_review_signals,
    recent_query_signal,
    user_review_signal,
)
from mercato.features._tabular import (
    encode_attributes,
    encode_category_paths,
    encode_labels,
    encode_prices,
)
from mercato.features._text import E5Encoder, TextEncoder, default_text_encoder, minilm_encoder
from mercato.features._tfidf import TfidfEncoder
from mercato.features._video import VideoSampling, require_clip_reader

__all__ = [
    "IMAGE_ENCODER_NAMES",
    "TEXT_ENCODER_NAMES",
    "ItemEncoders",
    "build_item_features",
    "build_user_features",
    "image_encoder_named",
    "text_encoder_named",
]

logger = logging.getLogger(__name__)

#: The encoders a command line or a model config can name; "none" leaves the modality out.
TEXT_ENCODER_NAMES = ("tfidf", "minilm", "e5", "none")
IMAGE_ENCODER_NAMES = ("efficientnet", "none")


def text_encoder_named(name: str) -> TextEncoder | None:
    """The text encoder called ``name`` (one of ``TEXT_ENCODER_NAMES``); ``None`` for "none".

    Raises:
        ConfigError: an unknown name, or the encoder's package is not installed.
    """
    makers: dict[str, Callable[[], TextEncoder]] = {
        "tfidf": TfidfEncoder,
        "minilm": minilm_encoder,
        "e5": E5Encoder,
    }
    if name == "none":
        return None
    if name not in makers:
        raise ConfigError(
            f"text encoder must be one of {', '.join(TEXT_ENCODER_NAMES)}; got {name!r}."
        )
    return makers[name]()


def image_encoder_named(name: str) -> ImageEncoder | None:
    """The image encoder called ``name`` (one of ``IMAGE_ENCODER_NAMES``); ``None`` for "none".

    Raises:
        ConfigError: an unknown name, or the encoder's package is not installed.
    """
    if name not in IMAGE_ENCODER_NAMES:
        raise ConfigError(
            f"image encoder must be one of {', '.join(IMAGE_ENCODER_NAMES)}; got {name!r}."
        )
    return efficientnet_lite0_encoder() if name == "efficientnet" else None


@dataclass(frozen=True)
class ItemEncoders:
    """Which encoder makes each item modality; ``None`` leaves a modality out.

    Attributes:
        text: Encodes title and description.
        image: Encodes product pictures, and the sampled frames of clips.
        video: How clip frames are sampled; ``None`` for no clip features.
        review_text: Encodes review texts; the ``text`` encoder when ``None``.

    Stability: stable.
    """

    text: TextEncoder | None = None
    image: ImageEncoder | None = None
    video: VideoSampling | None = field(default_factory=VideoSampling)
    review_text: TextEncoder | None = None

    @property
    def reviews(self) -> TextEncoder | None:
        """The encoder of review texts: ``review_text``, else ``text``."""
        return self.review_text if self.review_text is not None else self.text

    @property
    def with_clips(self) -> bool:
        """Whether clips are encoded: that needs both a sampling and an image encoder."""
        return self.video is not None and self.image is not None

    @classmethod
    def default(cls) -> ItemEncoders:
        """The best installed encoders (see ``default_text_encoder``; EfficientNet-Lite0)."""
        image: ImageEncoder | None = None
        try:
            image = efficientnet_lite0_encoder()
        except ConfigError as error:
            logger.warning("items get no image features: %s", error)
        return cls(text=default_text_encoder(), image=image)


def build_item_features(
    dataset: Dataset,
    encoders: ItemEncoders | None = None,
    *,
    cache_dir: str | Path | None = None,
    batch_size: int = 64,
    progress: bool = True,
    prune_cache: bool = False,
) -> ItemFeatures:
    """Encode every item of the catalogue: text, image, clip, reviews, price and codes.

    Args:
        dataset: The shop; ``items`` may lack any column, ``reviews`` may be empty.
        encoders: The encoder per modality; ``ItemEncoders.default()`` when ``None``. An
            unfitted TF-IDF encoder is fitted here on the item and review texts.
        cache_dir: Folder of the vector cache (content-keyed: a second run encodes only new or
            changed content); ``None`` caches nothing.
        batch_size: Texts or pictures per encoder call.
        progress: Show a progress bar per modality.
        prune_cache: Afterwards, drop from the cache every vector of these encoders that this
            catalogue no longer uses (old texts, replaced pictures, items gone). Vectors that
            only user features use (query texts) go too, and are encoded again when next needed.

    Returns:
        The features, row ``i`` for item ``dataset.item_ids[i]``.

    Raises:
        ConfigError: a setting is invalid, or a needed package (e.g. ``av`` for MP4 clips) is
            missing; raised before any encoding starts.
    """
    started = time.perf_counter()
    encoders = encoders if encoders is not None else ItemEncoders.default()
    items = dataset.items.reindex(pd.RangeIndex(dataset.n_items))
    item_ids = [str(item_id) for item_id in dataset.item_ids]
    texts = [
        _item_text(title, text)
        for title, text in zip(_cells(items, "title"), _cells(items, "description"), strict=True)
    ]
    media = _MediaSources.of(items, item_ids, encoders)
    _fit_text_encoders(encoders, texts, _cells(dataset.reviews, "text"))

    with ProgressBars(progress) as bars:
        encoding = Encoding(FeatureCache(cache_dir), batch_size, bars)
        modalities = _encode_modalities(encoding, encoders, item_ids, texts, media)
        reviews = item_review_signals(
            dataset.reviews, len(item_ids), _embedder(encoding, encoders.reviews)
        )
        if prune_cache:
            encoding.prune_cache()

    features = _assemble(items, item_ids, modalities, reviews, encoders)
    logger.info(
        "item features for %d items in %.1fs: text %d, image %d, clip %d, reviews %d",
        features.n_items,
        time.perf_counter() - started,
        features.text_mask.sum(),
        features.image_mask.sum(),
        features.video_mask.sum(),
        features.review_mask.sum(),
    )
    return features


@dataclass(frozen=True)
class _MediaSources:
    """The picture and clip file of each item (``None`` where none, or the modality is off)."""

    images: list[Path | None]
    clips: list[Path | None]
    image_problems: MediaProblems
    clip_problems: MediaProblems

    @classmethod
    def of(cls, items: pd.DataFrame, item_ids: list[str], encoders: ItemEncoders) -> _MediaSources:
        """Resolve the paths; fail now (``ConfigError``) if a clip needs a missing reader."""
        image_problems, clip_problems = MediaProblems("image"), MediaProblems("clip")
        images: list[Path | None] = [None] * len(item_ids)
        clips: list[Path | None] = [None] * len(item_ids)
        if encoders.image is not None:
            images = [
                media_path(value, item, image_problems)
                for value, item in zip(_cells(items, "image"), item_ids, strict=True)
            ]
        if encoders.with_clips:
            clips = [
                media_path(value, item, clip_problems)
                for value, item in zip(_cells(items, "video"), item_ids, strict=True)
            ]
            require_clip_reader(path for path in clips if path is not None)
        return cls(images, clips, image_problems, clip_problems)


@dataclass(frozen=True)
class _Modalities:
    """The encoded text, picture and clip of every item, each with its ``[I]`` mask."""

    text: NDArray[np.float32]
    text_mask: NDArray[np.bool_]
    image: NDArray[np.float32]
    image_mask: NDArray[np.bool_]
    video: NDArray[np.float32]
    video_mask: NDArray[np.bool_]


def _encode_modalities(
    encoding: Encoding,
    encoders: ItemEncoders,
    item_ids: list[str],
    texts: list[str],
    media: _MediaSources,
) -> _Modalities:
    text, text_mask = _absent(len(item_ids))
    if encoders.text is not None:
        text, text_mask = encoding.texts(texts, encoders.text, "item texts")
        _report_empty_texts(text_mask, item_ids)

    image, image_mask = _absent(len(item_ids))
    if encoders.image is not None:
        image, image_mask = encoding.images(
            media.images, item_ids, encoders.image, media.image_problems
        )

    video, video_mask = _absent(len(item_ids))
    if encoders.image is not None and encoders.video is not None:
        video, video_mask = encoding.clips(
            media.clips, item_ids, encoders.image, encoders.video, media.clip_problems
        )
    return _Modalities(text, text_mask, image, image_mask, video, video_mask)


def _assemble(
    items: pd.DataFrame,
    item_ids: list[str],
    modalities: _Modalities,
    reviews: ItemReviewSignals,
    encoders: ItemEncoders,
) -> ItemFeatures:
    """The encoded modalities with price, category, brand and attribute codes."""
    price = encode_prices(pd.to_numeric(pd.Series(_cells(items, "price")), errors="coerce"))
    categories = encode_category_paths(_cells(items, "category"))
    brand_codes, brand_vocab = encode_labels(_cells(items, "brand"))
    attributes = encode_attributes(_cells(items, "attributes"), item_ids)
    return ItemFeatures(
        item_ids=np.asarray(item_ids, dtype=np.str_),
        text=modalities.text,
        text_mask=modalities.text_mask,
        image=modalities.image,
        image_mask=modalities.image_mask,
        video=modalities.video,
        video_mask=modalities.video_mask,
        review=reviews.review,
        review_mask=reviews.review_mask,
        review_count=reviews.review_count,
        rating_mean=reviews.rating_mean,
        price=price.value,
        price_missing=price.missing,
        price_log_mean=price.log_mean,
        price_log_std=price.log_std,
        category_codes=categories.codes,
        category_vocab=categories.vocab,
        brand_codes=brand_codes,
        brand_vocab=brand_vocab,
        attribute_codes=attributes.codes,
        attribute_names=attributes.names,
        attribute_vocab=attributes.vocab,
        encoders=_identities(
            text=encoders.text,
            image=encoders.image,
            video=encoders.image if encoders.with_clips else None,
            review=encoders.reviews,
        ),
    )


def build_user_features(
    dataset: Dataset,
    text_encoder: TextEncoder | None = None,
    *,
    query_encoder: TextEncoder | None = None,
    recent_queries: int = 5,
    cache_dir: str | Path | None = None,
    batch_size: int = 64,
    progress: bool = True,
) -> UserFeatures:
    """Encode what every user wrote (reviews) and searched for (their latest queries).

    Args:
        dataset: The shop; ``reviews`` and ``queries`` may be empty.
        text_encoder: Encodes review texts; ``default_text_encoder()`` when ``None``. Pass the
            encoder the items were built with, so user and item vectors share one space.
        query_encoder: Encodes search queries; by default the text encoder (for E5, its
            ``"query"`` role, the prefix E5 was trained with for searches).
        recent_queries: How many of a user's latest queries are averaged (>= 1).
        cache_dir: Folder of the vector cache, as for ``build_item_features``.
        batch_size: Texts per encoder call.
        progress: Show a progress bar per signal.

    Returns:
        The features, row ``u`` for user ``dataset.user_ids[u]``.
    """
    if not isinstance(recent_queries, int) or recent_queries < 1:
        raise ConfigError(f"recent_queries must be an integer >= 1; got {recent_queries!r}.")
    text_encoder = text_encoder if text_encoder is not None else default_text_encoder()
    if query_encoder is None:
        query_encoder = (
            text_encoder.as_query() if isinstance(text_encoder, E5Encoder) else text_encoder
        )
    fit_if_needed(
        text_encoder, [*_cells(dataset.reviews, "text"), *_cells(dataset.queries, "query")]
    )
    fit_if_needed(query_encoder, _cells(dataset.queries, "query"))

    with ProgressBars(progress) as bars:
        encoding = Encoding(FeatureCache(cache_dir), batch_size, bars)
        reviews = user_review_signal(
            dataset.reviews, dataset.n_users, _embedder(encoding, text_encoder)
        )
        queries = recent_query_signal(
            dataset.queries,
            dataset.n_users,
            _embedder(encoding, query_encoder),
            last_n=recent_queries,
        )
    logger.info(
        "user features for %d users: reviews %d, queries %d",
        dataset.n_users,
        reviews.mask.sum(),
        queries.mask.sum(),
    )
    return UserFeatures(
        user_ids=np.asarray([str(user_id) for user_id in dataset.user_ids], dtype=np.str_),
        review=reviews.vectors,
        review_mask=reviews.mask,
        query=queries.vectors,
        query_mask=queries.mask,
        encoders=_identities(review=text_encoder, query=query_encoder),
    )


def _fit_text_encoders(
    encoders: ItemEncoders, item_texts: Sequence[str], review_texts: Sequence[object]
) -> None:
    """Fit unfitted TF-IDF encoders; one shared by items and reviews learns from both."""
    reviews = [text for text in review_texts if isinstance(text, str)]
    if encoders.text is not None:
        shared = encoders.reviews is encoders.text
        fit_if_needed(encoders.text, [*item_texts, *reviews] if shared else item_texts)
    if encoders.reviews is not None:
        fit_if_needed(encoders.reviews, reviews)


def _item_text(title: object, description: object) -> str:
    """Title and description as one text ('' when both are blank)."""
    parts = [value.strip() for value in (title, description) if isinstance(value, str)]
    return ". ".join(part for part in parts if part)


def _report_empty_texts(text_mask: NDArray[np.bool_], item_ids: Sequence[str]) -> None:
    problems = MediaProblems("text")
    for item in np.flatnonzero(~text_mask):
        problems.report(item_ids[int(item)], "(title and description)", "both are empty")
    problems.close()


def _cells(frame: pd.DataFrame, column: str) -> list[object]:
    """A column's values as a list; all None when the frame lacks the column."""
    if column not in frame:
        return [None] * len(frame)
    return frame[column].astype(object).where(frame[column].notna(), None).tolist()


def _absent(n: int) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    return np.zeros((n, 0), np.float32), np.zeros(n, bool)


def _embedder(encoding: Encoding, encoder: TextEncoder | None) -> TextEmbedder:
    """Texts through ``encoder`` and the cache; width-0 rows when there is no encoder."""
    if encoder is None:
        return _no_text
    return lambda texts, what: encoding.texts(texts, encoder, what)


def _no_text(texts: Sequence[str], what: str) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    del what  # no encoder: nothing to show progress for
    return _absent(len(texts))


def _identities(**encoders: TextEncoder | ImageEncoder | None) -> dict[str, str]:
    return {
        name: encoder_identity(encoder) for name, encoder in encoders.items() if encoder is not None
    }
