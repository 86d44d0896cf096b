"""The ingest pipeline: stage -> validate -> convert -> clean -> assign dense ids -> store.

Every step runs inside DuckDB, streaming from the raw files, under a memory limit, so a file far
larger than memory is never loaded whole. The store is written under a temporary name and swapped
in with one atomic rename: a failed ingest leaves the previous store exactly as it was.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from mercato.data._clean import (
    CleaningConfig,
    CleaningStep,
    clean_events,
    reject_duplicates,
)
from mercato.data._progress import Phases
from mercato.data._schema import CANONICAL_TABLES
from mercato.data._sources import ShopSource, TableSource, sql_literal
from mercato.data._sql import event_type_expr, first_row, number_expr, timestamp_expr
from mercato.data._validate import StagedTable, validate_table
from mercato.errors import DataError, SchemaError

__all__ = ["STORE_FORMAT", "IngestReport", "ingest"]

logger = logging.getLogger(__name__)

#: Version of the store layout, written into every store's ``mercato_meta`` table.
STORE_FORMAT = 1


@dataclass(frozen=True)
class IngestReport:
    """What an ingest wrote: rows per table, the cleaning steps, and how long it took."""

    store: str
    source: str
    rows: dict[str, int]
    cleaning: list[CleaningStep] = field(default_factory=list)
    seconds: float = 0.0


def ingest(
    source: ShopSource,
    store: Path,
    *,
    cleaning: CleaningConfig | None = None,
    memory_limit: str = "2GB",
    progress: bool = False,
) -> IngestReport:
    """Validate, clean and store one shop's tables in a DuckDB file, atomically.

    Args:
        source: the tables an adapter described.
        store: the DuckDB file to write; an existing store is replaced only on success.
        cleaning: which cleaning steps to run (none by default).
        memory_limit: DuckDB's memory limit; beyond it DuckDB spills to disk.
        progress: show a progress bar per phase.

    Returns:
        What was written.

    Raises:
        DataError: the input is invalid; the message names file, row, column and the fix.
    """
    started = time.perf_counter()
    cleaning = cleaning or CleaningConfig()
    store = Path(store)
    store.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:8]
    partial = store.with_name(f".{store.name}.{token}.partial")
    staging = store.with_name(f".{store.name}.{token}.staging")

    try:
        with _connect(partial, staging, memory_limit) as con:
            rows, steps = _run(con, source, cleaning, progress)
            _write_meta(con, source, steps)
        partial.replace(store)
    finally:
        for leftover in (partial, staging):
            for path in (leftover, Path(f"{leftover}.wal")):
                path.unlink(missing_ok=True)

    seconds = time.perf_counter() - started
    logger.info("ingested %s into %s in %.1fs: %s", source.name, store, seconds, rows)
    return IngestReport(str(store), source.name, rows, steps, seconds)


@contextmanager
def _connect(
    partial: Path, staging: Path, memory_limit: str
) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(partial))
    try:
        con.execute(f"SET memory_limit = {sql_literal(memory_limit)}")
        con.execute("SET preserve_insertion_order = true")
        con.execute(f"SET temp_directory = {sql_literal(str(staging) + '.tmp')}")
        con.execute(f"ATTACH {sql_literal(staging)} AS stage")
        yield con
        con.execute("DETACH stage")
        con.execute("CHECKPOINT")
    finally:
        con.close()


def _run(
    con: duckdb.DuckDBPyConnection,
    source: ShopSource,
    cleaning: CleaningConfig,
    progress: bool,
) -> tuple[dict[str, int], list[CleaningStep]]:
    tables = [name for name in CANONICAL_TABLES if source.for_table(name)]
    if "events" not in tables and "items" not in tables:
        raise SchemaError(
            f"source {source.name!r} has neither events nor items",
            expected="at least an events table or a catalogue",
        )

    with Phases(progress, total=2 * len(tables) + 3) as phases:
        staged = {}
        for name in tables:
            phases.step(f"reading {name}")
            staged[name] = _stage(con, name, source.for_table(name))
        for table in staged.values():
            phases.step(f"validating {table.name}")
            validate_table(con, table)

        phases.step("converting")
        _convert(con, staged)
        if "events" in staged:
            _check_leading_zeros(con, staged)
            if not cleaning.dedupe and not _duplicates_allowed(staged["events"]):
                reject_duplicates(con, staged["events"])
        steps: list[CleaningStep] = []
        if "events" in staged:
            genuine_repeats = _duplicates_allowed(staged["events"])
            steps = clean_events(
                con, replace(cleaning, dedupe=cleaning.dedupe and not genuine_repeats)
            )

        phases.step("assigning ids")
        _assign_ids(con, staged)
        phases.step("writing the store")
        rows = _write_tables(con, staged)
    return rows, steps


def _duplicates_allowed(events: StagedTable) -> bool:
    return all(source.allow_duplicates for source in events.sources)


def _stage(
    con: duckdb.DuckDBPyConnection, name: str, sources: tuple[TableSource, ...]
) -> StagedTable:
    """Copy every source of one table into ``stage.<name>`` as text, in file order."""
    spec = CANONICAL_TABLES[name]
    first_rows: list[int] = []
    present: set[str] = set()
    for index, source in enumerate(sources):
        for frame_name, frame in source.frames.items():
            con.register(frame_name, frame)
        columns = _source_columns(con, source)
        present |= set(columns)
        unknown = sorted(set(columns) - set(spec.column_names))
        missing = [column for column in spec.required if column not in columns]
        if unknown or missing:
            raise SchemaError(
                f"the {name} source does not match the canonical table",
                file=source.origin,
                found=list(columns),
                expected=f"columns among {', '.join(spec.column_names)}; "
                f"required {', '.join(spec.required)}",
                fix="map the file's columns onto the canonical names in the source config",
            )
        select = ", ".join(
            (f"CAST({_quote(column)} AS {_stage_type(column)})" if column in columns else "NULL")
            + f" AS {column}"
            for column in spec.column_names
        )
        query = f"SELECT {select}, {index}::SMALLINT AS _src FROM ({source.sql})"
        first_rows.append(_row_count(con, f"stage.{name}") if index else 0)
        verb = f"INSERT INTO stage.{name} " if index else f"CREATE TABLE stage.{name} AS "
        _execute_reading(con, verb + query, source)
        logger.debug("staged %s from %s", name, source.origin)

    total = _row_count(con, f"stage.{name}")
    if total == 0:
        raise DataError(
            f"no {name} rows were found",
            file=", ".join(source.origin for source in sources),
            expected="at least one data row after the header",
            fix="check that the file is the right one and not cut off",
        )
    return StagedTable(name, sources, tuple(first_rows), frozenset(present))


def _source_columns(con: duckdb.DuckDBPyConnection, source: TableSource) -> tuple[str, ...]:
    try:
        return tuple(con.sql(source.sql).columns)
    except duckdb.Error as error:
        raise _reading_error(error, source) from error


def _execute_reading(con: duckdb.DuckDBPyConnection, query: str, source: TableSource) -> None:
    try:
        con.execute(query)
    except duckdb.Error as error:
        raise _reading_error(error, source) from error


_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")


def _reading_error(error: duckdb.Error, source: TableSource) -> DataError:
    """Turn a DuckDB reading error into one sentence about the file and line."""
    text = str(error)
    line_match = _CSV_LINE.search(text)
    line = int(line_match.group(1)) if line_match else None
    original = re.search(r"Original Line: (.*)", text)
    if "unterminated quote" in text:
        problem = "a quoted value never ends: the file looks truncated or garbled"
    elif "Expected Number of Columns" in text:
        counts = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
        problem = (
            f"a row has {counts.group(2)} fields where the header has {counts.group(1)}: "
            "the file looks truncated, garbled or uses another delimiter"
            if counts
            else "a row has the wrong number of fields"
        )
    elif "unicode" in text.lower() or "utf-8" in text.lower():
        problem = "the file is not UTF-8 text: it looks garbled or binary"
    else:
        problem = f"the file could not be read ({text.splitlines()[0]})"
    return DataError(
        problem,
        file=source.origin,
        row=line - source.header_lines if line is not None else None,
        line=line,
        found=original.group(1)[:80] if original else None,
        fix="repair or re-export the file (UTF-8, one record per line, consistent delimiter)",
    )


def _stage_type(column: str) -> str:
    if column == "clicked_items":
        return "VARCHAR[]"
    return "VARCHAR"


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _row_count(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    row = first_row(con, f"SELECT count(*) FROM {relation}")
    return int(row[0]) if row is not None else 0


def _text(column: str) -> str:
    return f"NULLIF(trim({column}), '')"


def _convert(con: duckdb.DuckDBPyConnection, staged: dict[str, StagedTable]) -> None:
    """Read every staged text column as its canonical type into ``stage.typed_<table>``."""
    for name, table in staged.items():
        expressions = _typed_columns(name, table)
        select = ", ".join(f"{expression} AS {column}" for column, expression in expressions)
        con.execute(
            f"CREATE TABLE stage.typed_{name} AS "
            f"SELECT {select}, rowid AS position FROM {table.relation}"
        )


def _typed_columns(name: str, table: StagedTable) -> list[tuple[str, str]]:
    spec = CANONICAL_TABLES[name]
    typed: list[tuple[str, str]] = []
    for column in spec.column_names:
        if column == "timestamp":
            expression = timestamp_expr(column, table.sources)
        elif column == "event_type":
            expression = event_type_expr(column, table.sources)
        elif spec.column(column).sql_type == "DOUBLE":
            expression = number_expr(column)
        elif column == "attributes":
            expression = f"CAST({_text(column)} AS JSON)"
        elif column in ("image", "video"):
            expression = _media_path(column, table.sources)
        elif column == "clicked_items":
            expression = column
        else:
            expression = _text(column)
        typed.append((column, expression))
    return typed


def _media_path(column: str, sources: tuple[TableSource, ...]) -> str:
    """Relative media paths resolved against their source's folder; URLs kept as they are."""
    cases = []
    for index, source in enumerate(sources):
        if source.base_dir is not None:
            base = sql_literal(str(source.base_dir.resolve()) + os.sep)
            cases.append(f"WHEN _src = {index} THEN {base} || {_text(column)}")
    if not cases:
        return _text(column)
    absolute = f"{_text(column)} LIKE '/%' OR {_text(column)} LIKE '%://%'"
    return f"(CASE WHEN {absolute} THEN {_text(column)} {' '.join(cases)} ELSE {_text(column)} END)"


