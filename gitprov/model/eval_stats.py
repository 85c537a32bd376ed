"""Confidence intervals for evaluation metrics, in pure Python (no numpy).

Three methods, each named in the records they produce (docs/evaluation.md):

- ``wilson``: the Wilson score interval for a proportion (every per-example value is 0
  or 1, e.g. accuracy). Closed form, no randomness, good coverage even for small ``n``
  or proportions near 0 or 1 (Newcombe 1998).
- ``bootstrap-percentile``: the percentile bootstrap of the mean, for any other
  per-example metric. ``resamples`` resamples of ``n`` examples drawn with replacement
  from ``random.Random(seed)``; the interval is the ``(1 - level) / 2`` and
  ``(1 + level) / 2`` quantiles of the resample means (linear interpolation, as numpy's
  and SciPy's default). The seed is recorded, so the same data give the same interval.
- ``paired-bootstrap``: the same on the per-example differences ``b - a`` of two
  evaluations of the same examples; the difference is significant when its interval
  excludes 0.

Speed (docs/evaluation.md#speed): a resample never runs Python code per example. Data
with few distinct values (0/1 scores, their paired differences, Likert scores) take an
exact multinomial path: a resample's mean depends only on how many draws land on each
distinct value, drawn with one binomial per value (100,000 examples x 1,000 resamples:
under 0.1 s). Other data are cut into blocks of 256 examples; a resample draws how many
examples come from each block (binomials), then that many random bytes per block,
gathered with ``operator.itemgetter`` in C (100,000 x 1,000: 6-15 s of CPU on a shared
2-core machine, depending on its load). Both are exact draws with replacement, not approximations.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from statistics import NormalDist

WILSON = "wilson"
BOOTSTRAP = "bootstrap-percentile"
PAIRED = "paired-bootstrap"
OVERLAP = "interval-overlap"
REPORTED = "reported"  # an interval that came with an aggregated metrics file
NO_CI = "none"

DEFAULT_LEVEL = 0.95
DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 0
MAX_RESAMPLES = 100_000
# Distinct values up to which the multinomial path is used: each costs one binomial draw
# per resample, against one random draw per example on the general path.
_FEW_DISTINCT = 32
_BLOCK_BITS = 8
_MASKS = {bits: bytes(b & ((1 << bits) - 1) for b in range(256)) for bits in range(8)}


@dataclass(frozen=True)
class Estimate:
    """A metric's value with its interval. ``seed`` and ``resamples`` are None for
    methods without randomness; ``ci_low``/``ci_high`` are None when there is no CI."""

    value: float
    ci_low: float | None
    ci_high: float | None
    ci_level: float | None
    method: str
    n: int | None
    seed: int | None = None
    resamples: int | None = None


@dataclass(frozen=True)
class PairedDifference:
    """Mean of ``b - a`` over shared examples, its bootstrap interval and a two-sided
    bootstrap p-value (twice the smaller share of resample means on one side of 0)."""

    delta: float
    ci_low: float
    ci_high: float
    ci_level: float
    n: int
    p_value: float
    seed: int
    resamples: int

    @property
    def significant(self) -> bool:
        return self.ci_low > 0 or self.ci_high < 0


def check_level(level: float) -> None:
    """ValueError unless ``0 < level < 1``."""
    if not 0 < level < 1:
        raise ValueError(f"a confidence level must be between 0 and 1 (exclusive), got {level}")


def z_value(level: float) -> float:
    """The two-sided standard normal quantile: 1.959963984540054 for 0.95."""
    check_level(level)
    return NormalDist().inv_cdf(0.5 + level / 2)


def mean(values: Sequence[float]) -> float:
    """The arithmetic mean, summed with ``math.fsum`` (exactly rounded)."""
    if not values:
        raise ValueError("the mean of no values is undefined")
    return math.fsum(values) / len(values)


def is_proportion(values: Sequence[float]) -> bool:
    """Whether every value is 0 or 1 (booleans count): the metric is a proportion."""
    return bool(values) and all(v in (0, 1) for v in values)


def wilson_interval(successes: int, n: int, level: float = DEFAULT_LEVEL) -> tuple[float, float]:
    """The Wilson score interval for ``successes`` out of ``n``.

    >>> low, high = wilson_interval(81, 263)
    >>> round(low, 4), round(high, 4)
    (0.2553, 0.3662)
    """
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n > 0, got {successes}/{n}")
    z = z_value(level)
    p = successes / n
    z2n = z * z / n
    center = (p + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(p * (1 - p) / n + z2n / (4 * n))
    low = 0.0 if successes == 0 else max(0.0, center - half)
    high = 1.0 if successes == n else min(1.0, center + half)
    return low, high


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q`` quantile of sorted values, interpolated linearly between order statistics
    (Hyndman and Fan's type 7: numpy's and SciPy's default)."""
    if not sorted_values:
        raise ValueError("the quantile of no values is undefined")
    position = q * (len(sorted_values) - 1)
    below = math.floor(position)
    above = min(below + 1, len(sorted_values) - 1)
    fraction = position - below
    return sorted_values[below] + (sorted_values[above] - sorted_values[below]) * fraction


