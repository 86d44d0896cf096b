"""Dense integer ids for a shop's string ids: ``item_map``, ``user_map`` and ``session_map``.

Ids are numbered from 0 in the order the shop shows them: the catalogue (or users table) first, in
its order, then events, reviews and queries in order of first appearance. Events are not staged as
a table (they are read twice, streaming, instead), so their ids come from ``event_ids``: each id's
first position, gathered in one pass over the event sources before the events are written.
"""

from __future__ import annotations

import duckdb

from mercato.data._sql import first_row
from mercato.data._validate import StagedTable

__all__ = ["EVENT_IDS", "ID_KINDS", "assign_ids", "check_lost_zeros", "compact_ids", "event_ids"]

#: The stage table of first positions of the ids in events.
EVENT_IDS = "stage.event_ids"

#: Each kind of id and the staged tables (with their id expression) it occurs in, by rank.
ID_KINDS: dict[str, tuple[tuple[str, str], ...]] = {
    "item": (
        ("items", "item_id"),
        ("events", "item"),
        ("reviews", "item_id"),
        ("queries", "unnest(clicked_items)"),
    ),
    "user": (
        ("users", "user_id"),
        ("events", "user"),
        ("reviews", "user_id"),
        ("queries", "user_id"),
    ),
    "session": (("events", "session"), ("queries", "session_id")),
}

# Positions stay far below 2**48, so rank and position pack into one sortable BIGINT.
_RANK_SHIFT = 48


def event_ids(source_index: int, typed: str, offset: int) -> str:
    """A SELECT of the first position of every item, user and session id in one event source.

    One scan with grouping sets gathers all three kinds, and the empty grouping set counts the
    source's rows (kind ``rows``), which fixes where the next source's positions start.
    """
    return f"""
        SELECT {source_index}::SMALLINT AS source,
               CASE GROUPING(item_id, user_id, session_id)
                   WHEN 3 THEN 'item' WHEN 5 THEN 'user' WHEN 6 THEN 'session' ELSE 'rows'
               END AS kind,
               COALESCE(item_id, user_id, session_id) AS id,
               min(_row) + {offset - 1} AS first,
               count(*) AS n
        FROM ({typed})
        GROUP BY GROUPING SETS ((item_id), (user_id), (session_id), ())
    """


def assign_ids(con: duckdb.DuckDBPyConnection, staged: dict[str, StagedTable]) -> None:
    """Create ``item_map``, ``user_map`` and ``session_map`` from every staged table."""
    for kind, occurrences in ID_KINDS.items():
        parts = [
            _occurrences(kind, table, expression, rank)
            for rank, (table, expression) in enumerate(occurrences)
            if table in staged
        ]
        # A shop without sessions (or users) still gets an empty map, so every store has all three.
        union = " UNION ALL ".join(parts) or "SELECT NULL::VARCHAR AS id, 0::BIGINT AS key"
        con.execute(
            f"""
            CREATE TABLE {kind}_map AS
            SELECT CAST(row_number() OVER (ORDER BY min(key)) - 1 AS INTEGER) AS {kind}_idx,
                   id AS {kind}_id
            FROM ({union}) WHERE id IS NOT NULL GROUP BY id ORDER BY {kind}_idx
            """
        )


def _occurrences(kind: str, table: str, expression: str, rank: int) -> str:
    rank_key = f"({rank}::BIGINT << {_RANK_SHIFT})"
    if table == "events":
        return f"SELECT id, {rank_key} + first AS key FROM {EVENT_IDS} WHERE kind = '{expression}'"
    return f"SELECT {expression} AS id, {rank_key} + position AS key FROM stage.{table}"


def check_lost_zeros(con: duckdb.DuckDBPyConnection, staged: dict[str, StagedTable]) -> None:
    """Catch event ids that match a catalogue (or users table) id only once zeros are stripped.

    A spreadsheet that saved one file turns '0123' into 123; the events then name items the
    catalogue does not have, and every model would quietly treat them as new items.
    """
    for kind, table in (("item", "items"), ("user", "users")):
        if table in staged and "events" in staged:
            _check_lost_zeros(con, kind, table, staged["events"])


