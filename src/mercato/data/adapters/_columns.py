"""SQL pieces the format adapters share: quoting, kept attributes, line scans, photo folders."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import pyarrow as pa

from mercato.data._sources import csv_scan, sql_literal
from mercato.errors import DataError

__all__ = [
    "PHOTO_FOLDERS",
    "PHOTO_SUFFIXES",
    "attributes",
    "find_file",
    "first_present",
    "kept",
    "numbered_lines",
    "photo_table",
    "quote",
]

#: File endings counted as product photos when a photo folder is listed.
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
#: Where datasets keep their photos: downscaled copies first, then the originals.
PHOTO_FOLDERS = ("thumbs", "images")


def quote(column: str) -> str:
    """A column name as a SQL identifier (names may hold spaces, colons or quotes)."""
    return '"' + column.replace('"', '""') + '"'


def attributes(values: Mapping[str, str]) -> str:
    """The ``attributes`` column: a JSON object of name -> SQL expression, as text.

    Every source column the canonical tables have no place for goes here, so nothing is dropped.
    """
    if not values:
        return "NULL AS attributes"
    pairs = ", ".join(f"{sql_literal(name)}, {expression}" for name, expression in values.items())
    return f"CAST(json_object({pairs}) AS VARCHAR) AS attributes"


def kept(columns: Iterable[str], used: Iterable[str], *, alias: str = "") -> dict[str, str]:
    """Attribute name -> column reference for every column not mapped to a canonical one.

    ``alias`` qualifies the references (``a."colour"``) when the SELECT joins several tables.
    """
    taken = set(used)
    prefix = f"{alias}." if alias else ""
    return {column: prefix + quote(column) for column in columns if column not in taken}


def numbered_lines(path: Path) -> str:
    """A SELECT of ``line_number`` (from 1) and ``line`` (the raw text) for each line of a file.

    For formats that are not plain delimited tables (whitespace-aligned columns, one session per
    line): the adapter splits ``line`` in SQL. Blank lines come through as a NULL ``line``, so
    ``line_number`` always matches the file.
    """
    # The unit separator never occurs in these text files, so each line is one field.
    scan, _ = csv_scan(path, delimiter="\x1f", names=("line",))
    return f"SELECT row_number() OVER () AS line_number, line FROM {scan}"


def first_present(folder: Path, candidates: Iterable[str]) -> Path | None:
    """The first of ``candidates`` (names or glob patterns) present in ``folder``, if any."""
    for name in candidates:
        matches = sorted(folder.glob(name))
        if matches:
            return matches[0]
    return None


def find_file(folder: Path, candidates: Iterable[str], format_name: str) -> Path:
    """The first of ``candidates`` (names or glob patterns) present in ``folder``.

    Raises:
        DataError: none is there; the message names what the format looks for.
    """
    names = list(candidates)
    found = first_present(folder, names)
    if found is not None:
        return found
    raise DataError(
        f"the {format_name} format needs one of {', '.join(names)} in the source folder",
        file=folder,
        found=sorted(path.name for path in folder.iterdir())[:10] if folder.is_dir() else None,
        fix=f"point SOURCE at the folder that holds {names[0]}",
    )


def photo_table(folder: Path, subfolders: Iterable[str] = PHOTO_FOLDERS) -> pa.Table:
    """An Arrow table of ``photo_id`` (file name without ending) and ``image`` (relative path).

    Lists the first of ``subfolders`` that exists under ``folder``, with its subfolders, once, so
    that an item gets an image path only when its photo really exists: adapters LEFT JOIN it on
    the item id. Paths are relative to ``folder`` (the source's ``base_dir``). Without a photo
    folder the table is empty, and every image is missing.
    """
    ids: list[str] = []
    images: list[str] = []
    root = next((folder / name for name in subfolders if (folder / name).is_dir()), None)
    for directory, _, files in os.walk(root) if root is not None else ():
        relative = Path(directory).relative_to(folder)
        for name in sorted(files):
            photo = relative / name
            if photo.suffix.lower() in PHOTO_SUFFIXES:
                ids.append(photo.stem)
                images.append(photo.as_posix())
    return pa.table(
        {"photo_id": pa.array(ids, pa.string()), "image": pa.array(images, pa.string())}
    )
