"""Uncertainty of per-user metrics: bootstrap intervals and a paired comparison of two models.

Every function takes the per-user values that :mod:`mercato.evaluate._metrics` returns, so the
unit of resampling is the user: the test users are the sample, the catalogue is fixed.
Resampling is vectorised in batches of about ``_BATCH_CELLS`` draws, so memory stays small even
for 60k users and thousands of resamples.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import scipy.stats
from numpy.typing import ArrayLike, NDArray

from mercato.errors import ConfigError, DataError

__all__ = ["PairedResult", "bootstrap_ci", "paired_test"]

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]

# Resampled cells (resamples x users) drawn at once: 4M float64 draws are 32 MB.
_BATCH_CELLS = 2**22


@dataclass(frozen=True)
class PairedResult:
    """Outcome of :func:`paired_test` for models A and B on the same users.

    Attributes:
        mean_difference: mean over users of ``a - b``.
        ci: percentile-bootstrap interval of the mean difference (users resampled in pairs).
        confidence: coverage of ``ci``, e.g. 0.95.
        p_value: two-sided p-value of the sign-flip permutation test of "no difference".
        wilcoxon_p_value: two-sided p-value of scipy's Wilcoxon signed-rank test, for reference
            (1.0 when every difference is zero).
        n_users: number of paired users.
        n_resamples: resamples behind ``ci`` and ``p_value``.
    """

    mean_difference: float
    ci: tuple[float, float]
    confidence: float
    p_value: float
    wilcoxon_p_value: float
    n_users: int
    n_resamples: int


def bootstrap_ci(
    per_user: ArrayLike,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile-bootstrap interval of the mean of a per-user metric.

    Args:
        per_user: ``[N]`` metric values, one per user.
        n_resamples: bootstrap resamples (draws of ``N`` users with replacement).
        confidence: interval coverage in ``(0, 1)``.
        seed: seed of the random generator; the same seed gives the same interval.

    Returns:
        ``(low, high)`` quantiles ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` of the
        resampled means.
    """
    values = _check_values("per_user", per_user)
    _check_settings(n_resamples, confidence)
    rng = np.random.default_rng(seed)

    means = np.concatenate(list(_bootstrap_means(values, n_resamples, rng)))
    low, high = np.quantile(means, [(1.0 - confidence) / 2.0, (1.0 + confidence) / 2.0])
    return float(low), float(high)


def paired_test(
    a: ArrayLike,
    b: ArrayLike,
    *,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> PairedResult:
    """Compares two models scored on the same users, user by user.

    The p-value comes from a sign-flip permutation test: under "no difference" the label A/B of
    each user's pair is exchangeable, so each difference ``a_u - b_u`` is as likely to have
    either sign. The observed ``|sum of differences|`` is compared with ``n_resamples`` random
    sign flips, ``p = (1 + #{|flipped| >= |observed|}) / (1 + n_resamples)``, which is never 0.

    Args:
        a: ``[N]`` per-user values of model A.
        b: ``[N]`` per-user values of model B, same users in the same order.
        n_resamples: resamples for the interval and for the permutation test.
        confidence: coverage of the interval of the mean difference.
        seed: seed of the random generator.

    Returns:
        The mean difference ``a - b``, its interval, and the p-values.
    """
    values_a = _check_values("a", a)
    values_b = _check_values("b", b)
    if values_a.shape != values_b.shape:
        raise DataError(
            "paired values must have one entry per user in both models",
            found=(values_a.shape, values_b.shape),
            expected="two arrays of the same length",
        )
    _check_settings(n_resamples, confidence)
    differences = values_a - values_b

    ci = bootstrap_ci(differences, n_resamples=n_resamples, confidence=confidence, seed=seed)
    p_value = _sign_flip_p_value(differences, n_resamples, np.random.default_rng(seed + 1))
    result = PairedResult(
        mean_difference=float(differences.mean()),
        ci=ci,
        confidence=confidence,
        p_value=p_value,
        wilcoxon_p_value=_wilcoxon_p_value(differences),
        n_users=len(differences),
        n_resamples=n_resamples,
    )
    logger.debug("paired test: %s", result)
    return result


def _bootstrap_means(
    values: FloatArray, n_resamples: int, rng: np.random.Generator
) -> Iterator[FloatArray]:
    """Yields the means of ``n_resamples`` bootstrap samples, in batches ``[B]``."""
    for batch in _batches(n_resamples, len(values)):
        picks = rng.integers(0, len(values), size=(batch, len(values)))  # [B, N] user indices
        yield values[picks].mean(axis=1)


def _sign_flip_p_value(
    differences: FloatArray, n_resamples: int, rng: np.random.Generator
) -> float:
    observed = abs(differences.sum())

    # Sums of the same numbers in another order differ by rounding; a flip that reproduces the
    # observed statistic exactly (e.g. all differences zero) must count as "as extreme".
    tolerance = 1e-9 * max(1.0, float(np.abs(differences).sum()))

    as_extreme = 0
    for batch in _batches(n_resamples, len(differences)):
        positive = rng.random((batch, len(differences))) < 0.5  # [B, N] sign of each user
        flipped = np.where(positive, differences, -differences).sum(axis=1)
        as_extreme += int(np.count_nonzero(np.abs(flipped) >= observed - tolerance))
    return (1 + as_extreme) / (1 + n_resamples)


def _wilcoxon_p_value(differences: FloatArray) -> float:
    # scipy divides by zero when no difference is non-zero: there is no evidence either way.
    if not np.any(differences != 0):
        return 1.0
    return float(scipy.stats.wilcoxon(differences).pvalue)


def _batches(n_resamples: int, n_users: int) -> Iterator[int]:
    per_batch = max(1, _BATCH_CELLS // max(1, n_users))
    for start in range(0, n_resamples, per_batch):
        yield min(per_batch, n_resamples - start)


def _check_values(name: str, values: ArrayLike) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise DataError(
            f"{name} must be a non-empty 1-D array of per-user values", found=array.shape
        )
    if not np.isfinite(array).all():
        raise DataError(
            f"{name} holds NaN or infinite values",
            found=int((~np.isfinite(array)).sum()),
            fix="drop the users whose metric is undefined before resampling.",
        )
    return array


def _check_settings(n_resamples: int, confidence: float) -> None:
    if not isinstance(n_resamples, int) or n_resamples < 1:
        raise ConfigError(f"n_resamples must be a positive integer; got {n_resamples!r}.")
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"confidence must be strictly between 0 and 1; got {confidence!r}.")
