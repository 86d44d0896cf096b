"""Price history: piecewise constant prices per item that change at midnight."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["DAY_SECONDS", "PriceBook", "draw_price_book"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DAY_SECONDS = 86_400

# Price moves: each segment keeps the base price, is discounted, or is raised. The range stays
# within ±30% so the known elasticity never pushes a conversion probability past 1.
_REGULAR_SHARE, _DISCOUNT_SHARE = 0.4, 0.4
_DISCOUNT_RANGE, _RAISE_RANGE = (0.70, 0.95), (1.05, 1.30)
_MEAN_DAYS_BETWEEN_PRICE_CHANGES = 15.0


@dataclass(frozen=True, eq=False)
class PriceBook:
    """Piecewise constant prices, sorted by item and start; prices change at midnight.

    Attributes:
        item: Item row of each segment.
        start_day: First day (from the period start) the segment's price holds.
        end_day: First day it no longer holds.
        price: The segment's price.
    """

    item: IntArray
    start_day: IntArray
    end_day: IntArray
    price: FloatArray

    def price_at(self, items: IntArray, seconds: IntArray) -> FloatArray:
        """Price of each item at each time (seconds since the period start, clipped to it)."""
        daily = self._daily_prices
        day = np.clip(seconds // DAY_SECONDS, 0, daily.shape[1] - 1)
        return np.asarray(daily[items, day], dtype=np.float64)

    @cached_property
    def _daily_prices(self) -> FloatArray:
        """Price of every item on every day, shape ``(n_items, n_days)``.

        Each item's segments cover its days in order, so repeating each segment's price over its
        days and stacking the items gives the table in row-major order. A lookup in it is much
        faster than a binary search over the segments.
        """
        n_items = int(self.item.max()) + 1
        n_days = int(self.end_day.max())
        flat = np.repeat(self.price, self.end_day - self.start_day)
        return flat.reshape(n_items, n_days)

    def to_frame(self, item_ids: list[str], start: str) -> pd.DataFrame:
        """The history as a table with columns ``item_id, start, end, price``."""
        origin = np.datetime64(start, "us")
        day = np.timedelta64(1, "D")
        return pd.DataFrame(
            {
                "item_id": pd.array(item_ids, dtype="str").take(self.item),
                "start": origin + self.start_day * day,
                "end": origin + self.end_day * day,
                "price": self.price,
            }
        )


def draw_price_book(n_days: int, base_price: FloatArray, rng: np.random.Generator) -> PriceBook:
    n_items = len(base_price)
    n_changes = rng.poisson(n_days / _MEAN_DAYS_BETWEEN_PRICE_CHANGES, n_items)
    change_item = np.repeat(np.arange(n_items), n_changes)
    change_day = rng.integers(1, n_days, len(change_item))
    item = np.concatenate([np.arange(n_items), change_item])
    day = np.concatenate([np.zeros(n_items, dtype=np.int64), change_day])
    order = np.lexsort((day, item))
    item, day = item[order], day[order]
    multiplier = _price_multipliers(len(item), rng)
    price = np.maximum(np.round(base_price[item] * multiplier, 2), 0.01)

    # Of two changes on the same day only the later one counts, and a "change" to the price
    # already in force is no change: every kept row is a real price move.
    superseded = np.append((item[1:] == item[:-1]) & (day[1:] == day[:-1]), False)
    item, day, price = item[~superseded], day[~superseded], price[~superseded]
    first_of_item = np.insert(item[1:] != item[:-1], 0, True)
    moved = first_of_item | np.insert(price[1:] != price[:-1], 0, True)
    item, day, price = item[moved], day[moved], price[moved]

    last_of_item = np.append(item[1:] != item[:-1], True)
    end_day = np.where(last_of_item, n_days, np.append(day[1:], n_days))
    return PriceBook(item=item, start_day=day, end_day=end_day, price=price)


def _price_multipliers(count: int, rng: np.random.Generator) -> FloatArray:
    kind = rng.random(count)
    discount = rng.uniform(*_DISCOUNT_RANGE, count)
    raised = rng.uniform(*_RAISE_RANGE, count)
    regular = kind < _REGULAR_SHARE
    discounted = ~regular & (kind < _REGULAR_SHARE + _DISCOUNT_SHARE)
    return np.where(regular, 1.0, np.where(discounted, discount, raised))
