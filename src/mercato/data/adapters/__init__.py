"""Adapters from public e-commerce formats to mercato's canonical tables.

Importing this package registers every format; ``get_adapter(name)`` returns one.
"""

# Imported for their side effect: each module registers its formats.
from mercato.data.adapters import (  # noqa: F401
    _amazon,
    _cdnow,
    _diginetica,
    _generic,
    _hm,
    _myntra,
    _open_bandit,
    _otto,
    _recbole,
    _rechorus,
    _taobao,
    _wands,
)
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