def _binomial(rng: random.Random, n: int, p: float) -> int:
    """A Binomial(n, p) draw (exact). Small means count geometric gaps between successes;
    larger ones use Hormann's BTRS rejection sampler (1993), constant time in ``n``."""
    if p <= 0 or n == 0:
        return 0
    if p >= 1:
        return n
    if p > 0.5:
        return n - _binomial(rng, n, 1 - p)
    if n * p < 10:
        # Jump over the failures between successes: each gap is geometric.
        log_q = math.log1p(-p)
        count = 0
        position = 0
        while True:
            position += int(math.log(1.0 - rng.random()) / log_q) + 1
            if position > n:
                return count
            count += 1
    spq = math.sqrt(n * p * (1 - p))
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = n * p + 0.5
    vr = 0.92 - 4.2 / b
    alpha = (2.83 + 5.1 / b) * spq
    lpq = math.log(p / (1 - p))
    m = math.floor((n + 1) * p)
    h = math.lgamma(m + 1) + math.lgamma(n - m + 1)
    while True:
        u = rng.random() - 0.5
        v = rng.random()
        us = 0.5 - abs(u)
        k = math.floor((2 * a / us + b) * u + c)
        if k < 0 or k > n:
            continue
        if us >= 0.07 and v <= vr:
            return k
        v = math.log(v * alpha / (a / (us * us) + b))
        if v <= h - math.lgamma(k + 1) - math.lgamma(n - k + 1) + (k - m) * lpq:
            return k


def _multinomial_means(values: Sequence[float], resamples: int, rng: random.Random) -> list[float]:
    """Resample means for data with few distinct values: one multinomial draw of how
    many of the ``n`` examples land on each distinct value (sequential binomials)."""
    n = len(values)
    counts = sorted(Counter(values).items())
    means = []
    for _ in range(resamples):
        left = n
        remaining = n
        total = 0.0
        for i, (value, count) in enumerate(counts):
            if i == len(counts) - 1:
                drawn = left
            else:
                drawn = _binomial(rng, left, count / remaining) if left else 0
            total += value * drawn
            left -= drawn
            remaining -= count
        means.append(total / n)
    return means


def _resample_means(values: Sequence[float], resamples: int, seed: int) -> list[float]:
    if not values:
        raise ValueError("cannot bootstrap an empty sample")
    if not 1 <= resamples <= MAX_RESAMPLES:
        raise ValueError(f"resamples must be between 1 and {MAX_RESAMPLES}, got {resamples}")
    rng = random.Random(seed)  # noqa: S311 - statistics, not secrets: seeded on purpose
    data = [float(v) for v in values]
    if len(set(data)) <= _FEW_DISTINCT:
        return _multinomial_means(data, resamples, rng)
    return _block_means(data, resamples, rng)


