"""Ingest floor: what the unavoidable parts of an ingest cost on this machine, each alone.

Run from the repository root, after ``ingest_benchmark.py`` has written its CSV::

    .venv/bin/python benchmarks/ingest_floor.py               # the 10-million-event demo CSV
    .venv/bin/python benchmarks/ingest_floor.py --csv other.csv

An ingest into a store must at least parse every field of the file, turn three string id
columns into dense integers, and write the typed table into the DuckDB file. This script times
the fastest tool installed for each of those steps on its own, with nothing else done (no
validation, no cleaning, no error positions), and sets their sum beside the plain pandas path
(``read_csv`` + ``to_parquet``) that ``ingest_benchmark.py`` compares against:

* ``parse``: pyarrow's multithreaded streaming CSV reader, typed columns, 4 MB
  blocks;
* ``dense ids``: polars categorical codes for user, item and session ids, batch by batch with
  one shared mapping per column, and event types as one-byte codes;
* ``store write``: ``CREATE TABLE AS`` of the parsed, id-encoded table into a new DuckDB file,
  then ``CHECKPOINT``, with DuckDB's default compression.

Two other readers of the same file (DuckDB's ``read_csv`` into Arrow, polars' ``read_csv``) are
timed beside them, outside the floor, to show the parse counted is the fastest one here.

Each step runs ``--repeats`` times and the median is kept. The sum is a floor, not a pipeline:
overlapping the steps cannot beat their CPU seconds divided by the cores, which is reported too.
It prints a markdown table and writes ``benchmarks/out/ingest_floor.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet  # imported before timing: pandas' parquet writer needs it

OUT = Path(__file__).resolve().parent / "out"
BASELINE = "pandas read_csv + to_parquet"
OTHER = "other parse"
ID_COLUMNS = ("user_id", "item_id", "session_id")
EVENT_TYPES = pa.array(["view", "click", "cart", "favourite", "purchase", "rating", "search_click"])
TYPES = {
    "user_id": pa.string(),
    "item_id": pa.string(),
    "event_type": pa.string(),
    "timestamp": pa.timestamp("us"),
    "session_id": pa.string(),
    "value": pa.float64(),
    "price": pa.float64(),
    "quantity": pa.float64(),
}


_DUCKDB_TYPES = {pa.string(): "VARCHAR", pa.timestamp("us"): "TIMESTAMP", pa.float64(): "DOUBLE"}
_POLARS_TYPES = {
    pa.string(): pl.String,
    pa.timestamp("us"): pl.Datetime("us"),
    pa.float64(): pl.Float64,
}


def main() -> None:
    args = _arguments()
    csv_path = Path(args.csv)
    if not csv_path.exists():
        raise SystemExit(f"{csv_path} does not exist; run benchmarks/ingest_benchmark.py first")

    batches = _parse(csv_path)
    encoded = _encode(batches)
    steps: dict[str, Callable[[], object]] = {
        BASELINE: lambda: _pandas(csv_path),
        "parse (pyarrow streaming)": lambda: _parse(csv_path),
        "dense ids (polars categoricals)": lambda: _encode(batches),
        "store write (DuckDB CTAS + CHECKPOINT)": lambda: _write(encoded),
        # Other readers of the same file, timed to show why pyarrow's is the floor's parse.
        "other parse: DuckDB read_csv to Arrow": lambda: _parse_duckdb(csv_path),
        "other parse: polars read_csv": lambda: _parse_polars(csv_path),
    }
    figures = {name: _measure(step, args.repeats) for name, step in steps.items()}
    results = _summarise(figures, csv_path, encoded.num_rows)
    print(_markdown(results))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "ingest_floor.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--csv", default="/tmp/mercato-ingest-benchmark/events_demo_10000000.csv", help="events"
    )
    parser.add_argument("--repeats", type=int, default=3)
    return parser.parse_args()


def _pandas(csv_path: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        pd.read_csv(csv_path).to_parquet(Path(scratch) / "events.parquet")


def _parse(csv_path: Path) -> list[pa.RecordBatch]:
    reader = pa_csv.open_csv(
        csv_path,
        read_options=pa_csv.ReadOptions(block_size=4 << 20, use_threads=True),
        convert_options=pa_csv.ConvertOptions(column_types=TYPES),
    )
    return list(reader)


def _parse_duckdb(csv_path: Path) -> pa.Table:
    columns = ", ".join(f"'{name}': '{_DUCKDB_TYPES[kind]}'" for name, kind in TYPES.items())
    with duckdb.connect() as con:
        scan = f"read_csv('{csv_path}', header = true, columns = {{{columns}}})"
        return con.sql(f"SELECT * FROM {scan}").to_arrow_table()


def _parse_polars(csv_path: Path) -> pl.DataFrame:
    schema = {name: _POLARS_TYPES[kind] for name, kind in TYPES.items()}
    return pl.read_csv(csv_path, schema=schema)


def _encode(batches: list[pa.RecordBatch]) -> pa.Table:
    """Ids as dense codes shared across batches (one mapping per column), event types as bytes."""
    categories = {column: pl.Categories.random() for column in ID_COLUMNS}
    encoded = []
    for batch in batches:
        columns = {name: batch.column(name) for name in batch.schema.names}
        for column in ID_COLUMNS:
            series = pl.Series(column, columns[column])
            codes = series.cast(pl.Categorical(categories[column])).to_physical()
            columns[column] = codes.to_arrow()
        kinds = pc.index_in(columns["event_type"], value_set=EVENT_TYPES)
        columns["event_type"] = kinds.cast(pa.int8())
        encoded.append(pa.table(columns))
    return pa.concat_tables(encoded)


def _write(table: pa.Table) -> None:
    with tempfile.TemporaryDirectory() as scratch, duckdb.connect(f"{scratch}/store.db") as con:
        con.register("events_arrow", table)
        con.execute("CREATE TABLE events AS SELECT * FROM events_arrow")
        con.execute("CHECKPOINT")


def _measure(step: Callable[[], object], repeats: int) -> dict[str, float]:
    walls, cpus = [], []
    for _ in range(repeats):
        before, started = _cpu_seconds(), time.perf_counter()
        step()
        walls.append(time.perf_counter() - started)
        cpus.append(_cpu_seconds() - before)
    return {"seconds": statistics.median(walls), "cpu_seconds": statistics.median(cpus)}


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _summarise(figures: dict[str, dict[str, float]], csv_path: Path, rows: int) -> dict[str, Any]:
    pandas = figures[BASELINE]
    floor = [step for name, step in figures.items() if name != BASELINE and OTHER not in name]
    cores = len(os.sched_getaffinity(0))
    floor_wall = sum(step["seconds"] for step in floor)
    floor_cpu = sum(step["cpu_seconds"] for step in floor)
    return {
        "csv": str(csv_path),
        "csv_mb": csv_path.stat().st_size / 2**20,
        "rows": rows,
        "cores": cores,
        "steps": figures,
        "floor_seconds": floor_wall,
        "floor_cpu_seconds": floor_cpu,
        "floor_overlapped_seconds": floor_cpu / cores,
        "goal_seconds": pandas["seconds"] / 2,
    }


def _markdown(results: dict[str, Any]) -> str:
    lines = [
        f"{results['rows']:,} events, {results['csv_mb']:,.0f} MB CSV, {results['cores']} cores",
        "",
        "| step | wall s | CPU s |",
        "|---|---:|---:|",
        *(
            f"| {name} | {step['seconds']:.2f} | {step['cpu_seconds']:.2f} |"
            for name, step in results["steps"].items()
        ),
        "",
        f"- floor, steps one after another: {results['floor_seconds']:.2f} s",
        f"- floor, perfectly overlapped on {results['cores']} cores: "
        f"{results['floor_overlapped_seconds']:.2f} s",
        f"- the 2x goal: {results['goal_seconds']:.2f} s",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
