"""Ingest benchmark: mercato's streaming ingest against plain pandas on one big events CSV.

Run from the repository root::

    .venv/bin/python benchmarks/ingest_benchmark.py                 # 10 million events
    .venv/bin/python benchmarks/ingest_benchmark.py --rows 1000000 --workdir /tmp/bench
    .venv/bin/python benchmarks/ingest_benchmark.py --generator demo

It writes (or reuses) ``<workdir>/events_<generator>_<rows>.csv``: the canonical event columns
(user_id, item_id, event_type, timestamp, session_id, value, price, quantity), ISO timestamps
and ids with leading zeros, from this script's vectorised generator (ids like ``00012345``,
which pandas reads as numbers) or, with ``--generator demo``, from
``mercato.demo.write_events_csv`` (ids like ``u000367``, which pandas reads as text). Then it
measures, each in a fresh Python process so that peak memory is that run's alone:

* ``mercato``: ``ingest(get_adapter("generic").read(csv), store)`` with its defaults
  (``memory_limit="1GB"``): validation, dense ids, duplicate check, a DuckDB store;
* ``pandas``: ``pandas.read_csv(csv)`` then ``DataFrame.to_parquet`` (no validation);
* ``mercato (500MB)``, ``mercato (250MB)``: the same ingest under a DuckDB ``memory_limit``
  (``--bounded-limits``), to show that memory stays bounded: peak RSS is the libraries
  (shown as "RSS after imports") plus about the limit, whatever the size of the file.

Each run is repeated ``--repeats`` times, interleaved, and the median is reported: the figures
are wall seconds of the work itself (imports excluded), rows per second, peak RSS (imports
included) and CPU seconds. The script prints a markdown table and writes
``benchmarks/out/ingest.json``. After the runs it checks the mercato store against the CSV, row
by row, so a fast but wrong ingest cannot pass. This is a benchmark, not a test: nothing fails
on slow figures.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

OUT = Path(__file__).resolve().parent / "out"
COLUMNS = (
    "user_id",
    "item_id",
    "event_type",
    "timestamp",
    "session_id",
    "value",
    "price",
    "quantity",
)
CHUNK = 1_000_000
EVENT_TYPES = np.array(["view", "click", "cart", "favourite", "purchase", "rating", "search_click"])
EVENT_SHARES = [0.55, 0.15, 0.10, 0.05, 0.08, 0.03, 0.04]
N_USERS, N_ITEMS, SESSION_LENGTH = 500_000, 200_000, 8
START = np.datetime64("2024-01-01T00:00:00", "s")
SECONDS_APART = 3


def main() -> None:
    args = _arguments()
    if args.child:
        _child(args)
        return

    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    csv_path = workdir / f"events_{args.generator}_{args.rows}.csv"
    generator = _ensure_csv(csv_path, args.rows, args.seed, args.generator)
    size_mb = csv_path.stat().st_size / 2**20
    print(f"{csv_path}: {args.rows:,} events, {size_mb:,.0f} MB ({generator})", flush=True)

    bounded = [f"mercato ({limit})" for limit in args.bounded_limits.split(",")]
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in ["mercato", "pandas", *bounded]}
    for repeat in range(args.repeats):
        for name in runs:
            figures = _run_child(name, csv_path, workdir, args.threads, False)
            runs[name].append(figures)
            print(
                f"  [{repeat + 1}/{args.repeats}] {name}: {figures['seconds']:.1f}s, "
                f"{figures['peak_rss_mb']:.0f} MB peak",
                flush=True,
            )

    check = _verify_store(csv_path, workdir / "mercato.duckdb", args.rows)
    results = _summarise(runs, args.rows, size_mb, generator, check)
    print()
    print(_markdown(results))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "ingest.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {OUT / 'ingest.json'}")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="events in the CSV")
    parser.add_argument("--workdir", default="/tmp/mercato-ingest-benchmark", help="scratch")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each contender")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--generator",
        choices=["demo", "own"],
        default="own",
        help="own: this script's generator, all-digit ids like 00012345 (pandas reads them as "
        "numbers); demo: mercato.demo.write_events_csv, ids like u000367 (its file repeats "
        "some rows exactly, so mercato runs with dedupe=True)",
    )
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (all cores)")
    parser.add_argument(
        "--bounded-limits",
        default="500MB,250MB",
        help="memory limits of the extra mercato runs that show memory stays bounded",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    parser.add_argument("--dedupe", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


# --- the CSV ------------------------------------------------------------------------------------


def _ensure_csv(path: Path, rows: int, seed: int, generator: str) -> str:
    """Write the events CSV unless an identical one is there; which generator wrote it."""
    stamp = path.with_suffix(".json")
    if path.exists() and stamp.exists():
        return str(json.loads(stamp.read_text(encoding="utf-8"))["generator"])

    started = time.perf_counter()
    if generator == "demo" and _demo_writer() is not None:
        _demo_writer()(path, rows, seed=seed)
        used = "mercato.demo.write_events_csv"
    else:
        _write_csv(path, rows, seed)
        used = "the benchmark's own vectorised generator"
    stamp.write_text(json.dumps({"rows": rows, "seed": seed, "generator": used}), encoding="utf-8")
    print(f"generated {path.name} in {time.perf_counter() - started:.0f}s", flush=True)
    return used


def _demo_writer() -> Any:
    """``mercato.demo.write_events_csv``, or None while the demo package lacks it."""
    try:
        from mercato.demo import write_events_csv
    except ImportError:
        return None
    return write_events_csv


def _write_csv(path: Path, rows: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    options = pa_csv.WriteOptions(quoting_style="none")
    first = _events_chunk(rng, 0, min(rows, CHUNK))
    with pa_csv.CSVWriter(path, first.schema, write_options=options) as writer:
        writer.write_table(first)
        for start in range(CHUNK, rows, CHUNK):
            writer.write_table(_events_chunk(rng, start, min(CHUNK, rows - start)))


def _events_chunk(rng: np.random.Generator, start: int, n: int) -> pa.Table:
    """Events ``start`` to ``start + n``: sessions of eight, 5% anonymous, one event per 3 s.

    Timestamps grow with the row, so no two rows are duplicates and the order can be checked.
    """
    row = np.arange(start, start + n, dtype=np.int64)
    session = row // SESSION_LENGTH
    user = (session * 2_654_435_761) % N_USERS
    anonymous = session % 20 == 0
    item = rng.integers(0, N_ITEMS, n)
    kind = EVENT_TYPES[rng.choice(len(EVENT_TYPES), n, p=EVENT_SHARES)]
    price = np.round(1 + (item % 997) * 0.37 * rng.uniform(0.95, 1.05, n), 2)
    missing = pa.scalar(None, pa.string())

    def padded(values: np.ndarray, width: int) -> pa.Array:
        return pc.utf8_lpad(pc.cast(pa.array(values), pa.string()), width, "0")

    def where(mask: np.ndarray, values: np.ndarray) -> pa.Array:
        return pc.if_else(pa.array(mask), pc.cast(pa.array(values), pa.string()), missing)

    timestamps = pa.array(START + row * SECONDS_APART, pa.timestamp("s"))
    return pa.table(
        {
            "user_id": pc.if_else(pa.array(anonymous), missing, padded(user, 8)),
            "item_id": padded(item, 7),
            "event_type": pa.array(kind),
            "timestamp": pc.strftime(timestamps, "%Y-%m-%dT%H:%M:%S"),
            "session_id": padded(session, 9),
            "value": where(kind == "rating", rng.integers(1, 6, n)),
            "price": pa.array(price),
            "quantity": where(np.isin(kind, ["cart", "purchase"]), rng.integers(1, 4, n)),
        }
    )


# --- one measured run, in its own process --------------------------------------------------------


def _run_child(
    name: str, csv_path: Path, workdir: Path, threads: int | None, dedupe: bool
) -> dict[str, Any]:
    target = workdir / ("pandas.parquet" if name == "pandas" else "mercato.duckdb")
    if name.startswith("mercato ("):
        target = workdir / f"mercato_{name[9:-1].lower()}.duckdb"
    command = [sys.executable, __file__, "--child", name, "--csv", str(csv_path)]
    command += ["--target", str(target)]
    if threads is not None:
        command += ["--threads", str(threads)]
    if dedupe:
        command += ["--dedupe"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stderr}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    figures["process_seconds"] = time.perf_counter() - started
    return figures


def _child(args: argparse.Namespace) -> None:
    """Run one contender and print its figures as one JSON line."""
    csv_path, target = Path(args.csv), Path(args.target)
    _import_contender(args.child)
    after_imports = psutil.Process().memory_info().rss / 2**20
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    if args.child == "pandas":
        _pandas_to_parquet(csv_path, target)
    else:
        limit = args.child[9:-1] if args.child.startswith("mercato (") else None
        _mercato_ingest(csv_path, target, limit, args.threads, args.dedupe)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss is in KiB on Linux: the peak of this process, imports included.
    figures = {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_rss_mb": after.ru_maxrss / 1024,
        "rss_after_imports_mb": after_imports,
    }
    print(json.dumps(figures))


def _import_contender(name: str) -> None:
    """Import what a contender needs before measuring, so the figures are of the work alone."""
    if name == "pandas":
        import pandas  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    else:
        import mercato.data  # noqa: F401


def _pandas_to_parquet(csv_path: Path, target: Path) -> None:
    import pandas as pd

    pd.read_csv(csv_path).to_parquet(target)


def _mercato_ingest(
    csv_path: Path, target: Path, memory_limit: str | None, threads: int | None, dedupe: bool
) -> None:
    """Ingest with mercato's defaults, or under ``memory_limit`` where one is given."""
    from mercato.data import CleaningConfig, get_adapter, ingest

    source = get_adapter("generic").read(csv_path)
    cleaning = CleaningConfig(dedupe=dedupe)
    if memory_limit is None:
        ingest(source, target, cleaning=cleaning, threads=threads)
    else:
        ingest(source, target, cleaning=cleaning, memory_limit=memory_limit, threads=threads)


