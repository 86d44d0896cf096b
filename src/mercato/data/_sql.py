"""SQL expressions that read canonical columns from text, one per conversion.

Every expression is NULL where the text cannot be read, so that validation can find the first
such row with one columnar scan and conversion never raises deep inside DuckDB. Each expression
takes a fast path for the common, well-formed value and only falls back to the slower, more
forgiving reading where the fast one fails: on ten million rows every function call counts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb

from mercato.data._schema import CANONICAL_TABLES, EventType
from mercato.data._sources import TIMESTAMP_FORMATS, TableSource, sql_literal

__all__ = [
    "check_timestamp_format",
    "event_type_expr",
    "first_row",
    "number_expr",
    "numbered",
    "present",
    "quote",
    "text_expr",
    "timestamp_expr",
    "typed_rows",
]

#: Name of the 1-based source row number that ``numbered`` adds.
ROW = "_row"


def quote(name: str) -> str:
    """Quote an identifier (raw column names may hold spaces or quotes)."""
    return '"' + name.replace('"', '""') + '"'


def numbered(sql: str) -> str:
    """The rows of a source SELECT, each with its 1-based row number in source order as ``_row``.

    DuckDB numbers rows in scan order for ``row_number() OVER ()`` while insertion order is
    preserved (the ingest connection sets ``preserve_insertion_order``), which is what lets an
    error name the file row and lets ``position`` keep the source order.
    """
    return f"SELECT row_number() OVER () AS {ROW}, * FROM ({sql})"


def present(column: str) -> str:
    """True where a text column holds a value (not NULL, not blank)."""
    return f"({column} IS NOT NULL AND trim({column}) <> '')"


def text_expr(column: str) -> str:
    """Text without surrounding blanks; NULL where blank."""
    return f"NULLIF(trim({column}), '')"


def number_expr(column: str) -> str:
    """A text column read as a finite DOUBLE; NULL where blank, not a number, NaN or infinite."""
    # DuckDB's cast already ignores surrounding blanks and reads '' as NULL.
    value = f"TRY_CAST({column} AS DOUBLE)"
    return f"(CASE WHEN isfinite({value}) THEN {value} END)"


def _timestamp_for(column: str, fmt: str) -> str:
    if fmt == "iso":
        # A cast to TIMESTAMP silently drops a UTC offset or a zone name ('10:00+02:00' would
        # read as 10:00), so text with either goes through TIMESTAMPTZ; the ingest connection's
        # time zone is UTC, which makes the result naive UTC. A bare date or the fixed-width
        # 'YYYY-MM-DD HH:MM:SS' has no room for a zone and skips the (costlier) pattern test.
        fixed_width = f"((strlen({column}) = 19 AND {column}[17] = ':') OR strlen({column}) = 10)"
        zoned = f"NOT {fixed_width} AND regexp_matches({column}, ':.*[-+A-Ya-y]')"
        return (
            f"(CASE WHEN {zoned} THEN TRY_CAST(TRY_CAST({column} AS TIMESTAMPTZ) AS TIMESTAMP) "
            f"ELSE TRY_CAST({column} AS TIMESTAMP) END)"
        )
    if fmt == "unix_s":
        return f"make_timestamp(CAST(TRY_CAST({column} AS DOUBLE) * 1000000 AS BIGINT))"
    if fmt == "unix_ms":
        return f"make_timestamp(CAST(TRY_CAST({column} AS DOUBLE) * 1000 AS BIGINT))"
    if fmt == "date":
        return f"CAST(TRY_CAST({column} AS DATE) AS TIMESTAMP)"
    return f"TRY_STRPTIME({text_expr(column)}, {sql_literal(fmt)})"


def timestamp_expr(column: str, fmt: str) -> str:
    """Timestamp text read with one of ``TIMESTAMP_FORMATS`` or a strptime pattern."""
    return _timestamp_for(column, fmt)


def event_type_expr(column: str, mapping: Mapping[str, str] | None) -> str:
    """Raw event names mapped to canonical ``EventType`` values; NULL for an unknown name.

    Args:
        column: the raw text column.
        mapping: raw name -> canonical name; ``None`` when the source uses canonical names, which
            are then matched ignoring case and surrounding blanks.
    """
    if mapping is None:
        names = ", ".join(sql_literal(event.value) for event in EventType)
        relaxed = f"lower(trim({column}))"
        return (
            f"(CASE WHEN {column} IN ({names}) THEN {column} "
            f"WHEN {relaxed} IN ({names}) THEN {relaxed} END)"
        )

    cases = " ".join(
        f"WHEN {sql_literal(raw)} THEN {sql_literal(canonical)}"
        for raw, canonical in mapping.items()
    )
    return f"COALESCE((CASE {column} {cases} END), (CASE trim({column}) {cases} END))"


def typed_rows(table: str, source: TableSource, columns: frozenset[str]) -> str:
    """A source's rows with every canonical column read as its type, in source order.

    The result has ``_row`` (1-based source row), each canonical column under its own name
    (NULL where the source lacks it or its text cannot be read) and each column's raw text as
    ``raw_<column>``, which validation shows as what it found.

    Args:
        table: the canonical table.
        source: one of its sources.
        columns: the canonical columns the source provides.
    """
    spec = CANONICAL_TABLES[table]
    text = ", ".join(
        f"CAST({quote(column)} AS {_text_type(column)}) AS {quote(column)}"
        for column in spec.column_names
        if column in columns
    )
    typed = []
    for column in spec.column_names:
        if column in columns:
            typed.append(f"{_typed(table, column, source)} AS {column}")
            typed.append(f"{column} AS raw_{column}")
        else:
            sql_type = spec.column(column).sql_type
            typed.append(f"CAST(NULL AS {sql_type}) AS {column}")
            typed.append(f"CAST(NULL AS {_text_type(column)}) AS raw_{column}")
    rows = numbered(f"SELECT {text} FROM ({source.sql})")
    return f"SELECT {ROW}, {', '.join(typed)} FROM ({rows})"


def _text_type(column: str) -> str:
    return "VARCHAR[]" if column == "clicked_items" else "VARCHAR"


def _typed(table: str, column: str, source: TableSource) -> str:
    """The expression that reads one present raw column as its canonical type."""
    sql_type = CANONICAL_TABLES[table].column(column).sql_type
    if column == "timestamp":
        return timestamp_expr(column, source.timestamp_format)
    if column == "event_type":
        return event_type_expr(column, source.event_types)
    if sql_type == "DOUBLE":
        return number_expr(column)
    if column == "attributes":
        return f"TRY_CAST({text_expr(column)} AS JSON)"
    if column in ("image", "video"):
        return _media_path(column, source)
    if column == "clicked_items":
        # Blank entries and an empty field are no clicks: an empty list, not a missing one.
        cleaned = f"list_transform({column}, lambda x: {text_expr('x')})"
        return f"COALESCE(list_filter({cleaned}, lambda x: x IS NOT NULL), [])"
    return text_expr(column)


def _media_path(column: str, source: TableSource) -> str:
    """A relative media path resolved against its source's folder; URLs kept as they are."""
    text = text_expr(column)
    if source.base_dir is None:
        return text
    base = sql_literal(str(source.base_dir.resolve()) + os.sep)
    absolute = f"{text} LIKE '/%' OR {text} LIKE '%://%'"
    return f"(CASE WHEN {absolute} THEN {text} ELSE {base} || {text} END)"


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
