"""Taobao UserBehavior (Alibaba Tianchi): page views, carts, favourites and purchases."""

from __future__ import annotations

from pathlib import Path

from mercato.data._sources import ShopSource, TableSource, csv_scan
from mercato.data.adapters._base import register
from mercato.data.adapters._columns import find_file

__all__ = ["TaobaoAdapter"]

#: The file has no header line; these are the columns the dataset page documents.
COLUMNS = ("user_id", "item_id", "category_id", "behavior_type", "timestamp")
BEHAVIOURS = {"pv": "view", "cart": "cart", "fav": "favourite", "buy": "purchase"}


@register
class TaobaoAdapter:
    """``UserBehavior.csv``: ``user_id,item_id,category_id,behavior_type,timestamp``, no header.

    ``behavior_type`` ``pv`` / ``cart`` / ``fav`` / ``buy`` become ``view`` / ``cart`` /
    ``favourite`` / ``purchase``; timestamps are Unix seconds. Each item's category id goes to a
    catalogue row (items in order of first appearance), since the events table has no place for
    it. SOURCE is the file or a folder with ``UserBehavior*.csv``.
    """

    name = "taobao"
    description = "Taobao UserBehavior: pv/cart/fav/buy with item categories (Tianchi)"

    def read(self, path: Path) -> ShopSource:
        file = path if path.is_file() else find_file(path, ("UserBehavior*.csv",), self.name)
        scan, _ = csv_scan(file, names=COLUMNS)
        events_sql = f"""
            SELECT user_id, item_id, behavior_type AS event_type, timestamp FROM {scan}
        """
        # An item has one category in this dataset; any_value keeps the query a plain
        # aggregation that streams, and the first row number keeps file order for the ids.
        items_sql = f"""
            SELECT item_id, any_value(category_id) AS category FROM (
                SELECT row_number() OVER () AS row_number, item_id, category_id FROM {scan}
            )
            GROUP BY item_id ORDER BY min(row_number)
        """
        origin = str(file)
        events = TableSource(
            "events",
            origin,
            events_sql,
            timestamp_format="unix_s",
            event_types=BEHAVIOURS,
            header_lines=0,
        )
        items = TableSource("items", origin, items_sql, header_lines=0)
        return ShopSource(file.stem, (events, items))