def _check_leading_zeros(con: duckdb.DuckDBPyConnection, staged: dict[str, StagedTable]) -> None:
    """Catch ids that lost their leading zeros in one file but not in the catalogue."""
    if "items" not in staged:
        return
    clash = first_row(
        con,
        """
        SELECT e.item_id, c.item_id, min(e.position) FROM stage.typed_events e
        JOIN stage.typed_items c ON ltrim(e.item_id, '0') = ltrim(c.item_id, '0')
        WHERE e.item_id <> c.item_id
          AND e.item_id NOT IN (SELECT item_id FROM stage.typed_items)
        GROUP BY ALL ORDER BY 3 LIMIT 1
        """,
    )
    if clash is None:
        return

    event_id, catalogue_id, position = clash
    source, row = staged["events"].locate(int(position))
    raise DataError(
        "an item id lost its leading zeros: it matches a catalogue id only after padding",
        file=source.origin,
        row=row,
        line=row + source.header_lines,
        column="item_id",
        found=event_id,
        expected=f"the catalogue's id {catalogue_id!r}",
        fix="re-export the file with ids as text (spreadsheets turn '0123' into 123)",
    )


def _assign_ids(con: duckdb.DuckDBPyConnection, staged: dict[str, StagedTable]) -> None:
    """Dense 0-based ids: catalogue (or users table) order first, then order of appearance."""
    item_sources = [
        ("typed_items", "item_id"),
        ("typed_events", "item_id"),
        ("typed_reviews", "item_id"),
        ("typed_queries", "unnest(clicked_items)"),
    ]
    user_sources = [
        ("typed_users", "user_id"),
        ("typed_events", "user_id"),
        ("typed_reviews", "user_id"),
        ("typed_queries", "user_id"),
    ]
    session_sources = [("typed_events", "session_id"), ("typed_queries", "session_id")]
    for kind, sources in (("item", item_sources), ("user", user_sources)):
        _id_map(con, kind, sources, staged)
    _id_map(con, "session", session_sources, staged)


