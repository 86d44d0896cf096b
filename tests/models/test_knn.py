"""Item and user kNN: similarities on hand-checked examples, pruning, event weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from mercato.data import Dataset
from mercato.models import ItemKNN, UserKNN, _neighbours
from mercato.models._neighbours import top_k_per_row

from .data import interactions, make_dataset, tiny_shop

# Users x items: 0 1 2 3
#   user 0       1 1 0 0
#   user 1       1 1 1 0
#   user 2       0 1 1 0
#   user 3       0 0 0 1
PAIRS = [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 1), (2, 2), (3, 3)]


def _cosine(x: np.ndarray, y: np.ndarray, shrinkage: float) -> float:
    return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y) + shrinkage))


def test_item_similarity_is_shrunk_cosine_without_self_similarity() -> None:
    dataset = interactions(PAIRS, n_users=4, n_items=4)
    model = ItemKNN(shrinkage=1.0).fit(dataset)
    matrix = dataset.user_items().toarray()

    expected = np.zeros((4, 4), dtype=np.float32)
    for i in range(4):
        for j in range(4):
            if i != j:
                expected[i, j] = _cosine(matrix[:, i], matrix[:, j], 1.0)
    np.testing.assert_allclose(model._similarity.toarray(), expected, rtol=1e-6)

    # User 2 saw items 1 and 2: item 0 scores sim(1, 0) + sim(2, 0); item 3 shares nobody.
    scores = model.score_users(np.array([2]))[0]
    np.testing.assert_allclose(scores[0], expected[1, 0] + expected[2, 0], rtol=1e-6)
    assert scores[3] == 0.0


def test_item_neighbours_are_pruned_to_k_per_item() -> None:
    model = ItemKNN(k_neighbours=1, shrinkage=0.0).fit(interactions(PAIRS, 4, 4))
    similarity = model._similarity.toarray()
    # Item 1's most similar item: 0 and 2 tie (cos = 2/sqrt(6)); the lower index is kept.
    assert np.count_nonzero(similarity[1]) == 1 and similarity[1, 0] > 0
    assert np.count_nonzero(similarity[3]) == 0  # item 3 co-occurs with nothing


def test_top_k_per_row_breaks_ties_by_lower_column() -> None:
    similarities = np.array([[0.5, 0.9, 0.5, 0.5, 0.0], [-1.0, 0.2, 0.0, 0.0, 0.0]])
    kept = top_k_per_row(sp.csr_matrix(similarities.astype(np.float32)), k=3).toarray()
    np.testing.assert_array_equal(kept[0] > 0, [True, True, True, False, False])
    np.testing.assert_array_equal(kept[1] > 0, [False, True, False, False, False])


def _random_interactions(n_users: int, n_items: int, seed: int) -> Dataset:
    matrix = sp.random(n_users, n_items, density=0.15, format="csr", random_state=seed)
    pairs = [(int(user), int(item)) for user, item in zip(*matrix.nonzero(), strict=True)]
    return interactions(pairs, n_users, n_items)


def test_item_knn_in_many_blocks_matches_a_dense_computation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dataset = _random_interactions(60, 40, seed=0)
    whole = ItemKNN(k_neighbours=5, shrinkage=2.0).fit(dataset)._similarity.toarray()
    monkeypatch.setattr(_neighbours, "_BLOCK_ENTRIES", 30)  # a few items per block
    blocked = ItemKNN(k_neighbours=5, shrinkage=2.0).fit(dataset)._similarity.toarray()
    np.testing.assert_array_equal(blocked, whole)

    dense = dataset.user_items().toarray()
    norms = np.linalg.norm(dense, axis=0)
    full = dense.T @ dense / (np.outer(norms, norms) + 2.0)
    np.fill_diagonal(full, 0.0)
    for item in range(40):
        kept = blocked[item]
        assert np.count_nonzero(kept) == min(5, np.count_nonzero(full[item]))
        best = np.sort(full[item])[::-1][: np.count_nonzero(kept)]
        np.testing.assert_allclose(np.sort(kept[kept > 0])[::-1], best, rtol=1e-5)


def test_user_knn_in_many_blocks_scores_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    dataset = _random_interactions(50, 30, seed=1)
    users, histories = np.arange(50), [np.array([0, 3]), np.array([7]), np.array([1, 2, 9])]
    model = UserKNN(k_neighbours=4).fit(dataset)
    whole = model.score_users(users), model.score_histories(histories)
    monkeypatch.setattr(_neighbours, "_BLOCK_ENTRIES", 40)
    np.testing.assert_array_equal(model.score_users(users), whole[0])
    np.testing.assert_array_equal(model.score_histories(histories), whole[1])


def test_user_knn_scores_from_the_nearest_other_users() -> None:
    dataset = interactions(PAIRS, n_users=4, n_items=4)
    model = UserKNN(k_neighbours=1, shrinkage=0.0).fit(dataset)
    matrix = dataset.user_items().toarray()

    # User 0 = {0, 1}; nearest other user is 1 = {0, 1, 2} (cos 2/sqrt(6) vs 1/2 for user 2).
    scores = model.score_users(np.array([0]))[0]
    np.testing.assert_allclose(scores, _cosine(matrix[0], matrix[1], 0.0) * matrix[1], rtol=1e-6)

    # A history equal to user 0's own items may use user 0 as neighbour: it is not user 0.
    history = model.score_histories([np.array([0, 1])])[0]
    assert history[0] > 0 and history[2] == 0.0  # nearest row is user 0 itself, who lacks 2


def test_user_knn_uses_anonymous_sessions_as_neighbours() -> None:
    frame = pd.DataFrame(
        {
            "user_idx": [0, 0, -1, -1, -1],
            "item_idx": [0, 1, 2, 3, 4],
            "session_idx": [0, 0, 1, 1, 1],
        }
    )
    model = UserKNN(shrinkage=0.0).fit(make_dataset(frame, n_users=1, n_items=5))
    scores = model.score_histories([np.array([2])])[0]
    assert scores[3] > 0 and scores[4] > 0 and scores[0] == 0.0


def test_event_weights_change_item_knn() -> None:
    shop = tiny_shop()
    users = np.arange(shop.n_users)
    default = ItemKNN().fit(shop).score_users(users)
    purchases_only = ItemKNN(event_weights={"purchase": 1.0}).fit(shop).score_users(users)
    assert not np.allclose(default, purchases_only)
