"""Ranking and beyond-accuracy metrics over full top-k rankings, one value per user.

Shape letters: ``U`` users (rows of a ranking), ``I`` items in the catalogue, ``k`` list length,
``D`` item-vector width.

Inputs are the same everywhere:

- ``topk``: int array ``[U, k]`` of item indices, best first; ``-1`` pads a row where fewer than
  ``k`` items were rankable. A padded position is a miss that still counts as a rank (so
  ``Precision@k`` keeps dividing by ``k``). An item may appear at most once per row.
- ``targets``: the relevant items, a binary ``scipy.sparse.csr_matrix`` ``[U, I]`` whose row ``u``
  belongs to row ``u`` of ``topk``; :func:`targets_from_lists` builds one from per-user arrays.
  Any stored non-zero value counts as relevant.

Accuracy metrics return per-user ``float64`` arrays so that bootstrap intervals and paired tests
can run on them; the reported figure is their mean. Users without any target are left out of
every accuracy metric (their recall is undefined, and counting them as zero would make a score
depend on how many such users a split happens to contain); :func:`users_with_targets` gives the
mask of the users that are kept, in row order.

Metric specs are strings spelled as in the benchmark protocols: ``HR@10``, ``NDCG@10``,
``Recall@12``, ``MAP@12``, ``MRR@20``, ``P@20``, ``Precision@5``, ``ColdRecall@12``.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.stats
from numpy.typing import ArrayLike, NDArray

from mercato.errors import ConfigError, DataError

__all__ = [
    "METRIC_FAMILIES",
    "PopularityBias",
    "average_precision",
    "catalogue_coverage",
    "evaluate_by_segment",
    "evaluate_on_items",
    "evaluate_topk",
    "hit_matrix",
    "hit_rate",
    "intra_list_diversity",
    "mean_metrics",
    "mrr",
    "ndcg",
    "novelty",
    "popularity_bias",
    "precision",
    "recall",
    "restrict_targets",
    "segment_means",
    "targets_from_lists",
    "users_with_targets",
]

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

_SPEC = re.compile(r"^(?P<family>[A-Za-z]+)@(?P<k>[1-9][0-9]*)$")

# Rows of ILD work per step: [chunk, k, D] gathered vectors and a [chunk, k, k] Gram matrix.
_ILD_CHUNK = 2048


# --------------------------------------------------------------------------------------------
# Targets
# --------------------------------------------------------------------------------------------


def targets_from_lists(item_lists: Sequence[ArrayLike], n_items: int) -> sp.csr_matrix:
    """Builds the canonical binary target matrix from one array of item indices per user.

    Args:
        item_lists: ``U`` sequences of item indices in ``[0, n_items)``; repeats collapse to one
            target and an empty sequence gives a user without targets.
        n_items: catalogue size ``I``.

    Returns:
        ``csr_matrix [U, I]`` of ``float64`` ones with sorted indices.

    Example:
        >>> targets_from_lists([[2, 0], [], [1]], n_items=3).toarray()
        array([[1., 0., 1.],
               [0., 0., 0.],
               [0., 1., 0.]])
    """
    arrays = [np.asarray(items, dtype=np.int64).reshape(-1) for items in item_lists]
    lengths = np.array([len(items) for items in arrays], dtype=np.int64)
    columns = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)
    if columns.size and (columns.min() < 0 or columns.max() >= n_items):
        raise DataError(
            "a target item index is outside the catalogue",
            found=(int(columns.min()), int(columns.max())),
            expected=f"indices in [0, {n_items})",
        )

    rows = np.repeat(np.arange(len(arrays), dtype=np.int64), lengths)
    ones = np.ones(len(columns), dtype=np.float64)
    matrix = sp.csr_matrix((ones, (rows, columns)), shape=(len(arrays), n_items))

    # The COO constructor sums repeats; a target is relevant or not, so clip back to one.
    matrix.data[:] = 1.0
    matrix.sort_indices()
    return matrix


def restrict_targets(targets: sp.spmatrix, item_mask: ArrayLike) -> sp.csr_matrix:
    """Keeps only the targets whose item is in ``item_mask`` (e.g. the cold items).

    Args:
        targets: ``[U, I]`` sparse targets.
        item_mask: bool ``[I]``, True for items whose targets are kept.

    Returns:
        ``csr_matrix [U, I]`` with the other targets removed; users keep their rows.
    """
    canonical = _canonical_targets(targets)
    mask = _item_mask(item_mask, canonical.shape[1])

    # Zero the dropped entries in place of rebuilding the matrix; rows and order stay as they are.
    canonical.data = np.where(mask[canonical.indices], canonical.data, 0.0)
    canonical.eliminate_zeros()
    logger.debug("kept %d targets under the item mask", canonical.nnz)
    return canonical


def users_with_targets(targets: sp.spmatrix) -> BoolArray:
    """Returns bool ``[U]``: the users that accuracy metrics evaluate (at least one target)."""
    canonical = _canonical_targets(targets)
    return np.asarray(np.diff(canonical.indptr) > 0)


def hit_matrix(topk: ArrayLike, targets: sp.spmatrix) -> BoolArray:
    """Marks which recommended items are targets.

    Args:
        topk: int ``[U, k]`` ranking, ``-1`` padded.
        targets: ``[U, I]`` sparse targets.

    Returns:
        bool ``[U, k]``; ``hits[u, r]`` is True when ``topk[u, r]`` is a target of user ``u``.
    """
    canonical = _canonical_targets(targets)
    n_users, n_items = canonical.shape
    ranking = _check_topk(topk, n_items, n_users=n_users)

    # Row-major keys user * I + item are sorted for a canonical CSR, so one searchsorted answers
    # every membership question at once instead of a Python loop over users.
    target_rows = np.repeat(np.arange(n_users, dtype=np.int64), np.diff(canonical.indptr))
    target_keys = target_rows * n_items + canonical.indices.astype(np.int64)
    query_keys = np.arange(n_users, dtype=np.int64)[:, None] * n_items + ranking

    if len(target_keys) == 0:
        return np.zeros(ranking.shape, dtype=np.bool_)
    positions = np.minimum(np.searchsorted(target_keys, query_keys), len(target_keys) - 1)
    found = target_keys[positions] == query_keys
    return np.asarray(found & (ranking >= 0))


# --------------------------------------------------------------------------------------------
# Accuracy metrics on a hit matrix
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Hits:
    """Hit matrix of the evaluated users with their target counts."""

    hits: BoolArray  # [U_eval, k_max]
    n_targets: IntArray  # [U_eval]


def _hits_for(topk: ArrayLike, targets: sp.spmatrix, k: int) -> _Hits:
    canonical = _canonical_targets(targets)
    hits = hit_matrix(topk, canonical)
    _require_width(hits.shape[1], k)
    n_targets = np.diff(canonical.indptr).astype(np.int64)
    evaluated = n_targets > 0
    return _Hits(hits=hits[evaluated], n_targets=n_targets[evaluated])


def _hr(h: _Hits, k: int) -> FloatArray:
    return np.asarray(h.hits[:, :k].any(axis=1), dtype=np.float64)


def _recall(h: _Hits, k: int) -> FloatArray:
    return np.asarray(h.hits[:, :k].sum(axis=1) / h.n_targets, dtype=np.float64)


def _precision(h: _Hits, k: int) -> FloatArray:
    return np.asarray(h.hits[:, :k].sum(axis=1) / float(k), dtype=np.float64)


def _discounts(k: int) -> FloatArray:
    return 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))


def _ndcg(h: _Hits, k: int) -> FloatArray:
    discounts = _discounts(k)
    dcg = h.hits[:, :k].astype(np.float64) @ discounts

    # The ideal list puts min(|targets|, k) hits first.
    ideal = np.asarray(np.cumsum(discounts)[np.minimum(h.n_targets, k) - 1])
    return np.asarray(dcg / ideal, dtype=np.float64)


def _mrr(h: _Hits, k: int) -> FloatArray:
    window = h.hits[:, :k]
    first = np.argmax(window, axis=1)
    return np.where(window.any(axis=1), 1.0 / (first + 1.0), 0.0)


def _map(h: _Hits, k: int) -> FloatArray:
    window = h.hits[:, :k]
    precision_at_rank = np.cumsum(window, axis=1) / np.arange(1, k + 1, dtype=np.float64)

    # Kaggle H&M MAP@12: only ranks that are hits add their precision; divide by min(|T|, k).
    summed = (precision_at_rank * window).sum(axis=1)
    return np.asarray(summed / np.minimum(h.n_targets, k))


_Metric = Callable[[_Hits, int], FloatArray]

# P@k is HR@k on purpose: session benchmarks (SR-GNN and after) have one target per prefix and
# call "the target is in the top k" precision, so P@20 must reproduce their numbers; the textbook
# hits / k is spelled Precision@k.
METRIC_FAMILIES: dict[str, str] = {
    "HR": "1 if any target is in the top k",
    "P": "alias of HR@k (session-benchmark convention: one target, 'precision' = hit)",
    "Recall": "hits in the top k / number of targets",
    "Precision": "hits in the top k / k",
    "NDCG": "binary-gain DCG@k / ideal DCG over min(|targets|, k) hits",
    "MRR": "1 / rank of the first hit within k, else 0",
    "MAP": "sum of P@i at hit ranks i <= k / min(|targets|, k) (Kaggle H&M)",
    "ColdRecall": "Recall@k on the targets in cold_items, over users with such a target",
}

_METRICS: dict[str, _Metric] = {
    "HR": _hr,
    "P": _hr,
    "Recall": _recall,
    "Precision": _precision,
    "NDCG": _ndcg,
    "MRR": _mrr,
    "MAP": _map,
    "ColdRecall": _recall,  # on the cold-target hits; see evaluate_topk
}


def hit_rate(topk: ArrayLike, targets: sp.spmatrix, k: int) -> FloatArray:
    """HR@k per evaluated user ``[U_eval]``: 1.0 if any target is in the top ``k``, else 0.0."""
    return _hr(_hits_for(topk, targets, k), k)


def recall(topk: ArrayLike, targets: sp.spmatrix, k: int) -> FloatArray:
    """Recall@k per evaluated user ``[U_eval]``: hits in the top ``k`` over ``|targets|``."""
    return _recall(_hits_for(topk, targets, k), k)


def precision(topk: ArrayLike, targets: sp.spmatrix, k: int) -> FloatArray:
    """Precision@k per evaluated user ``[U_eval]``: hits in the top ``k`` over ``k``."""
    return _precision(_hits_for(topk, targets, k), k)


def ndcg(topk: ArrayLike, targets: sp.spmatrix, k: int) -> FloatArray:
    """NDCG@k per evaluated user ``[U_eval]`` with binary gains and ``1/log2(rank + 1)``."""
    return _ndcg(_hits_for(topk, targets, k), k)


def mrr(topk: ArrayLike, targets: sp.spmatrix, k: int) -> FloatArray:
    """MRR@k per evaluated user ``[U_eval]``: reciprocal rank of the first hit, 0 if none."""
    return _mrr(_hits_for(topk, targets, k), k)


def average_precision(topk: ArrayLike, targets: sp.spmatrix, k: int) -> FloatArray:
    """AP@k per evaluated user ``[U_eval]`` as in Kaggle H&M; its mean is MAP@k."""
    return _map(_hits_for(topk, targets, k), k)


# --------------------------------------------------------------------------------------------
# Metric specs
# --------------------------------------------------------------------------------------------


def _parse_spec(spec: str) -> tuple[str, int]:
    match = _SPEC.match(spec)
    if match is None or match["family"] not in METRIC_FAMILIES:
        valid = ", ".join(f"{family}@k" for family in METRIC_FAMILIES)
        raise ConfigError(
            f"Unknown metric {spec!r}: expected one of {valid}, with k a positive integer "
            "(for example 'NDCG@10')."
        )
    return match["family"], int(match["k"])


def _as_specs(metrics: str | Sequence[str]) -> list[str]:
    # A lone string would otherwise be read as a sequence of one-letter metric names.
    specs = [metrics] if isinstance(metrics, str) else list(metrics)
    return list(dict.fromkeys(specs))


def evaluate_topk(
    topk: ArrayLike,
    targets: sp.spmatrix,
    metrics: str | Sequence[str],
    *,
    cold_items: ArrayLike | None = None,
) -> dict[str, FloatArray]:
    """Computes the named metrics per user from one ranking.

    Args:
        topk: int ``[U, k]`` ranking, ``-1`` padded; ``k`` must be at least the largest cutoff.
        targets: ``[U, I]`` sparse binary targets, row ``u`` for row ``u`` of ``topk``.
        metrics: specs such as ``["HR@10", "NDCG@10", "P@20", "MRR@20"]``; see
            :data:`METRIC_FAMILIES`. ``P@k`` is HR@k (session protocol), ``Precision@k`` is
            hits / k.
        cold_items: bool ``[I]``, needed only for ``ColdRecall@k``.

    Returns:
        Spec → per-user ``float64`` values ``[U_eval]`` over the users with at least one target,
        in row order (:func:`users_with_targets`). ``ColdRecall@k`` is over the users with at
        least one target in ``cold_items`` instead, so its length can differ.

    Raises:
        ConfigError: an unknown spec, ``ColdRecall`` without ``cold_items``, or a cutoff larger
            than the width of ``topk``.
    """
    parsed = {spec: _parse_spec(spec) for spec in _as_specs(metrics)}
    if not parsed:
        return {}
    # Hits on all targets, and (keyed True) on the cold targets alone when ColdRecall is asked.
    hits = {False: _hits_for(topk, targets, 1)}
    for _, k in parsed.values():
        _require_width(hits[False].hits.shape[1], k)
    if any(family == "ColdRecall" for family, _ in parsed.values()):
        if cold_items is None:
            raise ConfigError("ColdRecall@k needs cold_items: a bool mask [n_items] of cold items.")
        hits[True] = _hits_for(topk, restrict_targets(targets, cold_items), 1)

    return {
        spec: _METRICS[family](hits[family == "ColdRecall"], k)
        for spec, (family, k) in parsed.items()
    }


def evaluate_on_items(
    topk: ArrayLike,
    targets: sp.spmatrix,
    item_mask: ArrayLike,
    metrics: str | Sequence[str],
) -> dict[str, FloatArray]:
    """Computes metrics on the targets whose item is in ``item_mask`` alone.

    This is how ``ColdRecall@12`` of the H&M protocol is defined: ``Recall@12`` on the test
    purchases of cold items, over the users with at least one cold target. Hits on other
    targets do not count.

    Args:
        topk: int ``[U, k]`` ranking.
        targets: ``[U, I]`` sparse targets.
        item_mask: bool ``[I]``, True for the items whose targets are kept.
        metrics: specs as for :func:`evaluate_topk` (``ColdRecall`` excluded).

    Returns:
        Spec → per-user values over the users with at least one masked target, in row order.
    """
    restricted = restrict_targets(targets, item_mask)
    return evaluate_topk(topk, restricted, metrics)


def mean_metrics(per_user: dict[str, FloatArray]) -> dict[str, float]:
    """Averages each per-user array into the figure a results file reports."""
    return {
        spec: float(np.mean(values)) if len(values) else math.nan
        for spec, values in per_user.items()
    }


# --------------------------------------------------------------------------------------------
# Segments
# --------------------------------------------------------------------------------------------


def segment_means(per_user: ArrayLike, segments: ArrayLike) -> dict[str, float]:
    """Means of a per-user metric within each segment.

    Args:
        per_user: ``[N]`` metric values.
        segments: ``[N]`` labels aligned with ``per_user`` (e.g. ``"new"`` / ``"returning"``).

    Returns:
        ``str(label)`` → mean over that segment's users, labels in sorted order.
    """
    values = np.asarray(per_user, dtype=np.float64)
    labels = np.asarray(segments)
    if values.shape != labels.shape or values.ndim != 1:
        raise DataError(
            "per-user values and segment labels must be 1-D arrays of the same length",
            found=(values.shape, labels.shape),
        )

    unique, codes = np.unique(labels, return_inverse=True)
    sums = np.bincount(codes, weights=values, minlength=len(unique))
    counts = np.bincount(codes, minlength=len(unique))
    return {str(label): float(sums[i] / counts[i]) for i, label in enumerate(unique)}


def evaluate_by_segment(
    topk: ArrayLike,
    targets: sp.spmatrix,
    segments: ArrayLike,
    metrics: str | Sequence[str],
    *,
    cold_items: ArrayLike | None = None,
) -> dict[str, dict[str, float]]:
    """Per-segment means of each metric, segments given per user (row of ``topk``).

    Args:
        topk: int ``[U, k]`` ranking.
        targets: ``[U, I]`` sparse targets.
        segments: ``[U]`` labels for every row, including users without targets.
        metrics: specs as for :func:`evaluate_topk`.
        cold_items: bool ``[I]``, for ``ColdRecall@k``.

    Returns:
        Spec → ``str(label)`` → mean. A segment without evaluated users for a metric is absent
        from that metric's entry.
    """
    canonical = _canonical_targets(targets)
    labels = np.asarray(segments)
    if labels.shape != (canonical.shape[0],):
        raise DataError(
            "segment labels must give one label per user row",
            found=labels.shape,
            expected=f"shape ({canonical.shape[0]},)",
        )

    per_user = evaluate_topk(topk, canonical, metrics, cold_items=cold_items)

    # The rows each metric was computed on (keyed True: ColdRecall's users with a cold target).
    evaluated = {False: users_with_targets(canonical)}
    if cold_items is not None:
        evaluated[True] = users_with_targets(restrict_targets(canonical, cold_items))

    return {
        spec: segment_means(values, labels[evaluated[spec.startswith("ColdRecall@")]])
        for spec, values in per_user.items()
    }


# --------------------------------------------------------------------------------------------
# Beyond accuracy
# --------------------------------------------------------------------------------------------


def catalogue_coverage(topk: ArrayLike, n_items: int, *, k: int | None = None) -> float:
    """Share of the catalogue that appears in at least one top-k list.

    Args:
        topk: int ``[U, k]`` ranking of the users to cover (padding ignored).
        n_items: catalogue size ``I``.
        k: cutoff; the full width when None.

    Returns:
        ``|distinct recommended items| / I`` in ``[0, 1]``.
    """
    ranking = _window(topk, n_items, k)
    recommended = np.unique(ranking[ranking >= 0])
    return float(len(recommended) / n_items)


def novelty(topk: ArrayLike, item_popularity: ArrayLike, *, k: int | None = None) -> FloatArray:
    """Mean self-information ``-log2(popularity share)`` of each user's recommended items.

    The share of item ``i`` is ``count_i / sum(counts)``. An item never seen in training is
    counted as seen once, so cold items get a large but finite novelty.

    Args:
        topk: int ``[U, k]`` ranking.
        item_popularity: ``[I]`` interaction counts (training data).
        k: cutoff; the full width when None.

    Returns:
        ``float64 [U]`` in bits; NaN for a row with no item (all padding).
    """
    counts = _popularity(item_popularity)
    ranking = _window(topk, len(counts), k)

    share = np.maximum(counts, 1.0) / counts.sum()
    information = -np.log2(share)
    return _mean_over_valid(information, ranking)


def intra_list_diversity(
    topk: ArrayLike,
    *,
    item_vectors: ArrayLike | None = None,
    item_categories: ArrayLike | None = None,
    k: int | None = None,
) -> FloatArray:
    """Mean pairwise dissimilarity within each user's list (ILD).

    Give exactly one of ``item_vectors`` (dissimilarity ``1 - cosine``; a zero vector is
    orthogonal to everything) or ``item_categories`` (dissimilarity 1 for a pair from different
    categories, 0 for the same, so ILD is ``1 - share of same-category pairs``).

    Args:
        topk: int ``[U, k]`` ranking.
        item_vectors: ``[I, D]`` item embeddings.
        item_categories: ``[I]`` category codes (any comparable labels).
        k: cutoff; the full width when None.

    Returns:
        ``float64 [U]``; NaN for a row with fewer than two items.
    """
    if (item_vectors is None) == (item_categories is None):
        raise ConfigError(
            "intra_list_diversity needs exactly one of item_vectors or item_categories."
        )

    if item_vectors is not None:
        vectors = np.asarray(item_vectors, dtype=np.float64)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        features: NDArray[Any] = np.divide(
            vectors, norms, out=np.zeros_like(vectors), where=norms > 0
        )
        pair_dissimilarity = _cosine_dissimilarity
    else:
        features = np.asarray(item_categories)
        pair_dissimilarity = _category_dissimilarity

    ranking = _window(topk, len(features), k)
    diversity = np.empty(len(ranking), dtype=np.float64)
    for start in range(0, len(ranking), _ILD_CHUNK):
        chunk = ranking[start : start + _ILD_CHUNK]
        diversity[start : start + len(chunk)] = _mean_pair_dissimilarity(
            chunk, features, pair_dissimilarity
        )
    return diversity


@dataclass(frozen=True)
class PopularityBias:
    """Popularity of what each user is recommended.

    Attributes:
        mean_percentile: ``[U]`` mean popularity percentile of the recommended items, in
            ``[0, 1]`` (1 = the most popular item; ties share their mid-rank).
        head_share: ``[U]`` share of the recommended items that are in the most popular
            ``head_fraction`` of the catalogue.
    """

    mean_percentile: FloatArray
    head_share: FloatArray


def popularity_bias(
    topk: ArrayLike,
    item_popularity: ArrayLike,
    *,
    k: int | None = None,
    head_fraction: float = 0.2,
) -> PopularityBias:
    """Measures how strongly the recommendations lean to popular items.

    The percentile of item ``i`` is ``(#items less popular + #items as popular / 2) / I``. The
    head is the ``ceil(head_fraction * I)`` most popular items, ties broken by lower item index
    so that the head always has that size.

    Args:
        topk: int ``[U, k]`` ranking.
        item_popularity: ``[I]`` interaction counts (training data).
        k: cutoff; the full width when None.
        head_fraction: share of the catalogue counted as the popular head.

    Returns:
        Per-user arrays; NaN for a row with no item.
    """
    if not 0.0 < head_fraction <= 1.0:
        raise ConfigError(f"head_fraction must be in (0, 1]; got {head_fraction}.")
    counts = _popularity(item_popularity)
    n_items = len(counts)
    ranking = _window(topk, n_items, k)

    # rankdata's mid-rank r in 1..I gives (r - 0.5) / I = (below + ties / 2) / I.
    percentile = (scipy.stats.rankdata(counts, method="average") - 0.5) / n_items

    by_popularity = np.lexsort((np.arange(n_items), -counts))
    in_head = np.zeros(n_items, dtype=np.float64)
    in_head[by_popularity[: math.ceil(head_fraction * n_items)]] = 1.0

    return PopularityBias(
        mean_percentile=_mean_over_valid(np.asarray(percentile, dtype=np.float64), ranking),
        head_share=_mean_over_valid(in_head, ranking),
    )


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _canonical_targets(targets: sp.spmatrix) -> sp.csr_matrix:
    if not sp.issparse(targets):
        raise DataError(
            "targets must be a scipy.sparse matrix [n_users, n_items]",
            found=type(targets).__name__,
            fix="build one with targets_from_lists(item_lists, n_items).",
        )
    canonical = sp.csr_matrix(targets, copy=True)
    canonical.sum_duplicates()
    canonical.eliminate_zeros()
    canonical.sort_indices()
    return canonical


def _check_topk(topk: ArrayLike, n_items: int, *, n_users: int | None = None) -> IntArray:
    ranking = np.asarray(topk)
    if ranking.ndim != 2 or not np.issubdtype(ranking.dtype, np.integer):
        raise DataError(
            "topk must be a 2-D integer array [n_users, k]",
            found=f"{ranking.ndim}-D {ranking.dtype}",
        )
    if n_users is not None and ranking.shape[0] != n_users:
        raise DataError(
            "topk and targets must have one row per user each",
            found=(ranking.shape[0], n_users),
            expected="the same number of rows",
        )
    ranking = ranking.astype(np.int64, copy=False)
    if ranking.size and (ranking.min() < -1 or ranking.max() >= n_items):
        raise DataError(
            "topk holds an item index outside the catalogue",
            found=(int(ranking.min()), int(ranking.max())),
            expected=f"indices in [0, {n_items}) or -1 for padding",
        )
    _check_no_repeats(ranking)
    return ranking


def _check_no_repeats(ranking: IntArray) -> None:
    # A repeated item would be counted as two hits and push recall above one.
    ordered = np.sort(ranking, axis=1)
    repeated = (ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)
    if repeated.any():
        row = int(np.flatnonzero(repeated.any(axis=1))[0])
        raise DataError(
            "topk repeats an item within a row",
            row=row,
            found=ranking[row].tolist(),
            expected="each item at most once per row (-1 padding may repeat)",
        )


def _require_width(width: int, k: int) -> None:
    if k > width:
        raise ConfigError(
            f"A metric at cutoff {k} needs a top-k of at least {k} columns; got {width}. "
            f"Rank with k >= {k} (rank_topk pads with -1 where fewer items are rankable)."
        )


def _window(topk: ArrayLike, n_items: int, k: int | None) -> IntArray:
    ranking = _check_topk(topk, n_items)
    if k is None:
        return ranking
    _require_width(ranking.shape[1], k)
    return ranking[:, :k]


def _item_mask(item_mask: ArrayLike, n_items: int) -> BoolArray:
    mask = np.asarray(item_mask)
    if mask.dtype != np.bool_ or mask.shape != (n_items,):
        raise DataError(
            "an item mask must be a bool array with one entry per item",
            found=f"{mask.dtype} {mask.shape}",
            expected=f"bool ({n_items},)",
        )
    return mask


def _popularity(item_popularity: ArrayLike) -> FloatArray:
    counts = np.asarray(item_popularity, dtype=np.float64)
    if counts.ndim != 1 or counts.size == 0 or (counts < 0).any() or counts.sum() <= 0:
        raise DataError(
            "item_popularity must be non-negative counts [n_items] with a positive total",
            found=f"shape {counts.shape}, total {counts.sum() if counts.size else 0}",
        )
    return counts


def _mean_over_valid(item_values: FloatArray, ranking: IntArray) -> FloatArray:
    """Mean of ``item_values`` over the non-padding items of each row ``[U]``; NaN if none."""
    valid = ranking >= 0
    gathered = np.where(valid, item_values[np.maximum(ranking, 0)], 0.0)
    counts = valid.sum(axis=1)
    totals = gathered.sum(axis=1)
    means = np.full(len(ranking), np.nan)
    np.divide(totals, counts, out=means, where=counts > 0)
    return means


def _cosine_dissimilarity(first: NDArray[Any], second: NDArray[Any]) -> FloatArray:
    # first, second: [C, k, D] unit vectors → [C, k, k]
    return np.asarray(1.0 - first @ np.swapaxes(second, 1, 2), dtype=np.float64)


def _category_dissimilarity(first: NDArray[Any], second: NDArray[Any]) -> FloatArray:
    # first, second: [C, k] labels → [C, k, k]
    return np.asarray(first[:, :, None] != second[:, None, :], dtype=np.float64)


def _mean_pair_dissimilarity(
    chunk: IntArray,
    features: NDArray[Any],
    pair_dissimilarity: Callable[[NDArray[Any], NDArray[Any]], FloatArray],
) -> FloatArray:
    valid = chunk >= 0  # [C, k]
    gathered = features[np.maximum(chunk, 0)]  # [C, k] or [C, k, D]
    dissimilarity = pair_dissimilarity(gathered, gathered)  # [C, k, k]

    width = chunk.shape[1]
    pairs = valid[:, :, None] & valid[:, None, :] & ~np.eye(width, dtype=np.bool_)
    n_pairs = pairs.sum(axis=(1, 2))
    totals = np.where(pairs, dissimilarity, 0.0).sum(axis=(1, 2))

    means = np.full(len(chunk), np.nan)
    np.divide(totals, n_pairs, out=means, where=n_pairs > 0)
    return means
