"""The built features of a catalogue and of its users, and their ``.npz`` form on disk.

Arrays are stored as they are; vocabularies, price statistics and encoder fingerprints go into
one JSON entry. Files are written to a temporary name and renamed, so a reader never sees half a
file.
"""

from __future__ import annotations

import dataclasses
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from mercato.errors import DataError

__all__ = ["ItemFeatures", "UserFeatures"]

_META = "meta"


@dataclass(frozen=True)
class ItemFeatures:
    """Every modality of every item, in dense item order (row ``i`` is ``item_ids[i]``).

    A modality an item lacks (no image, an unreadable clip, empty text) has a zero row and
    ``False`` in its mask; a modality with no encoder has width 0 and an all-False mask.

    Attributes:
        item_ids: ``[I]`` string item ids.
        text: ``[I, Dt]`` unit embedding of title and description; ``text_mask [I]``.
        image: ``[I, Di]`` unit image embedding; ``image_mask [I]``.
        video: ``[I, Di]`` unit mean embedding of sampled clip frames; ``video_mask [I]``.
        review: ``[I, Dr]`` unit mean embedding of review texts; ``review_mask [I]``.
        review_count: ``[I]`` int32 number of reviews.
        rating_mean: ``[I]`` float32 mean rating, 0 where unrated.
        price: ``[I]`` float32 normalised log price, 0 where missing; ``price_missing [I]``.
        price_log_mean, price_log_std: the normalisation, for new items.
        category_codes: ``[I, L]`` int32 code per category level (0 = none);
            ``category_vocab[level][code]`` is the path prefix.
        brand_codes: ``[I]`` int32 (0 = none); ``brand_vocab[code]``.
        attribute_codes: ``[I, K]`` int32 (0 = none) for ``attribute_names [K]``;
            ``attribute_vocab[k][code]``.
        encoders: modality -> fingerprint of the encoder that made it.

    Example:
        >>> features = build_item_features(dataset, progress=False)  # doctest: +SKIP
        >>> features.text.shape, features.text_mask.mean()  # doctest: +SKIP
        ((120, 384), 1.0)

    Stability: provisional; fields may be added.
    """

    item_ids: NDArray[np.str_]
    text: NDArray[np.float32]
    text_mask: NDArray[np.bool_]
    image: NDArray[np.float32]
    image_mask: NDArray[np.bool_]
    video: NDArray[np.float32]
    video_mask: NDArray[np.bool_]
    review: NDArray[np.float32]
    review_mask: NDArray[np.bool_]
    review_count: NDArray[np.int32]
    rating_mean: NDArray[np.float32]
    price: NDArray[np.float32]
    price_missing: NDArray[np.bool_]
    price_log_mean: float
    price_log_std: float
    category_codes: NDArray[np.int32]
    category_vocab: tuple[tuple[str, ...], ...]
    brand_codes: NDArray[np.int32]
    brand_vocab: tuple[str, ...]
    attribute_codes: NDArray[np.int32]
    attribute_names: tuple[str, ...]
    attribute_vocab: tuple[tuple[str, ...], ...]
    encoders: Mapping[str, str]

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def save(self, path: str | Path) -> Path:
        """Write to ``path`` (``.npz``), atomically; returns the path."""
        return _save(self, Path(path))

    @classmethod
    def load(cls, path: str | Path) -> ItemFeatures:
        """Read features saved by :meth:`save`.

        Raises:
            DataError: the file is missing, damaged or holds other fields.
        """
        return _load(ItemFeatures, Path(path))


@dataclass(frozen=True)
class UserFeatures:
    """Text signals of every user, in dense user order (row ``u`` is ``user_ids[u]``).

    Attributes:
        user_ids: ``[U]`` string user ids.
        review: ``[U, Dr]`` unit mean embedding of the reviews the user wrote; ``review_mask``.
        query: ``[U, Dq]`` unit mean embedding of the user's most recent search queries;
            ``query_mask``.
        encoders: signal -> fingerprint of the encoder that made it.

    Stability: provisional; fields may be added.
    """

    user_ids: NDArray[np.str_]
    review: NDArray[np.float32]
    review_mask: NDArray[np.bool_]
    query: NDArray[np.float32]
    query_mask: NDArray[np.bool_]
    encoders: Mapping[str, str]

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    def save(self, path: str | Path) -> Path:
        """Write to ``path`` (``.npz``), atomically; returns the path."""
        return _save(self, Path(path))

    @classmethod
    def load(cls, path: str | Path) -> UserFeatures:
        """Read features saved by :meth:`save`.

        Raises:
            DataError: the file is missing, damaged or holds other fields.
        """
        return _load(UserFeatures, Path(path))


FeaturesT = TypeVar("FeaturesT", "ItemFeatures", "UserFeatures")


def _save(features: ItemFeatures | UserFeatures, path: Path) -> Path:
    arrays: dict[str, Any] = {}  # Any: numpy's savez stub types **kwds as its own flags
    meta: dict[str, Any] = {"kind": type(features).__name__}
    for field in dataclasses.fields(features):
        value = getattr(features, field.name)
        if isinstance(value, np.ndarray):
            arrays[field.name] = value
        else:
            meta[field.name] = dict(value) if isinstance(value, Mapping) else value
    arrays[_META] = np.asarray(json.dumps(meta, ensure_ascii=False))

    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("wb") as handle:
        np.savez(handle, **arrays)
    temporary.replace(path)
    return path


def _load(kind: type[FeaturesT], path: Path) -> FeaturesT:
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise DataError(
            "cannot read saved features", file=path, found=str(error), fix="build them again"
        ) from error

    meta = json.loads(str(arrays.pop(_META, "{}")))
    if meta.pop("kind", None) != kind.__name__:
        raise DataError(
            "not a saved features file of the expected kind",
            file=path,
            expected=f"a file written by {kind.__name__}.save",
        )
    values: dict[str, Any] = {**arrays, **meta}
    names = {field.name for field in dataclasses.fields(kind)}
    if set(values) != names:
        raise DataError(
            "saved features have other fields than this version of mercato",
            file=path,
            found=sorted(set(values) ^ names),
            fix="build the features again",
        )
    for name, value in meta.items():
        if isinstance(value, list):
            values[name] = _tuples(value)
    return kind(**values)


def _tuples(value: Any) -> Any:
    """JSON lists back to the nested tuples the dataclasses hold."""
    return tuple(_tuples(entry) for entry in value) if isinstance(value, list) else value
