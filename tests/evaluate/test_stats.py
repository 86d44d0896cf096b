"""Bootstrap intervals and the paired test: coverage, power, size, and edge cases."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from mercato.errors import ConfigError, DataError
from mercato.evaluate._stats import bootstrap_ci, paired_test


def test_bootstrap_ci_brackets_the_mean_and_is_reproducible() -> None:
    values = np.random.default_rng(0).random(300)

    low, high = bootstrap_ci(values, seed=3)

    assert low < values.mean() < high
    assert (low, high) == bootstrap_ci(values, seed=3)
    assert (low, high) != bootstrap_ci(values, seed=4)


def test_bootstrap_ci_agrees_with_scipy_percentile_bootstrap() -> None:
    values = np.random.default_rng(1).exponential(size=400)

    ours = bootstrap_ci(values, n_resamples=4000, seed=0)
    theirs = scipy.stats.bootstrap(
        (values,), np.mean, n_resamples=4000, method="percentile", rng=np.random.default_rng(0)
    ).confidence_interval

    # Different random draws: the end points agree to Monte Carlo error, a few % of the width.
    width = theirs.high - theirs.low
    assert ours[0] == pytest.approx(theirs.low, abs=0.05 * width)
    assert ours[1] == pytest.approx(theirs.high, abs=0.05 * width)


def test_bootstrap_ci_covers_the_true_mean_at_about_the_nominal_rate() -> None:
    # 400 simulated test sets of 200 users with a 0/1 metric of true mean 0.3 (like HR@10).
    rng = np.random.default_rng(2)
    covered = 0
    n_trials = 400
    for trial in range(n_trials):
        sample = (rng.random(200) < 0.3).astype(np.float64)
        low, high = bootstrap_ci(sample, n_resamples=500, seed=trial)
        covered += low <= 0.3 <= high

    assert 0.91 <= covered / n_trials <= 0.98


def test_bootstrap_ci_narrows_with_lower_confidence() -> None:
    values = np.random.default_rng(3).random(100)

    wide = bootstrap_ci(values, confidence=0.99)
    narrow = bootstrap_ci(values, confidence=0.5)

    assert wide[0] < narrow[0] < narrow[1] < wide[1]


def test_bootstrap_ci_of_a_constant_is_a_point() -> None:
    assert bootstrap_ci(np.full(50, 0.25)) == (0.25, 0.25)


def test_paired_test_finds_a_real_difference() -> None:
    rng = np.random.default_rng(4)
    a = (rng.random(2000) < 0.35).astype(np.float64)
    b = (rng.random(2000) < 0.25).astype(np.float64)

    result = paired_test(a, b, seed=1)

    assert result.mean_difference == pytest.approx(a.mean() - b.mean())
    assert result.ci[0] > 0
    assert result.p_value < 0.01
    assert result.wilcoxon_p_value < 0.01
    assert (result.n_users, result.n_resamples, result.confidence) == (2000, 2000, 0.95)


def test_paired_test_rejects_at_about_the_nominal_rate_without_a_difference() -> None:
    # Under "no difference" a 5% test should reject about 5% of the time: not never, not often.
    rng = np.random.default_rng(5)
    n_trials = 200
    rejected = 0
    for trial in range(n_trials):
        shared = rng.random(150)
        a = shared + rng.normal(0, 0.2, 150)
        b = shared + rng.normal(0, 0.2, 150)
        rejected += paired_test(a, b, n_resamples=500, seed=trial).p_value < 0.05

    assert 0.01 <= rejected / n_trials <= 0.10


def test_paired_test_gives_a_large_p_value_for_identical_models() -> None:
    values = np.random.default_rng(6).random(500)

    result = paired_test(values, values.copy())

    assert result.p_value == 1.0
    assert result.wilcoxon_p_value == 1.0
    assert result.ci == (0.0, 0.0)


def test_sign_flip_p_value_matches_the_exact_one_on_a_tiny_case() -> None:
    # Three users, all better by 1: of the 8 sign patterns, 2 reach |sum| = 3 -> p = 1/4.
    result = paired_test(np.ones(3), np.zeros(3), n_resamples=20000, seed=0)

    assert result.p_value == pytest.approx(0.25, abs=0.015)


def test_paired_values_must_align() -> None:
    with pytest.raises(DataError, match="same length"):
        paired_test(np.zeros(3), np.zeros(4))


def test_nan_values_are_refused() -> None:
    with pytest.raises(DataError, match="NaN"):
        bootstrap_ci(np.array([0.1, np.nan]))


def test_empty_values_are_refused() -> None:
    with pytest.raises(DataError, match="non-empty"):
        bootstrap_ci(np.array([]))


@pytest.mark.parametrize(("n_resamples", "confidence"), [(0, 0.95), (100, 1.0), (100, 0.0)])
def test_bad_settings_are_config_errors(n_resamples: int, confidence: float) -> None:
    with pytest.raises(ConfigError):
        bootstrap_ci(np.ones(5), n_resamples=n_resamples, confidence=confidence)