def _id_map(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    sources: list[tuple[str, str]],
    staged: dict[str, StagedTable],
) -> None:
    parts = [
        f"SELECT {expression} AS id, {rank} AS rank, position FROM stage.{table}"
        for rank, (table, expression) in enumerate(sources)
        if table.removeprefix("typed_") in staged
    ]
    # A shop without sessions (or users) still gets an empty map, so every store has all three.
    union = " UNION ALL ".join(parts) or "SELECT NULL::VARCHAR AS id, 0 AS rank, 0 AS position"
    con.execute(
        f"""
        CREATE TABLE {kind}_map AS
        SELECT CAST(row_number() OVER (ORDER BY min(rank), min(position)) - 1 AS INTEGER)
                   AS {kind}_idx,
               id AS {kind}_id
        FROM ({union}) WHERE id IS NOT NULL GROUP BY id ORDER BY {kind}_idx
        """
    )


def _write_tables(con: duckdb.DuckDBPyConnection, staged: dict[str, StagedTable]) -> dict[str, int]:
    """Final tables with dense ids replacing string ids; string ids live in the maps."""
    selects = {
        "events": """
            SELECT u.user_idx, i.item_idx, e.event_type, e.timestamp, s.session_idx,
                   e.value, e.price, e.quantity, e.attributes, e.position
            FROM stage.typed_events e
            JOIN item_map i ON i.item_id = e.item_id
            LEFT JOIN user_map u ON u.user_id = e.user_id
            LEFT JOIN session_map s ON s.session_id = e.session_id
            ORDER BY e.position
        """,
        "items": """
            SELECT i.item_idx, c.* EXCLUDE (item_id, position)
            FROM stage.typed_items c JOIN item_map i USING (item_id)
            ORDER BY i.item_idx
        """,
        "users": """
            SELECT m.user_idx, u.attributes FROM stage.typed_users u JOIN user_map m USING (user_id)
            ORDER BY m.user_idx
        """,
        "reviews": """
            SELECT u.user_idx, i.item_idx, r.rating, r.text, r.timestamp
            FROM stage.typed_reviews r JOIN item_map i USING (item_id)
            LEFT JOIN user_map u USING (user_id)
            ORDER BY r.position
        """,
        "queries": """
            WITH clicks AS (
                SELECT c.position, list(m.item_idx ORDER BY c.rank) AS clicked_items
                FROM (SELECT position, unnest(clicked_items) AS item_id,
                             generate_subscripts(clicked_items, 1) AS rank
                      FROM stage.typed_queries) c
                JOIN item_map m USING (item_id)
                GROUP BY c.position
            )
            SELECT u.user_idx, s.session_idx, q.query, q.timestamp, k.clicked_items
            FROM stage.typed_queries q
            LEFT JOIN clicks k USING (position)
            LEFT JOIN user_map u USING (user_id)
            LEFT JOIN session_map s USING (session_id)
            ORDER BY q.position
        """,
    }
    rows: dict[str, int] = {}
    for name in staged:
        con.execute(f"CREATE TABLE {name} AS {selects[name]}")
        rows[name] = _row_count(con, name)
    return rows


def _write_meta(
    con: duckdb.DuckDBPyConnection, source: ShopSource, steps: list[CleaningStep]
) -> None:
    meta = {
        "store_format": str(STORE_FORMAT),
        "source": source.name,
        "origins": json.dumps([table.origin for table in source.tables]),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cleaning": json.dumps([asdict(step) for step in steps]),
    }
    con.execute("CREATE TABLE mercato_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.executemany("INSERT INTO mercato_meta VALUES (?, ?)", list(meta.items()))
