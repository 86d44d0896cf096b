"""Bad input: a clear message naming file, row, column, what was found and the fix, and no harm.

Every case ingests over an existing store and checks that the store is byte-for-byte as it was,
that no partial, staging or spill file is left beside it, and that the message is a sentence of
mercato's, not a DuckDB error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from textwrap import dedent

import duckdb
import pandas as pd
import pytest

from mercato.data import ShopSource, Store, frame_source, get_adapter, ingest
from mercato.errors import DataError, MercatoError, SchemaError, StoreError

HEADER = "user_id,item_id,event_type,timestamp,session_id,value,price,quantity"

#: Fragments of DuckDB's own messages that must never reach a user.
DUCKDB_TRACES = (
    "Binder Error",
    "Conversion Error",
    "Invalid Input Error",
    "CSV Error",
    "Catalog Error",
    "Parser Error",
    "IO Error",
    "LINE 1",
    "Traceback",
    "mercato: invalid row",
)


@dataclass(frozen=True)
class PreviousStore:
    path: Path
    content: bytes

    def assert_untouched(self) -> None:
        assert self.path.read_bytes() == self.content
        assert sorted(path.name for path in self.path.parent.iterdir()) == [self.path.name]


@pytest.fixture(scope="module")
def good_store(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    events = pd.DataFrame({"user_id": ["u1"], "item_id": ["i1"], "event_type": ["view"]})
    path = tmp_path_factory.mktemp("good") / "shop.duckdb"
    ingest(frame_source("before", {"events": events}), path)
    return path.read_bytes()


@pytest.fixture
def previous(tmp_path: Path, good_store: bytes) -> PreviousStore:
    """A good store that every failing ingest tries to replace."""
    path = tmp_path / "stores" / "shop.duckdb"
    path.parent.mkdir()
    path.write_bytes(good_store)
    assert Store(path).summary().rows == {"events": 1}
    return PreviousStore(path, good_store)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "input"
    path.mkdir()
    return path


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(dedent(text).lstrip(), encoding="utf-8")
    return path


def events_csv(folder: Path, *rows: str) -> Path:
    return write(folder, "events.csv", "\n".join((HEADER, *rows)) + "\n")


def failing(source_path: Path | ShopSource, previous: PreviousStore) -> MercatoError:
    """The error of ingesting ``source_path`` over the previous store, after the usual checks."""
    with pytest.raises(MercatoError) as caught:
        source = (
            source_path
            if isinstance(source_path, ShopSource)
            else get_adapter("generic").read(source_path)
        )
        ingest(source, previous.path)
    previous.assert_untouched()
    message = str(caught.value)
    assert not any(trace in message for trace in DUCKDB_TRACES), message
    return caught.value


def assert_at(
    error: MercatoError,
    file: Path,
    *,
    row: int | None,
    line: int | None = None,
    column: str | None = None,
    found: object = None,
) -> None:
    """The error names this place, both in its attributes and in its message."""
    assert isinstance(error, DataError)
    message = str(error)
    assert error.file == str(file)
    assert message.startswith(str(file))
    assert error.row == row
    assert error.line == line
    if row is not None:
        assert f"row {row}" in message
    if line is not None and line != row:
        assert f"(line {line})" in message
    assert error.column == column
    if column is not None:
        assert f"column '{column}'" in message
    if found is not None:
        assert error.found == found
        assert repr(found) in message


def test_missing_required_column(folder: Path, previous: PreviousStore) -> None:
    file = write(folder, "events.csv", "user_id,event_type\nu1,view\n")
    error = failing(file, previous)

    assert isinstance(error, SchemaError)
    assert_at(error, file, row=None)
    assert "missing required column(s) item_id" in str(error)
    assert error.found == ["user_id", "event_type"]
    assert error.fix is not None and "mercato.yaml" in error.fix


def test_unparseable_timestamp(folder: Path, previous: PreviousStore) -> None:
    file = events_csv(folder, "u1,i1,view,2024-01-01,s1,,,", "u1,i2,view,yesterday,s1,,,")
    error = failing(file, previous)

    assert_at(error, file, row=2, line=3, column="timestamp", found="yesterday")
    assert "unparseable timestamp" in str(error)
    assert error.expected == "a timestamp in format iso"
    assert error.fix is not None and "timestamp_format" in error.fix


def test_unknown_event_type(folder: Path, previous: PreviousStore) -> None:
    file = events_csv(folder, "u1,i1,view,,,,,", "u1,i1,cart,,,,,", "u1,i1,teleport,,,,,")
    error = failing(file, previous)

    assert_at(error, file, row=3, line=4, column="event_type", found="teleport")
    assert error.expected is not None and "view, click, cart" in error.expected
    assert error.fix is not None and "map the name" in error.fix


def test_unknown_event_type_lists_the_configured_names(
    folder: Path, previous: PreviousStore
) -> None:
    write(folder, "log.csv", "user_id,item_id,action\nu1,i1,pv\nu1,i1,fav\n")
    write(
        folder,
        "mercato.yaml",
        """
        tables:
          events:
            path: log.csv
            columns: {event_type: action}
            event_types: {pv: view, buy: purchase}
        """,
    )
    error = failing(folder, previous)

    assert_at(error, folder / "log.csv", row=2, line=3, column="event_type", found="fav")
    assert error.expected == "one of buy, pv"


def test_negative_price(folder: Path, previous: PreviousStore) -> None:
    file = events_csv(folder, "u1,i1,purchase,,,,-4.5,1")
    error = failing(file, previous)

    assert_at(error, file, row=1, line=2, column="price", found="-4.5")
    assert error.expected == "a price >= 0"


@pytest.mark.parametrize("price", ["€12", "nan", "12.5.0"])
def test_price_that_is_not_a_number(folder: Path, previous: PreviousStore, price: str) -> None:
    file = events_csv(folder, "u1,i1,view,,,,3,", f"u1,i2,view,,,,{price},")
    error = failing(file, previous)

    assert_at(error, file, row=2, line=3, column="price", found=price)
    assert "not a number" in str(error)
    assert error.fix == "correct the value or leave price empty"


def test_duplicate_events_are_an_error_by_default(folder: Path, previous: PreviousStore) -> None:
    row = "u1,i1,view,2024-01-01T10:00:00,s1,,2.5,"
    file = events_csv(folder, "u1,i0,view,2024-01-01T09:00:00,s1,,,", row, "u2,i1,view,,,,,", row)
    error = failing(file, previous)

    assert_at(error, file, row=2, line=3)
    assert "occurs 2 times (again at row 4)" in str(error)
    assert error.fix is not None and "dedupe" in error.fix


def test_duplicates_are_dropped_on_request(folder: Path, tmp_path: Path) -> None:
    from mercato.data import CleaningConfig

    row = "u1,i1,view,2024-01-01T10:00:00,s1,,2.5,"
    file = events_csv(folder, row, "u2,i1,view,,,,,", row)
    report = ingest(
        get_adapter("generic").read(file), tmp_path / "s.duckdb", cleaning=CleaningConfig(True)
    )

    assert report.rows == {"events": 2}
    assert [(step.name, step.rows_before, step.rows_after) for step in report.cleaning] == [
        ("dedupe", 3, 2)
    ]


def test_empty_file(folder: Path, previous: PreviousStore) -> None:
    file = folder / "events.csv"
    file.write_bytes(b"")
    error = failing(file, previous)

    assert_at(error, file, row=None)
    assert "the file is empty" in str(error)


def test_header_only_file(folder: Path, previous: PreviousStore) -> None:
    file = events_csv(folder)
    error = failing(file, previous)

    assert_at(error, file, row=None)
    assert "no events rows were found" in str(error)
    assert error.fix is not None and "cut off" in error.fix


def test_file_cut_off_mid_row(folder: Path, previous: PreviousStore) -> None:
    file = folder / "events.csv"
    file.write_text(f"{HEADER}\nu1,i1,view,,,,,\nu1,i2,view,,,,,\nu1,i3,vi", encoding="utf-8")
    error = failing(file, previous)

    assert_at(error, file, row=3, line=4, found="u1,i3,vi")
    assert "a row has 3 fields where the header has 8" in str(error)
    assert "truncated" in str(error)


def test_unterminated_quote(folder: Path, previous: PreviousStore) -> None:
    file = events_csv(folder, "u1,i1,view,,,,,", 'u1,"i2,view,,,,,')
    error = failing(file, previous)

    assert_at(error, file, row=2, line=3, found='u1,"i2,view,,,,,')
    assert "a quoted value never ends" in str(error)


def test_binary_file(folder: Path, previous: PreviousStore) -> None:
    file = folder / "events.csv"
    file.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(128, 256)) * 8)
    error = failing(file, previous)

    assert_at(error, file, row=None)
    assert "garbled or binary" in str(error)
    assert error.fix == "re-export the file as UTF-8 CSV"


def test_binary_bytes_after_a_good_header(folder: Path, previous: PreviousStore) -> None:
    file = folder / "events.csv"
    file.write_bytes(f"{HEADER}\nu1,i1,view,,,,,\n".encode() + b"u1,\xff\xfe\x80\x81,view,,,,,\n")
    error = failing(file, previous)

    assert_at(error, file, row=2, line=3, found="u1,????,view,,,,,")
    assert "not UTF-8 text" in str(error)


def test_wrong_delimiter(folder: Path, previous: PreviousStore) -> None:
    file = write(folder, "events.csv", "user_id;item_id;event_type\nu1;i1;view\n")
    error = failing(file, previous)

    assert isinstance(error, SchemaError)
    assert_at(error, file, row=None, found="user_id;item_id;event_type")
    assert error.fix is not None and "delimiter: ';'" in error.fix


def test_ids_that_lost_their_leading_zeros(folder: Path, previous: PreviousStore) -> None:
    write(folder, "items.csv", "item_id,title\n0012,Tea\n0034,Cup\n")
    write(folder, "events.csv", "user_id,item_id,event_type\n007,0012,view\n007,34,view\n")
    error = failing(folder, previous)

    assert_at(error, folder / "events.csv", row=2, line=3, column="item_id", found="34")
    assert error.expected == "the items table's id '0034'"
    assert error.fix is not None and "leading zeros" in error.fix


def test_user_ids_that_lost_their_leading_zeros(folder: Path, previous: PreviousStore) -> None:
    write(folder, "users.csv", "user_id\n0007\n")
    write(folder, "events.csv", "user_id,item_id,event_type\n7,A,view\n")
    error = failing(folder, previous)

    assert_at(error, folder / "events.csv", row=1, line=2, column="user_id", found="7")


def test_event_without_user_or_session(folder: Path, previous: PreviousStore) -> None:
    file = events_csv(folder, "u1,i1,view,,,,,", ",i2,view,,,,,")
    error = failing(file, previous)

    assert_at(error, file, row=2, line=3, column="user_id", found="(empty)")
    assert "neither a user_id nor a session_id" in str(error)


def test_event_without_item(folder: Path, previous: PreviousStore) -> None:
    file = events_csv(folder, "u1, ,view,,,,,")
    error = failing(file, previous)

    assert_at(error, file, row=1, line=2, column="item_id", found="(empty)")
    assert "item_id is missing" in str(error)


def test_the_first_bad_row_is_named_whatever_the_rule(
    folder: Path, previous: PreviousStore
) -> None:
    file = events_csv(folder, "u1,i1,view,,,,,", "u1,i1,view,,,,-1,", "u1,i1,nope,,,,,")
    error = failing(file, previous)

    assert_at(error, file, row=2, line=3, column="price", found="-1")


def test_repeated_catalogue_id(folder: Path, previous: PreviousStore) -> None:
    file = write(folder, "items.csv", "item_id,title\nA,Tea\nB,Cup\nA,Mug\n")
    error = failing(folder, previous)

    assert_at(error, file, row=3, line=4, column="item_id", found="A")
    assert "occurs more than once in the items table" in str(error)


def test_bad_review_rating(folder: Path, previous: PreviousStore) -> None:
    write(folder, "items.csv", "item_id\nA\n")
    file = write(folder, "reviews.csv", "user_id,item_id,rating,text\nu1,A,five,很好\n")
    error = failing(folder, previous)

    assert_at(error, file, row=1, line=2, column="rating", found="five")


def test_query_without_text(folder: Path, previous: PreviousStore) -> None:
    write(folder, "items.csv", "item_id\nA\n")
    file = write(folder, "queries.csv", "session_id,query\ns1,tea\ns1,  \n")
    error = failing(folder, previous)

    assert_at(error, file, row=2, line=3, column="query", found="(empty)")


def test_error_in_a_later_source_names_that_file(folder: Path, previous: PreviousStore) -> None:
    first = write(folder, "a.csv", "user_id,item_id,event_type\nu1,i1,view\nu1,i2,view\n")
    second = write(folder, "b.csv", "user_id,item_id,event_type\nu2,i3,view\nu2,i4,jump\n")
    adapter = get_adapter("generic")
    source = ShopSource("two", adapter.read(first).tables + adapter.read(second).tables)
    error = failing(source, previous)

    assert_at(error, second, row=2, line=3, column="event_type", found="jump")


def test_frame_rows_are_counted_without_a_header(previous: PreviousStore) -> None:
    events = pd.DataFrame(
        {
            "user_id": ["u1", "u2"],
            "item_id": ["i1", "i2"],
            "event_type": ["view", "view"],
            "attributes": ['{"ok": 1}', "{not json"],
        }
    )
    error = failing(frame_source("frames", {"events": events}), previous)

    assert isinstance(error, DataError)
    assert error.file == "the events DataFrame"
    assert (error.row, error.line, error.column) == (2, 2, "attributes")
    assert "(line" not in str(error)


def test_source_without_tables(previous: PreviousStore) -> None:
    error = failing(ShopSource("nothing", ()), previous)

    assert isinstance(error, SchemaError)
    assert "describes no table" in str(error)


def test_failed_ingest_into_a_new_folder_leaves_no_folder(folder: Path, tmp_path: Path) -> None:
    file = events_csv(folder, "u1,i1,teleport,,,,,")
    store = tmp_path / "new" / "deeper" / "shop.duckdb"
    with pytest.raises(DataError):
        ingest(get_adapter("generic").read(file), store)

    assert not (tmp_path / "new").exists()


def test_ingest_will_not_overwrite_a_file_that_is_not_a_store(folder: Path, tmp_path: Path) -> None:
    file = events_csv(folder, "u1,i1,view,,,,,")
    precious = tmp_path / "notes.duckdb"
    precious.write_text("my notes", encoding="utf-8")
    with pytest.raises(StoreError, match="is not a mercato store, so ingest will not overwrite"):
        ingest(get_adapter("generic").read(file), precious)

    assert precious.read_text(encoding="utf-8") == "my notes"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["input", "notes.duckdb"]


def test_ingest_into_a_folder_path(folder: Path, tmp_path: Path) -> None:
    file = events_csv(folder, "u1,i1,view,,,,,")
    with pytest.raises(StoreError, match="is a folder"):
        ingest(get_adapter("generic").read(file), tmp_path)


def test_store_path_that_is_not_a_store(tmp_path: Path) -> None:
    text = tmp_path / "events.csv"
    text.write_text("user_id,item_id\n", encoding="utf-8")
    with pytest.raises(StoreError, match="not a DuckDB file at all"):
        Store(text)

    plain = tmp_path / "plain.duckdb"
    duckdb.connect(str(plain)).close()
    with pytest.raises(StoreError, match="no mercato_meta table"):
        Store(plain)

    with pytest.raises(StoreError, match="is a folder"):
        Store(tmp_path)
    with pytest.raises(StoreError, match="run 'mercato ingest"):
        Store(tmp_path / "missing.duckdb")
    assert text.read_text(encoding="utf-8") == "user_id,item_id\n"
