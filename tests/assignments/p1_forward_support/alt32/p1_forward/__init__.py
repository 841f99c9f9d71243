"""A third correct P1 package: the hidden tests must give it full marks.

Where ``solutions/p1_forward`` and ``alt/`` compute coefficients in float64 or cast them
first, this one computes everything in the dtype of its inputs with other, equally correct
formulas, as a student might: ``alpha_bar`` as ``exp(cumsum(log(1 - betas)))``, ``snr`` as
``1 / (1 / alpha_bar - 1)``, ``sqrt(1 / alpha_bar - 1)`` for the noise coefficient of the
x0-prediction, the posterior from a float32 schedule. Its float32 results differ from the
reference's float32 rounding by more than the configured tolerance at ill-conditioned steps,
but not from the float64 truth by more than float32 allows. Unknown schedule names raise a
subclass of ``ValueError``.
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
