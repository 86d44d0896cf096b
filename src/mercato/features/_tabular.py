"""Numeric and categorical item features: normalised price, and integer codes for embeddings.

Every code table reserves code 0 for "missing", so ``vocab[code]`` names any code and
``len(vocab)`` is the size of the embedding table a model needs.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "MISSING_LABEL",
    "AttributeCodes",
    "CategoryCodes",
    "PriceFeatures",
    "encode_attributes",
    "encode_category_paths",
    "encode_labels",
    "encode_prices",
]

logger = logging.getLogger(__name__)

#: The label of code 0 in every vocabulary.
MISSING_LABEL = ""
#: Separator of category path levels in the canonical items table ("Men > Shoes > Boots").
CATEGORY_SEPARATOR = ">"


@dataclass(frozen=True)
class PriceFeatures:
    """Prices as ``(log1p(price) - mean) / std`` over the known prices.

    Attributes:
        value: ``[I]`` float32 normalised price; 0 (the mean) where the price is unknown.
        missing: ``[I]`` bool, True where the price was unknown, negative or not finite.
        log_mean: Mean of ``log1p(price)`` over known prices (to normalise new items alike).
        log_std: Their standard deviation (1 when fewer than two prices or all equal).

    Stability: stable.
    """

    value: NDArray[np.float32]
    missing: NDArray[np.bool_]
    log_mean: float
    log_std: float


def encode_prices(prices: ArrayLike) -> PriceFeatures:
    """Normalise ``[I]`` prices; log first, because shop prices span orders of magnitude."""
    raw = np.asarray(prices, dtype=np.float64)
    missing = ~np.isfinite(raw) | (raw < 0)
    logs = np.log1p(np.where(missing, 0.0, raw))
    known = logs[~missing]
    mean = float(known.mean()) if known.size else 0.0
    std = float(known.std()) if known.size > 1 else 0.0
    std = std if std > 0 else 1.0
    value = np.where(missing, 0.0, (logs - mean) / std).astype(np.float32)
    return PriceFeatures(value=value, missing=missing, log_mean=mean, log_std=std)


def encode_labels(values: Sequence[object]) -> tuple[NDArray[np.int32], tuple[str, ...]]:
    """``[I]`` labels (e.g. brands) to ``[I]`` int32 codes; None, NaN and blank get code 0.

    Returns:
        ``(codes [I], vocab)``: ``vocab[0]`` is :data:`MISSING_LABEL`, the rest sorted.
    """
    labels = [_label(value) for value in values]
    vocab = (MISSING_LABEL, *sorted({label for label in labels if label is not None}))
    index = {label: code for code, label in enumerate(vocab)}
    codes = np.array([0 if label is None else index[label] for label in labels], dtype=np.int32)
    return codes, vocab


@dataclass(frozen=True)
class CategoryCodes:
    """Category paths as one code per level.

    A level's code stands for the whole path down to that level, so "Men > Shoes" and
    "Women > Shoes" get different level-1 codes: each code is one node of the category tree.

    Attributes:
        codes: ``[I, L]`` int32, ``L`` the deepest path; 0 where a path is shorter or missing.
        vocab: One vocabulary per level, of path prefixes joined by " > ".

    Stability: stable.
    """

    codes: NDArray[np.int32]
    vocab: tuple[tuple[str, ...], ...]


def encode_category_paths(
    paths: Sequence[object], *, max_depth: int | None = None
) -> CategoryCodes:
    """``[I]`` paths like ``"Men > Shoes > Boots"`` to per-level codes.

    Args:
        paths: One path per item; None, NaN or blank for none.
        max_depth: Keep at most this many levels (all by default).
    """
    split = [_path_levels(path) for path in paths]
    depth = max((len(levels) for levels in split), default=0)
    depth = depth if max_depth is None else min(depth, max_depth)
    codes = np.zeros((len(split), depth), dtype=np.int32)
    vocab: list[tuple[str, ...]] = []
    for level in range(depth):
        prefixes = [
            " > ".join(levels[: level + 1]) if len(levels) > level else None for levels in split
        ]
        codes[:, level], level_vocab = encode_labels(prefixes)
        vocab.append(level_vocab)
    return CategoryCodes(codes=codes, vocab=tuple(vocab))


@dataclass(frozen=True)
class AttributeCodes:
    """Categorical attributes (from the items' JSON ``attributes``) as one code per attribute.

    Attributes:
        codes: ``[I, K]`` int32; 0 where an item lacks the attribute.
        names: ``[K]`` attribute names, sorted.
        vocab: One vocabulary per attribute.

    Stability: stable; list-valued attributes are not encoded yet.
    """

    codes: NDArray[np.int32]
    names: tuple[str, ...]
    vocab: tuple[tuple[str, ...], ...]


def encode_attributes(
    attributes: Sequence[object], item_ids: Sequence[str], *, max_values: int = 256
) -> AttributeCodes:
    """Code every scalar attribute with at most ``max_values`` distinct values.

    An attribute with more values (a free-text field, a serial number) says little per value and
    would need a huge embedding table, so it is left out and logged at INFO. A text that is not a
    JSON object is logged as a WARNING naming the item and counts as no attributes.

    Args:
        attributes: ``[I]`` JSON object texts (or dicts); None / NaN for none.
        item_ids: ``[I]`` item ids, for the warnings.
        max_values: Largest number of distinct values an attribute may have.
    """
    parsed = [
        _attribute_dict(value, item_id) for value, item_id in zip(attributes, item_ids, strict=True)
    ]
    names: list[str] = []
    columns: list[NDArray[np.int32]] = []
    vocab: list[tuple[str, ...]] = []
    for name in sorted({key for values in parsed for key in values}):
        codes, values = encode_labels([values.get(name) for values in parsed])
        if len(values) - 1 > max_values:
            logger.info("attribute %r left out: %d distinct values", name, len(values) - 1)
            continue
        names.append(name)
        columns.append(codes)
        vocab.append(values)
    stacked = np.stack(columns, axis=1) if columns else np.zeros((len(parsed), 0), np.int32)
    return AttributeCodes(codes=stacked, names=tuple(names), vocab=tuple(vocab))


def _label(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"  # JSON's spelling, so True and "true" agree
    text = str(value).strip()
    return text or None


def _path_levels(path: object) -> list[str]:
    label = _label(path)
    if label is None:
        return []
    return [level.strip() for level in label.split(CATEGORY_SEPARATOR) if level.strip()]


def _attribute_dict(value: object, item_id: str) -> dict[str, str]:
    if isinstance(value, dict):
        raw: object = value
    else:
        text = _label(value)
        if text is None:
            return {}
        try:
            raw = json.loads(text)
        except json.JSONDecodeError:
            raw = None
    if not isinstance(raw, dict):
        logger.warning("item %s: attributes are not a JSON object, ignored: %.80r", item_id, value)
        return {}
    return {
        str(key): label
        for key, entry in raw.items()
        if isinstance(entry, str | int | float | bool) and (label := _label(entry)) is not None
    }
