"""Encoding many texts, pictures or clips in batches, through the cache, with progress.

Each unit (a distinct text, image file or clip file) is keyed by the sha256 of its content;
a unit already on the encoder's cache shelf is not encoded again. A picture or clip that
cannot be read is reported once, by item and file, and left out: its rows stay zero.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from mercato.errors import ConfigError, NotFittedError
from mercato.features._cache import FeatureCache, VectorShelf, content_key
from mercato.features._image import ImageEncoder, UnreadableMediaError, decode_image
from mercato.features._progress import MediaProblems, ProgressBars
from mercato.features._text import TextEncoder
from mercato.features._vectors import l2_normalise
from mercato.features._video import VideoSampling, read_frames

__all__ = ["Encoding", "encoder_identity", "fit_if_needed", "media_path"]

logger = logging.getLogger(__name__)

Unit = TypeVar("Unit")
_URL_PREFIXES = ("http://", "https://", "s3://", "gs://")


class Encoding:
    """The shared state of one feature build: cache, batch size, progress display.

    Args:
        cache: Where vectors are looked up and stored.
        batch_size: Units per encoder call (>= 1).
        bars: The progress display.
    """

    def __init__(self, cache: FeatureCache, batch_size: int, bars: ProgressBars) -> None:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"batch_size must be an integer >= 1; got {batch_size!r}.")
        self._cache = cache
        self._batch_size = batch_size
        self._bars = bars
        self._shelves: dict[str, VectorShelf] = {}

    def texts(
        self, texts: Sequence[str], encoder: TextEncoder, what: str
    ) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
        """``[N]`` texts to ``([N, D] vectors, [N] present)``; a blank text is not present.

        Equal texts are encoded once.
        """
        cleaned = [text.strip() if isinstance(text, str) else "" for text in texts]
        distinct = list(dict.fromkeys(text for text in cleaned if text))
        if not distinct:
            return np.zeros((len(cleaned), encoder.dim), np.float32), np.zeros(len(cleaned), bool)

        shelf = self._shelf(encoder.fingerprint)
        keys = {text: content_key(text) for text in distinct}
        vectors = {
            text: vector for text in distinct if (vector := shelf.get(keys[text])) is not None
        }
        missing = [text for text in distinct if text not in vectors]
        bar = self._bars.bar(what, len(distinct))
        bar.advance(len(vectors))
        for batch in _chunks(missing, self._batch_size):
            encoded = _checked(encoder.encode(batch), len(batch), encoder.name)
            shelf.put([keys[text] for text in batch], encoded)
            vectors.update(zip(batch, encoded, strict=True))
            bar.advance(len(batch))
        shelf.flush()
        logger.debug(
            "%s: %d texts, %d encoded, %d cached",
            what,
            len(distinct),
            len(missing),
            len(distinct) - len(missing),
        )
        return _rows(cleaned, vectors, lambda: encoder.dim), np.array(
            [bool(text) for text in cleaned], dtype=bool
        )

    def images(
        self,
        paths: Sequence[Path | None],
        item_ids: Sequence[str],
        encoder: ImageEncoder,
        problems: MediaProblems,
    ) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
        """``[I]`` picture paths (``None`` for none) to ``([I, D] vectors, [I] mask)``.

        Unreadable files are reported to ``problems`` (which is closed at the end).
        """
        owners = _owners(paths, item_ids)
        shelf = self._shelf(encoder.fingerprint)
        vectors: dict[Path, NDArray[np.float32]] = {}
        bar = self._bars.bar("images", len(owners))
        for batch in _chunks(list(owners), self._batch_size):
            keys: list[str] = []
            pictures: list[Image.Image] = []
            decoded: list[Path] = []
            for path in batch:
                try:
                    data = path.read_bytes()
                except OSError as error:
                    problems.report(owners[path], str(path), f"cannot read it ({_reason(error)})")
                    continue
                key = content_key(data)
                if (cached := shelf.get(key)) is not None:
                    vectors[path] = cached
                    continue
                try:
                    pictures.append(decode_image(data))
                except UnreadableMediaError as error:
                    problems.report(owners[path], str(path), str(error))
                    continue
                keys.append(key)
                decoded.append(path)
            if pictures:
                encoded = _checked(encoder.encode(pictures), len(pictures), encoder.name)
                shelf.put(keys, encoded)
                vectors.update(zip(decoded, encoded, strict=True))
            bar.advance(len(batch))
        shelf.flush()
        problems.close()
        return _rows(paths, vectors, lambda: encoder.dim), np.array(
            [path in vectors for path in paths], dtype=bool
        )

    def clips(
        self,
        paths: Sequence[Path | None],
        item_ids: Sequence[str],
        encoder: ImageEncoder,
        sampling: VideoSampling,
        problems: MediaProblems,
    ) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
        """``[I]`` clip paths to ``([I, D] mean frame vectors, [I] mask)``.

        Unreadable files are reported to ``problems`` (which is closed at the end).
        """
        owners = _owners(paths, item_ids)
        shelf = self._shelf(f"{encoder.fingerprint}|{sampling}")
        vectors: dict[Path, NDArray[np.float32]] = {}
        bar = self._bars.bar("clips", len(owners))
        # Clips per batch so that one batch holds about batch_size frames.
        clips_per_batch = max(1, self._batch_size // sampling.max_frames)
        for batch in _chunks(list(owners), clips_per_batch):
            keys: list[str] = []
            frames: list[list[Image.Image]] = []
            decoded: list[Path] = []
            for path in batch:
                try:
                    key = _file_key(path)
                    if (cached := shelf.get(key)) is not None:
                        vectors[path] = cached
                        continue
                    frames.append(read_frames(path, sampling))
                except OSError as error:
                    problems.report(owners[path], str(path), f"cannot read it ({_reason(error)})")
                    continue
                except UnreadableMediaError as error:
                    problems.report(owners[path], str(path), str(error))
                    continue
                keys.append(key)
                decoded.append(path)
            if frames:
                encoded = self._mean_frames(frames, encoder)
                shelf.put(keys, encoded)
                vectors.update(zip(decoded, encoded, strict=True))
            bar.advance(len(batch))
        shelf.flush()
        problems.close()
        return _rows(paths, vectors, lambda: encoder.dim), np.array(
            [path in vectors for path in paths], dtype=bool
        )

    def prune_cache(self) -> int:
        """Drop from the cache every vector of this build's encoders that it did not use."""
        return sum(shelf.prune() for shelf in self._shelves.values())

    def _shelf(self, fingerprint: str) -> VectorShelf:
        """The encoder's cache shelf, read from disk once per build."""
        if fingerprint not in self._shelves:
            self._shelves[fingerprint] = self._cache.shelf(fingerprint)
        return self._shelves[fingerprint]

    def _mean_frames(
        self, clips: list[list[Image.Image]], encoder: ImageEncoder
    ) -> NDArray[np.float32]:
        """``[C]`` clips of frames to ``[C, D]`` unit mean frame vectors."""
        flat = [frame for frames in clips for frame in frames]
        encoded = np.concatenate(
            [
                _checked(encoder.encode(batch), len(batch), encoder.name)
                for batch in _chunks(flat, self._batch_size)
            ]
        )
        clip_of_frame = np.repeat(np.arange(len(clips)), [len(frames) for frames in clips])
        sums = np.zeros((len(clips), encoded.shape[1]), np.float64)
        np.add.at(sums, clip_of_frame, encoded)
        return l2_normalise(sums)  # the direction of the sum is that of the mean


