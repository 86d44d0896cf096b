"""The embedded store: one DuckDB file per shop, with Arrow and Parquet in and out."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from mercato.data._dataset import Dataset
from mercato.data._schema import CANONICAL_TABLES, EventType
from mercato.data._sources import sql_literal
from mercato.data._sql import first_row
from mercato.errors import StoreError

__all__ = ["DEFAULT_STORE", "Store", "StoreSummary", "is_duckdb_file"]

logger = logging.getLogger(__name__)

#: Where the CLI keeps a store when none is named: project-local, beside the user's data.
DEFAULT_STORE = Path(".mercato") / "store.duckdb"


@dataclass(frozen=True)
class StoreSummary:
    """What ``mercato info`` prints about a store."""

    source: str
    rows: dict[str, int]
    event_types: dict[str, int]
    first_event: datetime | None
    last_event: datetime | None
    n_users: int
    n_items: int
    n_sessions: int
    sparsity: float | None
    coverage: dict[str, int]
    repeat_purchase_rate: float | None
    repeat_customer_rate: float | None
    cleaning: list[dict[str, Any]] = field(default_factory=list)


class Store:
    """A mercato store file, opened read-only unless asked otherwise.

    Args:
        path: the DuckDB file written by ``ingest``.

    Raises:
        StoreError: the file does not exist or is not a mercato store.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise StoreError(
                f"{self.path} is a folder, not a store file; point --store at the .duckdb file "
                "written by 'mercato ingest'"
            )
        if not self.path.exists():
            raise StoreError(
                f"no store at {self.path}; run 'mercato ingest SOURCE --format NAME "
                f"--store {self.path}' (or 'mercato demo --store {self.path}') first"
            )
        if not is_duckdb_file(self.path):
            raise StoreError(
                f"{self.path} is not a mercato store (not a DuckDB file at all); point "
                "--store at a file written by 'mercato ingest'"
            )
        try:
            with self.connect() as con:
                meta = dict(con.execute("SELECT key, value FROM mercato_meta").fetchall())
        except duckdb.Error as error:
            raise StoreError(
                f"{self.path} is a DuckDB file but not a mercato store (it has no mercato_meta "
                "table); point --store at a file written by 'mercato ingest'"
            ) from error
        self.meta: dict[str, str] = meta

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A read-only connection; close it (or use it as a context manager) when done."""
        try:
            con = duckdb.connect(str(self.path), read_only=True)
        except duckdb.Error as error:
            reason = str(error).splitlines()[0]
            raise StoreError(
                f"cannot open {self.path} ({reason}); is another process writing it?"
            ) from error
        # Progress is the caller's to show; library code never prints.
        con.execute("SET enable_progress_bar = false")
        return con

    @property
    def tables(self) -> list[str]:
        with self.connect() as con:
            names = {row[0] for row in con.execute("SHOW TABLES").fetchall()}
        return [name for name in CANONICAL_TABLES if name in names]

    def arrow(self, table: str) -> pa.Table:
        """One stored table as Arrow, with string ids joined back in."""
        with self.connect() as con:
            return con.sql(_with_string_ids(table, self.tables)).to_arrow_table()

    def export_parquet(self, folder: Path) -> list[Path]:
        """Write every table (with string ids) as ``<folder>/<table>.parquet``."""
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        with self.connect() as con:
            for table in self.tables:
                target = folder / f"{table}.parquet"
                query = _with_string_ids(table, self.tables)
                con.execute(f"COPY ({query}) TO {sql_literal(target)} (FORMAT parquet)")
                written.append(target)
        return written

    def dataset(self) -> Dataset:
        """Load the whole shop into memory for models and evaluation."""
        with self.connect() as con:
            item_ids = _ids(con, "item")
            user_ids = _ids(con, "user")
            session_ids = _ids(con, "session")
            tables = set(self.tables)
            events = _frame(con, "events", tables)
            items = _indexed(_frame(con, "items", tables), "item_idx", item_ids, "item_id")
            users = _indexed(_frame(con, "users", tables), "user_idx", user_ids, "user_id")
            reviews = _frame(con, "reviews", tables)
            queries = _frame(con, "queries", tables)

        return Dataset(
            name=self.meta.get("source", self.path.stem),
            events=_normalise_events(events),
            items=items,
            users=users,
            reviews=reviews,
            queries=queries,
            item_ids=item_ids,
            user_ids=user_ids,
            session_ids=session_ids,
        )

    def summary(self) -> StoreSummary:
        """Counts, time span, sparsity, modality coverage and repeat-purchase rates."""
        with self.connect() as con:
            tables = self.tables
            rows = {table: _scalar(con, f"SELECT count(*) FROM {table}") for table in tables}
            n_users = _scalar(con, "SELECT count(*) FROM user_map")
            n_items = _scalar(con, "SELECT count(*) FROM item_map")
            n_sessions = _scalar(con, "SELECT count(*) FROM session_map")
            return StoreSummary(
                source=self.meta.get("source", ""),
                rows=rows,
                event_types=_event_types(con, tables),
                first_event=_value(con, "SELECT min(timestamp) FROM events", tables),
                last_event=_value(con, "SELECT max(timestamp) FROM events", tables),
                n_users=n_users,
                n_items=n_items,
                n_sessions=n_sessions,
                sparsity=_sparsity(con, tables, n_users, n_items),
                coverage=_coverage(con, tables),
                repeat_purchase_rate=_repeat_purchase_rate(con, tables),
                repeat_customer_rate=_repeat_customer_rate(con, tables),
                cleaning=json.loads(self.meta.get("cleaning", "[]")),
            )


def is_duckdb_file(path: Path) -> bool:
    """Whether a file starts like a DuckDB database (its magic bytes follow an 8-byte checksum)."""
    with path.open("rb") as handle:
        return handle.read(12)[8:12] == _DUCKDB_MAGIC


_DUCKDB_MAGIC = b"DUCK"


def _with_string_ids(table: str, tables: list[str]) -> str:
    if table not in tables:
        raise StoreError(f"the store has no {table!r} table; it has {', '.join(tables)}")
    joins = {
        "events": "SELECT u.user_id, i.item_id, t.event_type, t.timestamp, s.session_id, "
        "t.value, t.price, t.quantity, t.attributes FROM events t "
        "JOIN item_map i USING (item_idx) LEFT JOIN user_map u USING (user_idx) "
        "LEFT JOIN session_map s USING (session_idx) ORDER BY t.position",
        "items": "SELECT i.item_id, t.* EXCLUDE (item_idx) FROM items t "
        "JOIN item_map i USING (item_idx) ORDER BY t.item_idx",
        "users": "SELECT u.user_id, t.attributes FROM users t JOIN user_map u USING (user_idx) "
        "ORDER BY t.user_idx",
        "reviews": "SELECT u.user_id, i.item_id, t.rating, t.text, t.timestamp FROM reviews t "
        "JOIN item_map i USING (item_idx) LEFT JOIN user_map u USING (user_idx) "
        "ORDER BY t.rowid",
        # Clicked items back to string ids, in their order: one small lookup per list entry.
        "queries": "SELECT u.user_id, s.session_id, t.query, t.timestamp, "
        "CASE WHEN t.clicked_items IS NOT NULL THEN COALESCE("
        "(SELECT list(m.item_id ORDER BY c.rank) FROM "
        "(SELECT unnest(t.clicked_items) AS item_idx, "
        "generate_subscripts(t.clicked_items, 1) AS rank) c "
        "JOIN item_map m USING (item_idx)), []::VARCHAR[]) END AS clicked_items, t.attributes "
        "FROM queries t "
        "LEFT JOIN user_map u USING (user_idx) LEFT JOIN session_map s USING (session_idx) "
        "ORDER BY t.rowid",
    }
    return joins[table]


def _ids(con: duckdb.DuckDBPyConnection, kind: str) -> np.ndarray[Any, np.dtype[np.object_]]:
    rows = con.execute(f"SELECT {kind}_id FROM {kind}_map ORDER BY {kind}_idx").fetchall()
    return np.array([row[0] for row in rows], dtype=object)


def _frame(con: duckdb.DuckDBPyConnection, table: str, tables: set[str]) -> pd.DataFrame:
    if table not in tables:
        spec = CANONICAL_TABLES[table]
        return pd.DataFrame(columns=[column.name for column in spec.columns])
    order = " ORDER BY position" if table == "events" else ""
    return con.execute(f"SELECT * FROM {table}{order}").df()


def _indexed(
    frame: pd.DataFrame,
    key: str,
    ids: np.ndarray[Any, np.dtype[np.object_]],
    id_column: str,
) -> pd.DataFrame:
    """One row per dense id, in id order, with the string id as the first column."""
    if key in frame.columns:
        frame = frame.set_index(key)
    frame = frame.drop(columns=[id_column], errors="ignore")
    frame = frame.reindex(pd.RangeIndex(len(ids), name=key))
    frame.insert(0, id_column, ids)
    return frame


def _normalise_events(events: pd.DataFrame) -> pd.DataFrame:
    if events.empty:
        return events
    events["user_idx"] = events["user_idx"].fillna(-1).astype(np.int32)
    events["item_idx"] = events["item_idx"].astype(np.int32)
    events["session_idx"] = events["session_idx"].fillna(-1).astype(np.int32)
    events["position"] = events["position"].astype(np.int64)
    for column in ("value", "price", "quantity"):
        events[column] = events[column].astype(np.float64)
    return events.reset_index(drop=True)


def _scalar(con: duckdb.DuckDBPyConnection, query: str) -> int:
    row = first_row(con, query)
    return int(row[0]) if row is not None and row[0] is not None else 0


def _value(con: duckdb.DuckDBPyConnection, query: str, tables: list[str]) -> Any:
    if "events" not in tables:
        return None
    row = first_row(con, query)
    return row[0] if row is not None else None


def _event_types(con: duckdb.DuckDBPyConnection, tables: list[str]) -> dict[str, int]:
    if "events" not in tables:
        return {}
    counts = dict(con.execute("SELECT event_type, count(*) FROM events GROUP BY 1").fetchall())
    return {event.value: int(counts[event.value]) for event in EventType if event.value in counts}


def _sparsity(
    con: duckdb.DuckDBPyConnection, tables: list[str], n_users: int, n_items: int
) -> float | None:
    if "events" not in tables or n_users == 0 or n_items == 0:
        return None
    pairs = _scalar(
        con,
        "SELECT count(*) FROM (SELECT DISTINCT user_idx, item_idx FROM events "
        "WHERE user_idx IS NOT NULL)",
    )
    return 1.0 - pairs / (n_users * n_items)


def _coverage(con: duckdb.DuckDBPyConnection, tables: list[str]) -> dict[str, int]:
    """How many items have each modality (a catalogue row with that field filled)."""
    if "items" not in tables:
        return {}
    row = first_row(
        con,
        """
        SELECT count(*),
               count(*) FILTER (WHERE title IS NOT NULL OR description IS NOT NULL),
               count(*) FILTER (WHERE image IS NOT NULL),
               count(*) FILTER (WHERE video IS NOT NULL),
               count(*) FILTER (WHERE price IS NOT NULL),
               count(*) FILTER (WHERE category IS NOT NULL)
        FROM items
        """,
    )
    assert row is not None  # an aggregate always returns one row
    names = ("catalogue", "text", "image", "video", "price", "category")
    return dict(zip(names, (int(value) for value in row), strict=True))


def _repeat_purchase_rate(con: duckdb.DuckDBPyConnection, tables: list[str]) -> float | None:
    """Share of (customer, item) purchase pairs that were bought more than once."""
    if "events" not in tables:
        return None
    row = first_row(
        con,
        """
        SELECT avg(CASE WHEN n > 1 THEN 1.0 ELSE 0.0 END) FROM (
            SELECT count(*) AS n FROM events
            WHERE event_type = 'purchase' AND user_idx IS NOT NULL
            GROUP BY user_idx, item_idx)
        """,
    )
    return float(row[0]) if row is not None and row[0] is not None else None


def _repeat_customer_rate(con: duckdb.DuckDBPyConnection, tables: list[str]) -> float | None:
    """Share of purchasing customers who bought on more than one day (or in >1 session)."""
    if "events" not in tables:
        return None
    row = first_row(
        con,
        """
        SELECT avg(CASE WHEN occasions > 1 THEN 1.0 ELSE 0.0 END) FROM (
            SELECT count(DISTINCT coalesce(CAST(CAST(timestamp AS DATE) AS VARCHAR),
                                           CAST(session_idx AS VARCHAR),
                                           CAST(position AS VARCHAR))) AS occasions
            FROM events WHERE event_type = 'purchase' AND user_idx IS NOT NULL
            GROUP BY user_idx)
        """,
    )
    return float(row[0]) if row is not None and row[0] is not None else None
