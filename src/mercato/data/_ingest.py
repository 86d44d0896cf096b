"""The ingest pipeline: read and validate -> assign dense ids -> write events -> clean -> store.

Every step runs inside DuckDB under a memory limit, so a file far larger than memory is never
loaded whole. The small tables (catalogue, users, reviews, queries) are staged typed; events, the
big one, are never staged: one streaming pass gathers their ids, a second writes them straight
into the store with dense ids, checking every rule on the way. The store is written under a
temporary name and swapped in with one atomic rename: a failed ingest leaves the previous store
exactly as it was, and nothing else behind.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from mercato.data._clean import CleaningConfig, CleaningStep, clean_events, reject_duplicates
from mercato.data._ids import EVENT_IDS, assign_ids, check_lost_zeros, compact_ids, event_ids
from mercato.data._progress import Phases
from mercato.data._schema import CANONICAL_TABLES
from mercato.data._sources import ShopSource, TableSource, sql_literal
from mercato.data._sql import first_row, typed_rows
from mercato.data._store import is_duckdb_file
from mercato.data._validate import (
    StagedTable,
    checks_for,
    execute_checked,
    guard,
    reading_error,
)
from mercato.data._write import write_events, write_tables
from mercato.errors import DataError, SchemaError, StoreError

__all__ = ["STORE_FORMAT", "IngestReport", "ingest"]

logger = logging.getLogger(__name__)

#: Version of the store layout, written into every store's ``mercato_meta`` table.
STORE_FORMAT = 1

#: The tables staged whole (small next to events), in the order their ids are numbered.
SMALL_TABLES = ("items", "users", "reviews", "queries")


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
    store: Path | str,
    *,
    cleaning: CleaningConfig | None = None,
    memory_limit: str = "1GB",
    threads: int | None = None,
    progress: bool = False,
) -> IngestReport:
    """Validate, clean and store one shop's tables in a DuckDB file, atomically.

    Args:
        source: the tables an adapter described.
        store: the DuckDB file to write; an existing store is replaced only on success.
        cleaning: which cleaning steps to run (none by default).
        memory_limit: DuckDB's memory limit (e.g. ``"500MB"``); beyond it DuckDB spills to a
            temporary folder beside the store. Peak memory is about this plus the Python
            libraries; 10 million events ingest as fast under 500MB as under 2GB.
        threads: DuckDB worker threads; all cores by default.
        progress: show a progress bar per phase.

    Returns:
        What was written.

    Raises:
        DataError: the input is invalid; the message names file, row, column and the fix.
        StoreError: ``store`` is a folder, or a file that is not a mercato store.
    """
    started = time.perf_counter()
    cleaning = cleaning or CleaningConfig()
    store = Path(store)
    _check_replaceable(store)
    created = _make_parent(store.parent)
    token = uuid.uuid4().hex[:8]
    partial = store.with_name(f".{store.name}.{token}.partial")
    spill = store.with_name(f".{store.name}.{token}.tmp")

    succeeded = False
    try:
        with _connect(partial, spill, memory_limit, threads) as con:
            rows, steps = _run(con, source, cleaning, progress)
            _write_meta(con, source, steps)
        # A stale log of an older store would be replayed onto the new file.
        Path(f"{store}.wal").unlink(missing_ok=True)
        partial.replace(store)
        succeeded = True
    finally:
        Path(f"{partial}.wal").unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
        shutil.rmtree(spill, ignore_errors=True)
        if not succeeded:
            for folder in reversed(created):
                _remove_if_empty(folder)

    seconds = time.perf_counter() - started
    logger.info("ingested %s into %s in %.1fs: %s", source.name, store, seconds, rows)
    return IngestReport(str(store), source.name, rows, steps, seconds)


def _check_replaceable(store: Path) -> None:
    """Refuse to overwrite a folder or a file that is not a mercato store (a CSV, say)."""
    if store.is_dir():
        raise StoreError(f"{store} is a folder; name the store file, e.g. {store / 'shop.duckdb'}")
    if not store.exists():
        return
    if not is_duckdb_file(store):
        raise StoreError(
            f"{store} exists and is not a mercato store, so ingest will not overwrite it; "
            "pick another --store or delete the file"
        )
    try:
        with duckdb.connect(str(store), read_only=True) as con:
            con.execute("SELECT value FROM mercato_meta WHERE key = 'store_format'").fetchall()
    except duckdb.IOException as error:
        raise StoreError(
            f"cannot replace {store}: it is open in another process "
            f"({str(error).splitlines()[0]}); close that process and try again"
        ) from error
    except duckdb.Error as error:
        raise StoreError(
            f"{store} exists and is not a mercato store, so ingest will not overwrite it "
            f"({str(error).splitlines()[0]}); pick another --store or delete the file"
        ) from error


def _make_parent(folder: Path) -> list[Path]:
    """Create the store's folder; the folders created, outermost first, to undo on failure."""
    missing = [folder, *folder.parents]
    created = [path for path in missing if not path.exists()][::-1]
    folder.mkdir(parents=True, exist_ok=True)
    return created


