"""Training checkpoints: a fit that is stopped part-way resumes where it was, exactly.

After every epoch the loop writes one file: the network, the optimiser's moments, the batch
order's and torch's random states, and how the run stands (epoch reports, best epoch and its
weights). Resuming restores all of them, so the resumed run draws the same batches and the same
dropout masks as one that was never stopped, and ends with the same model.

A checkpoint belongs to one run: its key hashes the config, every training and validation
array, and the untrained encoder's buffers (where a content model keeps its item features). A
file whose key differs (other data, other content, other settings) is ignored, and overwritten
by the new run's first epoch.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from mercato.models.sequence._config import SequenceConfig

__all__ = ["checkpoint_key", "load_checkpoint", "save_checkpoint"]

logger = logging.getLogger(__name__)

#: Bumped when the file layout changes, so an old file is ignored rather than misread.
_FORMAT = 1


def checkpoint_key(config: SequenceConfig, arrays: Sequence[NDArray[Any] | None]) -> str:
    """A hex digest of ``config`` and the bytes of ``arrays`` (``None`` entries included)."""
    digest = hashlib.sha256()
    settings = json.dumps(config.to_dict(), sort_keys=True, default=str)
    digest.update(f"{_FORMAT}:{type(config).__name__}:{settings}".encode())
    for array in arrays:
        if array is None:
            digest.update(b"none")
            continue
        digest.update(f"{array.dtype}{array.shape}".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def save_checkpoint(
    path: Path,
    key: str,
    *,
    network: torch.nn.Module,
    optimiser: torch.optim.Optimizer,
    order_rng: np.random.Generator,
    progress: Mapping[str, Any],
) -> None:
    """Writes the checkpoint under a temporary name and renames it, so a run stopped mid-write
    leaves the previous checkpoint whole."""
    payload = {
        "key": key,
        "network": network.state_dict(),
        "optimiser": optimiser.state_dict(),
        "order_rng": json.dumps(order_rng.bit_generator.state),
        "torch_rng": torch.get_rng_state(),
        "progress": dict(progress),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    torch.save(payload, partial)
    partial.replace(path)


def load_checkpoint(
    path: Path,
    key: str,
    *,
    network: torch.nn.Module,
    optimiser: torch.optim.Optimizer,
    order_rng: np.random.Generator,
) -> dict[str, Any] | None:
    """Restores ``network``, ``optimiser``, ``order_rng`` and torch's generator from the
    checkpoint at ``path`` and returns its progress; ``None`` (nothing restored) when there is
    no file or it belongs to another run."""
    if not path.exists():
        return None
    payload = torch.load(path, weights_only=True)
    if payload.get("key") != key:
        logger.warning(
            "ignoring the checkpoint %s: it was written for other data or settings; this run "
            "starts from scratch and replaces it",
            path,
        )
        return None
    network.load_state_dict(payload["network"])
    optimiser.load_state_dict(payload["optimiser"])
    order_rng.bit_generator.state = json.loads(payload["order_rng"])
    torch.set_rng_state(payload["torch_rng"])
    progress: dict[str, Any] = payload["progress"]
    return progress
