"""TF-IDF + truncated SVD text vectors: the fallback that needs only scikit-learn and jieba.

Chinese has no spaces between words, so a text with CJK ideographs is cut into words by jieba;
other texts are split on word characters. The SVD (latent semantic analysis) turns the sparse
word counts into dense vectors in which related words share directions.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mercato.errors import ConfigError, NotFittedError
from mercato.features._packages import require_package
from mercato.features._vectors import l2_normalise

__all__ = ["TfidfEncoder", "has_cjk", "tokenise"]

logger = logging.getLogger(__name__)

# CJK Unified Ideographs with extension A and the compatibility block: the characters jieba cuts.
_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"\w+")


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds at least one CJK ideograph (and so needs word segmentation)."""
    return _CJK.search(text) is not None


def tokenise(text: str) -> list[str]:
    """Lower-cased word tokens: jieba's words for text with CJK, ``\\w+`` runs otherwise."""
    if not has_cjk(text):
        return _WORD.findall(text.lower())
    return [word for word in _jieba().lcut(text.lower()) if _WORD.search(word)]


@functools.cache
def _jieba() -> Any:
    jieba = require_package("jieba", pip_name="jieba", needed_for="Chinese word segmentation")
    # jieba logs its dictionary loading at DEBUG through its own stderr handler, bypassing the
    # application's logging set-up; only its warnings are worth showing.
    jieba.setLogLevel(logging.WARNING)
    return jieba


class TfidfEncoder:
    """Word TF-IDF reduced by truncated SVD to ``dim`` dense, unit-length columns.

    Fit it on the corpus it will encode (``build_item_features`` fits an unfitted one on the
    catalogue and review texts). A corpus with fewer than ``dim`` documents or words gets fewer
    SVD components; the remaining columns are zero so ``dim`` never changes.

    Args:
        dim: Output width.
        min_df: A word must occur in at least this many texts to count.
        max_features: Keep at most this many words (the most frequent).
        seed: Seed of the randomised SVD, for identical vectors across runs.

    Raises:
        ConfigError: a setting is out of range, or scikit-learn is not installed.

    Stability: stable.
    """

    def __init__(
        self, dim: int = 256, *, min_df: int = 1, max_features: int = 100_000, seed: int = 0
    ) -> None:
        for setting, value in (("dim", dim), ("min_df", min_df), ("max_features", max_features)):
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"TfidfEncoder {setting} must be an integer >= 1; got {value!r}.")
        self._sklearn = require_package(
            "sklearn", pip_name="scikit-learn", needed_for="the TF-IDF text encoder"
        )
        self._dim = dim
        self._settings = {"dim": dim, "min_df": min_df, "max_features": max_features, "seed": seed}
        self._vectoriser: Any = None
        self._svd: Any = None
        self._fingerprint: str | None = None

    @property
    def name(self) -> str:
        return f"tfidf-svd-{self._dim}"

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def is_fitted(self) -> bool:
        return self._vectoriser is not None

    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            raise NotFittedError("TfidfEncoder has no fingerprint before fit(texts).")
        return self._fingerprint

    def fit(self, texts: Sequence[str]) -> TfidfEncoder:
        """Learn the vocabulary, IDF weights and SVD basis from ``texts``; returns ``self``.

        Raises:
            ConfigError: no text holds a single word.
        """
        feature_extraction = self._sklearn.feature_extraction.text
        vectoriser = feature_extraction.TfidfVectorizer(
            analyzer=tokenise,
            sublinear_tf=True,
            min_df=self._settings["min_df"],
            max_features=self._settings["max_features"],
            dtype=np.float32,
        )
        try:
            weights = vectoriser.fit_transform(list(texts))
        except ValueError as error:  # scikit-learn's "empty vocabulary"
            raise ConfigError(
                f"TfidfEncoder cannot fit: {error}. Fix: fit it on texts that hold words."
            ) from error

        n_texts, n_words = weights.shape
        # Randomised SVD needs fewer components than words; a tiny corpus gets fewer columns.
        components = min(self._dim, n_words - 1, n_texts)
        svd = None
        if components >= 1:
            decomposition = self._sklearn.decomposition
            svd = decomposition.TruncatedSVD(
                n_components=components, random_state=self._settings["seed"]
            ).fit(weights)
        self._vectoriser, self._svd = vectoriser, svd
        self._fingerprint = self._digest()
        logger.debug(
            "TF-IDF fitted on %d texts: %d words, %d components", n_texts, n_words, components
        )
        return self

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """``[N]`` texts to ``[N, dim]`` unit rows; a text with no known word gives a zero row.

        Raises:
            NotFittedError: before :meth:`fit`.
        """
        if self._vectoriser is None:
            raise NotFittedError("TfidfEncoder.encode was called before fit(texts); fit it first.")
        weights = self._vectoriser.transform(list(texts))
        dense = (
            self._svd.transform(weights)
            if self._svd is not None
            else weights.toarray()[:, : self._dim]
        )
        vectors = np.zeros((len(texts), self._dim), dtype=np.float32)
        vectors[:, : dense.shape[1]] = dense
        return l2_normalise(vectors)

    def _digest(self) -> str:
        """sha256 of the settings and everything fitted: equal digests give equal vectors."""
        digest = hashlib.sha256(json.dumps(self._settings, sort_keys=True).encode())
        vocabulary = sorted(
            (word, int(column)) for word, column in self._vectoriser.vocabulary_.items()
        )
        digest.update(json.dumps(vocabulary, ensure_ascii=False).encode())
        digest.update(np.ascontiguousarray(self._vectoriser.idf_, dtype=np.float32).tobytes())
        if self._svd is not None:
            digest.update(np.ascontiguousarray(self._svd.components_, dtype=np.float32).tobytes())
        return f"tfidf:{digest.hexdigest()}"
