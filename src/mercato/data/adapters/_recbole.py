"""MovieLens in RecBole's atomic files: ``.inter`` ratings, ``.item`` movies, ``.user`` people."""

from __future__ import annotations

from pathlib import Path

from mercato.data._sources import ShopSource, TableSource, csv_scan, read_header
from mercato.data.adapters._base import register
from mercato.data.adapters._columns import attributes, find_file, quote

__all__ = ["MovieLensAdapter"]

#: The movie fields that have a canonical place; every other field goes to attributes.
MOVIE_TITLE = "movie_title"
GENRES = "class"


@register
class MovieLensAdapter:
    """RecBole atomic files of a MovieLens dataset (``ml-100k.inter``, ``.item``, ``.user``).

    The files are tab-separated with typed headers (``user_id:token``, ``rating:float``); the
    type suffix is dropped from every name. Each ``.inter`` row is a ``rating`` event whose
    ``value`` is the rating, at a Unix-seconds timestamp. The ``.item`` file gives the title,
    and its space-separated genres (``class``) give the category (the first genre listed) and,
    in full, the ``class`` attribute as a list; other fields (``release_year``) are attributes.
    ``.user`` fields (age, gender, occupation, zip code) are user attributes. The knowledge-graph
    files (``.kg``, ``.link``) have no canonical table and are not read. SOURCE is the
    ``.inter`` file or its folder.
    """

    name = "movielens"
    description = "MovieLens in RecBole atomic format: .inter ratings, .item movies, .user"

    def read(self, path: Path) -> ShopSource:
        inter = path if path.is_file() else find_file(path, ("*.inter",), self.name)
        tables = [_ratings(inter)]
        movies, people = inter.with_suffix(".item"), inter.with_suffix(".user")
        if movies.exists():
            tables.append(_movies(movies))
        if people.exists():
            tables.append(_people(people))
        return ShopSource(inter.stem, tuple(tables))


def _atomic_scan(file: Path, required: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """The file's scan and field name -> raw typed column (``user_id`` -> ``user_id:token``)."""
    fields = {column.split(":", 1)[0]: column for column in read_header(file, "\t")}
    typed = tuple(fields.get(name, f"{name}:token") for name in required)
    scan, _ = csv_scan(file, delimiter="\t", required=typed)
    return scan, fields


def _ratings(file: Path) -> TableSource:
    scan, fields = _atomic_scan(file, ("user_id", "item_id"))
    canonical = {
        "user_id": "user_id",
        "item_id": "item_id",
        "rating": "value",
        "timestamp": "timestamp",
    }
    select = [f"{quote(fields[raw])} AS {name}" for raw, name in canonical.items() if raw in fields]
    select.append("'rating' AS event_type")
    rest = {name: quote(raw) for name, raw in fields.items() if name not in canonical}
    select.append(attributes(rest))
    sql = f"SELECT {', '.join(select)} FROM {scan}"
    return TableSource("events", str(file), sql, timestamp_format="unix_s")


def _movies(file: Path) -> TableSource:
    scan, fields = _atomic_scan(file, ("item_id",))
    select = [f"{quote(fields['item_id'])} AS item_id"]
    if MOVIE_TITLE in fields:
        select.append(f"{quote(fields[MOVIE_TITLE])} AS title")
    rest = {
        name: quote(raw) for name, raw in fields.items() if name not in ("item_id", MOVIE_TITLE)
    }
    if GENRES in fields:
        # token_seq fields are space-separated; doubled spaces must not make empty genres.
        split = f"string_split(trim({quote(fields[GENRES])}), ' ')"
        genres = f"list_filter({split}, lambda genre: genre <> '')"
        select.append(f"{genres}[1] AS category")
        rest[GENRES] = f"to_json({genres})"
    select.append(attributes(rest))
    sql = f"SELECT {', '.join(select)} FROM {scan}"
    return TableSource("items", str(file), sql)


def _people(file: Path) -> TableSource:
    scan, fields = _atomic_scan(file, ("user_id",))
    rest = {name: quote(raw) for name, raw in fields.items() if name != "user_id"}
    sql = f"SELECT {quote(fields['user_id'])} AS user_id, {attributes(rest)} FROM {scan}"
    return TableSource("users", str(file), sql)
