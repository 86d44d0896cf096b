"""Validation of raw rows: every problem is reported with its file, row, column and the fix.

Each rule is a SQL predicate that holds on a bad row, written over a source's typed rows (see
``typed_rows``), where every typed column ``c`` has its raw text beside it as ``raw_c``. Checking
costs no pass of its own: the rules are folded into one ``guard`` expression inside the statement
that writes the rows, which raises a marker error on the first bad row it meets. Only then does
``locate_invalid_row`` scan the source once more to find the *first* bad row in file order and
trace it to its file, row and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import duckdb

from mercato.data._schema import EventType
from mercato.data._sources import TableSource
from mercato.data._sql import ROW, first_row, present
from mercato.errors import DataError

__all__ = [
    "INVALID_ROW",
    "Check",
    "StagedTable",
    "checks_for",
    "execute_checked",
    "guard",
    "is_invalid_row",
    "locate_invalid_row",
    "reading_error",
]

#: Marker text of the error that ``guard`` raises inside DuckDB.
INVALID_ROW = "mercato: invalid row"


@dataclass(frozen=True)
class StagedTable:
    """A canonical table read from its sources, with the position range each source filled.

    Positions number the rows of all sources of one table from 0, in source order; source ``i``
    fills positions ``offsets[i]`` to ``offsets[i] + counts[i] - 1``.
    """

    name: str
    sources: tuple[TableSource, ...]
    offsets: tuple[int, ...]
    counts: tuple[int, ...]

    @property
    def rows(self) -> int:
        return sum(self.counts)

    def locate(self, position: int) -> tuple[TableSource, int]:
        """The source and its 1-based data row that ``position`` came from."""
        index = max(i for i, offset in enumerate(self.offsets) if offset <= position)
        return self.sources[index], position - self.offsets[index] + 1

    def error_at(self, position: int, problem: str, **details: Any) -> DataError:
        """A ``DataError`` about the row at ``position``, naming its file, row and line."""
        source, row = self.locate(position)
        return DataError(
            problem, file=source.origin, row=row, line=row + source.header_lines, **details
        )


@dataclass(frozen=True)
class Check:
    """One rule: ``bad`` is a SQL predicate that holds on an invalid row."""

    column: str
    bad: str
    problem: str
    expected: str
    fix: str


def guard(checks: list[Check], value: str) -> str:
    """``value``, or the ``INVALID_ROW`` error on a row that breaks any of the checks."""
    if not checks:
        return value
    broken = " OR ".join(f"({check.bad})" for check in checks)
    return f"(CASE WHEN {broken} THEN error('{INVALID_ROW}') ELSE {value} END)"


def is_invalid_row(error: duckdb.Error) -> bool:
    """Whether a DuckDB error is the one ``guard`` raises."""
    return INVALID_ROW in str(error)


def locate_invalid_row(
    con: duckdb.DuckDBPyConnection, typed: str, checks: list[Check], source: TableSource
) -> DataError:
    """The error for the first row of ``typed`` (a source's typed rows) that breaks a check."""
    firsts = ", ".join(
        f"min({ROW}) FILTER (WHERE {check.bad}), "
        f"arg_min(raw_{check.column}, {ROW}) FILTER (WHERE {check.bad})"
        for check in checks
    )
    found = first_row(con, f"SELECT {firsts} FROM ({typed})")
    assert found is not None  # an aggregate always returns one row
    failures = [
        (found[2 * index], found[2 * index + 1], check)
        for index, check in enumerate(checks)
        if found[2 * index] is not None
    ]
    if not failures:
        # The guard fired but the locating scan found nothing: the source changed in between.
        return DataError(
            "a row broke a rule while being written but not when checked again",
            file=source.origin,
            fix="make sure nothing writes the file while it is ingested, then try again",
        )

    row, value, check = min(failures, key=lambda failure: int(failure[0]))
    return DataError(
        check.problem,
        file=source.origin,
        row=int(row),
        line=int(row) + source.header_lines,
        column=check.column,
        found=value if value is not None and str(value).strip() else "(empty)",
        expected=check.expected,
        fix=check.fix,
    )


def execute_checked(
    con: duckdb.DuckDBPyConnection,
    query: str,
    typed: str,
    checks: list[Check],
    source: TableSource,
) -> int:
    """Run a statement that reads a source; its row count, or a ``DataError`` on bad input."""
    try:
        row = first_row(con, query)
    except duckdb.Error as error:
        if is_invalid_row(error):
            raise locate_invalid_row(con, typed, checks, source) from None
        if isinstance(error, _PROGRAMMING_ERRORS):
            raise  # a fault in the pipeline's own SQL, not in the data
        raise reading_error(error, source) from error
    return int(row[0]) if row is not None else 0


_PROGRAMMING_ERRORS = (
    duckdb.BinderException,
    duckdb.CatalogException,
    duckdb.ParserException,
    duckdb.InternalException,
)

_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")


def reading_error(error: duckdb.Error, source: TableSource) -> DataError:
    """Turn a DuckDB reading error into one sentence about the file and line."""
    text = str(error)
    line_match = _CSV_LINE.search(text)
    line = int(line_match.group(1)) if line_match else None
    original = re.search(r"Original Line: (.*)", text)
    if "unterminated quote" in text.lower():
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
        found=_printable(original.group(1)) if original else None,
        fix="repair or re-export the file (UTF-8, one record per line, consistent delimiter)",
    )


