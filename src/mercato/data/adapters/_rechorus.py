"""ReChorus's Amazon Grocery files: ``train.csv`` interactions and ``item_meta.csv`` relations."""

from __future__ import annotations

from pathlib import Path

from mercato.data._sources import ShopSource, TableSource, csv_scan
from mercato.data.adapters._base import register
from mercato.data.adapters._columns import attributes, find_file, kept, quote

__all__ = ["GroceryAdapter"]

INTERACTIONS = ("train.csv",)
ITEM_META = "item_meta.csv"
CATEGORY = "i_category"
#: ReChorus names item-to-item relations ``r_<relation>`` and writes them as ``[1, 2, 3]``.
RELATION_PREFIX = "r_"


@register
class GroceryAdapter:
    """ReChorus's ``Grocery_and_Gourmet_Food`` folder (tab-separated, ids from 1).

    ``train.csv`` (``user_id, item_id, time``) rows are ``purchase`` events (an Amazon review
    stands for a purchase) with Unix-seconds times, at day resolution. Other columns are kept in
    attributes. ``dev.csv`` and ``test.csv`` hold sampled negatives for ReChorus's own
    evaluation and are not read. ``item_meta.csv`` gives ``i_category`` as the category; its
    relation lists ``r_complement`` (also bought) and ``r_substitute`` (also viewed) become JSON
    lists of item ids in attributes, with every other column. SOURCE is the folder.
    """

    name = "grocery"
    description = "ReChorus Amazon Grocery: train.csv purchases, item_meta.csv relations"

    def read(self, path: Path) -> ShopSource:
        folder = path if path.is_dir() else path.parent
        interactions = path if path.is_file() else find_file(folder, INTERACTIONS, self.name)
        tables = [_interactions(interactions)]
        if (folder / ITEM_META).exists():
            tables.append(_item_meta(folder / ITEM_META))
        return ShopSource(folder.name, tuple(tables))


def _interactions(file: Path) -> TableSource:
    scan, columns = csv_scan(file, delimiter="\t", required=("user_id", "item_id", "time"))
    keep = attributes(kept(columns, ("user_id", "item_id", "time")))
    sql = f"""
        SELECT user_id, item_id, 'purchase' AS event_type, time AS timestamp, {keep}
        FROM {scan}
    """
    return TableSource("events", str(file), sql, timestamp_format="unix_s")


def _item_meta(file: Path) -> TableSource:
    scan, columns = csv_scan(file, delimiter="\t", required=("item_id",))
    values = kept(columns, ("item_id", CATEGORY))
    for column in values:
        if column.startswith(RELATION_PREFIX):
            # '[1, 2]' reads as a list of id strings; text that is not a list is kept as it is.
            as_list = f"to_json(TRY_CAST({quote(column)} AS VARCHAR[]))"
            values[column] = f"COALESCE({as_list}, to_json({quote(column)}))"
    category = f"{quote(CATEGORY)} AS category, " if CATEGORY in columns else ""
    sql = f"SELECT item_id, {category}{attributes(values)} FROM {scan}"
    return TableSource("items", str(file), sql)
