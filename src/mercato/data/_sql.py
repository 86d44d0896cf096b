"""SQL expressions that read canonical columns from text, one per conversion.

Every expression is NULL where the text cannot be read, so that validation can find the first
such row with one columnar scan and conversion never raises deep inside DuckDB.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb

from mercato.data._schema import EventType
from mercato.data._sources import TIMESTAMP_FORMATS, TableSource, sql_literal

__all__ = ["event_type_expr", "first_row", "number_expr", "present", "timestamp_expr"]


def present(column: str) -> str:
    """True where a text column holds a value (not NULL, not blank)."""
    return f"({column} IS NOT NULL AND trim({column}) <> '')"


def number_expr(column: str) -> str:
    """A text column read as DOUBLE; NULL where blank or not a number."""
    return f"TRY_CAST(NULLIF(trim({column}), '') AS DOUBLE)"


def _timestamp_for(column: str, fmt: str) -> str:
    text = f"NULLIF(trim({column}), '')"
    if fmt == "iso":
        # ISO text with an offset only casts to TIMESTAMPTZ; store it as naive UTC.
        return (
            f"COALESCE(TRY_CAST({text} AS TIMESTAMP), "
            f"TRY_CAST(TRY_CAST({text} AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP))"
        )
    if fmt == "unix_s":
        return f"make_timestamp(CAST(TRY_CAST({text} AS DOUBLE) * 1000000 AS BIGINT))"
    if fmt == "unix_ms":
        return f"make_timestamp(CAST(TRY_CAST({text} AS DOUBLE) * 1000 AS BIGINT))"
    if fmt == "date":
        return f"CAST(TRY_CAST({text} AS DATE) AS TIMESTAMP)"
    return f"TRY_STRPTIME({text}, {sql_literal(fmt)})"


def timestamp_expr(column: str, sources: Sequence[TableSource]) -> str:
    """Timestamp text read with each source's own format (sources are told apart by ``_src``)."""
    formats = {source.timestamp_format for source in sources}
    if len(formats) == 1:
        return _timestamp_for(column, formats.pop())

    cases = " ".join(
        f"WHEN {index} THEN {_timestamp_for(column, source.timestamp_format)}"
        for index, source in enumerate(sources)
    )
    return f"(CASE _src {cases} END)"


def _event_type_for(column: str, mapping: Mapping[str, str] | None) -> str:
    if mapping is None:
        names = ", ".join(sql_literal(event.value) for event in EventType)
        return f"(CASE WHEN lower(trim({column})) IN ({names}) THEN lower(trim({column})) END)"

    cases = " ".join(
        f"WHEN {sql_literal(raw)} THEN {sql_literal(canonical)}"
        for raw, canonical in mapping.items()
    )
    return f"(CASE trim({column}) {cases} END)"


def event_type_expr(column: str, sources: Sequence[TableSource]) -> str:
    """Raw event names mapped to canonical ``EventType`` values; NULL for an unknown name."""
    mappings = [source.event_types for source in sources]
    if all(mapping == mappings[0] for mapping in mappings):
        return _event_type_for(column, mappings[0])

    cases = " ".join(
        f"WHEN {index} THEN {_event_type_for(column, mapping)}"
        for index, mapping in enumerate(mappings)
    )
    return f"(CASE _src {cases} END)"


def check_timestamp_format(fmt: str) -> bool:
    """Whether a timestamp format is one of the named ones or looks like a strptime pattern."""
    return fmt in TIMESTAMP_FORMATS or "%" in fmt


def first_row(
    con: duckdb.DuckDBPyConnection, query: str, params: Sequence[object] | None = None
) -> tuple[Any, ...] | None:
    """The first row of a query, with the result drained so the connection is free again."""
    # Drained with fetchall: a half-read result would block the connection's next statement.
    rows = con.execute(query, params).fetchall()
    return rows[0] if rows else None