def _remove_if_empty(folder: Path) -> None:
    # Not empty, or already gone: leave it.
    with contextlib.suppress(OSError):
        folder.rmdir()


@contextmanager
def _connect(
    partial: Path, spill: Path, memory_limit: str, threads: int | None
) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(partial))
    try:
        con.execute(f"SET memory_limit = {sql_literal(memory_limit)}")
        if threads is not None:
            con.execute(f"SET threads = {int(threads)}")
        con.execute(f"SET temp_directory = {sql_literal(spill)}")
        # Row numbers follow the source only while insertion order is preserved.
        con.execute("SET preserve_insertion_order = true")
        # Text with a UTC offset is read through TIMESTAMPTZ; UTC makes the result naive UTC.
        con.execute("SET TimeZone = 'UTC'")
        # Progress is the caller's to show (``progress=True``); library code never prints.
        con.execute("SET enable_progress_bar = false")
        # DuckDB guesses a CSV scan at a few dozen rows and would then build its hash tables on
        # the ten million events instead of the id maps; every join here lists the big side
        # first, so the plan is taken as written.
        con.execute("SET disabled_optimizers = 'join_order,build_side_probe_side'")
        # The small tables and the ids of events are staged in memory (spilled under the limit).
        con.execute("ATTACH ':memory:' AS stage")
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
    if not tables:
        raise SchemaError(
            f"source {source.name!r} describes no table",
            expected="at least one of events, items, users, reviews or queries",
        )

    staged: dict[str, StagedTable] = {}
    steps: list[CleaningStep] = []
    # One phase per table read, then ids, and for events writing and cleaning, then the store.
    phases_total = len(tables) + (4 if "events" in tables else 2)
    with Phases(progress, total=phases_total) as phases:
        for name in (table for table in SMALL_TABLES if table in tables):
            phases.step(f"reading {name}")
            staged[name] = _stage(con, name, source.for_table(name))
        if "events" in tables:
            phases.step("reading event ids")
            staged["events"] = _gather_event_ids(con, source.for_table("events"))

        phases.step("assigning ids")
        assign_ids(con, staged)
        check_lost_zeros(con, staged)

        if "events" in staged:
            phases.step("writing events")
            _write_events(con, staged["events"])
            phases.step("cleaning")
            steps = _clean(con, staged["events"], cleaning)
            if any(step.removed for step in steps):
                compact_ids(con, staged)

        phases.step("writing the store")
        rows = write_tables(con, staged)
    return rows, steps


def _columns(con: duckdb.DuckDBPyConnection, name: str, source: TableSource) -> frozenset[str]:
    """The canonical columns a source provides, or a ``SchemaError`` naming the wrong ones."""
    for frame_name, frame in source.frames.items():
        con.register(frame_name, frame)
    try:
        columns = tuple(con.sql(f"SELECT * FROM ({source.sql}) LIMIT 0").columns)
    except duckdb.Error as error:
        raise reading_error(error, source) from error

    spec = CANONICAL_TABLES[name]
    missing = [column for column in spec.required if column not in columns]
    unknown = sorted(set(columns) - set(spec.column_names))
    if missing or unknown:
        problem = (
            f"missing required column(s) {', '.join(missing)}"
            if missing
            else f"column(s) {', '.join(unknown)} are not part of the {name} table"
        )
        raise SchemaError(
            problem,
            file=source.origin,
            found=list(columns),
            expected=f"the {name} columns {', '.join(spec.column_names)}, "
            f"with {', '.join(spec.required)} required",
            fix="rename the columns in the file or map them onto the canonical names in the "
            "source config (mercato.yaml)",
        )
    return frozenset(columns)


