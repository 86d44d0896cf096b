"""Explicit, reported cleaning of stored events: dedupe, time window, outlier prices, k-core.

Nothing is cleaned unless asked for. Exact duplicate events are an error by default (they usually
mean a file was appended twice); ``dedupe=True`` drops them instead, and the report says how many.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from mercato.data._sql import first_row
from mercato.data._validate import StagedTable
from mercato.errors import ConfigError

__all__ = ["CleaningConfig", "CleaningStep", "clean_events", "reject_duplicates"]

logger = logging.getLogger(__name__)

#: The columns that make two events the same event (quantity and attributes may differ).
EVENT_KEY = ("user_idx", "item_idx", "event_type", "timestamp", "session_idx", "value", "price")
EVENTS = "events"


@dataclass(frozen=True)
class CleaningConfig:
    """Which cleaning steps run at ingest, in this order.

    Attributes:
        dedupe: drop exact duplicate events (same user, item, type, time, session, value, price)
            and keep the first; when false, duplicates are an error.
        start: keep events at or after this time (naive times are UTC; events without a
            timestamp are kept).
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
        # Stored times are naive UTC; an aware bound is compared in UTC too.
        for name in ("start", "end"):
            bound = getattr(self, name)
            if bound is not None and bound.tzinfo is not None:
                object.__setattr__(self, name, bound.astimezone(UTC).replace(tzinfo=None))
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
    """Raise ``DataError`` naming the first event that occurs more than once."""
    if not _duplicate_candidates(con):
        return

    key = ", ".join(EVENT_KEY)
    pair = first_row(
        con,
        f"""
        SELECT min(position), list(position ORDER BY position)[2], count(*)
        FROM {EVENTS}
        WHERE timestamp IS NOT NULL AND hash({key}) IN (SELECT h FROM duplicate_hashes)
        GROUP BY {key} HAVING count(*) > 1 ORDER BY 1 LIMIT 1
        """,
    )
    if pair is None:
        return  # only hash collisions: every event is distinct

    first, second, copies = (int(value) for value in pair)
    source, _ = events.locate(first)
    second_source, second_row = events.locate(second)
    again = f"row {second_row}" + (
        f" of {second_source.origin}" if second_source is not source else ""
    )
    raise events.error_at(
        first,
        f"duplicate events: this event occurs {copies} times (again at {again})",
        expected="each event once (same user, item, type, time, session, value and price)",
        fix="pass --dedupe (CleaningConfig(dedupe=True)) to drop exact duplicates and keep the "
        "first, or remove the repeated rows",
    )


def clean_events(con: duckdb.DuckDBPyConnection, config: CleaningConfig) -> list[CleaningStep]:
    """Run the configured steps on the stored events, in place, and report each one."""
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


def _duplicate_candidates(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether any two events share a key hash, keeping those hashes in ``duplicate_hashes``.

    One aggregate over a 64-bit hash is far cheaper than grouping by seven columns; events with
    distinct hashes are certainly distinct, so the exact comparison only runs on the few (if
    any) that share one.

    Only timestamped events can be duplicates: without a time, two equal rows are two repeats of
    one behaviour (a session that views an item twice), not one event written twice.
    """
    key = ", ".join(EVENT_KEY)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE duplicate_hashes AS
        SELECT h FROM (SELECT hash({key}) AS h FROM {EVENTS} WHERE timestamp IS NOT NULL)
        GROUP BY h HAVING count(*) > 1
        """
    )
    row = first_row(con, "SELECT count(*) FROM duplicate_hashes")
    return row is not None and int(row[0]) > 0


def _count(con: duckdb.DuckDBPyConnection) -> int:
    row = first_row(con, f"SELECT count(*) FROM {EVENTS}")
    return int(row[0]) if row is not None else 0


def _dedupe(con: duckdb.DuckDBPyConnection) -> CleaningStep:
    before = _count(con)
    if _duplicate_candidates(con):
        key = ", ".join(EVENT_KEY)
        con.execute(
            f"""
            DELETE FROM {EVENTS} WHERE position IN (
                SELECT unnest(repeats) FROM (
                    SELECT list(position ORDER BY position)[2:] AS repeats
                    FROM {EVENTS}
                    WHERE timestamp IS NOT NULL AND hash({key}) IN (SELECT h FROM duplicate_hashes)
                    GROUP BY {key} HAVING count(*) > 1))
            """
        )
    after = _count(con)
    return CleaningStep("dedupe", before, after, f"dropped {before - after} duplicate events")


def _time_window(
    con: duckdb.DuckDBPyConnection, start: datetime | None, end: datetime | None
) -> CleaningStep:
    before = _count(con)
    # Events without a timestamp cannot be placed in or out of the window; they are kept.
    if start is not None:
        con.execute(f"DELETE FROM {EVENTS} WHERE timestamp < ?", [start])
    if end is not None:
        con.execute(f"DELETE FROM {EVENTS} WHERE timestamp >= ?", [end])
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
        SELECT item_idx, median(price) AS mid,
               greatest(median(abs(price - m)), 0.01 * abs(median(price))) AS mad
        FROM (SELECT item_idx, price, median(price) OVER (PARTITION BY item_idx) AS m
              FROM {EVENTS} WHERE price IS NOT NULL)
        GROUP BY item_idx
        """
    )
    outlier = "e.price IS NOT NULL AND abs(e.price - b.mid) > ? * b.mad"
    flagged_row = first_row(
        con,
        f"SELECT count(*) FROM {EVENTS} e JOIN price_bounds b USING (item_idx) WHERE {outlier}",
        [mads],
    )
    flagged = int(flagged_row[0]) if flagged_row is not None else 0
    con.execute(
        f"UPDATE {EVENTS} AS e SET price = NULL FROM price_bounds b "
        f"WHERE e.item_idx = b.item_idx AND {outlier}",
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
    # Anonymous events count towards their item but belong to no user, so no user drops them.
    while now != previous:
        rounds += 1
        con.execute(
            f"""
            DELETE FROM {EVENTS} WHERE
                item_idx IN (SELECT item_idx FROM {EVENTS} GROUP BY item_idx
                             HAVING count(*) < {k})
                OR user_idx IN (SELECT user_idx FROM {EVENTS} WHERE user_idx IS NOT NULL
                                GROUP BY user_idx HAVING count(*) < {k})
            """
        )
        previous, now = now, _count(con)
    return CleaningStep(
        "k_core", before, now, f"{k}-core: dropped {before - now} events in {rounds} rounds"
    )
