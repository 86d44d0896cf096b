"""Ranking and beyond-accuracy metrics: hand-worked cases, then independent cross-checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from mercato.errors import ConfigError, DataError
from mercato.evaluate._metrics import (
    average_precision,
    catalogue_coverage,
    evaluate_by_segment,
    evaluate_on_items,
    evaluate_topk,
    hit_matrix,
    hit_rate,
    intra_list_diversity,
    mean_metrics,
    mrr,
    ndcg,
    novelty,
    popularity_bias,
    precision,
    recall,
    restrict_targets,
    segment_means,
    targets_from_lists,
    users_with_targets,
)

LOG3 = math.log2(3)
LOG6 = math.log2(6)

# Four users over six items, ranked to depth 5.
#   user 0: targets {1, 5}; ranking 3 1 4 0 5   -> hits at ranks 2 and 5
#   user 1: targets {0, 2, 4}; ranking 2 then padding -> hit at rank 1 only
#   user 2: no targets -> left out of every accuracy metric
#   user 3: targets {5}; ranking 0 1 2 3 4     -> no hit
TOPK = np.array(
    [
        [3, 1, 4, 0, 5],
        [2, -1, -1, -1, -1],
        [0, 1, 2, 3, 4],
        [0, 1, 2, 3, 4],
    ]
)
TARGETS = targets_from_lists([[1, 5], [2, 0, 4], [], [5]], n_items=6)


def test_targets_from_lists_collapses_repeats_and_sorts() -> None:
    targets = targets_from_lists([[2, 2, 0], []], n_items=3)

    assert targets.toarray().tolist() == [[1.0, 0.0, 1.0], [0.0, 0.0, 0.0]]
    assert targets.has_sorted_indices


def test_targets_from_lists_rejects_items_outside_catalogue() -> None:
    with pytest.raises(DataError, match="outside the catalogue"):
        targets_from_lists([[0, 3]], n_items=3)


def test_users_without_targets_are_left_out() -> None:
    assert users_with_targets(TARGETS).tolist() == [True, True, False, True]
    assert len(hit_rate(TOPK, TARGETS, 5)) == 3


def test_hit_matrix_marks_targets_and_never_padding() -> None:
    hits = hit_matrix(TOPK, TARGETS)

    assert hits.tolist() == [
        [False, True, False, False, True],
        [True, False, False, False, False],
        [False, False, False, False, False],
        [False, False, False, False, False],
    ]


def test_hit_rate_by_hand() -> None:
    # HR@5: users 0 and 1 hit, user 3 does not. HR@1: only user 1's first item is a target.
    assert hit_rate(TOPK, TARGETS, 5).tolist() == [1.0, 1.0, 0.0]
    assert hit_rate(TOPK, TARGETS, 1).tolist() == [0.0, 1.0, 0.0]


def test_recall_by_hand() -> None:
    # @5: 2 of 2, 1 of 3, 0 of 1.  @2: 1 of 2, 1 of 3, 0.
    assert recall(TOPK, TARGETS, 5) == pytest.approx([1.0, 1 / 3, 0.0])
    assert recall(TOPK, TARGETS, 2) == pytest.approx([0.5, 1 / 3, 0.0])


def test_precision_counts_padding_as_a_miss() -> None:
    # Hits over k = 5, padding included: 2/5, 1/5, 0.
    assert precision(TOPK, TARGETS, 5) == pytest.approx([0.4, 0.2, 0.0])


def test_ndcg_by_hand() -> None:
    # user 0: DCG = 1/log2(3) + 1/log2(6); ideal has 2 hits: 1 + 1/log2(3).
    # user 1: DCG = 1; ideal has min(3, 5) = 3 hits: 1 + 1/log2(3) + 1/2.
    expected_5 = [(1 / LOG3 + 1 / LOG6) / (1 + 1 / LOG3), 1 / (1 + 1 / LOG3 + 0.5), 0.0]
    assert ndcg(TOPK, TARGETS, 5) == pytest.approx(expected_5)

    # @2: user 0 DCG = 1/log2(3) over ideal 1 + 1/log2(3); user 1 ideal is capped at 2 hits.
    expected_2 = [(1 / LOG3) / (1 + 1 / LOG3), 1 / (1 + 1 / LOG3), 0.0]
    assert ndcg(TOPK, TARGETS, 2) == pytest.approx(expected_2)


def test_mrr_by_hand_uses_first_hit_within_k() -> None:
    # user 0's first hit is at rank 2 (the one at rank 5 does not count), user 1's at rank 1.
    assert mrr(TOPK, TARGETS, 5) == pytest.approx([0.5, 1.0, 0.0])
    assert mrr(TOPK, TARGETS, 1) == pytest.approx([0.0, 1.0, 0.0])


def test_map_by_hand_follows_kaggle_hm() -> None:
    # user 0 @5: (P@2 + P@5) / min(2, 5) = (1/2 + 2/5) / 2.  user 1 @5: P@1 / min(3, 5).
    assert average_precision(TOPK, TARGETS, 5) == pytest.approx([0.45, 1 / 3, 0.0])

    # @2: user 0 (P@2) / 2 = 1/4; user 1 P@1 / min(3, 2) = 1/2.
    assert average_precision(TOPK, TARGETS, 2) == pytest.approx([0.25, 0.5, 0.0])


def test_k_larger_than_catalogue_is_padded_ranking() -> None:
    # Three items ranked to depth 5: target 1 sits at rank 3, then two padding slots.
    topk = np.array([[2, 0, 1, -1, -1]])
    targets = targets_from_lists([[1]], n_items=3)

    result = evaluate_topk(topk, targets, ["HR@5", "MRR@5", "Precision@5", "NDCG@5"])

    assert result["HR@5"].tolist() == [1.0]
    assert result["MRR@5"] == pytest.approx([1 / 3])
    assert result["Precision@5"] == pytest.approx([1 / 5])
    assert result["NDCG@5"] == pytest.approx([1 / math.log2(4)])


def test_cutoff_beyond_ranking_width_is_refused() -> None:
    with pytest.raises(ConfigError, match="at least 6 columns"):
        evaluate_topk(TOPK, TARGETS, ["HR@6"])


def test_p_at_k_is_hit_rate_and_precision_is_hits_over_k() -> None:
    result = evaluate_topk(TOPK, TARGETS, ["P@5", "HR@5", "Precision@5"])

    np.testing.assert_array_equal(result["P@5"], result["HR@5"])
    assert result["Precision@5"] == pytest.approx([0.4, 0.2, 0.0])
    assert list(result) == ["P@5", "HR@5", "Precision@5"]


def test_evaluate_topk_accepts_a_single_spec_string() -> None:
    assert list(evaluate_topk(TOPK, TARGETS, "NDCG@5")) == ["NDCG@5"]


@pytest.mark.parametrize("spec", ["NDCG10", "ndcg@10", "HR@0", "Hits@5", "HR@-1", "MAP@1.5"])
def test_unknown_metric_names_the_valid_ones(spec: str) -> None:
    with pytest.raises(ConfigError, match=r"HR@k, P@k, Recall@k, Precision@k, NDCG@k"):
        evaluate_topk(TOPK, TARGETS, [spec])


def test_repeated_items_in_a_row_are_refused() -> None:
    with pytest.raises(DataError, match="repeats an item"):
        hit_rate(np.array([[1, 1, -1]]), targets_from_lists([[1]], n_items=3), 3)


def test_items_outside_catalogue_are_refused() -> None:
    with pytest.raises(DataError, match="outside the catalogue"):
        hit_rate(np.array([[0, 3]]), targets_from_lists([[1]], n_items=3), 2)


def test_explicit_zeros_in_targets_are_not_relevant() -> None:
    targets = sp.csr_matrix((np.array([0.0, 1.0]), np.array([0, 1]), np.array([0, 2])), (1, 3))

    assert recall(np.array([[0, 1]]), targets, 2).tolist() == [1.0]
    assert hit_rate(np.array([[0, 2]]), targets, 2).tolist() == [0.0]


def test_cold_recall_uses_cold_targets_over_users_that_have_one() -> None:
    # Cold items {4, 5}: user 0 keeps target 5 (ranked 5th), user 1 keeps 4 (not ranked),
    # user 3 keeps 5 (not ranked); user 2 has no target at all.
    cold = np.array([False, False, False, False, True, True])

    result = evaluate_topk(
        TOPK, TARGETS, ["ColdRecall@5", "ColdRecall@2", "Recall@2"], cold_items=cold
    )

    assert result["ColdRecall@5"].tolist() == [1.0, 0.0, 0.0]
    assert result["ColdRecall@2"].tolist() == [0.0, 0.0, 0.0]
    assert result["Recall@2"] == pytest.approx([0.5, 1 / 3, 0.0])
    np.testing.assert_array_equal(
        evaluate_on_items(TOPK, TARGETS, cold, "Recall@5")["Recall@5"], result["ColdRecall@5"]
    )


def test_cold_recall_needs_the_cold_mask() -> None:
    with pytest.raises(ConfigError, match="cold_items"):
        evaluate_topk(TOPK, TARGETS, ["ColdRecall@5"])


def test_restrict_targets_keeps_rows() -> None:
    cold = np.array([False, False, False, False, True, True])

    restricted = restrict_targets(TARGETS, cold)

    assert restricted.shape == TARGETS.shape
    assert restricted.toarray()[:, 4:].tolist() == [[0, 1], [1, 0], [0, 0], [0, 1]]
    assert restricted.toarray()[:, :4].sum() == 0


def test_segment_means_by_hand() -> None:
    assert segment_means([1.0, 0.0, 0.5, 1.0], ["b", "a", "b", "a"]) == {"a": 0.5, "b": 0.75}


def test_evaluate_by_segment_aligns_labels_with_evaluated_users() -> None:
    # Evaluated rows 0, 1, 3 (HR@5 1, 1, 0) carry labels new, returning, returning.
    segments = np.array(["new", "returning", "new", "returning"])
    cold = np.array([False, False, False, False, True, True])

    breakdown = evaluate_by_segment(
        TOPK, TARGETS, segments, ["HR@5", "ColdRecall@5"], cold_items=cold
    )

    assert breakdown["HR@5"] == {"new": 1.0, "returning": 0.5}
    assert breakdown["ColdRecall@5"] == {"new": 1.0, "returning": 0.0}


def test_mean_metrics() -> None:
    assert mean_metrics({"HR@5": np.array([1.0, 0.0]), "X": np.array([])})["HR@5"] == 0.5


# ------------------------------------------------------------------------------------------------
# Beyond accuracy
# ------------------------------------------------------------------------------------------------


def test_catalogue_coverage_by_hand() -> None:
    topk = np.array([[0, 1], [1, 2], [-1, -1]])

    assert catalogue_coverage(topk, n_items=5) == pytest.approx(3 / 5)
    assert catalogue_coverage(topk, n_items=5, k=1) == pytest.approx(2 / 5)


def test_novelty_by_hand() -> None:
    # Counts 4, 2, 2, 0 of 8: shares 1/2, 1/4, 1/4 and (unseen, counted as 1) 1/8
    # -> 1, 2, 2, 3 bits.
    popularity = np.array([4, 2, 2, 0])
    topk = np.array([[0, 1], [3, -1], [-1, -1]])

    result = novelty(topk, popularity)

    assert result[:2] == pytest.approx([1.5, 3.0])
    assert math.isnan(result[2])


def test_intra_list_diversity_from_categories_by_hand() -> None:
    # Items 0, 1, 2 in categories 0, 0, 1: one same pair out of three -> ILD 2/3.
    categories = np.array([0, 0, 1, 2])

    result = intra_list_diversity(np.array([[0, 1, 2], [0, -1, -1]]), item_categories=categories)

    assert result[0] == pytest.approx(2 / 3)
    assert math.isnan(result[1])


def test_intra_list_diversity_from_vectors_by_hand() -> None:
    # cos(e1, e2) = 0, cos(e1, e1+e2) = cos(e2, e1+e2) = 1/sqrt(2); a zero vector is orthogonal.
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    far = 1 - 1 / math.sqrt(2)

    result = intra_list_diversity(np.array([[0, 1, 2], [0, 3, -1]]), item_vectors=vectors)

    assert result == pytest.approx([(1 + 2 * far) / 3, 1.0])


def test_intra_list_diversity_needs_exactly_one_item_description() -> None:
    with pytest.raises(ConfigError, match="exactly one"):
        intra_list_diversity(np.array([[0, 1]]))
    with pytest.raises(ConfigError, match="exactly one"):
        intra_list_diversity(np.array([[0, 1]]), item_vectors=np.eye(2), item_categories=[0, 1])


def test_popularity_bias_by_hand() -> None:
    # Counts 10, 0, 5, 5, 1: mid-ranks 5, 1, 3.5, 3.5, 2 -> percentiles (r - 0.5) / 5
    # = 0.9, 0.1, 0.6, 0.6, 0.3. Head 20% = item 0; head 40% = items 0 and 2 (tie -> lower index).
    popularity = np.array([10, 0, 5, 5, 1])
    topk = np.array([[0, 1], [2, 3]])

    narrow = popularity_bias(topk, popularity)
    wide = popularity_bias(topk, popularity, head_fraction=0.4)

    assert narrow.mean_percentile == pytest.approx([0.5, 0.6])
    assert narrow.head_share.tolist() == [0.5, 0.0]
    assert wide.head_share.tolist() == [0.5, 0.5]


# ------------------------------------------------------------------------------------------------
# Cross-checks against independent implementations
# ------------------------------------------------------------------------------------------------


def _reference(ranking: list[int], relevant: set[int], k: int) -> dict[str, float]:
    """Loop-by-loop definitions, written apart from the vectorised code."""
    window = ranking[:k]
    hits = [item in relevant for item in window]
    first = next((rank for rank, hit in enumerate(hits, start=1) if hit), None)
    dcg = sum(1 / math.log2(rank + 1) for rank, hit in enumerate(hits, start=1) if hit)
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(len(relevant), k) + 1))
    found = 0
    precision_sum = 0.0
    for rank, hit in enumerate(hits, start=1):
        if hit:
            found += 1
            precision_sum += found / rank
    return {
        "HR": float(any(hits)),
        "Recall": sum(hits) / len(relevant),
        "Precision": sum(hits) / k,
        "NDCG": dcg / ideal,
        "MRR": 0.0 if first is None else 1 / first,
        "MAP": precision_sum / min(len(relevant), k),
    }


def _random_case(
    rng: np.random.Generator, n_users: int, n_items: int, width: int
) -> tuple[np.ndarray, list[list[int]]]:
    topk = np.full((n_users, width), -1)
    lists = []
    for user in range(n_users):
        depth = int(rng.integers(0, min(width, n_items) + 1))
        topk[user, :depth] = rng.choice(n_items, size=depth, replace=False)
        lists.append(rng.choice(n_items, size=int(rng.integers(0, 6)), replace=False).tolist())
    return topk, lists


def _check_against_reference(topk: np.ndarray, lists: list[list[int]], n_items: int) -> None:
    targets = targets_from_lists(lists, n_items)
    width = topk.shape[1]
    for k in sorted({1, max(1, width // 2), width}):
        specs = [f"{family}@{k}" for family in ("HR", "Recall", "Precision", "NDCG", "MRR", "MAP")]
        result = evaluate_topk(topk, targets, specs)
        expected = [
            _reference(topk[u].tolist(), set(lists[u]), k) for u in range(len(lists)) if lists[u]
        ]
        for spec in specs:
            family = spec.split("@")[0]
            assert result[spec] == pytest.approx([row[family] for row in expected]), spec


@pytest.mark.parametrize("seed", range(5))
def test_all_accuracy_metrics_match_the_loop_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_items = int(rng.integers(3, 40))
    topk, lists = _random_case(rng, n_users=150, n_items=n_items, width=int(rng.integers(1, 15)))

    _check_against_reference(topk, lists, n_items)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=1, max_value=12).flatmap(
        lambda n_items: st.tuples(
            st.just(n_items),
            st.lists(
                st.tuples(
                    st.permutations(list(range(n_items))),
                    st.integers(min_value=0, max_value=n_items),
                    st.sets(st.integers(min_value=0, max_value=n_items - 1)),
                ),
                min_size=1,
                max_size=6,
            ),
        )
    ),
    st.integers(min_value=1, max_value=14),
)
def test_metrics_match_reference_on_generated_rankings(case: tuple, width: int) -> None:
    n_items, users = case
    topk = np.full((len(users), width), -1)
    for row, (order, depth, _) in enumerate(users):
        kept = order[: min(depth, width)]
        topk[row, : len(kept)] = kept
    lists = [sorted(relevant) for _, _, relevant in users]

    _check_against_reference(topk, lists, n_items)


@pytest.mark.parametrize("seed", range(3))
def test_ndcg_matches_sklearn(seed: int) -> None:
    from sklearn.metrics import ndcg_score

    # Continuous random scores have no ties, so sklearn's tie averaging does not come into play
    # and its ranking equals ours; every user gets at least one target (sklearn scores an
    # all-zero row as 0 where we leave the user out).
    rng = np.random.default_rng(seed)
    n_users, n_items, k = 60, 25, 7
    scores = rng.random((n_users, n_items))
    relevant = rng.random((n_users, n_items)) < 0.15
    relevant[np.arange(n_users), rng.integers(0, n_items, n_users)] = True

    topk = np.argsort(-scores, axis=1)[:, :k]
    ours = ndcg(topk, sp.csr_matrix(relevant.astype(np.float64)), k)

    theirs = [ndcg_score(relevant[u : u + 1], scores[u : u + 1], k=k) for u in range(n_users)]
    assert ours == pytest.approx(theirs)


def test_hit_rate_matches_sklearn_top_k_accuracy() -> None:
    from sklearn.metrics import top_k_accuracy_score

    rng = np.random.default_rng(7)
    n_users, n_items, k = 300, 30, 5
    scores = rng.random((n_users, n_items))
    target = rng.integers(0, n_items, n_users)

    topk = np.argsort(-scores, axis=1)[:, :k]
    ours = hit_rate(topk, targets_from_lists([[t] for t in target], n_items), k)

    theirs = top_k_accuracy_score(target, scores, k=k, labels=np.arange(n_items))
    assert ours.mean() == pytest.approx(theirs)


def test_a_one_dimensional_ranking_is_a_data_error() -> None:
    with pytest.raises(DataError, match="2-D integer array"):
        evaluate_topk(np.array([0, 1]), targets_from_lists([[1]], n_items=3), ["HR@1"])


def test_no_targets_at_all_gives_empty_per_user_arrays() -> None:
    targets = targets_from_lists([[], []], n_items=3)

    result = evaluate_topk(np.array([[0, 1], [2, -1]]), targets, ["HR@2", "NDCG@2"])

    assert [len(values) for values in result.values()] == [0, 0]
    assert math.isnan(mean_metrics(result)["HR@2"])
