"""The final tables of a store: staged rows with dense ids in place of string ids.

String ids live only in the three id maps; every other table refers to shoppers, items and
sessions by their dense ids, which is what models index arrays with.
"""

from __future__ import annotations

import duckdb

from mercato.data._schema import CANONICAL_TABLES
from mercato.data._sql import first_row
from mercato.data._validate import StagedTable

__all__ = ["write_events", "write_tables"]

_SMALL_TABLES = {
    "items": """
        SELECT i.item_idx, c.* EXCLUDE (item_id, position)
        FROM stage.items c JOIN item_map i USING (item_id)
        ORDER BY i.item_idx
    """,
    "users": """
        SELECT m.user_idx, u.attributes FROM stage.users u JOIN user_map m USING (user_id)
        ORDER BY m.user_idx
    """,
    "reviews": """
        SELECT u.user_idx, i.item_idx, r.rating, r.text, r.timestamp
        FROM stage.reviews r
        LEFT JOIN item_map i ON i.item_id = r.item_id
        LEFT JOIN user_map u ON u.user_id = r.user_id
        ORDER BY r.position
    """,
    # Clicked items keep their order in the result list; a query whose source had the column
    # but no clicks gets an empty list, one whose source lacked the column gets NULL.
    "queries": """
        WITH clicks AS (
            SELECT c.position, list(m.item_idx ORDER BY c.rank) AS clicked_items
            FROM (SELECT position, unnest(clicked_items) AS item_id,
                         generate_subscripts(clicked_items, 1) AS rank
                  FROM stage.queries) c
            JOIN item_map m USING (item_id)
            GROUP BY c.position
        )
        SELECT u.user_idx, s.session_idx, q.query, q.timestamp,
               CASE WHEN q.clicked_items IS NOT NULL
                    THEN COALESCE(k.clicked_items, []::INTEGER[]) END AS clicked_items,
               q.attributes
        FROM stage.queries q
        LEFT JOIN clicks k ON k.position = q.position
        LEFT JOIN user_map u ON u.user_id = q.user_id
        LEFT JOIN session_map s ON s.session_id = q.session_id
        ORDER BY q.position
    """,
}


def write_events(typed: str, position: str, *, create: bool) -> str:
    """The statement that writes one event source into ``events`` with dense ids.

    Args:
        typed: the source's typed rows (``typed_rows``), aliased ``e``.
        position: the expression for each row's position (it carries the validation guard).
        create: create the table (first source) rather than append to it.
    """
    verb = "CREATE TABLE events AS" if create else "INSERT INTO events"
    # Left joins throughout: a row without an item id must still reach the guard to be named.
    return f"""
        {verb}
        SELECT u.user_idx, i.item_idx, e.event_type, e.timestamp, s.session_idx,
               e.value, e.price, e.quantity, e.attributes, e.position
        FROM (SELECT *, {position} AS position FROM ({typed})) e
        LEFT JOIN item_map i ON i.item_id = e.item_id
        LEFT JOIN user_map u ON u.user_id = e.user_id
        LEFT JOIN session_map s ON s.session_id = e.session_id
    """


def write_tables(con: duckdb.DuckDBPyConnection, staged: dict[str, StagedTable]) -> dict[str, int]:
    """Write the small tables from the stage; the rows of every table, events included."""
    rows: dict[str, int] = {}
    for name in CANONICAL_TABLES:
        if name not in staged:
            continue
        if name in _SMALL_TABLES:
            con.execute(f"CREATE TABLE {name} AS {_SMALL_TABLES[name]}")
        count = first_row(con, f"SELECT count(*) FROM {name}")
        rows[name] = int(count[0]) if count is not None else 0
    return rows
