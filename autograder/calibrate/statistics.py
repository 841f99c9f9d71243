"""A threshold for a quality metric from its values over several seeds of the reference.

Every threshold is an upper bound (lower is better: FID, losses, error rates); a
quality test passes when ``value <= threshold``. A higher-is-better quantity is
recorded as its complement or its negative (``error = 1 - accuracy``).

The values of the reference over ``n`` seeds are modelled as log-normal when they
are all positive (FID and losses are positive and skewed to the right) and as
normal otherwise. The threshold is the one-sided upper prediction bound for one
more run of the reference at level ``1 - false_fail``,

    m + t_{1 - false_fail, n - 1} * s * sqrt(1 + 1 / n)

(on the logarithms for a log-normal, then exponentiated), where ``m`` and ``s``
are the sample mean and standard deviation and ``t`` is Student's t quantile: so
the uncertainty of ``m`` and ``s`` estimated from few seeds is included, and a new
run of the reference exceeds it with probability ``false_fail`` when the model
holds. It is never below the largest value observed times ``1 + margin``, and it
is rounded up to ``digits`` significant figures.
"""

import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from scipy import stats

LOG_NORMAL, NORMAL = "log-normal", "normal"

METHOD = ("Lower is better; each threshold is the one-sided upper prediction bound for one more run of the "
          "reference at level 1 - false_fail: m + t(1 - false_fail, n - 1) * s * sqrt(1 + 1/n), with m and s "
          "the mean and standard deviation of the n seed values (of their logarithms, log-normal model, when "
          "all are positive; normal model otherwise) and t Student's quantile; never below the largest "
          "value observed times (1 + margin); rounded up to 3 significant figures.")


@dataclass(frozen=True)
class ThresholdFit:
    """How a threshold was set from the seed values of one metric."""

    distribution: str  # LOG_NORMAL or NORMAL
    mean: float        # of the values, or of their logarithms for LOG_NORMAL
    std: float         # sample standard deviation, same scale as mean
    bound: float       # the upper prediction bound, back on the values' scale
    floor: float       # largest value times (1 + margin)
    threshold: float   # max(bound, floor), rounded up


def round_up(value: float, digits: int = 3) -> float:
    """``value`` rounded towards +infinity to ``digits`` significant figures (0.012341 -> 0.0124)."""
    if value == 0 or not math.isfinite(value):
        return value
    d = Decimal(repr(value))
    step = Decimal(1).scaleb(d.adjusted() - digits + 1)
    return float(d.quantize(step, rounding=ROUND_CEILING))


def fit_threshold(values, *, false_fail: float, margin: float = 0.02, digits: int = 3) -> ThresholdFit:
    """The threshold for a metric whose reference values over the seeds are ``values`` (at least 2)."""
    values = [float(v) for v in values]
    if len(values) < 2:
        raise ValueError(f"need the values of at least 2 seeds to set a threshold, got {len(values)}")
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"the reference recorded a value that is not finite: {values}")
    if not 0 < false_fail < 0.5:
        raise ValueError(f"false_fail must be in (0, 0.5), got {false_fail}")
    n = len(values)
    log_normal = all(v > 0 for v in values)
    xs = [math.log(v) for v in values] if log_normal else values
    mean = sum(xs) / n
    std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
    upper = mean + float(stats.t.ppf(1 - false_fail, n - 1)) * std * math.sqrt(1 + 1 / n)
    bound = math.exp(upper) if log_normal else upper
    largest = max(values)
    floor = largest + margin * abs(largest)
    return ThresholdFit(distribution=LOG_NORMAL if log_normal else NORMAL, mean=mean, std=std, bound=bound,
                        floor=floor, threshold=round_up(max(bound, floor), digits))
