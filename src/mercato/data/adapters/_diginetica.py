"""Diginetica (CIKM Cup 2016) product views: the raw log and the SR-GNN / GCE-GNN session files."""

from __future__ import annotations

from pathlib import Path

from mercato.data._sources import ShopSource, TableSource, csv_scan, read_header
from mercato.data.adapters._base import register
from mercato.data.adapters._columns import (
    attributes,
    find_file,
    kept,
    numbered_lines,
    quote,
)

__all__ = ["DigineticaAdapter", "DigineticaSessionsAdapter"]

VIEWS = ("train-item-views.csv", "sample_train-item-views.csv")
# The competition's file spells the ids in camelCase, the SR-GNN sample in snake_case.
VIEW_COLUMNS = {
    "session_id": ("session_id", "sessionId"),
    "user_id": ("user_id", "userId"),
    "item_id": ("item_id", "itemId"),
    "timeframe": ("timeframe",),
    "eventdate": ("eventdate",),
}
SESSIONS = ("train_sessions.txt",)


@register
class DigineticaAdapter:
    """The raw ``train-item-views.csv`` (``;``-separated) as ``view`` events.

    Columns: ``sessionId;userId;itemId;timeframe;eventdate`` (the SR-GNN sample calls them
    ``session_id;user_id;item_id;timeframe;eventdate``). ``user_id`` is ``NA`` for anonymous
    shoppers, who keep only their session. The log gives a date and ``timeframe``, the
    milliseconds since the session began; the timestamp is the date's midnight plus that offset,
    which orders views within a session exactly, but the time of day is not the real one.
    Other columns are kept in attributes. SOURCE is the file or its folder.
    """

    name = "diginetica"
    description = "Diginetica (CIKM Cup 2016) raw item views, ';'-separated"

    def read(self, path: Path) -> ShopSource:
        file = path if path.is_file() else find_file(path, VIEWS, self.name)
        scan, raw, columns = _views_scan(file)
        user, date, offset = quote(raw["user_id"]), quote(raw["eventdate"]), quote(raw["timeframe"])
        moment = f"TRY_CAST({date} AS DATE) + to_milliseconds(TRY_CAST({offset} AS BIGINT))"
        # A date or offset that does not parse is passed on as text, so that validation reports
        # that row; a missing one leaves the timestamp empty.
        timestamp = (
            f"COALESCE(strftime({moment}, '%Y-%m-%d %H:%M:%S.%f'), "
            f"{date} || ' + ' || {offset} || ' ms')"
        )
        select = [
            f"{quote(raw['session_id'])} AS session_id",
            f"CASE WHEN {user} <> 'NA' THEN {user} END AS user_id",
            f"{quote(raw['item_id'])} AS item_id",
            "'view' AS event_type",
            f"{timestamp} AS timestamp",
            attributes(kept(columns, raw.values())),
        ]
        sql = f"SELECT {', '.join(select)} FROM {scan}"
        events = TableSource("events", str(file), sql)
        return ShopSource(file.stem, (events,))


def _views_scan(file: Path) -> tuple[str, dict[str, str], tuple[str, ...]]:
    """The views file, its raw column per name used here, and all its columns."""
    header = read_header(file, ";")
    raw = {
        name: next((alias for alias in aliases if alias in header), aliases[0])
        for name, aliases in VIEW_COLUMNS.items()
    }
    scan, columns = csv_scan(file, delimiter=";", required=tuple(raw.values()))
    return scan, raw, columns


@register
class DigineticaSessionsAdapter:
    """The SR-GNN / GCE-GNN preprocessing: ``train_sessions.txt``, one session per line.

    Each line lists the item ids a shopper viewed, oldest first, separated by spaces. Sessions are
    anonymous: ``session_id`` is the line number (from 1), there is no user, and the files carry
    no timestamps, so ``position`` keeps the order. A session may view an item twice; such
    repeats are genuine, not duplicate rows.

    ``test_prefixes.tsv`` (``prefix<TAB>target``) is deliberately not ingested: it holds the
    benchmark's held-out targets, which the evaluation protocol reads directly, and putting them
    in the store would leak them into training. Every item of the test file also occurs in the
    training sessions, so the store still knows the whole item set. SOURCE is the file or its
    folder.
    """

    name = "diginetica-sessions"
    description = "Diginetica sessions as preprocessed for SR-GNN / GCE-GNN, one line each"

    def read(self, path: Path) -> ShopSource:
        file = path if path.is_file() else find_file(path, SESSIONS, self.name)
        sql = f"""
            SELECT CAST(line_number AS VARCHAR) AS session_id,
                   unnest(regexp_split_to_array(trim(line), '\\s+')) AS item_id,
                   'view' AS event_type
            FROM ({numbered_lines(file)})
        """
        events = TableSource("events", str(file), sql, header_lines=0, allow_duplicates=True)
        return ShopSource(file.parent.name, (events,))
