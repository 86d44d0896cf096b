"""EASE against a direct numpy solve, and its catalogue-size guard."""

from __future__ import annotations

import numpy as np
import pytest

from mercato.errors import ConfigError
from mercato.models import EASE

from .data import tiny_shop


def test_ease_weights_match_a_direct_solve() -> None:
    shop = tiny_shop()
    model = EASE(l2=5.0).fit(shop)

    # Training rows are the users and then the anonymous sessions (see _training).
    users = shop.user_items().toarray().astype(np.float64)
    anonymous = shop.events[shop.events["user_idx"] < 0]
    sessions = np.zeros((anonymous["session_idx"].nunique(), shop.n_items))
    codes = anonymous["session_idx"].astype("category").cat.codes.to_numpy()
    np.add.at(sessions, (codes, anonymous["item_idx"].to_numpy()), 1.0)
    rows = np.vstack([users, sessions])

    precision = np.linalg.inv(rows.T @ rows + 5.0 * np.eye(shop.n_items))
    expected = np.eye(shop.n_items) - precision / np.diag(precision)[None, :]
    np.testing.assert_allclose(model._weights, expected, atol=2e-5)
    assert np.all(np.diag(model._weights) == 0.0)

    scores = model.score_users(np.array([0, 1]))
    np.testing.assert_allclose(scores, users[:2] @ expected, rtol=1e-4, atol=1e-5)


def test_ease_refuses_a_catalogue_above_max_items() -> None:
    shop = tiny_shop()
    with pytest.raises(ConfigError, match=r"max_items is 10.*use itemknn"):
        EASE(max_items=10).fit(shop)


def test_l2_must_be_positive() -> None:
    with pytest.raises(ConfigError, match=r"l2 must be a finite number in \(0.0, inf\)"):
        EASE(l2=0.0)
