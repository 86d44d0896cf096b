"""Adapters from public e-commerce formats to mercato's canonical tables.

Importing this package registers every format; ``get_adapter(name)`` returns one.
"""

from mercato.data.adapters import _amazon, _generic  # noqa: F401  (registers the formats)
from mercato.data.adapters._base import Adapter, adapter_names, get_adapter
from mercato.data.adapters._generic import GenericAdapter, TableMapping, frame_source

__all__ = [
    "Adapter",
    "GenericAdapter",
    "TableMapping",
    "adapter_names",
    "frame_source",
    "get_adapter",
]
