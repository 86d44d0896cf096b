"""H&M Personalized Fashion Recommendations (Kaggle 2022): purchases, articles, photos, people."""

from __future__ import annotations

from pathlib import Path

from mercato.data._sources import ShopSource, TableSource, csv_scan
from mercato.data.adapters._base import register
from mercato.data.adapters._columns import (
    attributes,
    find_file,
    first_present,
    kept,
    photo_table,
    quote,
)

__all__ = ["HMAdapter"]

# The project sample's file names first, then the competition's.
TRANSACTIONS = ("transactions_train_sample.csv", "transactions_train.csv")
ARTICLES = ("articles_train_sample.csv", "articles.csv")
# customers_sample.csv in the sample folder is a later, different draw that shares only a few
# hundred customers with the transactions; customers_sample_v1.csv holds exactly theirs.
CUSTOMERS = ("customers_sample_v1.csv", "customers.csv")

#: Category levels of an article, broadest first: e.g. Ladieswear > Garment Upper body > Blouse.
CATEGORY_LEVELS = ("index_group_name", "product_group_name", "product_type_name")
ARTICLE_TEXT = {"title": "prod_name", "description": "detail_desc"}
PHOTO_FRAME = "mercato_hm_photos"


@register
class HMAdapter:
    """The H&M competition files, or the project's sample of them.

    * transactions -> ``purchase`` events: ``t_dat`` (a date), ``customer_id``, ``article_id``,
      ``price`` (normalised by H&M), one row per unit bought (so ``quantity`` is 1 and repeated
      rows are genuine); ``sales_channel_id`` goes to attributes.
    * articles -> items: ``prod_name`` title, ``detail_desc`` description, category path
      ``index_group_name > product_group_name > product_type_name``, every other column in
      attributes, and ``image`` = ``thumbs/<article_id>.jpg`` (or the competition's
      ``images/0xx/<article_id>.jpg``) where that photo exists.
    * customers -> users, every column in attributes.

    ``article_id`` is read as text: it has a leading zero. SOURCE is the folder.
    """

    name = "hm"
    description = "H&M fashion: transactions, articles with photos, customers (Kaggle 2022)"

    def read(self, path: Path) -> ShopSource:
        folder = path if path.is_dir() else path.parent
        tables = [_transactions(find_file(folder, TRANSACTIONS, self.name))]
        articles = first_present(folder, ARTICLES)
        if articles is not None:
            tables.append(_articles(articles))
        customers = first_present(folder, CUSTOMERS)
        if customers is not None:
            tables.append(_customers(customers))
        return ShopSource(folder.name, tuple(tables))


def _transactions(file: Path) -> TableSource:
    scan, columns = csv_scan(file, required=("t_dat", "customer_id", "article_id"))
    mapped = {
        "user_id": "customer_id",
        "item_id": "article_id",
        "timestamp": "t_dat",
        **({"price": "price"} if "price" in columns else {}),
    }
    select = [f"{quote(raw)} AS {name}" for name, raw in mapped.items()]
    select += ["'purchase' AS event_type", "'1' AS quantity"]
    select.append(attributes(kept(columns, mapped.values())))
    sql = f"SELECT {', '.join(select)} FROM {scan}"
    # One row per unit bought: identical rows are several units of one basket line.
    return TableSource("events", str(file), sql, timestamp_format="date", allow_duplicates=True)


def _articles(file: Path) -> TableSource:
    scan, columns = csv_scan(file, required=("article_id",))
    text = {name: raw for name, raw in ARTICLE_TEXT.items() if raw in columns}
    levels = [quote(level) for level in CATEGORY_LEVELS if level in columns]
    select = ["a.article_id AS item_id"]
    select += [f"a.{quote(raw)} AS {name}" for name, raw in text.items()]
    if levels:
        select.append(
            f"concat_ws(' > ', {', '.join(f'a.{level}' for level in levels)}) AS category"
        )
    select.append("p.image AS image")
    used = ["article_id", *text.values(), *CATEGORY_LEVELS]
    select.append(attributes(kept(columns, used, alias="a")))

    folder = file.parent
    sql = f"""
        SELECT {", ".join(select)}
        FROM {scan} a LEFT JOIN {PHOTO_FRAME} p ON p.photo_id = a.article_id
    """
    frames = {PHOTO_FRAME: photo_table(folder)}
    return TableSource("items", str(file), sql, frames=frames, base_dir=folder)


def _customers(file: Path) -> TableSource:
    scan, columns = csv_scan(file, required=("customer_id",))
    keep = attributes(kept(columns, ["customer_id"]))
    sql = f"SELECT customer_id AS user_id, {keep} FROM {scan}"
    return TableSource("users", str(file), sql)