def _check_lost_zeros(
    con: duckdb.DuckDBPyConnection, kind: str, table: str, events: StagedTable
) -> None:
    column = f"{kind}_id"
    clash = first_row(
        con,
        f"""
        SELECT e.id, c.{column}, e.first
        FROM (SELECT id, min(first) AS first FROM {EVENT_IDS} WHERE kind = '{kind}'
              GROUP BY id) e
        JOIN (SELECT DISTINCT {column} FROM stage.{table}) c
          ON ltrim(e.id, '0') = ltrim(c.{column}, '0')
        WHERE e.id <> c.{column} AND ltrim(c.{column}, '0') <> ''
          AND e.id NOT IN (SELECT {column} FROM stage.{table} WHERE {column} IS NOT NULL)
        ORDER BY e.first LIMIT 1
        """,
    )
    if clash is None:
        return

    event_id, listed_id, position = clash
    raise events.error_at(
        int(position),
        f"the {kind} id matches an id of the {table} table only when leading zeros are ignored",
        column=column,
        found=event_id,
        expected=f"the {table} table's id {listed_id!r}",
        fix="one file lost its leading zeros (spreadsheets turn '0123' into 123): "
        "re-export it with the ids as text",
    )


def compact_ids(con: duckdb.DuckDBPyConnection, staged: dict[str, StagedTable]) -> None:
    """Renumber ids densely after cleaning dropped events, keeping their order.

    An id survives while any table still refers to it: the catalogue and users table keep all of
    theirs, events only those of the events left.
    """
    remapped = [kind for kind in ID_KINDS if _shrink_map(con, kind, staged)]
    if not remapped:
        return

    columns = []
    joins = []
    for kind in ("user", "item", "session"):
        if kind in remapped:
            columns.append(f"{kind}_renumber.new_idx AS {kind}_idx")
            joins.append(f"LEFT JOIN {kind}_renumber ON {kind}_renumber.old_idx = e.{kind}_idx")
        else:
            columns.append(f"e.{kind}_idx")
    con.execute(
        f"""
        CREATE TABLE events_compact AS
        SELECT {columns[0]}, {columns[1]}, e.event_type, e.timestamp, {columns[2]},
               e.value, e.price, e.quantity, e.attributes, e.position
        FROM events e {" ".join(joins)}
        """
    )
    con.execute("DROP TABLE events")
    con.execute("ALTER TABLE events_compact RENAME TO events")


def _shrink_map(con: duckdb.DuckDBPyConnection, kind: str, staged: dict[str, StagedTable]) -> bool:
    """Drop the ids no table refers to any more; whether any went (``<kind>_renumber`` then)."""
    used = [f"SELECT {kind}_idx AS idx FROM events"]
    for table, expression in ID_KINDS[kind]:
        if table != "events" and table in staged:
            used.append(
                f"SELECT m.{kind}_idx FROM (SELECT {expression} AS id FROM stage.{table}) t "
                f"JOIN {kind}_map m ON m.{kind}_id = t.id"
            )
    con.execute(
        f"""
        CREATE TEMP TABLE {kind}_renumber AS
        SELECT {kind}_idx AS old_idx,
               CAST(row_number() OVER (ORDER BY {kind}_idx) - 1 AS INTEGER) AS new_idx
        FROM {kind}_map WHERE {kind}_idx IN ({" UNION ".join(used)})
        """
    )
    kept = first_row(con, f"SELECT count(*) FROM {kind}_renumber")
    total = first_row(con, f"SELECT count(*) FROM {kind}_map")
    assert kept is not None and total is not None  # aggregates always return one row
    if kept[0] == total[0]:
        return False

    con.execute(
        f"""
        CREATE TABLE {kind}_map_compact AS
        SELECT r.new_idx AS {kind}_idx, m.{kind}_id FROM {kind}_map m
        JOIN {kind}_renumber r ON r.old_idx = m.{kind}_idx ORDER BY r.new_idx
        """
    )
    con.execute(f"DROP TABLE {kind}_map")
    con.execute(f"ALTER TABLE {kind}_map_compact RENAME TO {kind}_map")
    return True
