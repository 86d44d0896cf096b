"""What an adapter hands to the ingest pipeline: raw tables described as SQL over files or frames.

An adapter never parses values itself. It says where each canonical table comes from (a SELECT
over the raw file that renames columns to canonical names, values still as text) and how to read
the text (timestamp format, event-type names). The pipeline then stages, validates, converts and
stores every source the same way, so every format gets the same checks and the same messages.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mercato.errors import DataError, SchemaError

__all__ = ["ShopSource", "TableSource", "csv_scan", "read_header", "sql_literal"]

#: How a text timestamp is read: ISO 8601, seconds or milliseconds since the epoch, a date, or
#: any other strptime pattern (e.g. ``"%d/%m/%Y %H:%M"``).
TIMESTAMP_FORMATS = ("iso", "unix_s", "unix_ms", "date")


@dataclass(frozen=True)
class TableSource:
    """One raw input for one canonical table.

    Attributes:
        table: canonical table name (``events``, ``items``, ``users``, ``reviews``, ``queries``).
        origin: the file (or frame name) shown in error messages.
        sql: a SELECT producing canonical column names; values may still be text.
        frames: Python objects (pandas / polars DataFrames, Arrow tables) the SQL refers to by
            name; they are registered on the connection before the SQL runs.
        timestamp_format: how text timestamps are read (see ``TIMESTAMP_FORMATS``).
        event_types: raw event name -> canonical ``EventType`` value; ``None`` when the source
            already uses canonical names.
        header_lines: lines before the first data row, so that data row N is file line
            N + header_lines in messages.
        base_dir: folder that relative image and video paths are resolved against.
        allow_duplicates: identical rows are genuine in this format (H&M, for one, writes a
            row per unit bought), so they are neither an error nor removed by ``dedupe``.
    """

    table: str
    origin: str
    sql: str
    frames: Mapping[str, object] = field(default_factory=dict)
    timestamp_format: str = "iso"
    event_types: Mapping[str, str] | None = None
    header_lines: int = 1
    base_dir: Path | None = None
    allow_duplicates: bool = False


@dataclass(frozen=True)
class ShopSource:
    """Everything one adapter read from one source: the name of the shop and its tables."""

    name: str
    tables: tuple[TableSource, ...]

    def for_table(self, table: str) -> tuple[TableSource, ...]:
        return tuple(source for source in self.tables if source.table == table)


def sql_literal(value: str | Path) -> str:
    """Quote a string for inclusion in SQL (paths may contain quotes)."""
    return "'" + str(value).replace("'", "''") + "'"


def csv_scan(
    path: Path,
    *,
    delimiter: str = ",",
    required: tuple[str, ...] = (),
    names: tuple[str, ...] | None = None,
) -> tuple[str, tuple[str, ...]]:
    """A DuckDB ``read_csv`` call that streams a delimited file with every column as text.

    The header is read here, not sniffed by DuckDB, so that a broken row further down is reported
    with its line number and a wrong delimiter or a missing column is named before anything runs.
    Reading as text keeps leading zeros in ids and defers every conversion to the pipeline.

    Args:
        path: the file.
        delimiter: the field separator.
        required: raw column names the adapter refers to; a missing one is a ``SchemaError``.
        names: column names for a file without a header line.

    Returns:
        The ``read_csv(...)`` expression and the file's column names.
    """
    columns = names if names is not None else read_header(path, delimiter)
    missing = [name for name in required if name not in columns]
    if missing:
        raise _missing_columns_error(path, delimiter, columns, missing)
    if names is None:
        _check_delimiter(path, delimiter, columns)

    spec = ", ".join(f"{sql_literal(name)}: 'VARCHAR'" for name in columns)
    options = [
        sql_literal(path),
        f"delim={sql_literal(delimiter)}",
        f"header={'false' if names is not None else 'true'}",
        f"columns={{{spec}}}",
        "auto_detect=false",
        "quote='\"'",
        "escape='\"'",
        "strict_mode=true",
        "null_padding=false",
    ]
    return f"read_csv({', '.join(options)})", columns


def read_header(path: Path, delimiter: str) -> tuple[str, ...]:
    """The column names in the first line of a delimited file, with clear errors for bad files."""
    if not path.exists():
        raise DataError("file not found", file=path, fix="check the path and the --format")
    if path.stat().st_size == 0:
        raise DataError(
            "the file is empty", file=path, expected="a header line and at least one row"
        )

    with path.open("rb") as handle:
        first = handle.readline()
    try:
        line = first.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError as error:
        raise DataError(
            "the header line is not UTF-8 text; the file looks garbled or binary",
            file=path,
            row=None,
            found=first[:40],
            expected="a UTF-8 delimited text file",
            fix="re-export the file as UTF-8 CSV",
        ) from error

    return tuple(next(csv.reader([line], delimiter=delimiter)))


def _missing_columns_error(
    path: Path, delimiter: str, columns: tuple[str, ...], missing: list[str]
) -> SchemaError:
    """Name the missing columns, and the likely delimiter when the header did not split."""
    _check_delimiter(path, delimiter, columns)
    return SchemaError(
        f"missing required column(s) {', '.join(missing)}",
        file=path,
        found=list(columns),
        expected=f"columns {', '.join(missing)}",
        fix="rename the columns in the file or map them in the source config",
    )


def _check_delimiter(path: Path, delimiter: str, columns: tuple[str, ...]) -> None:
    """A header that stayed one column but holds another separator means the wrong delimiter."""
    if len(columns) != 1:
        return
    for candidate in (",", ";", "\t", "|"):
        if candidate != delimiter and candidate in columns[0]:
            raise SchemaError(
                "the header did not split into columns with the expected delimiter",
                file=path,
                found=columns[0][:80],
                expected=f"fields separated by {delimiter!r}",
                fix=f"the file looks {candidate!r}-separated: set delimiter: {candidate!r} for "
                "this table in mercato.yaml",
            )
