"""Open Bandit Dataset (ZOZOTOWN): logged recommendation impressions, clicks and propensities."""

from __future__ import annotations

from pathlib import Path

from mercato.data._sources import ShopSource, TableSource, csv_scan
from mercato.data.adapters._base import register
from mercato.data.adapters._columns import attributes, kept, quote
from mercato.errors import DataError

__all__ = ["OpenBanditAdapter"]

ITEM_CONTEXT = "item_context.csv"
#: The logging policy and campaign read when SOURCE is the dataset's root folder.
DEFAULT_POLICY, DEFAULT_CAMPAIGN = "random", "all"
#: pandas wrote the files with their index as an unnamed first column: the impression number.
INDEX_COLUMN = "impression"
LOG_COLUMNS = ("timestamp", "item_id", "click")


@register
class OpenBanditAdapter:
    """One campaign of the Open Bandit Dataset: ``<policy>/<campaign>/<campaign>.csv``.

    Each log row is one impression: the item shown at ``position`` (1-3) at ``timestamp``, and
    whether it was clicked. Every impression is a ``view`` event, and a clicked one is followed by
    a ``click`` event at the same time. The log has no user ids; each impression is its own
    anonymous session (``session_id`` = the impression number), and ``position``,
    ``propensity_score``, the hashed ``user_feature_*`` and the ``user-item_affinity_*`` columns
    are kept in attributes, so off-policy estimators can use them. ``item_context.csv`` gives
    the items; ``item_feature_0`` is a standardised price (it is negative for cheap items, so it
    stays an attribute rather than a price), the hashed ``item_feature_1-3`` are attributes too.

    SOURCE is a campaign folder (``random/all``), a policy folder (``random``: its ``all``
    campaign is read) or the dataset root (``random/all`` is read).
    """

    name = "open-bandit"
    description = "Open Bandit Dataset (ZOZOTOWN): impressions with clicks and propensities"

    def read(self, path: Path) -> ShopSource:
        folder = _campaign_folder(path)
        log = folder / f"{folder.name}.csv"
        tables = [_impressions(log)]
        if (folder / ITEM_CONTEXT).exists():
            tables.append(_items(folder / ITEM_CONTEXT))
        return ShopSource(f"open-bandit-{folder.parent.name}-{folder.name}", tuple(tables))


def _campaign_folder(path: Path) -> Path:
    """The campaign folder that SOURCE names, by the dataset's ``policy/campaign`` layout."""
    folder = path.parent if path.is_file() else path
    for candidate in (
        folder,
        folder / DEFAULT_CAMPAIGN,
        folder / DEFAULT_POLICY / DEFAULT_CAMPAIGN,
    ):
        if (candidate / f"{candidate.name}.csv").exists():
            return candidate
    raise DataError(
        "no Open Bandit campaign log here",
        file=path,
        expected="a folder like random/all holding all.csv and item_context.csv",
        fix="point SOURCE at the dataset root, a policy folder (random, bts) or a campaign folder",
    )


def _unnamed_first_column(file: Path, required: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """Scan a file whose first header field is empty, naming that column ``INDEX_COLUMN``."""
    _, header = csv_scan(file, required=required)
    if header[0]:
        return csv_scan(file)
    # DuckDB cannot name a column '', so the names are given and the header line is dropped.
    names = (INDEX_COLUMN, *header[1:])
    scan, _ = csv_scan(file, names=names)
    numbered = f"SELECT row_number() OVER () AS line_number, * FROM {scan}"
    return f"(SELECT * EXCLUDE (line_number) FROM ({numbered}) WHERE line_number > 1)", names


def _impressions(file: Path) -> TableSource:
    scan, columns = _unnamed_first_column(file, LOG_COLUMNS)
    # Without the index column, the impression number is the row number from 0, as pandas wrote.
    session = quote(INDEX_COLUMN) if INDEX_COLUMN in columns else "row_number() OVER () - 1"
    keep = attributes(kept(columns, ("item_id", "timestamp", INDEX_COLUMN)))
    sql = f"""
        SELECT {session} AS session_id, item_id, timestamp,
               unnest(CASE WHEN trim(click) = '1' THEN ['view', 'click'] ELSE ['view'] END)
                   AS event_type,
               {keep}
        FROM {scan}
    """
    return TableSource("events", str(file), sql)


def _items(file: Path) -> TableSource:
    scan, columns = _unnamed_first_column(file, ("item_id",))
    keep = attributes(kept(columns, ("item_id", INDEX_COLUMN)))
    return TableSource("items", str(file), f"SELECT item_id, {keep} FROM {scan}")
