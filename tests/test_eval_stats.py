"""The interval code is right: reference values, SciPy, and coverage on simulated data.

Every random draw here is seeded, so these tests give the same verdict on every run.
"""

from __future__ import annotations

import math
import random
import statistics

import pytest

from gitprov.model import eval_stats as stats

# Newcombe (1998), "Two-sided confidence intervals for the single proportion: comparison
# of seven methods", Statistics in Medicine 17:857-872, Table I, method 3 (Wilson score
# interval without continuity correction), 95%, to 4 decimal places.
NEWCOMBE_WILSON = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
]


@pytest.mark.parametrize(("k", "n", "low", "high"), NEWCOMBE_WILSON)
def test_wilson_interval_matches_newcombes_table(k: int, n: int, low: float, high: float) -> None:
    got = stats.wilson_interval(k, n, 0.95)
    assert (round(got[0], 4), round(got[1], 4)) == (low, high)


def test_wilson_interval_ends_at_0_and_1_exactly_for_none_and_all() -> None:
    assert stats.wilson_interval(0, 50)[0] == 0.0
    assert stats.wilson_interval(50, 50)[1] == 1.0


def test_wilson_interval_matches_scipy_for_a_grid_of_counts_and_levels() -> None:
    scipy_stats = pytest.importorskip("scipy.stats")
    for n in (1, 7, 30, 263, 5000):
        for k in sorted({0, 1, n // 3, n // 2, n - 1, n}):
            for level in (0.8, 0.9, 0.95, 0.99):
                ours = stats.wilson_interval(k, n, level)
                ci = scipy_stats.binomtest(k, n).proportion_ci(
                    confidence_level=level, method="wilson"
                )
                assert ours == pytest.approx((ci.low, ci.high), abs=1e-12), (k, n, level)


def test_z_value_is_the_normal_quantile() -> None:
    assert stats.z_value(0.95) == pytest.approx(1.959963984540054, abs=1e-12)
    assert stats.z_value(0.99) == pytest.approx(2.5758293035489, abs=1e-12)


@pytest.mark.parametrize("level", [0.0, 1.0, -0.5, 95.0])
def test_a_level_outside_0_1_is_refused(level: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        stats.wilson_interval(1, 2, level)


def test_quantile_is_numpys_linear_percentile() -> None:
    numpy = pytest.importorskip("numpy")
    rng = random.Random(5)
    values = sorted(rng.gauss(0, 1) for _ in range(101))
    for q in (0.0, 0.025, 0.1, 0.5, 0.975, 1.0):
        assert stats.quantile(values, q) == pytest.approx(
            float(numpy.percentile(values, q * 100)), abs=1e-12
        )


def test_the_same_seed_gives_the_same_interval_and_another_seed_another() -> None:
    rng = random.Random(1)
    values = [rng.expovariate(1.0) for _ in range(300)]
    first = stats.bootstrap_interval(values, resamples=500, seed=7)
    assert stats.bootstrap_interval(values, resamples=500, seed=7) == first
    assert stats.bootstrap_interval(values, resamples=500, seed=8) != first


def _resample_moments(values: list[float], seed: int) -> tuple[float, float]:
    means = stats._resample_means(values, 4000, seed)
    return statistics.fmean(means), statistics.stdev(means)


@pytest.mark.parametrize(
    "values",
    [
        # the general (block) path: many distinct values, n not a power of two
        [random.Random(2).gauss(10, 3) for _ in range(1000)],
        # the multinomial path: few distinct values
        [float(random.Random(3).randrange(4)) for _ in range(777)],
    ],
    ids=["continuous", "few-distinct"],
)
def test_resample_means_have_the_bootstrap_distributions_mean_and_spread(
    values: list[float],
) -> None:
    """Drawing n with replacement: the resample mean averages the sample mean, with
    standard deviation sigma/sqrt(n) (sigma with divisor n). A wrong draw (a block left
    out, an index out of range, a biased binomial) moves one of them."""
    n = len(values)
    centre = statistics.fmean(values)
    spread = statistics.pstdev(values) / math.sqrt(n)
    got_mean, got_sd = _resample_moments(values, seed=11)
    assert got_mean == pytest.approx(centre, abs=4 * spread / math.sqrt(4000))
    assert got_sd == pytest.approx(spread, rel=0.06)


def test_binomial_draws_have_the_binomial_mean_and_variance() -> None:
    rng = random.Random(9)
    for n, p in [(40, 0.1), (1000, 0.02), (100_000, 0.3), (5000, 0.97)]:
        draws = [stats._binomial(rng, n, p) for _ in range(4000)]
        assert all(0 <= d <= n for d in draws)
        assert statistics.fmean(draws) == pytest.approx(
            n * p, abs=4 * math.sqrt(n * p * (1 - p) / 4000)
        )
        assert statistics.variance(draws) == pytest.approx(n * p * (1 - p), rel=0.1)


def test_bootstrap_interval_agrees_with_scipy() -> None:
    """SciPy resamples with numpy's generator, so the two agree up to Monte Carlo error:
    with 5,000 resamples each, the ends are within a few percent of the width."""
    scipy_stats = pytest.importorskip("scipy.stats")
    numpy = pytest.importorskip("numpy")
    rng = random.Random(4)
    values = [rng.lognormvariate(0, 1) for _ in range(400)]
    ours = stats.bootstrap_interval(values, level=0.9, resamples=5000, seed=1)
    theirs = scipy_stats.bootstrap(
        (numpy.array(values),),
        numpy.mean,
        confidence_level=0.9,
        n_resamples=5000,
        method="percentile",
        random_state=numpy.random.default_rng(1),
    ).confidence_interval
    width = theirs.high - theirs.low
    assert ours[0] == pytest.approx(theirs.low, abs=0.05 * width)
    assert ours[1] == pytest.approx(theirs.high, abs=0.05 * width)


def _coverage(draw: object, truth: float, *, trials: int, n: int, seed: int) -> float:
    rng = random.Random(seed)
    hits = 0
    for trial in range(trials):
        sample = [draw(rng) for _ in range(n)]  # type: ignore[operator]
        low, high = stats.bootstrap_interval(sample, level=0.95, resamples=400, seed=trial)
        hits += low <= truth <= high
    return hits / trials


def test_bootstrap_interval_covers_the_true_mean_about_95_percent_of_the_time() -> None:
    """200 simulated data sets of 80 normal values (true mean 5): the nominal 95% interval
    must hold it in 89%-99% of them (the percentile bootstrap runs a little narrow at
    small n; 200 trials give a binomial standard error of 1.5 points)."""
    coverage = _coverage(lambda r: r.gauss(5.0, 2.0), 5.0, trials=200, n=80, seed=21)
    assert 0.89 <= coverage <= 0.99


def test_bootstrap_interval_covers_a_proportion_too() -> None:
    """The multinomial path on 0/1 data (true proportion 0.3)."""
    coverage = _coverage(lambda r: float(r.random() < 0.3), 0.3, trials=200, n=150, seed=22)
    assert 0.89 <= coverage <= 0.99


def test_wilson_interval_covers_about_95_percent_of_the_time() -> None:
    rng = random.Random(23)
    trials, n, p = 2000, 60, 0.15
    hits = 0
    for _ in range(trials):
        k = sum(rng.random() < p for _ in range(n))
        low, high = stats.wilson_interval(k, n, 0.95)
        hits += low <= p <= high
    assert 0.92 <= hits / trials <= 0.98


def test_estimate_uses_wilson_for_0_1_values_and_the_bootstrap_otherwise() -> None:
    binary = stats.estimate([1, 0, 1, 1, 0, 1, 1, 1], seed=3)
    assert binary.method == stats.WILSON
    assert binary.value == 0.75
    assert (binary.ci_low, binary.ci_high) == stats.wilson_interval(6, 8)
    assert binary.seed is None
    assert binary.n == 8
    continuous = stats.estimate([0.2, 0.5, 0.9, 0.4], resamples=200, seed=3)
    assert continuous.method == stats.BOOTSTRAP
    assert continuous.seed == 3
    assert continuous.resamples == 200
    assert continuous.ci_low is not None
    assert continuous.ci_high is not None
    assert continuous.ci_low <= continuous.value <= continuous.ci_high


def test_paired_bootstrap_finds_a_real_difference() -> None:
    """B is A with 4% of A's wrong answers fixed, on 3,000 examples: a difference that two
    separate 95% intervals (each about +-1.5 points) would not tell apart."""
    rng = random.Random(31)
    a = [float(rng.random() < 0.7) for _ in range(3000)]
    b = [1.0 if x == 1.0 or rng.random() < 0.04 else 0.0 for x in a]
    diff = stats.paired_bootstrap(a, b, resamples=1000, seed=1)
    assert diff.significant
    assert diff.ci_low > 0
    assert diff.p_value < 0.01
    wa = stats.wilson_interval(int(sum(a)), len(a))
    wb = stats.wilson_interval(int(sum(b)), len(b))
    assert stats.intervals_overlap(wa, wb)  # the unpaired check misses it


def test_paired_bootstrap_does_not_flag_noise() -> None:
    """A and B are two draws of the same model (same 70% accuracy, independent errors)."""
    rng = random.Random(32)
    a = [float(rng.random() < 0.7) for _ in range(2000)]
    b = [float(rng.random() < 0.7) for _ in range(2000)]
    diff = stats.paired_bootstrap(a, b, resamples=1000, seed=1)
    assert diff.ci_low < diff.delta < diff.ci_high
    # These particular seeded draws differ by chance by less than the interval's width.
    assert not diff.significant
    assert diff.p_value > 0.05


def test_paired_bootstrap_false_alarm_rate_is_near_the_level() -> None:
    """Over 100 seeded no-difference comparisons, about 5% are flagged (at most 12)."""
    flagged = 0
    for trial in range(100):
        rng = random.Random(1000 + trial)
        a = [rng.gauss(0, 1) for _ in range(120)]
        b = [x + rng.gauss(0, 1) for x in a]  # noise around A, no shift
        flagged += stats.paired_bootstrap(a, b, resamples=300, seed=trial).significant
    assert flagged <= 12


def test_paired_samples_must_be_the_same_length() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        stats.paired_bootstrap([1.0, 2.0], [1.0])


def test_intervals_overlap() -> None:
    assert stats.intervals_overlap((0.1, 0.3), (0.3, 0.5))
    assert not stats.intervals_overlap((0.1, 0.29), (0.3, 0.5))


def test_empty_samples_and_bad_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        stats.bootstrap_interval([])
    with pytest.raises(ValueError, match="successes"):
        stats.wilson_interval(3, 2)
    with pytest.raises(ValueError, match="resamples"):
        stats.bootstrap_interval([1.0, 2.0], resamples=0)


def test_100k_binary_examples_x_1000_resamples_take_well_under_a_second() -> None:
    """The multinomial path: a paired difference of 0/1 scores has 3 distinct values."""
    import time  # noqa: PLC0415

    rng = random.Random(40)
    diffs = [float(rng.choice((-1, 0, 0, 0, 1))) for _ in range(100_000)]
    started = time.perf_counter()
    stats.bootstrap_interval(diffs, resamples=1000, seed=1)
    assert time.perf_counter() - started < 1.0
