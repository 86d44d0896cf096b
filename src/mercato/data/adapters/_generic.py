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

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import yaml

from mercato.data._schema import CANONICAL_TABLES, EventType
from mercato.data._sources import ShopSource, TableSource, csv_scan, sql_literal
from mercato.data._sql import check_timestamp_format
from mercato.data.adapters._base import register
from mercato.data.adapters._columns import attributes, quote
from mercato.errors import ConfigError, DataError, SchemaError

__all__ = ["GenericAdapter", "TableMapping", "frame_source"]

logger = logging.getLogger(__name__)

CONFIG_NAME = "mercato.yaml"
FILE_FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet"}
FILE_FORMATS |= {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}


@dataclass(frozen=True)
class TableMapping:
    """How one file or frame maps onto one canonical table.

    Attributes:
        path: the file, relative to the config file (unused for DataFrames).
        format: ``csv``, ``parquet`` or ``jsonl``; inferred from the file ending when empty.
        delimiter: field separator of a CSV file (``\\t`` or ``tab`` for tab); by default a tab
            for ``.tsv`` files and a comma otherwise.
        columns: canonical name -> the file's column name.
        constants: canonical name -> a fixed value for every row (e.g. ``event_type: purchase``).
        timestamp_format: how timestamps are written.
        event_types: the file's event names -> canonical event types.
        list_separator: separator inside a text ``clicked_items`` column.
        keep_other_columns: keep unmapped columns as ``attributes`` JSON.
        allow_duplicates: identical rows are genuine (one row per unit bought, a session that
            views an item twice without timestamps), so they are neither an error nor deduped.
    """

    path: str | None = None
    format: str | None = None
    delimiter: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    constants: Mapping[str, str] = field(default_factory=dict)
    timestamp_format: str = "iso"
    event_types: Mapping[str, str] | None = None
    list_separator: str = "|"
    keep_other_columns: bool = True
    allow_duplicates: bool = False

    def __post_init__(self) -> None:
        if self.format is not None and self.format not in ("csv", "parquet", "jsonl"):
            raise ConfigError(f"format must be csv, parquet or jsonl, got {self.format!r}")
        if not check_timestamp_format(self.timestamp_format):
            raise ConfigError(
                f"timestamp_format {self.timestamp_format!r} is not iso, unix_s, unix_ms, date "
                "or a strptime pattern such as '%Y-%m-%d %H:%M:%S'"
            )
        both = sorted(set(self.columns) & set(self.constants))
        if both:
            raise ConfigError(
                f"{', '.join(both)} are given both a column and a constant; keep one of the two"
            )
        canonical = [event.value for event in EventType]
        unknown = sorted(set((self.event_types or {}).values()) - set(canonical))
        if unknown:
            raise ConfigError(
                f"event_types maps to {', '.join(map(repr, unknown))}, which are not event "
                f"types; map each raw name to one of {', '.join(canonical)}"
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
        _check_frame(frame, table)
        origin = f"the {table} DataFrame"
        types = _describe(frame_name, {frame_name: frame}, origin=origin)
        sql = _select(table, frame_name, types, mapping, origin=origin)
        tables.append(
            TableSource(
                table=table,
                origin=origin,
                sql=sql,
                frames={frame_name: frame},
                timestamp_format=mapping.timestamp_format,
                event_types=mapping.event_types,
                header_lines=0,
                allow_duplicates=mapping.allow_duplicates,
            )
        )
    return ShopSource(name, tuple(tables))


def _check_frame(frame: object, table: str) -> None:
    """A ``ConfigError`` for an object that is not a pandas / polars DataFrame or Arrow table."""
    if not (hasattr(frame, "columns") or hasattr(frame, "column_names")):
        raise ConfigError(
            f"the {table} frame is a {type(frame).__name__}; pass a pandas or polars DataFrame "
            "or a pyarrow Table"
        )


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
    # YAML reads `value: 5` or `1: view` as numbers; every name and value there is text.
    for name in ("columns", "constants", "event_types"):
        if isinstance(settings.get(name), dict):
            settings = {**settings, name: {str(k): str(v) for k, v in settings[name].items()}}
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

    if file_format == "csv":
        scan, types = _csv_columns(file, mapping)
        header_lines = 1
    else:
        scan, types = _typed_file_columns(file, file_format, mapping)
        header_lines = 0

    return TableSource(
        table=table,
        origin=str(file),
        sql=_select(table, scan, types, mapping, origin=str(file)),
        timestamp_format=mapping.timestamp_format,
        event_types=mapping.event_types,
        header_lines=header_lines,
        base_dir=file.parent,
        allow_duplicates=mapping.allow_duplicates,
    )


def _csv_columns(file: Path, mapping: TableMapping) -> tuple[str, dict[str, str]]:
    """The scan of a delimited file and its columns, all text."""
    delimiter = mapping.delimiter
    if delimiter is None:
        delimiter = "\t" if file.suffix.lower() == ".tsv" else ","
    elif delimiter in ("\\t", "tab"):
        delimiter = "\t"
    scan, raw = csv_scan(file, delimiter=delimiter, required=tuple(mapping.columns.values()))
    return scan, dict.fromkeys(raw, "VARCHAR")


def _typed_file_columns(
    file: Path, file_format: str, mapping: TableMapping
) -> tuple[str, dict[str, str]]:
    """The scan of a Parquet or JSON file and its columns with their types."""
    if not file.exists() or file.stat().st_size == 0:
        raise DataError("the file is empty or missing", file=file, expected="at least one row")
    # format='auto' reads JSON lines and a JSON array of records alike.
    scan = (
        f"read_parquet({sql_literal(file)})"
        if file_format == "parquet"
        else f"read_json({sql_literal(file)}, format='auto')"
    )
    types = _describe(scan, {}, origin=str(file))
    missing = [column for column in mapping.columns.values() if column not in types]
    if missing:
        raise SchemaError(
            f"missing column(s) {', '.join(missing)}",
            file=file,
            found=list(types),
            fix="correct the 'columns:' mapping in mercato.yaml",
        )
    return scan, types


def _describe(relation: str, frames: Mapping[str, object], *, origin: str) -> dict[str, str]:
    """Column name -> DuckDB type of a file scan or a frame, read without reading its rows."""
    with duckdb.connect() as con:
        for name, frame in frames.items():
            con.register(name, frame)
        try:
            described = con.sql(f"SELECT * FROM {relation} LIMIT 0")
        except duckdb.Error as error:
            raise DataError(
                f"the data could not be read ({str(error).splitlines()[0]})",
                file=origin,
                fix="check that the file is complete and of the type its name says",
            ) from error
        names, kinds = described.columns, described.types
        return {str(name): str(kind) for name, kind in zip(names, kinds, strict=True)}


def _select(
    table: str, scan: str, types: Mapping[str, str], mapping: TableMapping, *, origin: str
) -> str:
    """SELECT the canonical columns (renamed, constants filled, the rest as attributes)."""
    spec = CANONICAL_TABLES[table]
    columns = dict(mapping.columns)
    for name in spec.column_names:
        if name not in columns and name not in mapping.constants and name in types:
            columns[name] = name
    unknown = sorted((set(columns) | set(mapping.constants)) - set(spec.column_names))
    if unknown:
        raise ConfigError(
            f"{origin}: {', '.join(unknown)} are not columns of the {table} table; "
            f"its columns are {', '.join(spec.column_names)}"
        )

    parts = [
        f"{_clicked_items(quote(source), types[source], mapping.list_separator)} AS {name}"
        if name == "clicked_items"
        else f"{quote(source)} AS {name}"
        for name, source in columns.items()
    ]
    parts += [f"{sql_literal(value)} AS {name}" for name, value in mapping.constants.items()]
    others = [column for column in types if column not in columns.values()]
    if others and mapping.keep_other_columns and "attributes" not in columns:
        if "attributes" in spec.column_names:
            parts.append(attributes({column: quote(column) for column in others}))
        else:
            logger.warning(
                "%s: the %s table has no attributes column, so %s are not kept",
                origin,
                table,
                ", ".join(others),
            )
    return f"SELECT {', '.join(parts)} FROM {scan}"


def _clicked_items(column: str, kind: str, separator: str) -> str:
    """Clicked item ids as a list: a list column as it is, text split on ``separator``."""
    if kind.endswith("[]"):
        return column
    # 'a| b|' holds two ids: blanks around ids and empty pieces are not ids.
    split = f"string_split(CAST({column} AS VARCHAR), {sql_literal(separator)})"
    ids = f"list_filter({split}, lambda id: trim(id) <> '')"
    return f"list_transform({ids}, lambda id: trim(id))"


def _check_table_name(table: str) -> None:
    if table not in CANONICAL_TABLES:
        raise ConfigError(f"unknown table {table!r}; tables are {', '.join(CANONICAL_TABLES)}")
