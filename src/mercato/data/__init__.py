"""Shop data: the canonical tables, adapters for public formats, validation, cleaning, the store.

A typical session::

    from mercato.data import get_adapter, ingest, Store

    source = get_adapter("hm").read(Path("data/hm"))
    ingest(source, Path("shop.duckdb"))
    dataset = Store("shop.duckdb").dataset()
"""

from mercato.data._clean import CleaningConfig, CleaningStep
from mercato.data._dataset import DEFAULT_EVENT_WEIGHTS, Dataset
from mercato.data._ingest import IngestReport, ingest
from mercato.data._schema import CANONICAL_TABLES, EventType
from mercato.data._sources import ShopSource, TableSource
from mercato.data._store import DEFAULT_STORE, Store, StoreSummary
from mercato.data.adapters import (
    Adapter,
    TableMapping,
    adapter_names,
    frame_source,
    get_adapter,
)

__all__ = [
    "CANONICAL_TABLES",
    "DEFAULT_EVENT_WEIGHTS",
    "DEFAULT_STORE",
    "Adapter",
    "CleaningConfig",
    "CleaningStep",
    "Dataset",
    "EventType",
    "IngestReport",
    "ShopSource",
    "Store",
    "StoreSummary",
    "TableMapping",
    "TableSource",
    "adapter_names",
    "frame_source",
    "get_adapter",
    "ingest",
]
