"""Browsing: when shopping sessions start, which category they are about, what gets viewed.

Everything is drawn for all sessions at once: start days follow the weekly and trend profile,
the category follows taste, and each view picks the best of a random shortlist by affinity,
popularity and relative price (a softmax choice via the Gumbel-max trick).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mercato.demo._config import DemoConfig
from mercato.demo._world import DAY_SECONDS, Behaviour, FloatArray, IntArray, World, affinity_of

__all__ = ["Views", "draw_sessions", "draw_views"]

# Share of sessions starting in each hour of the day: quiet nights, a lunch bump, busy evenings.
_HOUR_WEIGHTS = np.array(
    [2, 1, 1, 1, 1, 2, 3, 5, 6, 6, 6, 7, 9, 8, 6, 6, 6, 7, 8, 10, 11, 11, 8, 4], dtype=np.float64
)
# Views scored at a time; bounds the (views, shortlist, dimension) temporaries to ~50 MB.
_CHUNK_VIEWS = 100_000


@dataclass(frozen=True, eq=False)
class Views:
    """Views sorted by session, then time; ``rank`` is the view's position in its session."""

    session: IntArray
    user: IntArray
    item: IntArray
    second: IntArray
    rank: IntArray
    affinity: FloatArray

    def select(self, rows: npt.NDArray[np.bool_] | IntArray) -> Views:
        return Views(
            session=self.session[rows],
            user=self.user[rows],
            item=self.item[rows],
            second=self.second[rows],
            rank=self.rank[rows],
            affinity=self.affinity[rows],
        )


def draw_sessions(
    world: World, config: DemoConfig, rng: np.random.Generator
) -> tuple[IntArray, IntArray, IntArray]:
    """Session owners, start seconds and focus categories."""
    truth = world.truth
    per_user = rng.poisson(config.sessions_per_user * truth.user_activity)
    user = np.repeat(np.arange(config.n_users, dtype=np.int64), per_user)

    day = rng.choice(config.n_days, len(user), p=_day_weights(world, config))
    hour = rng.choice(24, len(user), p=_HOUR_WEIGHTS / _HOUR_WEIGHTS.sum())
    start = day * DAY_SECONDS + hour * 3600 + rng.integers(0, 3600, len(user))

    # A session's category follows taste, weighted by how many items the category has (none:
    # never): a softmax per user, sampled by inverse CDF for all sessions at once.
    items_per_category = np.bincount(truth.item_category, minlength=len(truth.categories))
    with np.errstate(divide="ignore"):
        log_size = np.log(items_per_category)
    taste = truth.user_factors @ truth.category_factors.T / np.sqrt(truth.dimension)
    logits = taste + log_size  # (users, categories)
    chance = np.exp(logits - logits.max(axis=1, keepdims=True))
    cumulative = np.cumsum(chance, axis=1)
    # Dividing by the last entry makes it exactly 1.0, and so every empty category after the
    # last filled one, which "<=" then never picks.
    cumulative /= cumulative[:, -1:]
    focus = (cumulative[user] <= rng.random((len(user), 1))).sum(axis=1)
    return user, start.astype(np.int64), focus.astype(np.int64)


def _day_weights(world: World, config: DemoConfig) -> FloatArray:
    truth = world.truth
    day = np.arange(config.n_days)
    weekday = (config.start_date.weekday() + day) % 7
    weight = np.asarray(truth.weekday_multipliers)[weekday] * np.exp(truth.trend_per_day * day)
    return np.asarray(weight / weight.sum(), dtype=np.float64)


def draw_views(
    world: World,
    behaviour: Behaviour,
    user: IntArray,
    start: IntArray,
    session: IntArray,
    focus: IntArray,
    rng: np.random.Generator,
) -> Views:
    """The views of every session, a minute or so apart."""
    n_views = 1 + rng.poisson(behaviour.extra_views, len(user))
    owner = np.repeat(np.arange(len(user)), n_views)
    first_row = np.cumsum(n_views) - n_views
    rank = np.arange(len(owner)) - np.repeat(first_row, n_views)
    gaps = 5 + np.round(rng.exponential(45.0, len(owner))).astype(np.int64)
    elapsed = np.cumsum(gaps)
    elapsed -= np.repeat(elapsed[first_row] - gaps[first_row], n_views)

    # The first view is always in the session's category (it may be a search result).
    focal = (rank == 0) | (rng.random(len(owner)) < behaviour.focus_share)
    shelves = _Shelves.of(world)
    item = np.empty(len(owner), dtype=np.int64)
    affinity = np.empty(len(owner), dtype=np.float64)
    for begin in range(0, len(owner), _CHUNK_VIEWS):
        rows = slice(begin, begin + _CHUNK_VIEWS)
        shortlist = shelves.shortlist(focus[owner[rows]], focal[rows], behaviour.candidates, rng)
        item[rows], affinity[rows] = _choose(world, behaviour, user[owner[rows]], shortlist, rng)
    return Views(
        session=session[owner],
        user=user[owner],
        item=item,
        second=start[owner] + elapsed,
        rank=rank,
        affinity=affinity,
    )


@dataclass(frozen=True, eq=False)
class _Shelves:
    """Items grouped by category, to draw random items of a given category fast."""

    by_category: IntArray
    offset: IntArray
    count: IntArray

    @classmethod
    def of(cls, world: World) -> _Shelves:
        category = world.truth.item_category
        count = np.bincount(category, minlength=len(world.truth.categories))
        by_category = np.argsort(category, kind="stable").astype(np.int64)
        return cls(by_category=by_category, offset=np.cumsum(count) - count, count=count)

    def shortlist(
        self,
        category: IntArray,
        focal: npt.NDArray[np.bool_],
        size: int,
        rng: np.random.Generator,
    ) -> IntArray:
        """``size`` random items per row, shape ``(rows, size)``.

        Rows marked ``focal`` draw from their ``category``, the others from the whole catalogue.
        """
        shape = (len(category), size)
        pick = np.floor(rng.random(shape) * self.count[category][:, None]).astype(np.int64)
        in_category = self.by_category[self.offset[category][:, None] + pick]
        anywhere = rng.integers(0, len(self.by_category), shape)
        return np.where(focal[:, None], in_category, anywhere)


def _choose(
    world: World,
    behaviour: Behaviour,
    user: IntArray,
    shortlist: IntArray,
    rng: np.random.Generator,
) -> tuple[IntArray, FloatArray]:
    """The viewed item of each shortlist and its affinity: utility plus Gumbel noise, the best
    one wins."""
    truth = world.truth
    category_price = np.array([truth.category_base_price[path] for path in truth.categories])
    relative_price = np.log(truth.item_base_price / category_price[truth.item_category])

    affinity = affinity_of(truth.user_factors[user][:, None, :], truth.item_factors[shortlist])
    utility = (
        behaviour.affinity_weight * affinity
        + truth.item_popularity[shortlist]
        - truth.price_sensitivity[user][:, None] * relative_price[shortlist]
        + rng.gumbel(size=shortlist.shape)
    )
    rows = np.arange(len(shortlist))
    best = np.argmax(utility, axis=1)
    return shortlist[rows, best].astype(np.int64), affinity[rows, best].astype(np.float64)
