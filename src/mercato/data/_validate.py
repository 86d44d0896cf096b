"""Validation of staged raw tables: every problem is reported with its file, row and column.

Each check is a SQL predicate that is true on a bad row. All checks of a table run in one
columnar scan that returns the first bad row of each; only then is the offending row traced back
to its source file and line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from mercato.data._schema import EventType
from mercato.data._sources import TableSource
from mercato.data._sql import event_type_expr, first_row, number_expr, present, timestamp_expr
from mercato.errors import DataError

__all__ = ["Check", "StagedTable", "validate_table"]


@dataclass(frozen=True)
class StagedTable:
    """A canonical table staged as text, with the row range each source filled."""

    name: str
    sources: tuple[TableSource, ...]
    first_rows: tuple[int, ...]
    columns: frozenset[str]

    @property
    def relation(self) -> str:
        return f"stage.{self.name}"

    def locate(self, rowid: int) -> tuple[TableSource, int]:
        """The source and its 1-based data row that staged row ``rowid`` came from."""
        index = max(i for i, first in enumerate(self.first_rows) if first <= rowid)
        return self.sources[index], rowid - self.first_rows[index] + 1


@dataclass(frozen=True)
class Check:
    """One rule: ``bad`` is a SQL predicate that holds on an invalid row."""

    column: str
    bad: str
    problem: str
    expected: str
    fix: str


def validate_table(con: duckdb.DuckDBPyConnection, table: StagedTable) -> None:
    """Raise ``DataError`` for the first row that breaks a rule of its table."""
    checks = _checks_for(table)
    if not checks:
        return

    firsts = ", ".join(f"min(rowid) FILTER (WHERE {check.bad})" for check in checks)
    row = first_row(con, f"SELECT {firsts} FROM {table.relation}")
    assert row is not None  # an aggregate always returns one row
    failures = [
        (rowid, check) for rowid, check in zip(row, checks, strict=True) if rowid is not None
    ]
    if failures:
        rowid, check = min(failures, key=lambda failure: failure[0])
        raise _error_at(con, table, int(rowid), check)


def _error_at(
    con: duckdb.DuckDBPyConnection, table: StagedTable, rowid: int, check: Check
) -> DataError:
    source, row = table.locate(rowid)
    fetched = first_row(
        con, f"SELECT {check.column} FROM {table.relation} WHERE rowid = ?", [rowid]
    )
    found = fetched[0] if fetched is not None else None
    return DataError(
        check.problem,
        file=source.origin,
        row=row,
        line=row + source.header_lines,
        column=check.column,
        found=found if found is not None else "(empty)",
        expected=check.expected,
        fix=check.fix,
    )


def _checks_for(table: StagedTable) -> list[Check]:
    columns = table.columns
    checks: list[Check] = []
    if table.name in ("events", "reviews"):
        checks.append(_required_id("item_id"))
    if table.name in ("items",):
        checks.append(_required_id("item_id"))
    if table.name == "users":
        checks.append(_required_id("user_id"))
    if table.name == "events":
        checks.extend(_event_checks(table))
    if table.name == "queries":
        checks.append(
            Check(
                "query",
                f"NOT {present('query')}",
                "a search query has no text",
                "the query text",
                "drop rows without a query before ingesting",
            )
        )
    for column in ("value", "price", "quantity", "rating"):
        if column in columns:
            checks.append(_number_check(column))
    if "price" in columns:
        checks.append(_negative_price())
    if "timestamp" in columns:
        checks.append(_timestamp_check(table.sources))
    return checks


def _required_id(column: str) -> Check:
    return Check(
        column,
        f"NOT {present(column)}",
        f"{column} is missing",
        "a non-empty id",
        f"fill in {column} or drop the row",
    )


def _event_checks(table: StagedTable) -> list[Check]:
    known = ", ".join(event.value for event in EventType)
    mapping = table.sources[0].event_types
    if mapping is not None:
        known = ", ".join(sorted(mapping))
    checks = [
        Check(
            "event_type",
            f"{event_type_expr('event_type', table.sources)} IS NULL",
            "unknown event type",
            f"one of {known}",
            "map the name to an event type in the source config, or drop those rows",
        )
    ]
    has_user = present("user_id") if "user_id" in table.columns else "false"
    has_session = present("session_id") if "session_id" in table.columns else "false"
    checks.append(
        Check(
            "user_id",
            f"NOT ({has_user} OR {has_session})",
            "an event has neither a user_id nor a session_id",
            "a user id, or a session id for anonymous shoppers",
            "fill in user_id or session_id",
        )
    )
    return checks


def _number_check(column: str) -> Check:
    return Check(
        column,
        f"{present(column)} AND {number_expr(column)} IS NULL",
        "not a number",
        "a decimal number such as 12.5",
        f"correct the value or leave {column} empty",
    )


def _negative_price() -> Check:
    return Check(
        "price",
        f"{number_expr('price')} < 0",
        "negative price",
        "a price >= 0",
        "correct the price; refunds belong in their own events, not negative prices",
    )


def _timestamp_check(sources: Sequence[TableSource]) -> Check:
    formats = sorted({source.timestamp_format for source in sources})
    return Check(
        "timestamp",
        f"{present('timestamp')} AND {timestamp_expr('timestamp', sources)} IS NULL",
        "unparseable timestamp",
        f"a timestamp in format {' or '.join(formats)}",
        "fix the value, or set timestamp_format in the source config (iso, unix_s, unix_ms, "
        "date, or a strptime pattern such as %d/%m/%Y %H:%M)",
    )
