"""Turns the simulation's index arrays into mercato's five canonical tables (string ids)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.extensions import ExtensionArray

from mercato.demo._behaviour import CART, EVENT_TYPES, PURCHASE, Simulation
from mercato.demo._config import DemoConfig
from mercato.demo._media import ItemMedia
from mercato.demo._text import (
    ItemWords,
    item_attributes,
    item_texts,
    query_texts,
    review_texts,
)
from mercato.demo._vocab import BRAND_NAMES, REGIONS
from mercato.demo._world import DemoTruth, IntArray, World

__all__ = [
    "ShopIds",
    "events_table",
    "items_table",
    "queries_table",
    "reviews_table",
    "users_table",
]


def _timestamps(config: DemoConfig, second: IntArray) -> npt.NDArray[np.datetime64]:
    """Seconds from the period start as UTC-naive ``datetime64[us]``."""
    return np.datetime64(config.start, "us") + second * np.timedelta64(1, "s")


@dataclass(frozen=True, eq=False)
class ShopIds:
    """The string ids of users, items and sessions, ready to be taken by index."""

    users: ExtensionArray
    items: ExtensionArray
    sessions: ExtensionArray

    @classmethod
    def of(cls, truth: DemoTruth, n_sessions: int) -> ShopIds:
        return cls(
            users=pd.array(list(truth.user_ids), dtype="str"),
            items=pd.array(list(truth.item_ids), dtype="str"),
            sessions=_padded_id_array("s", n_sessions, 7),
        )


def _padded_id_array(prefix: str, count: int, min_width: int) -> ExtensionArray:
    """Like ``padded_ids`` but built in Arrow, twice as fast for the million ids of a big shop."""
    width = max(min_width, len(str(max(count - 1, 0))))
    numbers = pa.array(np.arange(count)).cast(pa.string())
    padded = pc.utf8_lpad(numbers, width=width, padding="0")
    ids: ExtensionArray = pd.array(pc.binary_join_element_wise(prefix, padded, ""), dtype="str")
    return ids


_EVENT_NAMES = pd.array(list(EVENT_TYPES), dtype="str")


def events_table(config: DemoConfig, ids: ShopIds, simulation: Simulation) -> pd.DataFrame:
    """The events table, sorted by timestamp; sessions are numbered in order of their start."""
    events = simulation.events
    carries_quantity = (events.kind == CART) | (events.kind == PURCHASE)
    table = pd.DataFrame(
        {
            "user_id": ids.users.take(events.user),
            "item_id": ids.items.take(events.item),
            "event_type": _EVENT_NAMES.take(events.kind),
            "timestamp": _timestamps(config, events.second),
            "session_id": ids.sessions.take(events.session),
            "value": events.value,
            "price": events.price,
            "quantity": np.where(carries_quantity, 1.0, np.nan),
        }
    )
    # Two identical actions in the same second (a double click) are recorded once, as a shop's
    # tracker would; it also keeps the demo free of the duplicates ingest refuses.
    return table.drop_duplicates(ignore_index=True)


def items_table(
    world: World,
    ids: ShopIds,
    words: ItemWords,
    media: ItemMedia | None,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """The catalogue; ``price`` is the list price at the end of the period."""
    truth = world.truth
    text = item_texts(truth, words, rng)
    history = world.prices
    last_of_item = np.append(history.item[1:] != history.item[:-1], True)
    n_items = len(truth.item_ids)
    return pd.DataFrame(
        {
            "item_id": ids.items,
            "title": text.titles,
            "description": text.descriptions,
            "category": np.asarray(truth.categories, dtype=object)[truth.item_category],
            "brand": np.asarray(BRAND_NAMES, dtype=object)[world.looks.brand],
            "price": history.price[last_of_item],
            "attributes": item_attributes(truth, words),
            # Object columns keep None for "no file"; a str column would turn it into NaN.
            "image": pd.Series(
                media.images if media is not None else [None] * n_items, dtype=object
            ),
            "video": pd.Series(
                media.videos if media is not None else [None] * n_items, dtype=object
            ),
        }
    )


def users_table(
    config: DemoConfig, truth: DemoTruth, ids: ShopIds, rng: np.random.Generator
) -> pd.DataFrame:
    """Users with ``attributes`` {age, region, signup, language}.

    Age carries a little signal: older users are somewhat less price sensitive.
    """
    n_users = len(truth.user_ids)
    age = np.clip(
        np.rint(40 - 5 * (truth.price_sensitivity - 2) + rng.normal(0, 10, n_users)), 16, 80
    )
    region = rng.integers(0, len(REGIONS), n_users)
    signup = np.datetime64(config.start, "D") - rng.integers(1, 3 * 365, n_users)
    attributes = [
        {
            "age": int(age[user]),
            "region": REGIONS[region[user]],
            "signup": str(signup[user]),
            "language": "zh" if truth.chinese_users[user] else "en",
        }
        for user in range(n_users)
    ]
    return pd.DataFrame({"user_id": ids.users, "attributes": attributes})


def reviews_table(
    config: DemoConfig,
    world: World,
    ids: ShopIds,
    words: ItemWords,
    simulation: Simulation,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Reviews sorted by timestamp, in the reviewer's language."""
    reviews = simulation.reviews
    order = np.argsort(reviews.second, kind="stable")
    user, item, rating = reviews.user[order], reviews.item[order], reviews.rating[order]
    return pd.DataFrame(
        {
            "user_id": ids.users.take(user),
            "item_id": ids.items.take(item),
            "rating": rating,
            "text": review_texts(world.truth, words, user, item, rating, rng),
            "timestamp": _timestamps(config, reviews.second[order]),
        }
    )


def queries_table(
    config: DemoConfig,
    world: World,
    ids: ShopIds,
    words: ItemWords,
    simulation: Simulation,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Search queries sorted by timestamp; ``clicked_items`` lists one or two item ids."""
    queries = simulation.queries
    order = np.argsort(queries.second, kind="stable")
    user, first, second = (
        queries.user[order],
        queries.first_click[order],
        queries.second_click[order],
    )
    item_ids = world.truth.item_ids
    clicked = [
        [item_ids[one]] if two < 0 else [item_ids[one], item_ids[two]]
        for one, two in zip(first.tolist(), second.tolist(), strict=True)
    ]
    return pd.DataFrame(
        {
            "user_id": ids.users.take(user),
            "session_id": ids.sessions.take(queries.session[order]),
            "query": query_texts(world.truth, words, user, first, rng),
            "timestamp": _timestamps(config, queries.second[order]),
            "clicked_items": clicked,
        }
    )