# --- checking and reporting -------------------------------------------------------------------


def _verify_store(csv_path: Path, store_path: Path, rows: int) -> dict[str, Any]:
    """Compare the store with the CSV row by row: ids (leading zeros), types and order."""
    import duckdb

    from mercato.data import Store

    store = Store(store_path)
    with duckdb.connect(str(store_path), read_only=True) as con:
        con.execute("SET enable_progress_bar = false")
        columns = ", ".join(f"'{name}': 'VARCHAR'" for name in COLUMNS)
        csv = f"read_csv('{csv_path}', header=true, auto_detect=false, columns={{{columns}}})"
        mismatches = con.execute(
            f"""
            SELECT count(*) FROM (SELECT row_number() OVER () - 1 AS position, * FROM {csv}) c
            JOIN events e USING (position)
            JOIN item_map i USING (item_idx)
            LEFT JOIN user_map u USING (user_idx)
            LEFT JOIN session_map s USING (session_idx)
            WHERE i.item_id <> c.item_id OR u.user_id IS DISTINCT FROM c.user_id
               OR s.session_id IS DISTINCT FROM c.session_id OR e.event_type <> c.event_type
               OR e.timestamp <> CAST(c.timestamp AS TIMESTAMP)
               OR e.price IS DISTINCT FROM CAST(c.price AS DOUBLE)
            """
        ).fetchall()[0][0]
    stored = store.summary().rows["events"]
    return {"rows_stored": stored, "rows_expected": rows, "row_mismatches": int(mismatches)}


