"""OTTO (Kaggle 2022): anonymous sessions of clicks, carts and orders as JSON lines."""

from __future__ import annotations

from pathlib import Path

from mercato.data._sources import ShopSource, TableSource, sql_literal
from mercato.data.adapters._base import register
from mercato.data.adapters._columns import find_file

__all__ = ["OttoAdapter"]

EVENT_TYPES = {"clicks": "click", "carts": "cart", "orders": "purchase"}
# Ids and times are read as text, like every other format: conversion is the pipeline's job.
JSON_COLUMNS = "{'session': 'VARCHAR', 'events': 'STRUCT(aid VARCHAR, ts VARCHAR, type VARCHAR)[]'}"


@register
class OttoAdapter:
    """``{"session": 1, "events": [{"aid": 2, "ts": 1659304800025, "type": "clicks"}, ...]}``.

    One line per session; every event becomes a row: ``aid`` is the item, ``ts`` Unix
    milliseconds, and ``clicks`` / ``carts`` / ``orders`` become ``click`` / ``cart`` /
    ``purchase``. Sessions are anonymous (no user). SOURCE is the ``.jsonl`` file, or a folder
    with ``train*.jsonl`` (or a single ``.jsonl`` file).
    """

    name = "otto"
    description = "OTTO sessions: clicks, carts and orders as JSON lines (Kaggle 2022)"

    def read(self, path: Path) -> ShopSource:
        file = path if path.is_file() else find_file(path, ("train*.jsonl", "*.jsonl"), self.name)
        scan = f"read_json({sql_literal(file)}, format='newline_delimited', columns={JSON_COLUMNS})"
        sql = f"""
            SELECT session AS session_id, event.aid AS item_id, event.type AS event_type,
                   event.ts AS timestamp
            FROM (SELECT session, unnest(events) AS event FROM {scan})
        """
        events = TableSource(
            "events",
            str(file),
            sql,
            timestamp_format="unix_ms",
            event_types=EVENT_TYPES,
            header_lines=0,
        )
        return ShopSource(file.stem, (events,))