def fit_if_needed(encoder: TextEncoder, corpus: Sequence[object]) -> None:
    """Fit an unfitted corpus-fitted encoder (TF-IDF) on the non-blank texts of ``corpus``."""
    fit = getattr(encoder, "fit", None)
    # getattr, not isinstance(FittableTextEncoder): on Python 3.11 a runtime protocol check
    # reads every property, and an unfitted encoder's fingerprint raises.
    if fit is None or getattr(encoder, "is_fitted", True):
        return
    texts = [text.strip() for text in corpus if isinstance(text, str) and text.strip()]
    if texts:
        logger.info("fitting %s on %d texts", encoder.name, len(texts))
        fit(texts)


def encoder_identity(encoder: TextEncoder | ImageEncoder) -> str:
    """The encoder's fingerprint, for the record kept with the features."""
    try:
        return encoder.fingerprint
    except NotFittedError:
        return f"{encoder.name} (not fitted: there was no text)"


def media_path(value: object, item_id: str, problems: MediaProblems) -> Path | None:
    """The local file an ``image`` / ``video`` cell names; ``None`` when blank or a URL."""
    if not isinstance(value, str | Path) or not str(value).strip():
        return None
    text = str(value).strip()
    if text.lower().startswith(_URL_PREFIXES):
        problems.report(item_id, text, "it is a URL, and mercato never downloads media")
        return None
    return Path(text).expanduser()


def _owners(paths: Sequence[Path | None], item_ids: Sequence[str]) -> dict[Path, str]:
    """Each distinct path and the first item that uses it (the item named in warnings)."""
    owners: dict[Path, str] = {}
    for path, item_id in zip(paths, item_ids, strict=True):
        if path is not None and path not in owners:
            owners[path] = item_id
    return owners


def _rows(
    units: Sequence[Unit | None], vectors: dict[Unit, NDArray[np.float32]], dim: Callable[[], int]
) -> NDArray[np.float32]:
    """``[N, D]`` rows: each unit's vector, zeros where it has none.

    ``dim`` is asked only when no unit has a vector: it may have to load the model.
    """
    width = next(iter(vectors.values())).shape[0] if vectors else dim()
    matrix = np.zeros((len(units), width), np.float32)
    for row, unit in enumerate(units):
        if unit is not None and (vector := vectors.get(unit)) is not None:
            matrix[row] = vector
    return matrix


def _chunks(units: Sequence[Unit], size: int) -> Iterator[list[Unit]]:
    for start in range(0, len(units), size):
        yield list(units[start : start + size])


def _checked(vectors: NDArray[np.float32], n: int, name: str) -> NDArray[np.float32]:
    if vectors.ndim != 2 or len(vectors) != n or not np.isfinite(vectors).all():
        raise ConfigError(
            f"encoder {name} returned an array of shape {vectors.shape} (finite: "
            f"{bool(np.isfinite(vectors).all())}) for {n} inputs; expected [{n}, D], finite."
        )
    return np.asarray(vectors, np.float32)


def _file_key(path: Path) -> str:
    """sha256 of a file's bytes, read in blocks (clips can be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _reason(error: OSError) -> str:
    return error.strerror or str(error)
