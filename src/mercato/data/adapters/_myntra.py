"""Myntra Fashion Product Images (Kaggle): a catalogue with photos and no interactions."""

from __future__ import annotations

from pathlib import Path

from mercato.data._sources import ShopSource, TableSource, csv_scan, read_header
from mercato.data.adapters._base import register
from mercato.data.adapters._columns import (
    attributes,
    find_file,
    kept,
    numbered_lines,
    photo_table,
    quote,
)
from mercato.errors import SchemaError

__all__ = ["MyntraAdapter"]

STYLES = ("styles.csv",)
IMAGE_LINKS = "images.csv"
TITLE = "productDisplayName"
CATEGORY_LEVELS = ("masterCategory", "subCategory", "articleType")
PHOTO_FRAME = "mercato_myntra_photos"


@register
class MyntraAdapter:
    """``styles.csv`` (one row per product) with photos in ``thumbs/<id>.jpg`` or ``images/``.

    Items only: ``productDisplayName`` is the title, ``masterCategory > subCategory >
    articleType`` the category path, ``image`` the product's photo where it exists; ``gender``,
    ``baseColour``, ``season``, ``year``, ``usage`` and the original CDN address from
    ``images.csv`` (``image_url``) are attributes. Photos without a ``styles.csv`` row are not
    items.

    The Kaggle ``styles.csv`` is not strict CSV: some product names contain unquoted commas, so
    a row has more fields than the header. The name is the last column, so every field past the
    header's count belongs to it and is joined back. SOURCE is the folder.
    """

    name = "myntra"
    description = "Myntra fashion catalogue: styles.csv attributes and product photos"

    def read(self, path: Path) -> ShopSource:
        folder = path if path.is_dir() else path.parent
        styles = path if path.is_file() else find_file(folder, STYLES, self.name)
        items = _styles(styles, folder)
        return ShopSource(folder.name, (items,))


def _styles(file: Path, folder: Path) -> TableSource:
    header = read_header(file, ",")
    if "id" not in header or header[-1] != TITLE:
        raise SchemaError(
            "styles.csv does not have the Myntra columns",
            file=file,
            found=list(header),
            expected=f"an 'id' column and '{TITLE}' as the last column",
            fix="point SOURCE at the Myntra Fashion Product Images folder",
        )

    levels = ", ".join(f"s.{quote(level)}" for level in CATEGORY_LEVELS if level in header)
    extra = kept(header, ("id", TITLE, *CATEGORY_LEVELS), alias="s")
    select = [
        "s.id AS item_id",
        f"s.{quote(TITLE)} AS title",
        f"concat_ws(' > ', {levels}) AS category" if levels else "NULL AS category",
    ]
    source = f"({_style_rows(file, header)}) s"

    links = folder / IMAGE_LINKS
    if links.exists():
        scan, _ = csv_scan(links, required=("filename", "link"))
        source += f" LEFT JOIN {scan} l ON l.filename = s.id || '.jpg'"
        extra["image_url"] = "l.link"
    source += f" LEFT JOIN {PHOTO_FRAME} p ON p.photo_id = s.id"
    select += ["p.image AS image", attributes(extra)]

    sql = f"SELECT {', '.join(select)} FROM {source}"
    frames = {PHOTO_FRAME: photo_table(folder)}
    return TableSource("items", str(file), sql, frames=frames, base_dir=folder)


def _style_rows(file: Path, header: tuple[str, ...]) -> str:
    """The rows of styles.csv, one text column per header name, names with commas whole."""
    # Split each line here rather than with read_csv: an extra comma in a name must not fail.
    fields = {
        name: _unquoted(f"fields[{index}]") for index, name in enumerate(header[:-1], start=1)
    }
    fields[TITLE] = _unquoted(f"array_to_string(fields[{len(header)}:], ',')")
    columns = ", ".join(f"{value} AS {quote(name)}" for name, value in fields.items())
    return f"""
        SELECT {columns}
        FROM (SELECT line_number, string_split(line, ',') AS fields FROM ({numbered_lines(file)}))
        WHERE line_number > 1
    """


def _unquoted(field: str) -> str:
    """A field with its CSV quotes removed (doubled quotes inside become one), if it has any."""
    return (
        f"CASE WHEN {field} LIKE '\"%\"' THEN replace({field}[2:-2], '\"\"', '\"') ELSE {field} END"
    )
