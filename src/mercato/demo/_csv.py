"""A fast writer of large synthetic events CSVs, for ingest benchmarks.

Unlike :func:`~mercato.demo.generate_demo_shop` there is no hidden truth here, only plausible
volume: sessions of a few events by one user, popular items seen more often, a funnel mix of
event types, prices that move week by week. Rows are encoded to bytes with numpy (fixed-width
byte matrices with a mask of the bytes to keep), one chunk at a time, so memory stays flat and
ten million rows take seconds.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from mercato.demo._behaviour import EVENT_TYPES, PURCHASE, RATING
from mercato.errors import ConfigError

__all__ = ["CSV_HEADER", "write_events_csv"]

logger = logging.getLogger(__name__)

CSV_HEADER = "user_id,item_id,event_type,timestamp,session_id,value,price,quantity"

ByteMatrix = npt.NDArray[np.uint8]
IntArray = npt.NDArray[np.int64]

_START = np.datetime64("2026-01-05", "D")
_DAYS = 90
_SPAN_SECONDS = _DAYS * 86_400
_MEAN_SESSION_EVENTS = 8
_ENCODE_BLOCK_ROWS = 65_536
# Event mix after a session's first view: mostly views, a funnel of carts and purchases.
_EVENT_MIX = np.array([0.62, 0.15, 0.09, 0.03, 0.04, 0.01, 0.06])
_CART = EVENT_TYPES.index("cart")
# Ids are zero-padded to at least the widths of the demo shop ('u000123', 'i00042',
# 's0000077'), wider when the file needs more.
_USER_DIGITS, _ITEM_DIGITS, _SESSION_DIGITS = 6, 5, 7
_PRICE_DIGITS = 5


@dataclass(frozen=True, eq=False)
class _Field:
    """One CSV field of every row: its bytes in a fixed width, and which of them to write.

    Attributes:
        data: Bytes, shape ``(rows, width)``.
        keep: Which bytes are written, same shape; None writes them all.
    """

    data: ByteMatrix
    keep: npt.NDArray[np.bool_] | None = None


@dataclass(frozen=True, eq=False)
class _Catalogue:
    """Users and items of the synthetic file."""

    n_users: int
    item_cdf: npt.NDArray[np.float64]
    item_price_cents: IntArray
    user_digits: int
    item_digits: int
    session_digits: int


def write_events_csv(
    path: Path, n_events: int, *, seed: int = 0, chunk_rows: int = 1_000_000
) -> Path:
    """Write a large synthetic events CSV in chunks, keeping memory flat.

    The header is ``user_id,item_id,event_type,timestamp,session_id,value,price,quantity``;
    timestamps are ISO (``2026-01-05 13:45:10``) and ascending over the whole file; ``value``
    holds ratings of rating events, ``quantity`` is ``1.0`` for carts and purchases, and empty
    fields are missing values. The same ``seed`` and ``chunk_rows`` give the same bytes.

    Args:
        path: File to write; its folder is created if missing, an existing file is replaced.
        n_events: Number of data rows.
        seed: Seed of every random draw.
        chunk_rows: Rows encoded at a time; memory use grows with it (about 300 bytes a row).

    Returns:
        ``path``.

    Raises:
        ConfigError: If ``n_events`` is negative or ``chunk_rows`` is not positive.
    """
    _validate(n_events, seed, chunk_rows)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()

    n_chunks = max(1, -(-n_events // chunk_rows))
    catalogue_seed, *chunk_seeds = np.random.SeedSequence(seed).spawn(n_chunks + 1)
    catalogue = _catalogue(n_events, np.random.default_rng(catalogue_seed))
    first_session = 0
    with path.open("wb") as out:
        out.write(CSV_HEADER.encode() + b"\n")
        for chunk, chunk_seed in enumerate(chunk_seeds):
            rows = min(chunk_rows, n_events - chunk * chunk_rows)
            # Each chunk covers its own slice of the period, so the file is sorted by time.
            window = (_SPAN_SECONDS * chunk // n_chunks, _SPAN_SECONDS * (chunk + 1) // n_chunks)
            columns, n_sessions = _draw_chunk(
                rows, window, first_session, catalogue, np.random.default_rng(chunk_seed)
            )
            # Encoding in blocks keeps the byte matrices small enough to stay in cache.
            for begin in range(0, rows, _ENCODE_BLOCK_ROWS):
                block = columns.rows(slice(begin, begin + _ENCODE_BLOCK_ROWS))
                out.write(_encode(block, catalogue))
            first_session += n_sessions

    logger.info(
        "wrote %d events to %s in %.1fs (%.0f MB)",
        n_events,
        path,
        time.perf_counter() - began,
        path.stat().st_size / 1e6,
    )
    return path


def _validate(n_events: int, seed: int, chunk_rows: int) -> None:
    for name, value, minimum in (
        ("n_events", n_events, 0),
        ("seed", seed, 0),
        ("chunk_rows", chunk_rows, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ConfigError(
                f"write_events_csv: {name} must be an integer of at least {minimum}; got {value!r}."
            )


def _catalogue(n_events: int, rng: np.random.Generator) -> _Catalogue:
    n_users = max(1_000, n_events // 40)
    n_items = max(200, n_events // 400)
    # Zipf-like popularity: a few items get most of the traffic, as in real logs.
    weight = 1.0 / np.arange(1, n_items + 1) ** 0.9
    weight = rng.permutation(weight)
    cents = np.rint(rng.lognormal(np.log(30.0), 0.8, n_items) * 100).astype(np.int64)
    return _Catalogue(
        n_users=n_users,
        item_cdf=np.cumsum(weight) / weight.sum(),
        item_price_cents=np.clip(cents, 50, 10**_PRICE_DIGITS * 100 - 1),
        user_digits=max(_USER_DIGITS, len(str(n_users - 1))),
        item_digits=max(_ITEM_DIGITS, len(str(n_items - 1))),
        # There are never more sessions than events.
        session_digits=max(_SESSION_DIGITS, len(str(max(n_events - 1, 0)))),
    )


def _draw_chunk(
    rows: int,
    window: tuple[int, int],
    first_session: int,
    catalogue: _Catalogue,
    rng: np.random.Generator,
) -> tuple[_Columns, int]:
    """The rows of one chunk in time order, and the number of sessions they use."""
    size = _session_sizes(rows, rng)
    session = np.repeat(np.arange(len(size), dtype=np.int64), size)
    first_row = np.cumsum(size) - size
    # Sessions start early enough to end inside the window. A long one starts earlier instead
    # of being clipped at the end: clipping would give its last events one timestamp, and
    # identical rows are duplicates to ingest.
    start = rng.integers(window[0], max(window[0] + 1, window[1] - 1800), len(size))
    gap = 1 + rng.exponential(40.0, rows).astype(np.int64)
    elapsed = np.cumsum(gap)
    elapsed -= np.repeat(elapsed[first_row], size)
    duration = elapsed[first_row + size - 1]
    start = np.maximum(np.minimum(start, window[1] - 1 - duration), window[0])
    second = start[session] + elapsed

    # Most events of a session concern its main item, the rest popular items; a session opens
    # with a view.
    main_item = np.searchsorted(catalogue.item_cdf, rng.random(len(size)))
    other_item = np.searchsorted(catalogue.item_cdf, rng.random(rows))
    item = np.where(rng.random(rows) < 0.6, main_item[session], other_item).astype(np.int64)
    kind = rng.choice(len(EVENT_TYPES), rows, p=_EVENT_MIX / _EVENT_MIX.sum())
    kind[first_row] = 0
    user = rng.integers(0, catalogue.n_users, len(size))[session]
    rating = rng.integers(1, 6, rows)

    order = np.argsort(second, kind="stable")
    columns = _Columns(
        user=user[order],
        item=item[order],
        kind=kind[order],
        second=second[order],
        session=session[order] + first_session,
        rating=rating[order],
    )
    return columns, len(size)


def _session_sizes(rows: int, rng: np.random.Generator) -> IntArray:
    """Geometric session lengths that add up to exactly ``rows``."""
    sizes = np.zeros(0, dtype=np.int64)
    while sizes.sum() < rows:
        more = rng.geometric(1 / _MEAN_SESSION_EVENTS, rows // _MEAN_SESSION_EVENTS + 16)
        sizes = np.concatenate([sizes, more])
    total = np.cumsum(sizes)
    last = int(np.searchsorted(total, rows))
    sizes = sizes[: last + 1] if rows else sizes[:0]
    if rows:
        sizes[-1] -= total[last] - rows
    return sizes


@dataclass(frozen=True, eq=False)
class _Columns:
    """The values of one chunk's rows, in file order."""

    user: IntArray
    item: IntArray
    kind: IntArray
    second: IntArray
    session: IntArray
    rating: IntArray

    def rows(self, selection: slice) -> _Columns:
        return _Columns(
            user=self.user[selection],
            item=self.item[selection],
            kind=self.kind[selection],
            second=self.second[selection],
            session=self.session[selection],
            rating=self.rating[selection],
        )


