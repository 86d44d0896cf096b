"""Model artifacts on disk: a directory with ``model.json`` and ``arrays.npz``, swapped in whole.

``model.json`` holds the model name, its config, the mercato version that wrote it and the
artifact format version; ``arrays.npz`` holds every fitted array (sparse matrices as their CSR
parts). The directory is written under a temporary name next to the target and renamed into
place, so a crash mid-save never leaves a half-written model where a server would load it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from mercato import __version__
from mercato.errors import DataError

__all__ = [
    "ARRAYS_FILE",
    "FORMAT_VERSION",
    "MODEL_FILE",
    "pack_csr",
    "read_artifact",
    "unpack_csr",
    "write_artifact",
]

logger = logging.getLogger(__name__)

MODEL_FILE = "model.json"
ARRAYS_FILE = "arrays.npz"

#: Bumped when the layout of an artifact changes in a way older readers cannot follow.
FORMAT_VERSION = 1


def write_artifact(
    path: str | Path, name: str, config: Mapping[str, Any], arrays: Mapping[str, NDArray[Any]]
) -> Path:
    """Writes a model directory at ``path``, replacing an earlier model saved there.

    Raises:
        FileExistsError: ``path`` exists and is neither empty nor a mercato model directory
            (so a mistyped path never deletes someone's files).
    """
    target = Path(path)
    _check_replaceable(target)
    target.parent.mkdir(parents=True, exist_ok=True)

    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        meta = {
            "name": name,
            "config": dict(config),
            "mercato_version": __version__,
            "format_version": FORMAT_VERSION,
        }
        _write_synced(staging / MODEL_FILE, json.dumps(meta, indent=2).encode())
        with (staging / ARRAYS_FILE).open("wb") as handle:
            np.savez(handle, **cast(dict[str, Any], arrays))
            handle.flush()
            os.fsync(handle.fileno())
        _swap_in(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise

    logger.info("saved %s model to %s", name, target)
    return target


def read_artifact(path: str | Path) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
    """The metadata and arrays of the model directory at ``path``."""
    directory = Path(path)
    meta_path, arrays_path = directory / MODEL_FILE, directory / ARRAYS_FILE
    for required in (meta_path, arrays_path):
        if not required.is_file():
            raise DataError(
                "not a mercato model directory",
                file=required,
                found="no such file",
                expected=f"a directory holding {MODEL_FILE} and {ARRAYS_FILE}",
                fix="pass the directory that Recommender.save wrote",
            )

    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError("unreadable model metadata", file=meta_path, found=str(error)) from None
    _check_meta(meta, meta_path)

    with np.load(arrays_path, allow_pickle=False) as stored:
        arrays = {key: stored[key] for key in stored.files}
    return meta, arrays


def pack_csr(prefix: str, matrix: sp.csr_matrix) -> dict[str, NDArray[Any]]:
    """The parts of a CSR matrix as plain arrays named ``<prefix>_data`` etc."""
    return {
        f"{prefix}_data": matrix.data,
        f"{prefix}_indices": matrix.indices,
        f"{prefix}_indptr": matrix.indptr,
        f"{prefix}_shape": np.asarray(matrix.shape, dtype=np.int64),
    }


def unpack_csr(prefix: str, arrays: Mapping[str, NDArray[Any]]) -> sp.csr_matrix:
    """The CSR matrix :func:`pack_csr` stored under ``prefix``."""
    shape = tuple(int(size) for size in arrays[f"{prefix}_shape"])
    parts = (arrays[f"{prefix}_data"], arrays[f"{prefix}_indices"], arrays[f"{prefix}_indptr"])
    return sp.csr_matrix(parts, shape=shape)


def _check_replaceable(target: Path) -> None:
    if not target.exists():
        return
    is_model = target.is_dir() and (target / MODEL_FILE).is_file()
    is_empty = target.is_dir() and not any(target.iterdir())
    if not (is_model or is_empty):
        raise FileExistsError(
            f"{target} exists and is not a mercato model directory; save to a new path or "
            f"remove it first."
        )


def _swap_in(staging: Path, target: Path) -> None:
    if not target.exists():
        staging.rename(target)
        return

    # A directory cannot be renamed over a non-empty one: move the old model aside first, so the
    # target only ever holds a whole old model or a whole new one.
    retired = target.with_name(f".{target.name}.old-{uuid.uuid4().hex}")
    target.rename(retired)
    staging.rename(target)
    shutil.rmtree(retired, ignore_errors=True)


def _write_synced(path: Path, payload: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())


def _check_meta(meta: Any, meta_path: Path) -> None:
    if not isinstance(meta, dict) or not {"name", "config", "format_version"} <= set(meta):
        raise DataError(
            "model metadata lacks name, config or format_version",
            file=meta_path,
            expected="the model.json that Recommender.save writes",
        )
    if meta["format_version"] != FORMAT_VERSION:
        raise DataError(
            "unsupported model artifact format",
            file=meta_path,
            found=meta["format_version"],
            expected=f"format_version {FORMAT_VERSION}",
            fix=f"load it with the mercato version that wrote it ({meta.get('mercato_version')})",
        )