def _summarise(
    runs: dict[str, list[dict[str, Any]]],
    rows: int,
    size_mb: float,
    generator: str,
    check: dict[str, Any],
) -> dict[str, Any]:
    median = {
        name: {key: statistics.median(run[key] for run in figures) for key in figures[0]}
        for name, figures in runs.items()
    }
    for figures in median.values():
        figures["rows_per_second"] = rows / figures["seconds"]
    mercato, pandas = median["mercato"], median["pandas"]
    speedup = pandas["seconds"] / mercato["seconds"]
    memory_ratio = mercato["peak_rss_mb"] / pandas["peak_rss_mb"]
    return {
        "rows": rows,
        "csv_mb": size_mb,
        "generator": generator,
        "machine": f"{platform.machine()}, {_cores()} cores, Python {platform.python_version()}",
        "median": median,
        "all_runs": runs,
        "speedup_vs_pandas": speedup,
        "memory_ratio_vs_pandas": memory_ratio,
        "goal_met": {"2x_faster": speedup >= 2.0, "under_half_memory": memory_ratio < 0.5},
        "bounded_rss_vs_file": {
            name: figures["peak_rss_mb"] / size_mb
            for name, figures in median.items()
            if name.startswith("mercato (")
        },
        "check": check,
    }


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


def _markdown(results: dict[str, Any]) -> str:
    lines = [
        f"{results['rows']:,} events, {results['csv_mb']:,.0f} MB CSV; {results['machine']}; "
        f"median of {len(results['all_runs']['mercato'])} runs",
        "",
        "| run | wall s | rows/s | peak RSS MB | RSS after imports MB | CPU s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, figures in results["median"].items():
        lines.append(
            f"| {name} | {figures['seconds']:.1f} | {figures['rows_per_second']:,.0f} | "
            f"{figures['peak_rss_mb']:,.0f} | {figures['rss_after_imports_mb']:,.0f} | "
            f"{figures['cpu_seconds']:.1f} |"
        )
    goal = results["goal_met"]
    lines += [
        "",
        f"- speed-up vs pandas: {results['speedup_vs_pandas']:.2f}x "
        f"(goal >= 2x: {'met' if goal['2x_faster'] else 'missed'})",
        f"- memory vs pandas: {results['memory_ratio_vs_pandas']:.2f}x "
        f"(goal < 0.5x: {'met' if goal['under_half_memory'] else 'missed'})",
        *(
            f"- {name}: peak RSS is {ratio:.2f}x the file size"
            for name, ratio in results["bounded_rss_vs_file"].items()
        ),
        f"- check: {results['check']}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