def _encode(columns: _Columns, catalogue: _Catalogue) -> bytes:
    """CSV bytes of the rows: each field as a byte matrix, a separator after each, masked."""
    day, second_of_day = np.divmod(columns.second, 86_400)
    carries_quantity = (columns.kind == _CART) | (columns.kind == PURCHASE)
    fields = [
        _prefixed_number("u", columns.user, catalogue.user_digits),
        _prefixed_number("i", columns.item, catalogue.item_digits),
        _Field(_EVENT_BYTES[columns.kind], _EVENT_KEEP[columns.kind]),
        _Field(_DATE_BYTES[day]),
        _Field(_TIME_BYTES[second_of_day]),
        _prefixed_number("s", columns.session, catalogue.session_digits),
        _optional_float(columns.rating, columns.kind == RATING),
        _price(_price_cents(columns, catalogue)),
        _optional_float(np.ones(len(day), dtype=np.int64), carries_quantity),
    ]
    separators = [*[","] * (len(fields) - 1), "\n"]
    separators[3] = " "  # between the date and the time of the timestamp

    width = sum(field.data.shape[1] + 1 for field in fields)
    data = np.empty((len(day), width), dtype=np.uint8)
    keep = np.ones((len(day), width), dtype=bool)
    column = 0
    for field, separator in zip(fields, separators, strict=True):
        end = column + field.data.shape[1]
        data[:, column:end] = field.data
        if field.keep is not None:
            keep[:, column:end] = field.keep
        data[:, end] = ord(separator)
        column = end + 1
    # Row-major boolean indexing walks row by row, field by field: the bytes come out in order.
    return data[keep].tobytes()


