"""The generic adapter: CSV, Parquet, JSONL or DataFrames, mapped by a small config.

A folder holds ``mercato.yaml`` (or SOURCE is that file)::

    name: my-shop
    tables:
      events:
        path: clicks.csv            # relative to the config file
        delimiter: ";"
        timestamp_format: unix_ms   # iso | unix_s | unix_ms | date | a strptime pattern
        columns: {user_id: customer, item_id: sku, event_type: action, timestamp: ts}
        event_types: {pv: view, buy: purchase}
      items:
        path: products.parquet
        columns: {item_id: sku, title: name, price: list_price}

Columns that already carry canonical names need no mapping; every other column of a table that
has ``attributes`` is kept there as JSON. Without a config, a folder's ``events.*``, ``items.*``,
``users.*``, ``reviews.*`` and ``queries.*`` files (or a single events file) are read with
canonical column names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

from mercato.data._schema import CANONICAL_TABLES
from mercato.data._sources import ShopSource, TableSource, csv_scan, sql_literal
from mercato.data._sql import check_timestamp_format
from mercato.data.adapters._base import register
from mercato.errors import ConfigError, DataError

__all__ = ["GenericAdapter", "TableMapping", "frame_source"]

CONFIG_NAME = "mercato.yaml"
FILE_FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet"}
FILE_FORMATS |= {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}


@dataclass(frozen=True)
class TableMapping:
    """How one file or frame maps onto one canonical table.

    Attributes:
        path: the file, relative to the config file (unused for DataFrames).
        format: ``csv``, ``parquet`` or ``jsonl``; inferred from the file ending when empty.
        delimiter: field separator of a CSV file (``\\t`` for tab).
        columns: canonical name -> the file's column name.
        constants: canonical name -> a fixed value for every row (e.g. ``event_type: purchase``).
        timestamp_format: how timestamps are written.
        event_types: the file's event names -> canonical event types.
        list_separator: separator inside a text ``clicked_items`` column.
        keep_other_columns: keep unmapped columns as ``attributes`` JSON.
    """

    path: str | None = None
    format: str | None = None
    delimiter: str = ","
    columns: Mapping[str, str] = field(default_factory=dict)
    constants: Mapping[str, str] = field(default_factory=dict)
    timestamp_format: str = "iso"
    event_types: Mapping[str, str] | None = None
    list_separator: str = "|"
    keep_other_columns: bool = True

    def __post_init__(self) -> None:
        if self.format is not None and self.format not in ("csv", "parquet", "jsonl"):
            raise ConfigError(f"format must be csv, parquet or jsonl, got {self.format!r}")
        if not check_timestamp_format(self.timestamp_format):
            raise ConfigError(
                f"timestamp_format {self.timestamp_format!r} is not iso, unix_s, unix_ms, date "
                "or a strptime pattern such as '%Y-%m-%d %H:%M:%S'"
            )


@register
class GenericAdapter:
    """CSV / Parquet / JSONL files with a column mapping in ``mercato.yaml``."""

    name = "generic"
    description = "CSV, Parquet or JSONL files mapped by a mercato.yaml config"

    def read(self, path: Path) -> ShopSource:
        if path.is_file() and path.suffix in (".yaml", ".yml"):
            return _from_config(path)
        if path.is_dir() and (path / CONFIG_NAME).exists():
            return _from_config(path / CONFIG_NAME)
        if path.is_file():
            return ShopSource(path.stem, (_file_source("events", path, TableMapping()),))
        if path.is_dir():
            return _from_canonical_folder(path)
        raise DataError("no such file or folder", file=path, fix="check the SOURCE path")


def frame_source(
    name: str,
    frames: Mapping[str, object],
    mappings: Mapping[str, TableMapping] | None = None,
) -> ShopSource:
    """Describe in-memory tables (pandas or polars DataFrames, Arrow tables) for ingest.

    Args:
        name: the shop's name.
        frames: canonical table name -> frame.
        mappings: canonical table name -> how its frame's columns map (identity by default).
    """
    mappings = mappings or {}
    tables = []
    for table, frame in frames.items():
        _check_table_name(table)
        mapping = mappings.get(table, TableMapping())
        frame_name = f"mercato_frame_{table}"
        raw = tuple(str(column) for column in _frame_columns(frame, table))
        sql = _select(table, frame_name, raw, mapping, origin=f"{table} frame")
        tables.append(
            TableSource(
                table=table,
                origin=f"the {table} DataFrame",
                sql=sql,
                frames={frame_name: frame},
                timestamp_format=mapping.timestamp_format,
                event_types=mapping.event_types,
                header_lines=0,
            )
        )
    return ShopSource(name, tuple(tables))


def _frame_columns(frame: object, table: str) -> list[Any]:
    columns = getattr(frame, "columns", None)
    if columns is None:
        columns = getattr(frame, "column_names", None)
    if columns is None:
        raise ConfigError(
            f"the {table} frame is a {type(frame).__name__}; pass a pandas or polars DataFrame "
            "or a pyarrow Table"
        )
    return list(columns)


def _from_config(config_path: Path) -> ShopSource:
    try:
        raw = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"{config_path} is not valid YAML: {error}") from error
    if not isinstance(raw, dict) or not isinstance(raw.get("tables"), dict):
        raise ConfigError(f"{config_path} needs a 'tables:' section mapping table names to files")

    sources = []
    for table, settings in raw["tables"].items():
        _check_table_name(table)
        mapping = _mapping_from_yaml(config_path, table, settings)
        if mapping.path is None:
            raise ConfigError(f"{config_path}: table {table!r} needs a 'path:'")
        file = (config_path.parent / mapping.path).resolve()
        sources.append(_file_source(table, file, mapping))
    return ShopSource(str(raw.get("name") or config_path.parent.name), tuple(sources))


def _mapping_from_yaml(config_path: Path, table: str, settings: object) -> TableMapping:
    if not isinstance(settings, dict):
        raise ConfigError(f"{config_path}: table {table!r} must be a mapping with 'path:'")
    known = set(TableMapping.__dataclass_fields__)
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ConfigError(
            f"{config_path}: table {table!r} has unknown setting(s) {', '.join(unknown)}; "
            f"valid settings are {', '.join(sorted(known))}"
        )
    return TableMapping(**settings)


def _from_canonical_folder(folder: Path) -> ShopSource:
    sources = []
    for table in CANONICAL_TABLES:
        for suffix in FILE_FORMATS:
            file = folder / f"{table}{suffix}"
            if file.exists():
                sources.append(_file_source(table, file, TableMapping()))
                break
    if not sources:
        raise DataError(
            "no mercato.yaml and no canonical files (events.csv, items.csv, ...) in the folder",
            file=folder,
            fix="add a mercato.yaml that maps your files, or pass --format for a known format",
        )
    return ShopSource(folder.name, tuple(sources))


def _file_source(table: str, file: Path, mapping: TableMapping) -> TableSource:
    file_format = mapping.format or FILE_FORMATS.get(file.suffix.lower())
    if file_format is None:
        raise DataError(
            "unknown file type",
            file=file,
            found=file.suffix,
            expected="a .csv, .tsv, .parquet or .jsonl file",
            fix="set 'format:' for this table in mercato.yaml",
        )

    required = tuple(mapping.columns.values())
    header_lines = 1
    if file_format == "csv":
        delimiter = "\t" if mapping.delimiter in ("\\t", "tab") else mapping.delimiter
        scan, raw = csv_scan(file, delimiter=delimiter, required=required)
    else:
        scan = (
            f"read_parquet({sql_literal(file)})"
            if file_format == "parquet"
            else f"read_json({sql_literal(file)}, format='newline_delimited')"
        )
        raw = _scan_columns(scan, file)
        header_lines = 0
        missing = [column for column in required if column not in raw]
        if missing:
            raise DataError(
                f"missing column(s) {', '.join(missing)}",
                file=file,
                found=list(raw),
                fix="correct the 'columns:' mapping in mercato.yaml",
            )

    return TableSource(
        table=table,
        origin=str(file),
        sql=_select(table, scan, raw, mapping, origin=str(file)),
        timestamp_format=mapping.timestamp_format,
        event_types=mapping.event_types,
        header_lines=header_lines,
        base_dir=file.parent,
    )


def _scan_columns(scan: str, file: Path) -> tuple[str, ...]:
    if not file.exists() or file.stat().st_size == 0:
        raise DataError("the file is empty or missing", file=file, expected="at least one row")
    try:
        return tuple(duckdb.sql(f"SELECT * FROM {scan} LIMIT 0").columns)
    except duckdb.Error as error:
        raise DataError(
            f"the file could not be read ({str(error).splitlines()[0]})",
            file=file,
            fix="check that the file is complete and of the type its name says",
        ) from error


def _select(
    table: str, scan: str, raw: tuple[str, ...], mapping: TableMapping, *, origin: str
) -> str:
    """SELECT the canonical columns (renamed, constants filled, the rest as attributes)."""
    spec = CANONICAL_TABLES[table]
    columns = dict(mapping.columns)
    for name in spec.column_names:
        if name not in columns and name not in mapping.constants and name in raw:
            columns[name] = name
    unknown = sorted((set(columns) | set(mapping.constants)) - set(spec.column_names))
    if unknown:
        raise ConfigError(
            f"{origin}: {', '.join(unknown)} are not columns of the {table} table; "
            f"its columns are {', '.join(spec.column_names)}"
        )

    parts = [f"{_quote(source)} AS {name}" for name, source in columns.items()]
    if "clicked_items" in columns:
        separator = sql_literal(mapping.list_separator)
        parts[list(columns).index("clicked_items")] = (
            f"string_split(CAST({_quote(columns['clicked_items'])} AS VARCHAR), {separator})"
            " AS clicked_items"
        )
    parts += [f"{sql_literal(value)} AS {name}" for name, value in mapping.constants.items()]
    others = [column for column in raw if column not in columns.values()]
    if (
        mapping.keep_other_columns
        and "attributes" in spec.column_names
        and "attributes" not in columns
    ) and others:
        pairs = ", ".join(f"{sql_literal(column)}, {_quote(column)}" for column in others)
        parts.append(f"CAST(json_object({pairs}) AS VARCHAR) AS attributes")
    return f"SELECT {', '.join(parts)} FROM {scan}"


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _check_table_name(table: str) -> None:
    if table not in CANONICAL_TABLES:
        raise ConfigError(f"unknown table {table!r}; tables are {', '.join(CANONICAL_TABLES)}")
