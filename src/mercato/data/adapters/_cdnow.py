"""CDNOW (Fader & Hardie): an online CD shop's purchase log, with no item ids."""

from __future__ import annotations

from pathlib import Path

from mercato.data._sources import ShopSource, TableSource
from mercato.data.adapters._base import register
from mercato.data.adapters._columns import find_file, numbered_lines

__all__ = ["CDNOW_ITEM", "CdnowAdapter"]

#: The one item every CDNOW purchase is of: the log records baskets, not which CDs.
CDNOW_ITEM = "cd"


@register
class CdnowAdapter:
    """``CDNOW_master.txt``: ``customer_id date number_of_cds dollar_value`` per transaction.

    Columns are aligned with runs of spaces (and the Lifetimes copy starts with a header line).
    Each row is a ``purchase`` event of customer ``customer_id`` (text: ``00001`` keeps its
    zeros) on ``date`` (``YYYYMMDD``), with ``quantity`` = number of CDs and ``value`` = the
    dollars paid. The log names no items, and ``item_id`` is required, so every purchase is of
    the single item ``CDNOW_ITEM`` (``"cd"``): fine for purchase-frequency and customer-value
    models, meaningless for item recommendation. A customer may place identical orders on one
    day, so repeated rows are genuine. SOURCE is the file or its folder.
    """

    name = "cdnow"
    description = "CDNOW purchase log: customer, date, CDs, dollars (no item ids)"

    def read(self, path: Path) -> ShopSource:
        file = path if path.is_file() else find_file(path, ("CDNOW_master.txt",), self.name)
        has_header = _has_header(file)
        sql = f"""
            SELECT fields[1] AS user_id, '{CDNOW_ITEM}' AS item_id, 'purchase' AS event_type,
                   fields[2] AS timestamp, fields[3] AS quantity, fields[4] AS value
            FROM (SELECT line_number, regexp_split_to_array(trim(line), '\\s+') AS fields
                  FROM ({numbered_lines(file)}))
            WHERE line_number > {1 if has_header else 0}
        """
        events = TableSource(
            "events",
            str(file),
            sql,
            timestamp_format="%Y%m%d",
            header_lines=1 if has_header else 0,
            allow_duplicates=True,
        )
        return ShopSource(file.stem, (events,))


def _has_header(file: Path) -> bool:
    """Whether the first line names the columns (the Lifetimes copy) or is data (the original)."""
    with file.open("rb") as handle:
        first = handle.readline().decode("utf-8", errors="replace").split()
    return bool(first) and not first[0].isdigit()