def _digits(values: IntArray, width: int) -> ByteMatrix:
    """Zero-padded decimal digits of each value as ASCII, shape ``(rows, width)``.

    Works two digits at a time through a table of '00'..'99', which is several times faster than
    one division per digit.
    """
    pairs = -(-width // 2)
    dtype = np.uint32 if width <= 9 else np.uint64
    rest = values.astype(dtype)
    out = np.empty((len(values), pairs), dtype=np.uint16)
    for pair in range(pairs - 1, -1, -1):
        rest, low = np.divmod(rest, dtype(100))
        out[:, pair] = _DIGIT_PAIRS[low]
    return out.view(np.uint8)[:, 2 * pairs - width :]


def _prefixed_number(prefix: str, values: IntArray, width: int) -> _Field:
    data = np.empty((len(values), width + 1), dtype=np.uint8)
    data[:, 0] = ord(prefix)
    data[:, 1:] = _digits(values, width)
    return _Field(data)


def _optional_float(values: IntArray, present: npt.NDArray[np.bool_]) -> _Field:
    """A one-digit whole number written as ``'4.0'``, or nothing where not present."""
    data = np.empty((len(values), 3), dtype=np.uint8)
    data[:, 0] = values % 10 + ord("0")
    data[:, 1:] = np.frombuffer(b".0", dtype=np.uint8)
    return _Field(data, np.repeat(present[:, None], 3, axis=1))


def _price_cents(columns: _Columns, catalogue: _Catalogue) -> IntArray:
    # Prices move by week: a fixed pattern discounts some item-weeks and raises others.
    week = columns.second // (7 * 86_400)
    pattern = (columns.item * 31 + week * 17) % 7
    factor = np.where(pattern == 0, 0.8, np.where(pattern == 1, 1.1, 1.0))
    cents = np.rint(catalogue.item_price_cents[columns.item] * factor).astype(np.int64)
    return np.asarray(np.clip(cents, 1, 10**_PRICE_DIGITS * 100 - 1), dtype=np.int64)


def _price(cents: IntArray) -> _Field:
    """Prices as ``'12.30'``: whole part without leading zeros, two decimals."""
    whole, fraction = np.divmod(cents, 100)
    data = np.empty((len(cents), _PRICE_DIGITS + 3), dtype=np.uint8)
    data[:, :_PRICE_DIGITS] = _digits(whole, _PRICE_DIGITS)
    data[:, _PRICE_DIGITS] = ord(".")
    data[:, _PRICE_DIGITS + 1 :] = _digits(fraction, 2)
    thresholds = 10 ** np.arange(1, _PRICE_DIGITS, dtype=np.int64)
    n_digits = 1 + (whole[:, None] >= thresholds).sum(axis=1)
    position = np.arange(data.shape[1])
    keep = position >= _PRICE_DIGITS - n_digits[:, None]
    return _Field(data, keep)


def _text_table(texts: list[str]) -> tuple[ByteMatrix, npt.NDArray[np.bool_]]:
    """Texts as left-aligned rows of a byte matrix, with the mask of their real bytes."""
    encoded = [text.encode() for text in texts]
    width = max(len(text) for text in encoded)
    data = np.zeros((len(encoded), width), dtype=np.uint8)
    for row, text in enumerate(encoded):
        data[row, : len(text)] = np.frombuffer(text, dtype=np.uint8)
    keep = np.arange(width)[None, :] < np.array([len(text) for text in encoded])[:, None]
    return data, keep


_DIGIT_PAIRS = np.frombuffer(b"".join(b"%02d" % pair for pair in range(100)), dtype=np.uint16)
_EVENT_BYTES, _EVENT_KEEP = _text_table(list(EVENT_TYPES))
_DATE_BYTES = _text_table([str(day) for day in _START + np.arange(_DAYS + 1)])[0]
_TIME_BYTES = _text_table(
    [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)]
)[0]
