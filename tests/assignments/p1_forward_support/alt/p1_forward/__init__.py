"""A second, independently written P1 package: the hidden tests must give it full marks.

It follows the same contract as ``solutions/p1_forward`` (0-indexed ``t``,
``alpha_bar_prev[0] = 1``, float64 schedules, other results in the dtype and on
the device of their inputs) but computes differently: schedules from Python
floats, ``alpha_bar`` through logarithms, per-sample coefficients in float64 and
the x0-prediction in the ``1 / sqrt(alpha_bar)`` form of improved-diffusion.
"""

from .forward import predict_x0_from_eps, q_posterior, q_sample, snr, v_target
from .schedules import (
    alpha_bar,
    cosine_beta_schedule,
    get_schedule,
    linear_beta_schedule,
    quadratic_beta_schedule,
)

__all__ = [
    "linear_beta_schedule",
    "quadratic_beta_schedule",
    "cosine_beta_schedule",
    "get_schedule",
    "alpha_bar",
    "q_sample",
    "q_posterior",
    "predict_x0_from_eps",
    "snr",
    "v_target",
]
