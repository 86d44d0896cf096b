"""The demo shop's hidden world: who likes what, what things cost, and when people shop.

Everything here is ground truth that the observed tables are later drawn from. It is returned to
callers as :class:`DemoTruth` so tests and benchmarks can check what a model recovers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
import pandas as pd

from mercato.demo._config import DemoConfig
from mercato.demo._prices import DAY_SECONDS, FloatArray, IntArray, PriceBook, draw_price_book
from mercato.demo._vocab import BRAND_NAMES, BRANDS, CATEGORIES, COLOURS, STYLES, TOP_LEVELS

__all__ = [
    "DAY_SECONDS",
    "Behaviour",
    "BoolArray",
    "DemoTruth",
    "FloatArray",
    "IntArray",
    "ItemLooks",
    "World",
    "affinity_of",
    "build_world",
    "padded_ids",
]

BoolArray = npt.NDArray[np.bool_]
FACTOR_DIMENSION = 8


@dataclass(frozen=True)
class Behaviour:
    """How shoppers behave in a session; fixed, and recorded in the truth for reference.

    Attributes:
        extra_views: Mean number of views after a session's first (Poisson).
        focus_share: Share of views in the session's category; the rest browse the catalogue.
        candidates: Items a shopper weighs for each view; the best utility (with Gumbel noise) is
            viewed, so choice is a softmax over a random shortlist.
        affinity_weight: Weight of affinity in the choice utility.
        cart_rate: Chance that a view at the base price leads to a cart, before the affinity
            factor ``1 + 0.6 * tanh(affinity)`` and the price factor of the elasticity.
        purchase_rate: Chance that a cart is bought, times ``0.8 + 0.4 * sigmoid(affinity)``.
        click_rate: Chance of a click (an image or detail click) on a viewed item.
        favourite_rate: Chance of a favourite per view, times the affinity factor.
        search_rate: Share of sessions that start with a search.
        second_click_rate: Chance that a search's shopper clicks a second result.
        review_rate: Chance that a purchase is reviewed (later, in a visit of its own).
        repeat_rate: Chance that a consumable purchase is followed by a re-buy visit.
            Re-buy and review visits are then kept with chance ``weekday_multiplier / max``,
            so they follow the weekly rhythm too.
        repeat_cart_rate: ``cart_rate`` of a re-buy visit.
    """

    extra_views: float = 4.0
    focus_share: float = 0.85
    candidates: int = 8
    affinity_weight: float = 1.5
    cart_rate: float = 0.13
    purchase_rate: float = 0.38
    click_rate: float = 0.3
    favourite_rate: float = 0.04
    search_rate: float = 0.25
    second_click_rate: float = 0.3
    review_rate: float = 0.35
    repeat_rate: float = 0.6
    repeat_cart_rate: float = 0.6


@dataclass(frozen=True, eq=False)
class DemoTruth:
    """The hidden parameters the demo shop was drawn from.

    Rows of the user arrays follow ``user_ids`` and rows of the item arrays follow ``item_ids``
    (the same order as the ``users`` and ``items`` tables). Category-level values are keyed by the
    category path as it appears in ``items.category``.

    Stability: provisional; fields may be added.

    Attributes:
        user_ids: User ids in row order of the user arrays.
        item_ids: Item ids in row order of the item arrays.
        user_factors: Taste vectors, shape ``(n_users, d)``.
        price_sensitivity: How strongly each user avoids expensive items, shape ``(n_users,)``;
            item choice utility falls by ``sensitivity * log(item_base_price / category_price)``.
        user_activity: Multiplier of each user's mean session count (mean 1).
        chinese_users: Users who write reviews and queries in Chinese.
        categories: Category paths; ``item_category`` indexes into it.
        category_factors: Latent centre of each category, shape ``(n_categories, d)``.
        item_factors: Latent item vectors, shape ``(n_items, d)``, near their category's centre.
        item_category: Category index of each item.
        item_base_price: The reference price that elasticity is measured against.
        item_popularity: Log popularity added to every item's choice utility.
        chinese_items: Items whose title and description are Chinese.
        category_base_price: Typical price of each category.
        elasticity: Price elasticity of demand per category, in [-3, -0.5]: the chance that a
            view leads to a cart (and so to a purchase) is multiplied by
            ``(price / item_base_price) ** elasticity``.
        repeat_gap_days: Mean days until a consumable is re-bought; 0 for durable categories.
        price_history: Price segments with columns ``item_id, start, end, price`` (``end``
            exclusive); together they cover the whole period for every item.
        weekday_multipliers: Relative rate of shopping sessions Monday..Sunday.
        weekend_uplift: Extra session rate on Saturday and Sunday (0.3 means 30% more).
        trend_per_day: Growth of the shopping session rate per day, on the log scale. (Re-buy
            and review visits follow purchases, so they lag behind and build up over the first
            weeks.)
        rating_intercept: Rating before noise is ``intercept + slope * affinity``, rounded and
            clipped to 1..5.
        rating_slope: See ``rating_intercept``.
        behaviour: The session behaviour parameters.
    """

    user_ids: tuple[str, ...]
    item_ids: tuple[str, ...]
    user_factors: FloatArray
    price_sensitivity: FloatArray
    user_activity: FloatArray
    chinese_users: BoolArray
    categories: tuple[str, ...]
    category_factors: FloatArray
    item_factors: FloatArray
    item_category: IntArray
    item_base_price: FloatArray
    item_popularity: FloatArray
    chinese_items: BoolArray
    category_base_price: dict[str, float]
    elasticity: dict[str, float]
    repeat_gap_days: dict[str, float]
    price_history: pd.DataFrame
    weekday_multipliers: tuple[float, ...]
    weekend_uplift: float
    trend_per_day: float
    rating_intercept: float = 3.0
    rating_slope: float = 1.0
    behaviour: Behaviour = Behaviour()

    @property
    def dimension(self) -> int:
        """Length of the taste and item vectors."""
        return int(self.user_factors.shape[1])

    @cached_property
    def _user_index(self) -> pd.Index:
        return pd.Index(self.user_ids)

    @cached_property
    def _item_index(self) -> pd.Index:
        return pd.Index(self.item_ids)

    def user_rows(self, user_ids: npt.ArrayLike) -> IntArray:
        """Row numbers of the given user ids; raises ``KeyError`` for an unknown id."""
        return _rows(self._user_index, user_ids, "user")

    def item_rows(self, item_ids: npt.ArrayLike) -> IntArray:
        """Row numbers of the given item ids; raises ``KeyError`` for an unknown id."""
        return _rows(self._item_index, item_ids, "item")

    def affinity(self, user_ids: npt.ArrayLike, item_ids: npt.ArrayLike) -> FloatArray:
        """True affinity of each (user, item) pair: ``taste . item_vector / sqrt(d)``.

        About standard normal over random pairs; the pairs a user actually buys score higher.
        """
        users = self.user_factors[self.user_rows(user_ids)]
        items = self.item_factors[self.item_rows(item_ids)]
        return affinity_of(users, items)

    def item_category_path(self, item_ids: npt.ArrayLike) -> npt.NDArray[np.object_]:
        """Category path of each item."""
        paths = np.asarray(self.categories, dtype=object)
        return paths[self.item_category[self.item_rows(item_ids)]]


def affinity_of(user_factors: FloatArray, item_factors: FloatArray) -> FloatArray:
    """Row-wise ``taste . item / sqrt(d)`` of two equally shaped factor arrays."""
    dimension = user_factors.shape[-1]
    product = np.einsum("...d,...d->...", user_factors, item_factors)
    return np.asarray(product / np.sqrt(dimension), dtype=np.float64)


def _rows(index: pd.Index, ids: npt.ArrayLike, kind: str) -> IntArray:
    wanted = pd.Index(np.asarray(ids, dtype=object).ravel())
    rows = index.get_indexer(wanted)
    if (rows < 0).any():
        raise KeyError(f"unknown {kind} ids {list(wanted[rows < 0][:3])}")
    return rows.astype(np.int64)


def padded_ids(prefix: str, count: int, min_width: int) -> list[str]:
    """Ids like ``'u000123'``: the prefix and a zero-padded number, wide enough for ``count``."""
    width = max(min_width, len(str(max(count - 1, 0))))
    return [f"{prefix}{number:0{width}d}" for number in range(count)]


@dataclass(frozen=True, eq=False)
class ItemLooks:
    """Observable item properties drawn with the truth: brand, colour, feature value, style."""

    brand: IntArray
    colour: IntArray
    feature_value: IntArray
    style: IntArray


@dataclass(frozen=True, eq=False)
class World:
    """What the simulation draws from: the truth plus the arrays it needs in index form."""

    truth: DemoTruth
    looks: ItemLooks
    prices: PriceBook


def build_world(config: DemoConfig, rng: np.random.Generator) -> World:
    """Draw the hidden world of a demo shop: latent factors, prices, elasticities, seasonality."""
    categories = tuple(spec.path for spec in CATEGORIES)
    category_factors = _category_factors(rng)

    item_category = _assign_categories(config.n_items, rng)
    item_factors = category_factors[item_category] + 0.45 * rng.standard_normal(
        (config.n_items, FACTOR_DIMENSION)
    )
    looks = _item_looks(item_category, rng)
    item_base_price = _base_prices(item_category, looks.brand, rng)

    prices = draw_price_book(config.n_days, item_base_price, rng)
    user_factors = _user_factors(config.n_users, category_factors, rng)
    item_ids = padded_ids("i", config.n_items, 5)
    elasticity = np.round(rng.uniform(-3.0, -0.5, len(CATEGORIES)), 2)
    weekend_uplift = round(float(rng.uniform(0.2, 0.5)), 3)
    weekday = (1.0, 1.0, 1.0, 1.0, 1.0, 1.0 + weekend_uplift, 1.0 + weekend_uplift)

    truth = DemoTruth(
        user_ids=tuple(padded_ids("u", config.n_users, 6)),
        item_ids=tuple(item_ids),
        user_factors=user_factors,
        price_sensitivity=rng.gamma(4.0, 0.5, config.n_users),
        user_activity=rng.gamma(2.0, 0.5, config.n_users),
        chinese_users=_exact_share(config.n_users, config.chinese_share, rng),
        categories=categories,
        category_factors=category_factors,
        item_factors=item_factors,
        item_category=item_category,
        item_base_price=item_base_price,
        item_popularity=rng.normal(0.0, 0.8, config.n_items),
        chinese_items=_exact_share(config.n_items, config.chinese_share, rng),
        category_base_price={spec.path: spec.base_price for spec in CATEGORIES},
        elasticity=dict(zip(categories, elasticity.tolist(), strict=True)),
        repeat_gap_days={spec.path: spec.repeat_gap_days for spec in CATEGORIES},
        price_history=prices.to_frame(item_ids, config.start),
        weekday_multipliers=weekday,
        weekend_uplift=weekend_uplift,
        trend_per_day=round(float(rng.uniform(0.05, 0.3)) / config.n_days, 6),
    )
    return World(truth=truth, looks=looks, prices=prices)


def _category_factors(rng: np.random.Generator) -> FloatArray:
    # Leaves under the same top level share a component, so 'Women > Shoes' sits nearer to
    # 'Women > Bags' than to 'Grocery > Tea'.
    top_index = {top: position for position, top in enumerate(TOP_LEVELS)}
    tops = 0.8 * rng.standard_normal((len(TOP_LEVELS), FACTOR_DIMENSION))
    leaf_top = np.array([top_index[spec.top_level] for spec in CATEGORIES])
    leaves = tops[leaf_top] + 0.6 * rng.standard_normal((len(CATEGORIES), FACTOR_DIMENSION))
    return np.asarray(leaves, dtype=np.float64)


def _assign_categories(n_items: int, rng: np.random.Generator) -> IntArray:
    # Every category gets an item before any gets a second, so small shops still cover the tree.
    n_categories = len(CATEGORIES)
    if n_items <= n_categories:
        return rng.choice(n_categories, n_items, replace=False).astype(np.int64)
    extra = rng.integers(0, n_categories, n_items - n_categories)
    return rng.permutation(np.concatenate([np.arange(n_categories), extra])).astype(np.int64)


def _item_looks(item_category: IntArray, rng: np.random.Generator) -> ItemLooks:
    n_items = len(item_category)
    top_of_category = np.array([TOP_LEVELS.index(spec.top_level) for spec in CATEGORIES])
    brands_per_top = np.array([len(BRANDS[top]) for top in TOP_LEVELS])
    first_brand_of_top = np.concatenate([[0], np.cumsum(brands_per_top)[:-1]])
    values_per_category = np.array([len(spec.values) for spec in CATEGORIES])

    top = top_of_category[item_category]
    brand = first_brand_of_top[top] + _uniform_below(brands_per_top[top], rng)
    return ItemLooks(
        brand=brand.astype(np.int64),
        colour=rng.integers(0, len(COLOURS), n_items),
        feature_value=_uniform_below(values_per_category[item_category], rng),
        style=rng.integers(0, len(STYLES), n_items),
    )


def _uniform_below(limits: npt.NDArray[np.integer], rng: np.random.Generator) -> IntArray:
    """One uniform integer in ``[0, limit)`` per entry of ``limits``."""
    return np.floor(rng.random(len(limits)) * limits).astype(np.int64)


def _base_prices(item_category: IntArray, brand: IntArray, rng: np.random.Generator) -> FloatArray:
    brand_premium = rng.lognormal(0.0, 0.2, len(BRAND_NAMES))
    category_price = np.array([spec.base_price for spec in CATEGORIES])
    noise = rng.lognormal(0.0, 0.25, len(item_category))
    price = category_price[item_category] * brand_premium[brand] * noise
    return np.maximum(np.round(price, 2), 0.5)


def _user_factors(
    n_users: int, category_factors: FloatArray, rng: np.random.Generator
) -> FloatArray:
    # A user's taste leans towards two favourite categories, plus an idiosyncratic part.
    favourites = rng.integers(0, len(category_factors), (n_users, 2))
    leaning = category_factors[favourites].mean(axis=1)
    taste = 0.8 * leaning + 0.6 * rng.standard_normal((n_users, FACTOR_DIMENSION))
    return np.asarray(taste, dtype=np.float64)


def _exact_share(count: int, share: float, rng: np.random.Generator) -> BoolArray:
    """A random mask with exactly ``round(share * count)`` entries set."""
    mask = np.zeros(count, dtype=bool)
    mask[rng.permutation(count)[: round(share * count)]] = True
    return mask
