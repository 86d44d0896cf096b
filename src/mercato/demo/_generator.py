"""The demo shop generator: a synthetic e-commerce shop whose hidden truth is known.

A seed draws a hidden world (tastes, item vectors, prices, elasticities, seasonality), the
world draws sessions of views, carts and purchases, searches and reviews, and those become
mercato's five canonical tables. Tests and benchmarks check models against the returned truth.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mercato.demo._behaviour import simulate
from mercato.demo._config import DemoConfig
from mercato.demo._media import ItemMedia, write_media
from mercato.demo._tables import (
    ShopIds,
    events_table,
    items_table,
    queries_table,
    reviews_table,
    users_table,
)
from mercato.demo._text import ItemWords
from mercato.demo._world import DemoTruth, build_world

__all__ = ["DemoShop", "generate_demo_shop"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class DemoShop:
    """A generated shop: the five canonical tables, the truth behind them, and the config.

    Ids are strings with leading zeros (``'u000123'``, ``'i00042'``, ``'s0000077'``); timestamps
    are UTC-naive ``datetime64[us]``; events are sorted by timestamp.

    Stability: provisional; columns follow mercato's canonical data model.

    Attributes:
        events: ``user_id, item_id, event_type, timestamp, session_id, value, price, quantity``.
        items: ``item_id, title, description, category, brand, price, attributes, image, video``.
        users: ``user_id, attributes``.
        reviews: ``user_id, item_id, rating, text, timestamp``.
        queries: ``user_id, session_id, query, timestamp, clicked_items``.
        truth: The hidden parameters the tables were drawn from.
        config: The settings that produced this shop.
    """

    events: pd.DataFrame
    items: pd.DataFrame
    users: pd.DataFrame
    reviews: pd.DataFrame
    queries: pd.DataFrame
    truth: DemoTruth
    config: DemoConfig


def generate_demo_shop(
    config: DemoConfig | None = None, *, media_dir: Path | None = None
) -> DemoShop:
    """Generate a demo shop, deterministically from ``config.seed``.

    Args:
        config: Sizes, period and seed; the defaults of :class:`DemoConfig` if omitted.
        media_dir: Where to write product images (``images/<item_id>.png``, one per item) and
            clips (``clips/<item_id>.gif``, for ``config.video_share`` of the items). Without
            it no file is written and the ``image`` and ``video`` columns are all None.

    Returns:
        The shop's tables, its truth and the config.

    Example:
        >>> shop = generate_demo_shop(DemoConfig.preset("tiny", seed=1))
        >>> shop.events["event_type"].isin(["view", "cart", "purchase"]).any()
        np.True_
    """
    config = config if config is not None else DemoConfig()
    began = time.perf_counter()
    # One independent stream per stage, so e.g. writing media never changes the events.
    world_rng, behaviour_rng, text_rng, media_rng = (
        np.random.default_rng(stream) for stream in np.random.SeedSequence(config.seed).spawn(4)
    )

    world = build_world(config, world_rng)
    simulation = simulate(world, config, behaviour_rng)
    logger.debug(
        "simulated %d events in %d sessions", len(simulation.events.kind), simulation.n_sessions
    )

    media: ItemMedia | None = None
    if media_dir is not None:
        media = write_media(
            Path(media_dir), world.truth, world.looks, config.video_share, media_rng
        )

    ids = ShopIds.of(world.truth, simulation.n_sessions)
    words = ItemWords.of(world.truth, world.looks)
    shop = DemoShop(
        events=events_table(config, ids, simulation),
        items=items_table(world, ids, words, media, text_rng),
        users=users_table(config, world.truth, ids, text_rng),
        reviews=reviews_table(config, world, ids, words, simulation, text_rng),
        queries=queries_table(config, world, ids, words, simulation, text_rng),
        truth=world.truth,
        config=config,
    )
    logger.info(
        "generated demo shop: %d users, %d items, %d events, %d reviews, %d queries in %.2fs",
        len(shop.users),
        len(shop.items),
        len(shop.events),
        len(shop.reviews),
        len(shop.queries),
        time.perf_counter() - began,
    )
    return shop
