"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

#: The public datasets sit beside the repository, in ``../shared/data``, unless MERCATO_DATA says.
DEFAULT_DATA_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The folder that holds the public datasets (one subfolder each, with a README.txt)."""
    return Path(os.environ.get("MERCATO_DATA", DEFAULT_DATA_ROOT))


def require_dataset(root: Path, name: str) -> Path:
    """``root/name``, or skip the calling test with the reason when that folder is absent."""
    folder = root / name
    if not folder.is_dir():
        pytest.skip(f"public datasets not found at {folder}; set MERCATO_DATA")
    return folder


@pytest.fixture(scope="session")
def public_dataset(data_root: Path) -> Callable[[str], Path]:
    """``public_dataset("hm-fashion-sample")``: the dataset's folder, or a skip with the reason."""
    return lambda name: require_dataset(data_root, name)
