"""Amazon review sequences as one line per user (``user item item ...``, oldest first)."""

from __future__ import annotations

from pathlib import Path

from mercato.data._sources import ShopSource, TableSource, csv_scan
from mercato.data.adapters._base import register, require_file

__all__ = ["AmazonSequenceAdapter"]


@register
class AmazonSequenceAdapter:
    """The S3-Rec / ICLRec sequence files (``Beauty.txt``, ``Sports.txt``, ...).

    Each line is a user followed by the items they reviewed in time order. A review on Amazon
    stands for a purchase; the files carry no timestamps, so ``position`` keeps the order.
    SOURCE is the file, or a folder holding ``Beauty.txt``.
    """

    name = "amazon-seq"
    description = "Amazon review sequences, one 'user item item ...' line per user"

    def read(self, path: Path) -> ShopSource:
        file = path if path.is_file() else require_file(path, "Beauty.txt", self.name)
        # One text column per line: the unit separator never occurs in these files.
        scan, _ = csv_scan(file, delimiter="\x1f", names=("line",))
        sql = f"""
            SELECT parts[1] AS user_id, unnest(parts[2:]) AS item_id, 'purchase' AS event_type
            FROM (SELECT string_split(trim(line), ' ') AS parts FROM {scan})
        """
        events = TableSource("events", str(file), sql, header_lines=0)
        return ShopSource(file.stem, (events,))