def _block_sizes(n: int) -> list[int]:
    """``n`` as a sum of powers of two, none above 256 (largest first)."""
    sizes = [1 << _BLOCK_BITS] * (n >> _BLOCK_BITS)
    rest = n & ((1 << _BLOCK_BITS) - 1)
    sizes += [1 << k for k in range(_BLOCK_BITS - 1, -1, -1) if rest >> k & 1]
    return sizes


def _block_means(data: list[float], resamples: int, rng: random.Random) -> list[float]:
    """Resample means, exactly as drawing ``n`` examples with replacement, but fast.

    The examples are cut into blocks of 256 (and powers of two for the rest). A
    resample first draws how many of its ``n`` draws fall in each block (a multinomial,
    by sequential binomials), then that many uniform positions inside each block: one
    random byte each (masked to the block's width), gathered by ``operator.itemgetter``.
    Bytes unpack to the small integers CPython keeps cached, so no Python code runs and
    no object is made per example.
    """
    n = len(data)
    blocks = []
    start = 0
    for size in _block_sizes(n):
        bits = size.bit_length() - 1
        blocks.append((size, _MASKS.get(bits), data[start : start + size]))
        start += size
    last = len(blocks) - 1
    means = []
    for _ in range(resamples):
        raw = rng.randbytes(n)  # every position of this resample, cut up below
        used = 0
        left = n
        remaining = n
        total = 0.0
        for i, (size, mask, block) in enumerate(blocks):
            count = left if i == last else _binomial(rng, left, size / remaining) if left else 0
            left -= count
            remaining -= size
            if count:
                picks = raw[used : used + count]
                used += count
                if mask is not None:
                    picks = picks.translate(mask)
                total += block[picks[0]] if count == 1 else sum(itemgetter(*picks)(block))
        means.append(total / n)
    return means


def bootstrap_interval(
    values: Sequence[float],
    *,
    level: float = DEFAULT_LEVEL,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> tuple[float, float]:
    """The percentile bootstrap interval of the mean of ``values``."""
    check_level(level)
    means = sorted(_resample_means(values, resamples, seed))
    return quantile(means, (1 - level) / 2), quantile(means, (1 + level) / 2)


def estimate(
    values: Sequence[float],
    *,
    level: float = DEFAULT_LEVEL,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> Estimate:
    """The mean of per-example ``values`` with its interval: Wilson for a proportion,
    otherwise the percentile bootstrap."""
    value = mean(values)
    n = len(values)
    if is_proportion(values):
        low, high = wilson_interval(round(math.fsum(values)), n, level)
        return Estimate(value, low, high, level, WILSON, n)
    low, high = bootstrap_interval(values, level=level, resamples=resamples, seed=seed)
    return Estimate(value, low, high, level, BOOTSTRAP, n, seed, resamples)


def paired_bootstrap(
    a: Sequence[float],
    b: Sequence[float],
    *,
    level: float = DEFAULT_LEVEL,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> PairedDifference:
    """Bootstrap the mean of ``b[i] - a[i]`` over examples seen by both evaluations.

    Resampling examples (not the two evaluations separately) keeps what the pairs
    share: an example both models find hard counts once, so a small real difference on
    the same examples is found where comparing two separate intervals would miss it.
    """
    if len(a) != len(b):
        raise ValueError(f"paired samples differ in length: {len(a)} and {len(b)}")
    check_level(level)
    differences = [y - x for x, y in zip(a, b, strict=True)]
    means = sorted(_resample_means(differences, resamples, seed))
    below = sum(1 for m in means if m <= 0)
    above = sum(1 for m in means if m >= 0)
    p_value = min(1.0, 2 * min(below, above) / len(means))
    return PairedDifference(
        delta=mean(differences),
        ci_low=quantile(means, (1 - level) / 2),
        ci_high=quantile(means, (1 + level) / 2),
        ci_level=level,
        n=len(differences),
        p_value=p_value,
        seed=seed,
        resamples=resamples,
    )


def intervals_overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether two closed intervals share a point. Non-overlap of two 95% intervals is a
    conservative test: it misses some real differences, it rarely claims a false one."""
    return a[0] <= b[1] and b[0] <= a[1]
