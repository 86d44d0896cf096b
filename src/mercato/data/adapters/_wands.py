"""WANDS (Wayfair ANnotation DataSet): real product-search queries."""

from __future__ import annotations

from pathlib import Path

from mercato.data._sources import ShopSource, TableSource, csv_scan
from mercato.data.adapters._base import register
from mercato.data.adapters._columns import attributes, find_file, kept

__all__ = ["WandsAdapter"]


@register
class WandsAdapter:
    """WANDS ``query.csv`` (tab-separated ``query_id, query, query_class``) as search queries.

    The query text is the query; ``query_id`` and ``query_class`` (the product class the query
    asks for) are kept in its attributes. ``product.csv`` and ``label.csv`` are not read.
    SOURCE is the file or its folder.
    """

    name = "wands"
    description = "WANDS (Wayfair) product-search queries"

    def read(self, path: Path) -> ShopSource:
        file = path if path.is_file() else find_file(path, ("query.csv",), self.name)
        scan, columns = csv_scan(file, delimiter="\t", required=("query",))
        rest = attributes(kept(columns, ("query",)))
        queries = TableSource("queries", str(file), f"SELECT query, {rest} FROM {scan}")
        return ShopSource(file.parent.name, (queries,))
