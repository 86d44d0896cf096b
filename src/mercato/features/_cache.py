"""An on-disk cache of encoded vectors, keyed by content and by the encoder that made them.

Layout: one folder per encoder fingerprint (named by its sha256, with the fingerprint itself in
``fingerprint.txt``), holding ``part-*.npz`` chunks of ``keys [N]`` (sha256 hex of the content:
a text, the bytes of an image or clip) and ``vectors [N, D]``. Chunks are only ever added, each
written under a temporary name and renamed, so an interrupted run or two runs at once never
leave a half-written chunk. Changing a text or a picture changes its key; changing the encoder
changes the folder: either way the stale vector is simply never looked up again.

Stale vectors cost only disk space. ``VectorShelf.prune`` rewrites a shelf with just the vectors
one build used (``build_item_features(..., prune_cache=True)``, ``mercato features --prune``);
deleting the cache folder, or one encoder's subfolder, is always safe too.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

__all__ = ["FeatureCache", "VectorShelf", "content_key"]

logger = logging.getLogger(__name__)

# Write a chunk once this many new vectors are pending: progress survives an interruption
# without creating one tiny file per batch.
_FLUSH_ROWS = 4096


def content_key(content: str | bytes) -> str:
    """sha256 hex of a text (UTF-8) or of raw bytes: the cache key of that content."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    return hashlib.sha256(data).hexdigest()


class VectorShelf:
    """The cached vectors of one encoder: look up by key, add new ones, flush to disk.

    A shelf without a folder keeps nothing (caching switched off).

    Stability: provisional.
    """

    def __init__(self, folder: Path | None) -> None:
        self._folder = folder
        self._known: dict[str, NDArray[np.float32]] = {}
        self._pending_keys: list[str] = []
        self._pending: list[NDArray[np.float32]] = []
        self._used: set[str] = set()  # keys looked up or stored since the shelf was opened
        if folder is not None and folder.is_dir():
            for chunk in sorted(folder.glob("part-*.npz")):
                self._read(chunk)

    def __len__(self) -> int:
        return len(self._known)

    def get(self, key: str) -> NDArray[np.float32] | None:
        """The vector stored under ``key``, or ``None``."""
        vector = self._known.get(key)
        if vector is not None:
            self._used.add(key)
        return vector

    def put(self, keys: Sequence[str], vectors: NDArray[np.float32]) -> None:
        """Remember ``vectors [N, D]`` under ``keys [N]``; written to disk by :meth:`flush`."""
        if self._folder is None:
            return
        for key, vector in zip(keys, vectors, strict=True):
            self._used.add(key)
            if key not in self._known:
                self._known[key] = vector
                self._pending_keys.append(key)
                self._pending.append(vector)
        if len(self._pending_keys) >= _FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        """Write pending vectors as one new chunk (atomically: temporary name, then rename)."""
        if self._folder is None or not self._pending_keys:
            return
        self._folder.mkdir(parents=True, exist_ok=True)
        name = f"part-{uuid.uuid4().hex}.npz"
        temporary = self._folder / f".{name}.tmp"
        with temporary.open("wb") as handle:
            np.savez(handle, keys=np.asarray(self._pending_keys), vectors=np.stack(self._pending))
        temporary.replace(self._folder / name)
        logger.debug("cached %d vectors in %s", len(self._pending_keys), self._folder / name)
        self._pending_keys, self._pending = [], []

    def prune(self) -> int:
        """Keep on disk only the vectors used since the shelf was opened; how many were dropped.

        The kept vectors are written as one new chunk before the old chunks are deleted, so an
        interruption leaves every vector readable (some twice), never none.
        """
        self.flush()
        stale = [key for key in self._known if key not in self._used]
        if self._folder is None or not stale:
            return 0

        old_chunks = sorted(self._folder.glob("part-*.npz"))
        for key in stale:
            del self._known[key]
        self._pending_keys = list(self._known)
        self._pending = list(self._known.values())
        self.flush()  # a fresh chunk name, never one of the old ones
        for chunk in old_chunks:
            chunk.unlink(missing_ok=True)
        logger.info("pruned %d stale vectors from %s", len(stale), self._folder)
        return len(stale)

    def _read(self, chunk: Path) -> None:
        try:
            with np.load(chunk, allow_pickle=False) as stored:
                keys, vectors = stored["keys"], stored["vectors"]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
            # A damaged chunk only costs recomputation; it must not stop feature building.
            logger.warning("ignoring unreadable feature cache chunk %s: %s", chunk, error)
            return
        for key, vector in zip(keys.tolist(), vectors.astype(np.float32), strict=True):
            self._known[key] = vector


class FeatureCache:
    """Cached vectors under one folder, one shelf per encoder fingerprint.

    Args:
        root: The cache folder (created on first write), or ``None`` to cache nothing.

    Stability: provisional; the on-disk layout may change (the cache can always be deleted).
    """

    def __init__(self, root: str | Path | None) -> None:
        self.root = Path(root) if root is not None else None

    def shelf(self, fingerprint: str) -> VectorShelf:
        """The shelf of the encoder with this fingerprint."""
        if self.root is None:
            return VectorShelf(None)
        folder = self.root / content_key(fingerprint)[:32]
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "fingerprint.txt").write_text(fingerprint + "\n", encoding="utf-8")
        return VectorShelf(folder)