def _stage(
    con: duckdb.DuckDBPyConnection, name: str, sources: tuple[TableSource, ...]
) -> StagedTable:
    """Read every source of a small table, typed and validated, into ``stage.<name>``."""
    spec = CANONICAL_TABLES[name]
    offsets: list[int] = []
    counts: list[int] = []
    for index, source in enumerate(sources):
        columns = _columns(con, name, source)
        typed = typed_rows(name, source, columns)
        checks = checks_for(name, source, columns)
        offset = sum(counts)
        select = ", ".join(spec.column_names)
        position = guard(checks, f"_row + {offset - 1}")
        query = f"SELECT {select}, {position} AS position FROM ({typed})"
        verb = f"INSERT INTO stage.{name} " if index else f"CREATE TABLE stage.{name} AS "
        counts.append(execute_checked(con, verb + query, typed, checks, source))
        offsets.append(offset)
        logger.debug("staged %d %s rows from %s", counts[-1], name, source.origin)

    table = StagedTable(name, sources, tuple(offsets), tuple(counts))
    _require_rows(table)
    if name in ("items", "users"):
        _reject_repeated_ids(con, table, spec.required[0])
    return table


def _gather_event_ids(
    con: duckdb.DuckDBPyConnection, sources: tuple[TableSource, ...]
) -> StagedTable:
    """First pass over the events: where each id first occurs, and how many rows each source has."""
    offsets: list[int] = []
    counts: list[int] = []
    for index, source in enumerate(sources):
        # Only the id columns are read: the rest waits for the second pass.
        ids = _columns(con, "events", source) & {"item_id", "user_id", "session_id"}
        typed = typed_rows("events", source, ids)
        offset = sum(counts)
        query = event_ids(index, typed, offset)
        verb = f"INSERT INTO {EVENT_IDS} " if index else f"CREATE TABLE {EVENT_IDS} AS "
        execute_checked(con, verb + query, typed, [], source)
        count = first_row(
            con, f"SELECT n FROM {EVENT_IDS} WHERE source = ? AND kind = 'rows'", [index]
        )
        counts.append(int(count[0]) if count is not None else 0)
        offsets.append(offset)

    table = StagedTable("events", sources, tuple(offsets), tuple(counts))
    _require_rows(table)
    return table


def _write_events(con: duckdb.DuckDBPyConnection, events: StagedTable) -> None:
    """Second pass over the events: validated, typed and with dense ids, into ``events``."""
    for index, source in enumerate(events.sources):
        columns = _columns(con, "events", source)
        typed = typed_rows("events", source, columns)
        checks = checks_for("events", source, columns)
        position = guard(checks, f"_row + {events.offsets[index] - 1}")
        query = write_events(typed, position, create=index == 0)
        execute_checked(con, query, typed, checks, source)
        logger.debug("wrote %d events from %s", events.counts[index], source.origin)


def _clean(
    con: duckdb.DuckDBPyConnection, events: StagedTable, cleaning: CleaningConfig
) -> list[CleaningStep]:
    genuine_repeats = all(source.allow_duplicates for source in events.sources)
    if not cleaning.dedupe and not genuine_repeats:
        reject_duplicates(con, events)
    if genuine_repeats and cleaning.dedupe:
        # Identical rows are real in such formats (a row per unit bought): never dropped.
        logger.info("dedupe skipped: %s writes identical rows on purpose", events.sources[0].origin)
        cleaning = replace(cleaning, dedupe=False)
    return clean_events(con, cleaning)


def _require_rows(table: StagedTable) -> None:
    if table.rows == 0:
        raise DataError(
            f"no {table.name} rows were found",
            file=", ".join(source.origin for source in table.sources),
            expected="at least one data row after the header",
            fix="check that the file is the right one and not cut off",
        )


def _reject_repeated_ids(con: duckdb.DuckDBPyConnection, table: StagedTable, key: str) -> None:
    """One row per item in a catalogue (per user in a users table), or a ``DataError``."""
    repeat = first_row(
        con,
        f"SELECT {key}, list(position ORDER BY position)[2] FROM stage.{table.name} "
        f"GROUP BY {key} HAVING count(*) > 1 ORDER BY min(position) LIMIT 1",
    )
    if repeat is None:
        return

    value, position = repeat
    raise table.error_at(
        int(position),
        f"{key} occurs more than once in the {table.name} table",
        column=key,
        found=value,
        expected=f"one row per {key}",
        fix="merge or drop the repeated rows",
    )


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
    rows = ", ".join("(?, ?)" for _ in meta)
    con.execute(
        f"INSERT INTO mercato_meta VALUES {rows}", [part for pair in meta.items() for part in pair]
    )
