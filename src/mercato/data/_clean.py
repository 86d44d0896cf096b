"""Explicit, reported cleaning of typed events: de-duplication, time window, outlier prices, k-core.

Nothing is cleaned unless asked for. Exact duplicate events are an error by default (they usually
mean a file was appended twice); ``dedupe=True`` drops them instead, and the report says how many.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import duckdb

from mercato.data._sql import first_row
from mercato.data._validate import StagedTable
from mercato.errors import ConfigError, DataError

__all__ = ["CleaningConfig", "CleaningStep", "clean_events", "reject_duplicates"]

logger = logging.getLogger(__name__)

EVENT_KEY = ("user_id", "item_id", "event_type", "timestamp", "session_id", "value", "price")
TYPED_EVENTS = "stage.typed_events"


@dataclass(frozen=True)
class CleaningConfig:
    """Which cleaning steps run at ingest, in this order.

    Attributes:
        dedupe: drop exact duplicate events (same user, item, type, time, session, value, price)
            and keep the first; when false, duplicates are an error.
        start: keep events at or after this time.
        end: keep events before this time.
        outlier_price_mads: prices further than this many median absolute deviations from their
            item's median price are set to missing (the event is kept); ``None`` keeps all.
        k_core: repeatedly drop users and items with fewer than this many events until none is
            left; 0 or 1 keeps all.
    """

    dedupe: bool = False
    start: datetime | None = None
    end: datetime | None = None
    outlier_price_mads: float | None = None
    k_core: int = 0

    def __post_init__(self) -> None:
        if self.k_core < 0:
            raise ConfigError(f"k_core must be >= 0, got {self.k_core}")
        if self.outlier_price_mads is not None and self.outlier_price_mads <= 0:
            raise ConfigError(
                f"outlier_price_mads must be > 0 (try 10), got {self.outlier_price_mads}"
            )
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ConfigError(f"the time window is empty: start {self.start} >= end {self.end}")


@dataclass(frozen=True)
class CleaningStep:
    """What one cleaning step did."""

    name: str
    rows_before: int
    rows_after: int
    detail: str

    @property
    def removed(self) -> int:
        return self.rows_before - self.rows_after


def reject_duplicates(con: duckdb.DuckDBPyConnection, events: StagedTable) -> None:
    """Raise ``DataError`` naming the first pair of identical events.

    Only timestamped events can be duplicates: without a time, two equal rows are two repeats
    of the same behaviour (a session that views an item twice), not one event written twice.
    """
    key = ", ".join(EVENT_KEY)
    pair = first_row(
        con,
        f"SELECT min(position), max(position), count(*) FROM {TYPED_EVENTS} "
        f"WHERE timestamp IS NOT NULL "
        f"GROUP BY {key} HAVING count(*) > 1 ORDER BY min(position) LIMIT 1",
    )
    if pair is None:
        return

    first, second, copies = (int(value) for value in pair)
    source, row = events.locate(first)
    _, second_row = events.locate(second)
    raise DataError(
        f"duplicate events: row {row} occurs {copies} times (again at row {second_row})",
        file=source.origin,
        row=row,
        line=row + source.header_lines,
        expected="each event once",
        fix="pass --dedupe (CleaningConfig(dedupe=True)) to drop exact duplicates and keep the "
        "first, or remove the repeated rows",
    )


def clean_events(con: duckdb.DuckDBPyConnection, config: CleaningConfig) -> list[CleaningStep]:
    """Run the configured steps on the typed events, in place, and report each one."""
    steps: list[CleaningStep] = []
    if config.dedupe:
        steps.append(_dedupe(con))
    if config.start is not None or config.end is not None:
        steps.append(_time_window(con, config.start, config.end))
    if config.outlier_price_mads is not None:
        steps.append(_outlier_prices(con, config.outlier_price_mads))
    if config.k_core > 1:
        steps.append(_k_core(con, config.k_core))

    for step in steps:
        logger.info("cleaning %s: %s", step.name, step.detail)
    return steps


def _count(con: duckdb.DuckDBPyConnection) -> int:
    row = first_row(con, f"SELECT count(*) FROM {TYPED_EVENTS}")
    return int(row[0]) if row is not None else 0


def _dedupe(con: duckdb.DuckDBPyConnection) -> CleaningStep:
    before = _count(con)
    key = ", ".join(EVENT_KEY)
    con.execute(
        f"DELETE FROM {TYPED_EVENTS} WHERE timestamp IS NOT NULL AND position NOT IN "
        f"(SELECT min(position) FROM {TYPED_EVENTS} WHERE timestamp IS NOT NULL GROUP BY {key})"
    )
    after = _count(con)
    return CleaningStep("dedupe", before, after, f"dropped {before - after} duplicate events")


def _time_window(
    con: duckdb.DuckDBPyConnection, start: datetime | None, end: datetime | None
) -> CleaningStep:
    before = _count(con)
    if start is not None:
        con.execute(f"DELETE FROM {TYPED_EVENTS} WHERE timestamp < ?", [start])
    if end is not None:
        con.execute(f"DELETE FROM {TYPED_EVENTS} WHERE timestamp >= ?", [end])
    after = _count(con)
    window = f"[{start or '-inf'}, {end or '+inf'})"
    return CleaningStep(
        "time_window", before, after, f"dropped {before - after} events outside {window}"
    )


def _outlier_prices(con: duckdb.DuckDBPyConnection, mads: float) -> CleaningStep:
    rows = _count(con)
    # The median absolute deviation is robust to the outliers it is meant to find; a floor of 1%
    # of the median keeps items with one constant price from flagging every cent of rounding.
    con.execute(
        f"""
        CREATE TEMP TABLE price_bounds AS
        SELECT item_id, median(price) AS mid,
               greatest(median(abs(price - m)), 0.01 * abs(median(price))) AS mad
        FROM (SELECT item_id, price, median(price) OVER (PARTITION BY item_id) AS m
              FROM {TYPED_EVENTS} WHERE price IS NOT NULL)
        GROUP BY item_id
        """
    )
    flagged_row = first_row(
        con,
        f"""
        SELECT count(*) FROM {TYPED_EVENTS} e JOIN price_bounds b USING (item_id)
        WHERE e.price IS NOT NULL AND abs(e.price - b.mid) > ? * b.mad
        """,
        [mads],
    )
    flagged = int(flagged_row[0]) if flagged_row is not None else 0
    con.execute(
        f"""
        UPDATE {TYPED_EVENTS} AS e SET price = NULL FROM price_bounds b
        WHERE e.item_id = b.item_id AND e.price IS NOT NULL AND abs(e.price - b.mid) > ? * b.mad
        """,
        [mads],
    )
    con.execute("DROP TABLE price_bounds")
    return CleaningStep(
        "outlier_prices",
        rows,
        rows,
        f"set {flagged} prices further than {mads:g} MADs from their item's median to missing",
    )


def _k_core(con: duckdb.DuckDBPyConnection, k: int) -> CleaningStep:
    before = _count(con)
    rounds, previous, now = 0, -1, before
    # Dropping sparse items can make users sparse and back again: repeat until a fixed point.
    while now != previous:
        rounds += 1
        con.execute(
            f"""
            DELETE FROM {TYPED_EVENTS} WHERE
                item_id IN (SELECT item_id FROM {TYPED_EVENTS} GROUP BY item_id
                            HAVING count(*) < {k})
                OR user_id IN (SELECT user_id FROM {TYPED_EVENTS} WHERE user_id IS NOT NULL
                               GROUP BY user_id HAVING count(*) < {k})
            """
        )
        previous, now = now, _count(con)
    return CleaningStep(
        "k_core", before, now, f"{k}-core: dropped {before - now} events in {rounds} rounds"
    )
