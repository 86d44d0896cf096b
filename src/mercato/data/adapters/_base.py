"""The adapter contract and the registry of formats."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

from mercato.data._sources import ShopSource
from mercato.errors import ConfigError, DataError

__all__ = ["Adapter", "adapter_names", "get_adapter", "register", "require_file"]


class Adapter(Protocol):
    """Maps one public format onto the canonical tables.

    ``read`` only describes the tables (SQL over the raw files); it must not load the data,
    so that the ingest pipeline can stream files of any size.
    """

    name: str
    description: str

    def read(self, path: Path) -> ShopSource:
        """Describe the tables found at ``path`` (a folder or a file)."""
        ...


_REGISTRY: dict[str, Adapter] = {}

A = TypeVar("A", bound=Adapter)


def register(adapter: Callable[[], A]) -> Callable[[], A]:
    """Class decorator: add an adapter (constructed without arguments) to the registry."""
    instance = adapter()
    _REGISTRY[instance.name] = instance
    return adapter


def get_adapter(name: str) -> Adapter:
    """The adapter for a format name; a ``ConfigError`` lists the known names otherwise."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown format {name!r}; use one of: {', '.join(adapter_names())}"
        ) from None


def adapter_names() -> list[str]:
    return sorted(_REGISTRY)


def require_file(folder: Path, name: str, format_name: str) -> Path:
    """``folder/name``, or a ``DataError`` that says which file the format needs."""
    path = folder / name
    if not path.exists():
        raise DataError(
            f"the {format_name} format needs {name} in the source folder",
            file=folder,
            found="no such file",
            fix=f"point SOURCE at the folder that holds {name}",
        )
    return path