def _printable(text: str) -> str:
    """The start of an offending line, with unreadable bytes shown as '?'."""
    shown = "".join(char if char.isprintable() else "?" for char in text[:80])
    return shown + ("..." if len(text) > 80 else "")


def checks_for(table: str, source: TableSource, columns: frozenset[str]) -> list[Check]:
    """The rules one source of a canonical table must follow, given the columns it provides."""
    checks: list[Check] = []
    if table in ("events", "reviews", "items"):
        checks.append(_required_id("item_id"))
    if table == "users":
        checks.append(_required_id("user_id"))
    if table == "events":
        checks.extend(_event_checks(source, columns))
    if table == "queries":
        checks.append(
            Check(
                "query",
                "query IS NULL",
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
        checks.append(_timestamp_check(source.timestamp_format))
    if "attributes" in columns:
        checks.append(_json_check())
    return checks


def _required_id(column: str) -> Check:
    return Check(
        column,
        f"{column} IS NULL",
        f"{column} is missing",
        "a non-empty id",
        f"fill in {column} or drop the row",
    )


def _event_checks(source: TableSource, columns: frozenset[str]) -> list[Check]:
    known = ", ".join(event.value for event in EventType)
    if source.event_types is not None:
        known = ", ".join(sorted(source.event_types))
    has_user = "user_id IS NOT NULL" if "user_id" in columns else "false"
    has_session = "session_id IS NOT NULL" if "session_id" in columns else "false"
    return [
        Check(
            "event_type",
            "event_type IS NULL",
            "unknown event type",
            f"one of {known}",
            "map the name to an event type in the source config, or drop those rows",
        ),
        Check(
            "user_id",
            f"NOT ({has_user} OR {has_session})",
            "an event has neither a user_id nor a session_id",
            "a user id, or a session id for anonymous shoppers",
            "fill in user_id or session_id",
        ),
    ]


def _number_check(column: str) -> Check:
    return Check(
        column,
        # The typed test comes first: it is cheap and false on almost every row.
        f"{column} IS NULL AND {present('raw_' + column)}",
        "not a number",
        "a finite decimal number such as 12.5",
        f"correct the value or leave {column} empty",
    )


def _negative_price() -> Check:
    return Check(
        "price",
        "price < 0",
        "negative price",
        "a price >= 0",
        "correct the price; refunds belong in their own events, not negative prices",
    )


def _timestamp_check(fmt: str) -> Check:
    return Check(
        "timestamp",
        f"timestamp IS NULL AND {present('raw_timestamp')}",
        "unparseable timestamp",
        f"a timestamp in format {fmt}",
        "fix the value, or set timestamp_format in the source config (iso, unix_s, unix_ms, "
        "date, or a strptime pattern such as %d/%m/%Y %H:%M)",
    )


def _json_check() -> Check:
    return Check(
        "attributes",
        f"attributes IS NULL AND {present('raw_attributes')}",
        "attributes are not valid JSON",
        'a JSON object such as {"colour": "red"}',
        "write attributes as JSON text, or leave the column out",
    )
