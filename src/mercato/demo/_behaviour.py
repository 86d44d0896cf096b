"""What shoppers do in their sessions, vectorised over all sessions at once.

Sessions and their views come from ``_browsing``. Here views turn into clicks, favourites and
carts, with a cart chance that the category's elasticity scales by the price in force; carts are
bought at checkout. Some sessions open with a search; consumables come back as re-buy visits,
and some purchases are reviewed days later.

Times are whole seconds from the start of the period until the tables are built.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from mercato.demo._browsing import Views, draw_sessions, draw_views
from mercato.demo._config import DemoConfig
from mercato.demo._world import DAY_SECONDS, Behaviour, FloatArray, IntArray, World, affinity_of

__all__ = ["EVENT_TYPES", "EventArrays", "QueryArrays", "ReviewArrays", "Simulation", "simulate"]

EVENT_TYPES = ("view", "click", "cart", "favourite", "purchase", "rating", "search_click")
VIEW, CLICK, CART, FAVOURITE, PURCHASE, RATING, SEARCH_CLICK = range(len(EVENT_TYPES))

_MAX_REPEAT_ROUNDS = 20


@dataclass(frozen=True, eq=False)
class EventArrays:
    """Events in index form; ``value`` is the rating of rating events and NaN otherwise."""

    user: IntArray
    item: IntArray
    kind: IntArray
    second: IntArray
    session: IntArray
    price: FloatArray
    value: FloatArray


@dataclass(frozen=True, eq=False)
class QueryArrays:
    """Searches: who, in which session, when, and the one or two items clicked (-1 for none)."""

    user: IntArray
    session: IntArray
    second: IntArray
    first_click: IntArray
    second_click: IntArray


@dataclass(frozen=True, eq=False)
class ReviewArrays:
    """Reviews in index form."""

    user: IntArray
    item: IntArray
    second: IntArray
    rating: FloatArray


@dataclass(frozen=True, eq=False)
class Simulation:
    """Everything observed, in index form; events sorted by time, sessions numbered by start."""

    events: EventArrays
    queries: QueryArrays
    reviews: ReviewArrays
    n_sessions: int


@dataclass(eq=False)
class _Log:
    """Collects sessions and events while the simulation runs."""

    session_start: list[IntArray] = field(default_factory=list)
    events: list[EventArrays] = field(default_factory=list)
    n_sessions: int = 0

    def open_sessions(self, start: IntArray) -> IntArray:
        ids = np.arange(self.n_sessions, self.n_sessions + len(start), dtype=np.int64)
        self.session_start.append(start.astype(np.int64))
        self.n_sessions += len(start)
        return ids

    def record(
        self,
        kind: int,
        world: World,
        views: Views,
        *,
        second: IntArray | None = None,
        value: FloatArray | None = None,
    ) -> EventArrays:
        """Log one event of ``kind`` per view (at ``second`` if given, else at the view)."""
        when = views.second if second is None else second
        events = EventArrays(
            user=views.user,
            item=views.item,
            kind=np.full(len(views.user), kind, dtype=np.int64),
            second=when,
            session=views.session,
            # Every event shows the price in force at its own moment.
            price=world.prices.price_at(views.item, when),
            value=np.full(len(views.user), np.nan) if value is None else value,
        )
        self.events.append(events)
        return events


def simulate(world: World, config: DemoConfig, rng: np.random.Generator) -> Simulation:
    """Draw every session, event, search and review of the demo shop."""
    behaviour = world.truth.behaviour
    log = _Log()

    user, start, focus = draw_sessions(world, config, rng)
    session = log.open_sessions(start)
    views = draw_views(world, behaviour, user, start, session, focus, rng)
    log.record(VIEW, world, views)
    _record_engagement(world, behaviour, views, log, rng)
    searches = _record_searches(world, behaviour, views, log, rng)

    cart_rate = np.full(len(views.item), behaviour.cart_rate)
    purchases = _record_funnel(world, behaviour, views, cart_rate, log, rng)
    purchases = _record_repeats(world, behaviour, config, purchases, log, rng)
    reviews = _record_reviews(world, behaviour, config, purchases, log, rng)

    renumber = _chronological_session_order(log)
    events = _assemble(log, renumber, config.n_days * DAY_SECONDS)
    searches = replace(searches, session=renumber[searches.session])
    return Simulation(events=events, queries=searches, reviews=reviews, n_sessions=log.n_sessions)


def _record_engagement(
    world: World, behaviour: Behaviour, views: Views, log: _Log, rng: np.random.Generator
) -> None:
    """Clicks (image or detail clicks) and favourites, a few seconds after their view."""
    clicked = views.select(rng.random(len(views.item)) < behaviour.click_rate)
    log.record(
        CLICK, world, clicked, second=clicked.second + rng.integers(2, 20, len(clicked.item))
    )

    liking = 1 + 0.6 * np.tanh(views.affinity)
    liked = views.select(rng.random(len(views.item)) < behaviour.favourite_rate * liking)
    log.record(FAVOURITE, world, liked, second=liked.second + rng.integers(3, 30, len(liked.item)))


def _record_searches(
    world: World, behaviour: Behaviour, views: Views, log: _Log, rng: np.random.Generator
) -> QueryArrays:
    """Searches that open a share of sessions; their clicked results are the first views."""
    n_sessions = log.n_sessions
    searching = rng.random(n_sessions) < behaviour.search_rate
    first = np.flatnonzero((views.rank == 0) & searching[views.session])

    # A second result is clicked only if the session's second view stayed in the same category.
    category = world.truth.item_category[views.item]
    follow = first[first + 1 < len(views.item)] + 1
    wanted = (
        (views.rank[follow] == 1)
        & (category[follow] == category[follow - 1])
        & (rng.random(len(follow)) < behaviour.second_click_rate)
    )
    follow = follow[wanted]

    clicked = views.select(np.concatenate([first, follow]))
    log.record(SEARCH_CLICK, world, clicked, second=clicked.second - 1)
    second_click = np.full(len(first), -1, dtype=np.int64)
    second_click[np.searchsorted(first, follow - 1)] = views.item[follow]
    start = np.concatenate(log.session_start)
    return QueryArrays(
        user=views.user[first],
        session=views.session[first],
        second=start[views.session[first]],
        first_click=views.item[first],
        second_click=second_click,
    )


def _record_funnel(
    world: World,
    behaviour: Behaviour,
    views: Views,
    cart_rate: FloatArray,
    log: _Log,
    rng: np.random.Generator,
) -> EventArrays:
    """Carts from views and purchases from carts; returns the purchases."""
    truth = world.truth
    affinity = views.affinity
    elasticity = np.array([truth.elasticity[path] for path in truth.categories])
    price_ratio = (
        world.prices.price_at(views.item, views.second) / truth.item_base_price[views.item]
    )
    demand = price_ratio ** elasticity[truth.item_category[views.item]]
    chance = np.clip(cart_rate * (1 + 0.6 * np.tanh(affinity)) * demand, 0.0, 1.0)
    carted = rng.random(len(views.item)) < chance
    carts = views.select(carted)
    log.record(CART, world, carts, second=carts.second + rng.integers(5, 40, len(carts.item)))

    # Checkout follows the session's last view, so it follows every cart of the session.
    last_view = np.zeros(log.n_sessions, dtype=np.int64)
    np.maximum.at(last_view, views.session, views.second)
    checkout = last_view + 60 + rng.integers(0, 240, log.n_sessions)
    keep_rate = behaviour.purchase_rate * (0.8 + 0.4 / (1 + np.exp(-affinity[carted])))
    kept = rng.random(len(carts.item)) < keep_rate
    # An item carted twice in one session is one checkout line, not two purchases.
    line = carts.session.astype(np.int64) * len(world.truth.item_ids) + carts.item
    first = np.zeros(len(line), dtype=bool)
    first[np.unique(line, return_index=True)[1]] = True
    bought = carts.select(kept & first)
    return log.record(PURCHASE, world, bought, second=checkout[bought.session])


def _record_repeats(
    world: World,
    behaviour: Behaviour,
    config: DemoConfig,
    purchases: EventArrays,
    log: _Log,
    rng: np.random.Generator,
) -> EventArrays:
    """Re-buy visits for consumables, round after round; returns all purchases."""
    truth = world.truth
    gap_days = np.array([truth.repeat_gap_days[path] for path in truth.categories])
    span = config.n_days * DAY_SECONDS
    every = [purchases]
    latest = purchases
    for _ in range(_MAX_REPEAT_ROUNDS):
        mean_gap = gap_days[truth.item_category[latest.item]]
        gap = rng.gamma(4.0, 1.0, len(latest.item)) * mean_gap / 4.0 * DAY_SECONDS
        start = latest.second + gap.astype(np.int64)
        returns = (mean_gap > 0) & (rng.random(len(latest.item)) < behaviour.repeat_rate)
        returns &= (start < span) & _keeps_weekly_rhythm(world, config, start, rng)
        if not returns.any():
            break

        session = log.open_sessions(start[returns])
        visit = _one_view_visits(
            world,
            session,
            latest.user[returns],
            latest.item[returns],
            start[returns] + rng.integers(10, 60, len(session)),
        )
        log.record(VIEW, world, visit)
        cart_rate = np.full(len(session), behaviour.repeat_cart_rate)
        latest = _record_funnel(world, behaviour, visit, cart_rate, log, rng)
        every.append(latest)
    return _concatenate(every)


def _record_reviews(
    world: World,
    behaviour: Behaviour,
    config: DemoConfig,
    purchases: EventArrays,
    log: _Log,
    rng: np.random.Generator,
) -> ReviewArrays:
    """Reviews of some purchases, hours to days later, each with a rating event."""
    truth = world.truth
    delay = 3600 + rng.exponential(3.0 * DAY_SECONDS, len(purchases.item)).astype(np.int64)
    second = purchases.second + delay
    writes = rng.random(len(purchases.item)) < behaviour.review_rate
    writes &= (second < config.n_days * DAY_SECONDS) & _keeps_weekly_rhythm(
        world, config, second, rng
    )
    # Each review is written in a visit of its own, days after the purchase session.
    session = log.open_sessions(second[writes])
    review = _one_view_visits(
        world, session, purchases.user[writes], purchases.item[writes], second[writes]
    )

    latent = truth.rating_intercept + truth.rating_slope * review.affinity
    noise = rng.normal(0.0, 0.8, len(review.item))
    rating = np.clip(np.rint(latent + noise), 1.0, 5.0)
    log.record(RATING, world, review, value=rating)
    return ReviewArrays(user=review.user, item=review.item, second=review.second, rating=rating)


def _one_view_visits(
    world: World, session: IntArray, user: IntArray, item: IntArray, second: IntArray
) -> Views:
    """Short visits about one known item each (a re-buy, or writing a review)."""
    return Views(
        session=session,
        user=user,
        item=item,
        second=second,
        rank=np.zeros(len(session), dtype=np.int64),
        affinity=affinity_of(world.truth.user_factors[user], world.truth.item_factors[item]),
    )


def _keeps_weekly_rhythm(
    world: World, config: DemoConfig, second: IntArray, rng: np.random.Generator
) -> npt.NDArray[np.bool_]:
    """Thin visits by weekday so that re-buy and review visits share the weekly profile."""
    multipliers = np.asarray(world.truth.weekday_multipliers)
    weekday = (config.start_date.weekday() + second // DAY_SECONDS) % 7
    kept: npt.NDArray[np.bool_] = rng.random(len(second)) < multipliers[weekday] / multipliers.max()
    return kept


def _concatenate(parts: list[EventArrays]) -> EventArrays:
    return EventArrays(
        user=np.concatenate([part.user for part in parts]),
        item=np.concatenate([part.item for part in parts]),
        kind=np.concatenate([part.kind for part in parts]),
        second=np.concatenate([part.second for part in parts]),
        session=np.concatenate([part.session for part in parts]),
        price=np.concatenate([part.price for part in parts]),
        value=np.concatenate([part.value for part in parts]),
    )


def _chronological_session_order(log: _Log) -> IntArray:
    """New number of each session, so that session numbers follow start times."""
    start = np.concatenate(log.session_start)
    renumber = np.empty(len(start), dtype=np.int64)
    renumber[np.argsort(start, kind="stable")] = np.arange(len(start))
    return renumber


def _assemble(log: _Log, renumber: IntArray, span: int) -> EventArrays:
    """All events inside the period, sorted by time, with chronological session numbers."""
    events = _concatenate(log.events)
    session = renumber[events.session]
    inside = np.flatnonzero(events.second < span)
    # One int64 key (time, then session, then event type) sorts much faster than a lexsort.
    n_kinds, n_sessions = len(EVENT_TYPES), max(log.n_sessions, 1)
    key = (events.second[inside] * n_sessions + session[inside]) * n_kinds + events.kind[inside]
    order = inside[np.argsort(key, kind="stable")]
    return EventArrays(
        user=events.user[order],
        item=events.item[order],
        kind=events.kind[order],
        second=events.second[order],
        session=session[order],
        price=events.price[order],
        value=events.value[order],
    )
