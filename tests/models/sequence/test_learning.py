"""The sequence models learn what a sequence says: order, behaviour types, sessions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from mercato.models import Recommender, get_model

from ..data import make_dataset
from .planted import cycles, typed_pairs

ENCODER: dict[str, dict[str, Any]] = {
    "caser": {"max_len": 3, "n_horizontal": 8, "n_vertical": 2},
    "gru4rec": {"max_len": 8},
    "sasrec": {"max_len": 8, "n_blocks": 1},
}
TRAINING: dict[str, Any] = {
    "embedding_dim": 16,
    "max_epochs": 40,
    "patience": 5,
    "lr": 1e-2,
    "dropout": 0.0,
    "batch_size": 32,
    "n_negatives": 8,
    # These tests read what one early-stopped fit learns; the refit has its own test.
    "refit": False,
}


def build(name: str, **overrides: Any) -> Recommender[Any]:
    return get_model(name, **{**TRAINING, **ENCODER[name], **overrides})


def hit_rate_at_1(top_items: np.ndarray, targets: np.ndarray) -> float:
    return float(np.mean(top_items[:, 0] == targets))


@pytest.mark.parametrize(
    "loss",
    [
        {"loss": "softmax"},
        {"loss": "softmax", "bf16_logits": True},
        {"loss": "sampled"},
        {"loss": "sampled", "negative_sampler": "popularity", "logq_correction": 1.0},
        {"loss": "sampled", "shared_negatives": False},
        {"loss": "softmax", "score_temperature": 0.1},
        {"loss": "sampled", "score_temperature": 0.1},
    ],
    ids=[
        "softmax",
        "softmax-bf16",
        "sampled",
        "sampled-popularity-logq",
        "sampled-per-position",
        "softmax-cosine",
        "sampled-cosine",
    ],
)
@pytest.mark.parametrize("name", sorted(ENCODER))
def test_learns_a_planted_next_item_rule(name: str, loss: dict[str, Any]) -> None:
    _, train, held_out, _ = cycles()
    users = np.arange(train.n_users)

    model = build(name, **loss).fit(train)
    learned = hit_rate_at_1(model.recommend(users, k=1).items, held_out)

    # Popularity cannot know the rule: the test separates models that read the sequence.
    popular = hit_rate_at_1(get_model("pop").fit(train).recommend(users, k=1).items, held_out)
    assert popular < 0.3
    assert learned >= 0.9


@pytest.mark.parametrize("name", sorted(ENCODER))
def test_anonymous_sessions_train_and_score_as_histories(name: str) -> None:
    _, train, held_out, prefixes = cycles(anonymous=True)
    assert train.n_users == 0

    model = build(name).fit(train)  # sequence_key "auto": per session, as there are no users
    top = model.recommend(histories=prefixes, k=1).items
    assert hit_rate_at_1(top, held_out) >= 0.9


@pytest.mark.parametrize("key", ["session", "user"])
def test_every_sequence_key_reads_anonymous_sessions(key: str) -> None:
    _, train, held_out, prefixes = cycles(anonymous=True)
    model = build("sasrec", sequence_key=key).fit(train)
    assert hit_rate_at_1(model.recommend(histories=prefixes, k=1).items, held_out) >= 0.9


def test_history_order_is_read() -> None:
    _, train, _, prefixes = cycles(anonymous=True)
    model = build("sasrec").fit(train)
    forward = model.score_histories(prefixes[:10])
    backward = model.score_histories([prefix[::-1] for prefix in prefixes[:10]])
    assert not np.allclose(forward, backward)


def test_a_cart_says_more_than_a_view() -> None:
    typed, held_out = typed_pairs()
    users = np.arange(typed.n_users)
    learned = hit_rate_at_1(build("sasrec").fit(typed).recommend(users, k=1).items, held_out)

    # Control: the same events all recorded as views. The follower is then a coin toss.
    erased, _ = typed_pairs(erase_types=True)
    blind = hit_rate_at_1(build("sasrec").fit(erased).recommend(users, k=1).items, held_out)
    assert learned >= 0.9
    assert blind <= 0.7


@pytest.mark.parametrize("name", sorted(ENCODER))
def test_behaviour_types_and_time_gaps_change_scores(name: str) -> None:
    # Users 0-3 see items 1, 2, 3 in the same order; 1 carts them, 2 and 3 differ in timing.
    start = pd.Timestamp("2024-05-01")
    rows = []
    for user, kind, gap in [(0, "view", 60), (1, "cart", 60), (2, "view", 60), (3, "view", 86_400)]:
        for step, item in enumerate([1, 2, 3]):
            timestamp = start + pd.Timedelta(seconds=gap * step) if user >= 2 else pd.NaT
            rows.append((user, item, kind, timestamp))
    rows += [(4, item, "view", pd.NaT) for item in [0, 1, 2, 3, 4]]
    frame = pd.DataFrame(rows, columns=["user_idx", "item_idx", "event_type", "timestamp"])
    model = build(name, max_epochs=1).fit(make_dataset(frame, n_users=5, n_items=6))

    scores = model.score_users(np.arange(4))
    assert not np.allclose(scores[0], scores[1])  # view vs cart
    assert not np.allclose(scores[2], scores[3])  # a minute apart vs a day apart
    assert not np.allclose(scores[0], scores[2])  # unknown gaps vs known ones
