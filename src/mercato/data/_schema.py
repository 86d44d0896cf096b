"""The canonical shop data model: five tables, their columns and types.

Ids are strings at the edge (``user_id``, ``item_id``, ``session_id``: leading zeros survive) and
dense integers inside (``user_idx``, ``item_idx``, ``session_idx``), with the mapping kept in the
store. Every adapter maps a public format onto these tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "CANONICAL_TABLES",
    "EVENTS",
    "ITEMS",
    "QUERIES",
    "REVIEWS",
    "USERS",
    "Column",
    "EventType",
    "TableSpec",
]


class EventType(StrEnum):
    """What a shopper did with an item."""

    VIEW = "view"
    CLICK = "click"
    CART = "cart"
    FAVOURITE = "favourite"
    PURCHASE = "purchase"
    RATING = "rating"
    SEARCH_CLICK = "search_click"

    @property
    def code(self) -> int:
        """Small integer code used in arrays and model inputs (stable across versions)."""
        return _EVENT_CODES[self]

    @classmethod
    def from_code(cls, code: int) -> EventType:
        return _EVENTS_BY_CODE[code]


_EVENT_CODES = {event: code for code, event in enumerate(EventType)}
_EVENTS_BY_CODE = dict(enumerate(EventType))


@dataclass(frozen=True)
class Column:
    """One canonical column: its name, its DuckDB type, and whether a source must provide it."""

    name: str
    sql_type: str
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class TableSpec:
    """One canonical table as a source provides it (string ids, before dense ids are assigned)."""

    name: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns if column.required)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)


EVENTS = TableSpec(
    "events",
    (
        Column("user_id", "VARCHAR", description="shopper id; empty for anonymous sessions"),
        Column("item_id", "VARCHAR", required=True),
        Column("event_type", "VARCHAR", required=True, description="one of EventType"),
        Column("timestamp", "TIMESTAMP", description="when it happened (UTC)"),
        Column("session_id", "VARCHAR"),
        Column("value", "DOUBLE", description="rating or amount"),
        Column("price", "DOUBLE", description="unit price paid or shown"),
        Column("quantity", "DOUBLE"),
        Column("attributes", "JSON", description="every other column of the source, kept"),
    ),
)

ITEMS = TableSpec(
    "items",
    (
        Column("item_id", "VARCHAR", required=True),
        Column("title", "VARCHAR"),
        Column("description", "VARCHAR"),
        Column("category", "VARCHAR", description="category path, levels joined by ' > '"),
        Column("brand", "VARCHAR"),
        Column("price", "DOUBLE"),
        Column("attributes", "JSON", description="every other column of the source, kept"),
        Column("image", "VARCHAR", description="absolute path or URL of the product photo"),
        Column("video", "VARCHAR", description="absolute path or URL of a product clip"),
    ),
)

USERS = TableSpec(
    "users",
    (
        Column("user_id", "VARCHAR", required=True),
        Column("attributes", "JSON"),
    ),
)

REVIEWS = TableSpec(
    "reviews",
    (
        Column("user_id", "VARCHAR"),
        Column("item_id", "VARCHAR", required=True),
        Column("rating", "DOUBLE"),
        Column("text", "VARCHAR", description="any language, Chinese included"),
        Column("timestamp", "TIMESTAMP"),
    ),
)

QUERIES = TableSpec(
    "queries",
    (
        Column("user_id", "VARCHAR"),
        Column("session_id", "VARCHAR"),
        Column("query", "VARCHAR", required=True),
        Column("timestamp", "TIMESTAMP"),
        Column("clicked_items", "VARCHAR[]", description="item ids clicked from the results"),
        Column("attributes", "JSON", description="every other column of the source, kept"),
    ),
)

CANONICAL_TABLES: dict[str, TableSpec] = {
    spec.name: spec for spec in (EVENTS, ITEMS, USERS, REVIEWS, QUERIES)
}
